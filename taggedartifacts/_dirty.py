"""A dirty work tree at call time: the refusal, or the warning (once per cell in Jupyter)."""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any

from ._errors import DirtyRepositoryError, DirtyRepositoryWarning
from ._gitinfo import GitState
from ._loaded import installed
from ._notebook import ipython

# Allows dirty work for one run without editing the code (which would itself dirty the
# tree); the warning still appears, and names are still dirty names.
ENV_ALLOW_DIRTY = "TAGGEDARTIFACTS_ALLOW_DIRTY"


def _changed_list(state: GitState, limit: int = 10) -> str:
    shown = ", ".join(state.changed[:limit])
    more = len(state.changed) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def dirty_error(
    name: str, source: str | None, state: GitState, cell: str | None = None
) -> DirtyRepositoryError:
    """The refusal of a call on a dirty tree, saying what to do.

    :param name: the function's name; ``source``: its source file, if it has one.
    :param cell: what to say of code no file holds (a notebook's cells), if that is it;
        alone, when that code is all that differs and lies in no file at all.
    """
    if cell and all(path.startswith("<") for path in state.changed):  # code in no file:
        return DirtyRepositoryError(f"{name}: {cell}", state.root or "", state.changed)
    notes = [*_untracked_code(name, source, state), *([cell] if cell else [])]
    return DirtyRepositoryError(  # a root: code no file holds alone returned above
        f"{name}: the work tree at {state.root} has uncommitted changes "
        f"({_changed_list(state)}); commit or stash them so the name can point at a commit, "
        f"or pass allow_dirty=True (for one run: {ENV_ALLOW_DIRTY}=1) to name the output "
        "after this dirty state" + "".join(f"; {note}" for note in notes),
        root=state.root or "",
        changed=state.changed,
    )


def changed_error(
    name: str, source: str | None, before: GitState, after: GitState
) -> DirtyRepositoryError:
    """The refusal to name output after the code a call began with, when the code changed
    while it ran (``before`` and ``after`` are the states then and now)."""
    what = []
    if after.commit != before.commit:
        what.append(f"HEAD moved from {before.commit[:7]} to {after.commit[:7]}")
    new = sorted(set(after.changed) - set(before.changed))
    if after.diff != before.diff and not new:
        new = list(after.changed)
    if new:
        what.append("changed: " + ", ".join(new[:10]) + (" and more" if len(new) > 10 else ""))
    early = set(before.untracked_code) | set(before.stale_code)
    notes = [n for n in _untracked_code(name, source, after) if n.split(" ", 1)[0] not in early]
    return DirtyRepositoryError(
        f"{name}: the code changed while it ran ({'; '.join(what + notes) or 'see git status'}), "
        "so a name that says which code made the output would not be true; commit (or undo) "
        "the change and call it again",
        root=after.root or "",
        changed=tuple(new) or after.changed,
    )


def _untracked_code(name: str, source: str | None, state: GitState) -> list[str]:
    """What to say of source files that ran but that git does not track."""
    own = os.path.relpath(source, state.root) if source and state.root else None
    return [
        f"{path} (where {name} is defined) is not committed: git add it"
        if path == own
        else f"{path} is imported but not committed: git add it, or ignore it"
        for path in state.untracked_code
    ] + [
        f"{path} changed on disk after this process loaded it, so the code that ran is no "
        "longer what any commit or file holds: restart the process"
        for path in state.stale_code
    ]


def warn_dirty(
    func: Callable[..., Any], name: str, state: GitState, defined: tuple[str, int]
) -> None:
    """Warn at the user's call: once per call site in a script, once per cell run in Jupyter.

    The usual once-per-location registry is not enough: a function body that uses
    ``warnings.catch_warnings()`` (pandas does) resets it, so a loop of five calls
    printed five warnings. So this keeps its own registry of call sites. IPython
    shows a warning at every call and reuses cell file names, so there it is once
    per cell execution: running a cell again warns again. Either way the user's
    filters still apply (``error`` still raises, at every call).
    """
    filename, lineno, module, _ = _call_site(defined)
    shell = ipython()
    # Per function, the places it has warned at: a call site in a script; the cell
    # execution in IPython (so running a cell again warns again).
    site = (filename, lineno) if shell is None else shell.execution_count
    seen = _warned_for(func)
    if site in seen:
        return
    warnings.warn_explicit(
        _dirty_warning(name, state), DirtyRepositoryWarning, filename, lineno, module=module
    )
    seen.add(site)  # only once shown (or ignored): an "error" filter raises every time


def warn(warning: Warning, defined: tuple[str, int]) -> None:
    """Issue ``warning`` at the user's call, with Python's own once-per-place registry.

    :param defined: where the decorated function is defined: the place for a call
        that came from library code.
    """
    filename, lineno, module, registry = _call_site(defined)
    warnings.warn_explicit(warning, type(warning), filename, lineno, module, registry)


def _call_site(defined: tuple[str, int]) -> tuple[str, int, str, dict[Any, Any]]:
    """Where the user called the decorated function: the first frame outside this
    package, when it is the user's own code; when the call came from library code
    (asyncio's event loop for a task of ``gather``, a pool's worker thread, a
    scheduler), where the function is ``defined``.

    (``module_globals`` is never handed to the warnings machinery: for a module run as
    ``python -m pkg.module`` it makes linecache ask the wrong loader, which raises.)
    """
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == _OURS:
        frame = frame.f_back
    if frame is not None and not installed(frame.f_code.co_filename):
        registry = frame.f_globals.setdefault("__warningregistry__", {})
        module = frame.f_globals.get("__name__") or "__main__"
        return frame.f_code.co_filename, frame.f_lineno, module, registry
    # A module of None would make warnings drop the warning: name it after the file.
    return defined[0], defined[1], os.path.splitext(os.path.basename(defined[0]))[0], _DEFINED


_OURS = __name__.partition(".")[0]
_DEFINED: dict[Any, Any] = {}  # the registry of warnings shown where functions are defined


# function -> the sites it has warned at; weak, so functions made in a loop come and go.
_WARNED: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()


def _warned_for(func: Callable[..., Any]) -> set[Any]:
    try:
        return _WARNED.setdefault(func, set())
    except TypeError:  # a callable that takes no weak reference: no memory, warn each time
        return set()


def _dirty_warning(name: str, state: GitState) -> DirtyRepositoryWarning:
    return DirtyRepositoryWarning(
        f"{name}: {f'the work tree at {state.root}' if state.root else 'the code'} has "
        "uncommitted changes "
        f"({_changed_list(state)}); the output is named after this dirty state "
        f"(dirty{(state.diff or '')[:10]}), which no commit can reproduce"
    )
