"""Atomic artifacts: build in a private directory next to the target, then rename into place.

:class:`Stage` hands the function ``<dir>/.taggedartifacts-<random>/<name>``:
the same directory (so the same file system, and ``os.replace`` is atomic) and
the exact tagged file name (so format detection by extension still works).
:meth:`Stage.publish` renames every entry the function wrote there into
``<dir>``, the artifacts themselves last, so a complete artifact never appears
before its side files (a record is one). :meth:`Stage.discard` removes it all,
for a function that raised. Once the function has returned, nothing it wrote is
deleted: :meth:`Stage.keep` moves what was not published to a visible
``taggedartifacts-unpublished-...`` directory, which nothing ever removes.

The process holds a file lock on each private directory (``<name>.lock``) for
the stage's whole life. A directory is *stale*, and removed by the next stage in
that directory (once per directory and process), only when its lock can be
taken: its owner is gone, whatever its host or PID namespace.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Collection, Mapping
from pathlib import Path

from ._errors import ArtifactConflictError, add_note
from ._locks import FileLock
from ._log import logger
from ._storage import Output, Store
from ._tagging import KEPT_PREFIX, PRIVATE_PREFIX, RECORD_SUFFIX, REPLACED_PREFIX, split_name

# secrets, shutil, tempfile and time load on first use: ``import taggedartifacts`` stays instant.

__all__ = ["PRIVATE_PREFIX", "Stage", "build_lock", "name_max", "sweep"]

PathArg = str | Path
_LOCK = ".lock"
_OLD_STALE_SECONDS = 24 * 3600  # entries of earlier versions, which had no lock
_TEMPORARY_STALE_SECONDS = 3600  # a record's temporary file lives for milliseconds


def build_lock(target: PathArg) -> FileLock:
    """The lock that callers building the artifact ``target`` share (a local path)."""
    import hashlib

    path = os.path.abspath(os.fspath(target).rstrip("/" + os.sep))
    digest = hashlib.sha256(os.fsencode(os.path.basename(path))).hexdigest()[:16]
    return FileLock(os.path.join(os.path.dirname(path), f"{PRIVATE_PREFIX}build-{digest}{_LOCK}"))


class Stage:
    """Private places for one call's targets: hand :attr:`paths` to the function, then
    :meth:`publish`, :meth:`discard` or :meth:`keep`.

    A local target's private directory sits next to it (so does a ``file://``
    URL's, which is renamed into place like a path); an object store URL's sits
    in the local temporary directory, and its contents are uploaded with fsspec.

    :ivar paths: for each key of the targets, the private path to write to,
        spelled as the target is (``str`` or :class:`~pathlib.Path`).
    """

    def __init__(self, outputs: Mapping[str, Output]) -> None:
        self.outputs = dict(outputs)
        # parent directory (or its URL) -> its store and our private directory for it
        self.private: dict[str, tuple[Store, str]] = {}
        self.locks: list[FileLock] = []
        self.paths: dict[str, PathArg] = {}
        try:
            for key, out in self.outputs.items():
                self.paths[key] = self._place(out)
        except BaseException:
            self.discard()
            raise

    def _place(self, out: Output) -> PathArg:
        parent = out.store.parent(out.where)
        if out.store.remote:  # built here, uploaded when published
            import tempfile

            home = tempfile.gettempdir()
        else:
            home = parent
            os.makedirs(parent, exist_ok=True)
        if parent not in self.private:
            sweep(home)
            self.private[parent] = (out.store, self._private_directory(home))
        inside = os.path.join(self.private[parent][1], _name(out.where))
        return inside if isinstance(out.tagged, str) else Path(inside)

    def _private_directory(self, home: str) -> str:
        import secrets

        while True:  # the lock first: a directory whose lock is free is stale
            path = os.path.join(home, PRIVATE_PREFIX + secrets.token_hex(8))
            lock = FileLock(path + _LOCK)
            lock.acquire()
            try:
                os.mkdir(path)
            except FileExistsError:
                lock.release()
                continue
            self.locks.append(lock)
            return path

    def publish(self, trusted: Collection[str] = ()) -> list[str]:
        """Move (or upload) what the function wrote into place, artifacts last.

        A directory artifact cannot replace another at once. An existing one named in
        ``trusted`` (its record shows the same full digests) is kept and ours dropped,
        record and all; an untrusted one (no record: a run without ``atomic`` may have
        been cut short) is moved aside, never deleted, and ours published.

        :return: where untrusted existing directories were moved.
        :raises ArtifactConflictError: when a side file would overwrite an unrelated
            existing entry; nothing is moved then.
        """
        names = {_name(out.where) for out in self.outputs.values()}
        stems = tuple(split_name(n)[0] for n in names)
        moved: list[str] = []
        for parent, (store, directory) in self.private.items():
            moved += _publish(store, directory, parent, names, stems, frozenset(trusted))
        self._release()
        return moved

    def discard(self) -> None:
        """Remove everything the function wrote (it raised: nothing of it may appear)."""
        import shutil

        for _, directory in self.private.values():
            shutil.rmtree(directory, ignore_errors=True)
        self._release()

    def keep(self, exc: BaseException) -> None:
        """Move what was not published where nothing removes it, and say where on ``exc``."""
        stem = split_name(_name(next(iter(self.outputs.values())).where))[0]
        kept = [_keep(d, stem) for _, d in self.private.values() if os.path.isdir(d)]
        self._release()
        where = ", ".join(self.private)
        add_note(
            exc,
            f"taggedartifacts: the output was not published to {where}; it is kept in "
            f"{', '.join(kept)}: move what you need from there",
        )

    def _release(self) -> None:
        for lock in self.locks:
            lock.release(remove=True)
        self.locks.clear()


def _name(where: str) -> str:
    """The last component of a path or URL."""
    return os.path.basename(where.rstrip("/" + os.sep).rsplit("/", 1)[-1])


def _keep(directory: str, stem: str) -> str:
    """Rename a private directory to a visible name that says what it holds."""
    import secrets
    import time

    when = time.strftime("%Y%m%d-%H%M%S")
    kept = os.path.join(
        os.path.dirname(directory), f"{KEPT_PREFIX}{stem[:40]}-{when}-{secrets.token_hex(2)}"
    )
    os.rename(directory, kept)
    return kept


def _publish(
    store: Store,
    directory: str,
    parent: str,
    artifacts: set[str],
    stems: tuple[str, ...],
    trusted: frozenset[str],
) -> list[str]:
    """Move (or upload) what the function wrote into ``parent``, artifacts last."""
    import shutil

    entries = sorted(os.listdir(directory), key=lambda name: (name in artifacts, name))
    clobbered = [
        n
        for n in entries
        if n not in artifacts and not n.startswith(stems) and store.exists(store.join(parent, n))
    ]
    if clobbered:
        raise ArtifactConflictError(
            f"the function also wrote {clobbered} next to its artifact, and entries of those "
            f"names already exist in {parent}; nothing was moved and nothing was overwritten. "
            "Write side files under the artifact's own name"
        )
    dropped, moved = set(), []
    for name in artifacts.intersection(entries):
        target = store.join(parent, name)
        if not os.path.isdir(os.path.join(directory, name)) or not store.exists(target):
            continue
        # An object store's finished upload stays (one that did not finish is uploaded
        # over); here, a directory of the same full digests stays, any other is moved aside.
        if (store.remote and store.complete(target)) or (not store.remote and name in trusted):
            dropped.add(name)
        elif not store.remote:
            moved.append(_move_aside(target))
    for name in entries:
        if name in dropped or name.removesuffix(RECORD_SUFFIX) in dropped:
            logger().info("kept existing %s; dropped the copy just built", name)
        else:
            store.publish(os.path.join(directory, name), store.join(parent, name))
    shutil.rmtree(directory, ignore_errors=True)
    return moved


def _move_aside(path: str) -> str:
    """Rename an existing entry out of the way, to a visible name nothing removes."""
    import secrets
    import time

    name = os.path.basename(path)
    aside = os.path.join(
        os.path.dirname(path),
        f"{REPLACED_PREFIX}{split_name(name)[0][:40]}-{time.strftime('%Y%m%d-%H%M%S')}"
        f"-{secrets.token_hex(2)}",
    )
    os.rename(path, aside)
    return aside


_SWEPT: set[str] = set()  # directories swept by this process


def sweep(parent: str) -> None:
    """Remove what dead processes left in ``parent``: private directories whose lock is
    free, their lock files, old temporary files. Once per directory and process: a
    directory may hold 100,000 other files, and only names with our prefix are read."""
    if parent in _SWEPT:
        return
    if len(_SWEPT) >= 4096:  # bounded: a long session may write into many directories
        _SWEPT.clear()
    _SWEPT.add(parent)
    try:
        with os.scandir(parent) as entries:
            names = [e.name for e in entries if e.name.startswith(PRIVATE_PREFIX)]
    except OSError:
        return
    for name in names:
        if name.endswith(_LOCK):
            _sweep_locked(os.path.join(parent, name))
        elif not os.path.lexists(os.path.join(parent, name + _LOCK)):
            _sweep_unlocked(os.path.join(parent, name))


def _sweep_locked(lock_path: str) -> None:
    import shutil

    lock = FileLock(lock_path)
    if not lock.acquire(blocking=False):
        return  # its owner is alive
    try:
        owned = lock_path[: -len(_LOCK)]
        if os.path.isdir(owned):
            logger().info("removing %s, left behind by a process that is gone", owned)
            shutil.rmtree(owned, ignore_errors=True)
    finally:
        lock.release(remove=True)


def _sweep_unlocked(path: str) -> None:
    """A private entry without a lock: a temporary file, or a directory of a version
    that had no locks; removed once it is surely abandoned."""
    import shutil
    import time

    try:
        age = time.time() - os.lstat(path).st_mtime
    except OSError:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        if age > _OLD_STALE_SECONDS:
            logger().info("removing %s, left behind by a process that is gone", path)
            shutil.rmtree(path, ignore_errors=True)
    elif age > _TEMPORARY_STALE_SECONDS:
        with contextlib.suppress(OSError):
            os.unlink(path)


@functools.lru_cache(maxsize=256)
def name_max(directory: str) -> int:
    """The longest file name, in bytes, the file system at ``directory`` holds."""
    existing = directory
    while not os.path.isdir(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    try:
        return int(os.pathconf(existing, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows): NTFS's limit
        return 255
