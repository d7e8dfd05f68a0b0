"""Module-level decorated functions, for tests that need an importable name."""

from __future__ import annotations

from taggedartifacts import Artifact


@Artifact("outpath", {"k": 1})
def tagged_module_function(outpath: str) -> str:
    return outpath
