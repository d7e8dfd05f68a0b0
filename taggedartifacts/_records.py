"""Records: what made an artifact, written next to it as ``<tagged name>.provenance.json``.

Every record (format ``taggedartifacts.cache/1`` with ``cache=True`` alone)
holds what a cache hit must check and give back: the full commit (and with
``depends_on`` the scope's content key), the dirty flag and full fingerprint,
the full config hash, the function that made it, the kind of output (``file``
or ``directory``), its size and the sha256 of its bytes when it was published
(``verify`` compares them), and the value the function returned.

With ``provenance=True`` (format ``taggedartifacts.provenance/2``) it also holds
the config and any hashed arguments (in the JSON normal form of the config
hash, where values JSON cannot hold are one-key objects such as
``{"\\u0000bytes": "..."}`` and non-finite floats are ``{"\\u0000float": "NaN"}``),
the function, the path that was asked for, the ``depends_on`` scope (``code`` is
its content key, which the name carries; ``commit`` is always HEAD's, the commit
to check out for that code), the notebook whose cell defines
the function (its path, and the digest of its code as saved), start and end
time (UTC, ISO 8601) and duration, host, user, Python and platform, the
versions of taggedartifacts and GitPython, and the ``origin`` remote without
credentials. Keys named in ``redact`` are written as ``"<redacted>"`` at any
depth; they are hashed all the same.

The returned value
------------------

``None``, ``bool``, ``int``, ``float``, ``str``, lists, tuples, dicts with ``str``
keys and paths (as :class:`~pathlib.Path`) are kept; subclasses of int, float
and str (NumPy's ``float64``, say) come back as the plain type. Anything else
cannot be kept (:class:`Unrecordable`). A path that is one of the call's
outputs, inside one (a file of a directory artifact), or beside one (a side
file) is kept relative to it, and given back spelled as the hit's caller
spelled its own path: relative or absolute, from whatever directory, as a path
or a URL.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _git as git
from ._fingerprint import content_digest, sha256_of
from ._gitinfo import GitState
from ._storage import Store
from ._tagging import RECORD_SUFFIX, is_url, split_query

if TYPE_CHECKING:
    import datetime

FORMAT = "taggedartifacts.provenance/2"
CACHE_FORMAT = "taggedartifacts.cache/1"
REDACTED = "<redacted>"
_TUPLE, _PATH, _FLOAT, _OUTPUT = "\x00tuple", "\x00path", "\x00float", "\x00output"
Outputs = Mapping[str, str]  # path parameter -> its tagged path, as this call spells it


class Made(NamedTuple):
    """How one call made its artifacts: what provenance records say beyond the cache."""

    requested: str | os.PathLike[str]
    config: Any  # its normal form (see ``_hashing``), taken before the function ran
    arguments: Any  # likewise, or None without include_args
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
    function: Mapping[str, Any],
    output: tuple[str, int, str],
    returned: Any,
    made: Made | None,
) -> dict[str, Any]:
    """The record of one artifact, as a JSON-ready dict.

    :param function: the function that made it: its source file (relative to the work
        tree), module and qualified name.
    :param output: its kind (``file`` or ``directory``), size and sha256 (see
        :func:`artifact_digest`).
    :param returned: :func:`encode_value` of what the function returned, or
        :class:`Unrecordable` (not written).
    :param made: what provenance adds; None for a cache record.
    """
    out: dict[str, Any] = {
        "format": CACHE_FORMAT if made is None else FORMAT,
        "artifact": os.path.basename(os.fspath(artifact).rstrip("/" + os.sep)),
        "commit": state.commit,
        "code": state.code,
        "dirty": state.dirty,
        "diff": state.diff,
        "config_hash": config_hash,
        "function": dict(function),
        "output": output[0],
        "size": output[1],
        "sha256": output[2],
    }
    if not isinstance(returned, Unrecordable):
        out["returned"] = returned
    if made is None:
        return out
    hidden = frozenset(made.redact)
    arguments = made.arguments
    return {
        **out,
        "requested_path": os.fspath(made.requested),
        "config": _jsonable(made.config, hidden),
        "arguments": None if arguments is None else _jsonable(arguments, hidden),
        "started": made.started.isoformat(),
        "finished": made.finished.isoformat(),
        "duration_seconds": round((made.finished - made.started).total_seconds(), 6),
        "depends_on": list(state.scope) or None,
        "notebook": _notebook(made.notebook, state.root),
        **_process_facts(),
        "origin": _origin_url(state.root),
    }


def same_function(found: Mapping[str, Any], function: Mapping[str, Any]) -> bool | None:
    """Whether a record was made by ``function``, known by its source file in the work
    tree (a module run as a script and imported is one function), else its module, and
    its qualified name; None when the record does not say (it is older than that)."""
    theirs = found.get("function")
    if not isinstance(theirs, dict) or "file" not in theirs:
        return None
    return _who(theirs) == _who(function)


def _who(function: Mapping[str, Any]) -> tuple[Any, Any]:
    return (function.get("file") or ("module", function.get("module")), function.get("qualname"))


def artifact_digest(store: Store, path: str) -> tuple[int, str]:
    """The size of the artifact at ``path`` and the sha256 of its bytes: a file's; for a
    directory, over each file's path inside it and digest, in order of path."""
    import hashlib

    if store.kind(path) == "file":
        with store.open(path) as fh:
            return sha256_of(fh)
    digest, total = hashlib.sha256(b"taggedartifacts-directory-v1\n"), 0
    for inside, full in store.files(path):
        with store.open(full) as fh:
            size, sha = sha256_of(fh)
        total += size
        digest.update(f"{inside}\0{sha}\n".encode("utf-8", "surrogateescape"))
    return total, digest.hexdigest()


