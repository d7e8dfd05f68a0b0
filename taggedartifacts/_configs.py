"""The configs of versions, read from their provenance records: which versions have a
config value (``ls --where lr=0.1``), and which keys differ between versions
(``ls --config-columns``).

A record holds the config in the JSON normal form of the config hash (see
``_hashing``): plain JSON values as they are, anything else a one-key object
whose key starts with NUL (a set, a path, a date), which is a single value
here. A version made without ``provenance=True`` has no config to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._versions import Version, record_of

__all__ = ["MISSING", "config_of", "differing", "flatten", "lookup", "same"]


class _Missing:
    """No value at a key (``None`` is a value: JSON's null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def config_of(version: Version) -> dict[str, Any] | None:
    """What a version's provenance record says made it: its config and, under their
    parameter names, its hashed arguments (one that shares a config key's name as
    ``arguments.<name>``); None without a record that says (a cache record does not)."""
    record = record_of(version)
    if record is None or not isinstance(record.get("config"), dict):
        return None
    settings = dict(_fields(record["config"]))
    arguments = record.get("arguments")
    for name, value in arguments.items() if isinstance(arguments, dict) else ():
        settings["arguments." + name if name in settings else name] = value
    return settings


def _fields(value: Any) -> Any:
    """An object with named fields (a dataclass in the normal form) is its fields."""
    if isinstance(value, dict) and len(value) == 1 and "\x00dataclass" in value:
        record = value["\x00dataclass"]
        if isinstance(record, list) and len(record) == 2 and isinstance(record[1], dict):
            return record[1]
    return value


def lookup(value: Any, key: str) -> Any:
    """The value at a dotted key (``model.depth``; ``layers.0`` is an item of a list), or
    :data:`MISSING`. A key that itself holds dots (``{"a.b": 1}``) is found too."""
    value = _fields(value)
    if key == "":
        return value
    parts = key.split(".")
    for cut in range(len(parts), 0, -1):  # the longest key first: "a.b" before "a" then "b"
        head, rest = ".".join(parts[:cut]), ".".join(parts[cut:])
        if isinstance(value, dict) and head in value:
            found = lookup(value[head], rest)
        elif isinstance(value, list) and head.isdigit() and int(head) < len(value):
            found = lookup(value[int(head)], rest)
        else:
            continue
        if found is not MISSING:
            return found
    return MISSING


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values: numbers by value (``1`` is ``1.0``), but ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf of a config under its dotted key; lists and tagged values are leaves."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        value, dotted = _fields(value), prefix + key
        if isinstance(value, dict) and value and not _tagged(value):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _tagged(value: dict[str, Any]) -> bool:
    """A value of the normal form that JSON cannot hold: ``{"\\u0000set": [...]}``."""
    return len(value) == 1 and next(iter(value)).startswith("\x00")


def differing(configs: Iterable[dict[str, Any] | None]) -> list[str]:
    """The dotted keys whose values are not the same in all the configs (a key that
    some lack differs), in the order they first appear; None (no record) is skipped."""
    flat = [flatten(c) for c in configs if c is not None]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return [
        k for k in keys if any(k not in f or not same(f[k], flat[0].get(k, MISSING)) for f in flat)
    ]
