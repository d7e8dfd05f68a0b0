"""One call: what it is (:class:`Plan`), and its run, from a cache hit or the function's
start to its return (:class:`Run`).

With ``cache=True`` a call is a hit when every tagged output exists, of the kind
its record says, and its record carries this call's full config hash,
fingerprint and commit (a short name can collide; a full digest does not). A
record of other full digests at the target is never replaced: that is an
:class:`ArtifactConflictError`, raised before the function runs (and checked
again before publishing). Concurrent ``cache=True`` callers of one artifact on
one file system take a lock named after it, so it is built once.

Unless the call is a hit, the function runs; when it returns, each output gets
its record (with ``cache`` or ``provenance``), with ``atomic`` everything is
published from the private stage, the artifact last, and the value it returned
is handed back with every private path in it spelled as the published one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ._atomic import Stage, build_lock, name_max
from ._errors import (
    ArtifactConflictError,
    DirtyRepositoryError,
    DirtyRepositoryWarning,
    InvalidArgumentError,
    InvalidPathError,
    TaggedArtifactsWarning,
    add_note,
)
from ._gitinfo import GitState
from ._hashing import normal_form
from ._locks import FileLock, Patience
from ._log import logger
from ._records import (
    CACHE_FORMAT,
    FORMAT,
    BadRecord,
    Made,
    Unrecordable,
    artifact_digest,
    encode_value,
    made_by,
    read_record,
    record,
    record_path,
    respell,
    returned_value,
    same_function,
    write_record,
)
from ._storage import LOCAL, Output, PathArg
from ._tagging import RECORD_SUFFIX

if TYPE_CHECKING:
    import datetime
    import inspect

ENV_LOCK_TIMEOUT = "TAGGEDARTIFACTS_LOCK_TIMEOUT"


class Options(NamedTuple):
    """What :class:`~taggedartifacts.Artifact` was given, checked (see its docstring)."""

    keywords: tuple[str, ...]
    config: Any  # a mapping, or an object with named fields
    allow_dirty: bool
    untracked: bool
    repo: str | None
    include_args: bool | tuple[str, ...]
    cache: bool
    atomic: bool
    provenance: bool
    redact: tuple[str, ...]
    depends_on: tuple[str, ...] | None
    strict_scope: bool
    lock_timeout: float | None
    read: bool | str  # False, True or "latest"


class Plan(NamedTuple):
    """What one call is: its arguments, the git state and its outputs."""

    name: str  # the function's name, for messages
    func: Any  # the decorated function
    identity: dict[str, Any]  # its source file (relative to the work tree), module and name
    options: Options
    bound: inspect.BoundArguments
    outputs: dict[str, Output]  # path parameter -> its output
    state: GitState
    digest: str  # the hash of the config (and of the hashed arguments)
    arguments: dict[str, Any] | None  # the hashed arguments, when include_args is on
    notebook: str | None = None  # the notebook whose cell defines the function
    warnings: tuple[Warning, ...] = ()  # for the caller, once the call is over

    @property
    def tagged(self) -> dict[str, PathArg]:
        """Each path parameter's tagged path, spelled as the caller spelled it."""
        return {kw: out.tagged for kw, out in self.outputs.items()}


