"""Notebooks: their code is what counts, not their outputs; and what a kernel ran.

Jupyter saves outputs, execution counts, widget state and metadata into the
``.ipynb`` file at every autosave, so its bytes change when no code did. The
code of a notebook is its kernel language (``metadata.kernelspec.language``)
and the sources of its code cells, in order: two notebooks with equal code are
the same code, and any added, removed, edited or reordered code cell is a
change. A file that is not notebook JSON has no code: it is compared by bytes.

The notebook a kernel runs is found from, in order: ``TAGGEDARTIFACTS_NOTEBOOK``
(for papermill, nbclient and CI runs), the path Jupyter Server gives the kernel
(``JPY_SESSION_NAME``, IPython's ``__session__``), and VS Code's
``__vsc_ipynb_file__``.

A function defined in a Jupyter cell has no source file, and the cells a
kernel ran (a helper edited but not saved, a scratch cell deleted since) are
code no file shows: without a check the name would say "clean at commit X"
whatever the kernel ran. When the kernel's notebook is known, every cell the
kernel has run must equal a code cell of that notebook at HEAD, up to trailing
white space (IPython adds a newline); otherwise the cells that do not are
uncommitted code: refused without ``allow_dirty``, and hashed into the
fingerprint. This applies to a function defined in a cell, and to any call
without ``depends_on`` (then the whole work tree, the notebook included, is the
code). When the notebook is not known, nothing is checked: a plain IPython shell has
none, and a Jupyter kernel whose notebook cannot be found says so, once.
``TAGGEDARTIFACTS_NOTEBOOK`` naming no notebook file is an error, never a silent
end of the check.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, NamedTuple

from . import _git as git
from ._errors import InvalidArgumentError, TaggedArtifactsWarning

ENV_NOTEBOOK = "TAGGEDARTIFACTS_NOTEBOOK"


def is_notebook(path: str | bytes) -> bool:
    """Whether a path names a notebook file."""
    return os.fsdecode(path).lower().endswith(".ipynb")


def code_of(data: bytes) -> bytes | None:
    """The code of a notebook's JSON, canonical; None when it is not notebook JSON."""
    import json

    try:
        notebook = json.loads(data)
    except ValueError:
        return None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None
    metadata = notebook.get("metadata")
    kernelspec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    language = kernelspec.get("language") if isinstance(kernelspec, dict) else None
    cells = [
        source(c) for c in notebook["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"
    ]
    return json.dumps({"language": language, "cells": cells}, sort_keys=True).encode()


def source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (saved as a string or as a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else str(text)


# (work tree, blob or commit:path) -> the code git holds there: objects never change.
_COMMITTED: dict[tuple[str, str], bytes | None] = {}


def committed_code(root: str, revision: str) -> bytes | None:
    """The code of the notebook git holds at ``revision`` (a blob id, or ``commit:path``);
    None when git holds none there, or it is not notebook JSON."""
    key = (root, revision)
    if key not in _COMMITTED:
        proc = git.run(root, "cat-file", "blob", revision)
        if len(_COMMITTED) >= 256:  # bounded: each commit of a session may add one
            _COMMITTED.clear()
        _COMMITTED[key] = code_of(proc.stdout) if proc.returncode == 0 else None
    return _COMMITTED[key]


def kernel_notebook() -> str | None:
    """The absolute path of the notebook this kernel runs, when it can be known.

    :raises InvalidArgumentError: when ``TAGGEDARTIFACTS_NOTEBOOK`` names no notebook
        file: a typo there must not turn the check of the kernel's cells off.
    """
    shell = ipython()
    namespace: dict[str, Any] = getattr(shell, "user_ns", None) or {}
    given = os.environ.get(ENV_NOTEBOOK)
    if given:
        found = _found(given)
        if found is None:
            raise InvalidArgumentError(
                f"{ENV_NOTEBOOK}={given!r} names no notebook file (from {os.getcwd()}); set "
                "it to the path of the .ipynb this kernel runs, or unset it"
            )
        return found
    for candidate in (
        os.environ.get("JPY_SESSION_NAME"),
        namespace.get("__session__"),
        namespace.get("__vsc_ipynb_file__"),
    ):
        found = _found(candidate) if isinstance(candidate, str) else None
        if found is not None:
            return found
    return None


def _found(candidate: str) -> str | None:
    """A notebook's absolute path, if ``candidate`` names an existing one. Jupyter Server
    may give it relative to its root, the kernel starting in the notebook's own
    directory: it is tried as given, then by its name here."""
    if is_notebook(candidate):
        for path in (candidate, os.path.basename(candidate)):
            if os.path.isfile(path):
                return os.path.abspath(path)
    return None


def ipython() -> Any:
    """The running IPython shell, if any (never imports IPython)."""
    module = sys.modules.get("IPython")
    get = getattr(module, "get_ipython", None)
    return get() if get is not None else None


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

    def loose(self, root: str, revision: str, diff: str | None, fingerprint: bool) -> Loose | None:
        """The cells this kernel ran that are not code cells of its notebook at
        ``revision`` (None when there are none), and the fingerprint that counts them.

        :param diff: the fingerprint of the work tree's own changes, or None.
        :param fingerprint: compute the new fingerprint (a refused call needs none).
        """
        notebook = os.path.relpath(self.notebook, root)
        committed = committed_code(root, f"{revision}:{notebook}")
        known = _cells(committed) if committed is not None else frozenset()
        loose = [source for source in self.inputs() if _normal(source) not in known]
        if not loose:
            return None
        import hashlib

        digest = hashlib.sha256(b"cells\n" + (diff or "").encode() + b"\0")
        for source in loose:
            digest.update(source.encode("utf-8", "surrogateescape") + b"\0")
        first = _normal(loose[0]).splitlines()[0][:60]
        why = (
            f"{len(loose)} cell(s) this kernel ran are not code cells of {notebook} at its "
            f"commit (the first begins {first!r}): save and commit "
            f"{os.path.basename(notebook)}, or pass allow_dirty=True"
        )
        return Loose(notebook, digest.hexdigest() if fingerprint else None, why)


class Loose(NamedTuple):
    """Cells a kernel ran that its notebook at HEAD does not hold."""

    notebook: str  # relative to the work tree
    diff: str | None  # the fingerprint with the cells counted
    why: str  # what to tell the user


def kernel_of(in_cell: bool, scoped: bool, notes: list[Warning]) -> Kernel | None:
    """The kernel to check for a call: when a notebook's kernel runs it, and the function
    was defined in a cell (``in_cell``) or no ``depends_on`` scope leaves the notebook out.

    :param notes: gets a warning, once per process, when a Jupyter kernel runs the call
        but its notebook cannot be known (its cells then go unchecked).
    """
    shell = ipython()
    if shell is None or not (in_cell or not scoped):
        return None
    notebook = kernel_notebook()
    if notebook is None:
        if hasattr(shell, "kernel") and not _UNKNOWN_SAID:  # a Jupyter kernel, not a terminal
            _UNKNOWN_SAID.append(True)
            notes.append(
                TaggedArtifactsWarning(
                    "the notebook this kernel runs is not known, so the cells it ran are not "
                    f"checked against the committed notebook; set {ENV_NOTEBOOK} to its path "
                    "(papermill and nbclient runs: in the kernel's environment)"
                )
            )
        return None
    return Kernel(notebook, shell, in_cell)


_UNKNOWN_SAID: list[bool] = []  # the warning above is given once per process


@functools.lru_cache(maxsize=8)  # the same committed code at every call of a session
def _cells(code: bytes) -> frozenset[str]:
    import json

    return frozenset(_normal(source) for source in json.loads(code)["cells"])


def _normal(source: str) -> str:
    """A cell's source up to trailing white space on its lines and at its end."""
    return "\n".join(line.rstrip() for line in source.splitlines()).rstrip()
