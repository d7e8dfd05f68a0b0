"""The tag never lies: a clean name means committed code ran, from import to publish.

Each test here is a way that code no commit holds once got a clean name: an edit
git's racy-clean rule exists for, a module changed on disk before the first
decorated call, and code that changed or loaded while the function ran.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import site
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, make_repo, missing

from taggedartifacts import (
    Artifact,
    DirtyRepositoryError,
    DirtyRepositoryWarning,
    _loaded,
    git_state,
    parse,
    pinned,
)


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


# 2. A module that changed on disk before the first decorated call.

JOB = """\
from taggedartifacts import Artifact
import model

@Artifact("outpath")
def save(outpath):
    return outpath
"""

CHANGES = {
    # import model; edit it and commit; call without reloading (a notebook's everyday flow)
    "edited and committed": ["import", "write LR = 3", "git add -A", "git commit -qm lr"],
    # model.py was dirty when imported; git stash puts HEAD's back; then the first call
    "stashed": ["write LR = 9", "import", "git stash -q"],
    "checked out": ["write LR = 9", "import", "git checkout -- model.py"],
    # edited, and compiled again by another Python process: its bytecode cache is no
    # longer what ran here (not covered when it happens before taggedartifacts is imported)
    "recompiled elsewhere": ["import", "write LR = 3", f"{sys.executable} -c import~model"],
}
# When taggedartifacts is imported: before model (its import hook sees model's import),
# just after it, or only after model changed (then model's bytecode cache tells).
ORDERS = ["library first", "library next", "library after the change"]


def _first_call_after(repo: Repo, steps: list[str], order: str, bytecode: bool = True) -> str:
    """Run ``steps`` in a fresh process, import ``job`` (the decorated function) where
    ``order`` says, and make the first decorated call: what it printed, name or error.

    :param bytecode: whether Python keeps a bytecode cache (PYTHONDONTWRITEBYTECODE unset).
    """
    lines = ["import subprocess, sys, pathlib", "sys.path.insert(0, '.')"]
    if order == "library first":
        lines.append("import taggedartifacts")
    for step in steps:
        if step == "sleep":  # more than a tick of the clock that stamps file times
            lines.append("import time; time.sleep(0.05)")
        elif step == "import":
            lines.append("import model")
            if order == "library next":
                lines.append("import job")
        elif step.startswith("write "):
            lines.append(f"pathlib.Path('model.py').write_text({step[6:] + chr(10)!r})")
        else:
            words = [w.replace("~", " ") for w in step.split()]
            lines.append(f"subprocess.run({words!r}, check=True)")
    lines += [
        "import job",
        "try:",
        "    print(job.save('out.txt'))",
        "except Exception as exc:",
        "    print(type(exc).__name__, exc)",
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _project(repo: Repo) -> None:
    repo.write("model.py", "LR = 2\n")
    repo.write("job.py", JOB)
    repo.write(".gitignore", "__pycache__/\nout*\n")
    repo.commit("model and job")


# Without a bytecode cache, and after another process recompiled the module, only what
# happens once taggedartifacts is imported can be told (see _loaded's documentation).
CASES = [
    (change, order, bytecode)
    for change in CHANGES
    for order in ORDERS
    for bytecode in (True, False)
    if order != ORDERS[2] or (bytecode and change != "recompiled elsewhere")
]


@pytest.mark.parametrize(("change", "order", "bytecode"), CASES)
def test_a_module_changed_before_the_first_call_is_never_clean(
    repo: Repo, change: str, order: str, bytecode: bool
) -> None:
    _project(repo)
    printed = _first_call_after(repo, CHANGES[change], order, bytecode)
    assert printed.startswith("DirtyRepositoryError"), printed
    assert "model.py changed on disk after this process loaded it" in printed


@pytest.mark.parametrize("order", ORDERS)
def test_a_module_loaded_as_committed_stays_clean(repo: Repo, order: str) -> None:
    _project(repo)
    printed = _first_call_after(repo, ["import", "git status --short"], order)
    assert printed.startswith("out-"), printed


@pytest.mark.parametrize("order", ORDERS)
def test_a_module_rewritten_with_the_same_code(repo: Repo, order: str) -> None:
    # Once the import hook or the library has seen the module load, any later change of
    # the file counts (nothing shows what ran); before that, its bytecode cache is
    # compared with the file, and the same code is the same code.
    _project(repo)
    printed = _first_call_after(repo, ["import", "sleep", "touch model.py"], order)
    if order == "library after the change":
        assert printed.startswith("out-"), printed
    else:
        assert "model.py changed on disk after this process loaded it" in printed


def test_a_rewrite_that_keeps_the_stat_data_is_still_seen(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stat data taken within two seconds of a write is never trusted (git's racy rule): a
    # rewrite in the same clock tick can keep size, times and inode alike.
    from taggedartifacts import _loaded

    repo.write("helper_racy.py", "LR = 2\n")
    repo.write("job_racy.py", JOB.replace("import model", "import helper_racy"))
    repo.commit("helper")
    monkeypatch.syspath_prepend(str(repo.path))
    job = importlib.import_module("job_racy")
    assert not parse(job.save("out.txt")).dirty
    helper = str(repo.path / "helper_racy.py")
    seen = _loaded._FILES[helper].key
    Path(helper).write_text("LR = 3\n")  # what runs is still LR = 2
    monkeypatch.setattr(_loaded, "_stat_key", lambda path: seen if path == helper else (0,) * 4)
    with pytest.raises(DirtyRepositoryError, match=r"helper_racy\.py changed on disk"):
        job.save("out.txt")


# 3. Code that changes or loads while the function runs.


def _lazy_importer(repo: Repo, **options: Any) -> Any:
    """A committed function that imports ``helper_lazy`` (never added) while it runs."""
    repo.write("helper_lazy.py", "VALUE = 'lazy'\n")
    repo.write(".gitignore", "__pycache__/\n")
    repo.commit("ignore caches")
    repo.git("rm", "-q", "--cached", "helper_lazy.py")
    repo.git("commit", "-qm", "helper is not committed")

    @Artifact("outpath", repo=repo.path, **options)
    def build(outpath: Path) -> str:
        helper = importlib.import_module("helper_lazy")
        outpath.write_text(helper.VALUE)
        return "built"

    return build


def test_an_untracked_module_imported_while_an_atomic_call_runs_publishes_nothing(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(repo.path))
    monkeypatch.delitem(sys.modules, "helper_lazy", raising=False)
    build = _lazy_importer(repo, cache=True)
    with pytest.raises(DirtyRepositoryError, match=r"the code changed while it ran") as info:
        build(tmp_path / "out.txt")
    assert "helper_lazy.py is imported but not committed" in str(info.value)
    assert list(tmp_path.glob("out-*")) == []  # nothing under the clean name
    [kept] = tmp_path.glob("taggedartifacts-unpublished-out-*")
    assert [p.read_text() for p in kept.glob("out-*.txt")] == ["lazy"]  # the work is kept
    assert any(str(kept) in note for note in getattr(info.value, "__notes__", []))


def test_an_untracked_module_imported_while_a_plain_call_runs_is_named_in_a_warning(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(repo.path))
    monkeypatch.delitem(sys.modules, "helper_lazy", raising=False)
    build = _lazy_importer(repo)
    with pytest.warns(DirtyRepositoryWarning, match=r"helper_lazy\.py is imported but not"):
        assert build(tmp_path / "out.txt") == "built"
    [written] = tmp_path.glob("out-*.txt")  # a plain call's output cannot be taken back
    assert written.read_text() == "lazy"


def test_a_tracked_file_edited_while_the_function_runs_publishes_nothing(
    repo: Repo, tmp_path: Path
) -> None:
    params = repo.write("params.json", '{"lr": 0.1}\n')
    repo.commit("params")
    calls = []

    @Artifact("outpath", repo=repo.path, cache=True)
    def train(outpath: Path, edit: bool) -> Path:
        calls.append(edit)
        if edit:  # someone saves the params file while a long run is under way
            params.write_text('{"lr": 0.5}\n')
        outpath.write_text(params.read_text())
        return outpath

    with pytest.raises(DirtyRepositoryError, match=r"changed: params\.json"):
        train(tmp_path / "model.txt", edit=True)
    assert list(tmp_path.glob("model-*")) == []
    params.write_text('{"lr": 0.1}\n')  # the edit undone: the cache must not reuse anything
    made = train(tmp_path / "model.txt", edit=False)
    assert calls == [True, False]
    assert Path(made).read_text() == '{"lr": 0.1}\n'


def test_a_commit_made_while_the_function_runs_publishes_nothing(
    repo: Repo, tmp_path: Path
) -> None:
    @Artifact("outpath", repo=repo.path, atomic=True)
    def train(outpath: Path) -> None:
        repo.write("code.py", "print('changed meanwhile')\n")
        repo.commit("meanwhile")
        outpath.write_text("weights")

    with pytest.raises(DirtyRepositoryError, match=r"HEAD moved from"):
        train(tmp_path / "model.txt")
    assert list(tmp_path.glob("model-*")) == []


def test_published_output_is_checked_against_the_tree_also_in_a_pinned_block(
    repo: Repo, tmp_path: Path
) -> None:
    params = repo.write("params.json", '{"lr": 0.1}\n')
    repo.commit("params")

    @Artifact("outpath", repo=repo.path, atomic=True)
    def train(outpath: Path) -> None:
        params.write_text('{"lr": 0.5}\n')  # saved while the run is under way
        outpath.write_text(params.read_text())

    with pinned(repo.path), pytest.raises(DirtyRepositoryError, match=r"params\.json"):
        train(tmp_path / "model.txt")
    assert list(tmp_path.glob("model-*")) == []


@pytest.mark.parametrize(
    ("began", "ctime", "changed"),
    [
        (10**18, 10**18 + 1, True),  # changed after its import began
        (10**18, 10**18 - 1, True),  # within a tick before: which came first is not known
        (10**18, 10**18 - 10**10, False),  # ten seconds before: loaded as it is
    ],
)
def test_a_file_time_within_a_clock_tick_of_the_import_is_a_change(
    began: int, ctime: int, changed: bool
) -> None:
    from taggedartifacts import _loaded

    key = (7, ctime, ctime, 1)  # size, mtime, ctime, inode; no bytecode cache to ask
    assert _loaded._changed_since_load("m", began, None, "/nowhere/m.py", key) is changed


def test_a_module_loaded_before_the_library_and_changed_within_a_tick_of_it() -> None:
    from taggedartifacts import _loaded

    [name] = [n for n in _loaded._BEFORE if n == "os"]  # loaded before taggedartifacts
    key = (7, _loaded._SINCE - 1, _loaded._SINCE - 1, 1)
    assert _loaded._changed_since_load(name, 0, None, "/nowhere/os.py", key)


RUNS_WITHOUT_IMPORT = """\
import importlib.util, runpy, sys, zipfile
from taggedartifacts import Artifact
how = sys.argv[1]
if how == "runpy":
    SCALE = runpy.run_path("helper.py")["SCALE"]
