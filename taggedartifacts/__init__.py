"""Name every output file after the commit and config that made it.

>>> from taggedartifacts import Artifact
>>> @Artifact(keyword="outpath", config={"lr": 0.1})
... def save_plot(data, outpath): ...

``save_plot(data, outpath="plots/loss.png")`` then writes
``plots/loss-<commit>-<config hash>.png``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._artifact import Artifact, TaggedFunction
from ._errors import (
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
from ._gitinfo import GitState, git_state, pinned
from ._hashing import config_hash
from ._tagging import Tag, parse

if TYPE_CHECKING:
    from ._prune import Pruned, prune
    from ._versions import Check, Version, VersionList, describe, verify, versions

__version__ = "0.2.0"

# The reading side loads when first used: a script that only writes artifacts never
# pays for it, and ``import taggedartifacts`` stays instant (PEP 562).
_READING = {
    "Check": "_versions",
    "Pruned": "_prune",
    "prune": "_prune",
    "Version": "_versions",
    "VersionList": "_versions",
    "describe": "_versions",
    "verify": "_versions",
    "versions": "_versions",
}


def __getattr__(name: str) -> Any:
    module = _READING.get(name)
    if module is None:
        raise AttributeError(f"module 'taggedartifacts' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Artifact",
    "ArtifactConflictError",
    "Check",
    "DirtyRepositoryError",
    "DirtyRepositoryWarning",
    "GitError",
    "GitState",
    "InvalidArgumentError",
    "InvalidPathError",
    "LockTimeoutError",
    "MissingExtraError",
    "NotAGitRepositoryError",
    "NotTaggedError",
    "OutOfScopeWarning",
    "Pruned",
    "Tag",
    "TaggedArtifactsError",
    "TaggedArtifactsWarning",
    "TaggedFunction",
    "UnhashableConfigError",
    "UnsafePathError",
    "Version",
    "VersionList",
    "__version__",
    "config_hash",
    "describe",
    "git_state",
    "parse",
    "pinned",
    "prune",
    "verify",
    "versions",
]
