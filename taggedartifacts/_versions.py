"""The reading side: which tagged versions of a path exist, what one of them is, what
git knows of its commit, and which one a reader reads.

Commits: GitPython reads the commit objects (date, subject), in Python, from the
object database that our own git runner located (so neither depends on the
caller's ``GIT_*`` variables); git itself answers the graph question (is it an
ancestor of HEAD).

Readers: ``read=True`` hands the exact name the current state gives (with
``depends_on`` it survives commits outside the scope); ``read="latest"`` hands
the newest existing version with the same config digest (hashed arguments
included) whose commit is HEAD or an ancestor of HEAD and which is clean.
Either way a missing version is a :class:`FileNotFoundError`, with the versions
that do exist in a note, raised before the function runs.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, SupportsIndex, overload

from . import _git as git
from ._display import Description, Thumbnails, image_type, versions_table, when
from ._errors import GitError, NotTaggedError, TaggedArtifactsWarning, add_note
from ._git import find_work_tree
from ._gitinfo import GitState
from ._hashing import config_hash
from ._log import logger
from ._records import BadRecord, artifact_digest, made_by, read_record, record_path
from ._storage import Output, PathArg, Store, place_of
from ._tagging import Tag, is_url, parse, split_name, split_query


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
        code = f"commit {self.tag.commit}" if self.tag.commit else f"code {self.tag.code}"
        return f"{self.name} ({code}{dirty}, config {self.tag.config}, modified {modified})"


class VersionList(list[Version]):
    """What :func:`versions` returns: a plain list of :class:`Version`, newest first.

    In Jupyter it displays as a table (with what git knows about each commit);
    :meth:`show` displays image versions side by side.
    """

    def __init__(self, items: Iterable[Version], query: str) -> None:
        super().__init__(items)
        self.query = query

    @overload
    def __getitem__(self, index: SupportsIndex) -> Version: ...
    @overload
    def __getitem__(self, index: slice) -> VersionList: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Version | VersionList:
        """A version, or for a slice the versions as a list of this kind (``[:5]`` still
        shows and displays as a table)."""
        if isinstance(index, slice):
            return VersionList(super().__getitem__(index), self.query)
        return super().__getitem__(index)

    def __repr__(self) -> str:
        if not self:
            return f"<no tagged versions of {self.query}>"
        lines = [
            f"<{len(self)} tagged version{'s' * (len(self) != 1)} of {self.query}, newest first>"
        ]
        return "\n".join(lines + [f"  {v}" for v in self])

    def rows(self, repo: str | None = None) -> list[dict[str, Any]]:
        """One dict per version, with what git knows of its commit: the shape
        ``taggedartifacts ls --json`` prints (and ``show --json``, with ``provenance``).

        Keys: ``path``, ``name``, ``untagged``, ``commit`` (the name's, or for a scoped
        name the one its record holds), ``code`` (a scoped name's content key),
        ``relation`` (HEAD, ancestor, other or unknown), ``commit_date``, ``subject``,
        ``dirty``, ``diff``, ``config``, ``size`` and ``modified`` (UTC, ISO 8601).

        :param repo: a directory of the work tree that knows the commits; by default
            the one holding the versions, else the current directory's.
        """
        commits = History(repo or home(self.query)).relations(self)
        return [_row(v, commits[v]) for v in self]

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
    text = os.fspath(path)
    if is_url(text):
        text = split_query(text)[0].rstrip("/")
    place = place_of(text)
    directory, name = os.path.split(place.path.rstrip("/" + os.sep))
    stem, suffix = split_name(name)
    found = sorted(
        _found(place.store, directory or ".", stem, suffix, url=is_url(text)),
        key=lambda v: (v.mtime, v.name),
        reverse=True,
    )
    if config is not None:
        digest = config if isinstance(config, str) else config_hash(config)
        found = [v for v in found if v.tag.config == digest[:10]]
    if clean is not None:
        found = [v for v in found if v.tag.dirty is not clean]
    if reachable is not None:
        history = History(os.fspath(repo) if repo is not None else home(os.fspath(path)))
        commits = history.relations(found)
        found = [v for v in found if (commits[v]["relation"] in ("HEAD", "ancestor")) == reachable]
    return VersionList(found, os.fspath(path))


def _row(version: Version, commit: Mapping[str, Any]) -> dict[str, Any]:
    tag = version.tag
    return {
        "path": os.fspath(version.path),
        "name": version.name,
        "untagged": tag.untagged,
        "commit": tag.commit or (commit["sha"] or "")[:7] or None,
        "code": tag.code,
        "relation": commit["relation"],
        "commit_date": commit["date"],
        "subject": commit["subject"],
        "dirty": tag.dirty,
        "diff": tag.diff,
        "config": tag.config,
        "size": version.size,
        "modified": when(version.mtime),
    }


def home(query: str) -> str:
    """Where the work tree that knows a path's commits is looked for: the directory
    holding it, or for a URL the current directory."""
    return os.getcwd() if is_url(query) else os.path.dirname(os.path.abspath(query))


def _found(store: Store, directory: str, stem: str, suffix: str, url: bool) -> Iterator[Version]:
    """The versions of ``stem`` + ``suffix`` in a directory; a URL's as URLs."""
    for path, stat in store.listing(directory, stem):
        tag = _matching(path.rstrip("/").rsplit("/", 1)[-1], stem, suffix)
        if tag is None:
            continue
        try:  # only matching names are looked at
            st = stat()
        except FileNotFoundError:  # removed while we looked
            continue
        if store.remote:
            yield Version(path, tag, st.st_mtime, st.st_size)
        else:  # a file:// URL's versions are URLs too
            spelled = "file://" + os.path.abspath(path) if url else Path(path)
            yield Version(spelled, tag, st.st_mtime, st.st_size)


def _matching(name: str, stem: str, suffix: str) -> Tag | None:
    """The tag of ``name`` when it is a version of ``stem`` + ``suffix``."""
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


def describe(path: str | os.PathLike[str], repo: str | None = None) -> Description:
    """What is known of one artifact: what :meth:`VersionList.rows` says of a version
    (its name's parts, what git knows of its commit, size, modification time), and
    under ``provenance`` its record when it has one.

    :param repo: a directory of the work tree that knows the commits; by default the
        one holding the artifact, else the current directory's.
    :raises NotTaggedError: when the name carries no tag.
    :raises FileNotFoundError: when the artifact does not exist.
    """
    tag = parse(path)
    target = os.fspath(path)
    place = place_of(target)
    if not place.store.exists(place.path):
        raise FileNotFoundError(errno.ENOENT, "no such artifact", target)
    mtime, size = place.store.stat(place.path)
    version = Version(path if isinstance(path, Path) else target, tag, mtime, size)
    commit = History(repo or home(target)).relations([version])[version]
    return Description({**_row(version, commit), "provenance": record_at(*place)})


class Check(NamedTuple):
    """What :func:`verify` found of one version.

    :ivar state: ``intact`` (its bytes are those published), ``modified`` (they are
        not), ``unrecorded`` (it has no record to compare with) or ``undigested`` (its
        record holds no digest: it was made before taggedartifacts 0.2).
    """

    path: Path | str
    state: str
    detail: str

    @property
    def intact(self) -> bool:
        return self.state == "intact"


def verify(path: str | os.PathLike[str]) -> list[Check]:
    """Compare versions with the size and sha256 their records hold since they were
    published: every version of an untagged path, or the one a tagged path names.

    :raises FileNotFoundError: when there is no such version.
    """
    text = os.fspath(path)
    try:
        parse(text)
    except NotTaggedError:
        found = [v.path for v in versions(path)]
    else:
        found = [Path(text) if isinstance(path, os.PathLike) else text]
    if not found or not all(place_of(p).store.exists(place_of(p).path) for p in found):
        raise FileNotFoundError(errno.ENOENT, "no such tagged version", text)
    return [_check(p) for p in found]


def _check(path: Path | str) -> Check:
    store, where = place_of(path)
    found = record_at(store, where)
    if found is None:
        return Check(path, "unrecorded", "no record says what was published")
    if not isinstance(found.get("sha256"), str):
        return Check(path, "undigested", "its record holds no digest (made before 0.2)")
    size, sha = artifact_digest(store, where)
    if (size, sha) == (found.get("size"), found["sha256"]):
        return Check(path, "intact", f"{size} bytes, sha256 {sha[:16]}...")
    return Check(
        path,
        "modified",
        f"{size} bytes, sha256 {sha[:16]}..., but {found.get('size')} bytes, sha256 "
        f"{found['sha256'][:16]}... were published",
    )


def record_of(version: Version) -> dict[str, Any] | None:
    """A version's record, if it has one (something there that is not a record is none,
    with a warning naming it)."""
    return record_at(*place_of(version.path))


def record_at(store: Store, path: str) -> dict[str, Any] | None:
    """The record of the artifact at ``path``, as :func:`record_of`."""
    import warnings

    try:
        return read_record(store, record_path(path))
    except BadRecord as bad:
        warnings.warn(TaggedArtifactsWarning(str(bad)), stacklevel=3)
        return None


# What git knows of the commits that names carry.

_UNKNOWN = {
    "relation": "unknown",
    "date": None,
    "subject": None,
    "sha": None,
    "timestamp": None,
    "rank": None,
}
_HISTORIES: dict[tuple[str, str], History] = {}


def history_at(root: str, head: str) -> History:
    """The history of the work tree at ``root`` as of ``head``, kept for the process: a
    reader asks at every call, and what git says of a commit and HEAD never changes."""
    key = (root, head)
    if key not in _HISTORIES:
        if len(_HISTORIES) >= 16:  # bounded: every commit of a session adds one
            _HISTORIES.clear()
        _HISTORIES[key] = History(root, head)
    return _HISTORIES[key]


class History:
    """What git knows of commits (by short or full sha) in the work tree holding
    ``directory`` (else the current directory's), as of its HEAD: each one's date and
    subject, and where it stands from HEAD.

    GitPython reads the commit objects, in Python, from the object database our own
    git runner located (so neither depends on the caller's ``GIT_*`` variables).
    Where commits stand is answered for all of them at once, by one walk of HEAD's
    history (``git rev-list HEAD``, newest first) that stops as soon as every one of
    them was met: a commit met is HEAD or an ancestor, ranked by how soon it was met;
    one never met is another commit. Every commit is looked up once.

    :param head: HEAD's sha, when the caller knows it (it saves a git call).
    """

    def __init__(self, directory: str, head: str | None = None) -> None:
        self.known: dict[str | None, dict[str, Any]] = {}  # many versions share a commit
        self.ranks: dict[str, int] = {}  # commit -> how soon HEAD's history met it
        self.walked = False  # HEAD's whole history was walked: what it did not meet, is not in it
        self.repo: Any = None
        try:
            found = find_work_tree((directory, None))
            if found is None:
                return
            root = found.root
            asked = ("rev-parse", "--git-common-dir", *(["HEAD"] if head is None else []))
            out = git.check(root, *asked).split(b"\n")
        except GitError:  # no commit yet, or a .git that git cannot read: nothing is known
            return
        import git as gitpython
        from git.db import GitDB

        self.root, self.head = root, head or out[1].decode()
        self.repo = gitpython.Repo(root)
        # Read objects in Python from the directory git named, whatever GIT_* variables say.
        objects = os.path.join(root, os.fsdecode(out[0]), "objects")
        self.repo.odb = GitDB(objects)

    def lookup(self, sha: str | None) -> dict[str, Any]:
        """``relation`` (HEAD, ancestor, other or unknown), ``rank`` (0 for HEAD, then
        its ancestors newest first; None for others), ``date``, ``subject``, ``sha``."""
        return self.lookup_all([sha])[sha]

    def lookup_all(self, shas: Iterable[str | None]) -> dict[str | None, dict[str, Any]]:
        """:meth:`lookup` for many commits, with one walk of HEAD's history for all."""
        wanted = [s for s in dict.fromkeys(shas) if s not in self.known]
        commits = {s: self._commit(s) for s in wanted}
        self._walk({c["sha"] for c in commits.values() if c["sha"] is not None})
        for short, commit in commits.items():
            if commit["sha"] is not None:
                rank = self.ranks.get(commit["sha"])
                relation = "other" if rank is None else "HEAD" if rank == 0 else "ancestor"
                commit = {**commit, "relation": relation, "rank": rank}
            self.known[short] = commit
        return {s: self.known[s] for s in shas}

    def relations(self, found: Iterable[Version]) -> dict[Version, dict[str, Any]]:
        """:meth:`lookup` of each version's commit: the one its name carries, or for a
        scoped name (which carries the scope's content key) the one its record holds."""
        commits = {v: v.tag.commit or _recorded_commit(v) for v in found}
        known = self.lookup_all(commits.values())
        return {v: known[c] for v, c in commits.items()}

    def _commit(self, short: str | None) -> dict[str, Any]:
        if self.repo is None or not short:
            return _UNKNOWN
        import git as gitpython
        import gitdb.exc

        try:
            binsha = self.repo.odb.partial_to_complete_sha_hex(short)
            commit = gitpython.Commit(self.repo, binsha)
            date, subject = commit.committed_datetime.isoformat(), commit.summary
            timestamp = int(commit.committed_date)
        except (gitdb.exc.BadObject, gitdb.exc.AmbiguousObjectName, ValueError, TypeError):
            return _UNKNOWN  # unknown here, ambiguous, or not a commit
        return {**_UNKNOWN, "date": date, "subject": str(subject), "sha": commit.hexsha,
                "timestamp": timestamp}  # fmt: skip

    def _walk(self, targets: set[str]) -> None:
        """Rank ``targets`` by HEAD's history, walking it only as far as they take."""
        missing = targets - self.ranks.keys()
        if not missing or self.walked:
            return
        for rank, line in enumerate(git.lines(self.root, "rev-list", self.head)):
            sha = line.decode()
            if sha in missing:
                self.ranks[sha] = rank
                missing.discard(sha)
                if not missing:
                    return
        self.walked = True


# Readers: the version a reading function reads.


def resolve(
    name: str, outputs: Mapping[str, Output], read: bool | str, digest: str, state: GitState
) -> dict[str, PathArg]:
    """The path each path parameter of a reader (``read`` True or ``"latest"``) gets.

    :param name: the reading function's name, for messages.
    :param outputs: each path parameter's output, tagged by the current state.
    :param digest: the call's config digest; ``state``: the current git state.
    :raises FileNotFoundError: when there is no such version.
    """
    found = {}
    for kw, out in outputs.items():
        if read == "latest":
            newest = latest(out.given, digest, state)
            if newest is not None:
                found[kw] = _spelled_as(out.given, newest.name)
                logger().info("%s reads %s, the latest version of %s", name, newest, out.given)
                continue
        elif out.store.kind(out.where) is not None and _made_by(out, digest, state):
            found[kw] = out.tagged
            continue
        tagged = os.fspath(out.tagged if read is True else out.given)  # the name it looked for
        missing = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), tagged)
        if read == "latest":
            missing.strerror = f"no clean version with config {digest[:10]} at HEAD or before it"
        add_note(missing, versions_note(out.given, tagged))
        raise missing
    return found