elif how == "exec_module":
    spec = importlib.util.spec_from_file_location("helper", "helper.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    SCALE = module.SCALE
elif how == "exec":
    space = {}
    exec(compile(open("helper.py").read(), "helper.py", "exec"), space)
    SCALE = space["SCALE"]
else:  # a module inside a zip
    with zipfile.ZipFile("lib.zip", "w") as archive:
        archive.write("helper.py", "zhelper.py")
    sys.path.insert(0, "lib.zip")
    import zhelper
    SCALE = zhelper.SCALE

@Artifact("outpath")
def save(outpath):
    return outpath

print(save("out.txt"))
"""


@pytest.mark.parametrize("how", ["runpy", "exec_module", "exec", "zip"])
def test_untracked_code_run_without_an_import_is_a_change(repo: Repo, how: str) -> None:
    repo.write("main.py", RUNS_WITHOUT_IMPORT)
    repo.write(".gitignore", "__pycache__/\n*.txt\n")
    repo.commit("main")
    repo.write("helper.py", "SCALE = 42\n")  # never committed
    done = subprocess.run(
        [sys.executable, "main.py", how], cwd=repo.path, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout
    named = "lib.zip" if how == "zip" else "helper.py"
    assert f"{named} is imported but not committed" in done.stderr


DEFINED_HERE = """\
import sys
from taggedartifacts import Artifact

@Artifact("outpath", atomic=True)
def save(outpath):
    with open(outpath, "w") as fh:
        fh.write("made")
    return outpath

try:
    print(save("out.txt"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.parametrize("how", ["-c", "stdin"])
def test_a_function_defined_in_code_no_file_holds_is_never_clean(repo: Repo, how: str) -> None:
    # python -c and a script piped to python: the function's code is in no file, so no
    # commit holds it; a run that is allowed to be dirty gets a name of its own.
    repo.write(".gitignore", "out*\n")
    repo.commit("ignore outputs")

    def run(**env: str) -> str:
        command = [sys.executable, "-W", "ignore", "-c" if how == "-c" else "-"]
        done = subprocess.run(
            command + ([DEFINED_HERE] if how == "-c" else []),
            input=None if how == "-c" else DEFINED_HERE,
            cwd=repo.path,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    refused = run()
    where = "<string>" if how == "-c" else "<stdin>"
    assert refused.startswith("DirtyRepositoryError save():"), refused
    assert f"save() runs code defined in {where}, which no file holds" in refused
    assert "uncommitted changes" not in refused  # none in the tree: nothing to commit
    first, second = run(TAGGEDARTIFACTS_ALLOW_DIRTY="1"), run(TAGGEDARTIFACTS_ALLOW_DIRTY="1")
    assert parse(first).dirty, first  # published: atomic
    assert parse(second).dirty, second
    assert parse(first).diff != parse(second).diff  # what ran cannot be told: never shared
    assert (repo.path / first).read_text() == "made"


def test_a_module_in_a_site_packages_directory_of_the_work_tree_is_code(repo: Repo) -> None:
    # Only this interpreter's own site-packages hold installed code: a directory of that
    # name in the work tree, put on sys.path, holds code no commit holds.
    repo.write(
        "main.py",
        "import sys\nsys.path.insert(0, 'vendor/site-packages')\nimport vendored\n"
        + DEFINED_HERE.split("\n", 1)[1],
    )
    repo.write(".gitignore", "__pycache__/\nout*\n")
    repo.commit("main")
    repo.write("vendor/site-packages/vendored.py", "SCALE = 42\n")  # never committed
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=repo.path, capture_output=True, text=True, check=True
    )
    assert "vendor/site-packages/vendored.py is imported but not committed" in done.stdout
    repo.commit("vendored")
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=repo.path, capture_output=True, text=True, check=True
    )
    assert not parse(done.stdout.strip()).dirty, done.stdout


def test_a_function_of_a_committed_zip_is_held_by_the_zip(repo: Repo) -> None:
    # A module imported from a zip has no file of its own, but the zip holds its code.
    with zipfile.ZipFile(repo.path / "lib.zip", "w") as archive:
        archive.writestr("zipped.py", DEFINED_HERE.split("try:")[0])
    repo.write("main.py", "import sys\nsys.path.insert(0, 'lib.zip')\nimport zipped\n"
               "print(zipped.save('out.txt'))\n")  # fmt: skip
    repo.write(".gitignore", "__pycache__/\nout*\n")
    repo.commit("a zip of code")
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=repo.path, capture_output=True, text=True, check=True
    )
    assert not parse(done.stdout.strip()).dirty, done.stdout


COPIED = """\
import sys
import cloudpickle
from taggedartifacts import Artifact

unpicklable = (i for i in range(3))  # a global cloudpickle cannot copy

@Artifact("outpath")
def save(outpath):
    return outpath

with open("save.pkl", "wb") as fh:
    fh.write(cloudpickle.dumps(save))  # by value, as joblib, Dask and Ray send it
"""

CALLED_IN_A_WORKER = """\
import pickle
with open("save.pkl", "rb") as fh:
    save = pickle.load(fh)
try:
    print(save("out.txt"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_a_function_copied_by_value_counts_its_file_in_the_worker(repo: Repo) -> None:
    # A worker that unpickles the function never imports its file: the file is code
    # that runs there all the same.
    pytest.importorskip("cloudpickle", reason=missing("cloudpickle"))
    repo.write(".gitignore", "__pycache__/\nout*\n*.pkl\n")
    repo.commit("ignore")
    repo.write("job.py", COPIED)  # never committed
    run = [sys.executable, "-c", CALLED_IN_A_WORKER]
    subprocess.run([sys.executable, "job.py"], cwd=repo.path, check=True)
    worker = subprocess.run(run, cwd=repo.path, capture_output=True, text=True, check=True)
    assert "job.py (where save() is defined) is not committed" in worker.stdout, worker.stdout
    repo.commit("job")
    worker = subprocess.run(run, cwd=repo.path, capture_output=True, text=True, check=True)
    assert not parse(worker.stdout.strip()).dirty, worker.stdout


WRAPPED_HERE = """\
import functools
from taggedartifacts import Artifact
from model import write

def twice(func):
    @functools.wraps(func)
    def wrapper(outpath):
        func(outpath)
        return func(outpath)
    return wrapper

try:
    print(Artifact("outpath")(twice(write))("out.txt"))
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_a_wrapper_no_file_holds_is_never_clean(repo: Repo) -> None:
    # The committed function is wrapped by code typed into python -: the wrapper ran too.
    repo.write("model.py", "def write(outpath):\n    return outpath\n")
    repo.write(".gitignore", "__pycache__/\nout*\n")
    repo.commit("model")
    done = subprocess.run(
        [sys.executable, "-"], input=WRAPPED_HERE, cwd=repo.path, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert "write() runs code defined in <stdin>, which no file holds" in done.stdout, done.stdout


def test_a_zipapp_is_named_after_the_work_tree_of_its_zip(repo: Repo, tmp_path: Path) -> None:
    with zipfile.ZipFile(repo.path / "app.pyz", "w") as archive:
        archive.writestr("__main__.py", DEFINED_HERE.replace('"out.txt"', "sys.argv[1]"))
    repo.write(".gitignore", "out*\n")
    repo.commit("an app")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, str(repo.path / "app.pyz"), str(repo.path / "out.txt")],
        cwd=elsewhere, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert parse(done.stdout.strip()).commit == repo.head()[:7], done.stdout


def test_another_environments_packages_are_not_read(repo: Repo, tmp_path: Path) -> None:
    # Packages of another environment (on PYTHONPATH) are installed code, never read at a
    # first call; only a site-packages directory inside a work tree is the user's code.
    other = tmp_path / "other-env" / "lib" / "site-packages"
    other.mkdir(parents=True)
    (other / "otherpkg.py").write_text("X = 1\n")
    repo.write("main.py", "import otherpkg\n" + DEFINED_HERE.split("\n", 1)[1])
    repo.write(".gitignore", "__pycache__/\nout*\n")
    repo.commit("main")
    script = "import runpy, taggedartifacts._loaded as l; runpy.run_path('main.py'); "
    script += "print(sorted(p for p in l._FILES if 'otherpkg' in p))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=repo.path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(other)}, check=True,
    )  # fmt: skip
    assert parse(done.stdout.splitlines()[0]).dirty is False, done.stdout
    assert done.stdout.splitlines()[1] == "[]", done.stdout


