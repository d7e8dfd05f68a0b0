"""Provenance records: complete, redacted, atomic, present on every cache hit, absent on failure."""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import Artifact, TaggedArtifactsWarning, config_hash, describe, parse, versions
from taggedartifacts._records import record_path, strip_credentials
from taggedartifacts._tagging import PRIVATE_PREFIX as PREFIX

SECRET = {"lr": 0.1, "api_key": "s3cret", "db": {"password": "hunter2", "host": "db.local"}}


def read(path: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(Path(record_path(path)).read_text())
    return record


def test_record_holds_everything_and_redacts_at_depth(repo: Repo, tmp_path: Path) -> None:
    repo.git("remote", "add", "origin", "https://user:tok3n@example.com/lab/project.git")

    @Artifact("outpath", SECRET, provenance=True, redact=["api_key", "password"], repo=repo.path)
    def save(outpath: Path) -> Path:
        outpath.write_text("data")
        return outpath

    out = save(tmp_path / "loss.png")
    record = read(out)
    assert record["format"] == "taggedartifacts.provenance/2"
    assert record["artifact"] == out.name
    assert record["output"] == "file"
    assert record["returned"] == {"\u0000output": ["outpath", "", "path"]}  # the artifact
    assert record["requested_path"] == str(tmp_path / "loss.png")
    assert record["commit"] == repo.head()
    assert (record["dirty"], record["diff"]) == (False, None)
    assert record["config_hash"] == config_hash(SECRET)  # redaction does not change the hash
    assert record["config"] == {
        "lr": 0.1,
        "api_key": "<redacted>",
        "db": {"password": "<redacted>", "host": "db.local"},
    }
    assert record["function"] == {"file": None, "module": __name__, "qualname": save.__qualname__}
    assert record["origin"] == "https://example.com/lab/project.git"
    assert record["arguments"] is None
    assert record["versions"]["taggedartifacts"] is not None
    assert record["versions"]["GitPython"] is not None
    assert record["duration_seconds"] >= 0
    assert record["started"].endswith("+00:00")
    assert {"host", "user", "python", "platform", "finished"} <= record.keys()
    assert "s3cret" not in Path(record_path(out)).read_text()
    assert "hunter2" not in Path(record_path(out)).read_text()


def test_arguments_and_non_json_values_are_recorded(repo: Repo, tmp_path: Path) -> None:
    @Artifact(
        "outpath",
        {"eps": math.inf},
        include_args=True,
        provenance=True,
        redact=["token"],
        repo=repo.path,
    )
    def save(outpath: Path, lr: float, tags: Any, token: str = "t") -> None:
        outpath.write_text("x")

    save(tmp_path / "m.bin", 0.5, {"b", "a"})
    [version] = tmp_path.glob("m-*.bin")
    record = read(version)
    assert record["config"] == {"eps": {"\u0000float": "Infinity"}}
    assert record["arguments"] == {
        "lr": 0.5,
        "tags": {"\u0000set": ["a", "b"]},
        "token": "<redacted>",
    }


def test_record_is_published_with_an_atomic_artifact_and_every_cache_hit_has_it(
    repo: Repo, tmp_path: Path
) -> None:
    calls = []

    @Artifact("outdir", provenance=True, cache=True, repo=repo.path)
    def build(outdir: Path) -> None:
        calls.append(1)
        outdir.mkdir()
        (outdir / "part-0").write_text("x")

    out = tmp_path / "out"
    build(out / "model")
    [model] = [p for p in out.iterdir() if p.is_dir()]
    assert Path(record_path(model)).name == model.name + ".provenance.json"
    assert read(model)["artifact"] == model.name
    assert build(out / "model") is None
    assert calls == [1]
    Path(record_path(model)).unlink()  # an artifact without its record is no hit
    with pytest.warns(TaggedArtifactsWarning, match="a directory with no record stood"):
        build(out / "model")
    assert calls == [1, 1]
    assert read(model)["artifact"] == model.name
    [aside] = out.glob("taggedartifacts-replaced-model-*")  # the old one: moved, not deleted
    assert (aside / "part-0").read_text() == "x"


def test_a_failed_call_leaves_no_record(repo: Repo, tmp_path: Path) -> None:
    @Artifact("outpath", provenance=True, repo=repo.path)
    def plain(outpath: Path) -> None:
        outpath.write_text("partial")
        raise RuntimeError("boom")

    @Artifact("outpath", provenance=True, atomic=True, repo=repo.path)
    def atomic(outpath: Path) -> None:
        outpath.write_text("partial")
        raise RuntimeError("boom")

    for func in (plain, atomic):
        with pytest.raises(RuntimeError):
            func(tmp_path / "x.txt")
    assert not list(tmp_path.glob("*.provenance.json"))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(PREFIX)]


