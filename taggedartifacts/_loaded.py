"""Code that ran: the source files this process has loaded, whether or not git shows them.

Two ways code that ran can differ from what a commit holds, both counted as changes:

- *Untracked code.* A committed ``step2.py`` that imports ``helpers.py``, never
  added, ran code no commit holds. Every source file loaded into the process
  (the ``__main__`` script, every module in ``sys.modules``, each decorated
  function's own file) that lies in the work tree where git neither tracks nor
  ignores it counts; so does one inside an untracked nested repository (as the
  whole directory), or untracked inside a submodule. Files of installed
  packages (``site-packages``, ``dist-packages``) and the standard library never
  count; ignored files (a virtualenv inside the repository, a generated
  ``_version.py``) do not either. Only the repository's ``.gitignore`` files say
  what is ignored, never a clone's own ``.git/info/exclude``.
- *Stale code.* A module edited (and perhaps committed) after it was imported
  still runs its old code. Each loaded file's stat data and digest are noted
  when it is first seen; a file that changed since is reported, with the digest
  of what ran.

A call costs one ``stat`` per loaded file of the work tree in steady state:
modules loaded since the last look are examined, and git is asked again only
when those, or the index, change.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from typing import NamedTuple

from . import _git as git
from ._fingerprint import content_digest

__all__ = ["Loaded", "add_source", "loaded_changes"]


class _Seen(NamedTuple):
    key: tuple[int, int, int, int]  # size, mtime, ctime, inode when first seen
    digest: bytes  # what ran (``content_digest``)


class Loaded(NamedTuple):
    """What the loaded code of a work tree shows, as paths relative to its root."""

    untracked: tuple[str, ...]  # loaded, but neither tracked nor ignored ("dir/" for a repo)
    stale: tuple[tuple[str, bytes], ...]  # changed on disk since loaded, and what ran


_FILES: dict[str, _Seen] = {}  # real paths of loaded source files outside installed packages
_LOOKED: set[str] = set()  # every path looked at, as modules spell it
_MODULES: list[tuple[int, str]] = [(0, "")]  # sys.modules at the last look: length, newest
_GENERATION = [0]  # changes to _FILES, so that answers know when they are out of date
_LOCK = threading.Lock()  # threads may call at once: the look and the answers are shared


class _Answer(NamedTuple):
    key: object  # the index's stat data and the _FILES generation it was computed for
    untracked: tuple[str, ...]
    mine: tuple[str, ...]  # the loaded files of this work tree, to check for staleness


_ANSWERS: dict[str, _Answer] = {}  # work tree root -> its answer


def add_source(path: str) -> None:
    """Count ``path`` (a decorated function's file, whatever imported it) as code that ran,
    as it is now: the function is being decorated, so its module has just been run."""
    with _LOCK:
        seen = _FILES.get(os.path.realpath(path))
        if seen is not None and seen.key == _stat_key(os.path.realpath(path)):
            return  # decorated again (a function made in a loop): nothing new
        _LOOKED.discard(path)
        _FILES.pop(os.path.realpath(path), None)
        _add(path)


def loaded_changes(root: str, index_key: object) -> Loaded:
    """Untracked and stale loaded code in the work tree at ``root``.

    :param index_key: the index's stat data: what git tracks changes only with it.
    """
    with _LOCK:
        modules = sys.modules
        # Length and newest name: a module popped and another imported still shows.
        now = (len(modules), next(reversed(modules.keys()), ""))
        if now != _MODULES[0]:
            _look()
            _MODULES[0] = now
        key = (index_key, _GENERATION[0])
        answer = _ANSWERS.get(root)
        if answer is None or answer.key != key:
            mine = tuple(sorted(f for f in _FILES if f.startswith(root + os.sep)))
            answer = _ANSWERS[root] = _Answer(key, _ask_git(root, mine), mine)
        seen = {f: _FILES[f] for f in answer.mine}
    stale = tuple(
        (os.path.relpath(f, root), old.digest)
        for f, old in seen.items()
        if _stat_key(f) != old.key and content_digest(os.fsencode(f)) != old.digest
    )
    return Loaded(answer.untracked, stale)


def _look() -> None:
    """Add the files of modules loaded since the last look."""
    for module in list(sys.modules.values()):  # a copy: another thread may import meanwhile
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
    if real in _FILES or _installed(real) or not os.path.isfile(real):
        return
    _FILES[real] = _Seen(_stat_key(real), content_digest(os.fsencode(real)))
    _GENERATION[0] += 1


def _stat_key(path: str) -> tuple[int, int, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1, -1, -1)  # gone: certainly not what ran
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _installed(path: str) -> bool:
    """A file of an installed package or of the standard library: never the user's code.

    Not everything under ``sys.prefix``: a repository may live in ``/usr/src``.
    """
    if path.startswith(_standard_library()):
        return True
    parts = path.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts


@functools.cache
def _standard_library() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple({paths[k].rstrip(os.sep) + os.sep for k in ("stdlib", "platstdlib")})


def _ask_git(root: str, mine: tuple[str, ...]) -> tuple[str, ...]:
    """Of the loaded files of a work tree, those git neither tracks nor ignores: files of
    its own, an untracked nested repository (as ``dir/``), untracked files of a submodule."""
    own: list[str] = []
    nested: dict[str, list[str]] = {}
    for path in mine:
        owner = _owner(path, root)
        if owner == root:
            own.append(os.path.relpath(path, root))
        elif owner is not None:
            nested.setdefault(owner, []).append(path)
    found = set(_untracked(root, own))
    for inner, files in nested.items():
        prefix = os.path.relpath(inner, root)
        if _is_submodule(root, prefix):  # its commit is tracked; untracked files are not
            found.update(f"{prefix}/{p}" for p in _ask_git(inner, tuple(files)))
        elif _untracked(root, [prefix], directory=True):  # a repository git does not track
            found.add(prefix + "/")
    return tuple(sorted(found))


def _untracked(root: str, paths: list[str], *, directory: bool = False) -> list[str]:
    if not paths:
        return []
    # Only .gitignore files say what is ignored: a clone's .git/info/exclude is its own.
    args = [
        "--literal-pathspecs",
        "ls-files",
        "-z",
        "--others",
        "--exclude-per-directory=.gitignore",
    ]
    out = git.check(root, *args, *(["--directory"] if directory else []), "--", *paths)
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def _is_submodule(root: str, prefix: str) -> bool:
    out = git.check(root, "--literal-pathspecs", "ls-files", "-s", "--", prefix)
    return out.startswith(b"160000 ")


def _owner(path: str, root: str) -> str | None:
    """The work tree a file belongs to: a nested repository's files are not ``root``'s."""
    current = os.path.dirname(path)
    while current.startswith(root):
        if current == root or os.path.lexists(os.path.join(current, ".git")):
            return current
        current = os.path.dirname(current)
    return None
