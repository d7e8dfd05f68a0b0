"""Names and dirty verdicts depend on the code, not on git config, environment or hooks.

Every case builds twin repositories with byte-identical commits; one gets the
config under test, the other none. Clean name, dirty verdict and dirty
fingerprint must agree between the twins.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Repo, make_repo

from taggedartifacts import Artifact, _gitinfo, git_state

MARKER = "hook-ran"


def script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _edit(repo: Repo) -> None:
    repo.write("code.py", "print('edited')\n")


def _edit_non_ascii(repo: Repo) -> None:
    repo.write("café/naïve.py", "x = 2\n")


def _crlf(repo: Repo) -> None:
    repo.write("code.py", "print('hello')\r\n")


def _untracked_in_subdir(repo: Repo) -> None:
    repo.write("new/dir/file.txt", "u")


def _chmod(repo: Repo) -> None:
    os.chmod(repo.path / "code.py", 0o755)


def _rename(repo: Repo) -> None:
    repo.git("mv", "code.py", "moved.py")


def _binary(repo: Repo) -> None:
    repo.write("data.bin", bytes(range(200, 256)) + b"\x00")


Case = tuple[str, Callable[[Path], dict[str, str]], Callable[[Repo], None]]
CASES: list[Case] = [
    ("diff.noprefix", lambda d: {"diff.noprefix": "true"}, _edit),
    ("diff.mnemonicPrefix", lambda d: {"diff.mnemonicPrefix": "true"}, _edit),
    ("diff.renames", lambda d: {"diff.renames": "copies"}, _rename),
    (
        "diff.external",
        lambda d: {"diff.external": script(d / "ext.sh", f"touch {d / MARKER}; echo x")},
        _edit,
    ),
    (
        "textconv",
        lambda d: {
            "diff.upper.textconv": script(d / "tc.sh", f"touch {d / MARKER}; tr a-z A-Z < $1"),
            "diff.upper.binary": "true",
        },
        _binary,
    ),
    ("color.ui", lambda d: {"color.ui": "always", "color.status": "always"}, _edit),
    ("core.quotePath", lambda d: {"core.quotePath": "true"}, _edit_non_ascii),
    (
        "status.showUntrackedFiles",
        lambda d: {"status.showUntrackedFiles": "all"},
        _untracked_in_subdir,
    ),
    ("status.submoduleSummary", lambda d: {"status.submoduleSummary": "true"}, _edit),
    ("core.autocrlf", lambda d: {"core.autocrlf": "true"}, _crlf),
    ("diff.ignoreSubmodules", lambda d: {"diff.ignoreSubmodules": "all"}, _edit),
    ("core.fileMode", lambda d: {"core.fileMode": "false"}, _chmod),
    ("core.hooksPath", lambda d: {"core.hooksPath": str(d / "hooks")}, _edit),
    (
        "core.fsmonitor",
        lambda d: {"core.fsmonitor": script(d / "fsmon.sh", f"touch {d / MARKER}; exit 1")},
        _edit,
    ),
    ("diff.context", lambda d: {"diff.context": "9", "diff.algorithm": "patience"}, _edit),
    (
        "core.excludesFile",
        lambda d: {"core.excludesFile": str(d / "ignore-all")},
        _untracked_in_subdir,
    ),
]


def twins(tmp_path: Path) -> tuple[Repo, Repo]:
    pair = []
    for name in ("configured", "plain"):
        repo = make_repo(tmp_path / name)
        repo.write("café/naïve.py", "x = 1\n")
        repo.write("data.bin", bytes(range(256)))
        repo.commit("content")
        (repo.path / ".git" / "info" / "attributes").write_text("*.bin diff=upper\n")
        pair.append(repo)
    assert pair[0].head() == pair[1].head()  # identical commits: same content, author and dates
    return pair[0], pair[1]


def observe(repo: Repo) -> tuple[str, bool, str | None, bool, str | None]:
    @Artifact("out", allow_dirty=True, repo=repo.path)
    def name(out: str) -> str:
        return out

    with pytest.warns() if git_state(repo.path).dirty else _no_warning():
        tagged = name("out.txt")
    strict = git_state(repo.path, untracked=True)
    return tagged, git_state(repo.path).dirty, git_state(repo.path).diff, strict.dirty, strict.diff


class _no_warning:
    def __enter__(self) -> None: ...

    def __exit__(self, *exc: object) -> None: ...


@pytest.mark.parametrize(("label", "settings", "change"), CASES, ids=[c[0] for c in CASES])
def test_git_config_changes_no_name_and_no_verdict(
    tmp_path: Path,
    label: str,
    settings: Callable[[Path], dict[str, str]],
    change: Callable[[Repo], None],
) -> None:
    configured, plain = twins(tmp_path)
    (tmp_path / "hooks").mkdir()
    for hook in ("pre-commit", "post-checkout", "post-index-change", "reference-transaction"):
        script(tmp_path / "hooks" / hook, f"touch {tmp_path / MARKER}")
    (tmp_path / "ignore-all").write_text("*\n")
    for key, value in settings(tmp_path).items():
        configured.git("config", key, value)

    assert observe(configured) == observe(plain)  # clean
    change(configured)
    change(plain)
    assert observe(configured) == observe(plain)  # dirty
    assert not (tmp_path / MARKER).exists(), "a hook, fsmonitor, external diff or textconv ran"


def test_the_fixed_verdicts_chosen_for_config_sensitive_cases(tmp_path: Path) -> None:
    """What the twins agree on, spelled out: see the _gitinfo module docstring for why."""
    repo = make_repo(tmp_path / "r")
    _chmod(repo)
    assert not git_state(repo.path).dirty  # a work-tree mode change alone is not a code change
    repo.git("checkout", "code.py")
    _crlf(repo)
    assert git_state(repo.path).dirty  # bytes differ from the commit, whatever autocrlf says


def test_changed_submodule_is_dirty_even_when_config_ignores_submodules(tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib")
    repo = make_repo(tmp_path / "main")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "lib")
    repo.commit("submodule")
    repo.git("config", "diff.ignoreSubmodules", "all")
    repo.git("config", "submodule.lib.ignore", "all")
    repo.git("config", "status.submoduleSummary", "true")
    (repo.path / "lib" / "code.py").write_text("changed\n")
    assert git_state(repo.path).dirty


@pytest.mark.parametrize(
    "variable", ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"]
)
def test_outer_git_environment_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """As inside a git hook of another repository: we still describe our own."""
    ours = make_repo(tmp_path / "ours")
    theirs = make_repo(tmp_path / "theirs")
    theirs.write("other.py", "print('theirs')\n")
    theirs.commit("theirs differs")
    theirs.write("code.py", "print('theirs, dirty')\n")
    values = {
        "GIT_DIR": str(theirs.path / ".git"),
        "GIT_WORK_TREE": str(theirs.path),
        "GIT_INDEX_FILE": str(theirs.path / ".git" / "index"),
        "GIT_OBJECT_DIRECTORY": str(theirs.path / ".git" / "objects"),
    }
    before = git_state(ours.path)
    assert before.commit != theirs.head()
    monkeypatch.setenv(variable, values[variable])
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'diff.noprefix'='true'")
    assert git_state(ours.path) == before


def test_a_held_index_lock_is_neither_needed_nor_touched(repo: Repo) -> None:
    lock = repo.path / ".git" / "index.lock"
    lock.write_text("held by someone else")
    index = repo.path / ".git" / "index"
    index_before = index.read_bytes(), index.stat().st_mtime_ns
    repo.write("code.py", "print('dirty, so the index would want a refresh')\n")
    os.utime(repo.path / "code.py", (1, 1))

    @Artifact("out", allow_dirty=True, repo=repo.path)
    def name(out: str) -> str:
        return out

    with pytest.warns():
        assert "dirty" in name("x.txt")
    assert lock.read_text() == "held by someone else"
    assert (index.read_bytes(), index.stat().st_mtime_ns) == index_before


def test_a_touched_tree_is_refreshed_in_our_copy_never_in_the_users_index(
    repo: Repo, tmp_path: Path
) -> None:
    for i in range(20):
        repo.write(f"src/f{i}.py", f"X = {i}\n")
    repo.commit("files")
    index = repo.path / ".git" / "index"
    later = time.time() + 5
    for path in (repo.path / "src").iterdir():  # same bytes, new stat data: a formatter ran
        os.utime(path, (later, later))
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    git_state(repo.path)
    [copy] = [c for i, c in _gitinfo._COPIES.items() if i == str(index)]
    refreshed = Path(copy.path).read_bytes()
    for _ in range(2):
        assert git_state(repo.path).dirty is False
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before  # the user's: untouched
    assert refreshed != before[0]  # ours holds the new stat data: the next status is fast
