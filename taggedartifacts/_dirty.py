"""A dirty work tree at call time: the refusal, or the warning (once per cell in Jupyter)."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

from ._binding import func_name, source_file
from ._errors import DirtyRepositoryError, DirtyRepositoryWarning
from ._gitinfo import GitState

__all__ = ["dirty_error", "warn_dirty"]


def _changed_list(state: GitState, limit: int = 10) -> str:
    shown = ", ".join(state.changed[:limit])
    more = len(state.changed) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def dirty_error(func: Callable[..., Any], state: GitState) -> DirtyRepositoryError:
    return DirtyRepositoryError(
        f"{func_name(func)}: the work tree at {state.root} has uncommitted changes "
        f"({_changed_list(state)}); commit or stash them so the name can point at a commit, "
        f"or pass allow_dirty=True to name the output after this dirty state"
        + "".join(f"; {line}" for line in _untracked_code(func, state)),
        root=state.root or "",
        changed=state.changed,
    )


def _untracked_code(func: Callable[..., Any], state: GitState) -> list[str]:
    """What to say of source files that ran but that git does not track."""
    source = source_file(func)
    own = os.path.relpath(source, state.root) if source and state.root else None
    return [
        f"{path} (where {func_name(func)} is defined) is not committed: git add it"
        if path == own
        else f"{path} is imported but not committed: git add it, or ignore it"
        for path in state.untracked_code
    ]


def warn_dirty(func: Callable[..., Any], state: GitState) -> None:
    """Warn at the user's call: once per call site in a script, once per cell run in Jupyter.

    IPython shows a warning at every call, so a loop of a thousand calls would print a
    thousand warnings; its cells also reuse file names, so the usual once-per-location
    registry could hide the warning when a cell is run again. In IPython we therefore
    warn once per execution and bypass the registry; the user's filters still apply.
    """
    caller = sys._getframe(2)  # warn_dirty <- wrapper <- the user's code
    shell = _ipython()
    if shell is None:
        warnings.warn(_dirty_warning(func, state), stacklevel=3)
        return
    key = (shell.execution_count, func)
    if key in _WARNED_IN_CELL:
        return
    _WARNED_IN_CELL.clear()  # only the current execution matters
    _WARNED_IN_CELL.add(key)
    # module_globals only lets linecache ask a module's loader for its source. A cell's
    # namespace has __spec__ = None, which Python 3.12+ refuses with ValueError; IPython
    # has already put the cell's source into linecache, so there is nothing to ask then.
    has_loader = getattr(caller.f_globals.get("__spec__"), "loader", None) is not None
    warnings.warn_explicit(
        _dirty_warning(func, state),
        DirtyRepositoryWarning,
        caller.f_code.co_filename,
        caller.f_lineno,
        module=caller.f_globals.get("__name__"),
        registry=None,
        module_globals=caller.f_globals if has_loader else None,
    )


_WARNED_IN_CELL: set[tuple[int, Callable[..., Any]]] = set()


def _ipython() -> Any:
    """The running IPython shell, if any (never imports IPython)."""
    module = sys.modules.get("IPython")
    get = getattr(module, "get_ipython", None)
    return get() if get is not None else None


def _dirty_warning(func: Callable[..., Any], state: GitState) -> DirtyRepositoryWarning:
    return DirtyRepositoryWarning(
        f"{func_name(func)}: the work tree at {state.root} has uncommitted changes "
        f"({_changed_list(state)}); the output is named after this dirty state "
        f"(dirty{(state.diff or '')[:10]}), which no commit can reproduce"
    )
