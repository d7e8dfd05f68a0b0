"""Running git, and finding the work tree a directory belongs to.

Every command (status, rev-parse, ls-files, config, ...) runs through :func:`run`,
so every one gets the same clean environment and the same fixed options,
whatever the user's configuration says:

- the caller's ``GIT_*`` variables are dropped (a git hook sets ``GIT_DIR`` and
  ``GIT_INDEX_FILE`` for *its* repository, not ours), except the few that only
  say where git and its config files live;
- ``GIT_OPTIONAL_LOCKS=0``: no command takes ``index.lock``, so a user's
  concurrent ``git commit`` never fails because of us, and the user's index is
  never written (status may refresh a private copy of it instead: ``_gitinfo``);
- ``--no-replace-objects`` and no grafts file: HEAD means HEAD's own commit and
  tree, never a replacement's;
- ``core.fileMode=false``: a mode-only change in the work tree does not make
  it dirty. Many file systems (FAT, SMB, WSL's ``/mnt/c``) cannot store the
  executable bit, and git turns it off there; turning it off everywhere gives one
  verdict on every file system. A mode change that is staged still counts;
- ``core.autocrlf=false``: the bytes on disk are compared with the commit;
- ``core.ignoreCase=false``: an untracked ``model.py`` never passes for a
  tracked ``Model.py``;
- ``sparse.expectFilesOutsideOfPatterns=false``: in a sparse checkout, a file
  that is present on disk is compared whatever its skip-worktree flag says;
- no hooks, no fsmonitor, no external diff or textconv is ever run.

The executable is ``GIT_PYTHON_GIT_EXECUTABLE`` when set (the variable
GitPython users already set), else ``git`` on ``PATH``, found without
importing GitPython.

The work tree of a directory is found as git finds it: the nearest ``.git``
above it (no further up than ``GIT_CEILING_DIRECTORIES`` allows) spares a git
call where there is no repository at all; where there is one, git names the top
of the work tree, so a stray ``.git`` that git skips never decides it. The
answer is kept for the process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from ._errors import GitError

if TYPE_CHECKING:
    import subprocess

ENV_EXECUTABLE = "GIT_PYTHON_GIT_EXECUTABLE"
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
    "core.ignoreCase=false",
    "core.fsmonitor=false",
    "core.hooksPath=" + os.devnull,
    "core.excludesFile=" + os.devnull,
    "core.splitIndex=false",  # never write shared index files into the user's .git
    "sparse.expectFilesOutsideOfPatterns=false",
    "diff.autoRefreshIndex=true",
    "status.relativePaths=false",
    "submodule.recurse=false",
)
_OPTIONS = ("--no-replace-objects", *(arg for setting in _CONFIG for arg in ("-c", setting)))


# (name, PATH) -> the executable's full path: a relative name or PATH entry means the
# git found then, also after the script changes directory.
_EXECUTABLES: dict[tuple[str, str | None], str] = {}


def _executable(name: str) -> str | None:
    """The full path of the git executable (a bare "git" makes exec try each PATH entry)."""
    key = (name, os.environ.get("PATH"))
    found = _EXECUTABLES.get(key)
    if found is None:
        import shutil

        which = shutil.which(name, path=key[1])
        if which is None:
            return None  # looked for again at the next call: git may be installed meanwhile
        found = _EXECUTABLES[key] = os.path.abspath(which)
    return found


def _runnable(index: str | None) -> tuple[str, dict[str, str]]:
    """The git executable's full path, and the environment git runs in: the caller's,
    minus its ``GIT_*`` variables.

    :param index: a private index file for git to use (and refresh) instead of the
        user's; only then may git take a lock, and only on that file.
    :raises GitError: when there is no git executable, saying how to provide one.
    """
    name = os.environ.get(ENV_EXECUTABLE) or "git"
    executable = _executable(name)
    if executable is None:
        raise GitError(
            f"git was not found ({name!r} is not an executable on PATH); install git, "
            f"or set {ENV_EXECUTABLE} to the full path of the git executable"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP_ENV}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_GRAFT_FILE=os.devnull, LC_ALL="C", LANGUAGE="C")
    if index is None:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    else:
        env["GIT_INDEX_FILE"] = index
    return executable, env


def run(
    directory: str,
    *args: str,
    stderr: bool = False,
    stdin: bytes | None = None,
    index: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git in ``directory`` with our fixed options; never raises for git's exit code.

    :param stderr: capture git's messages too. Off by default: one pipe is read
        straight through, two need a selector loop.
    :param stdin: bytes for git's standard input.
    :param index: a private index file git may refresh (see :func:`_runnable`).
    :raises GitError: when git cannot be started at all.
    """
    import subprocess  # imported on use: keeps ``import taggedartifacts`` instant

    git, env = _runnable(index)
    try:
        return subprocess.run(
            [git, "-C", directory, *_OPTIONS, *args],
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        raise GitError(
            f"could not run git ({exc}); install git, or set {ENV_EXECUTABLE} to the full "
            "path of the git executable"
        ) from exc


def lines(directory: str, *args: str) -> Iterator[bytes]:
    """git's output line by line as it comes, for a reader that may stop early: git is
    stopped when the reader stops (a walk over a long history need not finish).

    :raises GitError: when git cannot be started.
    """
    import subprocess

    git, env = _runnable(None)
    try:
        proc = subprocess.Popen(
            [git, "-C", directory, *_OPTIONS, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        raise GitError(f"could not run git ({exc})") from exc
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            yield line.rstrip(b"\n")
    finally:
        proc.kill()
        proc.stdout.close()
        proc.wait()


def check(
    directory: str, *args: str, stdin: bytes | None = None, index: str | None = None
) -> bytes:
    """Run git and return its output; if it fails, run it once more for its message.

    :raises GitError: ``git <command> failed in <directory>: <git's message>``.
    """
    proc = run(directory, *args, stdin=stdin, index=index)
    if proc.returncode == 0:
        return proc.stdout
    proc = run(directory, *args, stdin=stdin, index=index, stderr=True)
    if proc.returncode == 0:  # it worked the second time (a lock went away)
        return proc.stdout
    raise GitError(f"git {args[0]} failed in {directory}: {message(proc)}")


def message(proc: subprocess.CompletedProcess[bytes]) -> str:
    """Git's complaint on one line, advice included (as in 'dubious ownership ... call:
    git config --global --add safe.directory ...'), its ``hint:`` lines left out."""
    lines = (line.strip() for line in (proc.stderr or b"").decode(errors="replace").splitlines())
    text = " ".join(line for line in lines if line and not line.startswith("hint:"))
    return text or f"exit status {proc.returncode}"


class Location(NamedTuple):
    """A work tree: its top directory, and the index file git uses for it."""

    root: str
    index_file: str


def find_work_tree(candidates: tuple[str | None, ...]) -> Location | None:
    """The work tree holding the first candidate directory that is in one.

    None among ``candidates`` stands for the current directory. A ``.git`` that
    git cannot read raises: never a silent fallback to the next candidate.
    """
    for directory in candidates:
        directory = os.getcwd() if directory is None else directory
        dotgit = nearest_dotgit(directory)
        if dotgit is not None:
            return locate(directory, dotgit)
    return None


def nearest_dotgit(directory: str) -> str | None:
    ceilings = _ceilings()
    current = directory
    while True:
        dotgit = os.path.join(current, ".git")
        if os.path.lexists(dotgit):
            return dotgit
        parent = os.path.dirname(current)
        if parent == current or parent in ceilings:
            return None
        current = parent


def _ceilings() -> set[str]:
    """``GIT_CEILING_DIRECTORIES``: directories git does not move up into while searching."""
    value = os.environ.get("GIT_CEILING_DIRECTORIES")
    if not value:
        return set()
    entries = [c for c in value.split(os.pathsep) if os.path.isabs(c)]
    return {os.path.normpath(c) for c in entries} | {os.path.realpath(c) for c in entries}


# (directory, the .git found above it) -> where git says its work tree is.
_LOCATIONS: dict[tuple[str, str], Location] = {}


def locate(directory: str, dotgit: str | None = None) -> Location:
    """The work tree of ``directory``, whose nearest ``.git`` is ``dotgit``.

    :raises GitError: when git cannot read that repository, saying what to do.
    """
    key = (directory, dotgit or os.path.join(directory, ".git"))
    found = _LOCATIONS.get(key)
    if found is None:
        args = ("rev-parse", "--show-toplevel", "--git-path", "index")
        proc = run(directory, *args)
        if proc.returncode != 0:
            text = message(run(directory, *args, stderr=True))
            if "not a git repository" in text:  # there is a .git, but git cannot use it
                text += (
                    "; repair it (a moved linked worktree: git worktree repair) or pass repo= "
                    "with a work tree git can read"
                )
            raise GitError(f"git cannot read the repository at {directory}: {text}")
        root, index = os.fsdecode(proc.stdout).splitlines()[:2]
        found = Location(root, os.path.join(directory, index))
        if len(_LOCATIONS) > 1024:  # bounded: a long session may visit many directories
            _LOCATIONS.clear()
        _LOCATIONS[key] = found
    return found
