"""The library in a real Jupyter kernel (nbclient), in a throwaway repository."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, missing

from taggedartifacts import describe, parse

REASON = missing("Jupyter (nbclient, nbformat, ipykernel)")
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
    # nbclient tells the kernel no notebook path: its cells cannot be checked, said once.
    unknown = "the notebook this kernel runs is not known, so the cells it ran are not checked"
    assert [cell["stderr"].count(unknown) for cell in cells[:5]] == [0, 1, 0, 0, 0]
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


# A notebook as Jupyter saves it: kernelspec metadata, and the code in its cells.
ANALYSIS = [
    "from pathlib import Path\nfrom taggedartifacts import Artifact, describe",
    "@Artifact('outpath', {'bins': 10}, provenance=True, allow_dirty=ALLOW)\n"
    "def histogram(outpath):\n"
    "    Path(outpath).write_text('counts')\n"
    "    return outpath",
    "try:\n    print(histogram('out/hist.txt'))\nexcept Exception as exc:\n"
    "    print(type(exc).__name__, exc)",
    "import random\nprint(random.random())  # new outputs at every run",
]


def notebook(cells: list[str], allow_dirty: bool = False) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(f"ALLOW = {allow_dirty}")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def execute(repo: Repo, nb: Any, save_to: Path | None = None) -> str:
    """Run a notebook in a kernel started in the repository; what its call printed."""
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(repo.path)}}
    )
    client.execute()
    if save_to is not None:  # as Jupyter's autosave: code and outputs
        nbformat.write(nb, str(save_to))
    outputs = nb.cells[3].outputs
    stdout = [o.text for o in outputs if o.output_type == "stream" and o.name == "stdout"]
    return "".join(stdout).strip() or repr(outputs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_a_notebooks_code_counts_and_its_outputs_do_not(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = repo.path / "analysis.ipynb"
    nbformat.write(notebook(ANALYSIS), str(path))
    repo.write(".gitignore", "out/\n")
    commit = repo.commit("analysis")
    monkeypatch.setenv("TAGGEDARTIFACTS_NOTEBOOK", str(path))  # as CI, papermill or nbclient

    made = execute(repo, notebook(ANALYSIS), save_to=path)
    clean = parse(made)
    assert (clean.commit, clean.dirty) == (commit[:7], False)
    ran = describe(repo.path / made)["provenance"]["notebook"]  # which notebook, which code
    assert ran["path"] == "analysis.ipynb"
    assert len(ran["code_sha256"]) == 64
    assert repo.git("status", "--porcelain").strip() == "M analysis.ipynb"  # outputs saved
    again = parse(execute(repo, notebook(ANALYSIS), save_to=path))
    assert (again.commit, again.dirty) == (commit[:7], False)  # outputs are not code

    edited = [*ANALYSIS[:1], ANALYSIS[1].replace("'counts'", "'other counts'"), *ANALYSIS[2:]]
    refused = execute(repo, notebook(edited))  # edited in the kernel, not saved
    assert refused.startswith("DirtyRepositoryError histogram():")
    assert "save and commit analysis.ipynb, or pass allow_dirty=True" in refused
    helper = [ANALYSIS[0] + "\nSCALE = 1000  # a helper cell, edited", *ANALYSIS[1:]]
    also_refused = execute(repo, notebook(helper))  # the decorated cell itself is unchanged
    assert "1 cell(s) this kernel ran are not code cells of analysis.ipynb" in also_refused
    unsaved = parse(execute(repo, notebook(edited, allow_dirty=True)))
    assert unsaved.dirty

    nbformat.write(notebook(edited, allow_dirty=True), str(path))  # the edit, saved
    saved = parse(execute(repo, notebook(edited, allow_dirty=True), save_to=path))
    rerun = parse(execute(repo, notebook(edited, allow_dirty=True), save_to=path))
    assert saved.dirty
    assert saved.diff != unsaved.diff  # the saved code change is in the fingerprint
    assert rerun.diff == saved.diff  # new outputs, same code: the same name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_unsaved_cells_allowed_to_be_dirty_publish_their_output(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cache=True publishes only when the code did not change while the function ran: the
    # cells the kernel ran count then as they did when the call began.
    cells = [ANALYSIS[0], ANALYSIS[1].replace("provenance=True", "cache=True"), *ANALYSIS[2:]]
    path = repo.path / "analysis.ipynb"
    nbformat.write(notebook(cells), str(path))
    repo.write(".gitignore", "out/\n")
    repo.commit("analysis")
    monkeypatch.setenv("TAGGEDARTIFACTS_NOTEBOOK", str(path))
    edited = [*cells[:1], cells[1].replace("'counts'", "'other counts'"), *cells[2:]]
    made = execute(repo, notebook(edited, allow_dirty=True))  # edited, not saved
    assert parse(made).dirty, made
    assert (repo.path / made).read_text() == "other counts"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
def test_a_notebook_variable_naming_no_notebook_is_an_error(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat.write(notebook(ANALYSIS), str(repo.path / "analysis.ipynb"))
    repo.commit("analysis")
    typo = repo.path / "analysis.ipnyb"
    monkeypatch.setenv("TAGGEDARTIFACTS_NOTEBOOK", str(typo))
    refused = execute(repo, notebook(ANALYSIS))
    assert refused == (
        f"InvalidArgumentError TAGGEDARTIFACTS_NOTEBOOK={str(typo)!r} names no notebook file "
        f"(from {repo.path}); set it to the path of the .ipynb this kernel runs, or unset it"
    )
    assert not (repo.path / "out").exists()


def test_what_counts_as_a_change_of_a_notebook() -> None:
    from taggedartifacts._notebook import code_of

    base = notebook(["a = 1", "b = 2"])
    with_outputs = notebook(["a = 1", "b = 2"])
    with_outputs.cells[1].outputs = [nbformat.v4.new_output("stream", text="out")]
    with_outputs.cells[1].execution_count = 7
    with_outputs.metadata["widgets"] = {"state": {}}
    code = code_of(nbformat.writes(base).encode())
    assert code is not None
    assert code_of(nbformat.writes(with_outputs).encode()) == code
    for changed in (
        notebook(["b = 2", "a = 1"]),
        notebook(["a = 1"]),
        notebook(["a = 1", "b = 3"]),
    ):
        assert code_of(nbformat.writes(changed).encode()) != code
    other_kernel = notebook(["a = 1", "b = 2"])
    other_kernel.metadata["kernelspec"]["language"] = "R"
    assert code_of(nbformat.writes(other_kernel).encode()) != code
    assert code_of(b"{not json") is None  # compared by its bytes: any edit is a change