class Run:
    """One call of a decorated function, from its plan to its return.

    :ivar hit: whether the call is a cache hit: the function must not run, and
        :attr:`value` is what it returned when it made the artifact.
    :ivar args: the positional arguments to call the function with.
    :ivar kwargs: the keyword arguments to call it with.
    :ivar warnings: warnings for the caller's frame, once the call is over.
    """

    def __init__(self, plan: Plan, locks: list[FileLock]) -> None:
        """Prepare the call; ``locks`` (its outputs' build locks, see :func:`build_locks`)
        are the run's from now on, given up when it is over."""
        self.plan, options = plan, plan.options
        self.warnings: list[Warning] = []
        self.value: Any = None
        self.stage: Stage | None = None
        self.started = _now() if options.provenance else None
        self.recorded = _made_of(plan) if options.provenance else None
        self.locks = locks
        try:
            self.hit, self.value = _cached(plan, self.warnings) if options.cache else (False, None)
            if not self.hit and not options.read:
                _check_names(plan)
                _check_replaceable(plan, [] if options.cache else self.warnings)
                if options.atomic:
                    self.stage = Stage(plan.outputs)  # which makes missing parent directories
                else:
                    _make_parents(plan.outputs.values())
        except BaseException:
            self._release()
            raise
        if self.hit:
            self._release()
        self.handed = self.stage.paths if self.stage is not None else plan.tagged
        self.args, self.kwargs = _substituted(plan.bound, self.handed)

    def finish(self, result: Any, changed: DirtyRepositoryError | None = None) -> Any:
        """The function returned ``result``: write records and publish; return the result
        with every private path in it replaced by the published one.

        Once the function has returned, no failure here deletes its output.

        :param changed: how the code changed while the function ran, if it did: then
            nothing is published (it is kept, and ``changed`` is raised, saying where);
            output already written in place gets a warning.
        :raises DirtyRepositoryError: ``changed``, for output that was to be published.
        """
        options = self.plan.options
        if changed is not None and self.stage is not None:
            self.stage.keep(changed)
            self._release()
            raise changed
        if changed is not None:
            self.warnings.append(DirtyRepositoryWarning(str(changed)))
        if self.stage is None and not (options.cache or options.provenance):
            return result  # nothing to record or publish, and no lock held
        returned = respell(result, self._moves())
        try:
            self._write_records(returned)
            if self.stage is not None:
                _check_replaceable(self.plan, [])  # another writer may have published meanwhile
                trusted = [
                    os.path.basename(out.where.rstrip("/" + os.sep))
                    for out in self.plan.outputs.values()
                    if out.store.exists(record_path(out.where))
                ]
                for aside in self.stage.publish(trusted):
                    self.warnings.append(
                        TaggedArtifactsWarning(
                            f"{self.plan.name}: a directory with no record stood at the tagged "
                            f"name (a run without atomic cut short?); it was moved to {aside}, "
                            "and the new output published"
                        )
                    )
        except BaseException as exc:  # a conflict, a full disk, a lost connection
            if self.stage is not None:
                self.stage.keep(exc)  # the work is not lost: it is kept, and exc says where
            raise
        finally:
            self._release()
        return returned

    def fail(self, exc: BaseException) -> None:
        """The function raised ``exc``: nothing of it may appear."""
        try:
            if self.stage is not None:
                self.stage.discard()
            if isinstance(exc, FileNotFoundError):
                _note_versions(exc, self.plan)
        finally:
            self._release()

    def _release(self) -> None:
        if self.locks:  # only cache=True takes any
            release(self.locks)

    def _moves(self) -> list[tuple[str, str]]:
        """Each private path handed to the function (and its private directory) with the
        published path (and directory) it stands for, in the caller's spelling."""
        moves = []
        for kw, private in self.handed.items():
            tagged = self.plan.outputs[kw].tagged
            if private is not tagged:
                moves.append((os.fspath(private), os.fspath(tagged)))
                parent = os.path.dirname(os.fspath(tagged).rstrip("/" + os.sep))
                moves.append((os.path.dirname(os.fspath(private)) + os.sep, parent))
        return moves

    def _write_records(self, returned: Any) -> None:
        plan, options = self.plan, self.plan.options
        if not (options.cache or options.provenance):
            return  # atomic alone: nothing to record
        encoded = encode_value(returned, {k: os.fspath(o.tagged) for k, o in plan.outputs.items()})
        if options.cache and isinstance(encoded, Unrecordable):
            self.warnings.append(
                TaggedArtifactsWarning(
                    f"{plan.name}: a cache hit will return None, because the {encoded.what} "
                    "it returned cannot be stored; return a path or plain data"
                )
            )
        made = self._made() if self.started is not None else None
        for kw, out in plan.outputs.items():
            staged = self.stage is not None
            store, path = (LOCAL, os.fspath(self.handed[kw])) if staged else (out.store, out.where)
            kind = store.kind(path)
            if kind is None:
                if options.cache:
                    self.warnings.append(
                        TaggedArtifactsWarning(
                            f"{plan.name}: cache=True, but it wrote nothing at {out.tagged}, "
                            "so the cache can never hit; write the output at the path it is given"
                        )
                    )
                continue  # no artifact: no record either (a record alone is never a hit)
            about = made._replace(requested=out.given) if made is not None else None
            digest = artifact_digest(store, path)
            data = record(
                out.tagged, plan.state, plan.digest, plan.identity, (kind, *digest), encoded, about
            )
            write_record(store, record_path(path), data)

    def _made(self) -> Made:
        assert self.started is not None
        assert self.recorded is not None
        plan = self.plan
        return Made(
            requested="",
            config=self.recorded[0],
            arguments=self.recorded[1] if plan.arguments is not None else None,
            started=self.started,
            finished=_now(),
            redact=plan.options.redact,
            notebook=plan.notebook,
        )


