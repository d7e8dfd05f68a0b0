"""Finding the tagged versions of a path that exist on disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ._errors import NotTaggedError
from ._tagging import Tag, parse, split_name

__all__ = ["PREFIX", "Version", "versions", "versions_note"]

PREFIX = ".taggedartifacts-"  # private build directories of atomic calls; never versions


class Version(NamedTuple):
    """One tagged version of a path: where it is, what its name says, when it was written."""

    path: Path
    tag: Tag
    mtime: float

    def __str__(self) -> str:
        import datetime

        when = datetime.datetime.fromtimestamp(self.mtime).isoformat(sep=" ", timespec="seconds")
        dirty = f" dirty {self.tag.diff}" if self.tag.dirty else ""
        return (
            f"{self.path.name} (commit {self.tag.commit}{dirty}, config {self.tag.config}, "
            f"modified {when})"
        )


def versions(path: str | os.PathLike[str]) -> list[Version]:
    """List the tagged versions of an untagged path, newest first.

    A version sits in the same directory and has the same stem and suffix, with
    any commit, dirty state or config. ``versions("plots/loss.png")`` finds
    ``plots/loss-abc1234-0123456789.png`` but not ``plots/loss-curve-...png``.
    """
    target = Path(os.fspath(path))
    stem, suffix = split_name(target.name)
    found = []
    try:
        entries = list(os.scandir(target.parent))
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.name.startswith(PREFIX):
            continue
        try:
            tag = parse(entry.name)
        except NotTaggedError:
            continue
        if tag.stem == stem and tag.suffix == suffix:
            try:
                mtime = entry.stat().st_mtime
            except FileNotFoundError:  # removed while we looked
                continue
            found.append(Version(Path(entry.path), tag, mtime))
    found.sort(key=lambda v: (v.mtime, v.path.name), reverse=True)
    return found


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
