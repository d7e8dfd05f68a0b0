"""What a decorated function was given, and what one call of it is: plain data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ._binding import PathArg
from ._gitinfo import GitState

if TYPE_CHECKING:
    import inspect

__all__ = ["Options", "Plan"]


class Options(NamedTuple):
    """What :class:`~taggedartifacts.Artifact` was given, checked (see its docstring)."""

    keywords: tuple[str, ...]
    config: Mapping[str, Any]
    allow_dirty: bool
    untracked: bool
    repo: str | None
    include_args: bool | tuple[str, ...]
    cache: bool
    atomic: bool
    provenance: bool
    redact: tuple[str, ...]
    depends_on: tuple[str, ...] | None
    read: bool | str  # False, True or "latest"


class Plan(NamedTuple):
    """What one call is: its arguments, the paths it was given and their tagged names."""

    name: str  # the function's name, for messages
    func: Any  # the decorated function
    options: Options
    bound: inspect.BoundArguments
    given: dict[str, PathArg]
    tagged: dict[str, PathArg]
    state: GitState
    digest: str  # the hash of the config (and of the hashed arguments)
    arguments: dict[str, Any] | None  # the hashed arguments, when include_args is on
    notebook: str | None = None  # the notebook whose cell defines the function
