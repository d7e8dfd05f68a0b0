"""Where a work tree is: its top directory and its index file, as git itself says.

The nearest ``.git`` above a directory (no further up than
``GIT_CEILING_DIRECTORIES`` allows, as git searches) spares a git call where
there is no repository at all; where there is one, git names the top of the
work tree, so a stray ``.git`` that git skips (an empty directory) never
decides it. The answer is kept for the process.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from . import _git as git
from ._errors import GitError

__all__ = ["Location", "find_work_tree", "locate"]


class Location(NamedTuple):
    """A work tree: its top directory, and the index file git uses for it."""

    root: str
    index_file: str


def find_work_tree(candidates: tuple[str | None, ...]) -> Location | None:
    """The work tree holding the first candidate directory that is in one.

    None among ``candidates`` stands for the current directory. A ``.git`` that
    git cannot read raises: never a silent fallback to the next candidate.
    """
    for directory in candidates:
        directory = os.getcwd() if directory is None else directory
        dotgit = _nearest_dotgit(directory)
        if dotgit is not None:
            return locate(directory, dotgit)
    return None


def _nearest_dotgit(directory: str) -> str | None:
    ceilings = _ceilings()
    current = directory
    while True:
        dotgit = os.path.join(current, ".git")
        if os.path.lexists(dotgit):
            return dotgit
        parent = os.path.dirname(current)
        if parent == current or parent in ceilings:
            return None
        current = parent


def _ceilings() -> set[str]:
    """``GIT_CEILING_DIRECTORIES``: directories git does not move up into while searching."""
    value = os.environ.get("GIT_CEILING_DIRECTORIES")
    if not value:
        return set()
    entries = [c for c in value.split(os.pathsep) if os.path.isabs(c)]
    return {os.path.normpath(c) for c in entries} | {os.path.realpath(c) for c in entries}


# (directory, the .git found above it) -> where git says its work tree is.
_LOCATIONS: dict[tuple[str, str], Location] = {}


def locate(directory: str, dotgit: str | None = None) -> Location:
    """The work tree of ``directory``, whose nearest ``.git`` is ``dotgit``.

    :raises GitError: when git cannot read that repository, saying what to do.
    """
    key = (directory, dotgit or os.path.join(directory, ".git"))
    found = _LOCATIONS.get(key)
    if found is None:
        args = ("rev-parse", "--show-toplevel", "--git-path", "index")
        proc = git.run(directory, *args)
        if proc.returncode != 0:
            message = git.message(git.run(directory, *args, stderr=True))
            if "not a git repository" in message:  # there is a .git, but git cannot use it
                message += (
                    "; repair it (a moved linked worktree: git worktree repair) or pass repo= "
                    "with a work tree git can read"
                )
            raise GitError(f"git cannot read the repository at {directory}: {message}")
        root, index = os.fsdecode(proc.stdout).splitlines()[:2]
        found = Location(root, os.path.join(directory, index))
        if len(_LOCATIONS) > 1024:  # bounded: a long session may visit many directories
            _LOCATIONS.clear()
        _LOCATIONS[key] = found
    return found
