"""depends_on: a commit outside the code's paths keeps every name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    DirtyRepositoryError,
    InvalidArgumentError,
    describe,
    git_state,
    parse,
    pinned,
)
from taggedartifacts._cli import main


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("src/model.py", "LAYERS = 2\n")
    repo.write("README.md", "# a project\n")
    repo.commit("code and docs")
    return repo


def scope_key(repo: Repo) -> str:
    """The content key of the code in src/ (git_state's ``code`` with depends_on)."""
    key = git_state(repo.path, depends_on=["src/"]).code
    assert key is not None
    return key


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
    first = train(tmp_path / "model.bin")
    key = scope_key(project)
    assert (parse(first).commit, parse(first).code) == (None, key[:7])
    project.write("README.md", "# a project\n\nFixed a typo.\n")
    project.commit("docs only")
    assert train(tmp_path / "model.bin") == first  # same name: a cache hit
    assert len(train.calls) == 1
    project.write("src/model.py", "LAYERS = 3\n")
    project.commit("more layers")
    second = train(tmp_path / "model.bin")
    assert parse(second).code == scope_key(project)[:7] != key[:7]
    assert len(train.calls) == 2


def test_the_functions_own_file_is_always_in_scope(project: Repo, tmp_path: Path) -> None:
    source = project.write("scripts/train.py", "def train(outpath):\n    return outpath\n")
    project.commit("a script")
    namespace: dict[str, Any] = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    train: Any = Artifact("outpath", depends_on=["src/"])(namespace["train"])
    before = parse(train(str(tmp_path / "a.txt"))).code
    source.write_text("def train(outpath):\n    return outpath  # edited\n")
    with pytest.raises(DirtyRepositoryError, match=r"scripts/train\.py"):
        train(str(tmp_path / "a.txt"))
    project.commit("edit the script")
    with pytest.raises(DirtyRepositoryError, match=r"changed on disk after this process loaded"):
        train(str(tmp_path / "a.txt"))  # committed, but the old code is what runs here
    train = Artifact("outpath", depends_on=["src/"])(namespace["train"])  # decorated again:
    with pytest.raises(DirtyRepositoryError, match=r"changed on disk after"):  # same old code
        train(str(tmp_path / "a.txt"))
    new_process = (
        f"ns = {{}}\nexec(compile(open({str(source)!r}).read(), {str(source)!r}, 'exec'), ns)\n"
        "from taggedartifacts import Artifact, parse\n"
        "train = Artifact('outpath', depends_on=['src/'])(ns['train'])\n"
        f"print(parse(train({str(tmp_path / 'a.txt')!r})).code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", new_process], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() not in ("None", before)  # the new code's key, clean


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


def test_the_scope_its_content_key_and_the_commit_to_check_out_are_recorded(
    project: Repo, tmp_path: Path
) -> None:
    train = writer(project, provenance=True)
    project.write("README.md", "# later\n")
    head = project.commit("docs")
    made = train(tmp_path / "m.bin")
    record = describe(made)["provenance"]
    key = scope_key(project)
    assert (record["commit"], record["code"], record["depends_on"]) == (head, key, ["src/"])
    assert project.git("show", f"{record['commit']}:src/model.py") == "LAYERS = 2\n"


def test_the_key_is_the_content_however_the_scope_is_spelled(project: Repo) -> None:
    project.write("src/util.py", "X = 1\n")
    project.commit("util")
    keys = {
        git_state(project.path, depends_on=spelled).code
        for spelled in (["src/"], ["src"], ["src", "src/model.py"], ["src/*"], ["./src/"])
    }
    assert len(keys) == 1
    assert git_state(project.path, depends_on=["src/model.py"]).code not in keys


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
    [
        ("nothing/here", "names nothing tracked in"),
        ("sr", "names nothing tracked in"),  # a prefix of src/ is not src/
        ("*.nothing", "names nothing tracked in"),
        ("../elsewhere", "is outside"),
    ],
)
def test_a_path_git_cannot_use_fails_before_the_function_runs(
    project: Repo, tmp_path: Path, path: str, message: str
) -> None:
    ran = []

    @Artifact("outpath", repo=project.path, depends_on=["src/", path])
    def save(outpath: Path) -> None:
        ran.append(outpath)

    with pytest.raises(
        InvalidArgumentError, match=re.escape(f"depends_on names '{path}', which {message}")
    ):
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
    assert parse(name).code == scope_key(project)[:7]


def test_paths_and_pinned_follow_the_scope(project: Repo, tmp_path: Path) -> None:
    train = writer(project)
    key = scope_key(project)
    project.write("README.md", "# later\n")
    project.commit("docs")
    assert parse(train.paths(tmp_path / "m.bin")["outpath"]).code == key[:7]
    with pinned(project.path):
        assert parse(train(tmp_path / "m.bin")).code == key[:7]


@pytest.mark.parametrize("depends_on", [None, ["src/"]])
def test_a_depth_one_clone_gives_the_names_a_full_clone_gives(
    project: Repo, tmp_path: Path, depends_on: Any
) -> None:
    project.write("README.md", "# docs only\n")
    project.commit("docs")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{project.path}", str(clone)], check=True
    )
    names = []
    for root in (project.path, clone):
        save = Artifact("outpath", repo=root, depends_on=depends_on)(lambda outpath: outpath)
        names.append(save("out/model.bin"))
    assert names[0] == names[1]


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


