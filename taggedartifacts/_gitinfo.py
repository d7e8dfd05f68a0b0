"""Git state: the commit, whether the work tree is dirty, and a fingerprint of the changes.

One call costs one ``git status`` on a clean tree. On a dirty tree it costs one
more ``git rev-parse`` plus reading the changed files, and nothing else.

Everything git prints here is fixed by our own options, whatever the user's
configuration says:

- the caller's ``GIT_*`` variables are dropped (a git hook sets ``GIT_DIR`` and
  ``GIT_INDEX_FILE`` for *its* repository, not ours), except the few that only
  say where git and its config files live;
- ``GIT_OPTIONAL_LOCKS=0``: status never takes ``index.lock``, so a user's
  concurrent ``git commit`` never fails because of us, and the index is never
  written;
- ``core.fileMode=false``: a mode-only change in the work tree does not make
  it dirty. Many file systems (FAT, SMB, WSL's ``/mnt/c``) cannot store the
  executable bit, and git turns it off there; turning it off everywhere gives one
  verdict on every file system. A mode change that is staged still counts;
- ``core.autocrlf=false``: the bytes on disk are compared with the commit, so
  the verdict does not depend on the user's line-ending setting;
- ``--ignore-submodules=none``: a changed submodule is dirty even where the
  user's config says to ignore submodules;
- no hooks, no fsmonitor, no external diff or textconv is ever run.

The dirty fingerprint does not hash ``git diff`` text (whose bytes depend on
many diff settings): it is the sha256 over every changed path, sorted, of the
path, its mode and blob in HEAD, and the sha256 of its bytes in the work tree
(for a submodule: its commit and, recursively, its own fingerprint). The same
work tree always gives the same fingerprint; any change to a byte, a path or
a staged mode gives another.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple

from ._errors import GitError, NotAGitRepositoryError

if TYPE_CHECKING:
    import subprocess

__all__ = ["ENV_COMMIT", "GitState", "git_state"]

ENV_COMMIT = "TAGGEDARTIFACTS_COMMIT"
_KEEP_ENV = frozenset(
    {
        "GIT_EXEC_PATH",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    }
)
_CONFIG = (
    "core.fileMode=false",
    "core.autocrlf=false",
    "core.fsmonitor=false",
    "core.hooksPath=" + os.devnull,
    "core.excludesFile=" + os.devnull,
    "diff.autoRefreshIndex=true",
    "status.relativePaths=false",
    "submodule.recurse=false",
)
_CONFIG_ARGS = tuple(arg for setting in _CONFIG for arg in ("-c", setting))
_SHA = re.compile(r"[0-9a-fA-F]{7,40}\Z")
_GIT: list[str] = []  # the git executable, found once through GitPython


class GitState(NamedTuple):
    """What a name is made of: the commit and, when dirty, a fingerprint of the changes.

    :ivar commit: the HEAD commit (40 hex; as given when it comes from
        ``TAGGEDARTIFACTS_COMMIT``).
    :ivar dirty: whether tracked files (or, when asked, untracked ones) differ from HEAD.
    :ivar diff: hex fingerprint of the changes, or None when clean.
    :ivar root: the work tree's top directory, or None when the commit came from the environment.
    :ivar changed: the changed paths relative to ``root``.
    """

    commit: str
    dirty: bool
    diff: str | None
    root: str | None = None
    changed: tuple[str, ...] = ()


def git_state(repo: str | os.PathLike[str] | None = None, *, untracked: bool = False) -> GitState:
    """Read the current git state of a work tree.

    :param repo: a directory inside the work tree; None means the current directory.
    :param untracked: count untracked (not ignored) files as changes.
    :raises NotAGitRepositoryError: when there is no work tree there and
        ``TAGGEDARTIFACTS_COMMIT`` is not set.
    :raises GitError: when git is missing, the repository has no commit, or git fails.
    """
    where = os.path.abspath(os.fspath(repo)) if repo is not None else os.getcwd()
    return read_state((where,), untracked=untracked)


class Pin:
    """The state of one work tree, read once for a ``pinned()`` block."""

    def __init__(self, root: str, state: GitState) -> None:
        self.root = root
        self.states = {False: state._replace(root=state.root or root)}
        self.roots: dict[str, str | None] = {}  # directory -> work tree root, memo for the block

    def state(self, untracked: bool) -> GitState:
        if untracked not in self.states:
            state = _status(self.root, untracked=untracked)
            self.states[untracked] = state._replace(root=state.root or self.root)
        return self.states[untracked]


# The pins of the enclosing pinned() blocks, innermost last. A ContextVar, so threads
# and asyncio tasks each see their own blocks.
PINS: ContextVar[tuple[Pin, ...]] = ContextVar("taggedartifacts_pins", default=())


def read_state(candidates: tuple[str | None, ...], *, untracked: bool) -> GitState:
    """Read the state of the first candidate directory that is inside a work tree.

    None stands for the current directory, looked up only when it is reached.
    """
    pins = PINS.get()
    for directory in candidates:
        if directory is None:
            directory = os.getcwd()
        if pins:
            memo = pins[-1].roots
            if directory not in memo:
                memo[directory] = work_tree_root(directory)
            root = memo[directory]
            for pin in reversed(pins):
                if pin.root == root:
                    return pin.state(untracked)
        else:
            root = work_tree_root(directory)
        if root is not None:  # a .git git cannot read raises: never a silent fallback
            state = _status(directory, untracked=untracked)
            return state if state.root else state._replace(root=root)
    return _from_environment(tuple(d if d is not None else os.getcwd() for d in candidates))


def work_tree_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` holding a ``.git``; spares a git call
    where there is none, and tells which pinned block a call belongs to."""
    current = directory
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _from_environment(candidates: tuple[str, ...]) -> GitState:
    value = os.environ.get(ENV_COMMIT, "").strip()
    looked = ", ".join(candidates)
    if not value:
        raise NotAGitRepositoryError(
            f"no git work tree found at or above {looked}; run inside a git checkout, pass "
            f"repo=, or set {ENV_COMMIT}=<commit sha> where there is no .git "
            "(Docker images, CI artifacts)",
            candidates,
        )
    if not _SHA.match(value):
        raise NotAGitRepositoryError(
            f"{ENV_COMMIT}={value!r} is not a commit sha; set it to 7 to 40 hex characters",
            candidates,
        )
    import logging  # imported on use: keeps ``import taggedartifacts`` instant

    logging.getLogger("taggedartifacts").debug(
        "no work tree at %s; using %s=%s", looked, ENV_COMMIT, value
    )
    return GitState(commit=value.lower(), dirty=False, diff=None)


