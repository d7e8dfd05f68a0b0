"""Code scope (``depends_on``): the name carries the content of the scope's code.

With a scope, the code part of a name is a *content key*: the sha256 of git's
own object ids (mode and blob or commit) for every file the scope covers at
HEAD, sorted by path. It depends only on which files the scope covers and what
they hold, however the paths are spelled (``src/`` gives the key ``src`` and
``src/job.py`` give), so identical code gives the identical name at any commit,
on any branch, in any clone (a shallow one too): a revert, a cherry-pick, a
rebase or a squash merge keeps it. No call walks history.

git lists the files from the index (``ls-files``, which reads pathspecs and
globs as git does); where the index differs from HEAD inside the scope, git
status has already said what HEAD holds there, so the key is HEAD's either way.
A clean scope's key is kept per (work tree, HEAD, scope): in steady state a
call costs nothing here.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from . import _git as git
from ._errors import InvalidArgumentError
from ._fingerprint import Change
from ._loaded import installed


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
        inside = [f for f in self.files if f.startswith(root + os.sep)]
        return self.pathspecs + tuple(":(literal)" + os.path.relpath(f, root) for f in inside)


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


_KEYS: dict[tuple[str, str, tuple[str, ...]], str] = {}
_ZERO = b"0" * 40


def code_key(root: str, head: str, scope: Scope, changes: Iterable[Change]) -> str:
    """The content key of the scope's code at HEAD (see the module documentation).

    :param changes: what git status listed in the scope: where the index differs from
        HEAD, it says what HEAD holds.
    """
    pathspecs = scope.for_root(root)
    differs = [c for c in changes if c.index_differs]
    key = (root, head, pathspecs)
    if not differs and key in _KEYS:
        return _KEYS[key]
    listing = git.check(root, "ls-files", "-s", "-z", "--", *pathspecs)
    entries: dict[bytes, bytes] = {}  # path -> "mode object"
    listed: set[str] = set()
    for line in listing.split(b"\0"):
        if line:
            meta, path = line.split(b"\t", 1)
            mode, obj, stage = meta.split(b" ")
            listed.add(os.fsdecode(path))
            if stage == b"0":
                entries[path] = mode + b" " + obj
    check_paths(root, scope, listed)
    for change in differs:  # what HEAD holds where the index differs from it
        head_entry = _at_head(change)
        if head_entry is None:
            entries.pop(change.path, None)
        else:
            entries[change.path] = head_entry
    import hashlib

    digest = hashlib.sha256(b"taggedartifacts-code-v1\n")
    for path in sorted(entries):
        digest.update(entries[path] + b"\t" + path + b"\0")
    found = digest.hexdigest()
    if not differs:
        if len(_KEYS) > 1024:  # bounded: every commit of a long session adds one
            _KEYS.clear()
        _KEYS[key] = found
    return found


def _at_head(change: Change) -> bytes | None:
    """HEAD's mode and object for a path git status lists (None: HEAD has none)."""
    fields = change.head.split(b" ")
    if fields[0] == b"unmerged":  # unmerged m1 m2 m3 h1 h2 h3: stage 2 is HEAD's
        mode, obj = fields[2], fields[5]
    else:  # mH mI hH
        mode, obj = fields[0], fields[2]
    return None if obj == _ZERO else mode + b" " + obj


def reached(namespace: dict[str, Any], root: str) -> set[str]:
    """The files of the work tree at ``root`` that code in ``namespace`` (a function's
    globals) reaches: the modules its names come from, and theirs, as far as they are
    the work tree's own (installed packages are not followed)."""
    files: set[str] = set()
    seen: set[int] = set()
    namespaces = [namespace]
    while namespaces:
        space = namespaces.pop()
        modules: list[Any] = []
        for value in list(space.values()):
            if isinstance(value, types.ModuleType):
                modules.append(value)
            elif isinstance(value, (types.FunctionType, type)):
                modules.append(sys.modules.get(value.__module__))
        source = space.get("__file__")
        if isinstance(source, str) and _ours(source, root):
            # What its source imports, at the top or in a function (a constant imported by
            # name, a module imported only when a function runs): no value shows those.
            for name in _imports(source, space.get("__package__")):
                found = _module_file(name)
                if not isinstance(found, str):
                    modules.append(found)  # loaded (or None, passed over below)
                elif real := _ours(found, root):  # not loaded yet: its file alone
                    files.add(real)
        for module in modules:
            path = getattr(module, "__file__", None)
            if id(module) in seen or not isinstance(path, str):
                continue
            seen.add(id(module))
            real = _ours(path, root)
            if real:
                files.add(real)
                namespaces.append(vars(module))
    return files


def _ours(path: str, root: str) -> str:
    """The real path of a source file of the work tree at ``root`` that is no installed
    package's (a virtualenv inside it); "" for any other."""
    real = os.path.realpath(path)
    return real if real.startswith(root + os.sep) and not installed(real) else ""


def _imports(path: str, package: object) -> list[str]:
    """The names of the modules a source file imports anywhere in it (and of the names
    it imports from them, which may be modules too)."""
    import ast
    import importlib.util

    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), path)
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if not isinstance(package, str) or not package:
                    continue  # a relative import outside a package names nothing
                try:
                    base = importlib.util.resolve_name("." * node.level + base, package)
                except (ImportError, ValueError):
                    continue
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return names


def _module_file(name: str) -> Any:
    """A module by name if it is loaded, else the file it would load from (without
    importing anything), else None."""
    import importlib.machinery

    module = sys.modules.get(name)
    if module is not None:
        return module
    parent, _, _ = name.rpartition(".")
    where = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    if parent and where is None:
        return None  # its package is not loaded: finding it would import it
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, where)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


_CHECKED: set[tuple[str, tuple[str, ...]]] = set()


def check_paths(root: str, scope: Scope, listed: set[str] | None = None) -> None:
    """Each ``depends_on`` path must name something tracked inside the work tree
    (checked once per work tree and scope).

    :param listed: the tracked paths git listed for the scope, if it did: plain paths
        found among them need no git call of their own.
    :raises InvalidArgumentError: naming the first path that does not.
    """
    if (root, scope.pathspecs) in _CHECKED:
        return
    if listed is None or not all(_lists(spec, listed) for spec in scope.pathspecs):
        _check_tracked(root, scope.pathspecs)  # git says which, and why
    if len(_CHECKED) >= 1024:  # bounded, like every cache here
        _CHECKED.clear()
    _CHECKED.add((root, scope.pathspecs))


def _lists(spec: str, listed: set[str]) -> bool:
    """Whether ``listed`` holds something a plain path (no magic, no glob) names."""
    if spec.startswith(":") or any(c in spec for c in "*?[\\"):
        return False
    plain = spec.rstrip("/")
    if plain in ("", "."):
        return bool(listed)
    inside = any(p.startswith(plain + "/") for p in listed)
    return inside if spec.endswith("/") else inside or plain in listed  # "a.py/" is no file


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
