"""The ``Artifact`` decorator: tag the path arguments of a function at every call."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, Protocol, TypeVar, cast, overload

from ._dirty import warn, warn_dirty
from ._errors import InvalidArgumentError
from ._function import Function, keywords
from ._hashing import normal_form
from ._locks import FileLock, Patience
from ._run import Options, Plan
from ._scope import check_depends_on
from ._storage import PathArg

if TYPE_CHECKING:
    from ._run import Run

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

    def paths(self, *args: P.args, **kwargs: P.kwargs) -> dict[str, PathArg]:
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


def _checked_config(config: Any) -> Any:
    """``config``, once it is known to be a set of settings that can be hashed: it fails at
    decoration, not in the middle of a run."""
    form = normal_form(config)
    first = next(iter(form), "") if isinstance(form, dict) else None  # a tag starts with NUL
    if first is None or (first.startswith("\x00") and first != "\x00dataclass"):
        raise InvalidArgumentError(
            f"config must be a mapping (a dict, a DictConfig, ...) or an object with named "
            f"fields (a dataclass, a pydantic model, argparse's Namespace, ...), got "
            f"{type(config).__name__}; put a value of this kind under a key: config={{'x': x}}"
        )
    return config


def _check_read(read: object, **writes: bool) -> None:
    if read not in (False, True, "latest"):
        raise InvalidArgumentError(f"read must be False, True or 'latest', got {read!r}")
    if read and any(writes.values()):
        raise InvalidArgumentError(
            f"read={read!r} with {' and '.join(n for n, on in writes.items() if on)}: a "
            "reader's path is an existing version, never staged, cached or recorded; decorate "
            "the writer and the reader with two Artifact(...)s of the same keyword and config"
        )


def _checked_repo(repo: str | os.PathLike[str] | None) -> str | None:
    """``repo=`` as an absolute path, checked with one stat: the only I/O at decoration."""
    if repo is None:
        return None
    path = os.path.abspath(os.fspath(repo))
    try:
        if stat.S_ISDIR(os.stat(path).st_mode):
            return path
        problem = "is not a directory"
    except FileNotFoundError:
        problem = "does not exist"
    raise InvalidArgumentError(
        f"repo={os.fspath(repo)!r} {problem}; pass a directory inside the work tree "
        "(or leave repo out to use the one holding the function's source file)"
    )


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
    :param cache: skip the call when every tagged output already exists with a
        record of the same full config hash, fingerprint and commit, and return
        what the function returned when it made them; implies ``atomic``.
    :param atomic: build outputs in a private directory next to the target and
        rename them into place only when the function returns.
    :param provenance: write ``<tagged name>.provenance.json`` next to each
        output when the function returns: how, when and where it was made.
    :param redact: config or argument keys (at any depth) to write as
        ``"<redacted>"`` in provenance records; they are hashed all the same.
    :param depends_on: the paths (or git pathspecs), relative to the work tree's
        root, that hold the code the output depends on. The name then carries the
        content key of the code they hold instead of a commit (a commit elsewhere,
        a revert or a rebase keeps every name), and only changes inside them, or
        untracked files inside them, make the tree dirty. The function's own
        source file is always among them.
    :param strict_scope: refuse a call whose code reaches files of the work tree that
        ``depends_on`` leaves out (a module imported from outside it), instead of
        warning with :class:`OutOfScopeWarning` once per function.
    :param lock_timeout: with ``cache``, how many seconds a call waits at most for
        another building the same artifact (default: as long as it takes, or
        ``TAGGEDARTIFACTS_LOCK_TIMEOUT``); then :class:`LockTimeoutError` names who
        holds it. While it waits, the ``taggedartifacts`` logger says at INFO level
        every few seconds who that is.
    :param read: for a function that reads an artifact instead of writing one:
        True passes the exact name the current state gives, ``"latest"`` the
        newest clean version with the same config at HEAD or before it; either
        raises :class:`FileNotFoundError` (naming the versions that exist) before
        the function runs when there is none.
    :raises InvalidArgumentError: for a bad keyword, config, include_args,
        depends_on or read, ``read`` with cache, atomic or provenance, or a
        generator function with atomic, cache or provenance.
    :raises UnhashableConfigError: for a config value with no stable encoding.
    """

    def __init__(
        self,
        keyword: str | Sequence[str],
        config: Any = None,
        allow_dirty: bool = False,
        *,
        untracked: bool = False,
        repo: str | os.PathLike[str] | None = None,
        include_args: bool | Sequence[str] = False,
        cache: bool = False,
        atomic: bool = False,
        provenance: bool = False,
        redact: Sequence[str] = (),
        depends_on: Sequence[str] | None = None,
        strict_scope: bool = False,
        lock_timeout: float | None = None,
        read: bool | Literal["latest"] = False,
    ) -> None:
        if isinstance(redact, str) or not all(isinstance(k, str) for k in redact):
            raise InvalidArgumentError(f"redact must be a list of key names, got {redact!r}")
        if strict_scope and depends_on is None:
            raise InvalidArgumentError(
                "strict_scope=True refuses calls whose code reaches files outside depends_on; "
                "pass depends_on as well"
            )
        _check_read(read, cache=cache, atomic=atomic, provenance=provenance)
        if lock_timeout is not None and not (
            isinstance(lock_timeout, (int, float)) and lock_timeout >= 0
        ):
            raise InvalidArgumentError(
                f"lock_timeout must be a number of seconds (0 or more), got {lock_timeout!r}"
            )
        self.options = Options(
            keywords=keywords(keyword),
            config=_checked_config({} if config is None else config),
            allow_dirty=allow_dirty,
            untracked=untracked,
            repo=_checked_repo(repo),
            include_args=(
                include_args
                if isinstance(include_args, bool)
                else keywords(include_args, what="include_args")
            ),
            cache=cache,
            atomic=atomic or cache,
            provenance=provenance,
            redact=tuple(redact),
            depends_on=check_depends_on(depends_on),
            strict_scope=strict_scope,
            lock_timeout=lock_timeout,
            read=read,
        )

    def __call__(self, func: Callable[P, R]) -> TaggedFunction[P, R]:
        function = Function(func, self.options)
        wrapper = _async_wrapper(function) if function.is_async else _sync_wrapper(function)
        wrapper.paths = function.paths  # type: ignore[attr-defined]
        return cast(TaggedFunction[P, R], wrapper)


