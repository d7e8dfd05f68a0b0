"""Name every output file after the commit and config that made it.

>>> from taggedartifacts import Artifact
>>> @Artifact(keyword="outpath", config={"lr": 0.1})
... def save_plot(data, outpath): ...

``save_plot(data, outpath="plots/loss.png")`` then writes
``plots/loss-<commit>-<config hash>.png``.
"""

from __future__ import annotations

from ._artifact import Artifact, TaggedFunction
from ._errors import (
    ArtifactConflictError,
    DirtyRepositoryError,
    DirtyRepositoryWarning,
    GitError,
    InvalidArgumentError,
    InvalidPathError,
    MissingExtraError,
    NotAGitRepositoryError,
    NotTaggedError,
    TaggedArtifactsError,
    TaggedArtifactsWarning,
    UnhashableConfigError,
)
from ._gitinfo import GitState, git_state
from ._hashing import config_hash
from ._pinned import pinned
from ._prune import Pruned, prune
from ._tagging import Tag, parse
from ._versions import Version, VersionList, describe, versions

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactConflictError",
    "DirtyRepositoryError",
    "DirtyRepositoryWarning",
    "GitError",
    "GitState",
    "InvalidArgumentError",
    "InvalidPathError",
    "MissingExtraError",
    "NotAGitRepositoryError",
    "NotTaggedError",
    "Pruned",
    "Tag",
    "TaggedArtifactsError",
    "TaggedArtifactsWarning",
    "TaggedFunction",
    "UnhashableConfigError",
    "Version",
    "VersionList",
    "__version__",
    "config_hash",
    "describe",
    "git_state",
    "parse",
    "pinned",
    "prune",
    "versions",
]
