"""Find the Python interpreters of 3.10 to 3.14 on this machine, one per version.

Prints one line per interpreter, ``<major.minor> <path>``, oldest first; says on
stderr what it rejected and why. .ci/run uses it to test on each, and
tests/test_interpreters.py falls back to it when .ci/run did not list them.

Where it looks, in this order (the first working interpreter of a version wins):
``python3`` itself, ``python3.10`` ... ``python3.14`` on PATH, then pyenv's
installed CPython releases (``$PYENV_ROOT`` or ``~/.pyenv``, ``versions/3.X.Y``).
A candidate counts only if it runs, reports the version its name claims and can
make a virtual environment: a pyenv shim for a version that is installed but not
selected is on PATH yet fails to run, and a Debian Python may lack ensurepip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

MINORS = range(10, 15)
# Release and pre-release CPython builds; not free-threaded (3.13t) or other pyenv entries.
PYENV_VERSION = re.compile(r"3\.(\d+)\.\d+(?:(?:a|b|rc)\d+)?\Z")
PROBE = "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2], sys.executable)"


def candidates() -> Iterator[tuple[str | None, str]]:
    """``(the version a name claims, or None; path)`` to try, in order of preference."""
    for name in ["python3", *(f"python3.{minor}" for minor in MINORS)]:
        found = shutil.which(name)
        if found:
            yield (name[len("python") :] if name != "python3" else None), found
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    releases = []
    for path in root.glob("3.*") if root.is_dir() else []:
        match = PYENV_VERSION.match(path.name)
        if match and int(match.group(1)) in MINORS:
            numbers = [int(n) for n in re.findall(r"\d+", path.name)]
            releases.append((numbers, match.group(1), path))
    for _, minor, path in sorted(releases, reverse=True):  # the newest release of each first
        yield f"3.{minor}", str(path / "bin" / f"python3.{minor}")


def probe(path: str) -> tuple[str, str] | None:
    """``(major.minor, sys.executable)`` of an interpreter, or None (the reason on stderr)."""
    try:
        done = subprocess.run(
            [path, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"pythons: {path}: does not run ({exc})", file=sys.stderr)
        return None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[0]
        print(f"pythons: {path}: rejected ({reason})", file=sys.stderr)
        return None
    version, executable = done.stdout.strip().split(" ", 1)
    return version, executable


def find() -> dict[str, str]:
    """``{"3.10": path, ...}``: one working interpreter per version of 3.10 to 3.14."""
    wanted = {f"3.{minor}" for minor in MINORS}
    found: dict[str, str] = {}
    for claimed, path in candidates():
        if claimed in found or not os.access(path, os.X_OK):
            continue
        probed = probe(path)
        if probed is not None and probed[0] in wanted and probed[0] not in found:
            found[probed[0]] = probed[1]
    return dict(sorted(found.items(), key=lambda item: int(item[0].split(".")[1])))


if __name__ == "__main__":
    for version, path in find().items():
        print(version, path)
