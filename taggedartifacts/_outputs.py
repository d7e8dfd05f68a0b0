"""What exists at a call's tagged names: a cache hit, an artifact that must not be
replaced, names too long to create, and the locks of those building them.

With ``cache=True`` a call is a hit when every tagged output exists, of the kind
its record says, and its record carries this call's full config hash,
fingerprint and commit (a short name can collide; a full digest does not). A
record of other full digests at the target is never replaced: that is an
:class:`ArtifactConflictError`, raised before the function runs (and checked
again before publishing). Concurrent ``cache=True`` callers of one artifact
on one file system take a lock named after it, so it is built once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from . import _remote as remote
from ._atomic import build_lock, name_max
from ._binding import PathArg
from ._errors import ArtifactConflictError, InvalidPathError
from ._locks import FileLock
from ._log import logger
from ._plan import Plan
from ._records import CACHE_FORMAT, FORMAT, read_json, record_path
from ._remote import is_url
from ._tagging import RECORD_SUFFIX
from ._values import decode_value

__all__ = [
    "build_locks",
    "cached",
    "check_names",
    "check_replaceable",
    "make_parents",
    "output_kind",
    "release",
]


# Every call asks whether a record is at its tagged name and whether the parent exists.
# os.access answers that without building a stat result or raising FileNotFoundError:
# half the cost of os.path.lexists and os.path.isdir. A name ending in a separator
# resolves only to a directory (POSIX), so access() tells a directory from a file.
# It checks with the effective ids, as stat does (a setuid process sees what stat sees).
_ACCESS = (
    os.name == "posix" and {os.access} <= os.supports_follow_symlinks & os.supports_effective_ids
)


def _lexists(path: str) -> bool:
    if not _ACCESS:
        return os.path.lexists(path)
    return os.access(path, os.F_OK, effective_ids=True, follow_symlinks=False)


def _is_dir(path: str) -> bool:
    if not _ACCESS:
        return os.path.isdir(path)
    return os.access(path + "/", os.F_OK, effective_ids=True)


def build_locks(plan: Plan, blocking: bool = True) -> list[FileLock] | None:
    """Take the lock of every local output, so concurrent callers build it once: the
    first builds, the others wait, then find it and return what it recorded.

    :param blocking: wait for a lock another call holds (saying so at INFO level);
        without it, return None at once, holding nothing, when one is taken.
    """
    locks: list[FileLock] = []
    try:
        for target in sorted(os.fspath(t) for t in plan.tagged.values()):
            local = remote.local_path(target) if is_url(target) else target
            if local is None:
                continue  # object stores have no locks: builders may race, results stay whole
            os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
            lock = build_lock(local)
            if not lock.acquire(blocking=False):
                if not blocking:
                    release(locks)
                    return None
                logger().info(
                    "%s: waiting for %s, which another call is building", plan.name, local
                )
                lock.acquire()
            locks.append(lock)
    except BaseException:
        release(locks)
        raise
    return locks


def release(locks: list[FileLock]) -> None:
    """Give up build locks, newest first."""
    for lock in reversed(locks):
        lock.release(remove=True)
    locks.clear()


def check_names(plan: Plan) -> None:
    """Every name the call will create must fit the file system, checked before it runs.

    A plain call creates nothing itself (the function opens its path and hears from
    the file system at once); ``atomic`` publishes the artifact and records are ours.
    """
    options = plan.options
    if not (options.atomic or options.provenance):
        return
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


def make_parents(paths: Iterable[PathArg]) -> None:
    """A writer's missing parent directories, made as atomic writes make them."""
    for path in paths:
        if not is_url(path):
            parent = _parent(os.fspath(path).rstrip("/" + os.sep))
            if parent and not _is_dir(parent):
                os.makedirs(parent, exist_ok=True)


def _parent(path: str) -> str:
    """The directory part of ``path`` ("" for none), maybe with a trailing separator."""
    if os.altsep is None:  # one separator: a slice, a fifth of os.path.dirname's cost
        return path[: path.rfind(os.sep) + 1]
    return os.path.dirname(path)


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


def cached(plan: Plan) -> tuple[bool, Any]:
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
            value = decode_value(
                found["returned"], {k: os.fspath(t) for k, t in plan.tagged.items()}
            )
    logger().info("%s: reusing %s", plan.name, ", ".join(map(str, plan.tagged.values())))
    return True, value


def check_replaceable(plan: Plan) -> None:
    """Refuse to replace an artifact whose record shows other full digests."""
    for path in plan.tagged.values():
        record = record_path(path)
        if not is_url(record) and not _lexists(record):
            continue  # the common case: no record
        found = read_json(record)
        if found is not None and "config_hash" in found and not _same_digests(found, plan):
            raise ArtifactConflictError(
                f"{plan.name}: {path} exists, made by config hash {found.get('config_hash')}, "
                f"fingerprint {found.get('diff')} at commit {found.get('commit')}, but this "
                f"call has config hash {plan.digest}, fingerprint {plan.state.diff} at commit "
                f"{plan.state.commit}: two states share a short name. Nothing was replaced; "
                "move the existing artifact and its record away to write this one"
            )