def test_record_files_respect_the_umask(repo: Repo, tmp_path: Path) -> None:
    @Artifact("outpath", provenance=True, repo=repo.path)
    def save(outpath: Path) -> Path:
        outpath.write_text("x")
        return outpath

    out = save(tmp_path / "a.txt")
    assert os.stat(record_path(out)).st_mode & 0o777 == os.stat(out).st_mode & 0o777


def test_describe(repo: Repo, tmp_path: Path) -> None:
    @Artifact("outpath", {"k": 1}, provenance=True, repo=repo.path)
    def save(outpath: Path) -> Path:
        outpath.write_text("four")
        return outpath

    out = save(tmp_path / "a.txt")
    info = describe(out)
    tag = parse(out)
    assert (info["commit"], info["config"], info["untagged"], info["size"]) == (
        tag.commit,
        tag.config,
        "a.txt",
        4,
    )
    assert info["provenance"]["commit"] == repo.head()
    bare = tmp_path / "b-abc1234-0123456789.txt"
    bare.write_text("")
    assert describe(bare)["provenance"] is None
    with pytest.raises(FileNotFoundError):
        describe(tmp_path / "c-abc1234-0123456789.txt")
    with pytest.raises(ValueError, match="carries no tag"):
        describe(tmp_path / "plain.txt")


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:token@github.com/a/b.git", "https://github.com/a/b.git"),
        ("https://ghp_abc@github.com/a/b.git", "https://github.com/a/b.git"),
        ("ssh://git:pw@host/a.git", "ssh://git@host/a.git"),
        ("git@github.com:a/b.git", "git@github.com:a/b.git"),
        ("https://github.com/a/b", "https://github.com/a/b"),
        ("https://gitlab.com/a/b.git?private_token=s3cret", "https://gitlab.com/a/b.git"),
        ("https://host/a.git#token=s3cret", "https://host/a.git"),
    ],
)
def test_credentials_are_stripped(url: str, clean: str) -> None:
    assert strip_credentials(url) == clean


@pytest.mark.parametrize(
    ("artifact", "record"),
    [
        ("runs/loss-abc1234-0123456789.png", "runs/loss-abc1234-0123456789.png.provenance.json"),
        ("runs/model-abc1234-0123456789/", "runs/model-abc1234-0123456789.provenance.json"),
        (
            "s3://b/x-abc1234-0123456789.png?v=1",
            "s3://b/x-abc1234-0123456789.png.provenance.json?v=1",
        ),
        (
            "s3://b/r#1/x-abc1234-0123456789.png",
            "s3://b/r#1/x-abc1234-0123456789.png.provenance.json",
        ),
    ],
)
def test_record_sits_next_to_the_artifact_and_a_url_keeps_its_query(
    artifact: str, record: str
) -> None:
    assert record_path(artifact) == record


def _write(prefix: str, outpath: Path) -> None:
    outpath.write_text(prefix)


def test_the_record_names_the_function_behind_a_partial(repo: Repo, tmp_path: Path) -> None:
    save = Artifact("outpath", provenance=True, repo=repo.path)(functools.partial(_write, "x"))
    save(outpath=tmp_path / "a.txt")
    [version] = versions(tmp_path / "a.txt")
    record = read(version.path)
    assert record["function"] == {"file": None, "module": __name__, "qualname": "_write"}


def test_the_record_holds_the_config_as_it_was_before_the_call(repo: Repo, tmp_path: Path) -> None:
    config = {"layers": [64, 64]}

    @Artifact("outpath", config, provenance=True, repo=repo.path)
    def train(outpath: Path) -> Path:
        config["layers"].append(128)  # the function changes what it was given
        outpath.write_text("weights")
        return outpath

    record = read(train(tmp_path / "m.bin"))
    assert record["config"] == {"layers": [64, 64]}
    assert record["config_hash"] == config_hash({"layers": [64, 64]})
