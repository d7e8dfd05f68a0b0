"""One decorated function: what is known of it at decoration, and the plan of each call.

:class:`Function` is built once, at decoration: it knows the function, its
signature, its path parameters and the :class:`~taggedartifacts.Artifact`
options. Each call gets a :class:`~._plan.Plan` (what the call is: its
arguments, the git state, the tagged paths) and a :class:`~._run.Run` (where
the function writes, and what happens when it returns or raises). The
decorator's wrappers only call these steps, so a sync and an async call take
the same ones.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _remote as remote
from ._binding import (
    Binder,
    PathArg,
    call_error,
    check_keywords,
    func_name,
    innermost,
    path_argument,
    positions,
    source_file,
    var_keyword,
)
from ._cells import Kernel, check_kernel, kernel_of
from ._digests import ConfigDigest
from ._dirty import allowed_by_environment, dirty_error
from ._errors import InvalidArgumentError, UnhashableConfigError
from ._gitinfo import GitState, read_state
from ._hashing import config_hash
from ._loaded import add_source
from ._log import logger
from ._pinned import pinned_state
from ._plan import Options, Plan
from ._remote import is_url
from ._scope import Scope
from ._tagging import tag_path

if TYPE_CHECKING:
    import inspect

    from ._locks import FileLock
    from ._run import Run

__all__ = ["Function"]


class Function:
    """A decorated function: its signature, its path parameters and the options.

    :raises InvalidArgumentError: for a keyword or include_args the function does
        not have, or a generator function with atomic, cache or provenance.
    """

    def __init__(self, func: Callable[..., Any], options: Options) -> None:
        import inspect  # at decoration, never at import: ``import taggedartifacts`` stays instant

        self.func, self.options, self.name = func, options, func_name(func)
        self.signature = inspect.signature(func)
        self.binder = Binder(self.signature)
        self.positions = positions(self.signature)
        self.varkw = var_keyword(self.signature)
        check_keywords(func, self.signature, options.keywords)
        inner = innermost(func)
        self.is_async = inspect.iscoroutinefunction(func)
        if (options.atomic or options.provenance) and (
            inspect.isgeneratorfunction(inner) or inspect.isasyncgenfunction(inner)
        ):
            raise InvalidArgumentError(
                f"{self.name} is a generator function: calling it returns before its "
                "body runs, so atomic, cache and provenance cannot tell when its output is "
                "complete; decorate a function that writes its output and returns"
            )
        self.hashed = self._hashed_args()
        self.config = ConfigDigest(options.config)
        source = source_file(func)
        if source is not None:
            add_source(source)  # its code runs at every call, whoever imported it
        self.scope = (
            Scope(options.depends_on, (os.path.realpath(source),) if source else ())
            if options.depends_on is not None
            else None
        )
        # Where to look for the work tree; None: the current directory at call time.
        self.candidates: tuple[str | None, ...] = (
            (options.repo,)
            if options.repo is not None
            else (os.path.dirname(source), None)
            if source
            else (None,)
        )

    def _hashed_args(self) -> tuple[str, ...] | None:
        """The parameters whose values go into the name (None: only the config does)."""
        include, params = self.options.include_args, self.signature.parameters
        if include is False:
            return None
        if include is True:  # every argument but the paths, and a method's self or cls
            first = next(iter(params), None)
            skipped = {first} if first in ("self", "cls") else set()
            return tuple(n for n in params if n not in self.options.keywords and n not in skipped)
        for name in include:
            if name not in params:
                raise InvalidArgumentError(
                    f"include_args names {name!r}, but {self.name} has no such parameter; "
                    f"its parameters are {list(params)}"
                )
            if name in self.options.keywords:
                raise InvalidArgumentError(
                    f"include_args names {name!r}, a path parameter; paths are never hashed"
                )
        return include

    def bind(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], *, partial: bool = False
    ) -> inspect.BoundArguments:
        """Bind a call's arguments, defaults applied.

        :raises InvalidArgumentError: (a ``TypeError``) worded as Python words it.
        """
        try:
            if not partial:
                return self.binder.bind(args, kwargs)
            bound = self.signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise call_error(self.func, self.signature, args, kwargs, exc) from None
        bound.apply_defaults()
        return bound

    def plan(self, bound: inspect.BoundArguments) -> Plan:
        """Everything a call needs before the function runs; refuses a dirty tree."""
        options = self.options
        given = {kw: path_argument(self.func, bound, kw, self.varkw) for kw in options.keywords}
        digest, arguments = self._digest(bound)
        kernel = kernel_of(self.func, scoped=self.scope is not None)  # per call: it may change
        state = self._state(kernel)
        tagged = {
            kw: tag_path(path, commit=state.commit, config_digest=digest, fingerprint=state.diff)
            for kw, path in given.items()
        }
        for path in tagged.values():
            if is_url(path):
                remote.filesystem(str(path))  # fsspec present? say which extra, before any work
        logger().debug("%s tagged %s", self.name, tagged)
        notebook = kernel.notebook if kernel is not None else None
        return Plan(
            self.name, self.func, options, bound, given, tagged, state, digest, arguments, notebook
        )

    def _state(self, kernel: Kernel | None) -> GitState:
        """The git state a call is named after (a notebook's loose cells counted).

        :raises DirtyRepositoryError: for a dirty state, unless dirty work is allowed.
        """
        candidates, scope = self.candidates, self.scope
        if kernel is not None and kernel.defines:  # the notebook holds the code: in scope
            candidates = (os.path.dirname(kernel.notebook), *candidates)
            if scope is not None:
                scope = scope._replace(files=(*scope.files, kernel.notebook))
        untracked = self.options.untracked
        # Dirty work may be allowed by the environment, read once per call (a thread may
        # set it meanwhile) and only where it counts: a pinned() loop's clean calls skip it.
        allowed = None
        state = pinned_state(candidates, untracked=untracked, scope=scope)
        if state is None:  # no pinned() block holds it: read it now
            allowed = self._allows_dirty()  # a refused call need not read changed files
            state = read_state(candidates, untracked=untracked, fingerprint=allowed, scope=scope)
        if kernel is None and not state.dirty:
            return state
        allowed = self._allows_dirty() if allowed is None else allowed
        why = None
        if kernel is not None:
            state, why = check_kernel(kernel, state, fingerprint=allowed)
        if state.dirty and not allowed:
            raise dirty_error(self.func, state, why)
        return state

    def _allows_dirty(self) -> bool:
        return self.options.allow_dirty or allowed_by_environment()

    def _digest(self, bound: inspect.BoundArguments) -> tuple[str, dict[str, Any] | None]:
        """The hash of the config and the hashed arguments, and those arguments."""
        if self.hashed is None:
            return self.config.digest(), None
        values = {name: bound.arguments[name] for name in self.hashed}
        if self.varkw in values:  # path arguments passed through **kwargs are not hashed
            kwargs = values[self.varkw]
            values[self.varkw] = {k: v for k, v in kwargs.items() if k not in self.options.keywords}
        hashed: dict[str, Any] = {"arguments": values, "config": self.options.config}
        frozen = _frozen_positionals(self.func) if self.options.include_args is True else ()
        if frozen:  # functools.partial(train, 0.1): arguments the signature no longer shows
            hashed["partial"] = list(frozen)
        try:
            return config_hash(hashed), values
        except UnhashableConfigError:
            for name, value in values.items():  # hash again only to name the culprit
                config_hash(value, name=f"argument {name!r}")
            raise

    def paths(self, *args: Any, **kwargs: Any) -> dict[str, PathArg]:
        """The tagged path of each path parameter that this call would use now."""
        bound = self.bind(args, kwargs, partial=True)
        # Only a partial binding can lack an argument: a real call binds them all.
        missing = [repr(n) for n in self.hashed or () if n not in bound.arguments]
        if missing:
            raise InvalidArgumentError(
                f"{self.name}.paths() needs {', '.join(missing)} as well: include_args "
                "puts it into the name, so without it no call would get this name"
            )
        plan = self.plan(bound)
        if not self.options.read:
            return plan.tagged
        from ._read import resolve

        return resolve(plan)  # a reader: what it would read

    def plan_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan:
        """Bind and plan a call; a reader's paths are the versions it reads."""
        plan = self.plan(self.bind(args, kwargs))
        if self.options.read:
            from ._read import resolve  # the reading side loads when a reader first runs

            plan = plan._replace(tagged=resolve(plan))
        return plan

    def locks(self, plan: Plan, blocking: bool = True) -> list[FileLock] | None:
        """The build locks a call takes (``cache=True``), or None when one is taken and
        ``blocking`` is off."""
        if not self.options.cache:
            return []
        return _build_locks()(plan, blocking)

    def start(
        self, plan: Plan, args: tuple[Any, ...], kwargs: dict[str, Any], locks: list[FileLock]
    ) -> Run:
        """Prepare where a planned call writes (nothing, for a cache hit)."""
        return _run_class()(plan, args, kwargs, locks, self.positions)


# The write side loads on the first call, so decorating stays instant; once, since an
# import statement inside a function costs microseconds at every call.
@functools.cache
def _run_class() -> type[Run]:
    from ._run import Run

    return Run


@functools.cache
def _build_locks() -> Callable[[Plan, bool], list[FileLock] | None]:
    from ._outputs import build_locks

    return build_locks


def _frozen_positionals(func: Any) -> tuple[Any, ...]:
    """The positional arguments ``functools.partial`` objects around ``func`` hold."""
    frozen: tuple[Any, ...] = ()
    while isinstance(func, functools.partial):
        frozen, func = func.args + frozen, func.func
    return frozen
