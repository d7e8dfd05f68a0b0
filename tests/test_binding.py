"""The cached binder gives exactly what inspect.Signature.bind gives, for every call shape."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import Artifact, InvalidArgumentError, parse
from taggedartifacts._binding import Binder, func_name, source_dir


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
    (f_kwargs, (), {"outpath": "p.txt", "other": 1}),
]


def expected(func: Callable[..., Any], args: Any, kwargs: Any, path: str) -> tuple[Any, Any]:
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    if "outpath" in bound.arguments:
        bound.arguments["outpath"] = path
    else:
        bound.arguments["kwargs"] = {**bound.arguments["kwargs"], "outpath": path}
    return bound.args, bound.kwargs


@pytest.mark.parametrize(("func", "args", "kwargs"), CASES)
def test_binder_matches_inspect(func: Callable[..., Any], args: Any, kwargs: Any) -> None:
    binder = Binder(inspect.signature(func))
    for _ in range(2):  # the second call reuses the cached layout
        call = binder.bind(args, kwargs)
        new_args, new_kwargs = call.replaced({"outpath": "NEW"})
        want_args, want_kwargs = expected(func, args, kwargs, "NEW")
        bound_ours = inspect.signature(func).bind(*new_args, **new_kwargs)
        bound_ours.apply_defaults()
        bound_want = inspect.signature(func).bind(*want_args, **want_kwargs)
        bound_want.apply_defaults()
        assert bound_ours.arguments == bound_want.arguments
    reference = inspect.signature(func).bind(*args, **kwargs)
    reference.apply_defaults()
    for name, value in reference.arguments.items():
        assert call[name] == value


def test_binding_errors_are_the_functions_own() -> None:
    binder = Binder(inspect.signature(f_plain))
    with pytest.raises(TypeError, match="missing a required argument: 'a'"):
        binder.bind((), {})
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        binder.bind((1,), {"nope": 2})


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
    assert source_dir(partial) == here
    assert source_dir(Saver()) == here
    assert source_dir(len) is None  # a builtin has no source file
    assert func_name(len) == "len()"


def test_partials_and_callable_objects_can_be_decorated(repo: Repo) -> None:
    partial = Artifact("outpath", repo=repo.path)(functools.partial(save_with, "runs/"))
    assert parse(partial("a.txt")).untagged == "a.txt"
    assert partial("a.txt").startswith("runs/a-")
    saver = Artifact("outpath", repo=repo.path)(Saver())
    assert parse(saver("b.txt")).untagged == "b.txt"
    with pytest.raises(InvalidArgumentError, match=r"^Saver.__call__\(\) has no parameter 'x'"):
        Artifact("x", repo=repo.path)(Saver())
