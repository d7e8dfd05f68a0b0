"""The dirty fingerprint: one digest of every change git reports, independent of diff settings.

It does not hash ``git diff`` text (whose bytes depend on many diff settings):
it is the sha256 over every changed path, sorted, of

- the path;
- what HEAD and the index hold for it: HEAD's mode and blob and the index's mode
  (so a staged ``chmod +x`` is a change of its own);
- what the work tree holds: the sha256 of a file's bytes (of a notebook's code
  alone: see ``_notebook``), of a symbolic link's
  target, of every file inside a directory (an untracked nested repository is
  listed by git as one directory), or just the kind of a FIFO, socket or device
  (never opened, so a FIFO cannot hang a call); for a submodule, its commit and,
  recursively, its own fingerprint.

The same work tree always gives the same fingerprint; any change to a byte, a
path or a staged mode gives another.

Reading a changed file costs its size once: a file's digest is kept for the
process, keyed by its stat data (size, mtime, ctime, inode, mode), and used
again only while that stat data is unchanged and the file was last modified
(mtime and ctime) over two seconds before it was read (a write within the
timestamp resolution could otherwise keep its stat data), as git guards its index.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import BinaryIO, NamedTuple

from ._notebook import code_of, is_notebook

_VERSION = b"taggedartifacts-diff-v2\n"
_RACY_NS = 2_000_000_000  # FAT stores times to 2 s; everything else is finer
_CACHE_MAX = 1 << 17  # digests kept; about 30 MB at most
_SPECIAL = {
    stat.S_IFIFO: b"fifo",
    stat.S_IFSOCK: b"socket",
    stat.S_IFCHR: b"character device",
    stat.S_IFBLK: b"block device",
}


class Change(NamedTuple):
    """One path git reports as changed."""

    path: bytes  # relative to the work tree's root, as git prints it
    head: bytes  # what HEAD and the index hold for it, as git prints it
    submodule: bool
    index_differs: bool = False  # the index holds something else than HEAD there


def fingerprint_of(
    root: str, changes: list[Change], submodule: Callable[[str, bool], bytes], untracked: bool
) -> str:
    """The hex fingerprint of ``changes`` in the work tree at ``root``.

    :param submodule: what to hash for a changed submodule, given its path and
        whether untracked files count.
    """
    import hashlib  # only dirty trees need it

    digest = hashlib.sha256(_VERSION)
    top = os.fsencode(root) + os.sep.encode()
    for change in sorted(changes):
        full = top + change.path.rstrip(b"/")
        if change.submodule:
            content = submodule(os.fsdecode(full), untracked)
        else:
            content = content_digest(full)
        digest.update(change.path + b"\0" + change.head + b"\0" + content + b"\n")
    return digest.hexdigest()


def content_digest(path: bytes) -> bytes:
    """What the work tree holds at ``path``, as bytes that differ whenever it does."""
    import hashlib

    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return b"missing"
    kind = stat.S_IFMT(st.st_mode)
    if kind == stat.S_IFREG:
        return b"file " + _file_digest(path, st)
    if kind == stat.S_IFLNK:
        return b"link " + hashlib.sha256(os.readlink(path)).hexdigest().encode()
    if kind == stat.S_IFDIR:
        return b"directory " + _tree_digest(path)
    return b"special " + _SPECIAL.get(kind, b"other")


Remembered = tuple[tuple[bytes, tuple[int, ...]], ...]  # (path, stat data) of each change


def remembered(root: str, changes: list[Change]) -> Remembered | None:
    """The stat data by which every change's digest is remembered; None when some change
    is not a regular file whose digest is remembered (a directory, a submodule, a link,
    a file written too recently to trust its stat data): then its digest may change with
    no change to a stat data this can check."""
    top = os.fsencode(root) + os.sep.encode()
    found = []
    for change in changes:
        path = top + change.path
        known = _DIGESTS.get(path)
        if known is None or change.submodule:
            return None
        found.append((path, known[0]))
    return tuple(found)


def unchanged(files: Remembered) -> bool:
    """Whether each file still has the stat data it was remembered by."""
    for path, key in files:
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode) != key:
            return False
    return True


def _tree_digest(path: bytes) -> bytes:
    """Every entry under a directory but ``.git``: a nested repository's work tree."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        if name != b".git":
            digest.update(name + b"\0" + content_digest(os.path.join(path, name)) + b"\n")
    return digest.hexdigest().encode()


_DIGESTS: dict[bytes, tuple[tuple[int, ...], bytes]] = {}  # path -> (stat data, digest)


def _file_digest(path: bytes, st: os.stat_result) -> bytes:
    key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
    known = _DIGESTS.get(path)
    if known is not None and known[0] == key:
        return known[1]
    started = time.time_ns()
    digest = _read_digest(path)
    if digest is None:  # replaced by something else since the lstat: hash that instead
        return content_digest(path)
    # A write within the timestamp resolution after our read could keep the stat data as
    # it is; a write later changes it, and ctime in the key catches mtime set back (rsync
    # -t), whose own ctime must then be old enough too.
    if max(st.st_mtime_ns, st.st_ctime_ns) < started - _RACY_NS:
        if len(_DIGESTS) >= _CACHE_MAX:
            _DIGESTS.clear()  # bounded: a long session may see many changed files
        _DIGESTS[path] = (key, digest)
    return digest


def _read_digest(path: bytes) -> bytes | None:
    """sha256 of a regular file's bytes (of a notebook's code, see ``_notebook``); None if
    it is no longer a regular file (never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        if is_notebook(path):
            data = fh.read()
            code = code_of(data)
            return notebook_digest(code) if code is not None else _sha256(data)
        return sha256_of(fh)[1].encode()


def sha256_of(fh: BinaryIO) -> tuple[int, str]:
    """How many bytes a file holds from where it stands, and their sha256 (hex)."""
    import hashlib

    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()


def notebook_digest(code: bytes) -> bytes:
    """The digest of a notebook's code: what its file's digest is, outputs left out."""
    return _sha256(b"notebook code\n" + code)


def _sha256(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).hexdigest().encode()
