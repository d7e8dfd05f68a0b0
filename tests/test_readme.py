"""README.rst stays true: its first project runs as shown, its commands are the ones CI
runs, and every page it links to exists (tests/docs_examples.py says how examples run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_examples import ROOT, Reader, blocks

README = ROOT / "README.rst"
DOCS = "https://taggedartifacts.readthedocs.io/en/latest/"


def test_the_first_project_runs_and_prints_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = tmp_path / "project"  # a new directory, as the README says
    where.mkdir()
    steps = blocks(README)
    assert [b.file for b in steps if b.file] == ["train.py", "plot.py", "sweep.py"]
    assert any(b.language == "console" for b in steps)
    reader = Reader(README, where, monkeypatch)
    reader.follow(steps)
    reader.finish()
    assert len(list((where / "results").glob("loss-*.csv"))) == 2
    assert len(list((where / "results").glob("fit-*.csv"))) == 3  # the sweep's three


def commands() -> list[str]:
    return re.findall(r"^    (python3 -m venv .*)$", README.read_text(), flags=re.M)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = next(c for c in commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_demo_command_names_a_real_script() -> None:
    demo = next(c for c in commands() if "examples/" in c)
    script = re.search(r"(examples/\S+\.py)", demo)
    assert script is not None
    assert (ROOT / script.group(1)).is_file()


def test_every_documentation_link_names_a_page() -> None:
    links = re.findall(re.escape(DOCS) + r"([\w/]+)\.html", README.read_text())
    assert len(links) >= 10
    for page in links:
        assert (ROOT / "docs" / f"{page}.rst").is_file(), page
