"""Git state: the commit, whether the work tree is dirty, and a fingerprint of the changes;
read at every call, or once for a ``pinned()`` block.

A call costs one ``git status`` in steady state, clean or dirty. The first call
for a directory also asks git where its work tree is (``_git``); a new index
is copied once (see below); a dirty tree adds reading the changed files
that were not read before (``_fingerprint``).

``--ignore-submodules=none``: a changed submodule is dirty even where the
user's config says to ignore submodules. Everything else git is told is fixed
by :mod:`._git`.

The private index
-----------------

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

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from . import _git as git
from ._errors import GitError, NotAGitRepositoryError
from ._fingerprint import (
    Change,
    Remembered,
    content_digest,
    fingerprint_of,
    notebook_digest,
    remembered,
    unchanged,
)
from ._git import find_work_tree, locate
from ._loaded import loaded_changes
from ._locks import FileLock
from ._log import logger
from ._notebook import committed_code, is_notebook
from ._scope import Scope, check_depends_on, check_paths, code_key
from ._tagging import is_output

ENV_COMMIT = "TAGGEDARTIFACTS_COMMIT"
_SHA = re.compile(r"[0-9a-fA-F]{7,40}\Z")
IndexKey = tuple[int, int, int, int]  # an index file's stat data: inode, size, mtime, ctime


class GitState(NamedTuple):
    """What a name is made of: the commit (or a scope's content key) and, when dirty, a
    fingerprint of the changes.

    :ivar commit: the HEAD commit (40 hex; as given when it comes from
        ``TAGGEDARTIFACTS_COMMIT``).
    :ivar dirty: whether tracked files (or, when asked, untracked ones) differ from HEAD.
    :ivar diff: hex fingerprint of the changes, or None when clean.
    :ivar root: the work tree's top directory, or None when the commit came from the environment.
    :ivar changed: the changed paths relative to ``root``.
    :ivar untracked_code: those of ``changed`` that are source files this process
        loaded (imported, or ran as a script) which git cannot vouch for.
    :ivar code: with ``depends_on``, the content key of the scope's code at HEAD (64
        hex), which names carry instead of the commit; else None.
    :ivar scope: the ``depends_on`` paths that ``code``, ``dirty`` and ``diff``
        describe; empty for the whole work tree.
    :ivar stale_code: those of ``changed`` that this process loaded and that changed
        on disk since: the code that ran is no longer what the files hold.
    """

    commit: str
    dirty: bool
    diff: str | None
    root: str | None = None
    changed: tuple[str, ...] = ()
    untracked_code: tuple[str, ...] = ()
    code: str | None = None
    scope: tuple[str, ...] = ()
    stale_code: tuple[str, ...] = ()


def git_state(
    repo: str | os.PathLike[str] | None = None,
    *,
    untracked: bool = False,
    depends_on: Sequence[str] | None = None,
) -> GitState:
    """Read the current git state of a work tree.

    :param repo: a directory inside the work tree; None means the current directory.
    :param untracked: count untracked (not ignored) files as changes.
    :param depends_on: only these paths (relative to the work tree's root) are the
        code: ``code`` is their content key, and only changes inside them count (see
        :class:`~taggedartifacts.Artifact`).
    :raises NotAGitRepositoryError: when there is no work tree there and
        ``TAGGEDARTIFACTS_COMMIT`` is not set.
    :raises GitError: when git is missing, the repository has no commit, or git fails.
    :raises InvalidArgumentError: for ``depends_on`` paths outside the work tree or
        that name nothing tracked.
    """
    where = os.path.abspath(os.fspath(repo)) if repo is not None else os.getcwd()
    paths = check_depends_on(depends_on)
    scope = Scope(paths, ()) if paths is not None else None
    return read_state((where,), untracked=untracked, scope=scope)


def read_state(
    candidates: tuple[str | None, ...],
    *,
    untracked: bool,
    fingerprint: bool = True,
    scope: Scope | None = None,
) -> GitState:
    """The state of the first candidate directory that is inside a work tree.

    None stands for the current directory, looked up only when it is reached.
    Without any work tree, the commit comes from ``TAGGEDARTIFACTS_COMMIT``.

    :param fingerprint: compute the dirty fingerprint (a call about to be refused
        needs only the changed paths, so it reads no file).
    :param scope: only these paths are the code (``depends_on``); None: the whole tree.
    """
    found = find_work_tree(candidates)
    if found is None:
        return from_environment(candidates, scope)
    return status(found.root, untracked=untracked, fingerprint=fingerprint, scope=scope)


def from_environment(candidates: tuple[str | None, ...], scope: Scope | None = None) -> GitState:
    """The clean state ``TAGGEDARTIFACTS_COMMIT`` names, where there is no work tree.

    :raises NotAGitRepositoryError: also with a ``depends_on`` scope, whose content key
        only git's objects can give.
    """
    searched = tuple(os.getcwd() if d is None else d for d in candidates)
    value = os.environ.get(ENV_COMMIT, "").strip()
    looked = ", ".join(searched)
    if value and scope is not None:
        raise NotAGitRepositoryError(
            f"no git work tree found at or above {looked}, and depends_on names the code by "
            f"the content git holds for its paths, which {ENV_COMMIT} cannot give; run in a "
            "checkout (a shallow clone will do), or leave depends_on out where there is none",
            searched,
        )
    if not value:
        raise NotAGitRepositoryError(
            f"no git work tree found at or above {looked}; run inside a git checkout, pass "
            f"repo=, or set {ENV_COMMIT}=<commit sha> where there is no .git "
            "(Docker images, CI artifacts)",
            searched,
        )
    if not _SHA.match(value):
        raise NotAGitRepositoryError(
            f"{ENV_COMMIT}={value!r} is not a commit sha; set it to 7 to 40 hex characters",
            searched,
        )
    logger().debug("no work tree at %s; using %s=%s", looked, ENV_COMMIT, value)
    return GitState(commit=value.lower(), dirty=False, diff=None)


def status(
    root: str, *, untracked: bool, fingerprint: bool = True, scope: Scope | None = None
) -> GitState:
    """The state of the work tree at ``root``: one ``git status`` in steady state.

    Code that this process loaded and git cannot vouch for counts as a change (see
    ``_loaded``). With a ``scope``, only changes inside it count, untracked files
    inside it always do (except what this package writes), and ``code`` is its
    content key.
    """
    location = locate(root)
    key = index_key(location.index_file)
    pathspecs = scope.for_root(root) if scope is not None else ()
    listing = untracked or scope is not None  # untracked files in a scope always count
    memo = _MEMOS.get((root, pathspecs, untracked, fingerprint))
    still = _checking(memo.files if memo is not None else ())  # asked while git runs
    try:
        out = _run_status(root, location.index_file, key, listing, pathspecs)
    except GitError:
        if scope is not None:  # a depends_on path outside the work tree, say: name it
            check_paths(root, scope)
        raise
    loaded = _loaded_code(root, key, scope)
    # The same answer of git, the same loaded code, and every changed file as it was when
    # its bytes were read (stat data the racy rule lets us trust): the same state.
    if memo is not None and (memo.out, memo.loaded) == (out, loaded) and still():
        return memo.state
    state, read = _state_of(root, out, loaded, listing, untracked, fingerprint, scope)
    files = remembered(root, read) if state.diff is not None or not state.dirty else None
    if files is not None:
        if len(_MEMOS) >= 64:  # bounded: a session may visit many work trees and scopes
            _MEMOS.clear()
        _MEMOS[(root, pathspecs, untracked, fingerprint)] = _Memo(out, loaded, files, state)
    return state


def _checking(files: Remembered) -> Callable[[], bool]:
    """A function that says whether the remembered files still have their stat data.

    Thousands of them (``untracked=True`` beside a data directory) are checked in a
    thread started now, while git runs: their lstats cost about twice git's own
    listing, and the two then run side by side (20,000 untracked files on 2 cores:
    59 to 72 ms a repeated call, against 82 to 91 ms one after the other).
    """
    if len(files) < 1000:  # a thread's start would cost more than the lstats it saves
        return lambda: unchanged(files)
    answer: list[bool] = []
    thread = threading.Thread(target=lambda: answer.append(unchanged(files)), daemon=True)
    thread.start()

    def joined() -> bool:
        thread.join()
        return answer == [True]  # False also when the thread failed

    return joined


class _Memo(NamedTuple):
    out: bytes  # what git status printed
    loaded: tuple[tuple[str, ...], tuple[str, ...], list[Change]]  # see _loaded_code
    files: Remembered  # each changed file's path and stat data
    state: GitState


_MEMOS: dict[tuple[str, tuple[str, ...], bool, bool], _Memo] = {}


def _state_of(
    root: str,
    out: bytes,
    loaded: tuple[tuple[str, ...], tuple[str, ...], list[Change]],
    listing: bool,
    untracked: bool,
    fingerprint: bool,
    scope: Scope | None,
) -> tuple[GitState, list[Change]]:
    """The state git's answer ``out`` and the loaded code show, and the changes whose
    files were read to decide it."""
    head, listed = _parse_status(out, listing)
    if head is None:
        raise GitError(
            f"the repository at {root} has no commit yet; make a first commit "
            "so that names have a commit to refer to"
        )
    code, stale, ran = loaded
    ours = {c.path for c in ran}  # what this process loaded: hashed as it ran
    read = [c for c in listed if c.path not in ours and not _written_by_us(c)] + ran
    changes = [c for c in read if not _same_notebook_code(root, c)]
    state = GitState(commit=head, dirty=False, diff=None, root=root)
    if scope is not None:
        state = state._replace(code=code_key(root, head, scope, listed), scope=scope.pathspecs)
    if not changes:
        return state, read
    return state._replace(
        dirty=True,
        diff=fingerprint_of(root, changes, _submodule_digest, untracked) if fingerprint else None,
        changed=tuple(sorted({os.fsdecode(c.path).rstrip("/") for c in changes})),
        untracked_code=code,
        stale_code=stale,
    ), read


def _written_by_us(change: Change) -> bool:
    """An untracked file this package wrote (an artifact, a record, a private build
    directory, kept output): never a change of the code."""
    return change.head == b"untracked" and is_output(os.fsdecode(change.path))


def loaded_code(root: str, scope: Scope | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The loaded code of the work tree at ``root`` (in the scope) that git cannot vouch
    for, untracked and stale: no git status, and no git call at all in steady state."""
    code, stale, _ = _loaded_code(root, index_key(locate(root).index_file), scope)
    return code, stale


def _loaded_code(
    root: str, key: IndexKey | None, scope: Scope | None
) -> tuple[tuple[str, ...], tuple[str, ...], list[Change]]:
    """Loaded code of the work tree (in the scope) that git cannot vouch for: untracked
    (or linked to what git does not track), and stale; and their changes."""
    loaded = loaded_changes(root, key)
    code = tuple(p for p in loaded.untracked if scope is None or scope.covers(p.rstrip("/"), root))
    stale = tuple((p, ran) for p, ran in loaded.stale if scope is None or scope.covers(p, root))
    changes = [Change(os.fsencode(p), _what_ran(root, p), False) for p in code]
    changes += [Change(os.fsencode(p), b"loaded " + ran, False) for p, ran in stale]
    return code, tuple(p for p, _ in stale), changes


def _what_ran(root: str, path: str) -> bytes:
    """What the fingerprint says of untracked code: for a file reached through a link,
    the bytes of the file it leads to (the link itself is only a name)."""
    full = os.path.join(root, path)
    real = os.path.realpath(full)
    if real == os.path.abspath(full):
        return b"untracked"
    return b"linked " + content_digest(os.fsencode(real))


def _run_status(
    root: str, index: str, key: IndexKey | None, untracked: bool, pathspecs: tuple[str, ...]
) -> bytes:
    args = (
        "status",
        "--porcelain=v2",
        "--branch",
        "-z",
        "--no-renames",
        "--no-ahead-behind",
        "--ignore-submodules=none",
        "--untracked-files=" + ("all" if untracked else "no"),
        "--",
        *pathspecs,
    )
    private = private_index(root, index, key) if key is not None else None
    if private is not None:
        try:
            return git.check(root, *args, index=private)
        except GitError:  # our copy is gone or unreadable: the real index, read-only
            forget(index)
    return git.check(root, *args)


def _same_notebook_code(root: str, change: Change) -> bool:
    """Whether a changed tracked notebook holds HEAD's code: then only its outputs or
    metadata changed (an autosave), which is no change to the code."""
    if change.head == b"untracked" or not is_notebook(change.path) or change.submodule:
        return False
    modes_and_blob = change.head.split(b" ")
    if len(modes_and_blob) != 3 or modes_and_blob[0] != modes_and_blob[1]:
        return False  # untracked, unmerged, or a staged mode change
    blob = modes_and_blob[2].decode()
    committed = committed_code(root, blob) if blob.strip("0") else None
    if committed is None:
        return False
    full = os.path.join(os.fsencode(root), change.path)
    return content_digest(full) == b"file " + notebook_digest(committed)


def _submodule_digest(path: str, untracked: bool) -> bytes:
    # Without its own .git, git would answer for the superproject instead.
    if not os.path.lexists(os.path.join(path, ".git")):
        return b"submodule missing"
    state = status(path, untracked=untracked)
    return f"submodule {state.commit} {state.diff}".encode()


def _parse_status(out: bytes, untracked: bool) -> tuple[str | None, list[Change]]:
    commit: str | None = None
    changes: list[Change] = []
    for record in out.split(b"\0"):
        kind = record[:2]
        if kind == b"# ":
            if record.startswith(b"# branch.oid "):
                oid = record[len(b"# branch.oid ") :].decode()
                commit = None if oid == "(initial)" else oid
        elif kind == b"1 ":
            # 1 XY sub mH mI mW hH hI path: HEAD's and the index's modes, HEAD's blob.
            fields = record.split(b" ", 8)
            xy, sub = fields[1], fields[2]
            if sub.startswith(b"S") and xy == b".M" and sub[1:3] == b".." and not untracked:
                continue  # only untracked files inside a submodule
            head = b" ".join((fields[3], fields[4], fields[6]))
            differs = xy[:1] != b"." or not fields[6].strip(b"0")  # staged, or not at HEAD
            changes.append(Change(fields[8], head, sub.startswith(b"S"), differs))
        elif kind == b"u ":
            # u XY sub m1 m2 m3 mW h1 h2 h3 path
            fields = record.split(b" ", 10)
            head = b"unmerged " + b" ".join(fields[3:6] + fields[7:10])
            changes.append(Change(fields[10], head, fields[2].startswith(b"S"), True))
        elif kind == b"? " and untracked:
            changes.append(Change(record[2:], b"untracked", False))
    return commit, changes


# pinned(): the state read once for a block of calls.


class _Pin:
    """The state of one work tree, read once for a ``pinned()`` block (once per
    ``untracked`` and ``depends_on`` setting that calls inside it use)."""

    def __init__(self, root: str, state: GitState) -> None:
        self.root = root
        self.states: dict[tuple[bool, Scope | None], GitState] = {(False, None): state}
        self.roots: dict[str, str | None] = {}  # a directory -> its work tree's root

    def state(self, untracked: bool, scope: Scope | None) -> GitState:
        key = (untracked, scope)
        if key not in self.states:
            self.states[key] = status(self.root, untracked=untracked, scope=scope)
        return self.states[key]


# The pins of the enclosing pinned() blocks, innermost last. A ContextVar, so threads
# and asyncio tasks each see their own blocks.
_PINS: ContextVar[tuple[_Pin, ...]] = ContextVar("taggedartifacts_pins", default=())


@contextmanager
def pinned(repo: str | os.PathLike[str] | None = None) -> Iterator[GitState]:
    """Read the git state of a work tree once and reuse it for every decorated call inside.

    For loops that write thousands of small artifacts: each call then costs
    microseconds instead of a ``git status``. The trade: an edit or a commit
    made inside the block is not seen, so names keep the state from its start.
    Calls for other work trees read their own state as usual. Blocks nest, and
    each thread and asyncio task sees only its own blocks.

    :param repo: a directory in the work tree; None means the current directory.
    :raises NotAGitRepositoryError: as :func:`git_state` does.
    :return: the pinned state, as the ``with`` target.
    """
    where = os.path.abspath(os.fspath(repo)) if repo is not None else os.getcwd()
    found = find_work_tree((where,))
    if found is None:  # the state comes from TAGGEDARTIFACTS_COMMIT; nothing to pin
        yield from_environment((where,))
        return
    state = status(found.root, untracked=False)
    token = _PINS.set((*_PINS.get(), _Pin(found.root, state)))
    try:
        yield state
    finally:
        _PINS.reset(token)


def pinned_state(
    candidates: tuple[str | None, ...], *, untracked: bool, scope: Scope | None = None
) -> GitState | None:
    """The state a ``pinned()`` block holds for a call's work tree; None when no block
    of this thread or task covers it. None among ``candidates`` is the current directory."""
    pins = _PINS.get()
    if not pins:
        return None
    roots = pins[-1].roots
    for directory in candidates:  # as find_work_tree looks: the current directory last
        where = os.getcwd() if directory is None else directory
        if where not in roots:
            found = find_work_tree((where,))
            roots[where] = found.root if found is not None else None
        root = roots[where]
        if root is not None:
            break
    else:
        return from_environment(candidates, scope)
    for pin in reversed(pins):
        if pin.root == root:
            return pin.state(untracked, scope)
    return None


# The private index: see the module docstring.


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
        # With its time: git trusts an entry's stat data only when the entry is older than
        # the index file, so a copy with a new time would pass an edit made in the second of
        # the last commit (same size) for clean.
        shutil.copy2(index, fresh)
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


def _home() -> str:
    """This process's private directory, removed when it exits: in memory where the
    system has such a place (git takes and drops a lock file there at every status).

    The process holds a lock in it for its whole life, so that directories of
    processes killed before they could remove theirs are known and swept here.
    """
    with _HOME_GUARD:  # one per process, whichever thread asks first
        if not _HOME:
            _HOME.append(_make_home())
        return _HOME[0]


def _make_home() -> str:
    import atexit
    import shutil
    import tempfile

    for memory in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm", None):
        if memory is not None and not (os.path.isdir(memory) and os.access(memory, os.W_OK)):
            continue
        try:  # locked before it takes a name that sweeping looks at
            making = tempfile.mkdtemp(prefix=".taggedartifacts-making-", dir=memory)
            lock = FileLock(os.path.join(making, "owner.lock"))
            lock.acquire()
            home = os.path.join(os.path.dirname(making), _HOME_PREFIX + making[-8:])
            os.rename(making, home)
        except OSError:
            continue
        lock.path = os.path.join(home, "owner.lock")
        _HOME_LOCK.append(lock)
        _sweep_homes(os.path.dirname(home))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        return home
    raise GitError("no directory for a private index: the temporary directory is not writable")


_HOME_PREFIX = "taggedartifacts-index-"
_HOME_LOCK: list[FileLock] = []  # held while this process lives
_HOME: list[str] = []
_HOME_GUARD = threading.Lock()


def _sweep_homes(parent: str) -> None:
    """Remove the private directories of this user's processes that are gone: their lock
    can be taken (one without a lock is a day old at least)."""
    import shutil
    import time

    for entry in os.scandir(parent):
        if not entry.name.startswith(_HOME_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_uid != getattr(os, "geteuid", lambda: 0)():
            continue  # another user's: theirs to sweep
        lock = FileLock(os.path.join(entry.path, "owner.lock"))
        if not os.path.lexists(lock.path):  # made before directories had a lock
            if time.time() - entry.stat().st_mtime > 24 * 3600:
                shutil.rmtree(entry.path, ignore_errors=True)
        elif lock.acquire(blocking=False):  # its owner is gone
            shutil.rmtree(entry.path, ignore_errors=True)
            lock.release()
