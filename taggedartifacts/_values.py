"""What a record keeps of the value a function returned, so that a cache hit returns it.

``None``, ``bool``, ``int``, ``float``, ``str``, lists, tuples, dicts with ``str``
keys and paths (as :class:`~pathlib.Path`) are kept; subclasses of int, float
and str (NumPy's ``float64``, say) come back as the plain type. Anything else
cannot be kept (:class:`Unrecordable`).

A path that is one of the call's outputs, inside one (a file of a directory
artifact), or beside one (a side file) is kept relative to it, and given back
spelled as the hit's caller spelled its own path: relative or absolute, from
whatever directory, as a path or a URL.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["Unrecordable", "decode_value", "encode_value"]

_TUPLE, _PATH, _FLOAT, _OUTPUT = "\x00tuple", "\x00path", "\x00float", "\x00output"
Outputs = Mapping[str, str]  # path parameter -> its tagged path, as this call spells it


class Unrecordable(NamedTuple):
    """A returned value that a record cannot hold; ``what`` names the culprit."""

    what: str


def encode_value(value: Any, outputs: Outputs) -> Any:
    """A returned value as JSON data that :func:`decode_value` turns back into it."""
    if value is None or type(value) in (bool, int):
        return value
    if isinstance(value, float):
        number = float(value)
        return number if math.isfinite(number) else {_FLOAT: repr(number)}
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) or (
        isinstance(value, os.PathLike) and isinstance(os.fspath(value), str)
    ):
        return _encode_path(value, outputs)
    if isinstance(value, (list, tuple)):
        items = [encode_value(v, outputs) for v in value]
        bad = next((i for i in items if isinstance(i, Unrecordable)), None)
        return bad or (items if isinstance(value, list) else {_TUPLE: items})
    if isinstance(value, dict) and all(type(k) is str and k[:1] != "\x00" for k in value):
        encoded = {k: encode_value(v, outputs) for k, v in value.items()}
        bad = next((v for v in encoded.values() if isinstance(v, Unrecordable)), None)
        return bad or encoded
    return Unrecordable(type(value).__qualname__)


def _encode_path(value: Any, outputs: Outputs) -> Any:
    text, kind = os.fspath(value), "str" if isinstance(value, str) else "path"
    for kw, output in outputs.items():
        where = _relative(str(text), output)
        if where is not None:
            return {_OUTPUT: [kw, where, kind]}
    return str(text) if kind == "str" else {_PATH: text}


def _relative(text: str, output: str) -> str | None:
    """Where ``text`` is from ``output``: itself (""), inside it ("in/..."), beside it
    ("by/<name>"), or None."""
    separator = "/" if "://" in output else os.sep
    artifact = output.rstrip("/" + os.sep)
    if text.rstrip("/" + os.sep) == artifact:
        return ""
    if text.startswith(artifact + separator):
        return "in/" + text[len(artifact) + 1 :]
    parent, name = artifact.rsplit(separator, 1) if separator in artifact else ("", artifact)
    head, _, tail = text.rpartition(separator)
    if head == parent and tail and separator not in tail and tail != name:
        return "by/" + tail
    return None


def decode_value(value: Any, outputs: Outputs) -> Any:
    """The value :func:`encode_value` encoded, its output paths spelled as ``outputs`` are."""
    if isinstance(value, list):
        return [decode_value(v, outputs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == _TUPLE:
            return tuple(decode_value(v, outputs) for v in inner)
        if key == _PATH:
            from pathlib import Path

            return Path(inner)
        if key == _FLOAT:
            return float(inner)
        if key == _OUTPUT and inner[0] in outputs:
            return _decode_output(outputs[inner[0]], inner[1], inner[2])
    return {k: decode_value(v, outputs) for k, v in value.items()}


def _decode_output(output: str, where: str, kind: str) -> Any:
    url = "://" in output
    separator = "/" if url else os.sep
    artifact = output.rstrip("/" + os.sep)
    if where.startswith("in/"):
        text = artifact + separator + where[3:]
    elif where.startswith("by/"):
        parent = artifact.rsplit(separator, 1)[0] if separator in artifact else ""
        text = (parent + separator if parent else "") + where[3:]
    else:
        text = output
    if kind == "str" or url:
        return text
    from pathlib import Path

    return Path(text)
