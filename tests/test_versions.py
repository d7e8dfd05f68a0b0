from __future__ import annotations

import os
from pathlib import Path

from taggedartifacts import versions
from taggedartifacts._tagging import PRIVATE_PREFIX as PREFIX


def touch(path: Path, mtime: int) -> Path:
    path.write_text(path.name)
    os.utime(path, (mtime, mtime))
    return path


def test_versions_newest_first_same_stem_and_suffix_only(tmp_path: Path) -> None:
    old = touch(tmp_path / "loss-abc1234-0123456789.png", 1_000)
    new = touch(tmp_path / "loss-def5678-dirtyfedcba-9876543210.png", 2_000)
    touch(tmp_path / "loss-curve-abc1234-0123456789.png", 3_000)
    touch(tmp_path / "loss-abc1234-0123456789.jpg", 3_000)
    touch(tmp_path / "loss.png", 3_000)
    touch(tmp_path / "loss-abc1234-0123456789.png.provenance.json", 3_000)
    (tmp_path / f"{PREFIX}00000000-1-x").mkdir()
    found = versions(tmp_path / "loss.png")
    assert [v.path for v in found] == [new, old]
    assert [v.mtime for v in found] == [2_000, 1_000]
    assert found[0].tag.dirty
    assert found[1].tag.commit == "abc1234"
    assert "commit def5678 dirty fedcba, config 9876543210" in str(found[0])


def test_versions_of_compressed_and_directory_artifacts(tmp_path: Path) -> None:
    touch(tmp_path / "data-abc1234-0123456789.csv.gz", 1)
    touch(tmp_path / "data-abc1234-0123456789.csv", 1)
    (tmp_path / "model-abc1234-0123456789").mkdir()
    assert [v.name for v in versions(str(tmp_path / "data.csv.gz"))] == [
        "data-abc1234-0123456789.csv.gz"
    ]
    assert [v.name for v in versions(tmp_path / "model")] == ["model-abc1234-0123456789"]


def test_no_directory_no_versions(tmp_path: Path) -> None:
    assert versions(tmp_path / "nowhere" / "x.txt") == []
