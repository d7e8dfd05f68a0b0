"""README.rst stays true: its Python examples run and print what they say."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest
from conftest import make_repo, missing

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text(encoding="utf-8")
PLACEHOLDER_COMMIT = "3f2a9c1"


def python_blocks() -> list[str]:
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", README)
    return [re.sub(r"^    ", "", block, flags=re.M) for block in blocks]


def test_every_python_example_runs_and_prints_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "readme")
    repo.write("model.py", "WEIGHTS = 1\n")
    repo.commit("model")
    monkeypatch.chdir(repo.path)
    monkeypatch.syspath_prepend(str(repo.path))  # as in a script or a notebook there
    monkeypatch.delitem(sys.modules, "model", raising=False)
    namespace: dict[str, object] = {}
    blocks = python_blocks()
    assert len(blocks) >= 4
    without_fsspec = False
    for block in blocks:
        if "import fsspec" in block and importlib.util.find_spec("fsspec") is None:
            without_fsspec = True  # the others run; then the test is skipped, saying why
            continue
        expected = [
            line.split("# -> ", 1)[1].replace(PLACEHOLDER_COMMIT, repo.head()[:7])
            for line in block.splitlines()
            if "# -> " in line
        ]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.rst", "exec"), namespace)
        assert out.getvalue().splitlines() == expected, block
    if without_fsspec:
        pytest.importorskip(
            "fsspec", reason=missing("fsspec (the remote extra; one example needs it)")
        )


def commands() -> list[str]:
    return re.findall(r"^    (python3 -m venv .*)$", README, flags=re.M)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = next(c for c in commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_demo_command_names_a_real_script() -> None:
    demo = next(c for c in commands() if "examples/" in c)
    script = re.search(r"(examples/\S+\.py)", demo)
    assert script is not None
    assert (ROOT / script.group(1)).is_file()
