"""The exception root, its subclasses and the dirty-tree warning.

Every exception also inherits the builtin a caller would already catch
(``OSError`` for git and file-system problems, ``TypeError`` and
``ValueError`` for bad input), so ``except OSError`` keeps working around code
that starts using this library.
"""

from __future__ import annotations

from typing import Any


class TaggedArtifactsError(Exception):
    """Base class of every error raised by taggedartifacts."""


class GitError(TaggedArtifactsError, OSError):
    """git could not tell the state of a repository (git missing, no commit yet, git failed)."""

    def __init__(self, message: str) -> None:
        # OSError treats two or more arguments as (errno, strerror); keep one.
        super().__init__(message)


class NotAGitRepositoryError(GitError):
    """No git work tree was found where the library looked.

    :ivar searched: the directories that were tried, in order.
    """

    def __init__(self, message: str, searched: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.searched = searched

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.searched))


class DirtyRepositoryError(GitError):
    """The work tree has uncommitted changes and ``allow_dirty`` is off.

    :ivar root: the work tree's top directory.
    :ivar changed: the changed paths, relative to ``root``.
    """

    def __init__(self, message: str, root: str = "", changed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.root = root
        self.changed = changed

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.root, self.changed))


class ArtifactConflictError(TaggedArtifactsError, FileExistsError):
    """An atomic call wrote a side file whose name an unrelated existing file already has."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class LockTimeoutError(TaggedArtifactsError, TimeoutError):
    """A call gave up waiting for another call building the same artifact (``lock_timeout``).

    :ivar holder: who holds the lock, as its holder wrote it (host, process, since when).
    """

    def __init__(self, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.holder = holder

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.holder))


class UnsafePathError(TaggedArtifactsError, OSError):
    """Something this library did not make stands where it was to work (a link planted at
    a lock file's name, a private build directory swapped for a link); it was not used."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class MissingExtraError(TaggedArtifactsError, ImportError):
    """A feature needs an optional dependency that is not installed."""


class UnhashableConfigError(TaggedArtifactsError, TypeError):
    """A config value has no stable encoding.

    :ivar where: where the value sits, e.g. ``config['model']['optimizer']``.
    """

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.where))


class InvalidArgumentError(TaggedArtifactsError, TypeError):
    """The decorator or a decorated call got an argument of the wrong kind."""


class InvalidPathError(TaggedArtifactsError, ValueError):
    """A path has no file name that could carry a tag (``""``, ``"."``, ``"/"``)."""


class NotTaggedError(TaggedArtifactsError, ValueError):
    """A file name does not carry a tag, so it cannot be parsed."""


class TaggedArtifactsWarning(UserWarning):
    """Base class of every warning of taggedartifacts."""


class DirtyRepositoryWarning(TaggedArtifactsWarning):
    """An artifact is being named after a work tree with uncommitted changes."""


class OutOfScopeWarning(TaggedArtifactsWarning):
    """A function's code reaches files of the work tree that its ``depends_on`` leaves out:
    a change there would not change the names of its outputs."""


def add_note(exc: BaseException, note: str) -> None:
    """Attach a PEP 678 note; on Python 3.10 keep it where 3.11's traceback would show it."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
