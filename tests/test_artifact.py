from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import Repo, missing

import taggedartifacts
from taggedartifacts import (
    Artifact,
    ArtifactConflictError,
    DirtyRepositoryError,
    DirtyRepositoryWarning,
    GitError,
    InvalidArgumentError,
    NotAGitRepositoryError,
    TaggedArtifactsWarning,
    UnhashableConfigError,
    config_hash,
    parse,
    pinned,
)

CONFIG = {"lr": 0.1, "layers": [64, 64]}


def expected(repo: Repo, name: str, config: dict[str, Any] = CONFIG) -> str:
    stem, dot, suffix = name.partition(".")
    return f"{stem}-{repo.head()[:7]}-{config_hash(config)[:10]}{dot}{suffix}"


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_function_receives_the_tagged_path(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the missing parent, plots/, is made here
    received = []

    @Artifact(keyword="outpath", config=CONFIG, repo=repo.path)
    def save_plot(data: int, outpath: str) -> str:
        received.append(outpath)
        return "done"

    assert save_plot(1, outpath="plots/loss.png") == "done"
    assert received == ["plots/" + expected(repo, "loss.png")]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((1, "out.csv"), {}),
        ((1,), {"outpath": "out.csv"}),
        ((), {"data": 1, "outpath": "out.csv"}),
        ((1,), {}),
    ],
    ids=["positional", "keyword", "all-keywords", "default"],
)
def test_binding(repo: Repo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    @Artifact("outpath", CONFIG, repo=repo.path)
    def save(data: int, outpath: str = "out.csv") -> str:
        return outpath

    assert save(*args, **kwargs) == expected(repo, "out.csv")


def test_str_stays_str_and_pathlike_becomes_path(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the missing parent, dir/, is made here

    @Artifact("out", repo=repo.path)
    def save(out: Any) -> Any:
        return out

    assert type(save("a.txt")) is str
    result = save(Path("dir") / "a.txt")
    assert isinstance(result, Path)
    assert result.parent == Path("dir")


def test_a_plain_call_makes_its_missing_parents_and_nothing_else(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")

    @Artifact("out", repo=repo.path)
    def save(out: str) -> str:
        return out

    save("x.png")  # no parent to make
    save("sub/y.png")
    save(f"{tmp_path}/out/abs//z.png")
    save("deep/er/")  # a directory output: its parent is deep/
    assert sorted(os.listdir()) == ["abs", "deep", "sub"]
    assert [os.listdir(d) for d in ("abs", "deep", "sub")] == [[], [], []]


def test_parents_are_made_through_links_and_a_file_in_the_way_is_an_error(
    repo: Repo, tmp_path: Path
) -> None:
    ran = []

    @Artifact("out", repo=repo.path)
    def save(out: Path) -> Path:
        ran.append(out)
        return out

    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    assert save(tmp_path / "linked" / "a.txt").parent == tmp_path / "linked"
    assert save(tmp_path / "new" / "deeper" / "a.txt").parent.is_dir()
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(FileExistsError):
        save(tmp_path / "file" / "a.txt")
    assert len(ran) == 2


def test_a_plain_call_never_writes_over_an_artifact_of_other_digests(
    repo: Repo, tmp_path: Path
) -> None:
    @Artifact("out", {"lr": 0.1}, provenance=True, repo=repo.path)
    def recorded(out: Path) -> None:
        out.write_text("recorded")

    recorded(tmp_path / "a.txt")
    [record] = tmp_path.glob("*.provenance.json")
    made = json.loads(record.read_text())
    made["config_hash"] = made["config_hash"][:10] + "f" * 54  # same short name, other config
    record.write_text(json.dumps(made))
    ran = []

    @Artifact("out", {"lr": 0.1}, repo=repo.path)
    def plain(out: Path) -> None:
        ran.append(out)

    with pytest.raises(ArtifactConflictError):
        plain(tmp_path / "a.txt")
    assert ran == []
    record.unlink()
    record.symlink_to(tmp_path / "nowhere")  # a link is no record: no refusal, but said
    with pytest.warns(TaggedArtifactsWarning, match=r"not a record .* \(a symbolic link\)"):
        plain(tmp_path / "a.txt")
    assert len(ran) == 1


@pytest.mark.parametrize(("value", "kind"), [(None, "NoneType"), (3, "int"), (b"a.txt", "bytes")])
def test_bad_path_types_are_refused_before_the_call(repo: Repo, value: Any, kind: str) -> None:
    calls = []

    @Artifact("outpath", repo=repo.path)
    def save(outpath: Any) -> None:
        calls.append(outpath)

    with pytest.raises(
        InvalidArgumentError, match=f"'outpath' must be a str or os.PathLike path, got {kind}"
    ):
        save(value)
    assert calls == []


def test_several_keywords_are_tagged_alike(repo: Repo) -> None:
    @Artifact(["plot", "table"], CONFIG, repo=repo.path)
    def save(plot: str, table: str, title: str = "t") -> tuple[str, str, str]:
        return plot, table, title

    plot, table, title = save("p.png", "t.csv", title="keep.me")
    assert (plot, table, title) == (expected(repo, "p.png"), expected(repo, "t.csv"), "keep.me")
    assert parse(plot).commit == parse(table).commit


def test_keyword_through_kwargs(repo: Repo) -> None:
    @Artifact("outpath", repo=repo.path)
    def save(**kwargs: Any) -> Any:
        return kwargs["outpath"]

    assert parse(save(outpath="x.txt")).untagged == "x.txt"
    with pytest.raises(InvalidArgumentError, match="needs a path for 'outpath'; pass outpath="):
        save(other=1)


def test_async_functions(repo: Repo) -> None:
    @Artifact("outpath", CONFIG, repo=repo.path)
    async def save(outpath: str) -> str:
        await asyncio.sleep(0)
        return outpath

    assert inspect.iscoroutinefunction(save)
    assert asyncio.run(save("a.txt")) == expected(repo, "a.txt")


def test_async_calls_never_block_the_event_loop_while_git_runs(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.which("git")
    slow = tmp_path / "slow-git"
    slow.write_text(f'#!/bin/sh\nsleep 0.5\nexec {real} "$@"\n')  # as git status of 100k files
    slow.chmod(0o755)
    monkeypatch.setenv("GIT_PYTHON_GIT_EXECUTABLE", str(slow))

    @Artifact("outpath", CONFIG, repo=repo.path, atomic=True)
    async def save(outpath: Path) -> Path:
        outpath.write_text("x")
        return outpath

    async def main() -> tuple[Path, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        made = await save(tmp_path / "a.txt")
        task.cancel()
        return made, ticks

    made, ticks = asyncio.run(main())
    assert made.read_text() == "x"
    assert ticks >= 20  # the loop kept running for the second git took (blocked: none)


def test_wrapper_keeps_metadata_and_signature(repo: Repo) -> None:
    def save(data: int, outpath: str = "x") -> int:
        """Save it."""
        return data

    save.registered = True  # type: ignore[attr-defined]  # as plugin registries do
    wrapped = Artifact("outpath", repo=repo.path)(save)
    assert wrapped.__name__ == "save"
    assert wrapped.__qualname__.endswith("<locals>.save")
    assert wrapped.__module__ == __name__
    assert wrapped.__doc__ == "Save it."
    assert wrapped.__wrapped__ is save
    assert wrapped.registered  # type: ignore[attr-defined]
    assert inspect.signature(wrapped) == inspect.signature(save)


def test_a_commit_between_calls_changes_the_name(repo: Repo) -> None:
    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    first = parse(save("a.txt")).commit
    repo.write("code.py", "print('next')\n")
    second = repo.commit("next")
    assert parse(save("a.txt")).commit == second[:7] != first


def test_config_change_changes_the_name_and_dict_order_does_not(repo: Repo) -> None:
    def name(config: dict[str, Any]) -> str:
        @Artifact("outpath", config, repo=repo.path)
        def save(outpath: str) -> str:
            return outpath

        return save("a.txt")

    assert name({"a": 1, "b": 2}) == name({"b": 2, "a": 1}) != name({"a": 1, "b": 3})


def test_config_mutated_after_decoration_is_hashed_as_it_is_at_the_call(repo: Repo) -> None:
    config = {"lr": 0.1}

    @Artifact("outpath", config, repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    before = save("a.txt")
    config["lr"] = 0.2
    assert parse(save("a.txt")).config == config_hash({"lr": 0.2})[:10] != parse(before).config


def test_values_python_calls_equal_still_give_different_names_in_a_pinned_loop(
    repo: Repo,
) -> None:
    # 1 == 1.0 == True and 0.0 == -0.0 in Python; a cache keyed on equality would reuse names.
    config: dict[str, Any] = {}

    @Artifact("outpath", config, repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    names = []
    with pinned(repo.path):
        for value in (1, 1.0, True, 0.0, -0.0, 1, 0.0):
            config["v"] = value
            names.append(save("a.txt"))
    assert len(set(names[:5])) == 5
    assert names[5] == names[0]
    assert names[6] == names[3]
    assert [parse(n).config for n in names[:5]] == [
        config_hash({"v": v})[:10] for v in (1, 1.0, True, 0.0, -0.0)
    ]


def test_dirty_tree_is_refused_before_the_function_runs(repo: Repo) -> None:
    calls = []
    for i in range(12):
        repo.write(f"f{i:02}.py", "x")
    repo.git("add", "-A")

    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> None:
        calls.append(outpath)

    with pytest.raises(DirtyRepositoryError) as info:
        save("a.txt")
    message = str(info.value)
    assert "f00.py, f01.py" in message
    assert "f09.py and 2 more" in message
    assert "f10.py" not in message
    assert "commit or stash" in message
    assert "allow_dirty=True" in message
    assert isinstance(info.value, OSError)
    assert info.value.root == str(repo.path)
    assert len(info.value.changed) == 12
    assert calls == []


def test_dirty_tree_with_allow_dirty_warns_at_the_callers_line(repo: Repo) -> None:
    repo.write("code.py", "print('edited')\n")

    @Artifact("outpath", allow_dirty=True, repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    with pytest.warns(DirtyRepositoryWarning, match="uncommitted changes \\(code.py\\)") as record:
        name = save("a.txt")
    assert record[0].filename == __file__
    tag = parse(name)
    assert tag.dirty
    assert name == f"a-{repo.head()[:7]}-dirty{tag.diff}-{config_hash({})[:10]}.txt"
    with pytest.warns(DirtyRepositoryWarning):
        assert save("a.txt") == name  # same dirty state, same name
    repo.write("code.py", "print('edited again')\n")
    with pytest.warns(DirtyRepositoryWarning):
        assert parse(save("a.txt")).diff != tag.diff


def test_the_dirty_warning_comes_once_per_call_site_whatever_the_body_does(repo: Repo) -> None:
    repo.write("code.py", "print('edited')\n")

    @Artifact("outpath", allow_dirty=True, repo=repo.path)
    def save(outpath: str) -> str:
        with warnings.catch_warnings():  # pandas does this: it resets the usual registry
            warnings.simplefilter("ignore", FutureWarning)
        return outpath

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        for _ in range(5):
            save("a.txt")
    assert [w.category for w in shown] == [DirtyRepositoryWarning]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DirtyRepositoryWarning)  # the user's filters apply
        for _ in range(2):
            with pytest.raises(DirtyRepositoryWarning):
                save("b.txt")


class FakeShell:
    execution_count = 1


@pytest.fixture
def terminal_ipython(monkeypatch: pytest.MonkeyPatch) -> None:
    """IPython's terminal shell, as the library sees it: ``get_ipython()``, no kernel."""
    ipython = ModuleType("IPython")
    ipython.get_ipython = FakeShell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)


@pytest.mark.usefixtures("terminal_ipython")
def test_a_function_typed_at_an_ipython_prompt_is_never_clean(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal IPython shell has no notebook to check its cells against: code typed
    # there is in no file, as in python's own prompt (a Jupyter kernel's is checked).
    monkeypatch.chdir(repo.path)
    cell: dict[str, Any] = {"__name__": "__main__"}  # IPython runs cells as __main__
    exec("from taggedartifacts import Artifact\n@Artifact('p')\ndef f(p):\n    return p\n", cell)
    with pytest.raises(DirtyRepositoryError, match=r"f\(\) runs code defined in <string>"):
        cell["f"]("x.txt")


@pytest.mark.usefixtures("terminal_ipython")
def test_dirty_warning_in_an_ipython_cell_namespace(repo: Repo) -> None:
    """A cell's globals hold __spec__ = None, which Python 3.12+ refuses as module_globals."""
    repo.write("code.py", "print('edited')\n")

    @Artifact("outpath", allow_dirty=True, repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    cell = {"__name__": "__main__", "__spec__": None, "__loader__": None, "save": save}
    with pytest.warns(DirtyRepositoryWarning) as record:
        exec(compile("for i in range(3):\n    save('a.txt')", "<cell 1>", "exec"), cell)
    assert [(w.filename, w.lineno) for w in record] == [("<cell 1>", 2)]  # once per cell


def test_untracked_flag(repo: Repo) -> None:
    repo.write("scratch.txt", "x")

    @Artifact("outpath", repo=repo.path)
    def plain(outpath: str) -> str:
        return outpath

    @Artifact("outpath", untracked=True, repo=repo.path)
    def strict(outpath: str) -> str:
        return outpath

    assert not parse(plain("a.txt")).dirty
    with pytest.raises(DirtyRepositoryError, match=r"scratch\.txt"):
        strict("a.txt")


def test_artifacts_written_inside_the_repository_do_not_make_it_dirty(repo: Repo) -> None:
    @Artifact("outpath", repo=repo.path)
    def save(outpath: Path) -> Path:
        outpath.write_text("data")
        return outpath

    first = save(repo.path / "out.txt")
    assert first.exists()
    assert save(repo.path / "out.txt") == first


def test_original_readme_example(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write(
        "example.py",
        """
from taggedartifacts import Artifact

@Artifact(keyword='outpath', config={}, allow_dirty=True)
def save_thing(outpath):
    with open(outpath, 'w') as outfile:
        outfile.write('hello')
""",
    )
    repo.commit("example")
    monkeypatch.chdir(repo.path)
    module = load_module(repo.path / "example.py", "example_readme")
    module.save_thing(outpath="foo.txt")
    written = list(repo.path.glob("foo-*.txt"))
    assert [p.name for p in written] == [f"foo-{repo.head()[:7]}-{config_hash({})[:10]}.txt"]
    assert written[0].read_text() == "hello"


def test_repository_of_the_source_file_wins_over_the_cwd(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import make_repo

    other = make_repo(tmp_path / "other")
    other.write("code.py", "print('other')\n")
    other.commit("other")
    repo.write(
        "mod.py",
        "from taggedartifacts import Artifact\n\n@Artifact('p')\ndef f(p):\n    return p\n",
    )
    repo.commit("module")
    monkeypatch.chdir(other.path)
    module = load_module(repo.path / "mod.py", "mod_in_repo")
    assert parse(module.f("x.txt")).commit == repo.head()[:7]


def test_exec_defined_function_uses_the_cwd_repository_and_is_never_clean(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Code exec'd from a string is in no file, so no commit holds it (see also
    # test_code_that_ran.py for python -c and standard input).
    source = "from taggedartifacts import Artifact\n"
    source += "@Artifact('p', allow_dirty=ALLOW)\ndef f(p):\n    return p\n"
    monkeypatch.chdir(repo.path)
    refused: dict[str, Any] = {"ALLOW": False}
    exec(source, refused)
    with pytest.raises(
        DirtyRepositoryError, match=r"f\(\) runs code defined in <string>, which no file"
    ):
        refused["f"]("x.txt")
    allowed: dict[str, Any] = {"ALLOW": True}
    exec(source, allowed)
    with pytest.warns(DirtyRepositoryWarning):
        name = parse(allowed["f"]("x.txt"))
    assert (name.commit, name.dirty) == (repo.head()[:7], True)
    other: dict[str, Any] = {"ALLOW": True}
    exec(source.replace("return p", "return str(p)"), other)  # other code, no file either
    assert other["f"].paths("x.txt") != allowed["f"].paths("x.txt")


def test_source_outside_any_repository_uses_the_cwd(
    repo: Repo, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (outside / "cell.py").write_text(
        "from taggedartifacts import Artifact\n@Artifact('p')\ndef f(p):\n    return p\n"
    )
    module = load_module(outside / "cell.py", "cell_outside")
    monkeypatch.chdir(repo.path)
    assert parse(module.f("x.txt")).commit == repo.head()[:7]


def test_no_repository_anywhere(outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (outside / "cell.py").write_text(
        "from taggedartifacts import Artifact\n@Artifact('p')\ndef f(p):\n    return p\n"
    )
    module = load_module(outside / "cell.py", "cell_nowhere")
    monkeypatch.chdir(outside)
    with pytest.raises(NotAGitRepositoryError, match="TAGGEDARTIFACTS_COMMIT"):
        module.f("x.txt")
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "0123456789abcdef")
    assert module.f("x.txt") == f"x-0123456-{config_hash({})[:10]}.txt"


def test_decoration_does_no_git_work(outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No git on PATH and no repository around: decorating must still work, since it
    # runs at import time of the user's module; only the call needs git.
    monkeypatch.chdir(outside)
    monkeypatch.setenv("PATH", str(outside))
    monkeypatch.delenv("GIT_PYTHON_GIT_EXECUTABLE", raising=False)
    source = outside / "step.py"
    source.write_text(
        "from taggedartifacts import Artifact\n"
        "@Artifact('p', {'a': 1}, cache=True, provenance=True)\n"
        "def f(p):\n"
        "    open(p, 'w').close()\n"
        "    return p\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    assert namespace["f"].__name__ == "f"
    with pytest.raises(NotAGitRepositoryError, match="no git work tree found"):
        namespace["f"]("a.txt")
    monkeypatch.setenv("TAGGEDARTIFACTS_COMMIT", "abcdef0")  # no work tree: git is not needed
    assert parse(namespace["f"]("a.txt")).commit == "abcdef0"
    (outside / ".git").mkdir()  # now there is one, and git is missing: the call says so
    with pytest.raises(GitError, match="git was not found"):
        namespace["f"]("b.txt")


@pytest.mark.parametrize(
    ("keyword", "message"),
    [
        (
            "missing",
            r"f\(\) has no parameter 'missing' to tag; its parameters are \['data', 'outpath'\]",
        ),
        ([], "non-empty list"),
        (["outpath", "outpath"], "twice"),
        (3, "keyword must be"),
        (["not a name"], "not a parameter name"),
    ],
)
def test_bad_keywords_fail_at_decoration(keyword: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:

        @Artifact(keyword)
        def f(data: int, outpath: str) -> None: ...

    assert isinstance(info.value, TypeError)


def test_star_args_cannot_be_a_path_parameter() -> None:
    with pytest.raises(InvalidArgumentError, match="collects several arguments"):

        @Artifact("paths")
        def f(*paths: str) -> None: ...


def test_bad_configs_fail_at_decoration() -> None:
    with pytest.raises(InvalidArgumentError, match="config must be a mapping"):
        Artifact("p", config=[1, 2])
    with pytest.raises(
        UnhashableConfigError, match=r"config\['model'\]\['optimizer'\]: objects of type function"
    ):
        Artifact("p", config={"model": {"optimizer": lambda: 0}})


def test_paths_reports_without_calling(repo: Repo) -> None:
    calls = []

    @Artifact(["a", "b"], CONFIG, repo=repo.path)
    def save(data: int, a: str, b: Path) -> None:
        calls.append(1)

    assert save.paths(1, "x.png", b=Path("y.csv")) == {
        "a": expected(repo, "x.png"),
        "b": Path(expected(repo, "y.csv")),
    }
    assert save.paths(a="x.png", b="y.csv")["a"] == expected(repo, "x.png")  # type: ignore[arg-type, call-arg]
    assert calls == []


def test_import_does_not_import_git_and_works_without_git(tmp_path: Path) -> None:
    script = (
        "import sys, taggedartifacts\n"
        "from taggedartifacts import Artifact\n"
        "@Artifact('p')\ndef f(p): return p\n"
        "print(sorted(m for m in ('git', 'numpy', 'fsspec') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


_READ_SIDE = {"_versions", "_prune", "_configs", "_display"}


def _loaded_after(script: str, cwd: Path) -> set[str]:
    """Which of the package's reading modules a fresh process has loaded."""
    names = sorted("taggedartifacts." + m for m in _READ_SIDE)
    script += f"\nprint(json.dumps([m[16:] for m in {names!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", "import json, sys\n" + script],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_the_read_side_loads_only_when_used(repo: Repo) -> None:
    write = (  # defined in no file: allowed to be dirty, which loads nothing more
        "from taggedartifacts import Artifact\n@Artifact('p', allow_dirty=True)\n"
        "def f(p): return p\nf('x.png')"
    )
    assert _loaded_after(write, repo.path) == set()
    tag = "from taggedartifacts._cli import main\nmain(['tag', 'x.png'])"
    assert _loaded_after(tag, repo.path) == set()  # one process per file, from Make
    ls = "from taggedartifacts._cli import main\nmain(['ls', 'x.png'])"
    assert _loaded_after(ls, repo.path) == _READ_SIDE - {"_prune"}


def test_no_warnings_on_a_clean_tree(repo: Repo) -> None:
    @Artifact("p", repo=repo.path)
    def f(p: str) -> str:
        return p

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f("x")


@pytest.mark.parametrize("option", ["atomic", "cache", "provenance"])
def test_generator_functions_are_refused_where_the_end_of_the_call_matters(
    repo: Repo, option: str
) -> None:
    def frames(outpath: str) -> Iterator[int]:
        yield 1

    async def stream(outpath: str) -> AsyncIterator[int]:
        yield 1

    options: dict[str, Any] = {option: True}
    for func in (frames, stream):
        with pytest.raises(InvalidArgumentError, match="is a generator function"):
            Artifact("outpath", repo=repo.path, **options)(func)
    plain = Artifact("outpath", repo=repo.path)(frames)  # plain tagging is fine
    assert list(plain("a.txt")) == [1]


def test_methods_static_and_class_methods_and_paths_through_the_class(repo: Repo) -> None:
    class Model:
        @Artifact("outpath", repo=repo.path)
        def save(self, outpath: str) -> str:
            return outpath

        @staticmethod
        @Artifact("outpath", repo=repo.path)
        def export(outpath: str) -> str:
            return outpath

        @classmethod
        @Artifact("outpath", repo=repo.path)
        def template(cls, outpath: str) -> str:
            return outpath

    model = Model()
    saved = model.save("w.bin")
    assert parse(saved).untagged == "w.bin"
    assert parse(Model.export("e.onnx")).untagged == "e.onnx"
    # mypy types @classmethod over a non-function as unbound; at run time it binds.
    template = Model.template("t.json")  # type: ignore[call-arg, arg-type]
    assert parse(template).untagged == "t.json"
    assert Model.save.paths(model, "w.bin") == {"outpath": saved}


def test_paths_refuses_to_guess_arguments_that_go_into_the_name(repo: Repo) -> None:
    @Artifact("outpath", repo=repo.path, include_args=["lr"])
    def train(lr: float, outpath: str, epochs: int = 10) -> str:
        return outpath

    assert train.paths(0.1, "m.bin") == {"outpath": train(0.1, "m.bin")}
    assert train.paths(outpath="m.bin", lr=0.1) == {"outpath": train(0.1, "m.bin")}
    with pytest.raises(InvalidArgumentError, match=r"^train\(\).paths\(\) needs 'lr' as well"):
        train.paths(outpath="m.bin")  # type: ignore[call-arg]


def test_the_original_projects_import_path_still_works(repo: Repo) -> None:
    sys.modules.pop("taggedartifacts.taggedartifacts", None)
    with pytest.warns(DeprecationWarning, match="import Artifact from taggedartifacts") as record:
        from taggedartifacts.taggedartifacts import Artifact as Original
    assert record[0].filename == __file__  # the importing line, not importlib's
    assert Original is Artifact

    @Original(keyword="outpath", config={"lr": 0.1}, repo=repo.path)  # as its README wrote it
    def save(outpath: str) -> str:
        return outpath

    assert parse(save("plot.png")).commit == repo.head()[:7]


def test_allow_dirty_for_one_run_from_the_environment(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("code.py", "print('edited')\n")

    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    with pytest.raises(DirtyRepositoryError, match="TAGGEDARTIFACTS_ALLOW_DIRTY=1"):
        save("a.txt")
    monkeypatch.setenv("TAGGEDARTIFACTS_ALLOW_DIRTY", "1")
    with pytest.warns(DirtyRepositoryWarning):
        assert parse(save("a.txt")).dirty  # still a dirty name, still a warning


def test_the_environment_is_read_once_per_call_so_a_dirty_tree_never_gets_a_clean_name(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another thread may set TAGGEDARTIFACTS_ALLOW_DIRTY while git status runs: one
    # answer must decide both whether to fingerprint the changes and whether to refuse.
    from taggedartifacts import _function

    repo.write("code.py", "print('edited')\n")
    answers = iter([False, True, True, True])
    monkeypatch.setattr(_function, "allowed_by_environment", lambda: next(answers))

    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    with pytest.raises(DirtyRepositoryError):
        save("a.txt")
    with pytest.warns(DirtyRepositoryWarning):
        assert parse(save("a.txt")).dirty


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_repo_is_checked_at_decoration(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nowhere"
    if kind == "file":
        path.write_text("not a directory")
    problem = "does not exist" if kind == "missing" else "is not a directory"
    with pytest.raises(InvalidArgumentError, match=f"repo=.*nowhere' {problem}"):
        Artifact("outpath", repo=path)


@dataclasses.dataclass
class TrainConfig:
    lr: float = 0.1
    layers: tuple[int, ...] = (64, 64)


def test_a_dataclass_or_a_namespace_is_a_config(repo: Repo) -> None:
    @Artifact("outpath", config=TrainConfig(), repo=repo.path)
    def save(outpath: str) -> str:
        return outpath

    args = argparse.Namespace(lr=0.1, layers=[64, 64])
    by_args = Artifact("outpath", config=args, repo=repo.path)(lambda outpath: outpath)
    as_dict = Artifact("outpath", config=vars(args), repo=repo.path)(lambda outpath: outpath)
    assert parse(save("a.txt")).config == config_hash(TrainConfig())[:10]
    assert by_args("a.txt") == as_dict("a.txt")


def test_a_hydra_config_with_a_list_and_an_interpolation_is_a_config(repo: Repo) -> None:
    OmegaConf = pytest.importorskip("omegaconf", reason=missing("omegaconf")).OmegaConf

    repo.write("conf/train.yaml", "model:\n  layers: [64, 64]\n  width: ${model.layers[0]}\n")
    cfg = OmegaConf.load(repo.path / "conf/train.yaml")
    plain = {"model": {"layers": [64, 64], "width": 64}}

    @Artifact("outpath", config=cfg, repo=repo.path, provenance=True)
    def save(outpath: Path) -> Path:
        outpath.write_text("x")
        return outpath

    made = save(repo.path / "out.txt")
    assert parse(made).config == config_hash(plain)[:10]
    assert taggedartifacts.describe(made)["provenance"]["config"] == plain  # readable, resolved
