"""The original project's import path: ``from taggedartifacts.taggedartifacts import Artifact``.

Kept so that code written for it runs; it warns once, at import, with a
:class:`DeprecationWarning` that points at the importing line (``warnings``
skips importlib's own frames when it counts ``stacklevel``).
"""

from __future__ import annotations

import warnings

from ._artifact import Artifact

__all__ = ["Artifact"]

warnings.warn(
    "taggedartifacts.taggedartifacts is deprecated; import Artifact from taggedartifacts "
    "itself: from taggedartifacts import Artifact",
    DeprecationWarning,
    stacklevel=2,
)
