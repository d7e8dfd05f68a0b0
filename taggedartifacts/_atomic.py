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
import stat
from collections.abc import Collection, Mapping
from pathlib import Path

from ._errors import ArtifactConflictError, UnsafePathError, add_note
from ._locks import FileLock
from ._log import logger
from ._storage import Output, Store
from ._tagging import KEPT_PREFIX, PRIVATE_PREFIX, RECORD_SUFFIX, REPLACED_PREFIX, split_name

# secrets, shutil, tempfile and time load on first use: ``import taggedartifacts`` stays instant.

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
        self.private: dict[str, tuple[Store, _Private]] = {}
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
            self.private[parent] = (out.store, _Private(home))
        inside = os.path.join(self.private[parent][1].path, _name(out.where))
        return inside if isinstance(out.tagged, str) else Path(inside)

    def publish(self, trusted: Collection[str] = ()) -> list[str]:
        """Move (or upload) what the function wrote into place, artifacts last.

        A directory artifact cannot replace another at once. An existing one named in
        ``trusted`` (its record shows the same full digests) is kept and ours dropped,
        record and all; an untrusted one (no record: a run without ``atomic`` may have
        been cut short) is moved aside, never deleted, and ours published.

        :return: where untrusted existing directories were moved.
        :raises ArtifactConflictError: when a side file would overwrite an unrelated
            existing entry; nothing is moved then.
        :raises UnsafePathError: when a private directory is no longer the one this call
            made (another user swapped it for a link): nothing of it is moved.
        """
        names = {_name(out.where) for out in self.outputs.values()}
        stems = tuple(split_name(n)[0] for n in names)
        moved: list[str] = []
        for parent, (store, private) in self.private.items():
            private.check()
            moved += _publish(store, private, parent, names, stems, frozenset(trusted))
        self._release()
        return moved

    def discard(self) -> None:
        """Remove everything the function wrote (it raised: nothing of it may appear)."""
        for _, private in self.private.values():
            private.remove()
        self._release()

    def keep(self, exc: BaseException) -> None:
        """Move what was not published where nothing removes it, and say where on ``exc``."""
        stem = split_name(_name(next(iter(self.outputs.values())).where))[0]
        kept = [private.keep(stem) for _, private in self.private.values()]
        self._release()
        add_note(
            exc,
            f"taggedartifacts: the output was not published to {', '.join(self.private)}; "
            f"it is kept in {', '.join(k for k in kept if k)}: move what you need from there"
            if any(kept)
            else f"taggedartifacts: the output was not published to {', '.join(self.private)}",
        )

    def _release(self) -> None:
        for _, private in self.private.values():
            private.close()


