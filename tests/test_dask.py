"""A real distributed engine: dask.distributed with worker processes, cache=True across them."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from conftest import Repo, missing

from taggedartifacts import config_hash, parse

distributed = pytest.importorskip("distributed", reason=missing("dask.distributed"))

SHARDS = """
from pathlib import Path
from taggedartifacts import Artifact

@Artifact("outpath", {"kind": "shard"}, include_args=["shard"], cache=True)
def write_shard(shard, outpath, log):
    with open(log, "a") as fh:
        fh.write(f"{shard}\\n")
    Path(outpath).write_text(f"shard {shard}")
    return {"shard": shard, "path": str(outpath)}
"""


def test_a_local_cluster_builds_each_artifact_once_and_then_reuses_them(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("dask_shards.py", SHARDS)
    head = repo.commit("shards")
    monkeypatch.setenv("PYTHONPATH", str(repo.path))  # the workers import it by reference
    monkeypatch.syspath_prepend(str(repo.path))
    module = importlib.import_module("dask_shards")
    out, log = tmp_path / "out", tmp_path / "built.log"
    shards = [0, 1, 2, 0, 1, 2, 0, 1]  # repeated arguments, on two worker processes at once

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        first = client.gather(
            client.map(
                module.write_shard, shards, [str(out / "s.txt")] * 8, [str(log)] * 8, pure=False
            )
        )
        assert sorted(log.read_text().split()) == ["0", "1", "2"]  # each built once
        again = client.gather(
            client.map(
                module.write_shard, shards, [str(out / "s.txt")] * 8, [str(log)] * 8, pure=False
            )
        )
    assert again == first  # the recorded values, and nothing ran
    assert sorted(log.read_text().split()) == ["0", "1", "2"]
    for shard, result in zip(shards, first, strict=True):
        tag = parse(result["path"])
        assert result["shard"] == shard
        assert tag.commit == head[:7]
        digest = config_hash({"arguments": {"shard": shard}, "config": {"kind": "shard"}})
        assert tag.config == digest[:10]
        assert Path(result["path"]).read_text() == f"shard {shard}"
    sys.modules.pop("dask_shards", None)
