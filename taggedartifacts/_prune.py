"""Pruning: remove tagged versions of a path, each with its provenance record.

:func:`prune` is handed versions (what :func:`~taggedartifacts.versions`
lists) and removes those that every given rule selects, newest kept first. It
only ever removes a tagged version and its ``.provenance.json`` record, never an
untagged file, and with ``config`` never the version the current git state
names for that config (what ``taggedartifacts tag PATH --config ...`` prints).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ._errors import DirtyRepositoryError, InvalidArgumentError, NotAGitRepositoryError
from ._git import find_work_tree
from ._gitinfo import git_state
from ._hashing import config_hash
from ._records import record_path
from ._storage import place_of
from ._versions import History, Version, home, record_of

_DAY = 24 * 3600
_HEX = "0123456789abcdef"


class Pruned(NamedTuple):
    """What :func:`prune` removed, or would remove with ``dry_run=True``.

    :ivar removed: the versions removed, newest first.
    :ivar paths: every path removed: each version, then its record when it has one.
    :ivar freed: the bytes those paths held (a directory's files summed).
    :ivar spared: versions the rules selected but which were kept because the
        current state names them for ``config``.
    :ivar dry_run: True when nothing was actually removed.
    :ivar unrecorded: versions the rules selected but which were kept because no
        record shows that this library made them (``unrecorded=True`` removes them).
    """

    removed: list[Version]
    paths: list[str]
    freed: int
    spared: list[Version]
    dry_run: bool
    unrecorded: tuple[Version, ...] = ()


def prune(
    found: Iterable[Version],
    *,
    keep: int = 0,
    keep_per_config: int | None = None,
    unreachable: bool = False,
    dirty: bool = False,
    older_than: float | None = None,
    config: str | Mapping[str, Any] | None = None,
    unrecorded: bool = False,
    dry_run: bool = False,
    repo: str | os.PathLike[str] | None = None,
    depends_on: Sequence[str] | None = None,
    untracked: bool = False,
) -> Pruned:
    """Remove versions with their provenance records: those every given rule selects,
    except the newest ``keep`` of them. Without a rule, every version given is selected.

    ``prune(versions("plots/loss.png"), unreachable=True, keep=3, dry_run=True)``

    :param found: the versions to choose from, e.g. ``versions(path)``.
    :param keep: keep the newest this many of the selected versions (of any config).
    :param keep_per_config: keep the newest this many of each config's selected
        versions (a sweep's results, one per config, all stay with 1).
    :param unreachable: only versions whose commit is not HEAD or an ancestor of it.
    :param dirty: only versions named after a dirty tree.
    :param older_than: only versions last modified more than this many days ago.
    :param config: only this config's versions (a mapping, or its hash); the one the
        current state names for it is never removed.
    :param unrecorded: also remove versions that have no record: nothing shows that
        this library made them (a file of yours may merely have a name of that shape).
    :param dry_run: remove nothing; say what would be removed.
    :param repo: the work tree whose HEAD and state count; by default the one
        holding the versions (for URLs, the current directory's).
    :param depends_on: as the decorator's, for the name the current state gives.
    :param untracked: as the decorator's, for the name the current state gives.
    :raises NotAGitRepositoryError: for ``unreachable`` or ``config`` without a
        work tree (which versions they select would be a guess).
    :raises InvalidArgumentError: for a negative ``keep``, ``keep_per_config`` or
        ``older_than``.
    """
    _check(keep, older_than, config)
    _check(keep_per_config or 0, None, None, "keep_per_config")
    candidates = sorted(found, key=lambda v: (v.mtime, v.name), reverse=True)
    if not candidates:
        return Pruned([], [], 0, [], dry_run)
    where = os.fspath(repo) if repo is not None else home(os.fspath(candidates[0].path))
    digest = config if isinstance(config, str) else _hash(config)
    selected = [v for v in candidates if _chosen(v, dirty, _cutoff(older_than), digest)]
    if unreachable:
        selected = _unreachable(selected, where, given=repo is not None)
    doomed = _beyond(selected, keep, keep_per_config)
    spared = _current(doomed, where, digest, depends_on, untracked) if digest else []
    doomed = [v for v in doomed if v not in spared]
    recordless = () if unrecorded else _recordless(doomed)
    removed = [v for v in doomed if v not in recordless]
    paths, freed = _remove(removed, dry_run)
    return Pruned(removed, paths, freed, spared, dry_run, recordless)


def _beyond(selected: list[Version], keep: int, per_config: int | None) -> list[Version]:
    """The selected versions (newest first) past the newest ``keep`` of them, and past the
    newest ``per_config`` of each config."""
    doomed = selected[keep:]
    if per_config is None:
        return doomed
    counts: dict[str, int] = {}
    kept = set()
    for version in selected:
        counts[version.tag.config] = counts.get(version.tag.config, 0) + 1
        if counts[version.tag.config] <= per_config:
            kept.add(version)
    return [v for v in doomed if v not in kept]


def _remove(removed: list[Version], dry_run: bool) -> tuple[list[str], int]:
    """Remove each version, then its record when it has one; what they were and held."""
    paths, freed = [], 0
    for version in removed:
        place = place_of(version.path)
        entries = [(os.fspath(version.path), place.path)]  # the version, then its record
        if place.store.exists(record_path(place.path)):
            entries.append((record_path(os.fspath(version.path)), record_path(place.path)))
        for shown, location in entries:
            paths.append(shown)
            freed += place.store.footprint(location)
            if not dry_run:
                place.store.remove(location)
    return paths, freed


def _check(keep: int, older_than: float | None, config: object, what: str = "keep") -> None:
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise InvalidArgumentError(f"{what} must be a count of versions (0 or more), got {keep!r}")
    if older_than is not None and not (isinstance(older_than, (int, float)) and older_than >= 0):
        raise InvalidArgumentError(f"older_than must be days (0 or more), got {older_than!r}")
    if isinstance(config, str) and (len(config) < 10 or not set(config) <= set(_HEX)):
        raise InvalidArgumentError(
            f"config must be a config mapping or a config hash (at least its first 10 hex "
            f"digits), got {config!r}"
        )


def _cutoff(older_than: float | None) -> float | None:
    """The modification time before which a version is older than ``older_than`` days."""
    import time

    return None if older_than is None else time.time() - older_than * _DAY


def _chosen(version: Version, dirty: bool, cutoff: float | None, digest: str | None) -> bool:
    """Whether a version passes the rules that need no git."""
    if dirty and not version.tag.dirty:
        return False
    if cutoff is not None and version.mtime >= cutoff:
        return False
    return digest is None or version.tag.config == digest[:10]


def _unreachable(selected: list[Version], where: str, given: bool) -> list[Version]:
    """The versions whose commit git knows and which is neither HEAD nor an ancestor.

    A commit git does not know here (a shallow clone, a branch not fetched, an
    ambiguous short sha) is not thereby unreachable: such versions are kept. Only
    the work tree holding the versions counts (History would also try the current
    directory's), or the one the caller names.
    """
    history = History(where)
    if history.repo is None or not (given or find_work_tree((where,))):
        raise NotAGitRepositoryError(
            f"no git work tree with a commit at or above {where}, so there is no telling which "
            "versions are unreachable; pass repo= naming the work tree that made them",
            (where,),
        )
    commits = history.relations(selected)
    return [v for v in selected if commits[v]["relation"] == "other"]


def _recordless(found: list[Version]) -> tuple[Version, ...]:
    """The versions no record shows this library made."""
    return tuple(v for v in found if record_of(v) is None)


def _hash(config: Mapping[str, Any] | None) -> str | None:
    return None if config is None else config_hash(config)


def _current(
    doomed: list[Version],
    where: str,
    digest: str,
    depends_on: Sequence[str] | None,
    untracked: bool,
) -> list[Version]:
    """Those of ``doomed`` that the current state names for the config: of HEAD's commit
    (or the scope's content key), and clean.

    :raises DirtyRepositoryError: when the tree is dirty, as ``tag`` refuses it: which
        versions are current would then depend on uncommitted code.
    """
    if not doomed:
        return []
    state = git_state(where, untracked=untracked, depends_on=depends_on)
    if state.dirty:
        raise DirtyRepositoryError(
            f"the work tree at {state.root} has uncommitted changes "
            f"({', '.join(state.changed[:10])}); pruning by config keeps the version the "
            "current state names, which is unknown until they are committed or stashed",
            root=state.root or "",
            changed=state.changed,
        )
    code = (None, state.code[:7]) if state.code is not None else (state.commit[:7], None)
    return [
        v
        for v in doomed
        if v.tag.config == digest[:10] and (v.tag.commit, v.tag.code) == code and not v.tag.dirty
    ]
