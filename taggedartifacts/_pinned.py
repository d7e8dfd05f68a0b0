"""``pinned()``: read git state once for a block of many decorated calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ._gitinfo import PINS, GitState, Pin, git_state, work_tree_root

__all__ = ["pinned"]


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
    state = git_state(where)
    root = work_tree_root(where)
    if root is None:  # the state came from TAGGEDARTIFACTS_COMMIT; nothing to pin
        yield state
        return
    token = PINS.set((*PINS.get(), Pin(root, state)))
    try:
        yield state
    finally:
        PINS.reset(token)
