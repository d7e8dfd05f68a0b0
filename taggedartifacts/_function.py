"""One decorated function, and one call of it.

:class:`Function` is built once, at decoration: it knows the function, its
signature, its path parameters and the :class:`~taggedartifacts.Artifact`
options. Each call gets a :class:`Plan` (what the call is: its arguments, the
git state, the tagged paths) and a :class:`Run` (where the function writes,
and what happens when it returns or raises). The decorator's wrappers only
call these steps, so a sync and an async call take the same ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _remote as remote
from ._atomic import Stage
from ._binding import (
    PathArg,
    check_keywords,
    func_name,
    innermost,
    path_argument,
    source_file,
    var_keyword,
)
from ._dirty import dirty_error
from ._errors import ArtifactConflictError, InvalidArgumentError, UnhashableConfigError, add_note
from ._gitinfo import GitState
from ._hashing import config_hash
from ._log import logger
from ._pinned import current_state
from ._records import build_record, record_path, write_json
from ._remote import is_url
from ._tagging import tag_path
from ._versions import versions_note

if TYPE_CHECKING:
    import datetime
    import inspect

__all__ = ["Function", "Options", "Plan", "Run"]


class Options(NamedTuple):
    """What :class:`~taggedartifacts.Artifact` was given, checked (see its docstring)."""

    keywords: tuple[str, ...]
    config: Mapping[str, Any]
    allow_dirty: bool
    untracked: bool
    repo: str | None
    include_args: bool | tuple[str, ...]
    cache: bool
    atomic: bool
    provenance: bool
    redact: tuple[str, ...]


class Plan(NamedTuple):
    """What one call is: its arguments, the paths it was given and their tagged names."""

    bound: inspect.BoundArguments
    given: dict[str, PathArg]
    tagged: dict[str, PathArg]
    state: GitState
    digest: str  # the hash of the config (and of the hashed arguments)
    arguments: dict[str, Any] | None  # the hashed arguments, when include_args is on


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
        if include is True:
            return tuple(n for n in params if n not in self.options.keywords)
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
        """Bind a call's arguments, defaults applied; raises TypeError as the call would."""
        bound = (self.signature.bind_partial if partial else self.signature.bind)(*args, **kwargs)
        bound.apply_defaults()
        return bound

    def plan(self, bound: inspect.BoundArguments) -> Plan:
        """Everything a call needs before the function runs; refuses a dirty tree."""
        options = self.options
        given = {kw: path_argument(self.func, bound, kw, self.varkw) for kw in options.keywords}
        digest, arguments = self._digest(bound)
        state = current_state(self.candidates, untracked=options.untracked)
        if state.dirty and not options.allow_dirty:
            raise dirty_error(self.func, state)
        tagged = {
            kw: tag_path(path, commit=state.commit, config_digest=digest, fingerprint=state.diff)
            for kw, path in given.items()
        }
        for path in tagged.values():
            if is_url(path):
                remote.filesystem(str(path))  # fsspec present? say which extra, before any work
        logger().debug("%s tagged %s", self.name, tagged)
        return Plan(bound, given, tagged, state, digest, arguments)

    def _digest(self, bound: inspect.BoundArguments) -> tuple[str, dict[str, Any] | None]:
        """The hash of the config and the hashed arguments, and those arguments."""
        if self.hashed is None:
            return config_hash(self.options.config), None
        values = {name: bound.arguments[name] for name in self.hashed}
        if self.varkw in values:  # path arguments passed through **kwargs are not hashed
            kwargs = values[self.varkw]
            values[self.varkw] = {k: v for k, v in kwargs.items() if k not in self.options.keywords}
        try:
            return config_hash({"arguments": values, "config": self.options.config}), values
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
        return self.plan(bound).tagged

    def outputs_exist(self, plan: Plan) -> bool:
        """Whether every output (and, with provenance, its record) exists already."""
        outputs = list(plan.tagged.values())
        if self.options.provenance:  # a hit must come with its record
            outputs += [record_path(p) for p in plan.tagged.values()]
        if all(remote.complete(str(p)) if is_url(p) else os.path.exists(p) for p in outputs):
            logger().info("%s: reusing %s", self.name, ", ".join(map(str, plan.tagged.values())))
            return True
        return False

    def start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Run:
        """Plan a call and prepare where it writes (nothing, for a cache hit)."""
        return Run(self, self.plan(self.bind(args, kwargs)))


class Run:
    """One call in progress: where the function writes, and what follows its return.

    :ivar hit: whether the call is a cache hit (the function must not run).
    :ivar args: the positional arguments to call the function with.
    :ivar kwargs: the keyword arguments to call it with.
    """

    def __init__(self, function: Function, plan: Plan) -> None:
        self.function, self.plan, options = function, plan, function.options
        self.hit = options.cache and function.outputs_exist(plan)
        self.started = _now() if options.provenance else None
        self.stage = Stage(plan.tagged) if options.atomic and not self.hit else None
        handed = self.stage.paths if self.stage is not None else plan.tagged
        arguments = dict(plan.bound.arguments)
        for kw, path in handed.items():
            if kw in plan.bound.signature.parameters:
                arguments[kw] = path
            else:  # it travels in **kwargs
                varkw = str(function.varkw)
                arguments[varkw] = {**arguments[varkw], kw: path}
        call = type(plan.bound)(plan.bound.signature, arguments)
        self.args, self.kwargs = call.args, call.kwargs

    def finish(self, result: Any) -> Any:
        """The function returned ``result``: write records and publish; return the result.

        Once the function has returned, no failure here deletes its output.
        """
        if self.stage is None:
            self._write_records(self.plan.tagged)
            return result
        try:
            self._write_records(self.stage.paths)
            self.stage.publish()
        except ArtifactConflictError:
            raise  # its message says where the output is
        except BaseException as exc:  # a full disk, a lost connection: the work is not lost
            self.stage.keep(exc)
            raise
        return result

    def fail(self, exc: BaseException) -> None:
        """The function raised ``exc``: nothing of it may appear."""
        if self.stage is not None:
            self.stage.discard()
        if isinstance(exc, FileNotFoundError):
            _note_versions(exc, self.plan)

    def _write_records(self, written: Mapping[str, PathArg]) -> None:
        if self.started is None:  # provenance is off
            return
        plan, options, finished = self.plan, self.function.options, _now()
        for kw, path in written.items():
            record = build_record(
                artifact=plan.tagged[kw],
                requested=plan.given[kw],
                state=plan.state,
                config_hash=plan.digest,
                config=options.config,
                arguments=plan.arguments,
                function=self.function.func,
                started=self.started,
                finished=finished,
                redact=options.redact,
            )
            write_json(record_path(path), record)


def _now() -> datetime.datetime:
    import datetime  # loaded on use, like everything provenance needs

    return datetime.datetime.now(datetime.timezone.utc)


def _note_versions(exc: FileNotFoundError, plan: Plan) -> None:
    """Tell a reader which versions exist when its own tagged path does not (PEP 678 note)."""
    missing = os.path.basename(os.fspath(exc.filename)) if exc.filename else None
    for kw, tagged in plan.tagged.items():
        if missing == os.path.basename(os.fspath(tagged)):
            add_note(exc, versions_note(plan.given[kw], tagged))
            return
