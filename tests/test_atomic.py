"""atomic=True: a tagged file is complete or absent, and nothing else is touched."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    ArtifactConflictError,
    InvalidPathError,
    TaggedArtifactsWarning,
    _atomic,
    describe,
    parse,
    versions,
)
from taggedartifacts._atomic import sweep
from taggedartifacts._tagging import PRIVATE_PREFIX as PREFIX


def hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(PREFIX))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_function_writes_in_a_private_directory_with_the_exact_name(
    repo: Repo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    seen: list[Path] = []

    @Artifact("outpath", atomic=True, repo=repo.path)
    def save(outpath: Path) -> str:
        seen.append(outpath)
        assert outpath.parent.name.startswith(PREFIX)
        assert outpath.parent.parent == out
        outpath.write_text("complete")
        return "ok"

    assert save(out / "plot.png") == "ok"
    final = out / seen[0].name
    assert parse(final).untagged == "plot.png"
    assert final.read_text() == "complete"
    assert hidden(out) == []


def test_side_files_come_along_and_directories_are_renamed_whole(
    repo: Repo, tmp_path: Path
) -> None:
    @Artifact("outpath", atomic=True, repo=repo.path)
    def shapefile(outpath: str) -> None:
        base = outpath[: -len(".shp")]
        for ext in (".shx", ".dbf", ".shp"):
            Path(base + ext).write_text(ext)

    @Artifact("outdir", atomic=True, repo=repo.path)
    def model(outdir: Path) -> None:
        (outdir / "weights").mkdir(parents=True)
        (outdir / "weights" / "w.bin").write_bytes(b"\x00" * 10)

    shapefile(str(tmp_path / "map.shp"))
    names = sorted(p.suffix for p in tmp_path.glob("map-*"))
    assert names == [".dbf", ".shp", ".shx"]
    model(tmp_path / "model")
    [built] = tmp_path.glob("model-*")
    assert (built / "weights" / "w.bin").read_bytes() == b"\x00" * 10
    assert hidden(tmp_path) == []


def test_the_artifact_is_moved_into_place_last(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved: list[str] = []
    real_replace = os.replace

    def spy(source: str, target: str, **dir_fds: int) -> None:
        if "dst_dir_fd" in dir_fds:  # out of the private directory into place
            moved.append(os.path.basename(target))
        real_replace(source, target, **dir_fds)

    @Artifact("outpath", atomic=True, provenance=True, repo=repo.path)
    def shapefile(outpath: str) -> None:
        base = outpath[: -len(".shp")]
        for ext in (".shp", ".shx", ".dbf"):  # the artifact first, as a user may well write
            Path(base + ext).write_text(ext)

    monkeypatch.setattr(os, "replace", spy)
    shapefile(str(tmp_path / "map.shp"))
    assert moved[-1].endswith(".shp")  # a reader that sees the .shp sees all of it
    assert sorted(n.rsplit(".", 1)[-1] for n in moved[:-1]) == ["dbf", "json", "shx"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failing_function_leaves_nothing_and_touches_nothing(
    repo: Repo, tmp_path: Path, error: type[BaseException]
) -> None:
    (tmp_path / "loss-0000000-0000000000.png").write_bytes(b"older version")
    (tmp_path / "unrelated.txt").write_text("mine")
    before = snapshot(tmp_path)

    @Artifact("outpath", atomic=True, repo=repo.path)
    def save(outpath: Path) -> None:
        outpath.write_bytes(b"half")
        (outpath.parent / "side.txt").write_text("side")
        raise error("boom")

    with pytest.raises(error):
        save(tmp_path / "loss.png")
    assert snapshot(tmp_path) == before
    assert hidden(tmp_path) == []


def test_a_side_file_never_overwrites_an_unrelated_file(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text("the user's")

    @Artifact("outpath", atomic=True, repo=repo.path)
    def save(outpath: Path) -> None:
        outpath.write_text("artifact")
        (outpath.parent / "metadata.json").write_text("ours")

    with pytest.raises(ArtifactConflictError, match="nothing was overwritten") as info:
        save(tmp_path / "a.txt")
    assert isinstance(info.value, FileExistsError)
    assert (tmp_path / "metadata.json").read_text() == "the user's"
    assert versions(tmp_path / "a.txt") == []


def test_a_reader_that_raises_moves_and_deletes_nothing(repo: Repo, tmp_path: Path) -> None:
    @Artifact("inpath", {"lr": 0.1}, repo=repo.path)
    def read(inpath: Path) -> str:
        return inpath.read_text()

    @Artifact("outpath", {"lr": 0.2}, repo=repo.path)
    def write(outpath: Path) -> None:
        outpath.write_text("lr 0.2")

    write(tmp_path / "table.csv")
    (tmp_path / "table-curve-abc1234-0123456789.csv").write_text("another stem")
    before = snapshot(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        read(tmp_path / "table.csv")
    assert snapshot(tmp_path) == before
    notes = "\n".join(getattr(info.value, "__notes__", []))
    [existing] = versions(tmp_path / "table.csv")
    assert f"versions that do (newest first):\n  {existing.name} (commit" in notes
    assert "table-curve" not in notes


CHILD = """
import sys, time
from pathlib import Path
from taggedartifacts import Artifact

