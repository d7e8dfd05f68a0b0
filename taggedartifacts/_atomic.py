"""Atomic artifacts: build in a private directory next to the target, then rename into place.

:class:`Stage` hands the function ``<dir>/.taggedartifacts-<host>-<pid>-<random>/<name>``:
the same directory (so the same file system, and ``os.replace`` is atomic) and
the exact tagged file name (so format detection by extension still works).
:meth:`Stage.publish` renames every entry the function wrote there into
``<dir>``, the artifacts themselves last, so a complete artifact never appears
before its side files (a provenance record is one). :meth:`Stage.discard`
removes it all, for a function that raised. Once the function has returned,
nothing it wrote is deleted: :meth:`Stage.keep` leaves it where it is and says
so, for a failure while finishing or publishing.

A process killed outright leaves only its private directory, which is hidden
and never a tagged name. A later stage in the same directory removes it when it
is *stale*: made on this host by a process that no longer exists, or made on
another host (a shared file system) more than a day ago.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path

from . import _remote as remote
from ._errors import ArtifactConflictError, add_note
from ._log import logger
from ._remote import is_url
from ._tagging import PRIVATE_PREFIX, split_name

# shutil, socket and tempfile load on first use: ``import taggedartifacts`` stays instant.

__all__ = ["PRIVATE_PREFIX", "Stage", "private_prefix", "remove_stale"]

_FOREIGN_STALE_SECONDS = 24 * 3600

PathArg = str | Path


def private_prefix() -> str:
    """Names of our temporary entries: hidden, and saying which host and process made them."""
    return f"{PRIVATE_PREFIX}{_host()}-{os.getpid()}-"


@functools.cache
def _host() -> str:
    import hashlib
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


class Stage:
    """Private places for one call's targets: hand :attr:`paths` to the function, then
    :meth:`publish` or :meth:`discard`.

    A local target's private directory sits next to it (so does a ``file://``
    URL's, which is renamed into place like a path); an object store URL's sits
    in the local temporary directory, and its contents are uploaded with fsspec.

    :ivar paths: for each key of the targets, the private path to write to,
        spelled as the target is (``str`` or :class:`~pathlib.Path`).
    """

    def __init__(self, targets: Mapping[str, PathArg]) -> None:
        self.targets = dict(targets)
        self.private: dict[str, str] = {}  # target directory (or its URL) -> private directory
        self.paths: dict[str, PathArg] = {}
        try:
            for key, target in self.targets.items():
                self.paths[key] = self._place(target)
        except BaseException:
            self.discard()
            raise

    def _place(self, target: PathArg) -> PathArg:
        import tempfile

        local = remote.local_path(str(target)) if is_url(target) else os.fspath(target)
        if local is None:
            parent, home = remote.parent(str(target)), tempfile.gettempdir()
        else:
            parent = home = os.path.dirname(os.path.abspath(local))
            os.makedirs(parent, exist_ok=True)
        if parent not in self.private:
            remove_stale(home)
            self.private[parent] = tempfile.mkdtemp(prefix=private_prefix(), dir=home)
        name = os.path.basename(_name(target))
        inside = os.path.join(self.private[parent], name)
        return inside if isinstance(target, str) else Path(inside)

    def publish(self) -> None:
        """Move (or upload) what the function wrote into place, artifacts last.

        :raises ArtifactConflictError: when a side file would overwrite an unrelated
            existing entry; nothing is moved then.
        """
        names = {_name(t) for t in self.targets.values()}
        stems = tuple(split_name(n)[0] for n in names)
        for parent, directory in self.private.items():
            _publish(directory, parent, names, stems)

    def discard(self) -> None:
        """Remove everything the function wrote (it raised: nothing of it may appear)."""
        import shutil

        for directory in self.private.values():
            shutil.rmtree(directory, ignore_errors=True)

    def keep(self, exc: BaseException) -> None:
        """Leave what was not published where it is, and say where on ``exc`` (a note)."""
        kept = ", ".join(d for d in self.private.values() if os.path.isdir(d))
        add_note(
            exc,
            f"taggedartifacts: the output was not published to {', '.join(self.private)}; "
            f"what was not is kept in {kept}",
        )


def _name(target: PathArg) -> str:
    """The last component of a target path or URL."""
    return os.fspath(target).rstrip("/" + os.sep).rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]


def _publish(directory: str, parent: str, artifacts: set[str], stems: tuple[str, ...]) -> None:
    """Move (or, for a URL, upload) what the function wrote into ``parent``, artifacts last."""
    import shutil

    url = is_url(parent)

    def exists(name: str) -> bool:
        if url:
            return remote.exists(remote.join(parent, name))
        return os.path.lexists(os.path.join(parent, name))

    def complete(name: str) -> bool:  # a directory artifact that need not be built again
        return remote.complete(remote.join(parent, name)) if url else exists(name)

    entries = sorted(os.listdir(directory), key=lambda name: (name in artifacts, name))
    clobbered = [n for n in entries if n not in artifacts and not n.startswith(stems) and exists(n)]
    if clobbered:
        raise ArtifactConflictError(
            f"the function also wrote {clobbered} next to its artifact, and entries of those "
            f"names already exist in {parent}; nothing was moved and nothing was overwritten. "
            f"Its output is still in {directory}: move what you need, or write side files under "
            "the artifact's own name"
        )
    for name in entries:
        source = os.path.join(directory, name)
        is_dir = os.path.isdir(source) and not os.path.islink(source)
        if is_dir and complete(name):
            # A directory cannot replace another atomically; the existing one has the same
            # name, so the same code and config made it: keep it and drop ours. (An upload
            # that did not finish is not complete: ours is uploaded over it.)
            logger().info("kept existing %s; dropped the copy just built", name)
        elif url:
            remote.put(source, remote.join(parent, name))
        else:
            os.replace(source, os.path.join(parent, name))
    shutil.rmtree(directory, ignore_errors=True)


def remove_stale(parent: str) -> None:
    """Remove private directories in ``parent`` left behind by dead processes."""
    import contextlib
    import shutil

    try:
        names = [n for n in os.listdir(parent) if n.startswith(PRIVATE_PREFIX)]
    except OSError:
        return
    for name in names:
        path = os.path.join(parent, name)
        if _is_stale(name, path):
            logger().info("removing %s, left behind by a process that is gone", path)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:  # a provenance record's temporary file
                with contextlib.suppress(OSError):
                    os.unlink(path)


def _is_stale(name: str, path: str) -> bool:
    import time

    parts = name[len(PRIVATE_PREFIX) :].split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    if host == _host() and os.name == "posix":
        return not _alive(pid)
    try:
        return time.time() - os.stat(path).st_mtime > _FOREIGN_STALE_SECONDS
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists (POSIX only)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
