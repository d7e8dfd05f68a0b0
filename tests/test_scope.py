"""depends_on: a commit outside the code's paths keeps every name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    DirtyRepositoryError,
    GitError,
    InvalidArgumentError,
    describe,
    git_state,
    parse,
    pinned,
)
from taggedartifacts import _git as git_runner
from taggedartifacts._cli import main


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("src/model.py", "LAYERS = 2\n")
    repo.write("README.md", "# a project\n")
    repo.commit("code and docs")
    return repo


def writer(repo: Repo, **options: Any) -> Any:
    calls = []

    @Artifact("outpath", {"lr": 0.1}, repo=repo.path, depends_on=["src/"], **options)
    def train(outpath: Path) -> Path:
        calls.append(outpath)
        outpath.write_text("weights")
        return outpath

    train.calls = calls  # type: ignore[attr-defined]
    return train


def test_a_commit_outside_the_scope_keeps_the_name_and_the_cache(
    project: Repo, tmp_path: Path
) -> None:
    train = writer(project, cache=True)
    code_commit = project.head()
    first = train(tmp_path / "model.bin")
    assert parse(first).commit == code_commit[:7]
    project.write("README.md", "# a project\n\nFixed a typo.\n")
    project.commit("docs only")
    assert train(tmp_path / "model.bin") == first  # same name: a cache hit
    assert len(train.calls) == 1
    project.write("src/model.py", "LAYERS = 3\n")
    new_code = project.commit("more layers")
    second = train(tmp_path / "model.bin")
    assert parse(second).commit == new_code[:7]
    assert len(train.calls) == 2


def test_the_functions_own_file_is_always_in_scope(project: Repo, tmp_path: Path) -> None:
    source = project.write("scripts/train.py", "def train(outpath):\n    return outpath\n")
    project.commit("a script")
    namespace: dict[str, Any] = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    train: Any = Artifact("outpath", depends_on=["src/"])(namespace["train"])
    before = parse(train(str(tmp_path / "a.txt"))).commit
    source.write_text("def train(outpath):\n    return outpath  # edited\n")
    with pytest.raises(DirtyRepositoryError, match=r"scripts/train\.py"):
        train(str(tmp_path / "a.txt"))
    after = project.commit("edit the script")
    with pytest.raises(DirtyRepositoryError, match=r"changed on disk after this process loaded"):
        train(str(tmp_path / "a.txt"))  # committed, but the old code is what runs here
    train = Artifact("outpath", depends_on=["src/"])(namespace["train"])  # decorated again:
    with pytest.raises(DirtyRepositoryError, match=r"changed on disk after"):  # same old code
        train(str(tmp_path / "a.txt"))
    new_process = (
        f"ns = {{}}\nexec(compile(open({str(source)!r}).read(), {str(source)!r}, 'exec'), ns)\n"
        "from taggedartifacts import Artifact, parse\n"
        "train = Artifact('outpath', depends_on=['src/'])(ns['train'])\n"
        f"print(parse(train({str(tmp_path / 'a.txt')!r})).commit)"
    )
    out = subprocess.run(
        [sys.executable, "-c", new_process], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == after[:7] != before


def test_only_changes_inside_the_scope_are_dirty(project: Repo, tmp_path: Path) -> None:
    train = writer(project)
    project.write("README.md", "# edited, not committed\n")
    assert not parse(train(tmp_path / "a.bin")).dirty  # outside the scope: not refused
    project.write("src/new_helper.py", "X = 1\n")  # untracked, inside: always counts
    with pytest.raises(DirtyRepositoryError) as info:
        train(tmp_path / "a.bin")
    assert info.value.changed == ("src/new_helper.py",)
    (project.path / "src" / "new_helper.py").unlink()
    project.write("src/model.py", "LAYERS = 5\n")
    with pytest.raises(DirtyRepositoryError, match=r"src/model\.py"):
        train(tmp_path / "a.bin")


def test_outputs_written_inside_the_scope_never_dirty_it(project: Repo) -> None:
    train = writer(project, cache=True)
    made = train(project.path / "src" / "model.bin")  # artifact and record land in src/
    assert made.exists()
    assert not git_state(project.path, depends_on=["src/"]).dirty
    assert train(project.path / "src" / "model.bin") == made


def test_the_scope_and_its_commit_are_recorded(project: Repo, tmp_path: Path) -> None:
    train = writer(project, provenance=True)
    code_commit = project.head()
    project.write("README.md", "# later\n")
    head = project.commit("docs")
    record = describe(train(tmp_path / "m.bin"))["provenance"]
    assert (record["commit"], record["head"], record["depends_on"]) == (
        code_commit,
        head,
        ["src/"],
    )


def test_checking_out_the_named_commit_gives_the_scopes_code(project: Repo) -> None:
    project.write("README.md", "# docs\n")
    project.commit("docs")
    state = git_state(project.path, depends_on=["src/"])
    assert state.head == project.head() != state.commit
    shown = project.git("show", f"{state.commit}:src/model.py")
    assert shown == (project.path / "src" / "model.py").read_text()


def test_an_unproven_answer_of_git_log_falls_back_to_head(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = project.head()
    project.write("src/model.py", "LAYERS = 9\n")
    head = project.commit("change")
    real = git_runner.check

    def wrong_log(directory: str, *args: str, **kwargs: Any) -> bytes:
        if args[0] == "log":
            return old.encode() + b"\n"  # as a merge could mislead history simplification
        return real(directory, *args, **kwargs)

    monkeypatch.setattr(git_runner, "check", wrong_log)
    assert git_state(project.path, depends_on=["src/"]).commit == head


@pytest.mark.parametrize(
    ("depends_on", "message"),
    [
        ([], "depends_on is empty"),
        ("src/", "depends_on must be a list of paths"),
        (["src/", 3], "every entry must be a path"),
    ],
)
def test_bad_depends_on_fails_at_decoration(depends_on: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Artifact("p", depends_on=depends_on)


@pytest.mark.parametrize(
    ("path", "message"),
    [("nothing/here", "names nothing tracked in"), ("../elsewhere", "is outside")],
)
def test_a_path_git_cannot_use_fails_before_the_function_runs(
    project: Repo, tmp_path: Path, path: str, message: str
) -> None:
    ran = []

    @Artifact("outpath", repo=project.path, depends_on=["src/", path])
    def save(outpath: Path) -> None:
        ran.append(outpath)

    with pytest.raises(InvalidArgumentError, match=f"depends_on names '{path}', which {message}"):
        save(tmp_path / "x.txt")
    assert ran == []


def test_the_command_line_takes_depends_on(
    project: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write("README.md", "# docs\n")
    project.commit("docs")
    monkeypatch.chdir(project.path)
    assert main(["tag", "out.png", "--depends-on", "src/", "--config", json.dumps({})]) == 0
    name = capsys.readouterr().out.strip()
    assert parse(name).commit == git_state(project.path, depends_on=["src/"]).commit[:7]


def test_paths_and_pinned_follow_the_scope(project: Repo, tmp_path: Path) -> None:
    train = writer(project)
    code_commit = project.head()
    project.write("README.md", "# later\n")
    project.commit("docs")
    assert parse(train.paths(tmp_path / "m.bin")["outpath"]).commit == code_commit[:7]
    with pinned(project.path):
        assert parse(train(tmp_path / "m.bin")).commit == code_commit[:7]


def test_a_shallow_clone_never_names_its_boundary_as_the_scopes_commit(
    project: Repo, tmp_path: Path
) -> None:
    project.write("README.md", "# docs only\n")
    project.commit("docs")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{project.path}", str(clone)], check=True
    )
    with pytest.raises(GitError, match=r"start of this shallow clone .* \(git fetch --unshallow"):
        git_state(clone, depends_on=["src/"])
    full = git_state(project.path, depends_on=["src/"])
    assert full.commit != full.head  # a full clone names the older commit that changed src/


def test_a_glob_in_depends_on_covers_what_it_matches(project: Repo, tmp_path: Path) -> None:
    project.write("src/notes.txt", "todo\n")
    project.commit("notes")

    @Artifact("outpath", repo=project.path, depends_on=["src/*.py"])
    def train(outpath: str) -> str:
        return outpath

    first = train(str(tmp_path / "a.txt"))
    project.write("src/notes.txt", "done\n")  # not matched: neither dirty nor renamed
    assert train(str(tmp_path / "a.txt")) == first
    project.commit("notes again")
    assert train(str(tmp_path / "a.txt")) == first
    project.write("src/model.py", "LAYERS = 5\n")  # matched
    with pytest.raises(DirtyRepositoryError, match=r"src/model\.py"):
        train(str(tmp_path / "a.txt"))
    project.commit("more layers")
    assert train(str(tmp_path / "a.txt")) != first


def test_output_kept_inside_the_scope_is_no_change_of_the_code(project: Repo) -> None:
    # Output this library kept after a failed publish, inside the scope, is not code.
    kept = project.path / "src" / "taggedartifacts-unpublished-model-20240101-000000-ab12"
    kept.mkdir()
    (kept / "train.log").write_text("a side file of the output")
    (project.path / "src" / "taggedartifacts-replaced-model-20240101-000000-cd34").mkdir()
    (project.path / "src" / "taggedartifacts-replaced-model-20240101-000000-cd34" / "x").touch()
    assert git_state(project.path, depends_on=["src/"]).dirty is False
