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
object with named      ``{"\u0000dataclass": ["<__qualname__>", {field: value}]}``
fields: a dataclass,   (``asdict(dc)`` and ``dc`` differ: the class's name is part
named tuple, attrs     of what the config means, and ``asdict`` also turns nested
class or pydantic      objects into dicts); a pydantic model's extra fields count
model                  as fields
``argparse.Namespace``  the dict of its attributes (``vars(args)`` and ``args`` hash
``SimpleNamespace``     alike)
OmegaConf              the plain container it resolves to, interpolations
``DictConfig``,        resolved (a ``DictConfig`` and the equivalent dict hash alike;
``ListConfig``         a missing ``???`` value is refused, naming its key)
``timedelta``          ``{"\u0000timedelta": [days, seconds, microseconds]}``
numpy array            ``{"\u0000ndarray": ["<little-endian dtype.str>", [shape],
                       "<sha256 of the C-order bytes>"]}``
numpy masked array     ``{"\u0000masked": [<the data, masked values as 0>, <the mask>]}``
numpy bool, integer,   the Python ``bool``, ``int``, ``float``, ``str`` or ``bytes`` it
floating, str or       converts to (``np.float64(0.1)`` is ``0.1``, ``np.str_("adam")``
bytes scalar           is ``"adam"``; ``np.int64(1)`` is not ``True``)
other numpy scalars    as a 0-d array
subclass of int,       the plain ``int``/``float``/``str`` value
float or str
=====================  ==================================================

Anything else raises :class:`UnhashableConfigError` naming where it sits, and the
one call that turns it into something hashable when there is one (``vars(x)``,
``x.model_dump()``, an open file's path). Optional libraries (numpy, OmegaConf,
pydantic, attrs) are never imported here: a value of their types means they are.
``repr()``, ``hash()`` and pickle are never used, so the digest is the same in
every process, on every machine and on every supported Python.

The normal form is built by a table of encoders, one per kind of value
(:data:`_EXACT` for exact types, :data:`_KINDS` for the rest, tried in order).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import UnhashableConfigError

_PREFIX = b"taggedartifacts-config-v1\n"
_RESERVED = "\x00"
_SCALARS = (str, int, float, bool, type(None))  # their own normal form

Encoder = Callable[[Any, set[int]], Any]  # (value, ids of the containers being entered)


def config_hash(obj: Any, *, name: str = "config") -> str:
    """Return the stable sha256 hex digest of a config value.

    :param obj: the value; see the module documentation for what is supported.
    :param name: what to call the value in error messages.
    :raises UnhashableConfigError: for a value with no stable encoding.
    :return: 64 lowercase hex characters.
    """
    import hashlib  # on first use, like json: ``import taggedartifacts`` stays instant

    text = canonical_json(obj, name=name)
    return hashlib.sha256(_PREFIX + text.encode("ascii")).hexdigest()


def canonical_json(obj: Any, *, name: str = "config") -> str:
    """Return the canonical JSON text that :func:`config_hash` digests."""
    try:
        return _dumps(normal_form(obj, name=name))
    except ValueError as exc:  # ints past sys.get_int_max_str_digits()
        raise UnhashableConfigError(f"{name}: {exc}", name) from None


def _dumps(value: Any) -> str:
    import json  # on first use: ``import taggedartifacts`` stays instant

    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True
    )


def normal_form(obj: Any, *, name: str = "config") -> Any:
    """Return the JSON-ready normal form of a value (see the module documentation)."""
    try:
        return _normal(obj, set())
    except _Unsupported as exc:
        where = name + "".join(reversed(exc.steps))
        raise UnhashableConfigError(f"{where}: {exc.reason}", where) from None
    except RecursionError:
        raise UnhashableConfigError(
            f"{name}: nested too deeply to hash; flatten the config", name
        ) from None


