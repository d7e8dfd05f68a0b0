"""Functions decorated in a notebook cell: their code is checked against the notebook at HEAD.

A function defined in a Jupyter cell has no source file, so without a check the
name would say "clean at commit X" whatever the cell holds: edit the cell, do
not save, run it, and the name still claims X. When the kernel's notebook is
known (see ``_notebook``), such a function counts as committed only when the
source of the cell that defines it equals a code cell of that notebook at HEAD,
up to trailing white space (IPython adds a newline). Otherwise its cell is
uncommitted code: refused without ``allow_dirty``, and hashed into the
fingerprint with it. When the notebook is not known (a plain IPython shell),
nothing is checked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

from ._binding import innermost
from ._gitinfo import GitState
from ._notebook import committed_code, ipython, kernel_notebook

__all__ = ["Cell", "cell_of", "check_cell"]


class Cell(NamedTuple):
    """The notebook cell that defines a function."""

    notebook: str  # the notebook file, absolute
    source: str  # the cell's source, as the kernel ran it


def cell_of(func: Callable[..., Any]) -> Cell | None:
    """The cell defining ``func``, when it was defined in one of a known notebook."""
    if ipython() is None:
        return None
    inner = innermost(func)
    code = getattr(inner, "__code__", None)
    if getattr(inner, "__module__", None) != "__main__" or code is None:
        return None
    filename = code.co_filename
    if os.path.exists(filename):  # ``%run script.py``: a file like any other
        return None
    import linecache

    lines = linecache.getlines(filename)  # IPython keeps each cell's source there
    notebook = kernel_notebook()
    if not lines or notebook is None:
        return None
    return Cell(notebook, "".join(lines))


def check_cell(cell: Cell, state: GitState, *, fingerprint: bool) -> tuple[GitState, str | None]:
    """The state with the cell's code counted, and what to say when it is not committed."""
    if state.root is None:  # the commit came from TAGGEDARTIFACTS_COMMIT: no notebook to read
        return state, None
    notebook = os.path.relpath(cell.notebook, state.root)
    committed = committed_code(state.root, f"{state.head or state.commit}:{notebook}")
    if committed is not None and _normal(cell.source) in _cells(committed):
        return state, None
    import hashlib

    digest = hashlib.sha256(b"cell\n" + (state.diff or "").encode() + b"\0")
    digest.update(cell.source.encode("utf-8", "surrogateescape"))
    changed = tuple(sorted({*state.changed, notebook}))
    dirty = state._replace(
        dirty=True, diff=digest.hexdigest() if fingerprint else None, changed=changed
    )
    name = os.path.basename(cell.notebook)
    return dirty, (
        f"the cell that defines it is not a code cell of {notebook} at its commit: "
        f"save and commit {name}, or pass allow_dirty=True"
    )


def _cells(code: bytes) -> set[str]:
    import json

    return {_normal(source) for source in json.loads(code)["cells"]}


def _normal(source: str) -> str:
    """A cell's source up to trailing white space on its lines and at its end."""
    return "\n".join(line.rstrip() for line in source.splitlines()).rstrip()
