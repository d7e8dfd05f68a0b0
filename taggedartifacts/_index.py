"""A private copy of a work tree's index, which our ``git status`` may refresh and which
shows what index flags hide.

Why a copy:

- *Flags.* ``git update-index --assume-unchanged`` or ``--skip-worktree`` (and
  ``core.ignoreStat``, which sets the first on every ``git add``) make git skip
  a file, so an edit to it looks clean. The copy has those flags cleared, so
  status compares every such file with the index like any other. (In a sparse
  checkout, files outside the sparse patterns are skip-worktree by design and
  absent; there git itself checks the ones that are present, so the copy keeps
  skip-worktree flags.)
- *Speed.* A user's index whose files all changed their stat data but not their
  bytes (a formatter, ``cp -r``, rsync) makes every status re-read every file
  until something writes a refreshed index. We must never write the user's
  index (or take its lock), but git may refresh the copy, so our next call is
  fast again.

The copy lives in a private directory of this process and is made again
whenever the real index changes (git replaces the index file on every write,
so its stat data tells). Nothing is ever written into the user's ``.git``.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

from . import _git as git
from ._errors import GitError

__all__ = ["forget", "index_key", "private_index"]

IndexKey = tuple[int, int, int, int]


class _Copy(NamedTuple):
    key: IndexKey  # the real index's stat data when it was copied
    path: str


_COPIES: dict[str, _Copy] = {}  # real index path -> our copy of it


def index_key(index: str) -> IndexKey | None:
    """Stat data that changes whenever git writes ``index``; None when there is none."""
    try:
        st = os.stat(index)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def private_index(root: str, index: str, key: IndexKey) -> str | None:
    """Our copy of the index at ``index`` (stat data ``key``), made when needed.

    None when it cannot be made now (the index changed while it was copied):
    the caller then reads the real index, without writing it.
    """
    copy = _COPIES.get(index)
    if copy is not None and copy.key == key:
        return copy.path  # gone after all (a fork's parent removed it)? git fails: forget()
    import hashlib
    import shutil
    import tempfile

    path = os.path.join(_home(), hashlib.sha256(os.fsencode(index)).hexdigest()[:16])
    fd, fresh = tempfile.mkstemp(dir=_home())  # threads may copy at once: each its own
    os.close(fd)
    try:
        shutil.copyfile(index, fresh)
        if index_key(index) != key:  # git wrote it meanwhile: try again at the next call
            return None
        try:
            _clear_flags(root, fresh)
        except GitError:  # an index git cannot read: status says so, in its own words
            return None
        os.replace(fresh, path)
    finally:
        if os.path.exists(fresh):
            os.unlink(fresh)
    _COPIES[index] = _Copy(key, path)
    return path


def forget(index: str) -> None:
    """Make the copy again at the next call (git could not use it)."""
    _COPIES.pop(index, None)


def _clear_flags(root: str, path: str) -> None:
    """Clear assume-unchanged (and, outside sparse checkouts, skip-worktree) flags."""
    listing = git.check(root, "ls-files", "-v", "-z", index=path).split(b"\0")
    assumed = [e[2:] for e in listing if e[:1].islower()]
    skipped = [e[2:] for e in listing if e[:1] == b"S"]
    if skipped and _sparse(root):
        skipped = []
    for flag, paths in (("--no-assume-unchanged", assumed), ("--no-skip-worktree", skipped)):
        if paths:  # one flag per command: update-index applies only the first it is given
            stdin = b"\0".join(paths) + b"\0"
            git.check(root, "update-index", "-z", flag, "--stdin", stdin=stdin, index=path)


def _sparse(root: str) -> bool:
    out = git.run(root, "config", "--bool", "core.sparseCheckout").stdout
    return out.strip() == b"true"


@functools.cache
def _home() -> str:
    """This process's private directory, removed when it exits: in memory where the
    system has such a place (git takes and drops a lock file there at every status)."""
    import atexit
    import shutil
    import tempfile

    for memory in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if memory and os.path.isdir(memory) and os.access(memory, os.W_OK | os.X_OK):
            try:
                home = tempfile.mkdtemp(prefix="taggedartifacts-index-", dir=memory)
                break
            except OSError:
                continue
    else:
        home = tempfile.mkdtemp(prefix="taggedartifacts-index-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return home
