"""ConfigDigest: a decorated function's config, hashed again only when it may have changed."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_hashing import json_values

from taggedartifacts import UnhashableConfigError, _digests, config_hash
from taggedartifacts._digests import ConfigDigest

# Values Python calls equal that hash apart: a memo keyed on equality would reuse a digest.
EQUAL_BUT_DISTINCT = st.sampled_from([1, 1.0, True, 0, 0.0, -0.0, False, "1", None])
KEYS = st.text().filter(lambda k: not k.startswith("\x00"))


def counted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The values hashed from now on (what ConfigDigest hands config_hash)."""
    hashed: list[Any] = []
    real = config_hash

    def count(value: Any) -> str:
        hashed.append(value)
        return real(value)

    monkeypatch.setattr(_digests, "config_hash", count)
    return hashed


def _containers_in(value: Any) -> list[Any]:
    found = [value] if isinstance(value, (dict, list)) else []
    for item in value.values() if isinstance(value, dict) else value if found else ():
        found += _containers_in(item)
    return found


def _mutate(data: st.DataObject, config: dict[str, Any]) -> None:
    """Change one container of ``config`` in place, as a sweep script might."""
    container = data.draw(st.sampled_from(_containers_in(config)))
    new = data.draw(EQUAL_BUT_DISTINCT | json_values)
    keys = list(container) if isinstance(container, dict) else list(range(len(container)))
    action = data.draw(st.sampled_from(["set", "add", "remove"] if keys else ["add"]))
    if action == "set":
        container[data.draw(st.sampled_from(keys))] = new
    elif action == "remove":
        del container[data.draw(st.sampled_from(keys))]
    elif isinstance(container, dict):
        container[data.draw(st.text(max_size=3).filter(lambda k: not k.startswith("\x00")))] = new
    else:
        container.append(new)


@given(st.dictionaries(KEYS, json_values, max_size=6), st.data())
def test_a_config_digest_follows_every_change_made_in_place(
    config: dict[str, Any], data: st.DataObject
) -> None:
    memo = ConfigDigest(config)
    for _ in range(data.draw(st.integers(1, 6))):
        assert memo.digest() == config_hash(config)
        _mutate(data, config)
    assert memo.digest() == config_hash(config)


def test_a_kept_digest_sees_changes_deep_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = counted(monkeypatch)
    config: dict[str, Any] = {"a": [1, 2], "b": ([0], {"c": 0.0}), "d": {"e": [{"f": 1}]}}
    memo = ConfigDigest(config)
    changes: list[tuple[Callable[[], object], bool]] = [
        (lambda: config["a"].append(3), True),
        (lambda: config["b"][0].append(1), True),  # a list inside a tuple
        (lambda: config["b"][1].update(c=-0.0), True),
        (lambda: config["d"]["e"][0].update(f=True), True),
        (lambda: config["d"]["e"][0].update(f=1.0), True),
        (lambda: config.update(a=[1, 2, 3]), False),  # an equal list: rehashed, same digest
    ]
    for change, differs in changes:
        before = memo.digest()
        change()
        assert memo.digest() == config_hash(config)
        assert (memo.digest() != before) == differs
    # Kept between changes: hashed once at first and once after each change, no more.
    assert len(hashed) == 1 + len(changes)


def test_an_unchanged_plain_config_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = counted(monkeypatch)
    config: dict[str, Any] = {"lr": 0.1, "layers": [64, 64], "opt": {"betas": (0.9, 0.99)}}
    memo = ConfigDigest(config)
    digests = {memo.digest() for _ in range(5)}
    config["opt"]["betas"] = (0.9, 0.999)
    digests |= {memo.digest() for _ in range(5)}
    assert len(digests) == 2
    assert len(hashed) == 2


def test_a_renamed_key_changes_the_digest() -> None:
    # The value stays the very object it was; only the key holding it changes.
    config: dict[str, Any] = {"a": 1}
    memo = ConfigDigest(config)
    before = memo.digest()
    config["b"] = config.pop("a")
    assert memo.digest() == config_hash(config) != before


def test_items_moved_between_containers_in_the_same_order_change_the_digest() -> None:
    # Read one after another, the items of {"a": [x], "b": [y]} and {"a": [], "b": [x, y]}
    # are the same objects in the same order: only each container's size tells them apart.
    x, y = "x" * 3, "y" * 3
    config: dict[str, Any] = {"a": [x], "b": [y]}
    memo = ConfigDigest(config)
    before = memo.digest()
    config["a"].pop()
    config["b"].insert(0, x)
    assert memo.digest() == config_hash(config) != before


@pytest.mark.parametrize(
    "config",
    [
        MappingProxyType({"a": [1]}),  # a view: its dict may change behind it
        {"s": {1, 2}},  # a set: not plain data
        {"a": np.zeros(2)},  # an array changes in place, its identity kept
        OrderedDict(a=[1]),  # a mapping of another type
        {"a": (shared := [1]), "b": shared},  # a container met twice
    ],
    ids=["mappingproxy", "set", "array", "ordereddict", "shared"],
)
def test_other_data_is_hashed_at_every_call(config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = counted(monkeypatch)
    memo = ConfigDigest(config)
    assert {memo.digest() for _ in range(3)} == {config_hash(config)}
    assert len(hashed) == 3


def test_a_change_made_while_the_config_is_hashed_is_seen_at_the_next_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another thread may change the config at any moment, also between reading it and
    # hashing it: the digest kept must be of what was read, so that the change shows.
    config: dict[str, Any] = {"layers": [64, 64]}
    real = config_hash

    def changed_meanwhile(value: Any) -> str:
        config["layers"][0] = 128
        return real(value)

    monkeypatch.setattr(_digests, "config_hash", changed_meanwhile)
    memo = ConfigDigest(config)
    assert memo.digest() == real({"layers": [64, 64]})  # what it read
    monkeypatch.setattr(_digests, "config_hash", real)
    assert memo.digest() == real({"layers": [128, 64]})  # what it is now


def test_a_config_that_comes_to_contain_itself_is_refused_not_walked_forever() -> None:
    config: dict[str, Any] = {"a": [1]}
    memo = ConfigDigest(config)
    memo.digest()
    config["a"].append(config)
    with pytest.raises(UnhashableConfigError, match="contains itself"):
        memo.digest()
