"""Where an output lives: on this machine, or in an object store; decided once per path.

:func:`place_of` looks at a path once and returns its :class:`Place`: the
store (:data:`LOCAL`, or :data:`REMOTE`, reached through fsspec) and the path
that store understands (a ``file://`` URL is a local path). An :class:`Output`
is one path argument of a call, with its tagged name and its place. Everything
below asks the store, never the path again.

fsspec is an optional extra (``remote``), imported only for URLs.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from ._errors import MissingExtraError
from ._tagging import is_url

# Written into an uploaded directory artifact after all its files: object stores cannot
# publish a directory at once, so a directory without it is an upload that did not finish.
COMPLETE = ".taggedartifacts-complete"


class Local:
    """This machine's file system."""

    remote = False

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def kind(self, path: str) -> str | None:
        """``file`` or ``directory`` for what is at ``path``, None for nothing."""
        return "directory" if os.path.isdir(path) else "file" if os.path.lexists(path) else None

    def parent(self, path: str) -> str:
        return os.path.dirname(os.path.abspath(path.rstrip("/" + os.sep)))

    def join(self, directory: str, name: str) -> str:
        return os.path.join(directory, name)

    def complete(self, path: str) -> bool:
        """Whether an artifact is there whole: on this machine, anything renamed into place."""
        return os.path.lexists(path)

    def read(self, path: str, limit: int | None = None) -> bytes:
        """A regular file's bytes, never through a link nor from a FIFO or device.

        :raises ValueError: for something that is not a regular file, or more than
            ``limit`` bytes.
        """
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise ValueError("a symbolic link") from None
            raise
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ValueError("not a regular file")
            if limit is not None and st.st_size > limit:
                raise ValueError(f"{st.st_size} bytes, more than a record ever holds")
            return fh.read() if limit is None else fh.read(limit + 1)[:limit]

    def publish(self, private: str, path: str) -> None:
        """Move a private file or directory into place, at once."""
        os.replace(private, path)

    def open(self, path: str) -> BinaryIO:
        return open(path, "rb")

    def files(self, directory: str) -> list[tuple[str, str]]:
        """``(path inside it, in posix form; full path)`` of every file under a directory."""
        found = []
        for parent, dirs, names in os.walk(directory):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(parent, name)
                found.append((os.path.relpath(full, directory).replace(os.sep, "/"), full))
        return found

    def write(self, path: str, data: bytes) -> None:
        """Write a file so that readers see the old one or the whole new one, never a part."""
        import secrets

        # A hidden temporary name that versions() skips and stale clean-up recognises;
        # mode 0o666, so the umask applies as it would to any file the user writes.
        directory = os.path.dirname(os.path.abspath(path))
        temporary = os.path.join(directory, f".taggedartifacts-{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    def stat(self, path: str) -> tuple[float, int]:
        """``(mtime, size)``; raises FileNotFoundError when nothing is there."""
        st = os.stat(path)
        return st.st_mtime, st.st_size

    def footprint(self, path: str) -> int:
        """The bytes stored at ``path``: a file's size, or a directory's files summed."""
        if not os.path.isdir(path) or os.path.islink(path):
            return os.lstat(path).st_size
        total = 0
        for directory, _, files in os.walk(path):
            total += sum(os.lstat(os.path.join(directory, f)).st_size for f in files)
        return total

    def remove(self, path: str) -> None:
        """Remove a file, or a directory with everything in it."""
        if not os.path.isdir(path) or os.path.islink(path):
            os.unlink(path)
            return
        import secrets
        import shutil

        # Renamed out of the way first: a directory half removed must never pass for a
        # finished artifact. Should the removal be cut short, the hidden name is swept
        # like any unlocked leftover of ours (after a day).
        hidden = os.path.join(self.parent(path), f".taggedartifacts-pruned-{secrets.token_hex(4)}")
        os.rename(path, hidden)
        shutil.rmtree(hidden)

    def listing(self, directory: str, prefix: str = "") -> list[tuple[str, Any]]:
        """``(path, stat)`` of the entries of a directory whose name starts with
        ``prefix``; empty when it is missing. The stat is a callable, so that only the
        entries a caller keeps are looked at."""
        try:  # names alone: a directory may hold 100k other files, which cost no more
            names = [n for n in os.listdir(directory) if n.startswith(prefix)]
        except FileNotFoundError:
            return []
        paths = [os.path.join(directory, name) for name in names]
        return [(path, functools.partial(os.stat, path)) for path in paths]


LOCAL = Local()


class Remote:
    """An fsspec file system (an object store), for URLs."""

    remote = True

    def _fs(self, url: str) -> tuple[Any, str]:
        """The file system of a URL (fsspec keeps one per protocol and options), and
        the URL's path within it."""
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        return fs, str(path)

    def exists(self, url: str) -> bool:
        fs, path = self._fs(url)
        return bool(fs.exists(path))

    def kind(self, url: str) -> str | None:
        """``file``, ``directory`` (a complete upload only, see :meth:`complete`) or None."""
        fs, path = self._fs(url)
        if fs.isfile(path):
            return "file"
        return "directory" if self.complete(url) else None

    def complete(self, url: str) -> bool:
        """Whether an artifact is there whole: a file, or a directory with its marker."""
        fs, path = self._fs(url)
        if fs.isfile(path):
            return True
        return bool(fs.isdir(path)) and bool(fs.exists(self.join(path, COMPLETE)))

    def parent(self, url: str) -> str:
        body = url.rstrip("/")
        return body[: body.rfind("/")]

    def join(self, directory: str, name: str) -> str:
        return directory.rstrip("/") + "/" + name

    def read(self, url: str, limit: int | None = None) -> bytes:
        """An object's bytes; :raises ValueError: when it holds more than ``limit``."""
        fs, path = self._fs(url)
        if limit is not None and int(fs.size(path) or 0) > limit:
            raise ValueError("more bytes than a record ever holds")
        return bytes(fs.cat_file(path))

    def write(self, url: str, data: bytes) -> None:
        """Write a small object: one PUT, so readers see all of it or nothing."""
        fs, path = self._fs(url)
        temporary = self._temporary(path)
        fs.pipe_file(temporary, data)
        fs.mv(temporary, path)

    def open(self, url: str) -> BinaryIO:
        fs, path = self._fs(url)
        return fs.open(path, "rb")  # type: ignore[no-any-return]

    def files(self, directory: str) -> list[tuple[str, str]]:
        """``(path inside it; URL)`` of every object under a directory, but its marker."""
        fs, path = self._fs(directory)
        base = path.rstrip("/") + "/"
        return [
            (key[len(base) :], fs.unstrip_protocol(key))
            for key in sorted(fs.find(path))
            if key.startswith(base) and key[len(base) :] != COMPLETE
        ]

    def publish(self, local: str, url: str) -> None:
        """Upload a local file, or a directory's files one by one and then its marker.

        Every object goes to a temporary key next to its final one first and is then
        moved into place (a server-side copy on object stores), so a final key never
        holds part of an object, however the upload is cut short.
        """
        fs, path = self._fs(url)
        if not os.path.isdir(local):
            self._put_file(fs, local, path)
            return
        for directory, _, files in sorted(os.walk(local)):
            for name in sorted(files):
                source = os.path.join(directory, name)
                key = os.path.relpath(source, local).replace(os.sep, "/")
                self._put_file(fs, source, self.join(path, key))
        self.write(self.join(url, COMPLETE), b"")

    def _put_file(self, fs: Any, local: str, path: str) -> None:
        temporary = self._temporary(path)
        fs.put_file(local, temporary)
        fs.mv(temporary, path)

    def _temporary(self, path: str) -> str:
        """A hidden key beside ``path``, which no listing takes for a version."""
        import secrets

        return self.join(self.parent(path), f".taggedartifacts-{secrets.token_hex(8)}.tmp")

    def stat(self, url: str) -> tuple[float, int]:
        """``(mtime, size)``; raises FileNotFoundError when nothing is there."""
        fs, path = self._fs(url)
        info = fs.info(path)
        return _mtime(info), int(info.get("size") or 0)

    def footprint(self, url: str) -> int:
        fs, path = self._fs(url)
        if fs.isdir(path):
            return int(fs.du(path, total=True))
        return int(fs.size(path) or 0)

    def remove(self, url: str) -> None:
        """Remove a file, or a directory and everything in it.

        A directory loses its marker first: object stores remove a directory's
        objects one by one, and one cut short must look like an upload that did not
        finish (built again), never like a whole artifact.
        """
        fs, path = self._fs(url)
        if fs.isdir(path):
            marker = self.join(path, COMPLETE)
            if fs.exists(marker):
                fs.rm_file(marker)
            fs.rm(path, recursive=True)
        else:
            fs.rm_file(path)

    def listing(self, directory: str, prefix: str = "") -> list[tuple[str, Any]]:
        """``(url, stat)`` of each entry of a remote directory whose name starts with
        ``prefix``; empty when it is missing."""
        fs, path = self._fs(directory)
        try:
            entries = fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        # After a find() over the directory, s3fs's cached listing can hold a subdirectory
        # twice: one entry per name.
        unique: dict[str, Any] = {}
        for entry in entries:
            if entry["name"].rstrip("/").rsplit("/", 1)[-1].startswith(prefix):
                unique.setdefault(entry["name"], entry)
        return [
            (fs.unstrip_protocol(name), _Stat(_mtime(e), int(e.get("size") or 0)))
            for name, e in unique.items()
        ]


REMOTE = Remote()


class _Stat(NamedTuple):
    """What a listing knows of a remote entry, in the shape of ``os.stat``'s answer."""

    st_mtime: float
    st_size: int

    def __call__(self) -> _Stat:
        return self


def _mtime(info: dict[str, Any]) -> float:
    import datetime

    for key in ("mtime", "LastModified", "last_modified", "created", "updated"):
        value = info.get(key)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    return 0.0  # a prefix ("directory") on object storage has no time


Store = Local | Remote


class Place(NamedTuple):
    """Where a path is: the store, and the path as that store reads it."""

    store: Store
    path: str  # a local path, or the URL for an object store


def place_of(path: str | os.PathLike[str]) -> Place:
    """The store of a path or URL, decided once.

    :raises MissingExtraError: for a URL without fsspec installed, saying what to install.
    """
    text = os.fspath(path)
    if not is_url(text):
        return Place(LOCAL, text)
    try:
        import fsspec
    except ImportError as exc:
        raise MissingExtraError(
            f"{text!r} is a URL, and URLs need fsspec: pip install 'taggedartifacts[remote]' "
            "(plus s3fs, gcsfs, ... for the storage you use)"
        ) from exc
    fs, inner = fsspec.core.url_to_fs(text)
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" in protocols or "local" in protocols:
        return Place(LOCAL, str(inner))  # file://: renamed into place like a path
    return Place(REMOTE, text)


PathArg = str | Path


class Output(NamedTuple):
    """One path argument of a call: as given, as tagged, and where it lives."""

    given: PathArg  # as the caller passed it
    tagged: PathArg  # its tagged name, spelled as the caller spelled the path
    store: Store  # this machine's file system, or an object store
    where: str  # the tagged path as its store reads it (a file:// URL is a local path)


def output(given: PathArg, tagged: PathArg) -> Output:
    """The output at ``tagged``; a URL needs fsspec, checked here, before any work."""
    place = place_of(tagged)
    return Output(given, tagged, place.store, place.path)