def _git_executable() -> str:
    if not _GIT:
        try:
            import git  # GitPython: honours GIT_PYTHON_GIT_EXECUTABLE and checks git runs
        except ImportError as exc:
            if isinstance(exc, ModuleNotFoundError) and exc.name == "git":
                raise GitError(
                    "GitPython is not installed in this environment; pip install GitPython"
                ) from exc
            raise GitError(
                f"git is not usable here ({exc}); install git, or set {ENV_COMMIT} "
                "where there is no git"
            ) from exc
        import shutil

        # A full path: spawning a bare "git" tries every PATH entry before it, at every call.
        name = str(git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git")
        _GIT.append(shutil.which(name) or name)
    return _GIT[0]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP_ENV}
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANGUAGE="C")
    return env


def run_git(directory: str, *args: str, stderr: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run git in ``directory`` with our fixed configuration; never raises for git's exit code.

    :param stderr: capture git's messages too. Off by default: one pipe is read
        straight through, two need a selector loop, and a call is mostly this.
    """
    import subprocess  # imported on use: keeps ``import taggedartifacts`` instant

    command = [_git_executable(), "-C", directory, *_CONFIG_ARGS, *args]
    try:
        return subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=_environment(),
        )
    except OSError as exc:
        raise GitError(f"could not run git ({exc}); install git or set {ENV_COMMIT}") from exc


def git_message(proc: subprocess.CompletedProcess[bytes]) -> str:
    """Git's complaint on one line, advice included (as in 'dubious ownership ... call:
    git config --global --add safe.directory ...'), its ``hint:`` lines left out."""
    lines = (line.strip() for line in (proc.stderr or b"").decode(errors="replace").splitlines())
    text = " ".join(line for line in lines if line and not line.startswith("hint:"))
    return text or f"exit status {proc.returncode}"


def _run_explained(directory: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run git; if it fails, once more with stderr captured, for its message."""
    proc = run_git(directory, *args)
    return proc if proc.returncode == 0 else run_git(directory, *args, stderr=True)


def _status(directory: str, *, untracked: bool) -> GitState:
    proc = _run_explained(
        directory,
        "status",
        "--porcelain=v2",
        "--branch",
        "-z",
        "--no-renames",
        "--no-ahead-behind",
        "--ignore-submodules=none",
        "--untracked-files=" + ("all" if untracked else "no"),
    )
    if proc.returncode != 0:
        message = git_message(proc)
        if "not a git repository" in message:  # there is a .git, but git cannot use it
            message += (
                "; repair it (a moved linked worktree: git worktree repair) or pass repo= "
                "with a work tree git can read"
            )
        raise GitError(f"git status failed in {directory}: {message}")
    commit, entries = _parse_status(proc.stdout, untracked=untracked)
    if commit is None:
        raise GitError(
            f"the repository at {directory} has no commit yet; make a first commit "
            "so that names have a commit to refer to"
        )
    if not entries:
        return GitState(commit=commit, dirty=False, diff=None)
    root = _toplevel(directory)
    return GitState(
        commit=commit,
        dirty=True,
        diff=_fingerprint(root, entries, untracked=untracked),
        root=root,
        changed=tuple(sorted(os.fsdecode(e[0]) for e in entries)),
    )


def _toplevel(directory: str) -> str:
    proc = _run_explained(directory, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise GitError(f"git rev-parse failed in {directory}: {git_message(proc)}")
    return os.fsdecode(proc.stdout.rstrip(b"\n"))


# An entry: (path, HEAD mode and blob as bytes, submodule flags or b"").
_Entry = tuple[bytes, bytes, bytes]


def _parse_status(out: bytes, *, untracked: bool) -> tuple[str | None, list[_Entry]]:
    commit: str | None = None
    entries: list[_Entry] = []
    for record in out.split(b"\0"):
        kind = record[:2]
        if kind == b"# ":
            if record.startswith(b"# branch.oid "):
                oid = record[len(b"# branch.oid ") :].decode()
                commit = None if oid == "(initial)" else oid
        elif kind == b"1 ":
            # 1 XY sub mH mI mW hH hI path
            fields = record.split(b" ", 8)
            xy, sub = fields[1], fields[2]
            if sub.startswith(b"S") and xy == b".M" and sub[1:3] == b".." and not untracked:
                continue  # only untracked files inside a submodule
            entries.append((fields[8], fields[3] + b" " + fields[6], sub))
        elif kind == b"u ":
            # u XY sub m1 m2 m3 mW h1 h2 h3 path
            fields = record.split(b" ", 10)
            entries.append((fields[10], b"unmerged " + b" ".join(fields[7:10]), fields[2]))
        elif kind == b"? " and untracked:
            entries.append((record[2:], b"untracked", b""))
    return commit, entries


def _fingerprint(root: str, entries: list[_Entry], *, untracked: bool) -> str:
    import hashlib  # only dirty trees need it

    digest = hashlib.sha256(b"taggedartifacts-diff-v1\n")
    for path, head, sub in sorted(entries):
        full = os.path.join(os.fsencode(root), path)
        if sub.startswith(b"S"):
            state = _submodule_state(os.fsdecode(full), untracked=untracked)
            content = f"submodule {state.commit} {state.diff}".encode()
        else:
            content = _content_digest(full)
        digest.update(path + b"\0" + head + b"\0" + content + b"\n")
    return digest.hexdigest()


def _submodule_state(path: str, *, untracked: bool) -> GitState:
    # Without its own .git, git would answer for the superproject instead.
    if not os.path.lexists(os.path.join(path, ".git")):
        return GitState(commit="missing", dirty=True, diff=None)
    return _status(path, untracked=untracked)


def _content_digest(path: bytes) -> bytes:
    """sha256 of a work-tree file's bytes (a link's target), or ``missing``."""
    import hashlib

    try:
        if os.path.islink(path):
            return b"link " + hashlib.sha256(os.readlink(path)).hexdigest().encode()
        with open(path, "rb") as fh:
            return b"file " + _file_digest(fh).encode()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return b"missing"


def _file_digest(fh: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()
