"""Code that ran: the source files this process has loaded, whether or not git tracks them.

A committed ``step2.py`` that imports ``helpers.py``, never added, ran code no
commit holds. So every source file loaded into the process (the ``__main__``
script, every module in ``sys.modules``, each decorated function's own file)
that lies in a work tree, where git neither tracks nor ignores it, counts as an
uncommitted change. Files of installed packages (``site-packages``,
``dist-packages``) and of the interpreter itself never count; ignored files
(a virtualenv inside the repository, a generated ``_version.py``) do not either.

A call costs nothing here in steady state: only modules loaded since the last
look are examined, and git is asked again only when those, or the index, change.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import NamedTuple

from . import _git as git

__all__ = ["add_source", "untracked_code"]

_FILES: set[str] = set()  # real paths of loaded source files outside installed packages
_LOOKED: set[str] = set()  # every path looked at, as modules spell it
_SEEN = [0, 0]  # len(sys.modules) at the last look, and a count of changes to _FILES


class _Answer(NamedTuple):
    key: object  # the index's stat data and the _FILES change count it was computed for
    untracked: tuple[str, ...]


_ANSWERS: dict[str, _Answer] = {}  # work tree root -> its untracked loaded files


def add_source(path: str) -> None:
    """Count ``path`` (a decorated function's file, whatever imported it) as code that ran."""
    _add(path)


def untracked_code(root: str, index_key: object) -> tuple[str, ...]:
    """Loaded source files in the work tree at ``root`` that git neither tracks nor ignores,
    relative to ``root``, sorted.

    :param index_key: the index's stat data: what git tracks changes only with it.
    """
    if len(sys.modules) != _SEEN[0]:
        _look()
    key = (index_key, _SEEN[1])
    answer = _ANSWERS.get(root)
    if answer is None or answer.key != key:
        answer = _ANSWERS[root] = _Answer(key, _ask_git(root))
    return answer.untracked


def _look() -> None:
    """Add the files of modules loaded since the last look."""
    modules = list(sys.modules.values())  # a copy: another thread may import meanwhile
    _SEEN[0] = len(modules)
    for module in modules:
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            _add(path)


def _add(path: str) -> None:
    if path in _LOOKED:
        return
    _LOOKED.add(path)
    if _installed(path):  # most modules: decided without resolving links
        return
    real = os.path.realpath(path)  # git names the work tree by its real path too
    if not _installed(real) and real not in _FILES:
        _FILES.add(real)
        _SEEN[1] += 1


def _installed(path: str) -> bool:
    """A file of an installed package or of the interpreter: never the user's code."""
    if path.startswith(_prefixes()):
        return True
    parts = path.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts


@functools.cache
def _prefixes() -> tuple[str, ...]:
    return tuple(
        {p.rstrip(os.sep) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    )


def _ask_git(root: str) -> tuple[str, ...]:
    inside = sorted(
        os.path.relpath(f, root)
        for f in _FILES
        if f.startswith(root + os.sep) and _owner(f, root) == root
    )
    if not inside:
        return ()
    # Of the files given, those neither tracked nor ignored.
    out = git.check(
        root, "--literal-pathspecs", "ls-files", "-z", "--others", "--exclude-standard", "--",
        *inside,
    )  # fmt: skip
    return tuple(sorted(os.fsdecode(p) for p in out.split(b"\0") if p))


def _owner(path: str, root: str) -> str | None:
    """The work tree a file belongs to: a nested repository's files are not ``root``'s."""
    current = os.path.dirname(path)
    while current.startswith(root):
        if current == root or os.path.lexists(os.path.join(current, ".git")):
            return current
        current = os.path.dirname(current)
    return None
