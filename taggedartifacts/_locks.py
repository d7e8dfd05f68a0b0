"""OS file locks: held by a live process, released by the kernel the moment it dies.

A lock is an exclusive lock on a small file (``fcntl.flock`` on POSIX, one
locked byte with ``msvcrt`` on Windows). The kernel releases it when the process
exits, however it exits, also across PID namespaces (containers sharing a
volume) and on NFSv4, so "is its owner alive?" becomes "can the lock be taken?"
and never depends on process ids.

Lock files sit in directories other users may write to. So a lock file is never
followed through a symbolic link nor created through one (``O_NOFOLLOW``, and
``O_EXCL`` to create it), is opened without ``O_CREAT`` when it exists (a sticky
directory refuses that for another user's file), and must be a regular file: a
link, a FIFO or anything else planted at its name is an
:class:`~taggedartifacts.UnsafePathError`, never a place to write. Whoever holds
a lock writes into it who they are (host, process, since when), so that those
waiting can say who they wait for.

A lock file may be removed while others wait for it: whoever gets the lock
checks that the file at the path is still the one it locked, and tries again
with the new one otherwise. Threads of one process exclude each other too
(NFS emulates ``flock`` with process-wide locks, so a thread lock is taken first).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import threading
import time
import weakref

from ._errors import LockTimeoutError, UnsafePathError
from ._log import logger

_NOTE_FIRST, _NOTE_EVERY = 0.5, 5.0  # seconds before the first "waiting for" note, between others


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

    def acquire(self, blocking: bool = True, timeout: float | None = None, what: str = "") -> bool:
        """Take the lock; without ``blocking``, return False at once if another holds it.

        While it waits, it says at INFO level every few seconds who holds the lock.

        :param timeout: seconds to wait at most (None: as long as it takes).
        :param what: what the lock guards, for those messages.
        :raises LockTimeoutError: when ``timeout`` passed, naming the holder.
        :raises UnsafePathError: when something other than a lock file is at its path.
        """
        patience = Patience(self, timeout, what) if blocking else None
        while not self._try():
            if patience is None:
                return False
            time.sleep(patience.pause())
        return True

    def holder(self) -> str | None:
        """Who holds the lock, as its holder wrote it ("" when it cannot be read; None
        when there is no lock file: then nobody holds it)."""
        for _ in range(3):  # empty while a new holder is between creating it and signing it
            try:
                fd = _open(self.path, create=False)
            except FileNotFoundError:
                return None
            except OSError:
                return ""
            try:
                note = os.read(fd, 200).decode(errors="replace").strip()
            except OSError:  # locked against reading (Windows)
                return ""
            finally:
                os.close(fd)
            if note:
                return note
            time.sleep(0.005)  # brief: an async caller waits on its event loop
        return ""

    def _try(self) -> bool:
        if not self._thread.acquire(blocking=False):
            return False
        try:
            while True:
                fd = _open(self.path, create=True)
                if not _lock(fd):
                    os.close(fd)
                    self._thread.release()
                    return False
                if _same_file(fd, self.path):
                    self._fd = fd
                    _sign(fd)
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
            if remove and _same_file(self._fd, self.path):
                with contextlib.suppress(OSError):  # another user's, in a sticky directory
                    os.unlink(self.path)
            _unlock(self._fd)
            os.close(self._fd)
        finally:
            self._fd = None
            self._thread.release()


class Patience:
    """One wait for a lock another holds: how long to pause before trying again, a note
    of who holds it every few seconds, and the end of the wait at ``timeout``."""

    def __init__(self, lock: FileLock, timeout: float | None, what: str) -> None:
        self.lock, self.timeout, self.what = lock, timeout, what or lock.path
        self.started = time.monotonic()
        self.noted = self.started - _NOTE_EVERY + _NOTE_FIRST  # a short wait goes unsaid
        self.pauses = 0

    def pause(self) -> float:
        """Seconds to sleep before trying again.

        :raises LockTimeoutError: once ``timeout`` seconds have passed.
        """
        now = time.monotonic()
        waited = now - self.started
        due = now - self.noted >= _NOTE_EVERY
        over = self.timeout is not None and waited >= self.timeout
        holder = self.lock.holder() if due or over else None
        # None: the lock was given up just now, so the next try may take it.
        if over and holder is not None:
            raise LockTimeoutError(
                f"gave up waiting for {self.what} after {waited:.0f} s: "
                f"{_held_by(holder)}; if that process is stopped or hung, end it, or wait "
                "longer (lock_timeout=, TAGGEDARTIFACTS_LOCK_TIMEOUT)",
                holder=holder,
            )
        if due and holder is not None:
            self.noted = now
            logger().info("waiting for %s: %s (%.0f s so far)", self.what, _held_by(holder), waited)
        self.pauses += 1
        return min(0.01 * 2.0 ** min(self.pauses, 5), 0.2)  # soon at first, then at 0.2 s


def _held_by(holder: str) -> str:
    return f"it is held by {holder}" if holder else "its holder did not say who it is"


def _open(path: str, create: bool) -> int:
    """A lock file opened without following links, created (never through a link) when
    ``create`` and missing; read-only where it is another user's."""
    flags = os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        for mode in (os.O_RDWR, os.O_RDONLY):  # flock needs no write access
            try:
                fd = os.open(path, mode | flags)
                break
            except PermissionError:
                continue
            except FileNotFoundError:
                fd = -1
                break
            except OSError as exc:
                raise _unsafe(path, exc) from None
        else:
            raise UnsafePathError(f"{path} cannot be opened: it is not readable by this user")
        if fd < 0:
            if not create:
                raise FileNotFoundError(errno.ENOENT, "no lock file", path)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | flags, 0o666)
            except FileExistsError:
                continue  # created by another meanwhile: open theirs
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _unsafe(path, None)
        return fd
    raise UnsafePathError(f"{path} keeps appearing and disappearing; is something fighting us?")


def _unsafe(path: str, exc: OSError | None) -> UnsafePathError:
    if exc is not None and exc.errno not in (errno.ELOOP, errno.EMLINK, errno.ENXIO):
        return UnsafePathError(f"cannot open the lock file {path}: {exc.strerror}")
    return UnsafePathError(
        f"{path} is not a lock file this library made (a symbolic link or a special file "
        "stands at its name, which another user may have planted); it was not used: "
        "remove it if you trust the directory"
    )


def _sign(fd: int) -> None:
    """Write who holds the lock into it, for those who wait (if this user may write it)."""
    import socket

    since = time.strftime("%Y-%m-%d %H:%M:%S")
    note = f"process {os.getpid()} on {socket.gethostname()} since {since}\n"
    with contextlib.suppress(OSError):  # a read-only lock file of another user: say nothing
        # Written over the last note in one write, padded to its length (never empty),
        # then cut to that: a lock file another user grew is never read or written whole.
        padded = note.encode().ljust(min(os.fstat(fd).st_size, 256))
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, padded)
        os.ftruncate(fd, len(padded))


def _same_file(fd: int, path: str) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


if sys.platform == "win32":  # no Windows CI; see README "Platforms"
    import msvcrt

    def _lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
