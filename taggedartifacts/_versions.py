"""Finding the tagged versions of a path that exist on disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import _remote as remote
from ._errors import NotTaggedError
from ._remote import is_url

if TYPE_CHECKING:
    from ._display import VersionList
from ._tagging import Tag, parse, split_name, split_query

__all__ = ["PREFIX", "Version", "versions", "versions_note"]

PREFIX = ".taggedartifacts-"  # private build directories of atomic calls; never versions


class Version(NamedTuple):
    """One tagged version of a path: where it is, what its name says, when it was written.

    ``path`` is a :class:`~pathlib.Path`, or a ``str`` URL for remote storage.
    """

    path: Path | str
    tag: Tag
    mtime: float
    size: int

    @property
    def name(self) -> str:
        """The tagged file name."""
        return os.fspath(self.path).rstrip("/").rsplit("/", 1)[-1]

    def __str__(self) -> str:
        import datetime

        when = datetime.datetime.fromtimestamp(self.mtime).isoformat(sep=" ", timespec="seconds")
        dirty = f" dirty {self.tag.diff}" if self.tag.dirty else ""
        return (
            f"{self.name} (commit {self.tag.commit}{dirty}, config {self.tag.config}, "
            f"modified {when})"
        )


def versions(path: str | os.PathLike[str]) -> VersionList:
    """List the tagged versions of an untagged path, newest first.

    A version sits in the same directory and has the same stem and suffix, with
    any commit, dirty state or config. ``versions("plots/loss.png")`` finds
    ``plots/loss-abc1234-0123456789.png`` but not ``plots/loss-curve-...png``.
    """
    entries: Sequence[tuple[Path | str, float, int]]
    if is_url(path):
        url = split_query(str(path))[0].rstrip("/")
        entries = remote.listing(remote.parent(url))
        name = url.rsplit("/", 1)[-1]
    else:
        target = Path(os.fspath(path))
        name = target.name
        entries = _local_listing(target.parent)
    stem, suffix = split_name(name)
    found = []
    for location, mtime, size in entries:
        entry_name = os.fspath(location).rstrip("/").rsplit("/", 1)[-1]
        if entry_name.startswith(PREFIX):
            continue
        try:
            tag = parse(entry_name)
        except NotTaggedError:
            continue
        if tag.stem == stem and tag.suffix == suffix:
            found.append(Version(location, tag, mtime, size))
    found.sort(key=lambda v: (v.mtime, v.name), reverse=True)
    from ._display import VersionList  # imported here: it imports this module

    return VersionList(found, os.fspath(path))


def _local_listing(directory: Path) -> list[tuple[Path, float, int]]:
    out = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            stat = entry.stat()
        except FileNotFoundError:  # removed while we looked
            continue
        out.append((Path(entry.path), stat.st_mtime, stat.st_size))
    return out


def versions_note(
    untagged: str | os.PathLike[str], missing: str | os.PathLike[str], limit: int = 5
) -> str:
    """The note added to a FileNotFoundError for a tagged path that does not exist."""
    existing = versions(untagged)
    name = os.path.basename(os.fspath(missing))
    if not existing:
        return f"taggedartifacts: {name} does not exist, and no other version of it does either"
    lines = [f"taggedartifacts: {name} does not exist; versions that do (newest first):"]
    lines += [f"  {v}" for v in existing[:limit]]
    if len(existing) > limit:
        lines.append(f"  ... and {len(existing) - limit} more")
    return "\n".join(lines)
