r"""Stable config hashing.

``config_hash(value)`` is the sha256 of ``b"taggedartifacts-config-v1\n"``
followed by the canonical JSON of ``value``: the UTF-8 (in fact ASCII) text
that ``json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
allow_nan=True)`` writes for the *normal form* ``v`` of the value.

The normal form keeps ``None``, ``bool``, ``int``, ``float``, ``str``, lists
and dicts with ``str`` keys as they are (so ``True``, ``1`` and ``1.0`` stay
apart, floats are written in Python's shortest round-trip form on every
platform, ``nan``/``inf``/``-0.0`` as ``NaN``/``Infinity``/``-0.0``, and
``{"a": {"b": 1}}`` differs from ``{"a.b": 1}``). Everything else becomes a
one-key object whose key starts with NUL, which no user dict may use:

=====================  ==================================================
value                  normal form
=====================  ==================================================
tuple                  a list (tuples and lists hash alike)
other ``Mapping``      a dict (keys must be ``str``)
``bytes``/bytearray    ``{"\u0000bytes": "<hex>"}``
set, frozenset         ``{"\u0000set": [elements sorted by their JSON]}``
pathlib path           ``{"\u0000path": "<as_posix()>"}``
``Enum`` member        the normal form of its value
``datetime``           ``{"\u0000datetime": "<isoformat()>"}``
``date``               ``{"\u0000date": "<isoformat()>"}``
``Decimal``            ``{"\u0000decimal": "<str()>"}``
dataclass instance     ``{"\u0000dataclass": ["<__qualname__>", {field: value}]}``
numpy array, scalar    ``{"\u0000ndarray": ["<little-endian dtype.str>", [shape],
                       "<sha256 of the C-order bytes>"]}``
subclass of int,       the plain ``int``/``float``/``str`` value
float or str
=====================  ==================================================

Anything else raises :class:`UnhashableConfigError` naming where it sits.
``repr()``, ``hash()`` and pickle are never used, so the digest is the same in
every process, on every machine and on every supported Python.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import hashlib
import json
import pathlib
import sys
from collections.abc import Mapping
from typing import Any

from ._errors import UnhashableConfigError

__all__ = ["canonical_json", "config_hash"]

_PREFIX = b"taggedartifacts-config-v1\n"
_RESERVED = "\x00"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True
)


class _Unsupported(Exception):
    """Carries the path to an offending value up the recursion, one step per frame."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.steps: list[str] = []


def config_hash(obj: Any, *, name: str = "config") -> str:
    """Return the stable sha256 hex digest of a config value.

    :param obj: the value; see the module documentation for what is supported.
    :param name: what to call the value in error messages.
    :raises UnhashableConfigError: for a value with no stable encoding.
    :return: 64 lowercase hex characters.
    """
    return hashlib.sha256(_PREFIX + canonical_json(obj, name=name).encode("ascii")).hexdigest()


def canonical_json(obj: Any, *, name: str = "config") -> str:
    """Return the canonical JSON text that :func:`config_hash` digests."""
    try:
        normal = _normalize(obj, set())
        return _ENCODER.encode(normal)
    except _Unsupported as exc:
        where = name + "".join(reversed(exc.steps))
        raise UnhashableConfigError(f"{where}: {exc.reason}", where) from None
    except RecursionError:
        raise UnhashableConfigError(
            f"{name}: nested too deeply to hash; flatten the config", name
        ) from None
    except ValueError as exc:  # ints past sys.get_int_max_str_digits()
        raise UnhashableConfigError(f"{name}: {exc}", name) from None


