"""The reading side: which tagged versions of a path exist, and what one of them is."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from . import _remote as remote
from ._display import Description, Thumbnails, image_type, versions_table, when
from ._errors import NotTaggedError
from ._hashing import config_hash
from ._history import History
from ._records import read_json, record_path
from ._remote import is_url
from ._tagging import Tag, parse, split_name, split_query

__all__ = ["Version", "VersionList", "describe", "home", "versions", "versions_note"]


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

        modified = datetime.datetime.fromtimestamp(self.mtime).isoformat(
            sep=" ", timespec="seconds"
        )
        dirty = f" dirty {self.tag.diff}" if self.tag.dirty else ""
        return (
            f"{self.name} (commit {self.tag.commit}{dirty}, config {self.tag.config}, "
            f"modified {modified})"
        )


class VersionList(list[Version]):
    """What :func:`versions` returns: a plain list of :class:`Version`, newest first.

    In Jupyter it displays as a table (with what git knows about each commit);
    :meth:`show` displays image versions side by side.
    """

    def __init__(self, items: list[Version], query: str) -> None:
        super().__init__(items)
        self.query = query

    def __repr__(self) -> str:
        if not self:
            return f"<no tagged versions of {self.query}>"
        lines = [
            f"<{len(self)} tagged version{'s' * (len(self) != 1)} of {self.query}, newest first>"
        ]
        return "\n".join(lines + [f"  {v}" for v in self])

    def rows(self, repo: str | None = None) -> list[dict[str, Any]]:
        """One dict per version, with what git knows of its commit (as ``taggedartifacts ls``).

        Keys: ``path``, ``name``, ``commit``, ``relation`` (HEAD, ancestor, other or
        unknown), ``commit_date``, ``subject``, ``dirty``, ``diff``, ``config``,
        ``size`` and ``modified``.

        :param repo: a directory of the work tree that knows the commits; by default
            the one holding the versions, else the current directory's.
        """
        history = History(repo or home(self.query))
        out = []
        for v in self:
            commit = history.lookup(v.tag.commit)
            out.append(
                {
                    "path": os.fspath(v.path),
                    "name": v.name,
                    "commit": v.tag.commit,
                    "relation": commit["relation"],
                    "commit_date": commit["date"],
                    "subject": commit["subject"],
                    "dirty": v.tag.dirty,
                    "diff": v.tag.diff,
                    "config": v.tag.config,
                    "size": v.size,
                    "modified": when(v.mtime),
                }
            )
        return out

    def _repr_html_(self) -> str:
        return versions_table(self.query, self.rows())

    def show(self, limit: int = 8, width: int = 240) -> Thumbnails:
        """Image versions (png, jpg, gif, webp, svg) side by side, newest first."""
        images: list[tuple[Path | str, str, float]] = []
        for v in self:
            if image_type(v.name) and len(images) < limit:
                state = f"dirty {v.tag.diff}" if v.tag.dirty else "clean"
                images.append((v.path, f"{v.tag.commit} · {state} · {v.tag.config}", v.mtime))
        return Thumbnails(images, width)


def versions(
    path: str | os.PathLike[str],
    *,
    config: str | Mapping[str, Any] | None = None,
    clean: bool | None = None,
    reachable: bool | None = None,
    repo: str | os.PathLike[str] | None = None,
) -> VersionList:
    """List the tagged versions of an untagged path, newest first.

    A version sits in the same directory and has the same stem and suffix, with
    any commit, dirty state or config. ``versions("plots/loss.png")`` finds
    ``plots/loss-abc1234-0123456789.png`` but not ``plots/loss-curve-...png``.
    ``read="latest"`` reads the first of
    ``versions(path, config=..., clean=True, reachable=True)``.

    :param config: only versions of this config: a config mapping (hashed as the
        decorator hashes it) or a config hash (at least its first 10 hex digits).
    :param clean: only clean versions (True) or only dirty ones (False).
    :param reachable: only versions whose commit is HEAD or an ancestor of HEAD
        (True), or only the others (False).
    :param repo: the work tree whose HEAD ``reachable`` means; by default the
        one holding the versions, else the current directory's.
    """
    if is_url(path):
        url = split_query(str(path))[0].rstrip("/")
        directory, name = remote.parent(url), url.rsplit("/", 1)[-1]
    else:
        target = Path(os.fspath(path))
        directory, name = str(target.parent), target.name
    stem, suffix = split_name(name)
    found = sorted(_found(directory, stem, suffix), key=lambda v: (v.mtime, v.name), reverse=True)
    if config is not None:
        digest = config if isinstance(config, str) else config_hash(config)
        found = [v for v in found if v.tag.config == digest[:10]]
    if clean is not None:
        found = [v for v in found if v.tag.dirty is not clean]
    if reachable is not None:
        history = History(os.fspath(repo) if repo is not None else home(os.fspath(path)))
        ancestry = ("HEAD", "ancestor")
        found = [
            v for v in found if (history.lookup(v.tag.commit)["relation"] in ancestry) == reachable
        ]
    return VersionList(found, os.fspath(path))


def home(query: str) -> str:
    """Where the work tree that knows a path's commits is looked for: the directory
    holding it, or for a URL the current directory."""
    return os.getcwd() if is_url(query) else os.path.dirname(os.path.abspath(query))


def _found(directory: str, stem: str, suffix: str) -> Iterator[Version]:
    """The versions of ``stem`` + ``suffix`` in a directory (or a directory URL)."""
    if is_url(directory):
        for url, mtime, size in remote.listing(directory):
            tag = _matching(url.rstrip("/").rsplit("/", 1)[-1], stem, suffix)
            if tag is not None:
                yield Version(url, tag, mtime, size)
        return
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        tag = _matching(entry.name, stem, suffix)
        if tag is None:
            continue
        try:  # only matching names are looked at: a directory may hold 100k other files
            stat = entry.stat()
        except FileNotFoundError:  # removed while we looked
            continue
        yield Version(Path(entry.path), tag, stat.st_mtime, stat.st_size)


def _matching(name: str, stem: str, suffix: str) -> Tag | None:
    """The tag of ``name`` when it is a version of ``stem`` + ``suffix``."""
    if not name.startswith(stem):  # most entries of a directory: no parse at all
        return None
    try:
        tag = parse(name)
    except NotTaggedError:
        return None
    return tag if tag.stem == stem and tag.suffix == suffix else None


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


def describe(path: str | os.PathLike[str]) -> Description:
    """What the name of an artifact says, plus its provenance record when there is one.

    :raises NotTaggedError: when the name carries no tag.
    :raises FileNotFoundError: when the artifact does not exist.
    """
    import datetime

    tag = parse(path)
    target = os.fspath(path)
    info = Description(path=target, **tag._asdict(), untagged=tag.untagged)
    if is_url(target):
        mtime, size = remote.stat(target)  # FileNotFoundError when missing
    else:
        if not os.path.lexists(target):
            raise FileNotFoundError(2, "no such artifact", target)
        stat = os.stat(target)
        mtime, size = stat.st_mtime, stat.st_size
    info["size"] = size
    info["modified"] = datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).isoformat()
    info["provenance"] = read_json(record_path(target))
    return info
