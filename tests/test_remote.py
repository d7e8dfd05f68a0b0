"""fsspec URLs against a real S3 protocol server on loopback (moto) and fsspec's memory://."""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Repo, missing

from taggedartifacts import Artifact, MissingExtraError, describe, parse, prune, versions

fsspec = pytest.importorskip("fsspec", reason=missing("fsspec (the remote extra)"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    pytest.importorskip("s3fs", reason=missing("s3fs (for the S3 cases)"))
    server_module = pytest.importorskip(
        "moto.server", reason=missing("moto[server] (for the S3 cases)")
    )
    server_class = server_module.ThreadedMotoServer

    port = free_port()
    server = server_class(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["s3", "memory"])
def base(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh remote directory URL, on S3 (moto) or in fsspec's memory file system."""
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    if request.param == "memory":
        return f"memory://{bucket}/runs"
    endpoint = request.getfixturevalue("s3_endpoint")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fsspec.filesystem("s3").mkdir(bucket)
    return f"s3://{bucket}/runs"


def objects(url: str) -> list[str]:
    fs, path = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    return sorted(p.rsplit("/", 1)[-1] for p in fs.find(path)) if fs.exists(path) else []


def test_cached_write_then_a_skipped_rerun(repo: Repo, base: str) -> None:
    calls = []

    @Artifact("outpath", {"lr": 0.1}, cache=True, provenance=True, repo=repo.path)
    def save(outpath: str) -> str:
        calls.append(outpath)
        assert not outpath.startswith(base)  # atomic: the function writes a local file
        Path(outpath).write_text("loss curve")
        return outpath

    made = save(base + "/loss.png")  # the URL it was published to, not the local file
    assert made == save.paths(base + "/loss.png")["outpath"]
    assert save(base + "/loss.png") == made  # a hit returns the same
    assert len(calls) == 1
    [name] = [n for n in objects(base) if n.endswith(".png")]
    assert made == f"{base}/{name}"
    assert parse(name).untagged == "loss.png"
    assert objects(base) == [name, name + ".provenance.json"]
    info = describe(base + "/" + name)
    assert info["size"] == len("loss curve")
    assert info["provenance"]["requested_path"] == base + "/loss.png"


def test_versions_lists_two_configs(repo: Repo, base: str) -> None:
    for lr in (0.1, 0.2):

        @Artifact("outpath", {"lr": lr}, atomic=True, repo=repo.path)
        def save(outpath: str) -> None:
            Path(outpath).write_text("x")

        save(base + "/loss.png")
    found = versions(base + "/loss.png")
    assert len(found) == 2
    assert {v.tag.config for v in found} == {
        parse(n).config for n in objects(base) if n.startswith("loss-")
    }
    assert all(str(v.path).startswith(base.split("://")[0] + "://") for v in found)


def test_versions_lists_a_directory_once(repo: Repo, base: str) -> None:
    @Artifact("outdir", atomic=True, provenance=True, repo=repo.path)
    def build(outdir: str) -> None:
        (Path(outdir) / "weights").mkdir(parents=True)
        (Path(outdir) / "weights" / "w.bin").write_bytes(b"w")

    build(base + "/model")
    fs, path = fsspec.core.url_to_fs(base)
    fs.pipe_file(path + "/loss.png", b"a file next to it")
    objects(base)  # its find() leaves "model-..." twice in s3fs's cached listing
    assert len(versions(base + "/model")) == 1


def test_atomic_directory_upload(repo: Repo, base: str) -> None:
    @Artifact("outdir", atomic=True, repo=repo.path)
    def build(outdir: str) -> None:
        (Path(outdir) / "weights").mkdir(parents=True)
        (Path(outdir) / "weights" / "w.bin").write_bytes(b"\x00\x01")
        (Path(outdir) / "meta.json").write_text("{}")

    build(base + "/model")  # a str URL stays a str; the local private path is a str too
    [version] = versions(base + "/model")
    fs, path = fsspec.core.url_to_fs(str(version.path))
    # The marker goes last: object stores show a directory's files one by one.
    assert sorted(p[len(path) :] for p in fs.find(path)) == [
        "/.taggedartifacts-complete",
        "/meta.json",
        "/weights/w.bin",
    ]
    assert fs.cat_file(path + "/weights/w.bin") == b"\x00\x01"


def test_an_unfinished_directory_upload_is_built_again_not_reused(
    repo: Repo, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    @Artifact("outdir", cache=True, repo=repo.path)
    def build(outdir: str) -> None:
        calls.append(outdir)
        Path(outdir).mkdir()
        (Path(outdir) / "w.bin").write_bytes(b"weights")

    fs, _ = fsspec.core.url_to_fs(base)

    def connection_lost(*args: object, **kwargs: object) -> None:
        raise ConnectionError("connection lost")

    with monkeypatch.context() as patch:  # the files go up, then the network goes down
        patch.setattr(fs, "pipe_file", connection_lost)  # fsspec caches this instance
        with pytest.raises(ConnectionError) as info:
            build(base + "/model")
    [note] = getattr(info.value, "__notes__", [])
    assert note.startswith(f"taggedartifacts: the output was not published to {base}")
    kept = Path(note.split(" it is kept in ")[1].split(": move what")[0])
    assert kept.name.startswith("taggedartifacts-unpublished-model-")  # visible, never swept
    assert (kept / Path(calls[0]).name / "w.bin").read_bytes() == b"weights"
    shutil.rmtree(kept)
    uploaded = [o for o in objects(base) if not o.endswith(".provenance.json")]
    assert uploaded == ["w.bin"]  # the file went up, the marker did not

    build(base + "/model")
    assert len(calls) == 2  # not reused: built and uploaded again
    uploaded = [o for o in objects(base) if not o.endswith(".provenance.json")]
    assert uploaded == [".taggedartifacts-complete", "w.bin"]
    build(base + "/model")
    assert len(calls) == 2  # now complete, so reused


def test_prune_removes_remote_versions_with_their_records(
    repo: Repo, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path)  # for URLs, the current directory's work tree knows the commits

    @Artifact("outpath", {"lr": 0.1}, cache=True, provenance=True, repo=repo.path)
    def save(outpath: str) -> None:
        Path(outpath).write_text("loss curve")

    @Artifact("outdir", atomic=True, provenance=True, repo=repo.path)
    def build(outdir: str) -> None:
        (Path(outdir) / "weights").mkdir(parents=True)
        (Path(outdir) / "weights" / "w.bin").write_bytes(b"w" * 100)

    save(base + "/loss.png")
    build(base + "/model")
    fs, _ = fsspec.core.url_to_fs(base)
    fs.pipe_file(fs._strip_protocol(base + "/loss.png"), b"the user's own file")
    assert prune(versions(base + "/loss.png"), unreachable=True).removed == []  # HEAD's

    [file_version] = versions(base + "/loss.png")
    record = fs.size(fs._strip_protocol(f"{file_version.path}.provenance.json"))
    pruned = prune(versions(base + "/loss.png"), keep=0)
    assert pruned.paths == [str(file_version.path), f"{file_version.path}.provenance.json"]
    assert pruned.freed == len("loss curve") + record
    [directory] = versions(base + "/model")
    record = fs.size(fs._strip_protocol(f"{directory.path}.provenance.json"))
    assert prune(versions(base + "/model"), keep=0, dry_run=True).freed == 100 + record
    assert objects(base) == [  # a dry run leaves it all
        ".taggedartifacts-complete",
        "loss.png",
        f"{directory.name}.provenance.json",
        "w.bin",
    ]
    prune(versions(base + "/model"), keep=0)
    assert objects(base) == ["loss.png"]
    assert versions(base + "/model") == []


def test_a_directory_removal_cut_short_is_built_again(
    repo: Repo, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    @Artifact("outdir", cache=True, repo=repo.path)
    def build(outdir: str) -> None:
        calls.append(outdir)
        Path(outdir).mkdir()
        (Path(outdir) / "w.bin").write_bytes(b"weights")

    build(base + "/model")
    fs, _ = fsspec.core.url_to_fs(base)

    def connection_lost(*args: object, **kwargs: object) -> None:
        raise ConnectionError("connection lost")

    with monkeypatch.context() as patch:  # the marker goes, then the network does
        patch.setattr(fs, "rm", connection_lost)  # fsspec caches this instance
        with pytest.raises(ConnectionError):
            prune(versions(base + "/model"), keep=0)
    assert [o for o in objects(base) if not o.endswith(".provenance.json")] == ["w.bin"]
    build(base + "/model")
    assert len(calls) == 2  # what is left is an unfinished upload: built again, not reused


def test_file_urls_are_renamed_into_place_like_paths(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "out"

    @Artifact("outpath", cache=True, provenance=True, repo=repo.path)
    def save(outpath: str) -> str:
        assert Path(outpath).parent.parent == out  # private directory next to the target
        Path(outpath).write_text("table")
        return "made"

    assert save(f"file://{out}/table.csv") == "made"
    [name] = [p.name for p in out.iterdir() if p.suffix == ".csv"]
    assert sorted(p.name for p in out.iterdir()) == [name, name + ".provenance.json"]
    assert save(f"file://{out}/table.csv") == "made"  # a cache hit: what the first returned


def test_a_failing_function_uploads_nothing(repo: Repo, base: str) -> None:
    @Artifact("outpath", atomic=True, provenance=True, repo=repo.path)
    def save(outpath: str) -> None:
        Path(outpath).write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        save(base + "/loss.png")
    assert objects(base) == []


def test_without_atomic_the_tagged_url_is_passed_through(repo: Repo, base: str) -> None:
    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> str:
        with fsspec.open(outpath, "w") as fh:
            fh.write("written by the function itself")
        return outpath

    url = save(base + "/table.csv")
    assert url.startswith(base + "/table-")
    assert objects(base) == [url.rsplit("/", 1)[-1]]


def test_urls_without_fsspec_name_the_extra(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fsspec", None)  # as if it were not installed

    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> None: ...

    with pytest.raises(MissingExtraError, match=r"pip install 'taggedartifacts\[remote\]'") as info:
        save("s3://bucket/loss.png")
    assert isinstance(info.value, ImportError)


def test_local_paths_never_import_fsspec(tmp_path: Path) -> None:
    # Defined in no file (python -c), so dirty: allowed here, as it changes nothing of this.
    import subprocess
    import sys

    script = (
        "import sys, os\n"
        "from taggedartifacts import Artifact\n"
        "os.environ['TAGGEDARTIFACTS_COMMIT'] = 'abcdef1'\n"
        "@Artifact('p', cache=True, provenance=True, allow_dirty=True)\n"
        f"def f(p):\n    open(p, 'w').write('x')\n"
        f"f({str(tmp_path / 'x.txt')!r})\n"
        "print('fsspec' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_cli_ls_lists_remote_versions(
    repo: Repo, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import subprocess
    import sys

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": s3_endpoint,  # fsspec's own configuration, read in the CLI
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_endpoint})
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3").mkdir(bucket)

    @Artifact("outpath", {"lr": 0.1}, atomic=True, repo=repo.path)
    def save(outpath: str) -> None:
        Path(outpath).write_text("x")

    save(f"s3://{bucket}/runs/loss.png")
    result = subprocess.run(
        [sys.executable, "-m", "taggedartifacts", "ls", f"s3://{bucket}/runs/loss.png", "--json"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["relation"] == "HEAD"
    assert row["size"] == 1
    assert parse(row["name"]).untagged == "loss.png"


def test_an_upload_cut_short_never_leaves_part_of_an_object_at_its_name(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = f"memory://bucket-{uuid.uuid4().hex[:12]}/runs"  # no atomic writes of its own
    calls = []

    @Artifact("outpath", cache=True, repo=repo.path)
    def save(outpath: str) -> None:
        calls.append(outpath)
        Path(outpath).write_bytes(b"x" * (8 << 20))

    fs, _ = fsspec.core.url_to_fs(base)
    real_put_file = fs.put_file

    def cut_short(local: str, remote_path: str, **kwargs: object) -> None:
        fs.pipe_file(remote_path, Path(local).read_bytes()[: 4 << 20])  # the first 4 MiB...
        raise ConnectionError("connection lost")  # ...then the network goes

    with monkeypatch.context() as patch:
        patch.setattr(fs, "put_file", cut_short)
        with pytest.raises(ConnectionError):
            save(base + "/model.bin")
    assert [o for o in objects(base) if o.startswith("model-")] == []  # no final key at all
    monkeypatch.setattr(fs, "put_file", real_put_file)
    save(base + "/model.bin")
    assert len(calls) == 2  # built again, never reused
    [name] = [o for o in objects(base) if o.startswith("model-") and o.endswith(".bin")]
    assert fs.cat_file(fsspec.core.url_to_fs(base)[1] + "/" + name) == b"x" * (8 << 20)
