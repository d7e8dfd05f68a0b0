"""The package's shape: imports flow one way, and every function can be read whole."""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from conftest import Repo

from taggedartifacts import Artifact

PACKAGE = Path(__file__).resolve().parent.parent / "taggedartifacts"


def internal_imports(path: Path) -> set[str]:
    """Every package module ``path`` imports, at any depth (functions and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        if node.level == 1:
            found.update([module.split(".")[0]] if module else [a.name for a in node.names])
        elif module.startswith("taggedartifacts."):
            found.add(module.split(".")[1])
    return found - {"__init__"}


def test_no_import_cycles() -> None:
    graph = {p.stem: internal_imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())
    assert graph["_tagging"] <= {"_errors"}  # names in, names out: no I/O below it
    # The decorator is the top of the call path: nothing below it calls back up (the
    # original project's import path only re-exports it).
    assert [m for m, imported in graph.items() if "_artifact" in imported] == ["taggedartifacts"]


def test_every_function_fits_on_a_screen() -> None:
    long = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert long == []


def test_at_most_thirty_modules() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 30


def code_lines(path: Path) -> int:
    """Lines holding code: not blank, not comments, not docstrings."""
    source = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and ast.get_docstring(node, clean=False) is not None:
                docstrings.update(range(first.lineno, (first.end_lineno or 0) + 1))
    lines: set[int] = set()
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def test_the_library_stays_under_five_thousand_lines_of_code() -> None:
    assert sum(code_lines(path) for path in PACKAGE.glob("*.py")) < 5000


def test_a_cached_call_with_provenance_passes_through_at_most_sixteen_modules(
    repo: Repo,
) -> None:
    @Artifact("outpath", {"lr": 0.1}, cache=True, provenance=True, repo=repo.path)
    def save(outpath: Path) -> Path:
        outpath.write_text("x")
        return outpath

    def modules(call: Callable[[], object]) -> set[str]:
        entered: set[str] = set()

        def profile(frame: FrameType, event: str, arg: object) -> None:
            name = frame.f_globals.get("__name__", "")
            if event == "call" and name.startswith("taggedartifacts"):
                entered.add(name)

        sys.setprofile(profile)
        try:
            call()
        finally:
            sys.setprofile(None)
        return entered

    made = modules(lambda: save(repo.path / "out.txt"))  # the first call: it builds
    hit = modules(lambda: save(repo.path / "out.txt"))
    assert "taggedartifacts._records" in made  # the tracer sees the call's modules
    assert (len(made) <= 16, len(hit) <= 16) == (True, True), (sorted(made), sorted(hit))
