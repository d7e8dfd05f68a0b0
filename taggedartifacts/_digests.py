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
from collections.abc import Collection
from itertools import chain
from typing import Any

from ._hashing import SCALARS, config_hash

__all__ = ["ConfigDigest"]

_PLAIN = (dict, list, tuple)


class _Look:
    """What one walk saw: the live views of every container (a dict's keys, and its
    values view; a list's or tuple's items), how many items each held, and the items."""

    def __init__(self) -> None:
        self.views: list[Collection[Any]] = []
        self.sizes: list[int] = []
        self.items: list[Any] = []

    def add(self, view: Collection[Any], items: tuple[Any, ...]) -> None:
        self.views.append(view)
        self.sizes.append(len(items))
        self.items += items


class ConfigDigest:
    """The :func:`~taggedartifacts.config_hash` of one config, kept while it is unchanged."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self._seen: tuple[_Look, str] | None = None

    def digest(self) -> str:
        """The config's hash as it is now.

        :raises UnhashableConfigError: for a value with no stable encoding.
        """
        seen = self._seen  # read once: another thread may replace it
        if seen is not None:
            look, digest = seen
            # Unchanged when every container holds the very objects it held then. Sizes
            # first, so that no item can move to the next container unseen; then one pass
            # over every item, all in C: no Python function runs per container.
            if list(map(len, look.views)) == look.sizes and all(
                map(operator.is_, chain.from_iterable(look.views), look.items)
            ):
                return digest
        look = _Look()
        try:
            copy = _copy(self.config, look, set())
        except (_NotPlain, RecursionError):
            self._seen = None
            return config_hash(self.config)  # which names what it cannot hash, if anything
        digest = config_hash(copy)
        self._seen = (look, digest)  # one assignment: a pair that matches
        return digest


class _NotPlain(Exception):
    """A value the identity walk cannot vouch for."""


def _copy(value: Any, look: _Look, met: set[int]) -> Any:
    """A copy of plain data from one look at each container, each look kept in ``look``.

    :raises _NotPlain: for other data, or a container met twice (shared, or in itself).
    """
    kind = type(value)
    if kind in SCALARS:
        return value
    if kind not in _PLAIN or id(value) in met:
        raise _NotPlain
    met.add(id(value))  # alive in ``look``: its id stays its own
    if kind is dict:
        pairs = tuple(value.items())  # keys and values from one look
        look.add(value, tuple(k for k, _ in pairs))
        look.add(value.values(), tuple(v for _, v in pairs))
        return {k: _copy(v, look, met) for k, v in pairs}
    items = tuple(value)
    look.add(value, items)
    copied = [_copy(item, look, met) for item in items]
    return copied if kind is list else tuple(copied)
