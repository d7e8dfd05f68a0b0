"""Code that git does not show never gets a clean name (flags, replace refs, untracked
code that ran, nested repositories, staged modes, special files, ceilings)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, count_processes, make_repo

from taggedartifacts import (
    Artifact,
    DirtyRepositoryError,
    GitError,
    GitState,
    _fingerprint,
    git_state,
    parse,
)


def flagged(repo: Repo, flag: str) -> None:
    repo.write("model.py", "WEIGHTS = 1\n")
    repo.commit("model")
    repo.git("update-index", flag, "model.py")
    assert git_state(repo.path).dirty is False
    repo.write("model.py", "WEIGHTS = 2  # a local edit the flag hides from git status\n")


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_an_index_flag_does_not_hide_an_edit(repo: Repo, flag: str) -> None:
    flagged(repo, flag)
    assert repo.git("status", "--porcelain") == ""  # git itself says clean
    state = git_state(repo.path)
    assert state.dirty
    assert state.changed == ("model.py",)
    repo.write("model.py", "WEIGHTS = 3\n")
    assert git_state(repo.path).diff != state.diff  # the fingerprint covers its content
    repo.write("model.py", "WEIGHTS = 1\n")
    assert git_state(repo.path).dirty is False  # same bytes as the commit again


def test_ignore_stat_does_not_hide_an_edit(repo: Repo) -> None:
    repo.git("config", "core.ignoreStat", "true")  # git add then marks files assume-unchanged
    repo.write("model.py", "WEIGHTS = 1\n")
    repo.commit("model")
    assert repo.git("ls-files", "-v", "model.py").startswith("h ")  # assume-unchanged
    repo.write("model.py", "WEIGHTS = 2\n")
    assert git_state(repo.path).changed == ("model.py",)


def test_a_sparse_checkout_is_clean(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "sparse")
    repo.write("src/a.py", "A = 1\n")
    repo.write("data/big.csv", "1,2\n")
    repo.commit("two directories")
    repo.git("sparse-checkout", "set", "src")  # data/ is skip-worktree and absent: by design
    assert not (repo.path / "data").exists()
    assert git_state(repo.path).dirty is False
    repo.write("src/a.py", "A = 2\n")
    assert git_state(repo.path).changed == ("src/a.py",)


def test_a_replace_ref_does_not_stand_in_for_head(repo: Repo) -> None:
    repo.write("model.py", "WEIGHTS = 1\n")
    head = repo.commit("model")
    repo.write("model.py", "WEIGHTS = 2\n")
    other = repo.commit("other")
    repo.git("reset", "-q", "--hard", head)
    repo.git("replace", head, other)  # HEAD now "is" other to git's plumbing
    repo.git("reset", "-q", "--hard")  # index and files: the replacement's tree, not HEAD's
    assert (repo.path / "model.py").read_text() == "WEIGHTS = 2\n"
    assert repo.git("status", "--porcelain") == ""
    state = git_state(repo.path)
    assert state.commit == head
    assert state.changed == ("model.py",)


STEP = """
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import helpers
from taggedartifacts import Artifact

@Artifact("outpath")
def step(outpath):
    Path(outpath).write_text(str(helpers.VALUE))
    return outpath

