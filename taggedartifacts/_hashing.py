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

import enum
import sys
from collections.abc import Mapping
from itertools import chain
from typing import TYPE_CHECKING, Any

from ._errors import UnhashableConfigError

__all__ = ["canonical_json", "config_hash", "normal_form"]

_PREFIX = b"taggedartifacts-config-v1\n"
_RESERVED = "\x00"
_SCALARS = frozenset({str, int, float, bool, type(None)})
_SCALARS_AND_LIST = _SCALARS | {list}
_STR = frozenset({str})

if TYPE_CHECKING:
    from collections.abc import Callable


def _encode(value: Any) -> str:
    """The canonical JSON text of an already normal value."""
    return (_ENCODE or _make_encoder())(value)


def _make_encoder() -> Callable[[Any], str]:
    # json loads on first use, so that ``import taggedartifacts`` stays instant. Where the C
    # accelerator exists, call it directly as JSONEncoder.encode does, minus its per-call setup:
    # same text, a third of the time for small configs.
    global _ENCODE
    import json
    import json.encoder as impl

    plain = json.JSONEncoder(
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=True,
        check_circular=False,  # _normalize has already refused cycles
    )
    fallback = _ENCODE = plain.encode
    c_make_encoder = getattr(impl, "c_make_encoder", None)
    if c_make_encoder is not None:
        try:
            fast = c_make_encoder(
                None, plain.default, impl.encode_basestring_ascii, None, ":", ",", True, False, True
            )
            if "".join(fast({"b": [1.5, None, True], "a": "\u00e9"}, 0)) == fallback(
                {"b": [1.5, None, True], "a": "\u00e9"}
            ):
                _ENCODE = lambda value: "".join(fast(value, 0))  # noqa: E731
        except TypeError:  # another signature in some Python version: keep the fallback
            pass
    return _ENCODE


_ENCODE: Callable[[Any], str] | None = None
_SHA256: Callable[[bytes], Any] | None = None
# The last small text hashed and its digest: the same text always has the same digest.
_LAST: tuple[str, str] = ("\x00", "")  # no canonical text starts with NUL
_LAST_MAX = 1 << 16


def _load_sha256() -> Callable[[bytes], Any]:
    global _SHA256
    import hashlib  # on first use, like json: ``import taggedartifacts`` stays instant

    _SHA256 = hashlib.sha256
    return _SHA256


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
    global _LAST
    try:  # canonical_json(), inlined: this runs at every decorated call
        text = _encode(_normalize(obj, set()))
    except (_Unsupported, RecursionError, ValueError):
        text = canonical_json(obj, name=name)  # raises the error that names the culprit
    last = _LAST  # one read: another thread may replace it meanwhile
    if text == last[0]:  # a loop hashes the same config at every call
        return last[1]
    digest: str = (_SHA256 or _load_sha256())(_PREFIX + text.encode("ascii")).hexdigest()
    if len(text) <= _LAST_MAX:
        _LAST = (text, digest)
    return digest


def canonical_json(obj: Any, *, name: str = "config") -> str:
    """Return the canonical JSON text that :func:`config_hash` digests."""
    try:
        return _encode(normal_form(obj, name=name))
    except ValueError as exc:  # ints past sys.get_int_max_str_digits()
        raise UnhashableConfigError(f"{name}: {exc}", name) from None


def normal_form(obj: Any, *, name: str = "config") -> Any:
    """Return the JSON-ready normal form of a value (see the module documentation)."""
    try:
        return _normalize(obj, set())
    except _Unsupported as exc:
        where = name + "".join(reversed(exc.steps))
        raise UnhashableConfigError(f"{where}: {exc.reason}", where) from None
    except RecursionError:
        raise UnhashableConfigError(
            f"{name}: nested too deeply to hash; flatten the config", name
        ) from None


def _normalize(obj: Any, active: set[int]) -> Any:
    """Return the normal form of ``obj``; ``obj`` itself when it is already plain JSON.

    ``active`` holds the ids of the containers being descended into, to refuse cycles.
    """
    kind = type(obj)
    if kind in _SCALARS:
        return obj
    if kind is dict:
        return _normalize_mapping(obj, active)
    if kind is list or kind is tuple:
        return _normalize_sequence(obj, active)
    if isinstance(obj, Mapping):
        return _normalize_mapping(obj, active)
    if isinstance(obj, (list, tuple)):
        return _normalize_sequence(obj, active)
    return _normalize_other(obj, active)


