"""Safe in shared directories: no link, planted file or stuck holder can move, hang or lie.

Where a case needs a second user (another member of the lab writing in the same
directory), the test creates one with ``useradd`` and runs that user's part as shell
commands under that user's id; the victim is this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    LockTimeoutError,
    TaggedArtifactsWarning,
    UnsafePathError,
    _locks,
    prune,
    verify,
    versions,
)

PEER = "ta-peer"


@pytest.fixture(scope="module")
def peer() -> str:
    """Another local user, who may write where the victim writes."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("a second local user needs root and useradd to be made; not here")
    if subprocess.run(["id", PEER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", PEER], check=True)
    return PEER


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory everyone may write to, as a lab's share (not sticky: others may rename)."""
    path = Path(tempfile.mkdtemp(prefix="shared-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_peer(user: str, script: str, cwd: Path) -> None:
    subprocess.run(["/bin/sh", "-c", script], cwd=cwd, user=user, check=True)


def test_a_private_directory_swapped_for_a_link_publishes_nothing(
    repo: Repo, peer: str, shared: Path, tmp_path: Path
) -> None:
    private = tmp_path / "private"  # the victim's own files, where the peer cannot write
    private.mkdir()
    (private / "thesis.tex").write_text("three years of work")

    @Artifact("outpath", repo=repo.path, atomic=True)
    def build(outpath: Path) -> None:
        outpath.write_text("result")
        stage = outpath.parent.name
        # Meanwhile the peer moves the stage away and leaves a link to the victim's files.
        as_peer(peer, f"mv {stage} {stage}.taken && ln -s {private} {stage}", shared)

    with pytest.raises(UnsafePathError, match="was replaced while the function ran"):
        build(shared / "thesis.tex")
    assert (private / "thesis.tex").read_text() == "three years of work"  # not moved
    assert not list(shared.glob("thesis-*"))  # nothing published


def test_a_link_planted_at_a_build_lock_is_never_written_through(
    repo: Repo, peer: str, shared: Path, tmp_path: Path
) -> None:
    @Artifact("outpath", repo=repo.path, cache=True)
    def build(outpath: Path) -> None:
        outpath.write_text("result")

    name = Path(build.paths(shared / "table.csv")["outpath"]).name
    import hashlib

    lock = f".taggedartifacts-build-{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"
    target = tmp_path / "victim-made-this"  # anywhere the victim can write
    as_peer(peer, f"ln -s {target} {lock}", shared)
    with pytest.raises(UnsafePathError, match="not a lock file this library made"):
        build(shared / "table.csv")
    assert not target.exists()


def test_a_link_at_a_stale_looking_stage_lock_is_not_followed(
    repo: Repo, peer: str, shared: Path, tmp_path: Path
) -> None:
    target = tmp_path / "victim-made-this"
    as_peer(peer, f"ln -s {target} .taggedartifacts-0123456789abcdef.lock", shared)

    @Artifact("outpath", repo=repo.path, atomic=True)
    def build(outpath: Path) -> None:
        outpath.write_text("result")

    build(shared / "out.txt")  # sweeping the directory first: the link is not ours to use
    assert not target.exists()


def _cached_builder(repo: Repo, calls: list[str]) -> Any:
    def build(outpath: Path) -> dict[str, int]:
        calls.append(str(outpath))
        outpath.write_text("result")
        return {"rows": 3}

    return Artifact("outpath", repo=repo.path, cache=True)(build)


@pytest.mark.parametrize("planted", ["fifo", "endless", "deep", "returned", "not json"])
def test_a_planted_or_broken_record_is_a_miss_never_a_hang(
    repo: Repo, tmp_path: Path, planted: str
) -> None:
    calls: list[str] = []
    build: Any = _cached_builder(repo, calls)
    made = Path(build(tmp_path / "out.txt") and next(tmp_path.glob("out-*.txt")))
    record = made.parent / (made.name + ".provenance.json")
    good = json.loads(record.read_text())
    record.unlink()
    if planted == "fifo":
        os.mkfifo(record)  # reading it would wait for a writer for ever
    elif planted == "endless":
        record.symlink_to("/dev/zero")  # reading it would eat memory
    elif planted == "deep":
        record.write_text("[" * 100_000 + "]" * 100_000)
    elif planted == "returned":
        record.write_text(json.dumps({**good, "returned": {"\x00tuple": 7}}))
    else:
        record.write_text("{ not json")
    started = time.monotonic()
    with pytest.warns(TaggedArtifactsWarning, match=r"is not a record taggedartifacts wrote"):
        assert build(tmp_path / "out.txt") == {"rows": 3}
    assert time.monotonic() - started < 10
    assert len(calls) == 2  # a miss: built again
    assert json.loads(record.read_text())["config_hash"] == good["config_hash"]


HOLDER = """
import sys, time
from pathlib import Path
from taggedartifacts import Artifact

@Artifact("outpath", cache=True, repo={repo!r})
def build(outpath):
    Path({started!r}).write_text("started")
    time.sleep(600)

build(sys.argv[1])
"""


def _write(outpath: Path) -> None:
    Path(outpath).write_text("x")


async def _write_x(outpath: Path) -> None:
    _write(outpath)


@pytest.mark.parametrize("how", ["option", "environment", "async"])
def test_a_stopped_holder_is_named_and_the_wait_is_bounded(
    repo: Repo, tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    started = tmp_path / "started"
    script = tmp_path / "holder.py"
    script.write_text(HOLDER.format(repo=str(repo.path), started=str(started)))
    target = tmp_path / "out" / "table.csv"
    holder = subprocess.Popen([sys.executable, str(script), str(target)])
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline, "the holder never started"
            time.sleep(0.02)
        holder.send_signal(signal.SIGSTOP)  # stuck: neither working nor gone
        options: dict[str, Any] = {"lock_timeout": 1.5} if how != "environment" else {}
        if how == "environment":
            monkeypatch.setenv("TAGGEDARTIFACTS_LOCK_TIMEOUT", "1.5")
        tagged = Artifact("outpath", cache=True, repo=repo.path, **options)
        build = tagged(_write_x)  # an async function waits on its event loop
        built = tagged(_write)

        def call() -> None:
            if how == "async":  # with the same bound, and the same notes
                asyncio.run(asyncio.wait_for(build(target), 30))
            else:
                built(target)

        caplog.set_level("INFO", logger="taggedartifacts")
        began = time.monotonic()
        with pytest.raises(LockTimeoutError, match=f"held by process {holder.pid} on ") as info:
            call()
        assert 1.5 <= time.monotonic() - began < 10
        assert info.value.holder.startswith(f"process {holder.pid} on ")
        assert f"it is held by process {holder.pid}" in caplog.text  # said while waiting
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_timeout_that_is_not_a_number_is_refused(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TypeError, match="lock_timeout must be a number of seconds"):
        Artifact("outpath", cache=True, lock_timeout=-1)
    monkeypatch.setenv("TAGGEDARTIFACTS_LOCK_TIMEOUT", "soon")
    build = Artifact("outpath", cache=True, repo=repo.path)(lambda outpath: None)
    with pytest.raises(TypeError, match="TAGGEDARTIFACTS_LOCK_TIMEOUT='soon' is not a number"):
        build(tmp_path / "x.txt")


def test_private_index_directories_of_killed_processes_are_swept(
    repo: Repo, tmp_path: Path
) -> None:
    memory = tmp_path / "runtime"
    memory.mkdir()
    env = {**os.environ, "XDG_RUNTIME_DIR": str(memory)}
    call = f"from taggedartifacts import git_state; git_state({str(repo.path)!r})"
    killed = subprocess.Popen(
        [sys.executable, "-c", call + "; import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
        env=env,
    )
    killed.wait()
    [left] = memory.glob("taggedartifacts-index-*")  # SIGKILL: no clean-up ran
    subprocess.run([sys.executable, "-c", call], env=env, check=True)
    assert not left.exists()  # its owner is gone: the next process swept it
    assert list(memory.glob("taggedartifacts-index-*")) == []  # and removed its own


def test_prune_removes_only_versions_a_record_shows_this_library_made(
    repo: Repo, tmp_path: Path
) -> None:
    calls: list[str] = []
    _cached_builder(repo, calls)(tmp_path / "out.txt")
    mine = tmp_path / "out-abc1234-0123456789.txt"  # a user's file of the same shape
    mine.write_text("the user's own notes")
    found = versions(tmp_path / "out.txt")
    dry = prune(found, dry_run=True)
    assert [v.name for v in dry.unrecorded] == [mine.name]
    assert mine.name not in [v.name for v in dry.removed]
    done = prune(found)
    assert mine.exists()
    assert len(done.removed) == 1
    prune(versions(tmp_path / "out.txt"), unrecorded=True)
    assert not mine.exists()


def test_verify_says_which_versions_hold_what_was_published(repo: Repo, tmp_path: Path) -> None:
    calls: list[str] = []
    build: Any = _cached_builder(repo, calls)
    build(tmp_path / "out.txt")
    [made] = tmp_path.glob("out-*.txt")
    assert [c.state for c in verify(tmp_path / "out.txt")] == ["intact"]
    made.write_text("RESULT")  # the same size, other bytes
    [check] = verify(made)
    assert (check.state, check.intact) == ("modified", False)
    made.write_text("changed, and longer")  # a hit checks the size: built again
    with pytest.warns(TaggedArtifactsWarning, match="was changed since"):
        build(tmp_path / "out.txt")
    assert len(calls) == 2
    assert made.read_text() == "result"
    (tmp_path / "out-abc1234-0123456789.txt").write_text("no record")
    states = {c.path.name: c.state for c in verify(tmp_path / "out.txt")}  # type: ignore[union-attr]
    assert states == {made.name: "intact", "out-abc1234-0123456789.txt": "unrecorded"}
    with pytest.raises(FileNotFoundError):
        verify(tmp_path / "nothing.txt")


def test_a_holder_between_taking_the_lock_and_signing_it_is_still_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "build.lock"
    path.write_text("")  # created and taken, not yet signed
    note = "process 7 on host since 2026-12-03 10:00:00"
    monkeypatch.setattr(time, "sleep", lambda seconds: path.write_text(note + "\n"))
    assert _locks.FileLock(str(path)).holder() == note  # read again, once signed


def test_a_new_holders_note_replaces_a_longer_last_one_whole(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    path.write_text("process 123456789 on a-very-long-host-name since 2026-12-03 10:00:00\n")
    fd = os.open(path, os.O_RDWR)
    try:
        _locks._sign(fd)
    finally:
        os.close(fd)
    holder = _locks.FileLock(str(path)).holder() or ""
    assert holder.startswith(f"process {os.getpid()} on ")
    assert "a-very-long-host-name" not in holder  # written over, padded: nothing of it left


def test_a_lock_file_grown_by_another_user_is_cut_not_copied(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    with path.open("wb") as fh:
        fh.truncate(2**40)  # a terabyte, sparse: padded whole, it would exhaust memory
    lock = _locks.FileLock(str(path))
    assert lock.acquire(blocking=False)
    try:
        assert path.stat().st_size <= 256
        assert (lock.holder() or "").startswith(f"process {os.getpid()} on ")
    finally:
        lock.release()
    assert not lock.held


def test_a_wait_that_ends_as_the_holder_lets_go_is_no_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = _locks.FileLock(str(tmp_path / "gone.lock"))  # no lock file: nobody holds it
    patience = _locks.Patience(lock, 0.0, "the output")
    assert patience.pause() >= 0  # over the bound, but the next try may take it
    (tmp_path / "gone.lock").write_text("process 7 on host since then\n")
    with pytest.raises(LockTimeoutError, match="it is held by process 7 on host"):
        patience.pause()