def test_a_wrapper_a_library_generates_is_not_the_users_code(repo: Repo) -> None:
    # beartype and decorator 4 build their wrappers with exec, under names no file has:
    # library code around a committed function, which the name still holds.
    library: dict[str, Any] = {"functools": functools}
    exec(
        "def checked(func):\n    @functools.wraps(func)\n    def wrapper(*args, **kwargs):\n"
        "        return func(*args, **kwargs)\n    return wrapper\n",
        library,
    )

    def save(outpath: str) -> str:
        return outpath

    tagged = Artifact("outpath", repo=repo.path)(library["checked"](save))
    assert not parse(tagged("out.txt")).dirty


class _Curried:
    """A partial of another library's kind (toolz.curry): it keeps its function as .func."""

    def __init__(self, func: Any) -> None:
        self.func = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


def test_a_function_behind_another_librarys_partial_is_looked_at(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path)
    typed: dict[str, Any] = {}
    exec("save = lambda outpath: outpath", typed)  # code no file holds, behind the object
    with pytest.raises(DirtyRepositoryError, match="runs code defined in <string>"):
        Artifact("outpath")(_Curried(typed["save"]))(outpath="out.txt")


def test_a_link_in_the_work_tree_to_another_environments_packages_is_code(
    repo: Repo, tmp_path: Path
) -> None:
    other = tmp_path / "other-env" / "lib" / "site-packages"
    other.mkdir(parents=True)
    (other / "linked.py").write_text("X = 1\n")
    (repo.path / "lib").symlink_to(other)  # committed: a link to code no commit holds
    call = "try:" + DEFINED_HERE.split("try:")[1]
    # Imported after a first call: the answer kept since must learn of the link.
    repo.write("main.py", DEFINED_HERE + "sys.path.insert(0, 'lib')\nimport linked\n" + call)
    repo.write(".gitignore", "__pycache__/\nout*\n")
    repo.commit("main and a link")
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=repo.path, capture_output=True, text=True, check=True
    )
    first, second = done.stdout.splitlines()
    assert not parse(first).dirty, done.stdout
    assert second.startswith("DirtyRepositoryError"), done.stdout
    assert "lib/linked.py" in second


def test_an_installed_packages_function_is_named_after_the_current_directory(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # Its package may sit in a virtualenv inside another repository: that repository's
    # commit says nothing of the code that calls it (see docs/guide/dirty.rst).
    other = make_repo(tmp_path / "other")
    other.write("other.py", "")
    other.commit("another history")
    packages = other.path / "env" / "lib" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "installedlib.py").write_text("def save(outpath):\n    return outpath\n")
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(packages)])
    _loaded._installed_places.cache_clear()
    request.addfinalizer(_loaded._installed_places.cache_clear)
    monkeypatch.syspath_prepend(str(packages))
    import installedlib  # type: ignore[import-not-found]

    monkeypatch.chdir(repo.path)
    assert parse(Artifact("outpath")(installedlib.save)("x.txt")).commit == repo.head()[:7]
