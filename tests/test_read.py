"""Readers: read=True and read="latest" find the writer's output, or say what exists."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, count_processes

from taggedartifacts import Artifact, InvalidArgumentError, config_hash, parse, versions
from taggedartifacts._cli import main

CONFIG = {"lr": 0.1}


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("src/model.py", "LAYERS = 2\n")
    repo.commit("code")
    return repo


def pair(repo: Repo, read: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    """A writer and a reader of out/model.bin, decorated alike (as train.py and plot.py)."""
    seen: list[str] = []

    @Artifact("outpath", CONFIG, repo=repo.path, **options)
    def train(outpath: str) -> str:
        Path(outpath).write_text("weights")
        return outpath

    @Artifact("outpath", CONFIG, repo=repo.path, read=read, **options)
    def plot(outpath: str) -> str:
        seen.append(outpath)
        return Path(outpath).read_text()

    return train, plot, seen


def test_a_reader_finds_the_writers_output_across_unrelated_commits(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, seen = pair(project, True, depends_on=["src/"])
    made = train("out/model.bin")
    project.write("README.md", "# docs\n")
    project.commit("unrelated")
    assert plot("out/model.bin") == "weights"
    assert seen == [made]  # the exact name, spelled as given (relative)


def test_read_latest_finds_the_newest_clean_version_at_or_before_head(
    project: Repo, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, seen = pair(project, "latest")
    older = train("out/model.bin")
    project.write("src/model.py", "LAYERS = 3\n")
    project.commit("more layers")
    newer = train("out/model.bin")
    project.write("README.md", "# docs\n")
    project.commit("unrelated")  # no version at this commit: the newest before it is read
    with caplog.at_level(logging.INFO, logger="taggedartifacts"):
        assert plot("out/model.bin") == "weights"
    assert seen == [newer] != [older]
    commit = parse(newer).commit
    assert commit is not None
    assert any("reads" in r.getMessage() and commit in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_read_latest_skips_other_configs_dirty_versions_and_other_branches(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    _, plot, seen = pair(project, "latest")
    (project.path / "out").mkdir()
    digest = config_hash(CONFIG)[:10]
    base = project.head()[:7]
    good = f"out/model-{base}-{digest}.bin"
    for name, mtime in (
        (good, 1_000),
        (f"out/model-{base}-dirty0123456789-{digest}.bin", 2_000),  # dirty
        (f"out/model-{base}-{'f' * 10}.bin", 3_000),  # another config
        (f"out/model-{'e' * 7}-{digest}.bin", 4_000),  # a commit this repository lacks
    ):
        Path(name).write_text(name)
        os.utime(name, (mtime, mtime))
    assert plot("out/model.bin") == good
    assert seen == [good]


def test_a_missing_version_is_an_error_before_the_reader_runs(
    project: Repo, tmp_path: Path
) -> None:
    for read in (True, "latest"):
        _, plot, seen = pair(project, read)
        with pytest.raises(FileNotFoundError) as info:
            plot(str(tmp_path / "model.bin"))
        assert seen == []
        notes = getattr(info.value, "__notes__", [])
        assert notes
        assert "no other version of it does either" in notes[0]
        if read == "latest":  # the path it was given: no name it made up
            assert info.value.filename == str(tmp_path / "model.bin")
            assert str(info.value.strerror).startswith("no clean version with config ")


def test_read_refuses_options_that_write() -> None:
    options: dict[str, Any] = {"cache": True, "atomic": True, "provenance": True}
    for option in options:
        with pytest.raises(InvalidArgumentError, match=f"read=True with {option}"):
            Artifact("p", read=True, **{option: options[option]})
    with pytest.raises(InvalidArgumentError, match="read must be False, True or 'latest'"):
        Artifact("p", read="newest")  # type: ignore[arg-type]


def test_versions_filters_as_read_latest_does(project: Repo, tmp_path: Path) -> None:
    train, _, _ = pair(project, True)
    first = train(str(tmp_path / "m.bin"))
    project.write("src/model.py", "LAYERS = 3\n")
    project.commit("more layers")
    second = train(str(tmp_path / "m.bin"))
    (tmp_path / f"m-{'e' * 7}-{config_hash(CONFIG)[:10]}.bin").write_text("elsewhere")
    everything = versions(tmp_path / "m.bin")
    assert len(everything) == 3
    reachable = versions(tmp_path / "m.bin", config=CONFIG, clean=True, reachable=True,
                         repo=project.path)  # fmt: skip
    assert {str(v.path) for v in reachable} == {first, second}
    assert versions(tmp_path / "m.bin", config="0" * 10) == []
    assert len(versions(tmp_path / "m.bin", reachable=False, repo=project.path)) == 1


def test_the_latest_command(
    project: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project.path)
    train, _, _ = pair(project, True)
    assert main(["latest", "out/model.bin", "--config", '{"lr": 0.1}']) == 1
    assert "no clean version of out/model.bin" in capsys.readouterr().err
    made = train("out/model.bin")
    assert main(["latest", "out/model.bin", "--config", '{"lr": 0.1}']) == 0
    assert capsys.readouterr().out.strip() == made  # spelled as given: relative


def test_read_latest_prefers_the_newest_commit_not_the_newest_file(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, seen = pair(project, "latest")
    older = train("out/model.bin")
    project.write("src/model.py", "LAYERS = 3\n")
    project.commit("more layers")
    newer = train("out/model.bin")
    later = time.time() + 60
    os.utime(older, (later, later))  # copied, rsynced, or rebuilt at the old commit
    plot("out/model.bin")
    assert seen == [newer]


def test_read_latest_runs_no_extra_git_in_steady_state(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, _ = pair(project, "latest")
    for lr_commit in range(3):  # versions at three commits
        project.write("src/model.py", f"LAYERS = {lr_commit}\n")
        project.commit(f"commit {lr_commit}")
        train("out/model.bin")
    plot("out/model.bin")
    calls = count_processes(monkeypatch)
    plot("out/model.bin")
    assert [c for c in calls if "status" not in c] == []  # one git status, nothing else


@pytest.mark.parametrize("read", [True, "latest"])
def test_a_reader_checks_the_full_digest_where_a_record_has_it(
    project: Repo, tmp_path: Path, read: Any
) -> None:
    # These two configs share the 10 hex digits a name holds: only the record tells them apart.
    written, wanted = {"seed": 422948}, {"seed": 397884}
    assert config_hash(written)[:10] == config_hash(wanted)[:10]

    @Artifact("outpath", written, repo=project.path, provenance=True)
    def train(outpath: str) -> str:
        Path(outpath).write_text("weights of seed 422948")
        return outpath

    @Artifact("outpath", wanted, repo=project.path, read=read)
    def plot(outpath: str) -> str:
        return Path(outpath).read_text()

    train(str(tmp_path / "model.bin"))
    with pytest.raises(FileNotFoundError):
        plot(str(tmp_path / "model.bin"))


def _scoped_pair(repo: Repo) -> tuple[Any, Any, list[str]]:
    repo.write(".gitignore", "out/\n")  # outputs are not committed with the code
    repo.commit("ignore outputs")
    seen: list[str] = []
    options: dict[str, Any] = {"repo": repo.path, "depends_on": ["src/"]}

    @Artifact("outpath", CONFIG, provenance=True, **options)
    def train(outpath: str) -> str:
        Path(outpath).write_text((repo.path / "src" / "model.py").read_text())
        return outpath

    @Artifact("outpath", CONFIG, read="latest", **options)
    def plot(outpath: str) -> str:
        seen.append(outpath)
        return Path(outpath).read_text()

    return train, plot, seen


def test_read_latest_reads_the_code_that_runs_now_whatever_the_files_times(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, seen = _scoped_pair(project)
    now = train("out/model.bin")
    project.write("src/model.py", "LAYERS = 3\n")
    project.commit("more layers")
    other = train("out/model.bin")
    project.git("revert", "--no-edit", "HEAD")  # the first code again, at a new commit
    later = time.time() + 60
    os.utime(other, (later, later))  # the other code's file is the newest
    assert plot("out/model.bin") == "LAYERS = 2\n"
    assert seen == [now]


def test_read_latest_finds_the_code_of_now_though_its_commit_is_gone(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, seen = _scoped_pair(project)
    project.write("src/model.py", "LAYERS = 7\n")
    gone = project.commit("seven layers, in a commit to be rewritten")
    made = train("out/model.bin")
    project.git("commit", "-q", "--amend", "-m", "rewritten")  # as a rebase would
    project.git("reflog", "expire", "--expire=now", "--all")
    project.git("gc", "-q", "--prune=now")
    assert project.git("cat-file", "-t", gone, check=False) == ""  # the commit is gone
    assert plot("out/model.bin") == "LAYERS = 7\n"
    assert seen == [made]


def test_read_latest_takes_the_nearest_ancestor_not_the_newest_file(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    train, plot, seen = _scoped_pair(project)
    older = train("out/model.bin")
    project.write("src/model.py", "LAYERS = 3\n")
    project.commit("three")
    nearer = train("out/model.bin")
    project.write("src/model.py", "LAYERS = 4\n")
    project.commit("four: nothing made with this code yet")
    later = time.time() + 60
    os.utime(older, (later, later))
    assert plot("out/model.bin") == "LAYERS = 3\n"
    assert seen == [nearer]


def test_where_versions_stand_takes_a_bounded_number_of_git_processes(
    project: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, _, _ = pair(project, True)
    for n in range(12):  # twelve versions, at twelve commits
        project.write("src/model.py", f"LAYERS = {n}\n")
        project.commit(f"commit {n}")
        train(str(tmp_path / "m.bin"))
    project.git("checkout", "-q", "HEAD~6")
    calls = count_processes(monkeypatch)
    reachable = versions(tmp_path / "m.bin", reachable=True, repo=project.path)
    rows = versions(tmp_path / "m.bin").rows(repo=str(project.path))
    assert len(reachable) == 6
    assert sorted(r["relation"] for r in rows) == ["HEAD"] + ["ancestor"] * 5 + ["other"] * 6
    assert len(calls) <= 4  # not one per version: a walk of HEAD's history for all
