"""Facts about where an artifact was made: host, user, Python, platform, package
versions and the repository's ``origin`` remote.

They are fixed for the life of a process (the origin per work tree), so each is
looked up once: a record costs no subprocess after the first.
"""

from __future__ import annotations

import functools
from typing import Any

from . import _git as git

__all__ = ["origin_url", "process_facts", "strip_credentials"]


@functools.cache
def process_facts() -> dict[str, Any]:
    """Host, user, Python, platform and the versions of this package and GitPython."""
    import platform
    import socket

    return {
        "host": socket.gethostname(),
        "user": _user(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            "taggedartifacts": _version("taggedartifacts"),
            "GitPython": _version("GitPython"),
        },
    }


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return None


def _version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=64)
def origin_url(root: str | None) -> str | None:
    """The ``origin`` remote of the work tree at ``root``, credentials stripped."""
    if root is None:
        return None
    proc = git.run(root, "config", "--get", "remote.origin.url")
    url = proc.stdout.decode(errors="replace").strip()
    return strip_credentials(url) if proc.returncode == 0 and url else None


def strip_credentials(url: str) -> str:
    """Drop what may be a secret: a password, for http(s) any user name (tokens travel
    there too), and the query and fragment (``?private_token=...``)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.scheme:
        return url  # scp-like ``git@host:path`` names a user, never a secret
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username if parts.scheme in ("ssh", "git+ssh") and parts.username else None
    netloc = f"{user}@{host}" if user else host
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))
