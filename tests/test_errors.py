"""Every exception: the builtin it also is, its message and context, and a pickle round trip."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import taggedartifacts
from taggedartifacts import (
    ArtifactConflictError,
    DirtyRepositoryError,
    DirtyRepositoryWarning,
    GitError,
    InvalidArgumentError,
    InvalidPathError,
    LockTimeoutError,
    MissingExtraError,
    NotAGitRepositoryError,
    NotTaggedError,
    OutOfScopeWarning,
    TaggedArtifactsError,
    TaggedArtifactsWarning,
    UnhashableConfigError,
    UnsafePathError,
)

EXAMPLES: list[tuple[BaseException, type[BaseException], dict[str, Any]]] = [
    (GitError("git failed"), OSError, {}),
    (NotAGitRepositoryError("none here", ("/a", "/b")), OSError, {"searched": ("/a", "/b")}),
    (
        DirtyRepositoryError("dirty", root="/r", changed=("a.py",)),
        OSError,
        {"root": "/r", "changed": ("a.py",)},
    ),
    (ArtifactConflictError("in the way"), FileExistsError, {}),
    (MissingExtraError("pip install it"), ImportError, {}),
    (UnhashableConfigError("config['f']: no", "config['f']"), TypeError, {"where": "config['f']"}),
    (InvalidArgumentError("bad"), TypeError, {}),
    (InvalidPathError("no name"), ValueError, {}),
    (NotTaggedError("no tag"), ValueError, {}),
    (
        LockTimeoutError("gave up", holder="process 7 on h"),
        TimeoutError,
        {"holder": "process 7 on h"},
    ),
    (UnsafePathError("a link stood there"), OSError, {}),
]


@pytest.mark.parametrize(("error", "builtin", "context"), EXAMPLES, ids=lambda e: type(e).__name__)
def test_each_error_is_also_the_builtin_and_survives_pickling(
    error: BaseException, builtin: type[BaseException], context: dict[str, Any]
) -> None:
    assert isinstance(error, TaggedArtifactsError)
    assert isinstance(error, builtin)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert repr(copy) == repr(error)
    for name, value in context.items():
        assert getattr(error, name) == getattr(copy, name) == value


def test_every_public_exception_is_covered() -> None:
    public = {
        getattr(taggedartifacts, name)
        for name in taggedartifacts.__all__
        if isinstance(getattr(taggedartifacts, name), type)
        and issubclass(getattr(taggedartifacts, name), TaggedArtifactsError)
    }
    assert public - {TaggedArtifactsError} == {type(e) for e, _, _ in EXAMPLES}


def test_the_warnings_are_user_warnings() -> None:
    for warning in (DirtyRepositoryWarning, OutOfScopeWarning):
        assert issubclass(warning, TaggedArtifactsWarning)
        assert issubclass(warning, UserWarning)