def _sync_wrapper(function: Function) -> Callable[..., Any]:
    @functools.wraps(function.func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        plan = function.plan_call(args, kwargs)
        if plan.state.dirty:  # before anything is held: an "error" filter may raise here
            warn_dirty(function.func, function.name, plan.state, function.defined)
        run = function.start(plan, args, kwargs, cast(list[FileLock], function.locks(plan)))
        if not run.hit:
            try:
                result = function.func(*run.args, **run.kwargs)
            except BaseException as exc:
                run.fail(exc)
                raise
            run.value = run.finish(result, function.after(plan, run.stage is not None))
        for warning in (*plan.warnings, *run.warnings):
            warn(warning, function.defined)
        return run.value

    return wrapper


def _async_wrapper(function: Function) -> Callable[..., Any]:
    @functools.wraps(function.func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        import asyncio  # an async function's caller has imported it already

        # git, hashing and publishing run in worker threads (with this task's context, so
        # pinned() blocks still apply): the event loop never waits for them.
        plan = await asyncio.to_thread(function.plan_call, args, kwargs)
        if plan.state.dirty:
            warn_dirty(function.func, function.name, plan.state, function.defined)
        locks = await _locks_without_blocking(function, plan)
        run = await _started(function, plan, args, kwargs, locks)
        if not run.hit:
            try:
                result = await function.func(*run.args, **run.kwargs)
            except BaseException as exc:
                run.fail(exc)
                raise
            changed = await asyncio.to_thread(function.after, plan, run.stage is not None)
            run.value = await asyncio.to_thread(run.finish, result, changed)
        for warning in (*plan.warnings, *run.warnings):
            warn(warning, function.defined)
        return run.value

    return wrapper


async def _locks_without_blocking(function: Function, plan: Plan) -> list[FileLock]:
    """The build locks, waited for on the event loop: a worker thread blocked on a lock
    held by another task of this loop could starve that task of the threads it needs."""
    import asyncio

    wait: Patience | None = None
    while not isinstance(locks := function.locks(plan, blocking=False), list):
        if wait is None:  # one wait from the first try on: its bound and its notes
            wait = locks
        wait.lock, wait.what = locks.lock, locks.what  # the lock it waits for now
        await asyncio.sleep(wait.pause())  # which says who holds it, and ends the wait
    return locks


async def _started(
    function: Function,
    plan: Plan,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    locks: list[FileLock],
) -> Run:
    """The run, made in a worker thread; if the caller is cancelled meanwhile, the run
    made all the same is given up (its stage removed, its locks released)."""
    import asyncio

    future = asyncio.ensure_future(asyncio.to_thread(function.start, plan, args, kwargs, locks))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(_give_up)
        raise


def _give_up(future: Any) -> None:
    import asyncio

    if not future.cancelled() and future.exception() is None:
        future.result().fail(asyncio.CancelledError())
