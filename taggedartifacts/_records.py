"""Records: what made an artifact, written next to it as ``<tagged name>.provenance.json``.

Every record (format ``taggedartifacts.cache/1`` with ``cache=True`` alone)
holds what a cache hit must check and give back: the full commit, the dirty
flag and full fingerprint, the full config hash, the kind of output (``file``
or ``directory``) and the value the function returned (see ``_values``).

With ``provenance=True`` (format ``taggedartifacts.provenance/2``) it also holds
the config and any hashed arguments (in the JSON normal form of the config
hash, where values JSON cannot hold are one-key objects such as
``{"\\u0000bytes": "..."}`` and non-finite floats are ``{"\\u0000float": "NaN"}``),
the function, the path that was asked for, the ``depends_on`` scope and the
HEAD commit (``commit`` is the scope's commit), the notebook whose cell defines
the function (its path, and the digest of its code as saved), start and end
time (UTC, ISO 8601)
and duration, host, user, Python and platform, the versions of taggedartifacts
and GitPython, and the ``origin`` remote without credentials. Keys named in
``redact`` are written as ``"<redacted>"`` at any depth; they are hashed all the same.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _remote as remote
from ._atomic import temporary_name
from ._binding import innermost
from ._fingerprint import content_digest
from ._gitinfo import GitState
from ._provenance import origin_url, process_facts
from ._remote import is_url
from ._tagging import RECORD_SUFFIX, split_query
from ._values import Unrecordable

if TYPE_CHECKING:
    import datetime

__all__ = [
    "CACHE_FORMAT",
    "FORMAT",
    "RECORD_SUFFIX",
    "Made",
    "read_json",
    "record",
    "record_path",
    "write_json",
]

FORMAT = "taggedartifacts.provenance/2"
CACHE_FORMAT = "taggedartifacts.cache/1"
REDACTED = "<redacted>"
_FLOAT = "\x00float"


class Made(NamedTuple):
    """How one call made its artifacts: what provenance records say beyond the cache."""

    requested: str | os.PathLike[str]
    config: Any  # its normal form (see ``_hashing``), taken before the function ran
    arguments: Any  # likewise, or None without include_args
    function: Any
    started: datetime.datetime
    finished: datetime.datetime
    redact: Iterable[str]
    notebook: str | None = None  # the notebook whose cell defines the function


def record_path(artifact: str | os.PathLike[str]) -> str:
    """Where the record of an artifact (a file, a directory or a URL) lives."""
    path, query = split_query(os.fspath(artifact))
    return path.rstrip("/" + os.sep) + RECORD_SUFFIX + query


def record(
    artifact: str | os.PathLike[str],
    state: GitState,
    config_hash: str,
    output: str,
    returned: Any,
    made: Made | None,
) -> dict[str, Any]:
    """The record of one artifact, as a JSON-ready dict.

    :param output: ``file`` or ``directory``.
    :param returned: ``_values.encode_value`` of what the function returned, or
        :class:`Unrecordable` (not written).
    :param made: what provenance adds; None for a cache record.
    """
    out: dict[str, Any] = {
        "format": CACHE_FORMAT if made is None else FORMAT,
        "artifact": os.path.basename(os.fspath(artifact).rstrip("/" + os.sep)),
        "commit": state.commit,
        "dirty": state.dirty,
        "diff": state.diff,
        "config_hash": config_hash,
        "output": output,
    }
    if not isinstance(returned, Unrecordable):
        out["returned"] = returned
    if made is None:
        return out
    hidden = frozenset(made.redact)
    inner = innermost(made.function)  # the function behind a partial or callable object
    arguments = made.arguments
    return {
        **out,
        "requested_path": os.fspath(made.requested),
        "config": _jsonable(made.config, hidden),
        "arguments": None if arguments is None else _jsonable(arguments, hidden),
        "function": {
            "module": getattr(inner, "__module__", None),
            "qualname": getattr(inner, "__qualname__", None),
        },
        "started": made.started.isoformat(),
        "finished": made.finished.isoformat(),
        "duration_seconds": round((made.finished - made.started).total_seconds(), 6),
        "depends_on": list(state.scope) or None,
        "head": state.head or state.commit,
        "notebook": _notebook(made.notebook, state.root),
        **process_facts(),
        "origin": origin_url(state.root),
    }


def _notebook(path: str | None, root: str | None) -> dict[str, str] | None:
    """Which notebook ran, and the digest of its code as saved (outputs left out)."""
    if path is None:
        return None
    shown = os.path.relpath(path, root) if root and path.startswith(root + os.sep) else path
    digest = content_digest(os.fsencode(path)).split(b" ", 1)[-1].decode()
    return {"path": shown, "code_sha256": digest}


def _jsonable(value: Any, hidden: frozenset[str]) -> Any:
    """Standard JSON: redact named keys, spell non-finite floats as tagged objects."""
    if isinstance(value, dict):
        return {k: REDACTED if k in hidden else _jsonable(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, hidden) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT: repr(value).replace("inf", "Infinity").replace("nan", "NaN")}
    return value


def write_json(path: str, data: Mapping[str, Any]) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a part.

    Any name the file system holds is kept: strings that are not UTF-8 (file names
    that were bytes) are written as ``\\udcxx`` escapes, which read back as they were.
    """
    import json

    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    raw = text.encode("utf-8", "backslashreplace")
    if is_url(path):
        local = remote.local_path(path)
        if local is None:  # one PUT: object stores show a whole object or none
            remote.write_bytes(path, raw)
            return
        path = local  # file://: written and renamed like a path

    directory = os.path.dirname(os.path.abspath(path))
    # A hidden temporary name that versions() skips and stale clean-up recognises; created
    # with mode 0o666 so the umask applies, as it would to any file the user writes.
    temporary = os.path.join(directory, temporary_name())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read_json(path: str) -> dict[str, Any] | None:
    """The record at ``path`` (a local path or URL), or None when there is none
    (or it is not a record: not JSON, or not an object)."""
    import json

    if not is_url(path) and not os.path.lexists(path):
        return None  # the common case: one stat, no failing open and its exception
    try:
        if is_url(path):
            data = json.loads(remote.read_bytes(path))
        else:
            with open(path, "rb") as fh:
                data = json.loads(fh.read())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError):
        return None
    return data if isinstance(data, dict) else None
