"""One call in progress: a cache hit, or where the function writes and what follows.

Unless the call is a cache hit (see ``_outputs``), the function runs; when it
returns, each output gets its record (with ``cache`` or ``provenance``), with
``atomic`` everything is published from the private stage, the artifact last,
and the value it returned is handed back with every private path in it spelled
as the published one.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from . import _remote as remote
from ._atomic import Stage
from ._binding import PathArg
from ._errors import TaggedArtifactsWarning, add_note
from ._hashing import normal_form
from ._locks import FileLock
from ._outputs import (
    cached,
    check_names,
    check_replaceable,
    make_parents,
    output_kind,
    release,
)
from ._plan import Plan
from ._records import Made, record, record_path, write_json
from ._remote import is_url
from ._values import Unrecordable, encode_value

if TYPE_CHECKING:
    import datetime
    import inspect

__all__ = ["Run"]


class Run:
    """One call of a decorated function, from its plan to its return.

    :ivar hit: whether the call is a cache hit: the function must not run, and
        :attr:`value` is what it returned when it made the artifact.
    :ivar args: the positional arguments to call the function with.
    :ivar kwargs: the keyword arguments to call it with.
    :ivar warnings: warnings for the caller's frame, once the call is over.
    """

    def __init__(
        self,
        plan: Plan,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        locks: list[FileLock],
        positions: Mapping[str, int],
    ) -> None:
        """Prepare the call; ``locks`` (its outputs' build locks, see ``_outputs``) are
        the run's from now on, given up when it is over. ``positions``: where each
        parameter a positional argument can fill sits (see ``_binding.positions``)."""
        self.plan, options = plan, plan.options
        self.warnings: list[Warning] = []
        self.value: Any = None
        self.stage: Stage | None = None
        self.started = _now() if options.provenance else None
        # What made the artifact, as it was before the function ran (it may change them;
        # the normal form of plain data is that data itself, so it is copied).
        self.recorded = (
            copy.deepcopy((normal_form(options.config), normal_form(plan.arguments)))
            if options.provenance
            else None
        )
        self.locks = locks
        try:
            self.hit, self.value = cached(plan) if options.cache else (False, None)
            if not self.hit and not options.read:
                check_names(plan)
                check_replaceable(plan)
                if options.atomic:
                    self.stage = Stage(plan.tagged)  # which makes missing parent directories
                else:
                    make_parents(plan.tagged.values())
        except BaseException:
            self._release()
            raise
        if self.hit:
            self._release()
        self.handed = self.stage.paths if self.stage is not None else plan.tagged
        self.args, self.kwargs = _substituted(plan.bound, args, kwargs, self.handed, positions)

    def finish(self, result: Any) -> Any:
        """The function returned ``result``: write records and publish; return the result
        with every private path in it replaced by the published one.

        Once the function has returned, no failure here deletes its output.
        """
        options = self.plan.options
        if self.stage is None and not (options.cache or options.provenance):
            return result  # nothing to record or publish, and no lock held
        returned = _published(result, self.handed, self.plan.tagged)
        try:
            self._write_records(returned)
            if self.stage is not None:
                check_replaceable(self.plan)  # another writer may have published meanwhile
                trusted = [_name(t) for t in self.plan.tagged.values() if _has_record(t)]
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

    def _write_records(self, returned: Any) -> None:
        plan, options = self.plan, self.plan.options
        if not (options.cache or options.provenance):
            return  # atomic alone: nothing to record
        encoded = encode_value(returned, {k: os.fspath(t) for k, t in plan.tagged.items()})
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
        assert self.recorded is not None
        plan = self.plan
        return Made(
            requested="",
            config=self.recorded[0],
            arguments=self.recorded[1] if plan.arguments is not None else None,
            function=plan.func,
            started=self.started,
            finished=_now(),
            redact=plan.options.redact,
            notebook=plan.notebook,
        )


def _name(target: PathArg) -> str:
    return os.path.basename(os.fspath(target).rstrip("/" + os.sep))


def _has_record(target: PathArg) -> bool:
    """Whether a target's record exists (then its digests are this call's: see
    ``check_replaceable``), so an existing directory there is the same output."""
    path = record_path(target)
    return remote.exists(path) if is_url(path) else os.path.lexists(path)


def _substituted(
    bound: inspect.BoundArguments,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    paths: Mapping[str, PathArg],
    positions: Mapping[str, int],
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The call's own arguments with each path parameter's value replaced by ``paths``:
    where it was passed (by position, by keyword, in ``**kwargs``), else by keyword.

    :param positions: where each parameter a positional argument can fill sits.
    """
    listed, named = list(args), dict(kwargs)
    for kw, path in paths.items():
        position = positions.get(kw)
        if position is None:  # keyword-only, or it travels in **kwargs
            named[kw] = path
        elif position < len(listed):  # passed by position
            listed[position] = path
        elif (param := bound.signature.parameters[kw]).kind != param.POSITIONAL_ONLY:
            named[kw] = path  # passed by keyword, or a default: by keyword
        else:  # a positional-only default, behind other defaults: bind it all again
            params = bound.signature.parameters
            arguments = {**bound.arguments, **{k: paths[k] for k in paths if k in params}}
            call = type(bound)(bound.signature, arguments)
            return call.args, call.kwargs
    return tuple(listed), named


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
    from ._versions import versions_note  # the reading side, loaded on this error only

    missing = os.path.basename(os.fspath(exc.filename)) if exc.filename else None
    for kw, tagged in plan.tagged.items():
        if missing == os.path.basename(os.fspath(tagged)):
            add_note(exc, versions_note(plan.given[kw], tagged))
            return
