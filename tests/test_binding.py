"""The cached binder gives exactly what inspect.Signature.bind gives, for every call shape."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from taggedartifacts._binding import Binder


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