class _Unsupported(Exception):
    """Carries the path to an offending value up the recursion, one step per frame."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.steps: list[str] = []


def _normal(obj: Any, active: set[int]) -> Any:
    kind = type(obj)
    encode = _EXACT.get(kind) or _encoder_for(kind)
    return encode(obj, active)


def _child(value: Any, active: set[int], step: str) -> Any:
    """The normal form of a value inside a container; ``step`` says where, for errors."""
    try:
        return _normal(value, active)
    except _Unsupported as exc:
        exc.steps.append(step)
        raise


def _plain(obj: Any, active: set[int]) -> Any:
    return obj


def _mapping(obj: Mapping[Any, Any], active: set[int]) -> dict[str, Any]:
    with _Entered(obj, active):
        out = {}
        for key, value in obj.items():
            if type(key) is not str:
                raise _Unsupported(
                    f"keys must be str, found a key of type {type(key).__name__} "
                    f"({key!s:.40}); convert the keys to str"
                )
            if key.startswith(_RESERVED):
                raise _Unsupported("keys starting with '\\x00' are reserved for the encoding")
            out[key] = _child(value, active, f"[{key!r}]")
        return out


def _sequence(obj: list[Any] | tuple[Any, ...], active: set[int]) -> list[Any]:
    with _Entered(obj, active):
        return [_child(v, active, f"[{i}]") for i, v in enumerate(obj)]


class _Entered:
    """Mark a container as being descended into, to refuse one that contains itself."""

    def __init__(self, obj: Any, active: set[int]) -> None:
        self.key, self.active = id(obj), active

    def __enter__(self) -> None:
        if self.key in self.active:
            raise _Unsupported("the value contains itself")
        self.active.add(self.key)

    def __exit__(self, *exc: object) -> None:
        self.active.discard(self.key)


def _bytes(obj: bytes | bytearray, active: set[int]) -> dict[str, str]:
    return {"\x00bytes": bytes(obj).hex()}


def _set(obj: set[Any] | frozenset[Any], active: set[int]) -> dict[str, list[Any]]:
    items = [_child(v, active, " (a set element)") for v in obj]
    return {"\x00set": sorted(items, key=_dumps)}


def _enum(obj: Any, active: set[int]) -> Any:
    return _normal(obj.value, active)


def _record(obj: Any, active: set[int]) -> dict[str, Any]:
    """An object with named fields: its class's name and its fields' values."""
    fields = {name: _child(getattr(obj, name), active, f".{name}") for name in _fields(obj)}
    extra = getattr(obj, "__pydantic_extra__", None)  # a pydantic model's extra fields
    for name, value in (extra or {}).items():
        fields[name] = _child(value, active, f".{name}")
    return {"\x00dataclass": [type(obj).__qualname__, fields]}


def _fields(obj: Any) -> list[str]:
    kind = type(obj)
    if hasattr(kind, "__dataclass_fields__"):
        import dataclasses

        return [f.name for f in dataclasses.fields(obj)]
    if hasattr(kind, "__attrs_attrs__"):
        return [a.name for a in kind.__attrs_attrs__]
    if hasattr(kind, "model_fields"):  # pydantic 2
        return list(kind.model_fields)
    return list(kind._fields)  # a named tuple


def _namespace(obj: Any, active: set[int]) -> dict[str, Any]:
    return _mapping(vars(obj), active)


def _omegaconf(obj: Any, active: set[int]) -> Any:
    """What an OmegaConf config resolves to; a ``???`` it holds is named, not raised as
    OmegaConf's own error."""
    omegaconf = sys.modules["omegaconf"]
    try:
        plain = omegaconf.OmegaConf.to_container(obj, resolve=True, throw_on_missing=True)
    except omegaconf.errors.OmegaConfBaseException as exc:
        what = "has no value (???); give it one" if "Missing" in type(exc).__name__ else exc.msg
        unsupported = _Unsupported(f"{what}")
        unsupported.steps = [f"[{part!r}]" for part in reversed(str(exc.full_key).split("."))]
        raise unsupported from None
    return _normal(plain, active)


def _tagged(key: str, text: Callable[[Any], str]) -> Encoder:
    return lambda obj, active: {key: text(obj)}


def _numpy(obj: Any, active: set[int]) -> Any:
    np = sys.modules["numpy"]
    if isinstance(obj, (np.bool_, np.integer, np.floating, np.str_, np.bytes_)):
        return _normal(obj.item(), active)  # np.float64(0.1) is the 0.1 a sweep meant
    if isinstance(obj, np.ma.MaskedArray):  # the mask says which values mean anything
        mask = np.ma.getmaskarray(obj)
        return {"\x00masked": [_array(np.ma.filled(obj, 0)), _array(mask)]}
    return _array(obj)


def _array(obj: Any) -> dict[str, Any]:
    import hashlib

    np = sys.modules["numpy"]
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


# The one call that makes a refused value hashable, where there is one: tried in order.
_FIXES = [
    ("model_dump", "x.model_dump()"),  # a pydantic model of another major version
    ("get_params", "x.get_params()"),  # a scikit-learn estimator
    ("to_dict", "x.to_dict()"),
    ("__dict__", "vars(x)"),
]


