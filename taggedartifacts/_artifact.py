"""The ``Artifact`` decorator: tag the path arguments of a function at every call."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, Protocol, TypeVar, cast, overload

from . import _remote as remote
from ._binding import (
    Binder,
    Call,
    PathArg,
    check_keywords,
    func_name,
    innermost,
    keywords,
    path_argument,
    source_dir,
)
from ._dirty import dirty_error, warn_dirty
from ._errors import InvalidArgumentError, UnhashableConfigError, add_note
from ._gitinfo import GitState, read_state
from ._hashing import config_hash
from ._remote import is_url
from ._tagging import tag_path
from ._versions import versions_note

if TYPE_CHECKING:
    import datetime
    import inspect

__all__ = ["Artifact", "TaggedFunction"]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class TaggedFunction(Protocol[P, R_co]):
    """What :class:`Artifact` returns: the function, plus :meth:`paths`.

    Like any ``functools.wraps`` wrapper it keeps the function's name, module,
    docstring and, as ``__wrapped__``, the function itself.
    """

    __name__: str
    __qualname__: str
    __module__: str
    __wrapped__: Callable[..., Any]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def paths(self, *args: Any, **kwargs: Any) -> dict[str, PathArg]:
        """The tagged path of each path parameter that this call would use now."""
        ...

    # Type checkers only: a decorated method binds like the function it wraps.
    @overload
    def __get__(
        self, instance: None, owner: type[Any] | None = None
    ) -> TaggedFunction[P, R_co]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Callable[..., R_co]: ...
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Any: ...


class Artifact:
    """Decorator that rewrites a function's output path(s) into tagged names.

    ``plots/loss.png`` becomes ``plots/loss-<commit7>-<config10>.png`` at every
    call, from the git state at that moment and the hash of ``config``.

    :param keyword: the name of the path parameter, or a list/tuple of names.
    :param config: the settings the output depends on (None means ``{}``).
    :param allow_dirty: name outputs after a dirty work tree (with a warning)
        instead of raising :class:`DirtyRepositoryError`.
    :param untracked: count untracked files as changes.
    :param repo: a directory in the work tree to describe; by default the one
        holding the function's source file, else the current directory's.
    :param include_args: hash the call's other arguments into the name too:
        True for all of them, or a list of parameter names.
    :param cache: skip the call (and return None) when every tagged output
        already exists; implies ``atomic``.
    :param atomic: build outputs in a private directory next to the target and
        rename them into place only when the function returns.
    :param provenance: write ``<tagged name>.provenance.json`` next to each
        output when the function returns: how, when and where it was made.
    :param redact: config or argument keys (at any depth) to write as
        ``"<redacted>"`` in provenance records; they are hashed all the same.
    :raises InvalidArgumentError: for a bad keyword, config or include_args, or a
        generator function with atomic, cache or provenance.
    :raises UnhashableConfigError: for a config value with no stable encoding.
    """

    def __init__(
        self,
        keyword: str | Sequence[str],
        config: Mapping[str, Any] | None = None,
        allow_dirty: bool = False,
        *,
        untracked: bool = False,
        repo: str | os.PathLike[str] | None = None,
        include_args: bool | Sequence[str] = False,
        cache: bool = False,
        atomic: bool = False,
        provenance: bool = False,
        redact: Sequence[str] = (),
    ) -> None:
        self.keywords = keywords(keyword)
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise InvalidArgumentError(
                f"config must be a mapping such as a dict, got {type(config).__name__}"
            )
        config_hash(config)  # fail at decoration, not in the middle of a run
        self.config = config
        self.allow_dirty = allow_dirty
        self.untracked = untracked
        self.repo = os.path.abspath(os.fspath(repo)) if repo is not None else None
        if not isinstance(include_args, bool):
            include_args = keywords(include_args, what="include_args")
        self.include_args = include_args
        self.cache = cache
        self.atomic = atomic or cache
        self.provenance = provenance
        if isinstance(redact, str) or not all(isinstance(k, str) for k in redact):
            raise InvalidArgumentError(f"redact must be a list of key names, got {redact!r}")
        self.redact = tuple(redact)

    def __call__(self, func: Callable[P, R]) -> TaggedFunction[P, R]:
        # inspect and logging load here, at decoration, so ``import taggedartifacts`` stays instant.
        import inspect
        import logging

        log = logging.getLogger("taggedartifacts")
        signature = inspect.signature(func)
        binder = Binder(signature)
        check_keywords(func, binder, self.keywords)
        inner = innermost(func)
        if (self.atomic or self.provenance) and (
            inspect.isgeneratorfunction(inner) or inspect.isasyncgenfunction(inner)
        ):
            raise InvalidArgumentError(
                f"{func_name(func)} is a generator function: calling it returns before its "
                "body runs, so atomic, cache and provenance cannot tell when its output is "
                "complete; decorate a function that writes its output and returns"
            )
        hashed_args = self._hashed_args(func, signature)
        directory = source_dir(func)
        name = func_name(func)
        names = self.keywords
        # Where to look for the work tree; None: the current directory at call time.
        candidates: tuple[str | None, ...] = (
            (self.repo,) if self.repo is not None else (directory, None) if directory else (None,)
        )

        def prepare(call: Call) -> _Plan:
            # This runs at every call: inside pinned() it is all a call costs, so it stays lean.
            given = {kw: path_argument(func, call, kw) for kw in names}
            if hashed_args is None:
                digest, arguments = config_hash(self.config), None
            else:
                digest, arguments = self._digest(call, hashed_args)
            state = read_state(candidates, untracked=self.untracked)
            if state.dirty and not self.allow_dirty:
                raise dirty_error(func, state)
            commit, diff = state.commit, state.diff
            tagged = {
                kw: tag_path(path, commit=commit, config=digest, diff=diff)
                for kw, path in given.items()
            }
            for path in tagged.values():
                if type(path) is str and "://" in path and is_url(path):
                    remote.filesystem(path)  # fsspec present? say which extra, before any work
            log.debug("%s tagged %s", name, tagged)
            return _Plan(given, tagged, state, digest, arguments, func)

        def paths(*args: Any, **kwargs: Any) -> dict[str, PathArg]:
            call = binder.bind(args, kwargs, partial=True)
            # Only a partial binding can lack an argument: a real call binds them all.
            missing = [repr(n) for n in hashed_args or () if n not in call]
            if missing:
                raise InvalidArgumentError(
                    f"{name}.paths() needs {', '.join(missing)} as well: include_args "
                    "puts it into the name, so without it no call would get this name"
                )
            return prepare(call).tagged

        def reuse(plan: _Plan) -> bool:
            """Whether every output (and, with provenance, its record) exists already."""
            outputs = list(plan.tagged.values())
            if self.provenance:  # a hit must come with its record
                from ._provenance import record_path

                outputs += [record_path(p) for p in plan.tagged.values()]
            if all(remote.complete(str(p)) if is_url(p) else os.path.exists(p) for p in outputs):
                log.info("%s: reusing %s", name, ", ".join(map(str, plan.tagged.values())))
                return True
            return False

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                call = binder.bind(args, kwargs)
                plan = prepare(call)
                if plan.state.dirty:
                    warn_dirty(func, plan.state)
                if self.cache and reuse(plan):
                    return None
                with self._running(plan) as handed:
                    new_args, new_kwargs = call.replaced(handed)
                    return await func(*new_args, **new_kwargs)

            wrapper: Any = async_wrapper
        else:

            @functools.wraps(func)
            def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                call = binder.bind(args, kwargs)
                plan = prepare(call)
                if plan.state.dirty:
                    warn_dirty(func, plan.state)
                if self.cache and reuse(plan):
                    return None  # type: ignore[return-value]  # documented: a cache hit is None
                if self.atomic or self.provenance:
                    with self._running(plan) as handed:
                        new_args, new_kwargs = call.replaced(handed)
                        return func(*new_args, **new_kwargs)
                new_args, new_kwargs = call.replaced(plan.tagged)
                try:  # the common case, without a generator-based context manager per call
                    return func(*new_args, **new_kwargs)
                except FileNotFoundError as exc:
                    _note_versions(exc, plan)
                    raise

            wrapper = sync_wrapper
        wrapper.paths = paths
        return cast(TaggedFunction[P, R], wrapper)

    def _hashed_args(
        self, func: Callable[..., Any], signature: inspect.Signature
    ) -> tuple[str, ...] | None:
        """The parameters whose values go into the name (None: only the config does)."""
        if self.include_args is False:
            return None
        if self.include_args is True:
            return tuple(n for n in signature.parameters if n not in self.keywords)
        for name in self.include_args:
            if name not in signature.parameters:
                raise InvalidArgumentError(
                    f"include_args names {name!r}, but {func_name(func)} has no such parameter; "
                    f"its parameters are {list(signature.parameters)}"
                )
            if name in self.keywords:
                raise InvalidArgumentError(
                    f"include_args names {name!r}, a path parameter; paths are never hashed"
                )
        return self.include_args

    def _digest(self, call: Call, hashed: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        """The hash of the config and the hashed arguments, and those arguments."""
        values = {name: call[name] for name in hashed}
        varkw = call.binder.varkw
        if varkw in values:  # path arguments passed through **kwargs are not hashed
            values[varkw] = {k: v for k, v in values[varkw].items() if k not in self.keywords}
        try:
            return config_hash({"arguments": values, "config": self.config}), values
        except UnhashableConfigError:
            for name, value in values.items():  # hash again only to name the culprit
                config_hash(value, name=f"argument {name!r}")
            raise

    @contextmanager
    def _running(self, plan: _Plan) -> Iterator[dict[str, PathArg]]:
        """Hand the function its paths; then write records and publish atomically.

        Records are written where the function wrote, so with ``atomic`` they are
        published with the artifact (before it) and a cache hit always has one.
        """
        started = _now() if self.provenance else None
        try:
            if self.atomic:
                from ._atomic import staged

                # Records are written once the function has returned, and a failure
                # there keeps its output: see staged().
                with staged(
                    plan.tagged, lambda private: self._write_records(plan, private, started)
                ) as private:
                    yield private
            else:
                yield plan.tagged
                self._write_records(plan, plan.tagged, started)
        except FileNotFoundError as exc:
            _note_versions(exc, plan)
            raise

    def _write_records(
        self, plan: _Plan, written: Mapping[str, PathArg], started: datetime.datetime | None
    ) -> None:
        if started is None:  # provenance is off
            return
        from ._provenance import build_record, record_path, write_json

        finished = _now()
        for kw, path in written.items():
            record = build_record(
                artifact=plan.tagged[kw],
                requested=plan.given[kw],
                state=plan.state,
                config_hash=plan.digest,
                config=self.config,
                arguments=plan.arguments,
                function=plan.func,
                started=started,
                finished=finished,
                redact=self.redact,
            )
            write_json(record_path(path), record)


def _now() -> datetime.datetime:
    import datetime  # loaded on use, like everything provenance needs

    return datetime.datetime.now(datetime.timezone.utc)


class _Plan(NamedTuple):
    given: dict[str, PathArg]
    tagged: dict[str, PathArg]
    state: GitState
    digest: str
    arguments: dict[str, Any] | None
    func: Callable[..., Any]


def _note_versions(exc: FileNotFoundError, plan: _Plan) -> None:
    """Tell a reader which versions exist when its own tagged path does not (PEP 678 note)."""
    missing = os.path.basename(os.fspath(exc.filename)) if exc.filename else None
    for kw, tagged in plan.tagged.items():
        if missing == os.path.basename(os.fspath(tagged)):
            add_note(exc, versions_note(plan.given[kw], tagged))
            return
