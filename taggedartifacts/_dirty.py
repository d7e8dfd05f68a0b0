"""A dirty work tree at call time: the refusal, or the warning (once per cell in Jupyter)."""

from __future__ import annotations

import os
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from ._errors import DirtyRepositoryError, DirtyRepositoryWarning
from ._gitinfo import GitState
from ._notebook import ipython

__all__ = ["ENV_ALLOW_DIRTY", "changed_error", "dirty_error", "warn_dirty"]

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
    :param cell: what to say of the notebook cell defining it, when it is not committed.
    """
    notes = [*_untracked_code(name, source, state), *([cell] if cell else [])]
    return DirtyRepositoryError(
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


def warn_dirty(func: Callable[..., Any], name: str, state: GitState) -> None:
    """Warn at the user's call: once per call site in a script, once per cell run in Jupyter.

    The usual once-per-location registry is not enough: a function body that uses
    ``warnings.catch_warnings()`` (pandas does) resets it, so a loop of five calls
    printed five warnings. So this keeps its own registry of call sites. IPython
    shows a warning at every call and reuses cell file names, so there it is once
    per cell execution: running a cell again warns again. Either way the user's
    filters still apply (``error`` still raises, at every call).
    """
    caller = sys._getframe(2)  # warn_dirty <- wrapper <- the user's code
    shell = ipython()
    # Per function, the places it has warned at: a call site in a script; the cell
    # execution in IPython (so running a cell again warns again).
    site = (caller.f_code.co_filename, caller.f_lineno) if shell is None else shell.execution_count
    seen = _warned_for(func)
    if site in seen:
        return
    # module_globals only lets linecache ask a module's loader for its source. A cell's
    # namespace has __spec__ = None, which Python 3.12+ refuses with ValueError; IPython
    # has already put the cell's source into linecache, so there is nothing to ask then.
    has_loader = getattr(caller.f_globals.get("__spec__"), "loader", None) is not None
    warnings.warn_explicit(
        _dirty_warning(name, state),
        DirtyRepositoryWarning,
        caller.f_code.co_filename,
        caller.f_lineno,
        module=caller.f_globals.get("__name__"),
        registry=None,
        module_globals=caller.f_globals if has_loader else None,
    )
    seen.add(site)  # only once shown (or ignored): an "error" filter raises every time


# function -> the sites it has warned at; weak, so functions made in a loop come and go.
_WARNED: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()


def _warned_for(func: Callable[..., Any]) -> set[Any]:
    try:
        return _WARNED.setdefault(func, set())
    except TypeError:  # a callable that takes no weak reference: no memory, warn each time
        return set()


def _dirty_warning(name: str, state: GitState) -> DirtyRepositoryWarning:
    return DirtyRepositoryWarning(
        f"{name}: the work tree at {state.root} has uncommitted changes "
        f"({_changed_list(state)}); the output is named after this dirty state "
        f"(dirty{(state.diff or '')[:10]}), which no commit can reproduce"
    )
