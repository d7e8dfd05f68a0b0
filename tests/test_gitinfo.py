from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, count_processes, make_repo

from taggedartifacts import GitError, NotAGitRepositoryError, _git, _gitinfo, git_state


def test_clean_tree(repo: Repo) -> None:
    state = git_state(repo.path)
    assert state.commit == repo.head()
    assert len(state.commit) == 40
    assert (state.dirty, state.diff, state.changed) == (False, None, ())


def test_state_from_a_subdirectory(repo: Repo) -> None:
    sub = repo.path / "deep" / "er"
    sub.mkdir(parents=True)
    assert git_state(sub).commit == repo.head()


def test_current_directory_is_the_default(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.path)
    assert git_state().commit == repo.head()


def test_commit_is_read_at_every_call(repo: Repo) -> None:
    first = git_state(repo.path).commit
    repo.write("code.py", "print('changed')\n")
    second_commit = repo.commit("second")
    assert git_state(repo.path).commit == second_commit != first


def test_unstaged_change_is_dirty(repo: Repo) -> None:
    repo.write("code.py", "print('edited')\n")
    state = git_state(repo.path)
    assert state.dirty
    assert state.changed == ("code.py",)
    assert state.root == str(repo.path)
    assert state.diff is not None
    assert len(state.diff) == 64


def test_staged_only_change_is_dirty(repo: Repo) -> None:
    repo.write("new.py", "x = 1\n")
    repo.git("add", "new.py")
    assert git_state(repo.path).dirty


def test_staged_deletion_is_dirty(repo: Repo) -> None:
    repo.git("rm", "-q", "code.py")
    state = git_state(repo.path)
    assert state.dirty
    assert state.changed == ("code.py",)


def test_untracked_files_count_only_when_asked(repo: Repo) -> None:
    repo.write("notes.txt", "scratch\n")
    assert not git_state(repo.path).dirty
    state = git_state(repo.path, untracked=True)
    assert state.dirty
    assert state.changed == ("notes.txt",)


def test_ignored_files_never_count(repo: Repo) -> None:
    repo.write(".gitignore", "out/\n")
    repo.commit("ignore out")
    repo.write("out/plot.png", "png")
    assert not git_state(repo.path, untracked=True).dirty


def test_same_dirty_state_same_fingerprint_other_state_other_fingerprint(repo: Repo) -> None:
    repo.write("code.py", "print('a')\n")
    a1 = git_state(repo.path).diff
    repo.write("code.py", "print('b')\n")
    b = git_state(repo.path).diff
    repo.write("code.py", "print('a')\n")
    a2 = git_state(repo.path).diff
    assert a1 == a2 != b


def test_fingerprint_ignores_whether_a_change_is_staged(repo: Repo) -> None:
    repo.write("code.py", "print('a')\n")
    unstaged = git_state(repo.path).diff
    repo.git("add", "code.py")
    assert git_state(repo.path).diff == unstaged


def test_fingerprint_covers_binary_files_and_untracked_content(repo: Repo) -> None:
    repo.write("blob.bin", bytes(range(256)))
    repo.commit("binary")
    repo.write("blob.bin", bytes(range(255, -1, -1)))
    one = git_state(repo.path).diff
    repo.write("blob.bin", bytes(range(1, 256)) + b"\x00")
    assert git_state(repo.path).diff != one
    repo.git("checkout", "blob.bin")
    repo.write("scratch.txt", "one")
    u1 = git_state(repo.path, untracked=True).diff
    repo.write("scratch.txt", "two")
    assert git_state(repo.path, untracked=True).diff != u1


