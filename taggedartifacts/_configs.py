"""The configs of versions, read from their provenance records: which versions have a
config value (``ls --where lr=0.1``), which keys differ between versions
(``ls --config-columns``), and how two versions differ (``diff``: their code, their
config values, their dirty states).

A record holds the config in the JSON normal form of the config hash (see
``_hashing``): plain JSON values as they are, anything else a one-key object
whose key starts with NUL (a set, a path, a date), which is a single value
here. A version made without ``provenance=True`` has no config to read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, NamedTuple

from . import _git as git
from ._errors import GitError
from ._git import find_work_tree
from ._tagging import is_url, parse
from ._versions import Version, home, record_of, versions


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
        if isinstance(value, dict) and value and not is_tagged(value):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def matches(value: Any, wanted: Any) -> bool:
    """Whether a record's value is what ``ls --where`` asks for: the same JSON value or,
    for a value JSON cannot hold, what it holds (a set's items, a date's text) or the
    text ``ls`` shows for it (``set:[1,2]``)."""
    if isinstance(value, dict) and is_tagged(value) and not isinstance(wanted, dict):
        return same(next(iter(value.values())), wanted) or wanted == shown(value)
    return same(value, wanted)


def shown(value: Any) -> Any:
    """``value`` with every value JSON cannot hold in it as ``ls`` shows that value:
    ``set:[1,2]``, ``date:"2024-01-02"``."""
    if isinstance(value, list):
        return [shown(v) for v in value]
    if isinstance(value, dict) and is_tagged(value):
        kind, held = next(iter(value.items()))
        return kind[1:] + ":" + json.dumps(shown(held), ensure_ascii=False, separators=(",", ":"))
    return {k: shown(v) for k, v in value.items()} if isinstance(value, dict) else value


def is_tagged(value: dict[str, Any]) -> bool:
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


class Difference(NamedTuple):
    """How two tagged versions differ (what :func:`diff` returns).

    :ivar same_code: whether the same code made them (the same commit, or the same
        content key of a scope); None when that cannot be told.
    :ivar commits: the commit each was made at (from its name, else its record).
    :ivar files: git's summary (``git diff --stat``) of the files that differ between
        the two commits, within the scope for scoped names; "" when the code is the same.
    :ivar config: each dotted config key (and hashed argument) whose values differ, with
        the value in each (:data:`MISSING` where one has none).
    :ivar dirty: each one's dirty fingerprint (None when clean).
    :ivar notes: what could not be compared, and why.
    """

    a: str
    b: str
    same_code: bool | None
    commits: tuple[str | None, str | None]
    files: str
    config: dict[str, tuple[Any, Any]]
    dirty: tuple[str | None, str | None]
    notes: list[str]


def diff(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> Difference:
    """Say how two tagged versions differ: their code, their configs (from provenance
    records), their dirty states.

    :raises NotTaggedError: when either name carries no tag.
    """
    pair = [_version(a), _version(b)]
    records = [record_of(v) for v in pair]
    notes = [f"{v.path} has no record" for v, r in zip(pair, records, strict=True) if r is None]
    commits = [v.tag.commit or (r or {}).get("commit") for v, r in zip(pair, records, strict=True)]
    same_code = _same_code(pair, records)
    files = ""
    if same_code is False:
        files = _changed_files(pair, commits, records, notes)
    configs = [config_of(v) for v in pair]
    changed: dict[str, tuple[Any, Any]] = {}
    if configs[0] is not None and configs[1] is not None:
        flat = [flatten(c) for c in (configs[0], configs[1])]
        changed = {
            k: (flat[0].get(k, MISSING), flat[1].get(k, MISSING)) for k in differing(configs)
        }
    elif pair[0].tag.config != pair[1].tag.config:
        notes.append("their configs differ (their names say so), but without both records not how")
    paths = [os.path.join(os.path.dirname(os.fspath(p)), parse(p).untagged) for p in (a, b)]
    if len({p if is_url(p) else os.path.realpath(p) for p in paths}) > 1:
        notes.append(f"they are versions of two paths: {paths[0]} and {paths[1]}")
    dirty = (pair[0].tag.diff, pair[1].tag.diff)
    return Difference(
        str(a), str(b), same_code, (commits[0], commits[1]), files, changed, dirty, notes
    )


def _version(path: str | os.PathLike[str]) -> Version:
    tag = parse(path)
    for version in versions(os.path.join(os.path.dirname(os.fspath(path)), tag.untagged)):
        if version.name == os.path.basename(os.fspath(path).rstrip("/")):
            return version
    raise FileNotFoundError(2, "no such tagged version", os.fspath(path))


def _same_code(pair: list[Version], records: list[dict[str, Any] | None]) -> bool | None:
    tags = [v.tag for v in pair]
    if tags[0].code and tags[1].code:
        full = [(r or {}).get("code") for r in records]
        return tags[0].code == tags[1].code and (None in full or full[0] == full[1])
    if tags[0].commit and tags[1].commit:
        return tags[0].commit == tags[1].commit
    return None  # one names a commit, the other a scope's content: not comparable


def _changed_files(
    pair: list[Version],
    commits: list[str | None],
    records: list[dict[str, Any] | None],
    notes: list[str],
) -> str:
    """``git diff --stat`` between the two commits, within the scope if there is one."""
    if None in commits:
        notes.append("the commit of one is not known (a scoped name with no record)")
        return ""
    found = find_work_tree((home(os.fspath(pair[0].path)), None))
    if found is None:
        notes.append("no work tree here knows their commits")
        return ""
    scope = (records[0] or {}).get("depends_on") or []
    try:
        out = git.check(
            found.root, "diff", "--stat", f"{commits[0]}", f"{commits[1]}", "--", *scope
        )
    except GitError as exc:
        notes.append(f"git cannot compare their commits here ({exc})")
        return ""
    return out.decode(errors="replace").rstrip()
