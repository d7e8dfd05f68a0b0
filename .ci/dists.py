"""Check the sdist and the wheel that ``python -m build`` made against this checkout.

Usage: ``python .ci/dists.py DIR`` (DIR holds the two files; .ci/run calls it).

- The wheel holds the package only: the tracked files of taggedartifacts/ (py.typed
  among them) and its .dist-info, nothing else.
- The sdist holds every tracked file but .gitignore and .circleci/ (tests with their
  helper modules, docs/, examples/, benchmarks/, .ci/, CHANGELOG.rst, tox.ini, ...), so
  that the suite and the demo run from it unpacked; besides them only what setuptools
  writes (PKG-INFO, setup.cfg, taggedartifacts.egg-info/).
- Both are of the version taggedartifacts/__init__.py says, which is above 0.1.1: the
  package index serves the original project as taggedartifacts 0.1.1, and pip picks
  the highest version. Their metadata says ``License-Expression: MIT``.

Prints what it checked; exits 1 with every problem found.
"""

from __future__ import annotations

import ast
import email.parser
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
NAME = "taggedartifacts"
ORIGINAL_ON_THE_INDEX = Version("0.1.1")
NOT_IN_THE_SDIST = (".gitignore", ".circleci/")
WRITTEN_BY_SETUPTOOLS = ("PKG-INFO", "setup.cfg", f"{NAME}.egg-info/")


def tracked() -> set[str]:
    """The files git tracks in this checkout, relative to its root."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout
    return {name for name in out.decode().split("\0") if name}


def version() -> str:
    """``__version__`` of taggedartifacts/__init__.py, read without importing it."""
    tree = ast.parse((ROOT / NAME / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            return value
    raise SystemExit(f"no __version__ in {NAME}/__init__.py")


def check_metadata(what: str, text: str, expected: str) -> list[str]:
    metadata = email.parser.Parser().parsestr(text)
    problems = []
    if metadata["Version"] != expected:
        problems.append(f"{what}: metadata Version {metadata['Version']}, not {expected}")
    if metadata["License-Expression"] != "MIT":
        problems.append(f"{what}: License-Expression {metadata['License-Expression']!r}")
    return problems


def check_wheel(path: Path, files: set[str], expected: str) -> list[str]:
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        info = f"{NAME}-{expected}.dist-info/"
        problems = check_metadata(path.name, wheel.read(info + "METADATA").decode(), expected)
    package = {name for name in files if name.startswith(f"{NAME}/")}
    problems += [f"{path.name} lacks {name}" for name in sorted(package - names)]
    problems += [
        f"{path.name} holds {name}, which is not the package"
        for name in sorted(names - package)
        if not name.startswith(info)
    ]
    if f"{NAME}/py.typed" not in names:
        problems.append(f"{path.name} lacks {NAME}/py.typed")
    print(f"dists: {path.name}: {len(names)} files, the package ({len(package)}) and {info}")
    return problems


def check_sdist(path: Path, files: set[str], expected: str) -> list[str]:
    top = f"{NAME}-{expected}/"
    with tarfile.open(path) as sdist:
        members = [m for m in sdist.getmembers() if m.isfile()]
        names = {m.name.removeprefix(top) for m in members}
        stray = [m.name for m in members if not m.name.startswith(top)]
        pkg_info = sdist.extractfile(top + "PKG-INFO")
        assert pkg_info is not None
        problems = check_metadata(path.name, pkg_info.read().decode(), expected)
    problems += [f"{path.name}: {name} is outside {top}" for name in stray]
    wanted = {name for name in files if not name.startswith(NOT_IN_THE_SDIST)}
    problems += [f"{path.name} lacks {name}" for name in sorted(wanted - names)]
    problems += [
        f"{path.name} holds {name}, which git does not track"
        for name in sorted(names - wanted)
        if not name.startswith(WRITTEN_BY_SETUPTOOLS)
    ]
    print(f"dists: {path.name}: {len(names)} files, every tracked one but {NOT_IN_THE_SDIST}")
    return problems


def main(directory: Path) -> int:
    expected = version()
    problems = []
    if Version(expected) <= ORIGINAL_ON_THE_INDEX:
        problems.append(f"version {expected} is not above {ORIGINAL_ON_THE_INDEX} (the index's)")
    wheel = directory / f"{NAME}-{expected}-py3-none-any.whl"
    sdist = directory / f"{NAME}-{expected}.tar.gz"
    found = sorted(p.name for p in directory.iterdir())
    if found != sorted([wheel.name, sdist.name]):
        problems.append(f"{directory} holds {found}, not {[sdist.name, wheel.name]}")
    files = tracked()
    if wheel.is_file():
        problems += check_wheel(wheel, files, expected)
    if sdist.is_file():
        problems += check_sdist(sdist, files, expected)
    for problem in problems:
        print(f"dists: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