def _unsupported(obj: Any, active: set[int]) -> Any:
    kind = type(obj).__qualname__
    if isinstance(obj, type):  # ``config=Settings`` where ``Settings()`` was meant
        raise _Unsupported(f"{obj.__qualname__} is a class; pass an instance of it, or plain data")
    if hasattr(obj, "read") and isinstance(getattr(obj, "name", None), str):  # an open file
        fix = f"pass the file's path ({obj.name!r}), or the settings read from it"
    else:
        found = next((call for attribute, call in _FIXES if hasattr(obj, attribute)), None)
        fix = f"pass {found} instead" if found else "use plain data (str, numbers, lists, dicts)"
    raise _Unsupported(f"objects of type {kind} are not supported; {fix}")


_EXACT: dict[type, Encoder] = {
    **dict.fromkeys(_SCALARS, _plain),
    dict: _mapping,
    list: _sequence,
    tuple: _sequence,
    bytes: _bytes,
    bytearray: _bytes,
    set: _set,
    frozenset: _set,
}


def _classes(module: str, *names: str) -> tuple[type, ...]:
    """Classes of a module that is loaded; none otherwise (a module that was never
    imported cannot have made the value, so we never import it ourselves)."""
    loaded = sys.modules.get(module)
    return tuple(getattr(loaded, n) for n in names) if loaded is not None else ()


def _has_fields(kind: type) -> bool:
    """A dataclass, attrs class, pydantic 2 model or named tuple."""
    if hasattr(kind, "__dataclass_fields__") or hasattr(kind, "__attrs_attrs__"):
        return True
    if issubclass(kind, tuple):
        return hasattr(kind, "_fields")
    return issubclass(kind, _classes("pydantic", "BaseModel")) and hasattr(kind, "model_fields")


# Every other kind, tried in order: numpy floats subclass float, datetimes subclass date,
# IntEnum subclasses int, a DictConfig is a Mapping and a named tuple a tuple, so the more
# specific kind comes first.
_KINDS: list[tuple[Callable[[type], bool], Encoder]] = [
    (lambda k: issubclass(k, _classes("numpy", "ndarray", "generic")), _numpy),
    (lambda k: issubclass(k, _classes("omegaconf", "DictConfig", "ListConfig")), _omegaconf),
    (lambda k: issubclass(k, _classes("enum", "Enum")), _enum),
    (_has_fields, _record),
    (lambda k: issubclass(k, bool), lambda obj, active: bool(obj)),
    # The base type's own conversion: a subclass's __int__, __float__ or __str__ may lie.
    (lambda k: issubclass(k, int), lambda obj, active: int.__int__(obj)),
    (lambda k: issubclass(k, float), lambda obj, active: float.__float__(obj)),
    (lambda k: issubclass(k, str), lambda obj, active: str.__str__(obj)),
    (lambda k: issubclass(k, (bytes, bytearray)), _bytes),
    (lambda k: issubclass(k, (set, frozenset)), _set),
    (lambda k: issubclass(k, Mapping), _mapping),
    (lambda k: issubclass(k, (list, tuple)), _sequence),
    (lambda k: issubclass(k, _classes("argparse", "Namespace")), _namespace),
    (lambda k: issubclass(k, _classes("types", "SimpleNamespace")), _namespace),
    (
        lambda k: issubclass(k, _classes("pathlib", "PurePath")),
        _tagged("\x00path", lambda p: p.as_posix()),
    ),
    (
        lambda k: issubclass(k, _classes("datetime", "datetime")),
        _tagged("\x00datetime", lambda d: d.isoformat()),
    ),
    (
        lambda k: issubclass(k, _classes("datetime", "date")),
        _tagged("\x00date", lambda d: d.isoformat()),
    ),
    (
        lambda k: issubclass(k, _classes("datetime", "timedelta")),
        lambda d, active: {"\x00timedelta": [d.days, d.seconds, d.microseconds]},
    ),
    (lambda k: issubclass(k, _classes("decimal", "Decimal")), _tagged("\x00decimal", str)),
]
_FOUND: dict[type, Encoder] = {}  # kind -> its encoder, found once per kind


def _encoder_for(kind: type) -> Encoder:
    encode = _FOUND.get(kind)
    if encode is None:
        encode = next((e for test, e in _KINDS if test(kind)), _unsupported)
        if len(_FOUND) > 1024:  # bounded: classes made at run time come and go
            _FOUND.clear()
        _FOUND[kind] = encode
    return encode
