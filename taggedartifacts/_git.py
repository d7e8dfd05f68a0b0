"""Running git: the one way this package runs a git command.

Every command (status, rev-parse, log, config, ...) runs through :func:`run`,
so every one gets the same clean environment and the same fixed options,
whatever the user's configuration says:

- the caller's ``GIT_*`` variables are dropped (a git hook sets ``GIT_DIR`` and
  ``GIT_INDEX_FILE`` for *its* repository, not ours), except the few that only
  say where git and its config files live;
- ``GIT_OPTIONAL_LOCKS=0``: no command takes ``index.lock``, so a user's
  concurrent ``git commit`` never fails because of us, and the user's index is
  never written (status may refresh a private copy of it instead: ``_index``);
- ``--no-replace-objects`` and no grafts file: HEAD means HEAD's own commit and
  tree, never a replacement's;
- ``core.fileMode=false``: a mode-only change in the work tree does not make
  it dirty. Many file systems (FAT, SMB, WSL's ``/mnt/c``) cannot store the
  executable bit, and git turns it off there; turning it off everywhere gives one
  verdict on every file system. A mode change that is staged still counts;
- ``core.autocrlf=false``: the bytes on disk are compared with the commit;
- no hooks, no fsmonitor, no external diff or textconv is ever run.

The executable is ``GIT_PYTHON_GIT_EXECUTABLE`` when set (the variable
GitPython users already set), else ``git`` on ``PATH``, found without
importing GitPython.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

from ._errors import GitError

if TYPE_CHECKING:
    import subprocess

__all__ = ["ENV_EXECUTABLE", "check", "message", "run"]

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
    "core.fsmonitor=false",
    "core.hooksPath=" + os.devnull,
    "core.excludesFile=" + os.devnull,
    "core.splitIndex=false",  # never write shared index files into the user's .git
    "diff.autoRefreshIndex=true",
    "status.relativePaths=false",
    "submodule.recurse=false",
)
_OPTIONS = ("--no-replace-objects", *(arg for setting in _CONFIG for arg in ("-c", setting)))


class _Setup(NamedTuple):
    """What running git takes from ``os.environ``."""

    environ: Any  # a copy of os.environ's own mapping, to tell when it changed
    env: dict[str, str]  # git's environment, without a private index
    executable: str | None  # its full path: a bare "git" makes exec try each PATH entry


_SETUP: list[_Setup] = []


def _setup() -> _Setup:
    """The setup for the environment as it is; made again only when it changed (a call
    runs git at least once, and reading the environment each time showed)."""
    snapshot = getattr(os.environ, "_data", None)  # CPython's own mapping: compared in C
    if _SETUP and snapshot is not None and _SETUP[0].environ == snapshot:
        setup = _SETUP[0]
        if setup.executable is not None:
            return setup
    import shutil

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP_ENV}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_GRAFT_FILE=os.devnull, LC_ALL="C", LANGUAGE="C")
    found = shutil.which(os.environ.get(ENV_EXECUTABLE) or "git")  # looked for again if None
    if found is not None:  # a relative name or PATH entry: the git found now, wherever we go
        found = os.path.abspath(found)
    _SETUP[:] = [_Setup(dict(snapshot) if snapshot is not None else None, env, found)]
    return _SETUP[0]


def _runnable(index: str | None) -> tuple[str, dict[str, str]]:
    """The git executable's full path, and the environment git runs in: the caller's,
    minus its ``GIT_*`` variables.

    :param index: a private index file for git to use (and refresh) instead of the
        user's; only then may git take a lock, and only on that file.
    :raises GitError: when there is no git executable, saying how to provide one.
    """
    setup = _setup()
    if setup.executable is None:
        name = os.environ.get(ENV_EXECUTABLE) or "git"
        raise GitError(
            f"git was not found ({name!r} is not an executable on PATH); install git, "
            f"or set {ENV_EXECUTABLE} to the full path of the git executable"
        )
    env = dict(setup.env)
    if index is None:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    else:
        env["GIT_INDEX_FILE"] = index
    return setup.executable, env


def run(
    directory: str,
    *args: str,
    stderr: bool = False,
    stdin: bytes | None = None,
    index: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git in ``directory`` with our fixed options; never raises for git's exit code.

    :param stderr: capture git's messages too. Off by default: one pipe is read
        straight through, two need a selector loop, and a call is mostly this.
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
