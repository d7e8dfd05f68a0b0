from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

import pytest
from conftest import Repo, count_processes, make_repo

from taggedartifacts import Artifact, NotAGitRepositoryError, parse, pinned


def namer(repo: Repo) -> Artifact:
    return Artifact("out", repo=repo.path)


def commit_of(repo: Repo) -> str:
    @namer(repo)
    def name(out: str) -> str:
        return out

    commit = parse(name("x.txt")).commit
    assert commit is not None
    return commit


def test_state_is_read_once_for_the_block(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    first = repo.head()[:7]
    with pinned(repo.path) as state:
        assert state.commit == repo.head()
        repo.write("code.py", "print('committed inside the block')\n")
        repo.commit("inside")
        runs = count_processes(monkeypatch)
        assert [commit_of(repo) for _ in range(5)] == [first] * 5
        assert runs == []  # no git call inside the block
        monkeypatch.undo()
    assert commit_of(repo) == repo.head()[:7] != first


def test_other_repositories_read_their_own_state(repo: Repo, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")
    with pinned(repo.path):
        other.write("code.py", "print('other moved on')\n")
        other.commit("other")
        assert commit_of(other) == other.head()[:7]


def test_nested_blocks(repo: Repo, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")
    outer_commit = repo.head()[:7]
    with pinned(repo.path):
        with pinned(other.path):
            repo.write("code.py", "print(1)\n")
            repo.commit("moves on")
            assert commit_of(repo) == outer_commit  # still the outer block's state
        assert commit_of(repo) == outer_commit
    assert commit_of(repo) != outer_commit


def test_threads_see_only_their_own_context(repo: Repo) -> None:
    before = repo.head()[:7]
    results: dict[str, str] = {}
    with pinned(repo.path):
        repo.write("code.py", "print(2)\n")
        repo.commit("moves on")
        copied = contextvars.copy_context()
        fresh = contextvars.Context()
        threads = [
            threading.Thread(target=lambda: results.update(copied=copied.run(commit_of, repo))),
            threading.Thread(target=lambda: results.update(fresh=fresh.run(commit_of, repo))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == {"copied": before, "fresh": repo.head()[:7]}


def test_asyncio_tasks_inherit_the_block_they_were_created_in(repo: Repo) -> None:
    before = repo.head()[:7]

    async def name() -> str:
        await asyncio.sleep(0)
        return commit_of(repo)

    async def main() -> tuple[str, str]:
        with pinned(repo.path):
            inside = asyncio.create_task(name())
            repo.write("code.py", "print(3)\n")
            repo.commit("moves on")
        outside = asyncio.create_task(name())
        return await inside, await outside

    assert asyncio.run(main()) == (before, repo.head()[:7])


def test_pinned_outside_a_repository(outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotAGitRepositoryError), pinned(outside):
        pass
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "abcdef1")
    with pinned(outside) as state:
        assert state.commit == "abcdef1"