class _Private:
    """A private directory this call made in ``home``, held by file descriptors of the
    directory it was made in and of itself: whatever another user later puts at its
    name (a link to the victim's files), this works on the directory it made."""

    def __init__(self, home: str) -> None:
        import secrets

        self.home = os.open(home, os.O_RDONLY | _DIRECTORY)
        while True:  # the lock first: a directory whose lock is free is stale
            self.name = PRIVATE_PREFIX + secrets.token_hex(8)
            self.path = os.path.join(home, self.name)
            self.lock = FileLock(self.path + _LOCK)
            self.lock.acquire()
            try:
                os.mkdir(self.name, dir_fd=self.home)
            except FileExistsError:
                self.lock.release()
                continue
            self.fd = os.open(self.name, os.O_RDONLY | _DIRECTORY | os.O_NOFOLLOW, dir_fd=self.home)
            st = os.fstat(self.fd)
            self.ident = (st.st_dev, st.st_ino)
            return

    def mine(self) -> bool:
        """Whether the name still leads to the directory this call made."""
        try:
            st = os.stat(self.name, dir_fd=self.home, follow_symlinks=False)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self.ident

    def check(self) -> None:
        """:raises UnsafePathError: when the name no longer leads to our directory."""
        if not self.mine():
            raise UnsafePathError(
                f"the private build directory {self.path} was replaced while the function "
                "ran (by another user of this directory?), so nothing was published from it; "
                "write into a directory only you can change"
            )

    def entries(self) -> list[str]:
        return os.listdir(self.fd)

    def is_dir(self, name: str) -> bool:
        return stat.S_ISDIR(os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mode)

    def exists_beside(self, name: str) -> bool:
        """Whether ``name`` exists in the directory the private directory is in."""
        try:
            os.stat(name, dir_fd=self.home, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def move_out(self, name: str) -> None:
        """Rename an entry into the directory the private directory is in, at once."""
        os.replace(name, name, src_dir_fd=self.fd, dst_dir_fd=self.home)

    def move_aside(self, name: str) -> str:
        """Rename an existing entry beside us out of the way, to a visible name nothing
        removes."""
        aside = _visible(REPLACED_PREFIX, split_name(name)[0])
        os.rename(name, aside, src_dir_fd=self.home, dst_dir_fd=self.home)
        return os.path.join(os.path.dirname(self.path), aside)

    def remove(self) -> None:
        """Remove what is in our directory (found by its descriptor, wherever it is now),
        and the directory itself while its name still leads to it."""
        for _, dirs, files, fd in os.fwalk(dir_fd=self.fd, topdown=False):
            for name in files + dirs:
                with contextlib.suppress(OSError):
                    _remove_at(name, fd)
        if self.mine():
            with contextlib.suppress(OSError):
                os.rmdir(self.name, dir_fd=self.home)

    def keep(self, stem: str) -> str | None:
        """Rename our directory to a visible name that says what it holds (None when its
        name no longer leads to it, or it is empty)."""
        if not self.mine():
            return None
        if not self.entries():
            self.remove()
            return None
        kept = _visible(KEPT_PREFIX, stem)
        os.rename(self.name, kept, src_dir_fd=self.home, dst_dir_fd=self.home)
        return os.path.join(os.path.dirname(self.path), kept)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            os.close(self.home)
            self.fd = -1
            self.lock.release(remove=True)


_DIRECTORY = getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def _remove_at(name: str, fd: int) -> None:
    """Remove an entry of the directory ``fd`` (a link to a directory is an entry too)."""
    if stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
        os.rmdir(name, dir_fd=fd)
    else:
        os.unlink(name, dir_fd=fd)


def _name(where: str) -> str:
    """The last component of a path or URL."""
    return os.path.basename(where.rstrip("/" + os.sep).rsplit("/", 1)[-1])


def _visible(prefix: str, stem: str) -> str:
    """A new visible name for output set aside: what it held, and when."""
    import secrets
    import time

    return f"{prefix}{stem[:40]}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def _publish(
    store: Store,
    private: _Private,
    parent: str,
    artifacts: set[str],
    stems: tuple[str, ...],
    trusted: frozenset[str],
) -> list[str]:
    """Move (or upload) what the function wrote into ``parent``, artifacts last."""
    entries = sorted(private.entries(), key=lambda name: (name in artifacts, name))
    here = (
        (lambda n: store.exists(store.join(parent, n))) if store.remote else private.exists_beside
    )
    clobbered = [n for n in entries if n not in artifacts and not n.startswith(stems) and here(n)]
    if clobbered:
        raise ArtifactConflictError(
            f"the function also wrote {clobbered} next to its artifact, and entries of those "
            f"names already exist in {parent}; nothing was moved and nothing was overwritten. "
            "Write side files under the artifact's own name"
        )
    existing = [n for n in artifacts.intersection(entries) if private.is_dir(n) and here(n)]
    dropped, moved = _existing_directories(store, private, parent, existing, trusted)
    for name in entries:
        if name in dropped or name.removesuffix(RECORD_SUFFIX) in dropped:
            logger().info("kept existing %s; dropped the copy just built", name)
        elif store.remote:
            store.publish(os.path.join(private.path, name), store.join(parent, name))
        else:
            private.move_out(name)
    private.remove()
    return moved


def _existing_directories(
    store: Store, private: _Private, parent: str, names: list[str], trusted: frozenset[str]
) -> tuple[set[str], list[str]]:
    """Of the artifact directories that already exist in ``parent``: those that stay (the
    copy just built is dropped), and where the others were moved aside. An object store's
    finished upload stays (one that did not finish is uploaded over); here, a directory
    of the same full digests stays, any other is moved aside."""
    dropped, moved = set(), []
    for name in names:
        if store.remote:
            if store.complete(store.join(parent, name)):
                dropped.add(name)
        elif name in trusted:
            dropped.add(name)
        else:
            moved.append(private.move_aside(name))
    return dropped, moved


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
    try:
        if not _ours(lock_path) or not lock.acquire(blocking=False):
            return  # another user's, or its owner is alive
    except OSError:  # not a lock file we made (a link planted at such a name): not ours
        return
    try:
        owned = lock_path[: -len(_LOCK)]
        if os.path.isdir(owned) and not os.path.islink(owned):
            logger().info("removing %s, left behind by a process that is gone", owned)
            shutil.rmtree(owned, ignore_errors=True)
    finally:
        lock.release(remove=True)


def _ours(path: str) -> bool:
    """Whether this user owns ``path`` (another user's leftovers are theirs to sweep)."""
    try:
        return os.lstat(path).st_uid == getattr(os, "geteuid", lambda: 0)()
    except OSError:
        return False


def _sweep_unlocked(path: str) -> None:
    """A private entry without a lock: a temporary file, or a directory of a version
    that had no locks; removed once it is surely abandoned."""
    import shutil
    import time

    try:
        age = time.time() - os.lstat(path).st_mtime
    except OSError:
        return
    if not _ours(path):
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
