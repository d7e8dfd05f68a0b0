"""A decorated function's signature: which parameters hold paths, and what a call passes."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    import inspect

__all__ = [
    "PathArg",
    "call_error",
    "check_keywords",
    "func_name",
    "innermost",
    "keywords",
    "path_argument",
    "source_file",
    "var_keyword",
]

PathArg = str | Path


def keywords(keyword: str | Sequence[str], what: str = "keyword") -> tuple[str, ...]:
    """Parameter names as a tuple; refuses what cannot name a parameter."""
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


def var_keyword(signature: inspect.Signature) -> str | None:
    """The name of the ``**kwargs`` parameter, if there is one."""
    return next((n for n, p in signature.parameters.items() if p.kind == p.VAR_KEYWORD), None)


def check_keywords(
    func: Callable[..., Any], signature: inspect.Signature, keywords: tuple[str, ...]
) -> None:
    """Check that each keyword names a parameter that takes one path."""
    params = signature.parameters
    for kw in keywords:
        param = params.get(kw)
        if param is None and var_keyword(signature) is None:
            raise InvalidArgumentError(
                f"{func_name(func)} has no parameter {kw!r} to tag; "
                f"its parameters are {list(params)}"
            )
        if param is not None and param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidArgumentError(
                f"{func_name(func)}: {kw!r} collects several arguments; "
                "name a parameter that takes one path"
            )


def path_argument(
    func: Callable[..., Any], bound: inspect.BoundArguments, kw: str, varkw: str | None
) -> PathArg:
    """The path a call passes for parameter ``kw`` (by position, keyword, default or
    ``**kwargs``), as a ``str`` or a :class:`~pathlib.Path`."""
    if kw in bound.arguments:  # a parameter's name (never the **kwargs one: see check_keywords)
        value = bound.arguments[kw]
    elif varkw is not None and kw in bound.arguments.get(varkw, {}):
        value = bound.arguments[varkw][kw]
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


def source_file(func: Callable[..., Any]) -> str | None:
    """The function's source file; None for exec'd code, the REPL, notebook cells (whose
    names IPython makes up) and the like."""
    code = getattr(innermost(func), "__code__", None)
    filename = getattr(code, "co_filename", "")
    if not filename or filename.startswith("<") or not os.path.exists(filename):
        return None
    return os.path.abspath(filename)


def func_name(func: Callable[..., Any]) -> str:
    """The function's qualified name without ``<locals>`` noise, for messages."""
    inner = innermost(func)
    name = getattr(inner, "__qualname__", None) or type(inner).__qualname__
    return str(name).split("<locals>.")[-1] + "()"


def innermost(func: Any) -> Any:
    """The plain function behind wrappers (``__wrapped__``), ``functools.partial`` objects and
    callable instances (their class's ``__call__``), without importing inspect."""
    for _ in range(100):  # cycle-safe
        if hasattr(func, "__wrapped__"):
            func = func.__wrapped__
        elif isinstance(func, functools.partial):
            func = func.func
        elif not hasattr(func, "__code__"):
            call = getattr(type(func), "__call__", None)  # noqa: B004 (the method, not a test)
            if not hasattr(call, "__code__"):
                break  # a builtin or C callable: no source to find
            func = call
        else:
            break
    return func


def call_error(
    func: Callable[..., Any],
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: TypeError,
) -> InvalidArgumentError:
    """The error Python itself gives for a call that does not fit the signature
    (``save() got an unexpected keyword argument 'out_path'``): ``inspect`` names no
    function and words it otherwise, so a stub with the same parameters is called."""
    from inspect import Parameter

    var_pos = Parameter.VAR_POSITIONAL
    params = list(signature.parameters.values())
    parts = []
    for i, param in enumerate(params):
        before = params[i - 1].kind if i else None
        if param.kind == param.KEYWORD_ONLY and before not in (param.KEYWORD_ONLY, var_pos):
            parts.append("*")
        star = "*" if param.kind == var_pos else "**" if param.kind == param.VAR_KEYWORD else ""
        parts.append(star + param.name + ("=None" if param.default is not param.empty else ""))
        after = params[i + 1].kind if i + 1 < len(params) else None
        if param.kind == param.POSITIONAL_ONLY and after != param.POSITIONAL_ONLY:
            parts.append("/")
    namespace: dict[str, Any] = {}
    exec(f"def stub({', '.join(parts)}): pass", namespace)  # names from a real signature
    stub = namespace["stub"]
    stub.__qualname__ = func_name(func)[:-2]  # what Python names in its message
    try:
        stub(*args, **kwargs)
    except TypeError as exc:
        return InvalidArgumentError(str(exc))
    return InvalidArgumentError(f"{stub.__qualname__}(): {error}")
