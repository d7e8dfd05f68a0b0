"""What git knows about the commits that names carry: date, subject, relation to HEAD.

GitPython reads the commit objects, in Python, from the object database that
our own git runner located (so neither depends on the caller's ``GIT_*``
variables); git itself answers the graph question (is it an ancestor of HEAD).
"""

from __future__ import annotations

import os
from typing import Any

from . import _git as git
from ._errors import GitError
from ._worktree import find_work_tree

__all__ = ["History", "history_at"]

_UNKNOWN = {"relation": "unknown", "date": None, "subject": None, "sha": None, "timestamp": None}
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
    """Commit lookups by short sha in the work tree holding ``directory`` (else the
    current directory's); every commit is looked up once.

    :param head: HEAD's sha, when the caller knows it (it saves a git call).
    """

    def __init__(self, directory: str, head: str | None = None) -> None:
        self.known: dict[str, dict[str, Any]] = {}  # many versions share a commit
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

    def lookup(self, short: str) -> dict[str, Any]:
        """``relation`` (HEAD, ancestor, other or unknown), ``date``, ``subject`` and ``sha``."""
        if short not in self.known:
            self.known[short] = self._lookup(short)
        return self.known[short]

    def _lookup(self, short: str) -> dict[str, Any]:
        if self.repo is None:
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
        sha = commit.hexsha
        if sha == self.head:
            relation = "HEAD"
        elif git.run(self.root, "merge-base", "--is-ancestor", sha, self.head).returncode == 0:
            relation = "ancestor"
        else:
            relation = "other"
        return {
            "relation": relation,
            "date": date,
            "subject": str(subject),
            "sha": sha,
            "timestamp": timestamp,
        }