@Artifact("outpath", {{"size": 1}}, atomic=True, repo={repo!r})
def write(outpath, ready):
    with open(outpath, "wb") as fh:
        fh.write(b"a" * 500_000)
        fh.flush()
        Path(ready).write_text("writing")
        time.sleep({sleep})
        fh.write(b"b" * 500_000)

write(sys.argv[1], sys.argv[2])
"""


def child_script(tmp_path: Path, repo: Repo, sleep: float) -> Path:
    script = tmp_path / f"child_{sleep}.py"
    script.write_text(CHILD.format(repo=str(repo.path), sleep=sleep))
    return script


def test_sigkill_mid_write_leaves_no_tagged_file_and_the_next_call_completes(
    repo: Repo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, str(child_script(tmp_path, repo, 60)), str(out / "big.bin"), str(ready)]
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline, "child never started writing"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert versions(out / "big.bin") == []
    assert len(hidden(out)) == 2  # the dead writer's private directory and its lock, hidden

    subprocess.run(
        [sys.executable, str(child_script(tmp_path, repo, 0)), str(out / "big.bin"), str(ready)],
        check=True,
    )
    [version] = versions(out / "big.bin")
    assert Path(version.path).read_bytes() == b"a" * 500_000 + b"b" * 500_000
    assert hidden(out) == []  # the stale directory was collected


def test_eight_concurrent_writers_leave_one_complete_file(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    script = child_script(tmp_path, repo, 0.2)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(out / "same.bin"), str(tmp_path / f"r{i}")]
        )
        for i in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    [version] = versions(out / "same.bin")
    assert Path(version.path).read_bytes() == b"a" * 500_000 + b"b" * 500_000
    assert sorted(os.listdir(out)) == [version.name]


def test_a_live_writer_is_never_swept_whatever_its_pid_namespace(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ready = tmp_path / "ready"
    command = [
        sys.executable,
        str(child_script(tmp_path, repo, 3)),
        str(out / "big.bin"),
        str(ready),
    ]
    if (
        shutil.which("unshare")
        and subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True).returncode
        == 0
    ):
        command = ["unshare", "--pid", "--fork", *command]  # its PID means nothing out here
    child = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline, "child never started writing"
        time.sleep(0.02)
    monkeypatch.setattr(_atomic, "_SWEPT", set())
    sweep(str(out))  # another writer's sweep of the same directory, mid-write
    assert len(hidden(out)) == 2  # kept: its lock is held
    assert child.wait(timeout=60) == 0
    [version] = versions(out / "big.bin")
    assert Path(version.path).read_bytes() == b"a" * 500_000 + b"b" * 500_000


def test_entries_without_a_lock_are_swept_only_when_abandoned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_style = tmp_path / f"{PREFIX}0000ffff-2-abc"  # made by a version without locks
    old_style.mkdir()
    os.utime(old_style, (0, 0))
    recent = tmp_path / f"{PREFIX}0000ffff-1-abc"
    recent.mkdir()
    stale_temporary = tmp_path / f"{PREFIX}0123456789abcdef.tmp"
    stale_temporary.write_text("{")
    os.utime(stale_temporary, (0, 0))
    monkeypatch.setattr(_atomic, "_SWEPT", set())
    sweep(str(tmp_path))
    assert hidden(tmp_path) == [recent.name]


def test_a_record_that_cannot_be_written_keeps_the_functions_output(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taggedartifacts import _run

    def disk_full(store: object, path: str, data: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(_run, "write_record", disk_full)
    handed = []

    @Artifact("outpath", atomic=True, provenance=True, repo=repo.path)
    def train(outpath: Path) -> None:
        handed.append(outpath)
        outpath.write_text("weights after a long run")

    with pytest.raises(OSError, match="No space left") as info:
        train(tmp_path / "model.bin")
    notes = getattr(info.value, "__notes__", [])
    [kept] = tmp_path.glob("taggedartifacts-unpublished-model-*")
    assert notes == [
        f"taggedartifacts: the output was not published to {tmp_path}; it is kept in "
        f"{kept}: move what you need from there"
    ]
    assert (kept / handed[0].name).read_text() == "weights after a long run"  # kept, visible
    assert versions(tmp_path / "model.bin") == []  # and nothing half-done was published


def test_output_kept_after_a_conflict_is_visible_and_never_swept(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "metadata.json").write_text("the user's")

    @Artifact("outpath", atomic=True, repo=repo.path)
    def train(outpath: Path) -> None:
        outpath.write_text("a day of training")
        (outpath.parent / "metadata.json").write_text("ours")

    with pytest.raises(ArtifactConflictError) as info:
        train(tmp_path / "model.bin")
    [kept] = tmp_path.glob("taggedartifacts-unpublished-model-*")
    assert f"it is kept in {kept}" in "\n".join(getattr(info.value, "__notes__", []))
    monkeypatch.setattr(_atomic, "_SWEPT", set())  # a later call, as in a new process

    @Artifact("outpath", atomic=True, repo=repo.path)
    def other(outpath: Path) -> None:
        outpath.write_text("x")

    other(tmp_path / "other.txt")
    [model] = kept.glob("model-*.bin")
    assert model.read_text() == "a day of training"  # still there


def test_names_too_long_for_the_file_system_fail_before_the_call(
    repo: Repo, tmp_path: Path
) -> None:
    ran = []

    @Artifact("outpath", provenance=True, repo=repo.path)
    def save(outpath: Path) -> None:
        ran.append(outpath)

    tagged_length = len("-abc1234-0123456789")
    stem = "x" * (250 - tagged_length - len(".csv"))  # a 250-byte name: its record is 266
    out = tmp_path / "out"
    with pytest.raises(InvalidPathError, match=r"266 bytes, 11 more than the file system allows"):
        save(out / f"{stem}.csv")
    assert ran == []
    assert not out.exists()


def test_file_names_that_are_not_utf8_are_recorded(repo: Repo, tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    name = os.fsdecode(raw)  # 'caf\udce9.txt': any name Linux holds

    @Artifact("outpath", cache=True, provenance=True, repo=repo.path)
    def save(outpath: str) -> str:
        Path(outpath).write_text("data")
        return outpath

    made = save(name)
    assert os.path.exists(made)
    assert describe(made)["provenance"]["requested_path"] == name
    assert save(name) == made  # the record reads back: a cache hit


def test_a_partial_directory_left_by_a_plain_run_never_stands_for_the_new_build(
    repo: Repo, tmp_path: Path
) -> None:
    @Artifact("outdir", repo=repo.path)  # no atomic: killed mid-way, it leaves a part
    def plain(outdir: Path) -> None:
        outdir.mkdir()
        (outdir / "epoch1.bin").write_text("1")
        raise KeyboardInterrupt

    @Artifact("outdir", cache=True, repo=repo.path)
    def cached(outdir: Path) -> str:
        outdir.mkdir()
        for epoch in ("epoch1.bin", "epoch2.bin"):
            (outdir / epoch).write_text("done")
        return "trained"

    with pytest.raises(KeyboardInterrupt):
        plain(tmp_path / "runs")
    with pytest.warns(TaggedArtifactsWarning, match="moved to"):
        assert cached(tmp_path / "runs") == "trained"
    [built] = versions(tmp_path / "runs")
    assert sorted(p.name for p in Path(built.path).iterdir()) == ["epoch1.bin", "epoch2.bin"]
    assert cached(tmp_path / "runs") == "trained"  # and the hit is the complete one
    [aside] = tmp_path.glob("taggedartifacts-replaced-runs-*")
    assert [p.name for p in aside.iterdir()] == ["epoch1.bin"]  # the part, kept