def latest(given: PathArg, digest: str, state: GitState) -> Version | None:
    """What ``read="latest"`` reads: a clean version of this config made by the code that
    runs now (the scope's content key, else HEAD's commit), else one made at the commit
    nearest HEAD in its history; between versions of one code state, the newest file.
    A copy's or rsync's new mtime never puts older code first."""
    candidates: dict[Version, dict[str, Any]] = {}
    for version in versions(given, config=digest, clean=True):
        found = record_of(version) or {}
        if found.get("config_hash") in (None, digest):  # the name holds 10 of its digits
            candidates[version] = found
    now = [v for v, found in candidates.items() if _runs_now(v, found, state)]
    if now or not candidates or state.root is None:
        return max(now, key=lambda v: (v.mtime, v.name), default=None)
    history = history_at(state.root, state.commit)
    known = history.relations(candidates)
    ranked = [(-c["rank"], v.mtime, v.name, v) for v, c in known.items() if c["rank"] is not None]
    return max(ranked)[3] if ranked else None


def _recorded_commit(version: Version) -> str | None:
    """The commit a version's record holds (HEAD when it was made), if it has one."""
    commit = (record_of(version) or {}).get("commit")
    return commit if isinstance(commit, str) else None


def _runs_now(version: Version, found: Mapping[str, Any], state: GitState) -> bool:
    """Whether a version was made by the code that runs now (its record, if it has one,
    agreeing in full)."""
    if state.code is not None:
        return version.tag.code == state.code[:7] and found.get("code") in (None, state.code)
    return version.tag.commit == state.commit[:7] and found.get("commit") in (None, state.commit)


def _made_by(out: Output, digest: str, state: GitState) -> bool:
    """Whether the version ``read=True`` found was made by this call's full digests, as
    far as its record (if it has one) says: the name holds only their first digits."""
    found = record_at(out.store, out.where)
    return found is None or made_by(found, digest, state)


def _spelled_as(given: PathArg, name: str) -> PathArg:
    """``given`` with its last component replaced by ``name``, in the caller's spelling."""
    text = os.fspath(given)
    if is_url(text):  # a query named one object version; another version is another object
        return split_query(text)[0].rstrip("/").rsplit("/", 1)[0] + "/" + name
    parent = os.path.dirname(text.rstrip("/" + os.sep))
    joined = os.path.join(parent, name) if parent else name
    return joined if isinstance(given, str) else type(given)(joined)
