"""``pinned()``: read git state once for a block of many decorated calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._git import find_work_tree
from ._gitinfo import GitState, from_environment, status
from ._scope import Scope

__all__ = ["pinned", "pinned_state"]


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
        return from_environment(candidates)
    for pin in reversed(pins):
        if pin.root == root:
            return pin.state(untracked, scope)
    return None
