"""The same names and config hashes on every Python from 3.10 to 3.14 on this machine.

.ci/run lists the interpreters it found in TAGGEDARTIFACTS_PYTHONS (what .ci/pythons.py
prints); without it, this file runs .ci/pythons.py itself. Each other Python computes
tests/golden.py with ``-S`` (no site-packages: no GitPython, no NumPy) and no ``git`` on
PATH, which also shows that these pure functions need neither.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from golden import GOLDEN_PATHS, PLAIN_GOLDEN, compute

ROOT = Path(__file__).resolve().parent.parent
THIS = f"{sys.version_info.major}.{sys.version_info.minor}"


@functools.cache
def interpreters() -> dict[str, str]:
    """``{"3.10": path, ...}``, as .ci/run found them, or as .ci/pythons.py finds them now."""
    listed = os.environ.get("TAGGEDARTIFACTS_PYTHONS")
    if listed is None:
        listed = subprocess.run(
            [sys.executable, str(ROOT / ".ci" / "pythons.py")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return dict(line.split(" ", 1) for line in listed.splitlines() if line.strip())


def test_this_process_gives_the_frozen_values() -> None:
    """What the other Pythons are compared with is itself right."""
    computed = compute()
    assert computed["config_hash"] == {label: digest for label, _, digest in PLAIN_GOLDEN}
    assert [name["path"] for name in computed["names"]] == [path for _, _, path in GOLDEN_PATHS]


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13", "3.14"])
def test_another_python_gives_the_same_names_and_hashes(version: str, tmp_path: Path) -> None:
    if version == THIS:
        pytest.skip(f"Python {version} runs this test: the other versions are compared with it")
    path = interpreters().get(version)
    if path is None:
        source = "TAGGEDARTIFACTS_PYTHONS" if "TAGGEDARTIFACTS_PYTHONS" in os.environ else "found"
        listed = ", ".join(interpreters()) or "none"
        pytest.skip(f"no Python {version} on this machine ({source}: {listed}; .ci/pythons.py)")
    no_git = tmp_path / "empty-bin"
    no_git.mkdir()
    done = subprocess.run(
        [path, "-S", str(ROOT / "tests" / "golden.py")],
        env={"PYTHONPATH": str(ROOT), "PATH": str(no_git), "PYTHONHASHSEED": "random"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    other = json.loads(done.stdout)
    assert other.pop("version") == version
    assert other == json.loads(json.dumps(compute()))
