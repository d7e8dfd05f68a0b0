"""OS file locks: held by a live process, released by the kernel the moment it dies.

A lock is an exclusive lock on a small file (``fcntl.flock`` on POSIX, one
locked byte with ``msvcrt`` on Windows). The kernel releases it when the process
exits, however it exits, also across PID namespaces (containers sharing a
volume) and on NFSv4, so "is its owner alive?" becomes "can the lock be taken?"
and never depends on process ids.

A lock file may be removed while others wait for it: whoever gets the lock
checks that the file at the path is still the one it locked, and tries again
with the new one otherwise. Threads of one process exclude each other too
(NFS emulates ``flock`` with process-wide locks, so a thread lock is taken first).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import weakref

__all__ = ["FileLock"]


class _Gate:
    """The lock among this process's threads for one lock path (weakly shared)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


# lock path -> its gate, while some FileLock for that path exists: bounded by use.
_GATES: weakref.WeakValueDictionary[str, _Gate] = weakref.WeakValueDictionary()
_GATES_GUARD = threading.Lock()


class FileLock:
    """An exclusive lock on the file at ``path`` (created when missing).

    :param path: the lock file's path.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        with _GATES_GUARD:
            gate = _GATES.get(path)
            if gate is None:
                gate = _GATES[path] = _Gate()
        self._gate = gate  # kept: the entry lives as long as some lock for the path does
        self._thread = gate.lock

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; without ``blocking``, return False at once if another holds it."""
        if not self._thread.acquire(blocking):
            return False
        try:
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
                if not _lock(fd, blocking):
                    os.close(fd)
                    self._thread.release()
                    return False
                if _same_file(fd, self.path):
                    self._fd = fd
                    return True
                os.close(fd)  # removed (or replaced) while we waited: lock the new one
        except BaseException:
            self._thread.release()
            raise

    def release(self, remove: bool = False) -> None:
        """Give the lock up; with ``remove``, delete its file first (while still held)."""
        if self._fd is None:
            return
        try:
            if remove:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
            _unlock(self._fd)
            os.close(self._fd)
        finally:
            self._fd = None
            self._thread.release()


def _same_file(fd: int, path: str) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


if sys.platform == "win32":  # no Windows CI; see README "Platforms"
    import msvcrt

    def _lock(fd: int, blocking: bool) -> bool:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not blocking:
                    return False
                time.sleep(0.05)  # LK_LOCK gives up after ten seconds; wait as long as it takes

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, blocking: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
