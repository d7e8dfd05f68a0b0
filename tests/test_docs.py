"""The documentation stays true: every example of every page of docs/ runs and shows what
the page says (tests/docs_examples.py says how), every public name is in the API
reference, and the sample provenance record has the keys a record has today. The
tutorial has a test of its own (tests/test_tutorial.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import make_repo
from docs_examples import ROOT, Reader, blocks

import taggedartifacts

DOCS = ROOT / "docs"
RUNS = ("python", "console")
PAGES = sorted(
    p
    for p in DOCS.rglob("*.rst")
    if p.name != "tutorial.rst" and any(b.language in RUNS for b in blocks(p))
)


def test_the_pages_with_examples_are_found() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"guide/names.rst", "guide/caching.rst", "guide/cli.rst"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_example_runs_and_shows_what_the_page_says(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each page's examples run in a new repository whose code is a committed model.py,
    # as the pages say where it matters; modules the page writes are imported from there.
    repo = make_repo(tmp_path / "project")
    repo.write("model.py", "WEIGHTS = 1\n")
    repo.commit("model")
    monkeypatch.syspath_prepend(str(repo.path))
    monkeypatch.delitem(sys.modules, "model", raising=False)
    reader = Reader(page, repo.path, monkeypatch)
    reader.follow(blocks(page))
    reader.finish()


def test_every_public_name_has_a_docstring_in_the_api_reference() -> None:
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    directives = r"^\.\. (?:autoclass|autofunction|autoexception|data):: (\w+)"
    assert set(re.findall(directives, text, flags=re.M)) == set(taggedartifacts.__all__)
    for name in taggedartifacts.__all__:
        if name != "__version__":
            assert getattr(taggedartifacts, name).__doc__, name


def test_the_sample_record_has_the_keys_of_a_record_today(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = DOCS / "guide" / "provenance.rst"
    sample = json.loads(next(b.text for b in blocks(page) if b.language == "json"))
    repo = make_repo(tmp_path / "project")
    monkeypatch.chdir(repo.path)

    @taggedartifacts.Artifact(
        "outpath", {"lr": 0.1}, include_args=["epochs"], provenance=True, repo=repo.path
    )
    def train(outpath: str, epochs: int = 10) -> str:
        Path(outpath).write_text("weights")
        return outpath

    record = taggedartifacts.describe(train("model.pt"))["provenance"]
    assert sorted(sample) == sorted(record)
    for key in ("function", "versions"):
        assert sorted(sample[key]) == sorted(record[key])
    assert sample["format"] == record["format"]
    assert sample["versions"]["taggedartifacts"] == taggedartifacts.__version__
