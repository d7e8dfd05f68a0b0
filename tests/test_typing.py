"""What a type checker sees (mypy --strict runs over this file in CI): the decorated
function keeps its signature, and ``.paths`` takes the same parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Repo

from taggedartifacts import Artifact, parse


def test_paths_is_typed_from_the_functions_parameters(repo: Repo) -> None:
    @Artifact("outpath", include_args=["lr"], repo=repo.path)
    def train(outpath: Path, lr: float) -> Path:
        return outpath

    assert parse(train.paths(Path("m.bin"), lr=0.1)["outpath"]).untagged == "m.bin"
    # Each line below is a type error; an unused ignore would fail mypy --strict, so
    # this only passes while the decorator keeps the parameters' types.
    train.paths(Path("m.bin"), lr="fast")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'rate'"):
        train(Path("m.bin"), rate=0.1)  # type: ignore[call-arg]
