"""A decorated function's config digest, hashed again only when the config may have changed.

A config may be changed between calls, and its new value must give a new name,
so it is read at every call. Plain data (dicts, lists and tuples of ``str``,
``int``, ``float``, ``bool`` and ``None``) is provably unchanged while each of
its containers holds the very objects it held when it was last hashed: scalars
are immutable, so the same objects are the same value. Checking that by
identity costs a fraction of hashing again. Anything else (a set, an array, a
mapping of another type, a container met twice) is hashed at every call.

The digest is of a copy made in the same walk that records what each container
held, so the two always describe one value, even while another thread changes
the config: a change made during the walk is a difference at the next call.
"""

from __future__ import annotations

import operator
from itertools import chain, starmap
from typing import Any

from ._hashing import SCALARS, config_hash

__all__ = ["ConfigDigest"]

_PLAIN = (dict, list, tuple)
_Contents = tuple[Any, tuple[Any, ...]]  # a container, and the objects directly in it


class ConfigDigest:
    """The :func:`~taggedartifacts.config_hash` of one config, kept while it is unchanged."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self._seen: tuple[list[_Contents] | None, str] = (None, "")

    def digest(self) -> str:
        """The config's hash as it is now.

        :raises UnhashableConfigError: for a value with no stable encoding.
        """
        contents, digest = self._seen
        if contents is not None and all(starmap(_unchanged, contents)):
            return digest
        contents = []
        try:
            copy = _copy(self.config, contents, set())
        except (_NotPlain, RecursionError):
            self._seen = (None, "")
            return config_hash(self.config)  # which names what it cannot hash, if anything
        digest = config_hash(copy)
        self._seen = (contents, digest)  # one assignment: a pair that matches
        return digest


class _NotPlain(Exception):
    """A value the identity walk cannot vouch for."""


def _items(container: Any) -> tuple[Any, ...]:
    """The objects directly in a container: a dict's keys and values, a list's items."""
    if type(container) is dict:
        return tuple(chain.from_iterable(container.items()))
    return tuple(container)


def _copy(value: Any, contents: list[_Contents], met: set[int]) -> Any:
    """A copy of plain data from one look at each container, each look kept in ``contents``.

    :raises _NotPlain: for other data, or a container met twice (shared, or in itself).
    """
    kind = type(value)
    if kind in SCALARS:
        return value
    if kind not in _PLAIN or id(value) in met:
        raise _NotPlain
    met.add(id(value))  # alive in ``contents``: its id stays its own
    items = _items(value)
    contents.append((value, items))
    if kind is dict:
        return {k: _copy(v, contents, met) for k, v in zip(items[::2], items[1::2], strict=True)}
    copied = [_copy(item, contents, met) for item in items]
    return copied if kind is list else tuple(copied)


def _unchanged(container: Any, items: tuple[Any, ...]) -> bool:
    """Whether a container holds the very objects ``items`` (its ``_items`` then) lists."""
    if type(container) is dict:  # compared as they come: no tuple of them is built
        now: Any = chain.from_iterable(container.items())
        return 2 * len(container) == len(items) and all(map(operator.is_, now, items))
    return len(container) == len(items) and all(map(operator.is_, container, items))
