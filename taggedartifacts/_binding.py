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
    "Binder",
    "PathArg",
    "call_error",
    "check_keywords",
    "func_name",
    "innermost",
    "keywords",
    "path_argument",
    "positions",
    "source_file",
    "var_keyword",
]

PathArg = str | Path


class _Slot(int):
    """A placeholder bound in place of an argument: where it sits among the call's values."""


# A call shape's binding: the parameters, where each one's value sits among the call's
# positional values, keyword values and then the defaults (None: in that very order, as
# in most calls), and the defaults.
_Shape = tuple[tuple[str, ...], tuple[int, ...] | None, tuple[Any, ...]]


class Binder:
    """Binds calls as :meth:`inspect.Signature.bind` does, defaults applied, deciding
    each call shape once.

    Which parameter gets which argument depends only on how many positional
    arguments a call passes and which keywords it names, never on the values. So
    ``Signature.bind`` binds placeholders once per shape, and later calls of that
    shape are filled in from the result, at a third of the cost: it counts in a
    pinned() loop. A function with ``*args`` or ``**kwargs`` is bound in full.
    """

    def __init__(self, signature: inspect.Signature) -> None:
        import inspect  # decorating imports it already; importing this module must not

        self.signature, self._bound = signature, inspect.BoundArguments
        kinds = {p.kind for p in signature.parameters.values()}
        self._collects = bool(
            kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}
        )
        self._shapes: dict[tuple[int, tuple[str, ...]], _Shape] = {}  # (count, keywords) ->

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments:
        """The call's bound arguments; raises TypeError as calling the function would."""
        key = (len(args), tuple(kwargs))
        shape = self._shapes.get(key)
        if shape is None:
            if self._collects:
                bound = self.signature.bind(*args, **kwargs)
                bound.apply_defaults()
                return bound
            shape = self._learn(*key)
        names, slots, defaults = shape
        values: Any = (*args, *kwargs.values(), *defaults)
        if slots is not None:
            values = map(values.__getitem__, slots)
        # As many values as names, by how the shape was learnt. Any keyword to zip (strict
        # included) costs a fifth of this method: zip is then called the slow way.
        return self._bound(self.signature, dict(zip(names, values)))  # noqa: B905

    def _learn(self, positional: int, named: tuple[str, ...]) -> _Shape:
        given = positional + len(named)
        bound = self.signature.bind(
            *map(_Slot, range(positional)),
            **{n: _Slot(positional + i) for i, n in enumerate(named)},
        )
        bound.apply_defaults()
        defaults = tuple(v for v in bound.arguments.values() if type(v) is not _Slot)
        after = iter(range(given, given + len(defaults)))  # defaults sit after the arguments
        slots = tuple(int(v) if type(v) is _Slot else next(after) for v in bound.arguments.values())
        in_order = slots == tuple(range(len(slots)))
        shape = (tuple(bound.arguments), None if in_order else slots, defaults)
        if len(self._shapes) < 64:  # bounded: a caller may name ever new keywords
            self._shapes[(positional, named)] = shape
        return shape


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


def positions(signature: inspect.Signature) -> dict[str, int]:
    """Where each parameter that a positional argument can fill sits among them."""
    return {
        name: i
        for i, (name, param) in enumerate(signature.parameters.items())
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
    }


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
