"""The package's shape: imports flow one way, and every function can be read whole."""

from __future__ import annotations

import ast
from pathlib import Path

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
