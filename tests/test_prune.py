"""prune(): which versions go, that their records go with them, and that nothing else does."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    DirtyRepositoryError,
    DirtyRepositoryWarning,
    InvalidArgumentError,
    NotAGitRepositoryError,
    Version,
    prune,
    versions,
)

DAY = 24 * 3600
LR1: dict[str, Any] = {"lr": 0.1}
LR2: dict[str, Any] = {"lr": 0.2}


def make(repo: Repo, config: dict[str, Any], age_days: float, **options: Any) -> Path:
    """A version of out/loss.png with a provenance record, last modified ``age_days`` ago."""

    @Artifact("out", config, provenance=True, repo=repo.path, **options)
    def save(out: Path) -> Path:
        out.write_text(f"loss curve {config}")
        return out

    path = save(repo.path / "out" / "loss.png")
    then = time.time() - age_days * DAY
    os.utime(path, (then, then))
    return path


class Made:
    """Versions made 40 (an ancestor of HEAD), 30 (a commit on another branch), 20 and
    10 (HEAD, two configs) and 1 day ago (HEAD, dirty), plus files prune must not touch."""

    def __init__(self, repo: Repo) -> None:
        self.ancestor = make(repo, LR1, 40)
        repo.git("checkout", "-q", "-b", "experiment")
        repo.write("code.py", "print('experiment')\n")
        repo.commit("An experiment that went nowhere", "code.py")
        self.elsewhere = make(repo, LR1, 30)
        repo.git("checkout", "-q", "main")
        repo.write("notes.txt", "tuned\n")
        repo.commit("Tune", "notes.txt")
        self.head_lr1 = make(repo, LR1, 20)
        self.head_lr2 = make(repo, LR2, 10)
        repo.write("code.py", "print('edited')\n")
        with pytest.warns(DirtyRepositoryWarning):
            self.dirty = make(repo, LR2, 1, allow_dirty=True)
        repo.git("checkout", "code.py")
        self.untagged = repo.write("out/loss.png", "the user's own file")
        self.other_stem = repo.write("out/loss-curve-0000000-0123456789.png", "another name")
        self.path = repo.path / "out" / "loss.png"


@pytest.fixture
def made(repo: Repo) -> Made:
    return Made(repo)


def names(found: Sequence[Version]) -> list[str]:
    return [v.name for v in found]


def file_names(*paths: Path) -> list[str]:
    return [p.name for p in paths]


def left(made: Made) -> list[str]:
    return names(versions(made.path))


def test_unreachable_removes_versions_of_commits_outside_heads_history(made: Made) -> None:
    result = prune(versions(made.path), unreachable=True)
    assert names(result.removed) == [made.elsewhere.name]
    record = f"{made.elsewhere}.provenance.json"
    assert result.paths == [str(made.elsewhere), record]
    assert not made.elsewhere.exists()
    assert not os.path.exists(record)
    assert made.untagged.read_text() == "the user's own file"
    assert made.other_stem.exists()
    assert os.path.exists(f"{made.ancestor}.provenance.json")
    assert left(made) == file_names(made.dirty, made.head_lr2, made.head_lr1, made.ancestor)


def test_freed_counts_the_versions_and_their_records(made: Made) -> None:
    record = Path(f"{made.elsewhere}.provenance.json")
    expected = made.elsewhere.stat().st_size + record.stat().st_size
    assert prune(versions(made.path), unreachable=True).freed == expected


def test_dirty_selects_dirty_versions(made: Made) -> None:
    assert names(prune(versions(made.path), dirty=True).removed) == [made.dirty.name]


def test_keep_counts_the_newest_over_all_configs(made: Made) -> None:
    result = prune(versions(made.path), keep=2)
    assert names(result.removed) == file_names(made.head_lr1, made.elsewhere, made.ancestor)
    assert left(made) == file_names(made.dirty, made.head_lr2)


def test_older_than_goes_by_modification_time(made: Made) -> None:
    result = prune(versions(made.path), older_than=25)
    assert names(result.removed) == file_names(made.elsewhere, made.ancestor)


def test_rules_combine(made: Made) -> None:
    assert prune(versions(made.path), unreachable=True, older_than=35).removed == []
    kept_one = prune(versions(made.path), older_than=15, keep=1, dry_run=True)
    assert names(kept_one.removed) == file_names(made.elsewhere, made.ancestor)
    lr1_old = prune(versions(made.path), config=LR1, older_than=25, dry_run=True)
    assert names(lr1_old.removed) == file_names(made.elsewhere, made.ancestor)


def test_config_never_removes_what_the_current_state_names(repo: Repo, made: Made) -> None:
    result = prune(versions(made.path), config=LR1)
    assert names(result.spared) == [made.head_lr1.name]
    assert names(result.removed) == file_names(made.elsewhere, made.ancestor)
    assert made.head_lr1.exists()
    # A config hash works as well as the mapping; the current version stays even at keep=0,
    # and a dirty version of that config is not the current one on a clean tree.
    digest = made.head_lr2.name.split("-")[-1].split(".")[0]
    again = prune(versions(made.path), config=digest, keep=0)
    assert (names(again.removed), names(again.spared)) == (
        [made.dirty.name],
        [made.head_lr2.name],
    )


def test_dry_run_removes_nothing_and_reports_the_same(made: Made) -> None:
    before = left(made)
    dry = prune(versions(made.path), keep=1, dry_run=True)
    assert dry.dry_run
    assert left(made) == before
    real = prune(versions(made.path), keep=1)
    assert (real.paths, real.freed) == (dry.paths, dry.freed)
    assert left(made) == [made.dirty.name]


def test_a_directory_artifact_goes_whole(repo: Repo) -> None:
    @Artifact("out", LR1, provenance=True, repo=repo.path)
    def save(out: Path) -> None:
        (out / "sub").mkdir(parents=True)
        (out / "weights.bin").write_bytes(b"w" * 100)
        (out / "sub" / "config.json").write_bytes(b"c" * 20)

    save(repo.path / "model")
    (version,) = versions(repo.path / "model")
    record = Path(f"{version.path}.provenance.json")
    record_size = record.stat().st_size
    result = prune(versions(repo.path / "model"), keep=0)
    assert result.paths == [str(version.path), str(record)]
    assert result.freed == 120 + record_size
    assert sorted(os.listdir(repo.path)) == [".git", "code.py"]  # no hidden leftovers either


def test_a_directory_removal_cut_short_leaves_no_artifact(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    @Artifact("out", LR1, cache=True, repo=repo.path)
    def build(out: Path) -> None:
        out.mkdir()
        (out / "w.bin").write_bytes(b"weights")

    build(repo.path / "model")
    import shutil

    def interrupted(path: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prune(versions(repo.path / "model"), keep=0)
    # Out of its tagged name before anything inside went: no cache hit on half a model.
    assert versions(repo.path / "model") == []
    [hidden] = [n for n in os.listdir(repo.path) if n.startswith(".taggedartifacts-")]
    assert (repo.path / hidden / "w.bin").exists()  # a later stage cleans it up


def test_unreachable_outside_a_work_tree_is_refused(
    repo: Repo, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The current directory's work tree did not make these: to it, every commit is unknown.
    monkeypatch.chdir(repo.path)
    repo.git("checkout", "-q", "-b", "abandoned")
    repo.git("commit", "-q", "--allow-empty", "-m", "an idea that went nowhere")
    other = repo.head()[:7]
    repo.git("checkout", "-q", "main")
    (outside / f"loss-{other}-0123456789.png").write_text("x")
    (outside / "loss-abc1234-0123456789.png").write_text("x")  # a commit git does not know
    with pytest.raises(NotAGitRepositoryError, match="no telling which versions are unreachable"):
        prune(versions(outside / "loss.png"), unreachable=True)
    assert (outside / f"loss-{other}-0123456789.png").exists()
    unsure = prune(versions(outside / "loss.png"), unreachable=True, repo=repo.path)
    assert (unsure.removed, names(unsure.unrecorded)) == ([], [f"loss-{other}-0123456789.png"])
    named = prune(versions(outside / "loss.png"), unreachable=True, repo=repo.path, unrecorded=True)
    assert names(named.removed) == [f"loss-{other}-0123456789.png"]  # the unknown one: kept


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep": -1}, "keep must be a count"),
        ({"keep": True}, "keep must be a count"),
        ({"older_than": -1}, "older_than must be days"),
        ({"config": "0123"}, "at least its first 10 hex digits"),
    ],
)
def test_bad_arguments(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        prune([], **options)


def test_nothing_given_nothing_done(tmp_path: Path) -> None:
    assert prune(versions(tmp_path / "none.png"), keep=0) == ([], [], 0, [], False, ())


def test_config_spares_the_name_a_depends_on_scope_gives(repo: Repo) -> None:
    scoped = make(repo, LR1, 3, depends_on=["code.py"])
    repo.write("notes.txt", "a commit outside the scope\n")
    repo.commit("Notes", "notes.txt")  # the scoped name stays: its cache still hits
    whole_tree = prune(versions(scoped.parent / "loss.png"), config=LR1, dry_run=True)
    assert names(whole_tree.removed) == [scoped.name]  # HEAD names another version
    in_scope = prune(versions(scoped.parent / "loss.png"), config=LR1, depends_on=["code.py"])
    assert (in_scope.removed, names(in_scope.spared)) == ([], [scoped.name])


def test_config_on_a_dirty_tree_is_refused(repo: Repo, made: Made) -> None:
    repo.write("code.py", "print('edited')\n")  # which version is current is not known now
    with pytest.raises(DirtyRepositoryError, match="unknown until they are committed"):
        prune(versions(made.path), config=LR2, keep=0)
    assert made.head_lr2.exists()
