"""Records: how an artifact was made, written next to it as JSON.

``<tagged name>.provenance.json`` holds (format ``taggedartifacts.provenance/1``):
the full commit, dirty flag and fingerprint, the full config hash, the config
and any hashed arguments (in the JSON normal form of the config hash, where
values JSON cannot hold are one-key objects such as ``{"\\u0000bytes": "..."}``
and non-finite floats are ``{"\\u0000float": "NaN"}``), the function, the path
that was asked for, start and end time (UTC, ISO 8601) and duration, host,
user, Python and platform, the versions of taggedartifacts and GitPython, and
the ``origin`` remote without credentials. Keys named in ``redact`` are written
as ``"<redacted>"`` at any depth; they are hashed all the same.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _git as git
from . import _remote as remote
from ._atomic import private_prefix
from ._binding import innermost
from ._gitinfo import GitState
from ._hashing import normal_form
from ._remote import is_url
from ._tagging import split_query

if TYPE_CHECKING:
    import datetime

# json, platform, socket, tempfile and urllib load inside the functions that need them,
# since ``import taggedartifacts`` imports this module and must stay instant.

__all__ = ["FORMAT", "RECORD_SUFFIX", "build_record", "read_json", "record_path", "write_json"]

FORMAT = "taggedartifacts.provenance/1"
RECORD_SUFFIX = ".provenance.json"
REDACTED = "<redacted>"


def record_path(artifact: str | os.PathLike[str]) -> str:
    """Where the record of an artifact (a file, a directory or a URL) lives."""
    path, query = split_query(os.fspath(artifact))
    return path.rstrip("/" + os.sep) + RECORD_SUFFIX + query


def build_record(
    *,
    artifact: str | os.PathLike[str],
    requested: str | os.PathLike[str],
    state: GitState,
    config_hash: str,
    config: Mapping[str, Any],
    arguments: Mapping[str, Any] | None,
    function: Any,
    started: datetime.datetime,
    finished: datetime.datetime,
    redact: Iterable[str] = (),
) -> dict[str, Any]:
    """The record of one artifact, as a JSON-ready dict."""
    import platform
    import socket

    hidden = frozenset(redact)
    inner = innermost(function)  # the function behind a partial or callable object
    return {
        "format": FORMAT,
        "artifact": os.path.basename(os.fspath(artifact).rstrip("/" + os.sep)),
        "requested_path": os.fspath(requested),
        "commit": state.commit,
        "dirty": state.dirty,
        "diff": state.diff,
        "config_hash": config_hash,
        "config": _jsonable(normal_form(config), hidden),
        "arguments": None if arguments is None else _jsonable(normal_form(arguments), hidden),
        "function": {
            "module": getattr(inner, "__module__", None),
            "qualname": getattr(inner, "__qualname__", None),
        },
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_seconds": round((finished - started).total_seconds(), 6),
        "host": socket.gethostname(),
        "user": _user(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            "taggedartifacts": _version("taggedartifacts"),
            "GitPython": _version("GitPython"),
        },
        "origin": origin_url(state.root),
    }


def _jsonable(value: Any, hidden: frozenset[str]) -> Any:
    """Standard JSON: redact named keys, spell non-finite floats as tagged objects."""
    if isinstance(value, dict):
        return {k: REDACTED if k in hidden else _jsonable(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, hidden) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"\x00float": repr(value).replace("inf", "Infinity").replace("nan", "NaN")}
    return value


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


def origin_url(root: str | None) -> str | None:
    """The ``origin`` remote of the work tree at ``root``, credentials stripped."""
    if root is None:
        return None
    proc = git.run(root, "config", "--get", "remote.origin.url")
    url = proc.stdout.decode(errors="replace").strip()
    return strip_credentials(url) if proc.returncode == 0 and url else None


def strip_credentials(url: str) -> str:
    """Drop a password, and for http(s) any user name (tokens travel there too)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url  # scp-like ``git@host:path`` names a user, never a secret
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username if parts.scheme in ("ssh", "git+ssh") and parts.username else None
    netloc = f"{user}@{host}" if user else host
    return urlunsplit(parts._replace(netloc=netloc))


def write_json(path: str, data: Mapping[str, Any]) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a part."""
    import json
    import secrets

    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    if is_url(path):
        local = remote.local_path(path)
        if local is None:  # one PUT: object stores show a whole object or none
            remote.write_bytes(path, text.encode("utf-8"))
            return
        path = local  # file://: written and renamed like a path

    directory = os.path.dirname(os.path.abspath(path))
    # A hidden temporary name that versions() skips and stale clean-up recognises; created
    # with mode 0o666 so the umask applies, as it would to any file the user writes.
    temporary = os.path.join(directory, f"{private_prefix()}record-{secrets.token_hex(4)}.json")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read_json(path: str) -> dict[str, Any] | None:
    """The record at ``path`` (a local path or URL), or None when there is none."""
    import json

    try:
        if is_url(path):
            return dict(json.loads(remote.read_bytes(path)))
        with open(path, encoding="utf-8") as fh:
            return dict(json.load(fh))
    except FileNotFoundError:
        return None
