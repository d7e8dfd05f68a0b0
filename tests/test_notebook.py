"""The library in a real Jupyter kernel (nbclient), in a throwaway repository."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import parse

REASON = "Jupyter (nbclient, nbformat, ipykernel) is not installed: notebook tests are skipped"
nbclient = pytest.importorskip("nbclient", reason=REASON)
nbformat = pytest.importorskip("nbformat", reason=REASON)
pytest.importorskip("ipykernel", reason=REASON)

# A 1x1 PNG, so that thumbnails have a real picture to show.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

SETUP = f"""
import subprocess
from pathlib import Path
from taggedartifacts import Artifact, describe, versions

@Artifact("outpath", {{"lr": 0.1}}, allow_dirty=True, cache=True)
def plot(outpath):
    with open("calls.log", "a") as log:
        log.write("call\\n")
    Path(outpath).write_bytes({PNG!r})
    return outpath
"""
LOOP = "for i in range(3):\n    plot(f'out/frame{i}.png')"


def run(repo: Repo, cells: list[str]) -> list[dict[str, Any]]:
    """Execute cells in a fresh kernel started in the repository; return each cell's outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(repo.path)}}
    )
    client.execute()
    results = []
    for cell in nb.cells:
        out: dict[str, Any] = {"stdout": "", "stderr": "", "html": "", "text": ""}
        for output in cell.outputs:
            if output.output_type == "stream":
                out[output.name] += output.text
            elif output.output_type in ("execute_result", "display_data"):
                out["html"] += output.data.get("text/html", "")
                out["text"] += output.data.get("text/plain", "")
            elif output.output_type == "error":
                raise AssertionError("\n".join(output.traceback))
        results.append(out)
    return results


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_a_notebook_session(repo: Repo) -> None:
    first_commit = repo.head()[:7]
    cells = run(
        repo,
        [
            SETUP,
            "print(plot('out/plot.png'))",
            "subprocess.run(['git', 'commit', '-q', '--allow-empty', '-m', 'from the notebook'],"
            " check=True)",
            "print(plot('out/plot.png'))",
            "Path('code.py').write_text('print(\"dirty\")\\n')",
            LOOP,
            LOOP,
            "subprocess.run(['git', 'checkout', '-q', 'code.py'], check=True)",
            "versions('out/plot.png')",
            "versions('out/plot.png').show()",
            SETUP + "\nprint(plot('out/again.png'))",  # re-running a cell that redefines it
        ],
    )
    before, after = cells[1]["stdout"].strip(), cells[3]["stdout"].strip()
    assert parse(before).commit == first_commit
    assert parse(after).commit == repo.head()[:7] != first_commit  # the commit made by a cell
    # Once per cell execution: not once per call in the loop, and not never on a re-run.
    assert cells[5]["stderr"].count("DirtyRepositoryWarning") == 1
    assert cells[6]["stderr"].count("DirtyRepositoryWarning") == 1
    table = cells[8]["html"]
    assert '<table class="taggedartifacts-versions"' in table
    for name, relation in ((Path(after).name, "HEAD"), (Path(before).name, "ancestor")):
        assert f"<td>{name}</td><td>{parse(name).commit}</td><td>{relation}</td>" in table
    assert "from the notebook" in table
    assert "2 tagged versions of out/plot.png" in cells[8]["text"]  # the plain repr
    assert cells[9]["html"].count("data:image/png;base64,") == 2
    assert parse(cells[10]["stdout"].strip()).untagged == "again.png"

    calls = (repo.path / "calls.log").read_text().count("call")
    restarted = run(
        repo, [SETUP, "print(plot('out/plot.png'))", "describe(versions('out/plot.png')[0].path)"]
    )
    reused = restarted[1]["stdout"].strip()  # reused after a kernel restart: what it returned
    assert reused.startswith("out/plot-")
    assert (repo.path / reused).is_file()  # the published path, not a private one
    assert (repo.path / "calls.log").read_text().count("call") == calls
    assert '<table class="taggedartifacts-describe">' in restarted[2]["html"]
