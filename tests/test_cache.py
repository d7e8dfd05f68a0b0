"""cache=True skips work whose artifact exists; include_args puts arguments into the name."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    DirtyRepositoryWarning,
    InvalidArgumentError,
    UnhashableConfigError,
    config_hash,
    parse,
    versions,
)

PIPELINE = """
import sys
from pathlib import Path
from taggedartifacts import Artifact

LR = float(sys.argv[2])

@Artifact("outpath", {"lr": LR}, cache=True)
def step(outpath):
    with open("calls.log", "a") as log:
        log.write("called\\n")
    Path(outpath).write_text(f"lr={LR}")
    return "computed"

print(step(outpath=sys.argv[1]))
"""


def run_pipeline(repo: Repo, lr: float) -> str:
    return subprocess.run(
        [sys.executable, "pipeline.py", "out/result.txt", str(lr)],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def calls(repo: Repo) -> int:
    log = repo.path / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_cache_hits_and_misses_across_processes(repo: Repo) -> None:
    repo.write("pipeline.py", PIPELINE)
    repo.write(".gitignore", "out/\ncalls.log\n")
    repo.commit("pipeline")
    (repo.path / "out").mkdir()

    assert run_pipeline(repo, 0.1) == "computed"
    assert run_pipeline(repo, 0.1) == "None"  # reused: the function did not run
    assert calls(repo) == 1
    assert run_pipeline(repo, 0.2) == "computed"  # another config misses
    assert calls(repo) == 2
    repo.write("code.py", "print('new code')\n")
    repo.commit("new code")
    assert run_pipeline(repo, 0.1) == "computed"  # a new commit misses
    assert run_pipeline(repo, 0.1) == "None"
    assert calls(repo) == 3
    assert len(versions(repo.path / "out" / "result.txt")) == 3


def test_cache_hit_is_logged_at_info(
    repo: Repo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ran = []

    @Artifact("outpath", cache=True, repo=repo.path)
    def step(outpath: Path) -> str:
        ran.append(1)
        outpath.write_text("x")
        return "made"

    assert step(tmp_path / "a.txt") == "made"
    with caplog.at_level(logging.INFO, logger="taggedartifacts"):
        assert step(tmp_path / "a.txt") is None
    [record] = [r for r in caplog.records if "reusing" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert str(step.paths(tmp_path / "a.txt")["outpath"]) in record.getMessage()
    assert ran == [1]


def test_cache_needs_every_output(repo: Repo, tmp_path: Path) -> None:
    ran = []

    @Artifact(["a", "b"], cache=True, repo=repo.path)
    def step(a: Path, b: Path) -> None:
        ran.append(1)
        a.write_text("a")
        b.write_text("b")

    step(tmp_path / "a.txt", tmp_path / "b.txt")
    step.paths(tmp_path / "a.txt", tmp_path / "b.txt")["b"].unlink()  # type: ignore[union-attr]
    step(tmp_path / "a.txt", tmp_path / "b.txt")
    assert ran == [1, 1]


def test_dirty_tree_hits_only_with_the_same_fingerprint(repo: Repo, tmp_path: Path) -> None:
    ran = []

    @Artifact("outpath", cache=True, allow_dirty=True, repo=repo.path)
    def step(outpath: Path) -> None:
        ran.append(1)
        outpath.write_text("x")

    repo.write("code.py", "print('draft 1')\n")
    for _ in range(2):
        with pytest.warns(DirtyRepositoryWarning):
            step(tmp_path / "a.txt")
    assert ran == [1]
    repo.write("code.py", "print('draft 2')\n")
    with pytest.warns(DirtyRepositoryWarning):
        step(tmp_path / "a.txt")
    assert ran == [1, 1]


def test_include_args_puts_every_other_argument_into_the_name(repo: Repo) -> None:
    @Artifact("outpath", {"model": "mlp"}, include_args=True, repo=repo.path)
    def train(outpath: str, lr: float = 0.1, epochs: int = 3) -> str:
        return outpath

    a = train(lr=0.1, outpath="m.pkl")
    assert train(outpath="m.pkl") == a  # defaults are applied before hashing
    assert train("m.pkl", 0.1, 3) == a
    assert train(lr=0.2, outpath="m.pkl") != a
    assert train(epochs=4, outpath="m.pkl") != a
    expected = config_hash({"arguments": {"lr": 0.1, "epochs": 3}, "config": {"model": "mlp"}})
    assert parse(a).config == expected[:10]


def test_include_args_by_name_hashes_only_those(repo: Repo) -> None:
    @Artifact("outpath", include_args=("lr",), repo=repo.path)
    def train(outpath: str, lr: float, verbose: bool = False) -> str:
        return outpath

    assert train("m.pkl", 0.1) == train("m.pkl", 0.1, verbose=True)
    assert train("m.pkl", 0.1) != train("m.pkl", 0.2)


def test_without_include_args_the_name_depends_on_config_alone(repo: Repo) -> None:
    @Artifact("outpath", {"k": 1}, repo=repo.path)
    def train(outpath: str, lr: float) -> str:
        return outpath

    assert train("m.pkl", 0.1) == train("m.pkl", 0.2)
    assert parse(train("m.pkl", 0.1)).config == config_hash({"k": 1})[:10]


def test_include_args_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="include_args names 'missing'") as info:

        @Artifact("outpath", include_args=("missing",))
        def f(outpath: str, lr: float) -> None: ...

    assert isinstance(info.value, TypeError)
    with pytest.raises(InvalidArgumentError, match="path parameter"):

        @Artifact("outpath", include_args=("outpath",))
        def g(outpath: str) -> None: ...


def test_an_unhashable_argument_is_named(repo: Repo) -> None:
    @Artifact("outpath", include_args=True, repo=repo.path)
    def train(outpath: str, model: Any) -> None: ...

    with pytest.raises(
        UnhashableConfigError, match=r"^argument 'model'\['layer'\]: objects of type"
    ):
        train("m.pkl", {"layer": object()})
