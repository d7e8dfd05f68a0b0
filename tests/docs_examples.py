"""Run the examples of a reStructuredText page (README.rst, docs/*.rst) as a reader would,
in order, and check that each shows what the page says it shows.

Three kinds of block run; every other block (``text``, ``json``, ``::``) is only read:

- ``.. code-block:: python`` whose first line is ``# NAME.py``: a file the reader saves;
  it is written into the current directory under that name.
- any other ``.. code-block:: python``: run in this process, in one namespace per page;
  a line ending in ``# -> TEXT`` says what it prints (the printed lines, in order).
- ``.. code-block:: console``: each ``$ COMMAND`` runs in bash in the current directory
  (``cd`` carries over to later blocks); the lines after it, up to the next ``$``, are
  what it prints (stdout and stderr). In them, ``...`` stands for any text within a
  line, and a line of ``...`` alone for any number of lines.

A command's output and a Python block's printed lines are compared after every ISO 8601
time in them (``2024-01-02T03:04:05+00:00``) is replaced by one placeholder: file and
commit times are the reader's, not the page's. Everything else is compared as it is:
the tests make commits with a fixed author and date (tests/conftest.py), so commit
hashes, config hashes and names are the same at every run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: (?P<language>\w+)\s*$")
_FILE = re.compile(r"# (?P<name>[\w./-]+\.py)\Z")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


@dataclass(frozen=True)
class Block:
    """One code block of a page: its language, its text (dedented) and its first line."""

    language: str
    text: str
    line: int

    @property
    def file(self) -> str | None:
        """The name of the file this block is, when it is one (``# train.py``)."""
        first = self.text.split("\n", 1)[0]
        match = _FILE.match(first) if self.language == "python" else None
        return match["name"] if match else None


def blocks(page: Path) -> list[Block]:
    """The code blocks of a page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        i += 1
        if match is None:
            continue
        indent = len(match["indent"])
        while i < len(lines) and lines[i].strip().startswith(":"):  # the directive's options
            i += 1
        start = i
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
            i += 1
        body = lines[start:i]
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        depth = min(_indent(line) for line in body if line.strip())
        text = "\n".join(line[depth:] for line in body)
        found.append(Block(match["language"], text, start + 1))
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """Each ``$ COMMAND`` of a console block with the lines it is said to print."""
    found: list[tuple[str, list[str]]] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("$ "):
            assert not found, f"line {block.line}: output before any command: {line!r}"
            continue
        command = line[2:]
        while command.endswith("\\") and i < len(lines):  # continued on a "> " line
            command = command[:-1] + "\n" + lines[i].removeprefix("> ")
            i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        found.append((command, output))
    return found


def matches(expected: list[str], actual: str) -> bool:
    """Whether ``actual`` is what ``expected`` says, ``...`` and times as the module says."""
    got = [_TIME.sub("<time>", line.rstrip()) for line in actual.splitlines()]
    while got and not got[-1]:
        got.pop()
    pattern = []
    for line in expected:
        line = _TIME.sub("<time>", line.rstrip())
        if line == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(".*".join(map(re.escape, line.split("..."))) + r"\n")
    return re.fullmatch("".join(pattern), "".join(g + "\n" for g in got)) is not None


class Reader:
    """Follows one page: the current directory, the Python namespace, the environment."""

    def __init__(self, page: Path, where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.page, self.where, self.monkeypatch = page, where, monkeypatch
        self.namespace: dict[str, object] = {}
        self.scripts = where.parent  # outside the work tree: see run_python
        monkeypatch.chdir(where)
        # As in the reader's shell: the python and taggedartifacts of this environment
        # first, and a terminal width that does not depend on this one.
        bin_dir = os.path.dirname(sys.executable)
        self.env = {
            **os.environ,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "COLUMNS": "80",
        }
        self.env.pop("PYTHONPATH", None)
        self.skipped: list[str] = []

    def follow(self, steps: list[Block]) -> None:
        """Take every step of the page, in order."""
        for block in steps:
            if block.file is not None:
                self.save(block)
            elif block.language == "python":
                self.run_python(block)
            elif block.language == "console":
                self.run_console(block)

    def save(self, block: Block) -> None:
        assert block.file is not None
        target = self.where / block.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text + "\n", encoding="utf-8")

    def run_python(self, block: Block) -> None:
        if "import fsspec" in block.text and _missing("fsspec"):
            self.skipped.append("fsspec (the remote extra)")  # the others still run
            return
        expected = [
            line.split("# -> ", 1)[1] for line in block.text.splitlines() if "# -> " in line
        ]
        out = io.StringIO()
        name = f"{self.page.relative_to(ROOT)}, line {block.line}"
        # From a file, as a reader's script runs: code no file holds is never clean. The
        # file is outside the work tree (as an installed package's), which the page's own
        # files are the code of.
        script = Path(tempfile.mkdtemp(dir=self.scripts)) / "example.py"
        script.write_text(block.text, encoding="utf-8")
        with contextlib.redirect_stdout(out):
            exec(compile(block.text, script, "exec"), self.namespace)
        assert matches(expected, out.getvalue()), (
            f"{name} printed:\n{out.getvalue()}\nwhere the page says:\n" + "\n".join(expected)
        )

    def run_console(self, block: Block) -> None:
        for command, expected in commands(block):
            with tempfile.NamedTemporaryFile("r", suffix=".cwd") as cwd:
                script = f'{command}\n__status=$?\npwd > "{cwd.name}"\nexit $__status\n'
                done = subprocess.run(
                    ["bash", "-c", script],
                    cwd=self.where,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=120,
                )
                moved = Path(cwd.read().strip() or self.where)
            assert matches(expected, done.stdout), (
                f"{self.page.name}, line {block.line}: $ {command}\nprinted:\n{done.stdout}\n"
                "where the page says:\n" + "\n".join(expected)
            )
            if moved != self.where:
                self.where = moved
                self.monkeypatch.chdir(moved)

    def finish(self) -> None:
        """Skip (saying what to install) if a block needed what is not installed."""
        if self.skipped:
            from conftest import missing

            pytest.importorskip(self.skipped[0].split()[0], reason=missing(self.skipped[0]))


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None
