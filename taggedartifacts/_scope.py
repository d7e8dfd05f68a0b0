"""Code scope (``depends_on``): which commit a name carries when only some paths are code.

With a scope, the name carries the newest commit whose content at the scope's
paths is exactly HEAD's: the last commit that changed the scope, as
``git log -1 -- <scope>`` finds it, checked with ``git diff --quiet`` against
HEAD (with merges, history simplification alone is no proof); when the check
fails, HEAD itself. A commit that touches nothing in scope keeps every name,
and checking out the named commit gives the scope's code exactly.

The answer is kept per (work tree, HEAD, scope) for the process, so a call in
steady state costs nothing here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

from . import _git as git
from ._errors import GitError, InvalidArgumentError

__all__ = ["Scope", "check_depends_on", "check_paths", "scoped_commit"]


class Scope(NamedTuple):
    """What counts as the code of a call: pathspecs, plus files always in scope."""

    pathspecs: tuple[str, ...]  # relative to the work tree's root, as the user wrote them
    files: tuple[str, ...]  # absolute: the decorated function's own source file

    def covers(self, path: str, root: str) -> bool:
        """Whether a path relative to the work tree is in scope (pathspecs read as git
        reads plain paths and globs; other pathspec magic counts as covering)."""
        import fnmatch

        if any(path == os.path.relpath(f, root) for f in self.files):
            return True
        for spec in self.pathspecs:
            plain = spec.rstrip("/")
            if spec.startswith(":") or fnmatch.fnmatchcase(path, spec):
                return True
            if path == plain or path.startswith(plain + "/") or plain in ("", "."):
                return True
        return False

    def for_root(self, root: str) -> tuple[str, ...]:
        """The pathspecs git is given for the work tree at ``root``."""
        own = tuple(
            ":(literal)" + os.path.relpath(f, root)
            for f in self.files
            if f.startswith(root + os.sep)
        )
        return self.pathspecs + own


def check_depends_on(value: Sequence[str] | None) -> tuple[str, ...] | None:
    """``depends_on`` as a tuple; refuses what cannot be a list of paths (no git here)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(
            f"depends_on must be a list of paths relative to the work tree's root, "
            f"got {value!r}; for one path write depends_on=[{value!r}]"
        )
    if not value:
        raise InvalidArgumentError(
            "depends_on is empty: list the paths that hold the code (depends_on=['src/']), "
            "or leave it out to make the whole work tree the code"
        )
    for entry in value:
        if not isinstance(entry, str) or not entry.strip():
            raise InvalidArgumentError(f"depends_on holds {entry!r}; every entry must be a path")
    return tuple(value)


_COMMITS: dict[tuple[str, str, tuple[str, ...]], str] = {}


def scoped_commit(root: str, head: str, scope: Scope) -> str:
    """The commit whose content in ``scope`` is HEAD's and which last changed it."""
    pathspecs = scope.for_root(root)
    key = (root, head, pathspecs)
    found = _COMMITS.get(key)
    if found is None:
        last = git.check(root, "log", "-1", "--format=%H %P", head, "--", *pathspecs).split()
        found = last[0].decode() if last else head
        if len(last) == 1:  # no parents: the first commit, or where a shallow clone ends
            _refuse_shallow(root, found)
        if found != head:
            same = git.run(root, "diff", "--quiet", found, head, "--", *pathspecs).returncode
            found = found if same == 0 else head
        if len(_COMMITS) > 1024:  # bounded: every commit of a long session adds one
            _COMMITS.clear()
        _COMMITS[key] = found
    return found


def _refuse_shallow(root: str, commit: str) -> None:
    """A shallow clone's oldest commit is no proof that the scope last changed there: a
    full clone would name an older commit. Refuse, rather than give another name."""
    if git.check(root, "rev-parse", "--is-shallow-repository").strip() == b"true":
        raise GitError(
            f"the history of the depends_on paths in {root} reaches the start of this shallow "
            f"clone (commit {commit[:7]}), so which commit last changed them is not known "
            "here; fetch more history (git fetch --unshallow, or --deepen=N)"
        )


_CHECKED: set[tuple[str, tuple[str, ...]]] = set()


def check_paths(root: str, scope: Scope) -> None:
    """Each ``depends_on`` path must name something tracked inside the work tree
    (checked once per work tree and scope, before git is given them).

    :raises InvalidArgumentError: naming the first path that does not.
    """
    if (root, scope.pathspecs) in _CHECKED:
        return
    _check_tracked(root, scope.pathspecs)
    if len(_CHECKED) >= 1024:  # bounded, like every cache here
        _CHECKED.clear()
    _CHECKED.add((root, scope.pathspecs))


def _check_tracked(root: str, pathspecs: tuple[str, ...]) -> None:
    args = ("ls-files", "--error-unmatch", "-z", "--", *pathspecs)
    if git.run(root, *args).returncode == 0:
        return
    message = git.message(git.run(root, *args, stderr=True))
    for spec in pathspecs:
        if f"'{spec}'" in message:
            where = "is outside" if "outside" in message else "names nothing tracked in"
            raise InvalidArgumentError(
                f"depends_on names {spec!r}, which {where} the work tree at {root}; give "
                "paths relative to the work tree's root that git tracks (git ls-files lists them)"
            )
    raise InvalidArgumentError(f"depends_on: git cannot use these paths in {root}: {message}")
