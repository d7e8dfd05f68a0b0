"""One call in progress: a cache hit, or where the function writes and what follows.

With ``cache=True`` a call is a hit when every tagged output exists, of the kind
its record says, and its record carries this call's full config hash,
fingerprint and commit (a short name can collide; a full digest does not).
Otherwise the function runs; when it returns, each output gets its record (with
``cache`` or ``provenance``), and with ``atomic`` everything is published from
the private stage, the artifact last. A record of other full digests at the
target is never replaced: that is an :class:`ArtifactConflictError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from . import _remote as remote
from ._atomic import Stage, build_lock, name_max
from ._binding import PathArg, var_keyword
from ._errors import ArtifactConflictError, InvalidPathError, TaggedArtifactsWarning, add_note
from ._locks import FileLock
from ._log import logger
from ._plan import Plan
from ._records import (
    CACHE_FORMAT,
    FORMAT,
    Made,
    Unrecordable,
    decode_value,
    encode_value,
    read_json,
    record,
    record_path,
    write_json,
)
from ._remote import is_url
from ._tagging import RECORD_SUFFIX
from ._versions import versions_note

if TYPE_CHECKING:
    import datetime

__all__ = ["Run", "output_kind"]


class Run:
    """One call of a decorated function, from its plan to its return.

    :ivar hit: whether the call is a cache hit: the function must not run, and
        :attr:`value` is what it returned when it made the artifact.
    :ivar args: the positional arguments to call the function with.
    :ivar kwargs: the keyword arguments to call it with.
    :ivar warnings: warnings for the caller's frame, once the call is over.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan, options = plan, plan.options
        self.warnings: list[Warning] = []
        self.value: Any = None
        self.stage: Stage | None = None
        self.started = _now() if options.provenance else None
        self.locks = _build_locks(plan) if options.cache else []
        try:
            self.hit, self.value = _cached(plan) if options.cache else (False, None)
            if not self.hit and not options.read:
                _check_names(plan)
                _check_replaceable(plan)
                if options.atomic:
                    self.stage = Stage(plan.tagged)  # which makes missing parent directories
                else:
                    _make_parents(plan.tagged.values())
        except BaseException:
            self._release()
            raise
        if self.hit:
            self._release()
        self.handed = self.stage.paths if self.stage is not None else plan.tagged
        arguments = dict(plan.bound.arguments)
        for kw, path in self.handed.items():
            if kw in plan.bound.signature.parameters:
                arguments[kw] = path
            else:  # it travels in **kwargs
                varkw = str(var_keyword(plan.bound.signature))
                arguments[varkw] = {**arguments[varkw], kw: path}
        call = type(plan.bound)(plan.bound.signature, arguments)
        self.args, self.kwargs = call.args, call.kwargs

    def finish(self, result: Any) -> Any:
        """The function returned ``result``: write records and publish; return the result
        with every private path in it replaced by the published one.

        Once the function has returned, no failure here deletes its output.
        """
        returned = _published(result, self.handed, self.plan.tagged)
        try:
            self._write_records(returned)
            if self.stage is not None:
                _check_replaceable(self.plan)  # another writer may have published meanwhile
                self.stage.publish()
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
        for lock in reversed(self.locks):
            lock.release(remove=True)
        self.locks = []

    def _write_records(self, returned: Any) -> None:
        plan, options = self.plan, self.plan.options
        if not (options.cache or options.provenance):
            return
        encoded = encode_value(returned)
        if options.cache and isinstance(encoded, Unrecordable):
            self.warnings.append(
                TaggedArtifactsWarning(
                    f"{plan.name}: a cache hit will return None, because the {encoded.what} "
                    "it returned cannot be stored; return a path or plain data"
                )
            )
        made = self._made() if self.started is not None else None
        for kw, path in self.handed.items():
            output = output_kind(path)
            if output is None:
                if options.cache:
                    self.warnings.append(
                        TaggedArtifactsWarning(
                            f"{plan.name}: cache=True, but it wrote nothing at {plan.tagged[kw]}, "
                            "so the cache can never hit; write the output at the path it is given"
                        )
                    )
                continue  # no artifact: no record either (a record alone is never a hit)
            about = made._replace(requested=plan.given[kw]) if made is not None else None
            data = record(plan.tagged[kw], plan.state, plan.digest, output, encoded, about)
            write_json(record_path(path), data)

    def _made(self) -> Made:
        assert self.started is not None
        plan = self.plan
        return Made(
            requested="",
            config=plan.options.config,
            arguments=plan.arguments,
            function=plan.func,
            started=self.started,
            finished=_now(),
            redact=plan.options.redact,
            notebook=plan.notebook,
        )


def _build_locks(plan: Plan) -> list[FileLock]:
    """Take the lock of every local output, so concurrent callers build it once: the
    first builds, the others wait, then find it and return what it recorded."""
    locks = []
    try:
        for target in sorted(os.fspath(t) for t in plan.tagged.values()):
            local = remote.local_path(target) if is_url(target) else target
            if local is None:
                continue  # object stores have no locks: builders may race, results stay whole
            os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
            lock = build_lock(local)
            if not lock.acquire(blocking=False):
                logger().info(
                    "%s: waiting for %s, which another call is building", plan.name, local
                )
                lock.acquire()
            locks.append(lock)
    except BaseException:
        for lock in locks:
            lock.release(remove=True)
        raise
    return locks