def _enter(obj: Any, active: set[int]) -> int:
    # Only containers with containers inside get here: a flat one cannot hold itself.
    key = id(obj)
    if key in active:
        raise _Unsupported("the value contains itself")
    active.add(key)
    return key


def _normalize_mapping(obj: Mapping[Any, Any], active: set[int]) -> dict[str, Any]:
    plain = obj if type(obj) is dict else dict(obj.items())
    # set(map(type, ...)) and min() run in C: the common all-plain case never loops in Python.
    if plain and set(map(type, plain)) != _STR:
        bad = next(k for k in plain if type(k) is not str)
        raise _Unsupported(
            f"keys must be str, found a key of type {type(bad).__name__} ({bad!s:.40}); "
            "convert the keys to str"
        )
    if plain and min(plain).startswith(_RESERVED):
        raise _Unsupported("keys starting with '\\x00' are reserved for the encoding")
    kinds = set(map(type, plain.values()))
    if kinds <= _SCALARS:
        return plain
    if kinds <= _SCALARS_AND_LIST:
        # Dicts of numbers and lists of numbers are the bulk of big configs: check all the
        # lists' items in one pass in C instead of one Python call per list.
        lists = [v for v in plain.values() if type(v) is list]
        if set(map(type, chain.from_iterable(lists))) <= _SCALARS:
            return plain
    key = _enter(obj, active)
    out = {}
    try:
        for k, v in plain.items():
            kind = type(v)
            if kind in _SCALARS or (kind is list and set(map(type, v)) <= _SCALARS):
                out[k] = v  # a leaf: nothing in it can be unsupported or circular
                continue
            try:
                out[k] = _normalize(v, active)
            except _Unsupported as exc:
                exc.steps.append(f"[{k!r}]")
                raise
    finally:
        active.discard(key)
    return out


def _normalize_sequence(obj: list[Any] | tuple[Any, ...], active: set[int]) -> list[Any]:
    if set(map(type, obj)) <= _SCALARS:
        return obj if type(obj) is list else list(obj)
    key = _enter(obj, active)
    out = []
    try:
        for i, v in enumerate(obj):
            kind = type(v)
            if kind in _SCALARS or (kind is list and set(map(type, v)) <= _SCALARS):
                out.append(v)  # a leaf, as above
                continue
            try:
                out.append(_normalize(v, active))
            except _Unsupported as exc:
                exc.steps.append(f"[{i}]")
                raise
    finally:
        active.discard(key)
    return out


def _normalize_other(obj: Any, active: set[int]) -> Any:
    # Order matters: numpy floats subclass float, datetimes subclass date, IntEnum subclasses int.
    # A module that was never imported cannot have made ``obj``: look in sys.modules instead of
    # importing numpy, pathlib, datetime, decimal or dataclasses ourselves.
    modules = sys.modules
    np = modules.get("numpy")
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
        return {"\x00set": sorted(items, key=_encode)}
    pathlib, datetime, decimal = (modules.get(m) for m in ("pathlib", "datetime", "decimal"))
    if pathlib is not None and isinstance(obj, pathlib.PurePath):
        return {"\x00path": obj.as_posix()}
    if datetime is not None and isinstance(obj, datetime.datetime):
        return {"\x00datetime": obj.isoformat()}
    if datetime is not None and isinstance(obj, datetime.date):
        return {"\x00date": obj.isoformat()}
    if decimal is not None and isinstance(obj, decimal.Decimal):
        return {"\x00decimal": str(obj)}
    dataclasses = modules.get("dataclasses")
    if dataclasses is not None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
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
    import hashlib

    flat = np.ascontiguousarray(arr).reshape(-1)
    digest = hashlib.sha256(flat.view(np.uint8).data if flat.size else b"").hexdigest()
    return {"\x00ndarray": [arr.dtype.str, list(arr.shape), digest]}
