"""How versions and descriptions look in Jupyter: tables and thumbnails, as HTML.

Pure rendering: it takes plain rows and paths and knows nothing of how they
were found, so the reading side imports it and never the other way round.
"""

from __future__ import annotations

import os
from typing import Any

from ._storage import place_of

# base64, datetime, html and json load inside the functions that use them: this module is
# imported with the package, and ``import taggedartifacts`` must stay instant.

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
COLUMNS = (
    "name",
    "commit",
    "relation",
    "commit_date",
    "subject",
    "dirty",
    "config",
    "size",
    "modified",
)


def versions_table(query: str, rows: list[dict[str, Any]]) -> str:
    """An HTML table of version rows (see ``VersionList.rows``), newest first."""
    import html

    if not rows:
        return f"<p>No tagged versions of <code>{html.escape(query)}</code>.</p>"
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row, c))}</td>" for c in COLUMNS) + "</tr>"
        for row in rows
    )
    caption = f"{len(rows)} tagged versions of <code>{html.escape(query)}</code>, newest first"
    return (
        f'<table class="taggedartifacts-versions" style="white-space:nowrap">'
        f"<caption>{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


class Thumbnails:
    """Small pictures of image versions with their commit and config, for comparing at a glance.

    :param images: ``(path, label, modified)`` of each image, newest first.
    """

    def __init__(self, images: list[tuple[Any, str, float]], width: int) -> None:
        self.images = images
        self.width = width

    def __repr__(self) -> str:
        return f"<{len(self.images)} image versions; display in Jupyter to see them>"

    def _repr_html_(self) -> str:
        import base64
        import html

        figures = []
        for path, label, mtime in self.images:
            name = os.fspath(path).rstrip("/").rsplit("/", 1)[-1]
            data = base64.b64encode(_read_bytes(path)).decode("ascii")
            figures.append(
                f'<figure style="margin:4px;text-align:center">'
                f'<img src="data:{image_type(name)};base64,{data}" width="{self.width}" '
                f'alt="{html.escape(name)}"/>'
                f'<figcaption style="font-size:smaller">{html.escape(label)}<br/>'
                f"{html.escape(when(mtime))}</figcaption></figure>"
            )
        if not figures:
            return "<p>No image versions to show.</p>"
        return '<div style="display:flex;flex-wrap:wrap">' + "".join(figures) + "</div>"


class Description(dict[str, Any]):
    """What :func:`describe` returns: a plain dict, displayed as a table in Jupyter."""

    def _repr_html_(self) -> str:
        import html
        import json

        rows = []
        for key, value in self.items():
            if key == "provenance" and value is not None:
                shown = (
                    "<pre>" + html.escape(json.dumps(value, indent=2, sort_keys=True)) + "</pre>"
                )
            else:
                shown = html.escape(str(value))
            rows.append(
                f"<tr><th style='text-align:left'>{html.escape(key)}</th><td>{shown}</td></tr>"
            )
        return '<table class="taggedartifacts-describe">' + "".join(rows) + "</table>"


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "dirty":
        return f"dirty {row['diff']}" if row["dirty"] else "clean"
    return "" if row[column] is None else str(row[column])


def image_type(name: str) -> str | None:
    """The MIME type of an image file name, or None for other files."""
    return _IMAGE_TYPES.get(os.path.splitext(name)[1].lower())


def _read_bytes(path: Any) -> bytes:
    place = place_of(path)
    return place.store.read(place.path)


def when(mtime: float) -> str:
    """A modification time as ISO 8601 in UTC, to the second."""
    import datetime

    return datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).isoformat(
        timespec="seconds"
    )
