"""The tutorial (docs/tutorial.rst) followed end to end: every file saved and every
command run in order, in a new directory, each command printing what the tutorial
shows (tests/docs_examples.py says how output is compared)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import ROOT, Reader, blocks

TUTORIAL = ROOT / "docs" / "tutorial.rst"


def test_the_tutorial_from_an_empty_directory_to_a_colleague(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = blocks(TUTORIAL)
    # The newcomer's path, in this order: a repository, the writer (then its edit), the
    # reader, and a colleague's clone.
    assert [b.file for b in steps if b.file] == ["train.py", "train.py", "plot.py"]
    assert sum(b.language == "console" for b in steps) >= 8
    reader = Reader(TUTORIAL, tmp_path, monkeypatch)
    reader.follow(steps)
    # Where the tutorial ends: in the colleague's clone, beside the first repository,
    # whose results hold the two versions it listed, each with its record.
    assert reader.where == tmp_path / "colleague"
    results = sorted(p.name for p in (tmp_path / "mlp" / "results").iterdir())
    assert results == [
        "loss-5eed8a2-41c45563b8.csv",
        "loss-5eed8a2-41c45563b8.csv.provenance.json",
        "loss-ecb37a5-0215f9b550.csv",
        "loss-ecb37a5-0215f9b550.csv.provenance.json",
    ]
    assert not (tmp_path / "colleague" / "results").exists()
