"""How the command line prints: the ``ls`` table, config values, byte counts.

Pure rendering, like ``_display`` for Jupyter: plain rows in, lines of text out.
"""

from __future__ import annotations

import json
from typing import Any

from ._configs import MISSING

__all__ = ["byte_count", "config_cell", "ls_table", "table"]

_BEFORE = ("path", "commit", "relation", "commit_date", "dirty", "config")
_AFTER = ("size", "modified")


def ls_table(rows: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """The lines of the ``ls`` table: each row of ``VersionList.rows()``, with a column per
    config key in ``keys`` (values from the row's ``config_values``) after CONFIG."""
    header = [c.upper().replace("_", " ") for c in _BEFORE] + keys
    cells = [header + [c.upper() for c in _AFTER] + ["SUBJECT"]]
    for row in rows:
        values = row.get("config_values", {})
        cells.append(
            [_text(row[c]) for c in _BEFORE]
            + [config_cell(values.get(k, MISSING)) for k in keys]
            + [_text(row[c]) for c in _AFTER]
            + [row["subject"] or ""]
        )
    return table(cells)


def table(cells: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell; the last one (free text) is not padded."""
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]) - 1)]
    lines = []
    for line in cells:
        padded = (cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        lines.append(("  ".join(padded) + "  " + line[-1]).rstrip())
    return lines


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def config_cell(value: Any) -> str:
    """A config value as ``ls --where`` takes it: JSON, but a string bare unless it would
    then read as another JSON value (the string ``"0.1"`` stays quoted)."""
    if value is MISSING:
        return ""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def byte_count(count: int) -> str:
    """A number of bytes, exact, and in the largest decimal unit it reaches."""
    exact = f"{count} byte{'s' * (count != 1)}"
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{exact} ({count / scale:.1f} {unit})"
    return exact
