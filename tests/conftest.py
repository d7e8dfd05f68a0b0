"""Shared fixtures: every test that needs git gets a throwaway repository of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_COMMITTER_DATE": "2024-01-02T03:04:05+00:00",
}


class Repo:
    """A throwaway git work tree with a few helpers."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, check: bool = True) -> str:
        return subprocess.run(
            ["git", *args], cwd=self.path, check=check, capture_output=True, text=True
        ).stdout

    def write(self, name: str, content: str | bytes = "x\n") -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return target

    def commit(self, message: str = "change", *files: str) -> str:
        self.git("add", "-A", *files)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


def make_repo(path: Path, *, commit: bool = True) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path)
    repo.git("init", "-q", "-b", "main")
    if commit:
        repo.write("code.py", "print('hello')\n")
        repo.commit("initial")
    return repo


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the machine's git config, identity or the override variables, and
    none writes into this checkout: each starts in its own temporary directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    for name in (
        "TAGGEDARTIFACTS_COMMIT",
        "TAGGEDARTIFACTS_ALLOW_DIRTY",
        "TAGGEDARTIFACTS_NOTEBOOK",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A work tree with one commit."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory in no work tree (the temp dir is outside this checkout)."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


def count_processes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """From now on, every command the library runs through ``subprocess.run`` (git: every
    git call goes through it) is appended to the returned list, then run as usual."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(command: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(command)
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    return calls
