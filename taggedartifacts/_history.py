"""What git knows about the commits named in artifacts (through GitPython)."""

from __future__ import annotations

import os
from typing import Any

from ._gitinfo import work_tree_root

__all__ = ["History"]


class History:
    """What git knows about short commits: full date, subject, relation to HEAD (GitPython)."""

    def __init__(self, directory: str) -> None:
        self.repo: Any = None
        self.known: dict[str, dict[str, Any]] = {}  # many versions share a commit
        root = work_tree_root(directory) or work_tree_root(os.getcwd())
        if root is not None:
            import git

            try:
                self.repo = git.Repo(root)
                self.head = self.repo.head.commit.hexsha
            except (git.GitError, ValueError):
                self.repo = None

    def lookup(self, short: str) -> dict[str, Any]:
        if short not in self.known:
            self.known[short] = self._lookup(short)
        return self.known[short]

    def _lookup(self, short: str) -> dict[str, Any]:
        unknown = {"relation": "unknown", "date": None, "subject": None}
        if self.repo is None:
            return unknown
        import git

        try:
            commit = self.repo.commit(short)
        except (git.BadName, git.BadObject, git.GitError, ValueError):  # unknown or ambiguous
            return unknown
        if commit.hexsha == self.head:
            relation = "HEAD"
        elif self.repo.is_ancestor(commit.hexsha, self.head):
            relation = "ancestor"
        else:
            relation = "other"
        return {
            "relation": relation,
            "date": commit.committed_datetime.isoformat(),
            "subject": commit.summary,
        }