def _substituted(
    bound: inspect.BoundArguments, paths: Mapping[str, PathArg]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The call's arguments with each path parameter's value replaced by ``paths`` (in
    ``**kwargs`` for a path that travels there)."""
    arguments, params = dict(bound.arguments), bound.signature.parameters
    for kw, path in paths.items():
        if kw in params:
            arguments[kw] = path
        else:  # it travels in **kwargs
            varkw = next(n for n, p in params.items() if p.kind == p.VAR_KEYWORD)
            arguments[varkw] = {**arguments[varkw], kw: path}
    call = type(bound)(bound.signature, arguments)
    return call.args, call.kwargs


def build_locks(plan: Plan, blocking: bool = True) -> list[FileLock] | Patience:
    """Take the lock of every output on this machine, so concurrent callers build it once:
    the first builds, the others wait, then find it and return what it recorded.

    :param blocking: wait for a lock another call holds, saying at INFO level every few
        seconds who holds it, for ``lock_timeout`` seconds at most; without it, hold
        nothing and return at once the :class:`Patience` of a wait for the taken lock.
    :raises LockTimeoutError: when the wait took longer than ``lock_timeout``.
    """
    locks: list[FileLock] = []
    timeout = lock_timeout(plan.options)
    try:
        for out in sorted(plan.outputs.values(), key=lambda o: o.where):
            if out.store.remote:
                continue  # object stores have no locks: builders may race, results stay whole
            os.makedirs(os.path.dirname(os.path.abspath(out.where)), exist_ok=True)
            lock = build_lock(out.where)
            what = f"{out.where}, which another call of {plan.name} is building"
            if not lock.acquire(blocking=False):
                if not blocking:
                    release(locks)
                    return Patience(lock, timeout, what)
                lock.acquire(timeout=timeout, what=what)
            locks.append(lock)
    except BaseException:
        release(locks)
        raise
    return locks


def lock_timeout(options: Options) -> float | None:
    """How long a call waits for another building its output: ``lock_timeout``, else
    ``TAGGEDARTIFACTS_LOCK_TIMEOUT``, else as long as it takes.

    :raises InvalidArgumentError: for a value that is not a number of seconds.
    """
    value: object = options.lock_timeout
    if value is None:
        value = os.environ.get(ENV_LOCK_TIMEOUT) or None
    if value is None:
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise InvalidArgumentError(
            f"{ENV_LOCK_TIMEOUT}={value!r} is not a number of seconds; set it to 0 or more, "
            "or unset it to wait as long as it takes"
        )
    return seconds


def release(locks: list[FileLock]) -> None:
    """Give up build locks, newest first."""
    for lock in reversed(locks):
        lock.release(remove=True)
    locks.clear()


def _check_names(plan: Plan) -> None:
    """Every name the call will create must fit the file system, checked before it runs.

    A plain call creates nothing itself (the function opens its path and hears from
    the file system at once); ``atomic`` publishes the artifact and records are ours.
    """
    options = plan.options
    if not (options.atomic or options.provenance):
        return
    for out in plan.outputs.values():
        if out.store.remote:
            continue
        name = os.path.basename(out.where.rstrip("/" + os.sep))
        names = [name] + ([name + RECORD_SUFFIX] if options.cache or options.provenance else [])
        limit = name_max(os.path.dirname(os.path.abspath(out.where)))
        for created in names:
            size = len(os.fsencode(created))
            if size > limit:
                raise InvalidPathError(
                    f"{plan.name}: {created!r} would be {size} bytes, {size - limit} more than "
                    f"the file system allows ({limit}); shorten the file name "
                    f"{os.path.basename(os.fspath(out.given))!r}"
                )


def _make_parents(outputs: Iterable[Output]) -> None:
    """A writer's missing parent directories, made as atomic writes make them."""
    for out in outputs:
        if not out.store.remote:
            parent = os.path.dirname(out.where.rstrip("/" + os.sep))
            if parent and not os.path.isdir(parent):
                os.makedirs(parent, exist_ok=True)


def _cached(plan: Plan, notes: list[Warning]) -> tuple[bool, Any]:
    """Whether every output exists with a record of this call's digests and function (and,
    for a file, the size it had), and the value its first record holds.

    :param notes: where to put warnings for the caller: a record that is not one, an
        artifact changed since it was made.
    """
    value = None
    for i, out in enumerate(plan.outputs.values()):
        found = _record(out, notes)
        if (
            found is None
            or found.get("format") not in (FORMAT, CACHE_FORMAT)
            or not made_by(found, plan.digest, plan.state)
            or not _same_function(found, plan, out)
            or out.store.kind(out.where) != found.get("output")
            or not _same_size(out, found, notes)
        ):
            return False, None
        if i == 0 and "returned" in found:
            outputs = {k: os.fspath(o.tagged) for k, o in plan.outputs.items()}
            try:
                value = returned_value(found, record_path(out.where), outputs)
            except BadRecord as bad:
                notes.append(TaggedArtifactsWarning(str(bad)))
                return False, None
    logger().info("%s: reusing %s", plan.name, ", ".join(map(str, plan.tagged.values())))
    return True, value


def _record(out: Output, notes: list[Warning]) -> dict[str, Any] | None:
    """The record of an output; one that is not a record is none, with a warning."""
    try:
        return read_record(out.store, record_path(out.where))
    except BadRecord as bad:
        notes.append(TaggedArtifactsWarning(str(bad)))
        return None


def _same_size(out: Output, found: Mapping[str, Any], notes: list[Warning]) -> bool:
    """Whether a file has the size its record says (the cheap half of ``verify``)."""
    if found.get("output") != "file" or not isinstance(found.get("size"), int):
        return True
    size = out.store.stat(out.where)[1]
    if size == found["size"]:
        return True
    notes.append(
        TaggedArtifactsWarning(
            f"{out.tagged} holds {size} bytes, but {found['size']} were published under "
            "this name: it was changed since (taggedartifacts verify tells more); built again"
        )
    )
    return False


def _same_function(found: Mapping[str, Any], plan: Plan, out: Output) -> bool:
    """Whether a record of this call's digests was made by this call's function (a record
    that does not say is not a hit).

    :raises ArtifactConflictError: when another function made it: two functions write
        one path with one config, and each would take the other's output for its own.
    """
    same = same_function(found, plan.identity)
    if same is False:
        theirs = found["function"]
        raise ArtifactConflictError(
            f"{plan.name}: {out.tagged} was made by {theirs.get('qualname')}() in "
            f"{theirs.get('file')} with this call's config at this commit, so the name "
            f"cannot tell their outputs apart; {plan.name} is "
            f"{plan.identity.get('qualname')}() in {plan.identity.get('file')}: "
            "give one of them another path (or config)"
        )
    return bool(same)


def _check_replaceable(plan: Plan, notes: list[Warning]) -> None:
    """Refuse to replace an artifact whose record shows other full digests, or another
    function (a record that is not one, with a warning in ``notes``, is none)."""
    for out in plan.outputs.values():
        found = _record(out, notes)
        if found is not None and made_by(found, plan.digest, plan.state):
            _same_function(found, plan, out)
        elif found is not None and "config_hash" in found:
            raise ArtifactConflictError(
                f"{plan.name}: {out.tagged} exists, made by config hash "
                f"{found.get('config_hash')}, fingerprint {found.get('diff')} at commit "
                f"{found.get('commit')}, but this call has config hash {plan.digest}, "
                f"fingerprint {plan.state.diff} at commit {plan.state.commit}: two states "
                "share a short name. Nothing was replaced; move the existing artifact and "
                "its record away to write this one"
            )


def _made_of(plan: Plan) -> tuple[Any, Any]:
    """What made the artifact, as it was before the function ran: the function may
    change them, and the normal form of plain data is that data itself, so it is copied."""
    import copy  # loaded on use, like everything provenance needs

    return copy.deepcopy((normal_form(plan.options.config), normal_form(plan.arguments)))


def _now() -> datetime.datetime:
    import datetime  # loaded on use, like everything provenance needs

    return datetime.datetime.now(datetime.timezone.utc)


def _note_versions(exc: FileNotFoundError, plan: Plan) -> None:
    """Tell a reader which versions exist when its own tagged path does not (PEP 678 note)."""
    from ._versions import versions_note  # the reading side, loaded on this error only

    missing = os.path.basename(os.fspath(exc.filename)) if exc.filename else None
    for out in plan.outputs.values():
        if missing == os.path.basename(os.fspath(out.tagged)):
            add_note(exc, versions_note(out.given, out.tagged))
            return