def made_by(found: Mapping[str, Any], digest: str, state: GitState) -> bool:
    """Whether a record was made by this exact config, dirty state and code: the scope's
    content key, or else the commit (a short name can collide; full digests do not)."""
    if found.get("config_hash") != digest or found.get("diff") != state.diff:
        return False
    if state.code is not None:
        return bool(found.get("code") == state.code)
    commit, theirs = state.commit, str(found.get("commit"))
    short = min(len(commit), len(theirs))
    return found.get("code") is None and short >= 7 and commit[:short] == theirs[:short]


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


def write_record(store: Store, path: str, data: Mapping[str, Any]) -> None:
    """Write a record so that readers see the old one or the whole new one, never a part.

    Any name the file system holds is kept: strings that are not UTF-8 (file names
    that were bytes) are written as ``\\udcxx`` escapes, which read back as they were.
    """
    import json

    # In the order it was built (a returned dict keeps its own: a hit gives it back so).
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    store.write(path, text.encode("utf-8", "backslashreplace"))


class BadRecord(ValueError):
    """Something at a record's name that is not a record this library wrote: a link, a
    FIFO, a file too big, or not JSON of the shape it writes. It is never used."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(
            f"{path} is not a record taggedartifacts wrote ({why}): ignored, as if there were "
            "none; the artifact is built again where it is needed"
        )


_RECORD_LIMIT = 16 << 20  # a record holds a config and a returned value: never this much


def read_record(store: Store, path: str) -> dict[str, Any] | None:
    """The record at ``path``, or None when there is none.

    What is there is read without following a link or blocking on a FIFO, at most
    16 MiB of it, and parsed defensively (nested too deeply for Python is no record).

    :raises BadRecord: when something there is not a record.
    """
    import json

    if not store.exists(path):
        return None
    try:
        raw = store.read(path, limit=_RECORD_LIMIT)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BadRecord(path, str(exc)) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRecord(path, "not JSON, or nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRecord(path, "not a JSON object")
    return data


# Where an artifact was made: fixed for the life of a process (the origin per work tree),
# so each is looked up once and a record costs no subprocess after the first.


@functools.cache
def _process_facts() -> dict[str, Any]:
    """Host, user, Python, platform and the versions of this package and GitPython."""
    import platform
    import socket

    return {
        "host": socket.gethostname(),
        "user": _user(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            "taggedartifacts": _version("taggedartifacts"),
            "GitPython": _version("GitPython"),
        },
    }


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return None


def _version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=64)
def _origin_url(root: str | None) -> str | None:
    """The ``origin`` remote of the work tree at ``root``, credentials stripped."""
    if root is None:
        return None
    proc = git.run(root, "config", "--get", "remote.origin.url")
    url = proc.stdout.decode(errors="replace").strip()
    return strip_credentials(url) if proc.returncode == 0 and url else None


def strip_credentials(url: str) -> str:
    """Drop what may be a secret: a password, for http(s) any user name (tokens travel
    there too), and the query and fragment (``?private_token=...``)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.scheme:
        return url  # scp-like ``git@host:path`` names a user, never a secret
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username if parts.scheme in ("ssh", "git+ssh") and parts.username else None
    netloc = f"{user}@{host}" if user else host
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))


# The returned value: see the module docstring.


class Unrecordable(NamedTuple):
    """A returned value that a record cannot hold; ``what`` names the culprit."""

    what: str


