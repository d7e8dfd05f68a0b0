"""Building and parsing tagged names: names in, names out, no I/O.

A tag goes between a name's stem and its suffix::

    clean:  {stem}-{commit[:7]}-{config[:10]}{suffix}
    dirty:  {stem}-{commit[:7]}-dirty{diff[:10]}-{config[:10]}{suffix}

With ``depends_on`` the code part is the scope's content key instead of a commit,
spelled ``code{key[:7]}`` (``plots/loss-code1a2b3c4-0123456789.png``): the word
holds letters a commit never has, so the two kinds of name cannot be mistaken.

The suffix is the last ``.xxx`` of the name, where ``xxx`` holds no dot, dash
or white space; a compression suffix (``.gz .bz2 .xz .zst .lz4 .br``) takes
the one before it along (``data.csv.gz`` -> ``data`` + ``.csv.gz``). Because a
suffix never holds a dash and a tag always does, splitting a tagged name finds
the same suffix as splitting the untagged one, which is what makes
:func:`parse` the exact inverse of :func:`tag_path`.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePath
from typing import NamedTuple, TypeVar, overload

from ._errors import InvalidPathError, NotTaggedError

# Every name this package gives to what it writes: tagged artifacts, their records,
# private build directories (hidden, never a tagged name) and output kept after a failure.
RECORD_SUFFIX = ".provenance.json"
PRIVATE_PREFIX = ".taggedartifacts-"
KEPT_PREFIX = "taggedartifacts-unpublished-"
REPLACED_PREFIX = "taggedartifacts-replaced-"  # a directory without a record, moved aside

COMPRESSION_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".zst", ".lz4", ".br"})
_SUFFIX = re.compile(r"\.[^.\s-]+\Z")
_TAGGED = re.compile(
    # Names made by 0.1 carry a 6-digit fingerprint; they still parse.
    r"(?P<stem>.+)-(?:(?P<commit>[0-9a-f]{7})|code(?P<code>[0-9a-f]{7}))-"
    r"(?:dirty(?P<diff>[0-9a-f]{10}|[0-9a-f]{6})-)?(?P<config>[0-9a-f]{10})\Z",
    re.DOTALL,
)
_HEX_DIGITS = "0123456789abcdef"
_SEPARATORS = "".join(s for s in (os.sep, os.altsep) if s)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")

PureT = TypeVar("PureT", bound=PurePath)


def is_url(path: object) -> bool:
    """Whether a path argument is a URL (``scheme://...``); local paths never are."""
    return isinstance(path, str) and _URL.match(path) is not None


def split_query(path: str) -> tuple[str, str]:
    """Split a URL into ``(everything before its query, "?query")``; a local path has none.

    Only ``?`` starts a query: fsspec reads ``#`` as part of a key
    (``s3://bucket/run#3/loss.png``), so it is part of the path here too.
    """
    url = _URL.match(path)
    if url is None:
        return path, ""
    cut = path.find("?", url.end())
    return (path, "") if cut < 0 else (path[:cut], path[cut:])


class Tag(NamedTuple):
    """The parts of a tagged name.

    ``commit`` (None in a scoped name), ``code`` (the scope's content key; None in a
    name that carries a commit), ``diff`` and ``config`` are the short prefixes the
    name holds.
    """

    stem: str
    commit: str | None
    dirty: bool
    diff: str | None
    config: str
    suffix: str
    code: str | None = None

    @property
    def untagged(self) -> str:
        """The file name the tag was put into."""
        return self.stem + self.suffix


def _last_suffix(name: str) -> str:
    dot = name.rfind(".")
    if dot <= 0 or not _SUFFIX.match(name, dot):
        return ""
    return name[dot:]


def split_name(name: str) -> tuple[str, str]:
    """Split a file name into ``(stem, suffix)`` by the rule in the module docstring."""
    suffix = _last_suffix(name)
    if suffix.lower() in COMPRESSION_SUFFIXES:
        suffix = _last_suffix(name[: -len(suffix)]) + suffix
    return name[: len(name) - len(suffix)], suffix


def tag_name(
    name: str,
    *,
    commit: str,
    config_digest: str,
    fingerprint: str | None = None,
    scope_key: str | None = None,
) -> str:
    """Put a tag into one file name.

    :param commit: the commit sha (at least 7 hex characters).
    :param config_digest: the config hash (at least 10 hex characters).
    :param fingerprint: the dirty-state fingerprint (at least 10 hex characters), or None
        when clean.
    :param scope_key: a ``depends_on`` scope's content key (at least 7 hex characters):
        the name carries it instead of the commit.
    :raises InvalidPathError: for an empty name, ``.`` or ``..``.
    """
    return _with_tag(name, _tag(commit, config_digest, fingerprint, scope_key))


def _tag(commit: str, config_digest: str, fingerprint: str | None, scope_key: str | None) -> str:
    """What goes between stem and suffix: ``-{code}-[dirty{fingerprint}-]{config}``."""
    _check_hex("config_digest", config_digest, 10)
    if scope_key is not None:
        _check_hex("scope_key", scope_key, 7)
        code = "code" + scope_key[:7]
    else:
        _check_hex("commit", commit, 7)
        code = commit[:7]
    if fingerprint is None:
        return f"-{code}-{config_digest[:10]}"
    _check_hex("fingerprint", fingerprint, 10)
    return f"-{code}-dirty{fingerprint[:10]}-{config_digest[:10]}"


def _with_tag(name: str, tag: str) -> str:
    if name in ("", ".", ".."):
        raise InvalidPathError(f"{name!r} names no file to tag; give a file or directory name")
    stem, suffix = split_name(name)
    return stem + tag + suffix


def _check_hex(what: str, value: str, length: int) -> None:
    if len(value) < length or value.strip(_HEX_DIGITS):  # strip() leaves nothing of hex
        raise ValueError(
            f"{what} must be at least {length} lowercase hex characters, got {value!r}"
        )


@overload
def tag_path(
    path: str,
    *,
    commit: str,
    config_digest: str,
    fingerprint: str | None = None,
    scope_key: str | None = None,
) -> str: ...
@overload
def tag_path(
    path: PureT,
    *,
    commit: str,
    config_digest: str,
    fingerprint: str | None = None,
    scope_key: str | None = None,
) -> PureT: ...
def tag_path(
    path: str | PurePath,
    *,
    commit: str,
    config_digest: str,
    fingerprint: str | None = None,
    scope_key: str | None = None,
) -> str | PurePath:
    """Tag the last component of a path, keeping every other part as it is.

    A ``str`` is split at this platform's separators and keeps a trailing
    separator (a directory); a pure path keeps its drive, share and parents,
    whatever its flavour, so ``PureWindowsPath`` works on POSIX too.
    """
    tag = _tag(commit, config_digest, fingerprint, scope_key)
    if isinstance(path, PurePath):
        if not path.name:
            raise InvalidPathError(
                f"{str(path)!r} names no file to tag; give a file or directory name"
            )
        return path.with_name(_with_tag(path.name, tag))
    head, name, trail = _split_str(path)  # which refuses an empty name, "." and ".."
    stem, suffix = split_name(name)
    return head + stem + tag + suffix + trail


def _split_str(path: str) -> tuple[str, str, str]:
    """Split ``path`` into ``(parent part, last component, everything after it)``.

    A URL (``s3://bucket/runs/x.png?versionId=2``) is split at ``/`` after its
    ``scheme://`` part, and keeps its query; a plain path at this platform's
    separators, keeping trailing separators (a directory).
    """
    url = _URL.match(path)
    if url:
        core, query = split_query(path)
        if "/" not in core[url.end() :].rstrip("/"):
            raise InvalidPathError(
                f"{path!r} names no file to tag; give a file under the bucket or host, "
                "e.g. s3://bucket/runs/loss.png"
            )
        head, name, trail = _split_at(core, "/")
        return head, name, trail + query
    return _split_at(path, _SEPARATORS)


def _split_at(path: str, separators: str) -> tuple[str, str, str]:
    body = path.rstrip(separators)
    cut = 1 + max(map(body.rfind, separators))
    name = body[cut:]
    if name in ("", ".", ".."):  # an empty body leaves an empty name
        raise InvalidPathError(f"{path!r} names no file to tag; give a file or directory name")
    return body[:cut], name, path[len(body) :]


def parse(path: str | os.PathLike[str]) -> Tag:
    """Read the tag out of a path's last component.

    :raises NotTaggedError: (a ``ValueError``) when the name carries no tag.
    """
    if isinstance(path, PurePath):
        name = path.name
    else:
        name = _split_str(os.fspath(path))[1] if os.fspath(path) else ""
    stem, suffix = split_name(name)
    match = _TAGGED.match(stem)
    if match is None:
        raise NotTaggedError(
            f"{name!r} carries no tag; expected <stem>-<commit>-<config hash><suffix>"
        )
    return Tag(
        stem=match["stem"],
        commit=match["commit"],
        dirty=match["diff"] is not None,
        diff=match["diff"],
        config=match["config"],
        suffix=suffix,
        code=match["code"],
    )


def untagged_path(path: str) -> str:
    """The path a tagged path was made from (``plots/loss-abc1234-0123456789.png`` ->
    ``plots/loss.png``); any other path as it is."""
    try:
        head, name, trail = _split_str(path)
    except InvalidPathError:
        return path
    try:
        tag = parse(name)
    except NotTaggedError:
        return path
    return head + tag.untagged + trail


def is_output(path: str) -> bool:
    """Whether a relative path lies in something this package writes: a tagged
    artifact, its record, a private build directory or kept output."""
    if "-" not in path:  # every such name holds a dash: most paths are decided here
        return False
    for part in path.replace(os.sep, "/").strip("/").split("/"):
        if part.startswith((PRIVATE_PREFIX, KEPT_PREFIX, REPLACED_PREFIX)):
            return True
        name = part.removesuffix(RECORD_SUFFIX)
        if "-" in name and _TAGGED.match(split_name(name)[0]):  # a tag holds dashes
            return True
    return False