try:
    print(step("out.txt"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def run_step(repo: Repo) -> str:
    return subprocess.run(
        [sys.executable, "step2.py"], cwd=repo.path, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_an_imported_module_that_was_never_added_is_a_change(repo: Repo) -> None:
    repo.write("step2.py", STEP)
    repo.write(".gitignore", "out-*.txt\n__pycache__/\n")
    repo.commit("step 2")
    repo.write("helpers.py", "VALUE = 1\n")  # imported, never added
    out = run_step(repo)
    assert out.startswith("DirtyRepositoryError step():")
    assert "helpers.py is imported but not committed: git add it, or ignore it" in out
    repo.git("add", "helpers.py")  # staged, not committed: still a change, of the index
    assert run_step(repo).startswith("DirtyRepositoryError")
    repo.commit("helpers")
    assert parse(run_step(repo)).commit == repo.head()[:7]
    repo.write("ignored_helper.py", "X = 1\n")  # ignored files never count
    repo.write(".gitignore", "out-*.txt\n__pycache__/\nignored_helper.py\n")
    repo.commit("ignore it")
    repo.write("step2.py", STEP.replace("import helpers\n", "import helpers, ignored_helper\n"))
    repo.commit("use it")
    assert parse(run_step(repo)).commit == repo.head()[:7]


def test_untracked_code_is_in_the_fingerprint(repo: Repo) -> None:
    repo.write(
        "step2.py", STEP.replace('@Artifact("outpath")', '@Artifact("outpath", allow_dirty=True)')
    )
    repo.write(".gitignore", "out-*.txt\n__pycache__/\n")
    repo.commit("step 2")
    repo.write("helpers.py", "VALUE = 1\n")
    first = parse(run_step(repo))
    repo.write("helpers.py", "VALUE = 2\n")
    second = parse(run_step(repo))
    assert first.dirty
    assert second.dirty
    assert first.diff != second.diff


def test_a_function_whose_own_file_was_never_committed_is_refused(repo: Repo) -> None:
    source = repo.write("notes/step3.py", "def save(outpath):\n    return outpath\n")
    namespace: dict[str, object] = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)  # as runpy or Snakemake
    save: Any = Artifact("outpath")(namespace["save"])  # type: ignore[arg-type]
    with pytest.raises(DirtyRepositoryError) as info:
        save(str(repo.path / "x.txt"))
    assert info.value.changed == ("notes/step3.py",)
    assert "notes/step3.py (where save() is defined) is not committed" in str(info.value)


def test_an_untracked_nested_repository_is_hashed_inside(repo: Repo) -> None:
    inner = make_repo(repo.path / "inner")
    fingerprints = set()
    for version in ("1", "2", "3"):
        inner.write("model.py", f"VERSION = {version}\n")
        state = git_state(repo.path, untracked=True)
        assert state.changed == ("inner",)
        fingerprints.add(state.diff)
    assert len(fingerprints) == 3


def test_a_staged_mode_change_is_in_the_fingerprint(repo: Repo) -> None:
    repo.write("code.py", "print('edited')\n")
    plain = git_state(repo.path).diff
    repo.git("update-index", "--chmod=+x", "code.py")
    assert git_state(repo.path).diff != plain


def test_a_fifo_is_hashed_by_its_kind_and_never_opened(repo: Repo) -> None:
    (repo.path / "code.py").unlink()
    os.mkfifo(repo.path / "code.py")  # opening it for reading would wait for a writer forever
    found: list[GitState] = []
    reader = threading.Thread(target=lambda: found.append(git_state(repo.path)), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert found, "git_state() hung on a FIFO"
    assert found[0].changed == ("code.py",)


def test_git_ceiling_directories_are_honoured(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    below = repo.path / "sub"
    below.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(repo.path))
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "abcdef0")
    assert git_state(below).commit == "abcdef0"  # git would not look above the ceiling either


def test_a_stray_git_directory_does_not_move_the_root(repo: Repo) -> None:
    (repo.path / "sub" / ".git").mkdir(parents=True)  # not a repository: git skips it
    assert git_state(repo.path / "sub").root == str(repo.path)
    repo.write("code.py", "print('edited')\n")
    assert git_state(repo.path / "sub").root == str(repo.path)


def test_checking_loaded_code_costs_no_git_call_in_steady_state(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("pkg_steady/__init__.py", "VALUE = 1\n")
    repo.commit("a package")
    monkeypatch.syspath_prepend(str(repo.path))
    importlib.import_module("pkg_steady")  # loaded: now it is code that ran

    git_state(repo.path)
    calls = count_processes(monkeypatch)
    for _ in range(3):
        assert git_state(repo.path).dirty is False
    assert len(calls) == 3
    assert all("status" in c for c in calls)


def test_git_missing_in_a_checkout_says_what_helps(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(repo.path / "nowhere"))
    with pytest.raises(GitError) as info:
        git_state(repo.path)
    assert "install git" in str(info.value)
    assert "TAGGEDARTIFACTS_COMMIT" not in str(info.value)  # it is not read where .git exists


def test_a_refused_call_reads_no_changed_file_and_a_repeated_one_reads_it_once(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = repo.write("data.bin", b"\x00" * 1000)
    repo.commit("data")
    big.write_bytes(b"\x01" * 1000)
    real_now = time.time_ns  # a minute on: the edit is older than the racy window
    monkeypatch.setattr(time, "time_ns", lambda: real_now() + 60 * 10**9)
    reads: list[bytes] = []
    real = _fingerprint._read_digest

    def counting(path: bytes) -> bytes | None:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(_fingerprint, "_read_digest", counting)

    @Artifact("outpath", repo=repo.path)
    def refused(outpath: str) -> str:
        return outpath

    with pytest.raises(DirtyRepositoryError):
        refused("x.txt")
    assert reads == []  # refused before any changed file is read
    states = [git_state(repo.path) for _ in range(3)]
    assert len({s.diff for s in states}) == 1
    assert len(reads) == 1  # read once, then known by its stat data


@pytest.mark.parametrize("trusted", [False, True])
def test_a_notebook_changes_only_when_its_code_does(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    if trusted:  # its stat data old enough to be trusted: a remembered state is asked
        real_now = time.time_ns
        monkeypatch.setattr(time, "time_ns", lambda: real_now() + 60 * 10**9)
    cell: dict[str, Any] = {"cell_type": "code", "source": ["x = 1\n", "print(x)"], "metadata": {},
            "outputs": [], "execution_count": None}  # fmt: skip
    notebook = {"cells": [cell], "metadata": {"kernelspec": {"language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    path = repo.path / "analysis.ipynb"
    path.write_text(json.dumps(notebook))
    repo.commit("notebook")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    cell["execution_count"] = 3
    path.write_text(json.dumps(notebook, indent=1))  # an autosave: outputs, other layout
    assert repo.git("status", "--porcelain").strip() == "M analysis.ipynb"
    assert git_state(repo.path).dirty is False
    cell["source"] = ["x = 2\n", "print(x)"]
    path.write_text(json.dumps(notebook))
    assert git_state(repo.path).changed == ("analysis.ipynb",)
    path.write_text("{ not json")  # not a notebook any more: compared by bytes
    assert git_state(repo.path).changed == ("analysis.ipynb",)


def load(repo: Repo, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import a module from the repository, as the user's script would."""
    monkeypatch.syspath_prepend(str(repo.path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    importlib.import_module(name)


def test_code_edited_after_it_was_imported_is_stale_even_once_committed(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("model_stale.py", "SCALE = 1\n")
    repo.commit("model")
    load(repo, "model_stale", monkeypatch)
    assert git_state(repo.path).dirty is False
    repo.write("model_stale.py", "SCALE = 1000\n")
    repo.commit("new scale")  # the files and the commit agree; the code that ran does not
    state = git_state(repo.path)
    assert state.stale_code == ("model_stale.py",)
    assert state.dirty
    repo.write("model_stale.py", "SCALE = 1\n")  # what ran, back on disk (not committed)
    assert git_state(repo.path).stale_code == ()


def test_code_from_an_untracked_nested_repository_counts(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = make_repo(repo.path / "vendor")
    vendor.write("vendored_lib.py", "VALUE = 1\n")
    vendor.commit("its own commit")  # committed in vendor/, which the outer repo lacks
    monkeypatch.syspath_prepend(str(vendor.path))
    monkeypatch.delitem(sys.modules, "vendored_lib", raising=False)
    importlib.import_module("vendored_lib")
    state = git_state(repo.path)
    assert state.untracked_code == ("vendor/",)
    assert state.changed == ("vendor",)
    vendor.write("vendored_lib.py", "VALUE = 2\n")
    assert git_state(repo.path).diff != state.diff  # hashed inside


def test_an_untracked_file_of_a_submodule_that_ran_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = make_repo(tmp_path / "library")
    outer = make_repo(tmp_path / "outer")
    outer.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "lib"
    )
    outer.commit("submodule")
    (outer.path / "lib" / "sub_helper.py").write_text("X = 1\n")  # untracked in lib
    monkeypatch.syspath_prepend(str(outer.path / "lib"))
    monkeypatch.delitem(sys.modules, "sub_helper", raising=False)
    importlib.import_module("sub_helper")
    assert git_state(outer.path).untracked_code == ("lib/sub_helper.py",)


def test_a_repository_under_the_interpreters_prefix_still_counts(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("prefix", "base_prefix", "exec_prefix"):  # as /usr/src/app under /usr
        monkeypatch.setattr(sys, name, str(repo.path.parent))
    repo.write("helper_prefix.py", "X = 1\n")
    load(repo, "helper_prefix", monkeypatch)
    assert git_state(repo.path).untracked_code == ("helper_prefix.py",)


def test_a_module_swapped_in_for_another_is_seen(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    importlib.import_module("colorsys")
    git_state(repo.path)
    git_state(repo.path)  # steady: everything the first call loaded is seen
    monkeypatch.delitem(sys.modules, "colorsys")  # one out...
    repo.write("helper_swap.py", "X = 1\n")
    monkeypatch.syspath_prepend(str(repo.path))
    importlib.import_module("helper_swap")  # ...one in: as many modules as before
    assert git_state(repo.path).untracked_code == ("helper_swap.py",)


def test_a_clones_own_exclude_file_does_not_hide_code_that_ran(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "exclude").write_text("helper_excluded.py\n")
    repo.write("helper_excluded.py", "X = 1\n")
    load(repo, "helper_excluded", monkeypatch)
    assert git_state(repo.path).untracked_code == ("helper_excluded.py",)


def test_a_clones_own_exclude_file_hides_no_code_in_a_scope_either(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One rule with and without depends_on: code that ran and no commit holds is a change.
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "exclude").write_text("src/helper_scoped.py\n")
    repo.write("src/job.py", "X = 1\n")
    repo.commit("src")
    repo.write("src/helper_scoped.py", "X = 1\n")
    monkeypatch.syspath_prepend(str(repo.path / "src"))
    importlib.import_module("helper_scoped")
    for depends_on in (None, ["src/"]):
        state = git_state(repo.path, depends_on=depends_on)
        assert state.untracked_code == ("src/helper_scoped.py",)
        assert state.dirty


@pytest.mark.parametrize("target", ["outside", "ignored"])
def test_code_reached_through_a_tracked_link_is_verified_where_it_leads(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    # A committed link is only a name: the code is what it leads to, which git must hold.
    if target == "outside":
        real = tmp_path / "elsewhere" / "linked_model.py"
    else:
        repo.write(".gitignore", "private/\n")
        real = repo.path / "private" / "linked_model.py"
    real.parent.mkdir(parents=True, exist_ok=True)
    real.write_text("LR = 1\n")
    (repo.path / f"linked_{target}.py").symlink_to(real)
    repo.commit("a link to the model")
    monkeypatch.syspath_prepend(str(repo.path))
    importlib.import_module(f"linked_{target}")
    before = git_state(repo.path, untracked=False)
    assert before.untracked_code == (f"linked_{target}.py",)
    with pytest.raises(DirtyRepositoryError, match=f"linked_{target}.py is imported but not"):
        Artifact("outpath", repo=repo.path)(lambda outpath: outpath)("a.txt")
    real.write_text("LR = 2\n")  # the same name would hide another model: the
    assert git_state(repo.path).diff != before.diff  # fingerprint follows the link


def test_a_tracked_link_to_a_tracked_file_is_verified(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("lib/real_model.py", "LR = 1\n")
    (repo.path / "alias_model.py").symlink_to(repo.path / "lib" / "real_model.py")
    repo.commit("a link inside the work tree")
    monkeypatch.syspath_prepend(str(repo.path))
    importlib.import_module("alias_model")
    assert git_state(repo.path).dirty is False


def test_ignore_case_does_not_let_an_untracked_file_pass_for_a_tracked_one(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.git("config", "core.ignoreCase", "true")  # as if the file system folded case
    repo.write("Casemodel.py", "LR = 1\n")
    repo.commit("the tracked one")
    repo.write("casemodel.py", "LR = 2\n")  # another file here: this file system keeps case
    assert repo.git("status", "--porcelain") == ""  # git, so configured, sees nothing
    monkeypatch.syspath_prepend(str(repo.path))
    importlib.import_module("casemodel")
    assert git_state(repo.path).untracked_code == ("casemodel.py",)


def test_a_sparse_checkout_setting_does_not_hide_an_edit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "sparse")
    repo.write("src/a.py", "A = 1\n")
    repo.write("data/prep.py", "P = 1\n")
    repo.commit("two directories")
    repo.git("sparse-checkout", "set", "src")
    repo.git("config", "sparse.expectFilesOutsideOfPatterns", "true")
    repo.write("data/prep.py", "P = 2\n")  # present though outside the patterns, and edited
    assert repo.git("status", "--porcelain") == ""  # git, so configured, sees nothing
    assert git_state(repo.path).changed == ("data/prep.py",)


def test_new_bytes_with_the_old_size_and_time_are_new_bytes(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rsync -t (or a restored backup) sets the old mtime on new bytes of the same size:
    # only the ctime shows it, so it is part of what the digest is remembered by.
    model = repo.write("model_rsync.py", "LR = 1\n")
    repo.commit("model")
    model.write_text("LR = 2\n")
    stat = model.stat()
    real = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real() + 10**10)  # the edit is long past
    first = git_state(repo.path).diff
    with model.open("r+") as fh:  # in place: the same inode
        fh.write("LR = 3\n")
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (model.stat().st_size, model.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert git_state(repo.path).diff != first


def test_a_file_written_within_two_seconds_of_its_read_is_read_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two writes in one tick of the file system's clock can leave every stat field alike.
    model = repo.write("model_tick.py", "LR = 1\n")
    repo.commit("model")
    model.write_text("LR = 2\n")
    first = git_state(repo.path).diff
    seen = os.lstat(model)
    model.write_text("LR = 3\n")
    real_lstat = os.lstat
    monkeypatch.setattr(
        os, "lstat", lambda p, **k: seen if os.fsencode(p) == os.fsencode(model) else real_lstat(p)
    )
    assert git_state(repo.path).diff != first


def test_a_file_whose_time_was_just_set_back_is_read_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rsync -t writes new bytes and then sets an old mtime: its ctime is what says "just
    # now", and a second such copy in the same clock tick could leave every field alike.
    model = repo.write("model_setback.py", "LR = 1\n")
    repo.commit("model")
    model.write_text("LR = 2\n")
    os.utime(model, (time.time() - 3600, time.time() - 3600))
    first = git_state(repo.path).diff
    seen = os.lstat(model)
    model.write_text("LR = 3\n")
    real_lstat = os.lstat
    monkeypatch.setattr(
        os, "lstat", lambda p, **k: seen if os.fsencode(p) == os.fsencode(model) else real_lstat(p)
    )
    assert git_state(repo.path).diff != first


def test_a_remembered_state_is_used_only_while_every_changed_file_is_as_it_was(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git prints " M model.py" for any edit: a state remembered by git's answer alone
    # would keep the first edit's fingerprint for the second.
    model = repo.write("model_memo.py", "LR = 1\n")
    repo.commit("model")
    model.write_text("LR = 2\n")
    real_now = time.time_ns  # a minute on: the edit's stat data can be trusted
    monkeypatch.setattr(time, "time_ns", lambda: real_now() + 60 * 10**9)
    first = git_state(repo.path)
    assert git_state(repo.path) == first  # remembered: the same answer
    model.write_text("LR = 30\n")
    second = git_state(repo.path)
    assert second.changed == first.changed
    assert second.diff != first.diff


def test_a_remembered_state_follows_the_code_this_process_loads(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = repo.write("model_memo2.py", "LR = 1\n")
    repo.commit("model")
    model.write_text("LR = 2\n")
    real_now = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real_now() + 60 * 10**9)
    first = git_state(repo.path)
    repo.write("helper_memo.py", "X = 1\n")  # untracked: git's answer stays the same
    load(repo, "helper_memo", monkeypatch)
    second = git_state(repo.path)
    assert second.untracked_code == ("helper_memo.py",)
    assert second.diff != first.diff
