"""Binding: the function receives exactly the call's arguments, with its path tagged."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import Artifact, InvalidArgumentError, parse
from taggedartifacts._function import func_name, source_file


def f_plain(a: Any, outpath: Any = "d.txt", *, flag: Any = False) -> Any: ...
def f_posonly(outpath: Any = "d.txt", /, b: Any = 2) -> Any: ...
def f_varargs(a: Any, *rest: Any, outpath: Any = "d.txt", **extra: Any) -> Any: ...
def f_kwargs(**kwargs: Any) -> Any: ...


CASES: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
    (f_plain, (1,), {}),
    (f_plain, (1, "p.txt"), {}),
    (f_plain, (), {"a": 1, "outpath": "p.txt", "flag": True}),
    (f_posonly, (), {}),
    (f_posonly, ("p.txt",), {"b": 3}),
    (f_varargs, (1, 2, 3), {"outpath": "p.txt", "z": 9}),
    (f_varargs, (1,), {}),
    (f_varargs, (1, 2, 3), {}),  # a keyword-only default after *rest: no positional is its
    (f_kwargs, (), {"outpath": "p.txt", "other": 1}),
]


def bound(func: Callable[..., Any], args: Any, kwargs: Any) -> dict[str, Any]:
    arguments = inspect.signature(func).bind(*args, **kwargs)
    arguments.apply_defaults()
    return dict(arguments.arguments)


@pytest.mark.parametrize(("func", "args", "kwargs"), CASES)
def test_the_function_gets_the_calls_arguments_with_the_path_tagged(
    repo: Repo, func: Callable[..., Any], args: Any, kwargs: Any
) -> None:
    received: list[dict[str, Any]] = []

    @functools.wraps(func)
    def spy(*a: Any, **k: Any) -> None:
        received.append(bound(func, a, k))

    Artifact("outpath", repo=repo.path)(spy)(*args, **kwargs)
    want = bound(func, args, kwargs)
    [got] = received
    if "outpath" in want:
        path, rest = got.pop("outpath"), want.pop("outpath")
    else:  # it travels in **kwargs
        path, rest = got["kwargs"].pop("outpath"), want["kwargs"].pop("outpath")
    assert parse(path).untagged == rest
    assert got == want


def save(
    data: Any, outpath: Any, /, scale: Any = 1, *rest: Any, flag: Any, **extra: Any
) -> Any: ...


@pytest.mark.parametrize(
    ("func", "args", "kwargs"),
    [
        (f_plain, (), {}),
        (f_plain, (1,), {"nope": 2}),
        (f_plain, (1, 2, 3), {}),
        (f_plain, (1,), {"a": 2}),
        (f_posonly, (), {"outpath": "x"}),
        (save, (1, "p"), {}),
        (save, (1,), {"flag": 1}),
    ],
)
def test_a_call_that_does_not_fit_reads_like_pythons_own_error(
    repo: Repo, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(TypeError) as python:
        func(*args, **kwargs)  # what Python says without the decorator
    decorated = Artifact("outpath", repo=repo.path)(func)
    with pytest.raises(InvalidArgumentError) as ours:
        decorated(*args, **kwargs)
    assert str(ours.value) == str(python.value)


def test_the_issues_example(repo: Repo) -> None:
    @Artifact("outpath", repo=repo.path)
    def save(outpath: str) -> None: ...

    with pytest.raises(TypeError, match=r"^save\(\) got an unexpected keyword argument 'out_path'"):
        save(out_path="x.png")  # type: ignore[call-arg]


class Saver:
    """A callable object, as some pipelines pass instead of a function."""

    def __call__(self, outpath: str) -> str:
        return outpath


def save_with(prefix: str, outpath: str) -> str:
    return prefix + outpath


def test_partials_and_callable_objects_are_named_and_located() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    partial = functools.partial(save_with, "x")
    assert func_name(partial) == "save_with()"
    assert func_name(Saver()) == "Saver.__call__()"
    assert source_file(partial) == os.path.join(here, "test_function.py")
    assert source_file(Saver()) == os.path.join(here, "test_function.py")
    assert source_file(len) is None  # a builtin has no source file
    assert func_name(len) == "len()"


def test_partials_and_callable_objects_can_be_decorated(repo: Repo) -> None:
    partial = Artifact("outpath", repo=repo.path)(functools.partial(save_with, "runs/"))
    assert parse(partial("a.txt")).untagged == "a.txt"
    assert partial("a.txt").startswith("runs/a-")
    saver = Artifact("outpath", repo=repo.path)(Saver())
    assert parse(saver("b.txt")).untagged == "b.txt"
    with pytest.raises(InvalidArgumentError, match=r"^Saver.__call__\(\) has no parameter 'x'"):
        Artifact("x", repo=repo.path)(Saver())


def odd(outpath: Any = "d.txt", /, **extra: Any) -> Any: ...


def test_a_positional_only_path_with_a_keyword_of_the_same_name_in_kwargs(repo: Repo) -> None:
    received: list[tuple[Any, ...]] = []

    @functools.wraps(odd)
    def spy(*a: Any, **k: Any) -> None:
        received.append((a, k))

    Artifact("outpath", repo=repo.path)(spy)("a.txt", outpath="b.txt")
    [(args, kwargs)] = received
    assert parse(args[0]).untagged == "a.txt"  # the parameter, tagged
    assert kwargs == {"outpath": "b.txt"}  # **extra's own entry, left alone
