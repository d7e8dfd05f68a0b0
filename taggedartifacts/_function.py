"""One decorated function: what is known of it at decoration, and the plan of each call.

:class:`Function` is built once, at decoration: it knows the function, its
signature, its path parameters and the :class:`~taggedartifacts.Artifact`
options. Each call gets a :class:`~._run.Plan` (what the call is: its arguments,
the git state, its outputs with their tagged names) and then a :class:`~._run.Run`
(where the function writes, and what happens when it returns or raises). The
decorator's wrappers only call these steps, so a sync and an async call take
the same ones.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._binding import (
    PathArg,
    call_error,
    check_keywords,
    func_name,
    innermost,
    path_argument,
    source_file,
    var_keyword,
)
from ._dirty import allowed_by_environment, dirty_error
from ._errors import InvalidArgumentError, UnhashableConfigError
from ._gitinfo import GitState, read_state
from ._hashing import config_hash
from ._loaded import add_source
from ._locks import FileLock
from ._log import logger
from ._notebook import Kernel, kernel_of
from ._pinned import pinned_state
from ._run import Options, Plan, Run, build_locks, output
from ._scope import Scope
from ._tagging import tag_path

if TYPE_CHECKING:
    import inspect

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
            if partial:
                bound = self.signature.bind_partial(*args, **kwargs)
            else:
                bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise call_error(self.func, self.signature, args, kwargs, exc) from None
        bound.apply_defaults()
        return bound

    def plan(self, bound: inspect.BoundArguments) -> Plan:
        """Everything a call needs before the function runs; refuses a dirty tree."""
        given = {
            kw: path_argument(self.func, bound, kw, self.varkw) for kw in self.options.keywords
        }
        digest, arguments = self._digest(bound)
        kernel = kernel_of(self.func, scoped=self.scope is not None)  # per call: it may change
        state = self._state(kernel)
        outputs = {
            kw: output(
                path,
                tag_path(path, commit=state.commit, config_digest=digest, fingerprint=state.diff),
            )
            for kw, path in given.items()
        }
        logger().debug("%s tagged %s", self.name, [o.tagged for o in outputs.values()])
        notebook = kernel.notebook if kernel is not None else None
        return Plan(
            self.name, self.func, self.options, bound, outputs, state, digest, arguments, notebook
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
        # Dirty work may be allowed by the environment, read at every call (a thread may
        # set it meanwhile); a refused call need not read the changed files.
        allowed = self.options.allow_dirty or allowed_by_environment()
        state = pinned_state(candidates, untracked=untracked, scope=scope)
        if state is None:  # no pinned() block holds it: read it now
            state = read_state(candidates, untracked=untracked, fingerprint=allowed, scope=scope)
        why = None
        if kernel is not None and state.root is not None:  # no root: the commit came from
            loose = kernel.loose(  # TAGGEDARTIFACTS_COMMIT, and there is no notebook to read
                state.root, state.head or state.commit, state.diff, fingerprint=allowed
            )
            if loose is not None:
                why = loose.why
                changed = tuple(sorted({*state.changed, loose.notebook}))
                state = state._replace(dirty=True, diff=loose.diff, changed=changed)
        if state.dirty and not allowed:
            raise dirty_error(self.func, state, why)
        return state

    def _digest(self, bound: inspect.BoundArguments) -> tuple[str, dict[str, Any] | None]:
        """The hash of the config and the hashed arguments, and those arguments."""
        if self.hashed is None:
            return config_hash(self.options.config), None
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
        return self._read(self.plan(bound)).tagged

    def plan_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan:
        """Bind and plan a call; a reader's paths are the versions it reads."""
        return self._read(self.plan(self.bind(args, kwargs)))

    def _read(self, plan: Plan) -> Plan:
        """A reader's plan names the versions it reads (see ``_versions.resolve``)."""
        if not self.options.read:
            return plan
        from ._versions import resolve  # the reading side loads when a reader first runs

        found = resolve(plan.name, plan.outputs, self.options.read, plan.digest, plan.state)
        return plan._replace(
            outputs={kw: output(plan.outputs[kw].given, found[kw]) for kw in found}
        )

    def locks(self, plan: Plan, blocking: bool = True) -> list[FileLock] | None:
        """The build locks a call takes (``cache=True``), or None when one is taken and
        ``blocking`` is off."""
        return build_locks(plan, blocking) if self.options.cache else []

    def start(
        self, plan: Plan, args: tuple[Any, ...], kwargs: dict[str, Any], locks: list[FileLock]
    ) -> Run:
        """Prepare where a planned call writes (nothing, for a cache hit)."""
        return Run(plan, locks)


def _frozen_positionals(func: Any) -> tuple[Any, ...]:
    """The positional arguments ``functools.partial`` objects around ``func`` hold."""
    frozen: tuple[Any, ...] = ()
    while isinstance(func, functools.partial):
        frozen, func = func.args + frozen, func.func
    return frozen
