"""How versions and descriptions look: readable in a terminal, tables and thumbnails in Jupyter."""

from __future__ import annotations

import os
from typing import Any

from ._versions import Version

__all__ = ["Description", "Thumbnails", "VersionList"]

# base64, datetime, html and json load inside the methods that use them: this module is
# imported with the package, and ``import taggedartifacts`` must stay instant.

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
_COLUMNS = (
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


class VersionList(list[Version]):
    """What :func:`versions` returns: a plain list of :class:`Version`, newest first.

    In Jupyter it displays as a table (with what git knows about each commit);
    :meth:`show` displays image versions side by side.
    """

    def __init__(self, items: list[Version], query: str) -> None:
        super().__init__(items)
        self.query = query

    def __repr__(self) -> str:
        if not self:
            return f"<no tagged versions of {self.query}>"
        lines = [
            f"<{len(self)} tagged version{'s' * (len(self) != 1)} of {self.query}, newest first>"
        ]
        return "\n".join(lines + [f"  {v}" for v in self])

    def rows(self, repo: str | None = None) -> list[dict[str, Any]]:
        """One dict per version, with what git knows of its commit (as ``taggedartifacts ls``).

        :param repo: a directory of the work tree that knows the commits; by default
            the one holding the versions, else the current directory's.
        """
        from ._history import History

        history = History(repo or _local_dir(self.query))
        out = []
        for v in self:
            commit = history.lookup(v.tag.commit)
            out.append(
                {
                    "name": v.name,
                    "commit": v.tag.commit,
                    "relation": commit["relation"],
                    "commit_date": commit["date"],
                    "subject": commit["subject"],
                    "dirty": v.tag.dirty,
                    "diff": v.tag.diff,
                    "config": v.tag.config,
                    "size": v.size,
                    "modified": _when(v.mtime),
                }
            )
        return out

    def _repr_html_(self) -> str:
        import html

        if not self:
            return f"<p>No tagged versions of <code>{html.escape(self.query)}</code>.</p>"
        head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(row, c))}</td>" for c in _COLUMNS) + "</tr>"
            for row in self.rows()
        )
        caption = (
            f"{len(self)} tagged versions of <code>{html.escape(self.query)}</code>, newest first"
        )
        return (
            f'<table class="taggedartifacts-versions" style="white-space:nowrap">'
            f"<caption>{caption}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def show(self, limit: int = 8, width: int = 240) -> Thumbnails:
        """Image versions (png, jpg, gif, webp, svg) side by side, newest first."""
        return Thumbnails([v for v in self if _image_type(v.name)][:limit], width)


class Thumbnails:
    """Small pictures of image versions with their commit and config, for comparing at a glance."""

    def __init__(self, versions: list[Version], width: int) -> None:
        self.versions = versions
        self.width = width

    def __repr__(self) -> str:
        return f"<{len(self.versions)} image versions; display in Jupyter to see them>"

    def _repr_html_(self) -> str:
        import base64
        import html

        figures = []
        for v in self.versions:
            data = base64.b64encode(_read_bytes(v.path)).decode("ascii")
            state = f"dirty {v.tag.diff}" if v.tag.dirty else "clean"
            label = f"{v.tag.commit} · {state} · {v.tag.config}"
            figures.append(
                f'<figure style="margin:4px;text-align:center">'
                f'<img src="data:{_image_type(v.name)};base64,{data}" width="{self.width}" '
                f'alt="{html.escape(v.name)}"/>'
                f'<figcaption style="font-size:smaller">{html.escape(label)}<br/>'
                f"{html.escape(_when(v.mtime))}</figcaption></figure>"
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


def _image_type(name: str) -> str | None:
    return _IMAGE_TYPES.get(os.path.splitext(name)[1].lower())


def _read_bytes(path: Any) -> bytes:
    from ._remote import is_url, read_bytes

    if is_url(path):
        return read_bytes(str(path))
    with open(path, "rb") as fh:
        return fh.read()


def _local_dir(query: str) -> str:
    from ._remote import is_url

    return os.getcwd() if is_url(query) else os.path.dirname(os.path.abspath(query))


def _when(mtime: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).isoformat(
        timespec="seconds"
    )
