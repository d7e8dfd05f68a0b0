"""Readers (``read=True`` and ``read="latest"``): the version a reading function reads.

``read=True`` hands the exact name the current state gives (with ``depends_on``
it survives commits outside the scope); ``read="latest"`` hands the newest
existing version with the same config digest (hashed arguments included) whose
commit is HEAD or an ancestor of HEAD and which is clean. Either way a missing
version is a :class:`FileNotFoundError`, with the versions that do exist in a
note, raised before the function runs.
"""

from __future__ import annotations

import errno
import os

from ._binding import PathArg
from ._errors import add_note
from ._history import history_at
from ._log import logger
from ._outputs import output_kind
from ._plan import Plan
from ._remote import is_url
from ._tagging import split_query
from ._versions import Version, versions, versions_note

__all__ = ["resolve"]


def resolve(plan: Plan) -> dict[str, PathArg]:
    """The path each path parameter of a reader gets.

    :raises FileNotFoundError: when there is no such version.
    """
    found = {}
    for kw, tagged in plan.tagged.items():
        given = plan.given[kw]
        if plan.options.read == "latest":
            newest = _latest(plan, given)
            if newest is not None:
                found[kw] = _spelled_as(given, newest.name)
                logger().info("%s reads %s, the latest version of %s", plan.name, newest, given)
                continue
        elif output_kind(tagged) is not None:
            found[kw] = tagged
            continue
        missing = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(tagged))
        if plan.options.read == "latest":
            missing.strerror = "no clean version with this config at HEAD or before it"
        add_note(missing, versions_note(given, tagged))
        raise missing
    return found


def _latest(plan: Plan, given: PathArg) -> Version | None:
    """The version of the newest commit that is HEAD or an ancestor of it (HEAD's first),
    the newest file of that commit: a copy's or rsync's new mtime picks nothing."""
    candidates = versions(given, config=plan.digest, clean=True)
    if not candidates or plan.state.root is None:
        return None
    history = history_at(plan.state.root, plan.state.head or plan.state.commit)
    ranked = []
    for version in candidates:
        commit = history.lookup(version.tag.commit)
        if commit["relation"] in ("HEAD", "ancestor"):
            order = (commit["relation"] == "HEAD", commit["timestamp"] or 0, version.mtime)
            ranked.append((order, version))
    return max(ranked, key=lambda pair: pair[0])[1] if ranked else None


def _spelled_as(given: PathArg, name: str) -> PathArg:
    """``given`` with its last component replaced by ``name``, in the caller's spelling."""
    text = os.fspath(given)
    if is_url(text):  # a query named one object version; another version is another object
        return split_query(text)[0].rstrip("/").rsplit("/", 1)[0] + "/" + name
    parent = os.path.dirname(text.rstrip("/" + os.sep))
    joined = os.path.join(parent, name) if parent else name
    return joined if isinstance(given, str) else type(given)(joined)
