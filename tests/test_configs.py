"""Config values read from provenance records: dotted lookups, JSON equality, what differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import Artifact, versions
from taggedartifacts._configs import MISSING, config_of, differing, flatten, lookup, same

CONFIG = {
    "lr": 0.1,
    "model": {"depth": 3, "head": None},
    "a.b": 1,
    "layers": [64, 32],
    "ids": {"\x00set": [1, 2]},
}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("lr", 0.1),
        ("model.depth", 3),
        ("model.head", None),  # JSON null is a value
        ("a.b", 1),  # a key that holds a dot
        ("layers.1", 32),
        ("model", {"depth": 3, "head": None}),
        ("model.width", MISSING),
        ("layers.2", MISSING),
        ("lr.x", MISSING),
    ],
)
def test_lookup(key: str, expected: Any) -> None:
    assert lookup(CONFIG, key) == expected


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0.0, False),
        (True, True, True),
        ("1", 1, False),
        ([1, {"x": True}], [1.0, {"x": True}], True),
        ([1, {"x": True}], [1, {"x": 1}], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        (None, None, True),
        (None, MISSING, False),
    ],
)
def test_same_is_json_equality(a: Any, b: Any, equal: bool) -> None:
    assert same(a, b) is equal
    assert same(b, a) is equal


def test_flatten_keeps_lists_and_tagged_values_whole() -> None:
    assert flatten(CONFIG) == {
        "lr": 0.1,
        "model.depth": 3,
        "model.head": None,
        "a.b": 1,
        "layers": [64, 32],
        "ids": {"\x00set": [1, 2]},
    }


def test_differing_keys_in_first_seen_order() -> None:
    configs = [
        {"lr": 0.1, "model": {"depth": 3}, "seed": 1},
        None,  # a version without a record takes no part
        {"lr": 0.2, "model": {"depth": 3}, "seed": 1, "extra": True},
        {"lr": 0.1, "model": {"depth": 3.0}, "seed": 1},
    ]
    assert differing(configs) == ["lr", "extra"]
    assert differing([None, None]) == []


def test_config_of_reads_the_provenance_record(repo: Repo) -> None:
    @Artifact("out", {"lr": 0.1, "ids": {1, 2}}, provenance=True, repo=repo.path)
    def with_record(out: Path) -> None:
        out.write_text("x")

    @Artifact("out", {"lr": 0.2}, cache=True, repo=repo.path)
    def cache_record_only(out: Path) -> None:
        out.write_text("x")

    with_record(repo.path / "a.txt")
    cache_record_only(repo.path / "a.txt")
    found = {v.tag.config: config_of(v) for v in versions(repo.path / "a.txt")}
    assert sorted(found.values(), key=str) == [None, {"ids": {"\x00set": [1, 2]}, "lr": 0.1}]
