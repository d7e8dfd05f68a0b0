"""Decorated functions in worker processes: pickled by reference, git state read in the worker."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from conftest import Repo, missing

from taggedartifacts import parse

WORKER_MODULE = """
from pathlib import Path
from taggedartifacts import Artifact

@Artifact("outpath", {"kind": "shard"}, include_args=["shard"])
def write_shard(shard, outpath):
    Path(outpath).write_text(f"shard {shard}")
    return str(outpath)
"""


@pytest.mark.parametrize("name", ["pickle", "cloudpickle"])
def test_pickle_and_cloudpickle_by_reference(name: str) -> None:
    from tests_helpers import tagged_module_function

    module = pytest.importorskip(name, reason=missing(name))
    payload = module.dumps(tagged_module_function)
    assert len(payload) < 200  # a reference, not the function's code
    assert pickle.loads(payload) is tagged_module_function


def test_four_spawned_workers_write_artifacts_of_one_commit(
    repo: Repo, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("shards/worker_module.py", WORKER_MODULE)
    repo.commit("worker code")
    monkeypatch.syspath_prepend(str(repo.path / "shards"))
    import worker_module  # type: ignore[import-not-found]  # written by this test

    out = outside / "out"
    out.mkdir()
    context = multiprocessing.get_context("spawn")
    # Workers start in a directory outside the repository: the state comes from the source file.
    with ProcessPoolExecutor(
        4, mp_context=context, initializer=os.chdir, initargs=(str(outside),)
    ) as pool:
        names = list(pool.map(worker_module.write_shard, range(4), [str(out / "shard.txt")] * 4))
    tags = [parse(name) for name in names]
    assert {t.commit for t in tags} == {repo.head()[:7]}
    assert len({t.config for t in tags}) == 4  # include_args: one name per shard
    assert sorted(Path(n).read_text() for n in names) == [f"shard {i}" for i in range(4)]


def test_workers_without_a_checkout_use_the_environment_commit(
    outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (outside / "detached_module.py").write_text(WORKER_MODULE)
    monkeypatch.syspath_prepend(str(outside))
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "1234567890abcdef")
    monkeypatch.chdir(outside)
    import detached_module  # type: ignore[import-not-found]  # written by this test

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        names = list(pool.map(detached_module.write_shard, range(2), [str(outside / "s.txt")] * 2))
    assert {parse(n).commit for n in names} == {"1234567"}
