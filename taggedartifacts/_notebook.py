"""Notebooks: their code is what counts, not their outputs.

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
"""

from __future__ import annotations

import os
import sys
from typing import Any

from . import _git as git

__all__ = ["ENV_NOTEBOOK", "code_of", "committed_code", "is_notebook", "kernel_notebook"]

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
    """The absolute path of the notebook this kernel runs, when it can be known."""
    shell = ipython()
    namespace: dict[str, Any] = getattr(shell, "user_ns", None) or {}
    for candidate in (
        os.environ.get(ENV_NOTEBOOK),
        os.environ.get("JPY_SESSION_NAME"),
        namespace.get("__session__"),
        namespace.get("__vsc_ipynb_file__"),
    ):
        if isinstance(candidate, str) and is_notebook(candidate):
            # Jupyter Server may give it relative to its root, the kernel starting in the
            # notebook's own directory: try it as given, then its name here.
            for path in (candidate, os.path.basename(candidate)):
                if os.path.isfile(path):
                    return os.path.abspath(path)
    return None


def ipython() -> Any:
    """The running IPython shell, if any (never imports IPython)."""
    module = sys.modules.get("IPython")
    get = getattr(module, "get_ipython", None)
    return get() if get is not None else None
