"""Shared fixtures: every test that needs git gets a throwaway repository of its own.

Optional test dependencies: a test that needs a package beyond the test-core extra
(pytest, hypothesis, NumPy) gets it with ``pytest.importorskip(name, reason=missing(...))``,
so that with test-core it is skipped and says what to install. Two hooks below hold that:
such a skip fails when its reason does not name the test extra, and every such skip fails
under ``TAGGEDARTIFACTS_ALL_TESTS=1``, which .ci/run sets: CI never skips a test because a
dependency did not install.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

ALL_TESTS = os.environ.get("TAGGEDARTIFACTS_ALL_TESTS") == "1"
TEST_EXTRA = "pip install -e '.[test]'"


def missing(what: str) -> str:
    """The skip reason for a test whose dependency ``what`` is not installed."""
    return f"{what} is not installed (it is in the test extra: {TEST_EXTRA})"


def _missing_dependency(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str | None:
    """The reason of a skip raised by ``pytest.importorskip`` (a module that does not
    import), else None: other skips (a Python this machine lacks) stay skips."""
    if excinfo is None or not isinstance(excinfo.value, pytest.skip.Exception):
        return None
    if not any(entry.name == "importorskip" for entry in excinfo.traceback):
        return None
    return str(excinfo.value.msg)


def _refused(reason: str) -> str | None:
    """Why a skip for a missing dependency is a failure here, or None if it may skip."""
    if ALL_TESTS:
        return (
            "TAGGEDARTIFACTS_ALL_TESTS=1 runs every test, but a test dependency is "
            f"missing: {reason}"
        )
    if TEST_EXTRA not in reason:
        return f"a skip for a missing dependency must say what to install ({TEST_EXTRA}): {reason}"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A skip inside a test or a fixture."""
    report = yield
    reason = _missing_dependency(call.excinfo)
    refused = _refused(reason) if reason is not None else None
    if refused is not None:
        report.outcome = "failed"
        report.longrepr = refused
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A skip at a test module's top level (pytest keeps the call on the report)."""
    report = yield
    call: pytest.CallInfo[Any] | None = getattr(report, "call", None)
    reason = _missing_dependency(call.excinfo if call is not None else None)
    refused = _refused(reason) if reason is not None else None
    if refused is not None:
        report.outcome = "failed"
        report.longrepr = refused
    return report


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