def test_an_edit_among_thousands_of_remembered_untracked_files_is_seen(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over a thousand remembered files are checked in a thread while git runs.
    real_now = time.time_ns  # a minute on: their stat data is old enough to be trusted
    monkeypatch.setattr(time, "time_ns", lambda: real_now() + 60 * 10**9)
    data = repo.path / "data"
    data.mkdir()
    for i in range(1200):
        (data / f"{i}.txt").write_text(f"{i:04}")
    first = git_state(repo.path, untracked=True)
    assert first.diff is not None
    worked_out: list[object] = []
    real = _gitinfo._state_of

    def counted(*args: Any) -> Any:
        worked_out.append(args)
        return real(*args)

    monkeypatch.setattr(_gitinfo, "_state_of", counted)
    assert git_state(repo.path, untracked=True) == first
    assert worked_out == []  # asked again: the state remembered, not worked out again
    (data / "700.txt").write_text("edit")  # the same size: git status prints the same
    assert git_state(repo.path, untracked=True).diff != first.diff
    assert len(worked_out) == 1


def test_staged_mode_change_is_dirty_but_work_tree_mode_is_not(repo: Repo) -> None:
    os.chmod(repo.path / "code.py", 0o755)
    assert not git_state(repo.path).dirty  # see _gitinfo: core.fileMode is pinned off
    repo.git("update-index", "--chmod=+x", "code.py")
    state = git_state(repo.path)
    assert state.dirty
    assert state.changed == ("code.py",)


def test_no_commit_yet_is_a_clear_error(tmp_path: Path) -> None:
    empty = make_repo(tmp_path / "empty", commit=False)
    with pytest.raises(GitError, match="no commit yet; make a first commit"):
        git_state(empty.path)


def test_no_repository(outside: Path) -> None:
    with pytest.raises(NotAGitRepositoryError) as info:
        git_state(outside)
    message = str(info.value)
    assert str(outside) in message
    assert "TAGGEDARTIFACTS_COMMIT" in message
    assert isinstance(info.value, OSError)
    assert info.value.searched == (str(outside),)


def test_environment_commit_is_used_without_a_repository(
    outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "ABCDEF0123")
    state = git_state(outside)
    assert (state.commit, state.dirty, state.diff) == ("abcdef0123", False, None)


def test_environment_commit_does_not_override_a_real_repository(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "abcdef0")
    assert git_state(repo.path).commit == repo.head()


@pytest.mark.parametrize("bad", ["abc12", "xyz1234", "a" * 41, "HEAD"])
def test_bad_environment_commit_is_refused(
    outside: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", bad)
    with pytest.raises(NotAGitRepositoryError, match="is not a commit sha; set it to 7 to 40 hex"):
        git_state(outside)


def test_detached_head(repo: Repo) -> None:
    first = repo.head()
    repo.write("code.py", "print(2)\n")
    repo.commit("second")
    repo.git("checkout", "-q", "--detach", first)
    assert git_state(repo.path).commit == first


def test_linked_worktree(repo: Repo, tmp_path: Path) -> None:
    repo.git("worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    (tmp_path / "wt" / "code.py").write_text("print('side')\n")
    state = git_state(tmp_path / "wt")
    assert state.commit == repo.head()
    assert state.dirty
    assert not git_state(repo.path).dirty


@pytest.fixture
def with_submodule(repo: Repo, tmp_path: Path) -> tuple[Repo, Path]:
    lib = make_repo(tmp_path / "lib")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "lib")
    repo.commit("add submodule")
    return repo, repo.path / "lib"


def test_changed_submodule_is_dirty(with_submodule: tuple[Repo, Path]) -> None:
    repo, sub = with_submodule
    assert not git_state(repo.path).dirty
    (sub / "code.py").write_text("print('in submodule')\n")
    one = git_state(repo.path)
    assert one.dirty
    assert one.changed == ("lib",)
    (sub / "code.py").write_text("print('other')\n")
    assert git_state(repo.path).diff != one.diff


def test_untracked_files_inside_a_submodule_follow_the_untracked_flag(
    with_submodule: tuple[Repo, Path],
) -> None:
    repo, sub = with_submodule
    (sub / "scratch.txt").write_text("x")
    assert not git_state(repo.path).dirty
    assert git_state(repo.path, untracked=True).dirty


def test_git_state_inside_the_submodule_describes_the_submodule(
    with_submodule: tuple[Repo, Path],
) -> None:
    _, sub = with_submodule
    assert (
        git_state(sub).commit
        == subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=sub, capture_output=True, text=True, check=True
        ).stdout.strip()
    )


def test_one_git_call_when_clean_and_no_diff_work_until_status_says_dirty(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_processes(monkeypatch)
    git_state(repo.path)  # the first call for a directory also asks where its work tree is
    first = [next(a for a in ("rev-parse", "ls-files", "status") if a in c) for c in calls]
    assert first == ["rev-parse", "ls-files", "status"]  # ls-files: flags in a new index
    calls.clear()
    git_state(repo.path)
    assert len(calls) == 1
    assert "status" in calls[0]
    repo.write("code.py", "print('edited')\n")
    calls.clear()
    assert git_state(repo.path).dirty
    assert len(calls) == 1
    assert "status" in calls[0]


def test_the_git_state_needs_no_gitpython(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "git", None)  # what `import git` sees without GitPython
    assert git_state(repo.path).commit == repo.head()


def git_wrapper(tmp_path: Path) -> Path:
    """``tmp_path/bin/my-git``: runs git, and says so in ``tmp_path/log``."""
    real = shutil.which("git")
    assert real is not None
    (tmp_path / "bin").mkdir()
    wrapper = tmp_path / "bin" / "my-git"
    wrapper.write_text(f'#!/bin/sh\necho called >> "{tmp_path}/log"\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_git_is_found_through_gitpythons_variable(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GIT_PYTHON_GIT_EXECUTABLE", str(git_wrapper(tmp_path)))
    assert git_state(repo.path).commit == repo.head()
    assert (tmp_path / "log").read_text().startswith("called")


def test_a_relative_git_executable_is_the_one_found_before_a_change_of_directory(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git_wrapper(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_PYTHON_GIT_EXECUTABLE", "bin/my-git")
    assert git_state(repo.path).commit == repo.head()
    monkeypatch.chdir(repo.path)  # a script may change directory between calls
    assert git_state(repo.path).commit == repo.head()
    assert (tmp_path / "log").read_text().count("called") >= 2


def test_missing_git_executable_is_a_clear_error(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GIT_PYTHON_GIT_EXECUTABLE", str(tmp_path / "no-such-git"))
    with pytest.raises(GitError, match=r"^git was not found \('.*no-such-git' is not an execu"):
        git_state(repo.path)
    monkeypatch.delenv("GIT_PYTHON_GIT_EXECUTABLE")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError, match=r"install git, or set GIT_PYTHON_GIT_EXECUTABLE to the"):
        git_state(repo.path)


def test_a_failing_git_is_run_again_for_its_message(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo.path / ".git" / "index").write_bytes(b"garbage")  # git refuses a corrupt index
    with pytest.raises(GitError, match=r"^git status failed in .*: fatal: .*index file"):
        git_state(repo.path)


def test_a_git_directory_git_cannot_read_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A linked worktree whose main repository moved away: there is a .git, but git refuses it.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".git").write_text(f"gitdir: {tmp_path / 'gone' / '.git' / 'worktrees' / 'x'}\n")
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "abcdef0")  # must not be used instead
    with pytest.raises(GitError, match=r"^git cannot read the repository at .*broken: fatal: not"):
        git_state(broken)
    with pytest.raises(GitError, match=r"; repair it \(.*git worktree repair\) or pass repo="):
        git_state(broken)


def test_git_messages_keep_their_advice_on_one_line() -> None:
    # What git 2.39 prints for a repository owned by another user.
    stderr = (
        b"fatal: detected dubious ownership in repository at '/srv/repo'\n"
        b"To add an exception for this directory, call:\n\n"
        b"\tgit config --global --add safe.directory /srv/repo\n"
    )
    proc = subprocess.CompletedProcess(["git"], 128, b"", stderr)
    assert _git.message(proc) == (
        "fatal: detected dubious ownership in repository at '/srv/repo' "
        "To add an exception for this directory, call: "
        "git config --global --add safe.directory /srv/repo"
    )
    hinted = subprocess.CompletedProcess(["git"], 1, b"", b"hint: try this\nerror: it failed\n")
    assert _git.message(hinted) == "error: it failed"
    assert _git.message(subprocess.CompletedProcess(["git"], 3, b"", b"")) == ("exit status 3")
