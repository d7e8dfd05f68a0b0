"""The tag never lies: a clean name means committed code ran, from import to publish.

Each test here is a way that code no commit holds once got a clean name: an edit
git's racy-clean rule exists for, a module changed on disk before the first
decorated call, and code that changed or loaded while the function ran.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import Repo, make_repo

from taggedartifacts import Artifact, DirtyRepositoryError, git_state


def _edit_in_the_commits_second(base: Path) -> Repo:
    """A repository whose committed ``model.py`` was rewritten in place, with the same
    size, in the very second the commit wrote the index (tried until the clock allows)."""
    for _ in range(50):
        shutil.rmtree(base, ignore_errors=True)
        repo = make_repo(base)
        repo.write("model.py", "LR = 2\n")
        repo.commit("model")
        (repo.path / "model.py").write_text("LR = 3\n")
        index = os.stat(repo.path / ".git" / "index")
        model = os.stat(repo.path / "model.py")
        if int(model.st_mtime) == int(model.st_ctime) == int(index.st_mtime):
            return repo
    pytest.fail("no edit landed in the commit's second in 50 tries")


def _next_second() -> None:
    time.sleep(1.05 - time.time() % 1)


def test_an_edit_in_the_second_of_the_commit_is_dirty(tmp_path: Path) -> None:
    # git trusts an entry's stat data only when the entry is older than the index file:
    # the copy of the index that git status refreshes must keep the index's own time.
    repo = _edit_in_the_commits_second(tmp_path / "repo")
    _next_second()  # a copy made now, with a new time, would make the entry look old
    state = git_state(repo.path)
    assert state.dirty
    assert state.changed == ("model.py",)
    assert repo.git("diff-files", "--name-only").strip() == "model.py"  # as git says


def test_an_edit_in_the_second_of_the_commit_is_dirty_for_a_scope_and_for_paths(
    tmp_path: Path,
) -> None:
    repo = _edit_in_the_commits_second(tmp_path / "repo")
    _next_second()

    @Artifact("outpath", repo=repo.path, depends_on=["model.py"])
    def save(outpath: str) -> str:
        return outpath

    with pytest.raises(DirtyRepositoryError):
        save.paths("out.txt")
    with pytest.raises(DirtyRepositoryError):
        save("out.txt")