def encode_value(value: Any, outputs: Outputs) -> Any:
    """A returned value as JSON data that :func:`decode_value` turns back into it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):  # subclasses too: numpy floats, IntEnum
        return _number(value)
    if isinstance(value, str) or isinstance(_text(value), str):
        return _encode_path(value, outputs)
    if isinstance(value, (list, tuple)):
        items = [encode_value(v, outputs) for v in value]
        return _whole(items, items if isinstance(value, list) else {_TUPLE: items})
    if isinstance(value, dict) and not any(type(k) is not str or k[:1] == "\x00" for k in value):
        encoded = {k: encode_value(v, outputs) for k, v in value.items()}
        return _whole(list(encoded.values()), encoded)
    return Unrecordable(type(value).__qualname__)


def _number(value: int | float) -> Any:
    if isinstance(value, int):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else {_FLOAT: repr(number)}


def _text(value: Any) -> str | bytes | None:
    """A path object's text (None for anything else)."""
    return os.fspath(value) if isinstance(value, os.PathLike) else None


def _whole(items: list[Any], encoded: Any) -> Any:
    """``encoded``, or the first of its ``items`` that could not be recorded."""
    return next((i for i in items if isinstance(i, Unrecordable)), encoded)


def _encode_path(value: Any, outputs: Outputs) -> Any:
    text, kind = os.fspath(value), "str" if isinstance(value, str) else "path"
    for kw, output in outputs.items():
        where = _relative(str(text), output)
        if where is not None:
            return {_OUTPUT: [kw, where, kind]}
    return str(text) if kind == "str" else {_PATH: text}


def _relative(text: str, output: str) -> str | None:
    """Where ``text`` is from ``output``: itself (""), inside it ("in/..."), beside it
    ("by/<name>"), or None."""
    separator = "/" if "://" in output else os.sep
    artifact = output.rstrip("/" + os.sep)
    if text.rstrip("/" + os.sep) == artifact:
        return ""
    if text.startswith(artifact + separator):
        return "in/" + text[len(artifact) + 1 :]
    parent, name = artifact.rsplit(separator, 1) if separator in artifact else ("", artifact)
    head, _, tail = text.rpartition(separator)
    if head == parent and tail and separator not in tail and tail != name:
        return "by/" + tail
    return None


def decode_value(value: Any, outputs: Outputs) -> Any:
    """The value :func:`encode_value` encoded, its output paths spelled as ``outputs`` are."""
    if isinstance(value, list):
        return [decode_value(v, outputs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == _TUPLE:
            return tuple(decode_value(v, outputs) for v in inner)
        if key == _PATH:
            from pathlib import Path

            return Path(inner)
        if key == _FLOAT:
            return float(inner)
        if key == _OUTPUT and inner[0] in outputs:
            return _decode_output(outputs[inner[0]], inner[1], inner[2])
    return {k: decode_value(v, outputs) for k, v in value.items()}


def returned_value(found: Mapping[str, Any], path: str, outputs: Outputs) -> Any:
    """The value a record says the function returned, spelled for ``outputs``.

    :raises BadRecord: when the record's value is not one this library wrote.
    """
    try:
        return decode_value(found.get("returned"), outputs)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError):
        raise BadRecord(path, "its returned value is malformed") from None


def _decode_output(output: str, where: str, kind: str) -> Any:
    url = "://" in output
    separator = "/" if url else os.sep
    artifact = output.rstrip("/" + os.sep)
    if where.startswith("in/"):
        text = artifact + separator + where[3:]
    elif where.startswith("by/"):
        parent = artifact.rsplit(separator, 1)[0] if separator in artifact else ""
        text = (parent + separator if parent else "") + where[3:]
    else:
        text = output
    if kind == "str" or url:
        return text
    from pathlib import Path

    return Path(text)


def respell(value: Any, moves: list[tuple[str, str]]) -> Any:
    """``value`` with every path under one of ``moves``' private paths spelled under its
    public one: a private path itself (``(private, public)``), or anything inside a
    private directory (a private path ending in a separator)."""
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(respell(v, moves) for v in value)
    if isinstance(value, list):
        return [respell(v, moves) for v in value]
    if isinstance(value, dict):
        return {k: respell(v, moves) for k, v in value.items()}
    text = value if isinstance(value, str) else _text(value)
    moved = _moved(text, moves) if isinstance(text, str) else None
    if moved is None:
        return value
    if isinstance(value, PurePath) and not is_url(moved):
        return type(value)(moved)  # a Path stays a Path, relative stays relative
    return moved


def _moved(text: str, moves: list[tuple[str, str]]) -> str | None:
    """Where ``text`` is after ``moves`` (None: under no private path)."""
    for private, public in moves:
        if text == private:
            return public
        if private.endswith(os.sep) and text.startswith(private):
            return _join(public, text[len(private) :])
    return None


def _join(parent: str, name: str) -> str:
    if not parent:
        return name
    return parent.rstrip("/") + "/" + name if is_url(parent) else os.path.join(parent, name)
