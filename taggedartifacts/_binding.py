"""Binding a call's arguments: which parameters hold paths, and what they hold."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    import inspect

__all__ = [
    "PathArg",
    "check_keywords",
    "func_name",
    "keywords",
    "path_argument",
    "set_arguments",
    "source_dir",
]

PathArg = str | Path


def keywords(keyword: str | Sequence[str], what: str = "keyword") -> tuple[str, ...]:
    names = (keyword,) if isinstance(keyword, str) else keyword
    if not isinstance(names, (list, tuple)) or not names:
        raise InvalidArgumentError(
            f"{what} must be a parameter name or a non-empty list of names, got {keyword!r}"
        )
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidArgumentError(f"{what} {name!r} is not a parameter name")
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"{what} names a parameter twice: {list(names)!r}")
    return tuple(names)


def check_keywords(
    func: Callable[..., Any], signature: inspect.Signature, keywords: tuple[str, ...]
) -> str | None:
    """Check each keyword names a parameter; return the ``**kwargs`` name, if any."""
    params = signature.parameters
    varkw = next((p.name for p in params.values() if p.kind is p.VAR_KEYWORD), None)
    for kw in keywords:
        param = params.get(kw)
        if param is None and varkw is None:
            raise InvalidArgumentError(
                f"{func_name(func)} has no parameter {kw!r} to tag; "
                f"its parameters are {list(params)}"
            )
        if param is not None and param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidArgumentError(
                f"{func_name(func)}: {kw!r} collects several arguments; "
                "name a parameter that takes one path"
            )
    return varkw


def source_dir(func: Callable[..., Any]) -> str | None:
    """The directory of the function's source file; None for exec'd code, the REPL and the like."""
    for _ in range(100):  # inspect.unwrap, without importing inspect (and cycle-safe)
        if not hasattr(func, "__wrapped__"):
            break
        func = func.__wrapped__
    code = getattr(func, "__code__", None)
    filename = getattr(code, "co_filename", "")
    if not filename or filename.startswith("<"):
        return None
    return os.path.dirname(os.path.abspath(filename))


def path_argument(
    func: Callable[..., Any], bound: inspect.BoundArguments, kw: str, varkw: str | None
) -> PathArg:
    arguments = bound.arguments
    if kw in arguments:
        value = arguments[kw]
    elif varkw is not None and kw in arguments.get(varkw, {}):
        value = arguments[varkw][kw]
    else:
        raise InvalidArgumentError(f"{func_name(func)} needs a path for {kw!r}; pass {kw}=...")
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        fspath = os.fspath(value)
        if isinstance(fspath, str):
            return Path(fspath)
    raise InvalidArgumentError(
        f"{func_name(func)}: {kw!r} must be a str or os.PathLike path, got {type(value).__name__}"
    )


def set_arguments(
    bound: inspect.BoundArguments, values: Mapping[str, PathArg], varkw: str | None
) -> None:
    for kw, value in values.items():
        if kw in bound.arguments:
            bound.arguments[kw] = value
        else:
            assert varkw is not None
            bound.arguments[varkw] = {**bound.arguments[varkw], kw: value}


def func_name(func: Callable[..., Any]) -> str:
    """The function's qualified name without ``<locals>`` noise, for messages."""
    return func.__qualname__.split("<locals>.")[-1] + "()"