def _normalize(obj: Any, active: set[int]) -> Any:
    """Return the normal form of ``obj``; ``obj`` itself when it is already plain JSON."""
    kind = type(obj)
    if kind in _SCALARS:
        return obj
    if kind is dict or kind is list or kind is tuple or isinstance(obj, (Mapping, list, tuple)):
        key = id(obj)
        if key in active:
            raise _Unsupported("the value contains itself")
        active.add(key)
        try:
            if isinstance(obj, Mapping):
                return _normalize_mapping(obj, active)
            return _normalize_sequence(obj, active)
        finally:
            active.discard(key)
    return _normalize_other(obj, active)


def _normalize_mapping(obj: Mapping[Any, Any], active: set[int]) -> dict[str, Any]:
    plain = obj if type(obj) is dict else dict(obj.items())
    # set(map(type, ...)) and min() run in C: the common all-plain case never loops in Python.
    if plain and set(map(type, plain)) != {str}:
        bad = next(k for k in plain if type(k) is not str)
        raise _Unsupported(
            f"keys must be str, found a key of type {type(bad).__name__} ({bad!s:.40}); "
            "convert the keys to str"
        )
    if plain and min(plain).startswith(_RESERVED):
        raise _Unsupported("keys starting with '\\x00' are reserved for the encoding")
    if set(map(type, plain.values())) <= _SCALARS:
        return plain
    out = {}
    for k, v in plain.items():
        try:
            out[k] = _normalize(v, active)
        except _Unsupported as exc:
            exc.steps.append(f"[{k!r}]")
            raise
    return out


def _normalize_sequence(obj: list[Any] | tuple[Any, ...], active: set[int]) -> list[Any]:
    if set(map(type, obj)) <= _SCALARS:
        return obj if type(obj) is list else list(obj)
    out = []
    for i, v in enumerate(obj):
        try:
            out.append(_normalize(v, active))
        except _Unsupported as exc:
            exc.steps.append(f"[{i}]")
            raise
    return out


def _normalize_other(obj: Any, active: set[int]) -> Any:
    # Order matters: numpy floats subclass float, datetimes subclass date, IntEnum subclasses int.
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, (np.ndarray, np.generic)):
        return _normalize_numpy(obj, np)
    if isinstance(obj, enum.Enum):
        return _normalize(obj.value, active)
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, (bytes, bytearray)):
        return {"\x00bytes": bytes(obj).hex()}
    if isinstance(obj, (set, frozenset)):
        items = []
        for v in obj:
            try:
                items.append(_normalize(v, active))
            except _Unsupported as exc:
                exc.steps.append(" (a set element)")
                raise
        return {"\x00set": sorted(items, key=_ENCODER.encode)}
    if isinstance(obj, pathlib.PurePath):
        return {"\x00path": obj.as_posix()}
    if isinstance(obj, datetime.datetime):
        return {"\x00datetime": obj.isoformat()}
    if isinstance(obj, datetime.date):
        return {"\x00date": obj.isoformat()}
    if isinstance(obj, decimal.Decimal):
        return {"\x00decimal": str(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {}
        for field in dataclasses.fields(obj):
            try:
                fields[field.name] = _normalize(getattr(obj, field.name), active)
            except _Unsupported as exc:
                exc.steps.append(f".{field.name}")
                raise
        return {"\x00dataclass": [type(obj).__qualname__, fields]}
    raise _Unsupported(
        f"objects of type {type(obj).__qualname__} are not supported; "
        "use plain data (str, numbers, lists, dicts, ...) that describes it"
    )


def _normalize_numpy(obj: Any, np: Any) -> dict[str, Any]:
    arr = np.asarray(obj)
    if arr.dtype.hasobject or arr.dtype.fields is not None:
        raise _Unsupported(
            f"numpy arrays of dtype {arr.dtype} are not supported; use a plain numeric dtype"
        )
    # One byte order everywhere, so a big-endian machine gets the same digest.
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    flat = np.ascontiguousarray(arr).reshape(-1)
    digest = hashlib.sha256(flat.view(np.uint8).data if flat.size else b"").hexdigest()
    return {"\x00ndarray": [arr.dtype.str, list(arr.shape), digest]}