def _check_names(plan: Plan) -> None:
    """Every name the call will create must fit the file system, checked before it runs."""
    options = plan.options
    for target in plan.tagged.values():
        local = remote.local_path(str(target)) if is_url(target) else os.fspath(target)
        if local is None:
            continue
        name = os.path.basename(local.rstrip("/" + os.sep))
        names = [name] + ([name + RECORD_SUFFIX] if options.cache or options.provenance else [])
        limit = name_max(os.path.dirname(os.path.abspath(local)))
        for created in names:
            size = len(os.fsencode(created))
            if size > limit:
                raise InvalidPathError(
                    f"{plan.name}: {created!r} would be {size} bytes, {size - limit} more than "
                    f"the file system allows ({limit}); shorten the file name "
                    f"{os.path.basename(os.fspath(plan.given[next(iter(plan.given))]))!r}"
                )


def _make_parents(paths: Iterable[PathArg]) -> None:
    """A writer's missing parent directories, made as atomic writes make them."""
    for path in paths:
        if not is_url(path):
            parent = os.path.dirname(os.path.abspath(os.fspath(path)))
            os.makedirs(parent, exist_ok=True)


def output_kind(path: PathArg) -> str | None:
    """``file`` or ``directory`` for what exists at ``path``, None for nothing (or, at a
    URL, a directory whose upload did not finish)."""
    if is_url(path):
        return remote.kind(str(path))
    if os.path.isdir(path):
        return "directory"
    return "file" if os.path.lexists(path) else None


def _same_digests(found: Mapping[str, Any], plan: Plan) -> bool:
    """Whether a record was made by this call's exact config, dirty state and commit."""
    commit, theirs = plan.state.commit, str(found.get("commit"))
    short = min(len(commit), len(theirs))
    return (
        found.get("config_hash") == plan.digest
        and found.get("diff") == plan.state.diff
        and short >= 7
        and commit[:short] == theirs[:short]
    )


def _cached(plan: Plan) -> tuple[bool, Any]:
    """Whether every output exists with a record of this call's digests, and the value
    its first record holds."""
    value = None
    for i, path in enumerate(plan.tagged.values()):
        found = read_json(record_path(path))
        if (
            found is None
            or found.get("format") not in (FORMAT, CACHE_FORMAT)
            or not _same_digests(found, plan)
            or output_kind(path) != found.get("output")
        ):
            return False, None
        if i == 0 and "returned" in found:
            value = decode_value(found["returned"])
    logger().info("%s: reusing %s", plan.name, ", ".join(map(str, plan.tagged.values())))
    return True, value


def _check_replaceable(plan: Plan) -> None:
    """Refuse to replace an artifact whose record shows other full digests."""
    for path in plan.tagged.values():
        found = read_json(record_path(path))
        if found is not None and "config_hash" in found and not _same_digests(found, plan):
            raise ArtifactConflictError(
                f"{plan.name}: {path} exists, made by config hash {found.get('config_hash')}, "
                f"fingerprint {found.get('diff')} at commit {found.get('commit')}, but this "
                f"call has config hash {plan.digest}, fingerprint {plan.state.diff} at commit "
                f"{plan.state.commit}: two states share a short name. Nothing was replaced; "
                "move the existing artifact and its record away to write this one"
            )


def _published(value: Any, handed: Mapping[str, PathArg], tagged: Mapping[str, PathArg]) -> Any:
    """``value`` with every private path handed to the function (or a path inside its
    private directory) spelled as the published path, in the caller's spelling."""
    moves = []
    for kw, private in handed.items():
        if private is not tagged[kw]:
            moves.append((os.fspath(private), os.fspath(tagged[kw])))
            parent = os.path.dirname(os.fspath(tagged[kw]).rstrip("/" + os.sep))
            moves.append((os.path.dirname(os.fspath(private)) + os.sep, parent))
    return _replace_paths(value, moves) if moves else value


def _replace_paths(value: Any, moves: list[tuple[str, str]]) -> Any:
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_replace_paths(v, moves) for v in value)
    if isinstance(value, list):
        return [_replace_paths(v, moves) for v in value]
    if isinstance(value, dict):
        return {k: _replace_paths(v, moves) for k, v in value.items()}
    if not isinstance(value, (str, os.PathLike)) or not isinstance(os.fspath(value), str):
        return value
    text = os.fspath(value)
    for private, public in moves:
        if text == private or (private.endswith(os.sep) and text.startswith(private)):
            moved = public if text == private else _join(public, text[len(private) :])
            if isinstance(value, PurePath) and not is_url(moved):
                return type(value)(moved)  # a Path stays a Path, relative stays relative
            return moved
    return value


def _join(parent: str, name: str) -> str:
    if not parent:
        return name
    return parent.rstrip("/") + "/" + name if is_url(parent) else os.path.join(parent, name)


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
