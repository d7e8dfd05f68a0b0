"""The dirty fingerprint: one digest of every change git reports, independent of diff settings.

It does not hash ``git diff`` text (whose bytes depend on many diff settings):
it is the sha256 over every changed path, sorted, of the path, its mode and
blob in HEAD, and the sha256 of its bytes in the work tree (for a submodule:
its commit and, recursively, its own fingerprint). The same work tree always
gives the same fingerprint; any change to a byte, a path or a staged mode
gives another.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Change", "fingerprint"]


class Change(NamedTuple):
    """One path git reports as changed."""

    path: bytes  # relative to the work tree's root, as git prints it
    head: bytes  # what HEAD (and the index) hold for it, as git prints it
    submodule: bool


def fingerprint(root: str, changes: list[Change], *, submodule: Callable[[str], bytes]) -> str:
    """The hex fingerprint of ``changes`` in the work tree at ``root``.

    :param submodule: what to hash for a changed submodule, given its path.
    """
    import hashlib  # only dirty trees need it

    digest = hashlib.sha256(b"taggedartifacts-diff-v1\n")
    for change in sorted(changes):
        full = os.path.join(os.fsencode(root), change.path)
        content = submodule(os.fsdecode(full)) if change.submodule else _content_digest(full)
        digest.update(change.path + b"\0" + change.head + b"\0" + content + b"\n")
    return digest.hexdigest()


def _content_digest(path: bytes) -> bytes:
    """sha256 of a work-tree file's bytes (a link's target), or ``missing``."""
    import hashlib

    try:
        if os.path.islink(path):
            return b"link " + hashlib.sha256(os.readlink(path)).hexdigest().encode()
        with open(path, "rb") as fh:
            return b"file " + _file_digest(fh).encode()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return b"missing"


def _file_digest(fh: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()
