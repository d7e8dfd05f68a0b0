"""Binding a call's arguments: which parameters hold paths, and what they hold."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    import inspect

__all__ = [
    "Binder",
    "Call",
    "PathArg",
    "check_keywords",
    "func_name",
    "innermost",
    "keywords",
    "path_argument",
    "source_dir",
]

PathArg = str | Path
# Parameter kinds by name, so that importing this module does not import inspect.
_VAR_POSITIONAL, _VAR_KEYWORD, _POSITIONAL_ONLY = "VAR_POSITIONAL", "VAR_KEYWORD", "POSITIONAL_ONLY"


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


def check_keywords(func: Callable[..., Any], binder: Binder, keywords: tuple[str, ...]) -> None:
    """Check that each keyword names a parameter that takes one path."""
    params = binder.signature.parameters
    for kw in keywords:
        param = params.get(kw)
        if param is None and binder.varkw is None:
            raise InvalidArgumentError(
                f"{func_name(func)} has no parameter {kw!r} to tag; "
                f"its parameters are {list(params)}"
            )
        if param is not None and param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidArgumentError(
                f"{func_name(func)}: {kw!r} collects several arguments; "
                "name a parameter that takes one path"
            )


def source_dir(func: Callable[..., Any]) -> str | None:
    """The directory of the function's source file; None for exec'd code, the REPL and the like."""
    code = getattr(innermost(func), "__code__", None)
    filename = getattr(code, "co_filename", "")
    if not filename or filename.startswith("<"):
        return None
    return os.path.dirname(os.path.abspath(filename))


class _Pos(NamedTuple):
    at: int


class _Kw(NamedTuple):
    name: str


_ABSENT = _Kw("")  # what ``replaced`` finds for a name that only ``**kwargs`` can take


class Binder:
    """Binds calls with :meth:`inspect.Signature.bind`, once per call shape.

    Which parameter receives which argument depends only on how many positional
    arguments there are and which keyword names: binding placeholders for that
    shape once gives a layout that every later call of the same shape reuses.
    """

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        self.kinds = {name: p.kind.name for name, p in signature.parameters.items()}
        self.varkw = next((n for n, k in self.kinds.items() if k == _VAR_KEYWORD), None)
        self.layouts: dict[tuple[int, tuple[str, ...], bool], dict[str, Any]] = {}

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any], partial: bool = False) -> Call:
        """Bind a call, applying defaults; raises TypeError as calling the function would."""
        shape = (len(args), tuple(kwargs), partial)
        layout = self.layouts.get(shape)
        if layout is None:
            bind = self.signature.bind_partial if partial else self.signature.bind
            bound = bind(*map(_Pos, range(len(args))), **{k: _Kw(k) for k in kwargs})
            bound.apply_defaults()
            layout = dict(bound.arguments)
            if len(self.layouts) < 256:
                self.layouts[shape] = layout
        return Call(self, layout, args, kwargs)


class Call:
    """One call's arguments, read through its shape's layout."""

    __slots__ = ("args", "binder", "kwargs", "layout")

    def __init__(
        self, binder: Binder, layout: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.binder, self.layout, self.args, self.kwargs = binder, layout, args, kwargs

    def __contains__(self, name: str) -> bool:
        return name in self.layout

    def __getitem__(self, name: str) -> Any:
        """The value bound to parameter ``name`` (its default if it was not passed)."""
        slot = self.layout[name]
        if type(slot) is _Pos:
            return self.args[slot.at]
        if type(slot) is _Kw:
            return self.kwargs[slot.name]
        kind = self.binder.kinds[name]
        if kind == _VAR_POSITIONAL:
            return tuple(self.args[p.at] for p in slot)
        if kind == _VAR_KEYWORD:
            return {k: self.kwargs[k] for k in slot}
        return slot  # a default value

    def replaced(self, values: Mapping[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The call's ``(args, kwargs)`` with the given parameters' values replaced."""
        args, kwargs = self.args, dict(self.kwargs)
        listed: list[Any] | None = None
        for name, value in values.items():
            slot = self.layout.get(name, _ABSENT)  # absent: it travels in **kwargs
            if type(slot) is _Pos:
                if listed is None:
                    listed = list(args)
                listed[slot.at] = value
            elif type(slot) is _Kw or self.binder.kinds[name] != _POSITIONAL_ONLY:
                kwargs[name] = value  # passed by keyword, or a default now passed by keyword
            else:  # a positional-only parameter left to its default: bind the slow way
                return self._replaced_slowly(values)
        return (args if listed is None else tuple(listed)), kwargs

    def _replaced_slowly(self, values: Mapping[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        bound = self.binder.signature.bind(*self.args, **self.kwargs)
        bound.apply_defaults()
        for name, value in values.items():
            if name in bound.arguments:
                bound.arguments[name] = value
            else:
                varkw = self.binder.varkw
                assert varkw is not None
                bound.arguments[varkw] = {**bound.arguments[varkw], name: value}
        return bound.args, bound.kwargs


def path_argument(func: Callable[..., Any], call: Call, kw: str) -> PathArg:
    if kw in call.layout:
        value = call[kw]
    elif call.binder.varkw is not None and kw in call.kwargs and kw not in call.binder.kinds:
        value = call.kwargs[kw]
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