def test_identical_code_is_never_rebuilt_and_other_code_never_reused(
    project: Repo, tmp_path: Path
) -> None:
    # Merges both ways, a revert, a cherry-pick, a rebase, a squash merge and checking out
    # an old commit: the scoped name follows the code, so identical code gives the name
    # it had (a cache hit), and other code another name (a build). 18 steps.
    built: list[str] = []

    @Artifact("outpath", repo=project.path, depends_on=["src/"], cache=True)
    def train(outpath: Path) -> str:
        code = (project.path / "src" / "model.py").read_text()
        built.append(code)
        outpath.write_text(code)
        return code

    def code(version: str, message: str) -> str:
        project.write("src/model.py", f"LAYERS = {version}\n")
        return project.commit(message)

    def docs(text: str) -> str:  # a file of its own: merges of docs never conflict
        project.write(f"docs/{text.replace(' ', '-')}.md", f"# {text}\n")
        return project.commit(text)

    git, first = project.git, project.head()
    steps: list[Callable[[], object]] = [
        lambda: None,  # 1: the code as it is (LAYERS = 2)
        lambda: docs("docs on main"),
        lambda: (git("checkout", "-q", "-b", "feature"), code("3", "three layers")),
        lambda: docs("docs on feature"),
        lambda: (git("checkout", "-q", "main"), docs("more docs on main")),
        lambda: (git("checkout", "-q", "feature"), git("merge", "-q", "--no-edit", "main")),
        lambda: (git("checkout", "-q", "main"), git("merge", "-q", "--no-edit", "feature")),
        lambda: git("revert", "--no-edit", git("log", "-1", "--format=%H", "--", "src")[:40]),
        lambda: git("revert", "--no-edit", "HEAD"),  # the revert reverted: three layers
        lambda: (git("checkout", "-q", "-b", "topic", "HEAD~3"), code("4", "four layers")),
        lambda: (git("checkout", "-q", "main"), git("cherry-pick", "topic")),
        lambda: (git("checkout", "-q", "topic"), git("rebase", "-q", "main")),
        lambda: (git("checkout", "-q", "-b", "side", "main"), code("5", "five layers")),
        lambda: (
            git("checkout", "-q", "main"),
            git("merge", "-q", "--squash", "side"),
            git("commit", "-q", "-m", "squashed"),
        ),
        lambda: git("checkout", "-q", first),  # back to the start: two layers
        lambda: git("checkout", "-q", "main"),
        lambda: docs("last docs"),
        lambda: code("6", "six layers"),
    ]
    for step in steps:
        step()
        current = (project.path / "src" / "model.py").read_text()
        assert train(tmp_path / "model.txt") == current  # never another code's output
    assert built == [f"LAYERS = {n}\n" for n in (2, 3, 4, 5, 6)]  # each code built once


SCOPED_JOB = """\
import sys, warnings
IMPORT
from taggedartifacts import Artifact, OutOfScopeWarning

@Artifact("outpath", depends_on=["src/"], strict_scope=STRICT)
def save(outpath):
BODY    open(outpath, "w").write(str(USE))

warnings.simplefilter("always")
try:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        save("out/a.txt")
        save("out/b.txt")
except TypeError as exc:
    print(exc)
else:
    print([str(w.message) for w in seen if w.category is OutOfScopeWarning])
"""


REACHES = {  # how the job's code reaches util.py: (its import, in the body, the use)
    "module": ("import util", "", "util.SCALE"),
    "a name": ("from util import SCALE", "", "SCALE"),  # a constant: no value shows whence
    "in the body": ("", "    from util import SCALE\n", "SCALE"),  # not loaded yet
}


@pytest.mark.parametrize("reach", list(REACHES))
@pytest.mark.parametrize("strict", [False, True])
def test_code_reaching_outside_the_scope_is_named(project: Repo, strict: bool, reach: str) -> None:
    project.write("util.py", "SCALE = 2\n")  # committed, but outside depends_on
    imported, body, use = REACHES[reach]
    job = SCOPED_JOB.replace("STRICT", str(strict)).replace("IMPORT", imported)
    project.write("src/job.py", job.replace("BODY", body).replace("USE", use))
    project.write(".gitignore", "__pycache__/\nout/\n")
    project.commit("a job whose code reaches util.py")
    (project.path / "out").mkdir()
    env = {**os.environ, "PYTHONPATH": str(project.path)}
    out = subprocess.run([sys.executable, "src/job.py"], cwd=project.path, env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert "depends_on=['src/'] leaves out util.py, which its code reaches" in out.stdout
    if strict:
        assert "strict_scope=True refuses the call" in out.stdout
    else:
        assert out.stdout.count("leaves out") == 1  # once per function, not per call


def test_strict_scope_needs_a_scope() -> None:
    with pytest.raises(InvalidArgumentError, match="pass depends_on as well"):
        Artifact("outpath", strict_scope=True)


def test_a_file_spelled_as_a_directory_names_nothing_even_when_it_is_the_functions_own(
    project: Repo,
) -> None:
    project.write(
        "job.py",
        "from taggedartifacts import Artifact\n\n"
        "@Artifact('outpath', depends_on=['job.py/'])\n"
        "def save(outpath):\n"
        "    open(outpath, 'w').write('x')\n\n"
        "try:\n"
        "    save('out.txt')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n",
    )
    project.write(".gitignore", "out*.txt\n")
    project.commit("a job")
    ran = subprocess.run(
        [sys.executable, "job.py"], cwd=project.path, capture_output=True, text=True, check=True
    )
    assert ran.stdout.startswith(
        "InvalidArgumentError depends_on names 'job.py/', which names nothing tracked in"
    )
