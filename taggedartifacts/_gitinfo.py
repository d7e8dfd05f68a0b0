"""Git state: the commit, whether the work tree is dirty, and a fingerprint of the changes.

A call costs one ``git status`` in steady state. The first call for a directory
also asks git where its work tree's top is (cached for the process); a dirty
tree adds reading the changed files (see :mod:`._fingerprint`).

``--ignore-submodules=none``: a changed submodule is dirty even where the
user's config says to ignore submodules. Everything else git is told is fixed
by :mod:`._git`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import NamedTuple

from . import _git as git
from ._errors import GitError, NotAGitRepositoryError
from ._fingerprint import Change, fingerprint
from ._log import logger

__all__ = ["ENV_COMMIT", "GitState", "find_work_tree", "git_state", "read_state", "status"]

ENV_COMMIT = "TAGGEDARTIFACTS_COMMIT"
_SHA = re.compile(r"[0-9a-fA-F]{7,40}\Z")


class GitState(NamedTuple):
    """What a name is made of: the commit and, when dirty, a fingerprint of the changes.

    :ivar commit: the HEAD commit (40 hex; as given when it comes from
        ``TAGGEDARTIFACTS_COMMIT``).
    :ivar dirty: whether tracked files (or, when asked, untracked ones) differ from HEAD.
    :ivar diff: hex fingerprint of the changes, or None when clean.
    :ivar root: the work tree's top directory, or None when the commit came from the environment.
    :ivar changed: the changed paths relative to ``root``.
    """

    commit: str
    dirty: bool
    diff: str | None
    root: str | None = None
    changed: tuple[str, ...] = ()


def git_state(repo: str | os.PathLike[str] | None = None, *, untracked: bool = False) -> GitState:
    """Read the current git state of a work tree.

    :param repo: a directory inside the work tree; None means the current directory.
    :param untracked: count untracked (not ignored) files as changes.
    :raises NotAGitRepositoryError: when there is no work tree there and
        ``TAGGEDARTIFACTS_COMMIT`` is not set.
    :raises GitError: when git is missing, the repository has no commit, or git fails.
    """
    where = os.path.abspath(os.fspath(repo)) if repo is not None else os.getcwd()
    return read_state((where,), untracked=untracked)


def read_state(candidates: tuple[str | None, ...], *, untracked: bool) -> GitState:
    """The state of the first candidate directory that is inside a work tree.

    None stands for the current directory, looked up only when it is reached.
    Without any work tree, the commit comes from ``TAGGEDARTIFACTS_COMMIT``.
    """
    root = find_work_tree(candidates)
    if root is None:
        return from_environment(candidates)
    return status(root, untracked=untracked)


def find_work_tree(candidates: tuple[str | None, ...]) -> str | None:
    """The top directory of the work tree holding the first candidate that is in one.

    A ``.git`` that git cannot read raises: never a silent fallback to the next candidate.
    """
    for directory in candidates:
        directory = os.getcwd() if directory is None else directory
        dotgit = _nearest_dotgit(directory)
        if dotgit is not None:
            return _toplevel(directory, dotgit)
    return None


def _nearest_dotgit(directory: str) -> str | None:
    """The nearest ``.git`` at or above ``directory``: spares a git call where there is none."""
    current = directory
    while True:
        dotgit = os.path.join(current, ".git")
        if os.path.lexists(dotgit):
            return dotgit
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


# (directory, the .git found above it) -> the work tree's top, as git says: a stray .git
# that git skips (an empty directory) must not decide what the root is.
_TOPLEVELS: dict[tuple[str, str], str] = {}


def _toplevel(directory: str, dotgit: str) -> str:
    key = (directory, dotgit)
    root = _TOPLEVELS.get(key)
    if root is None:
        proc = git.run(directory, "rev-parse", "--show-toplevel")
        if proc.returncode != 0:
            proc = git.run(directory, "rev-parse", "--show-toplevel", stderr=True)
            message = git.message(proc)
            if "not a git repository" in message:  # there is a .git, but git cannot use it
                message += (
                    "; repair it (a moved linked worktree: git worktree repair) or pass repo= "
                    "with a work tree git can read"
                )
            raise GitError(f"git cannot read the repository at {directory}: {message}")
        root = os.fsdecode(proc.stdout.rstrip(b"\n"))
        if len(_TOPLEVELS) > 1024:  # bounded: a long session may visit many directories
            _TOPLEVELS.clear()
        _TOPLEVELS[key] = root
    return root


def from_environment(candidates: tuple[str | None, ...]) -> GitState:
    """The clean state ``TAGGEDARTIFACTS_COMMIT`` names, where there is no work tree."""
    searched = tuple(os.getcwd() if d is None else d for d in candidates)
    value = os.environ.get(ENV_COMMIT, "").strip()
    looked = ", ".join(searched)
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


def status(root: str, *, untracked: bool) -> GitState:
    """The state of the work tree at ``root``: one ``git status``, plus reading what changed."""
    out = git.check(
        root,
        "status",
        "--porcelain=v2",
        "--branch",
        "-z",
        "--no-renames",
        "--no-ahead-behind",
        "--ignore-submodules=none",
        "--untracked-files=" + ("all" if untracked else "no"),
    )
    commit, changes = _parse_status(out, untracked=untracked)
    if commit is None:
        raise GitError(
            f"the repository at {root} has no commit yet; make a first commit "
            "so that names have a commit to refer to"
        )
    if not changes:
        return GitState(commit=commit, dirty=False, diff=None, root=root)
    return GitState(
        commit=commit,
        dirty=True,
        diff=fingerprint(root, changes, submodule=_submodule_digest(untracked)),
        root=root,
        changed=tuple(sorted(os.fsdecode(c.path) for c in changes)),
    )


def _submodule_digest(untracked: bool) -> Callable[[str], bytes]:
    def digest(path: str) -> bytes:
        # Without its own .git, git would answer for the superproject instead.
        if not os.path.lexists(os.path.join(path, ".git")):
            return b"submodule missing None"
        state = status(path, untracked=untracked)
        return f"submodule {state.commit} {state.diff}".encode()

    return digest


def _parse_status(out: bytes, *, untracked: bool) -> tuple[str | None, list[Change]]:
    commit: str | None = None
    changes: list[Change] = []
    for record in out.split(b"\0"):
        kind = record[:2]
        if kind == b"# ":
            if record.startswith(b"# branch.oid "):
                oid = record[len(b"# branch.oid ") :].decode()
                commit = None if oid == "(initial)" else oid
        elif kind == b"1 ":
            # 1 XY sub mH mI mW hH hI path
            fields = record.split(b" ", 8)
            xy, sub = fields[1], fields[2]
            if sub.startswith(b"S") and xy == b".M" and sub[1:3] == b".." and not untracked:
                continue  # only untracked files inside a submodule
            changes.append(Change(fields[8], fields[3] + b" " + fields[6], sub.startswith(b"S")))
        elif kind == b"u ":
            # u XY sub m1 m2 m3 mW h1 h2 h3 path
            fields = record.split(b" ", 10)
            head = b"unmerged " + b" ".join(fields[7:10])
            changes.append(Change(fields[10], head, fields[2].startswith(b"S")))
        elif kind == b"? " and untracked:
            changes.append(Change(record[2:], b"untracked", False))
    return commit, changes
