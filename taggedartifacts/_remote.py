"""fsspec URLs (``s3://``, ``gs://``, ``memory://``, ...): an optional extra, loaded for URLs."""

from __future__ import annotations

import os
from typing import Any

from ._errors import MissingExtraError
from ._tagging import is_url  # re-exported: the URL test lives with the name rules

__all__ = [
    "COMPLETE",
    "complete",
    "exists",
    "filesystem",
    "footprint",
    "is_url",
    "join",
    "kind",
    "listing",
    "local_path",
    "parent",
    "put",
    "read_bytes",
    "remove",
    "stat",
    "write_bytes",
]


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of a URL, and the URL's path within it."""
    try:
        import fsspec
    except ImportError as exc:
        raise MissingExtraError(
            f"{url!r} is a URL, and URLs need fsspec: pip install 'taggedartifacts[remote]' "
            "(plus s3fs, gcsfs, ... for the storage you use)"
        ) from exc
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


# Written into an uploaded directory artifact after all its files: object stores cannot
# publish a directory at once, so a directory without it is an upload that did not finish.
COMPLETE = ".taggedartifacts-complete"


def local_path(url: str) -> str | None:
    """The local path a URL names when its file system is this machine's (``file://``)."""
    fs, path = filesystem(url)
    return str(path) if _is_local(fs) else None


def complete(url: str) -> bool:
    """Whether an artifact is there whole: a file, a directory renamed into place on this
    machine, or an uploaded directory with its ``COMPLETE`` marker."""
    fs, path = filesystem(url)
    if _is_local(fs):
        return os.path.exists(path)
    if fs.isfile(path):
        return True
    return bool(fs.isdir(path)) and bool(fs.exists(join(path, COMPLETE)))


def kind(url: str) -> str | None:
    """``file`` or ``directory`` (a complete one, see :func:`complete`) at ``url``, or None."""
    fs, path = filesystem(url)
    if _is_local(fs):
        return "directory" if os.path.isdir(path) else "file" if os.path.lexists(path) else None
    if fs.isfile(path):
        return "file"
    return "directory" if complete(url) else None


def _is_local(fs: Any) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "file" in protocols or "local" in protocols


def parent(url: str) -> str:
    """The URL of the directory holding ``url``."""
    body = url.rstrip("/")
    return body[: body.rfind("/")]


def join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return bool(fs.exists(path))


def write_bytes(url: str, data: bytes) -> None:
    """Write a small object; readers see all of it or nothing (see :func:`put`)."""
    fs, path = filesystem(url)
    temporary = _temporary(path)
    fs.pipe_file(temporary, data)
    fs.mv(temporary, path)


def read_bytes(url: str) -> bytes:
    fs, path = filesystem(url)
    return bytes(fs.cat_file(path))


def stat(url: str) -> tuple[float, int]:
    """``(mtime, size)`` of a remote file; raises FileNotFoundError when it is missing."""
    fs, path = filesystem(url)
    info = fs.info(path)
    return _mtime(info), int(info.get("size") or 0)


def footprint(url: str) -> int:
    """The bytes stored at ``url``: a file's size, or the sizes of a directory's files summed."""
    fs, path = filesystem(url)
    if fs.isdir(path):
        return int(fs.du(path, total=True))
    return int(fs.size(path) or 0)


def remove(url: str) -> None:
    """Remove a file, or a directory and everything in it.

    A directory loses its ``COMPLETE`` marker first: object stores remove a
    directory's objects one by one, and one cut short must look like an upload
    that did not finish (built again), never like a whole artifact.
    """
    fs, path = filesystem(url)
    if fs.isdir(path):
        marker = join(path, COMPLETE)
        if fs.exists(marker):
            fs.rm_file(marker)
        fs.rm(path, recursive=True)
    else:
        fs.rm_file(path)


def put(local: str, url: str) -> None:
    """Upload a local file, or a directory's files one by one and then its ``COMPLETE`` marker.

    Every object goes to a temporary key next to its final one first and is then
    moved into place (a server-side copy on object stores), so a final key never
    holds part of an object, on any file system, however the upload is cut short.
    """
    fs, path = filesystem(url)
    if not os.path.isdir(local):
        _put_file(fs, local, path)
        return
    for directory, _, files in sorted(os.walk(local)):
        for name in sorted(files):
            source = os.path.join(directory, name)
            key = os.path.relpath(source, local).replace(os.sep, "/")
            _put_file(fs, source, join(path, key))
    write_bytes(fs.unstrip_protocol(join(path, COMPLETE)), b"")


def _put_file(fs: Any, local: str, path: str) -> None:
    temporary = _temporary(path)
    fs.put_file(local, temporary)
    fs.mv(temporary, path)


def _temporary(path: str) -> str:
    """A hidden key beside ``path``, which no listing takes for a version."""
    import secrets

    return join(path.rstrip("/").rsplit("/", 1)[0], f".taggedartifacts-{secrets.token_hex(8)}.tmp")


def listing(directory_url: str) -> list[tuple[str, float, int]]:
    """``(url, mtime, size)`` of each entry of a remote directory; empty when it is missing."""
    fs, path = filesystem(directory_url)
    try:
        entries = fs.ls(path, detail=True)
    except FileNotFoundError:
        return []
    # After a find() over the directory, s3fs's cached listing can hold a subdirectory
    # twice: one entry per name.
    unique: dict[str, Any] = {}
    for entry in entries:
        unique.setdefault(entry["name"], entry)
    return [
        (fs.unstrip_protocol(name), _mtime(e), int(e.get("size") or 0))
        for name, e in unique.items()
    ]


def _mtime(info: dict[str, Any]) -> float:
    import datetime

    for key in ("mtime", "LastModified", "last_modified", "created", "updated"):
        value = info.get(key)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    return 0.0  # a prefix ("directory") on object storage has no time
