"""Code run in a notebook's kernel: checked against the notebook at HEAD.

A function defined in a Jupyter cell has no source file, and the cells a
kernel ran (a helper edited but not saved, a scratch cell deleted since) are
code no file shows: without a check the name would say "clean at commit X"
whatever the kernel ran. When the kernel's notebook is known (see
``_notebook``), every cell the kernel has run must equal a code cell of that
notebook at HEAD, up to trailing white space (IPython adds a newline);
otherwise the cells that do not are uncommitted code: refused without
``allow_dirty``, and hashed into the fingerprint. This applies to a function
defined in a cell, and to any call without ``depends_on`` (then the whole work
tree, the notebook included, is the code). When the notebook is not known (a
plain IPython shell), nothing is checked.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from ._binding import innermost
from ._gitinfo import GitState
from ._notebook import committed_code, ipython, kernel_notebook

__all__ = ["Kernel", "check_kernel", "kernel_of"]


class Kernel:
    """What a notebook's kernel has run, for a decorated call.

    :ivar notebook: the notebook file, absolute.
    :ivar defines: whether the decorated function was defined in one of its cells.
    """

    def __init__(self, notebook: str, shell: Any, defines: bool) -> None:
        self.notebook, self.shell, self.defines = notebook, shell, defines

    def inputs(self) -> list[str]:
        """Every cell the kernel has run, in order, as typed (magics included)."""
        history = getattr(getattr(self.shell, "history_manager", None), "input_hist_raw", None)
        return [str(source) for source in history or () if str(source).strip()]


class _Verdict(NamedTuple):
    state: GitState
    why: str | None  # what to say of uncommitted cells, None when all are committed


def kernel_of(func: Callable[..., Any], scoped: bool) -> Kernel | None:
    """The kernel to check for a call of ``func``: when a notebook's kernel runs it, and
    the function was defined in a cell or no ``depends_on`` scope leaves the notebook out."""
    shell = ipython()
    if shell is None:
        return None
    notebook = kernel_notebook()
    if notebook is None:
        return None
    inner = innermost(func)
    code = getattr(inner, "__code__", None)
    defines = (
        getattr(inner, "__module__", None) == "__main__"
        and code is not None
        and not os.path.exists(code.co_filename)  # ``%run script.py`` is a file like any other
    )
    return Kernel(notebook, shell, defines) if defines or not scoped else None


def check_kernel(kernel: Kernel, state: GitState, *, fingerprint: bool) -> _Verdict:
    """The state with the kernel's uncommitted cells counted, and what to say of them."""
    if state.root is None:  # the commit came from TAGGEDARTIFACTS_COMMIT: no notebook to read
        return _Verdict(state, None)
    notebook = os.path.relpath(kernel.notebook, state.root)
    committed = committed_code(state.root, f"{state.head or state.commit}:{notebook}")
    known = _cells(committed) if committed is not None else frozenset()
    loose = [source for source in kernel.inputs() if _normal(source) not in known]
    if not loose:
        return _Verdict(state, None)
    import hashlib

    digest = hashlib.sha256(b"cells\n" + (state.diff or "").encode() + b"\0")
    for source in loose:
        digest.update(source.encode("utf-8", "surrogateescape") + b"\0")
    dirty = state._replace(
        dirty=True,
        diff=digest.hexdigest() if fingerprint else None,
        changed=tuple(sorted({*state.changed, notebook})),
    )
    first = _normal(loose[0]).splitlines()[0][:60]
    return _Verdict(
        dirty,
        f"{len(loose)} cell(s) this kernel ran are not code cells of {notebook} at its commit "
        f"(the first begins {first!r}): save and commit {os.path.basename(notebook)}, or pass "
        "allow_dirty=True",
    )


@functools.lru_cache(maxsize=8)  # the same committed code at every call of a session
def _cells(code: bytes) -> frozenset[str]:
    import json

    return frozenset(_normal(source) for source in json.loads(code)["cells"])


def _normal(source: str) -> str:
    """A cell's source up to trailing white space on its lines and at its end."""
    return "\n".join(line.rstrip() for line in source.splitlines()).rstrip()
