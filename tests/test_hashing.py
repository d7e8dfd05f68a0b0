from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import os
import pathlib
import subprocess
import sys
import types
from collections import OrderedDict
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pytest
from golden import PLAIN_GOLDEN, Color, Layer, Opt
from hypothesis import given
from hypothesis import strategies as st

from taggedartifacts import UnhashableConfigError, config_hash

GOLDEN: list[tuple[str, Any, str]] = [
    *PLAIN_GOLDEN,  # the standard library's types, checked on every Python by test_interpreters
    (
        "numpy",  # changed in 0.2: NumPy scalars hash as the Python numbers they are
        {"a": np.arange(6, dtype="<f8").reshape(2, 3), "s": np.int32(7)},
        "77fce10c1dc524ff81a191884ec349dfe469d1d2644f2e5320c1551dc71b28d5",
    ),
    (
        "numpy masked",
        {"m": np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])},
        "24f92f8542e5aa08d0c9a332c6f203521a3c634489332f0802b7bcbe9280a6a6",
    ),
    (  # new in 0.2: a NumPy string is the str it is
        "numpy str",
        {"opt": np.array(["adam"])[0]},
        "3d31a9eec3fed61e31df8783d4f75d0c3632ee09924f58e57a33d6fb2d0c1b7c",
    ),
]


class _Settings:
    def __init__(self) -> None:
        self.lr = 0.1


class _Dumpable:
    """Has model_dump(), as models of pydantic's other major version do."""

    __slots__ = ()

    def model_dump(self) -> dict[str, Any]:
        return {}


class _A(NamedTuple):
    lr: float
    depth: int


class _B(NamedTuple):
    depth: float
    lr: int


@pytest.mark.parametrize(("label", "value", "digest"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_vectors(label: str, value: Any, digest: str) -> None:
    """Frozen digests: a change here would rename every artifact users already have."""
    assert config_hash(value) == digest


def test_digest_is_the_documented_encoding() -> None:
    expected = hashlib.sha256(b'taggedartifacts-config-v1\n{"b":[1,2],"lr":0.1}').hexdigest()
    assert config_hash({"lr": 0.1, "b": (1, 2)}) == expected
    array = np.arange(3.0)
    inner = hashlib.sha256(array.tobytes()).hexdigest()
    text = '{"\\u0000ndarray":["<f8",[3],"' + inner + '"]}'
    assert (
        config_hash(array)
        == hashlib.sha256(b"taggedartifacts-config-v1\n" + text.encode()).hexdigest()
    )
    masked = np.ma.array([1.0, 2.0], mask=[False, True])
    data = hashlib.sha256(np.array([1.0, 0.0]).tobytes()).hexdigest()
    mask = hashlib.sha256(np.array([False, True]).tobytes()).hexdigest()
    text = (
        '{"\\u0000masked":[{"\\u0000ndarray":["<f8",[2],"' + data + '"]},'
        '{"\\u0000ndarray":["|b1",[2],"' + mask + '"]}]}'
    )
    assert (
        config_hash(masked)
        == hashlib.sha256(b"taggedartifacts-config-v1\n" + text.encode()).hexdigest()
    )


def _documented(text: str) -> str:
    return hashlib.sha256(b"taggedartifacts-config-v1\n" + text.encode()).hexdigest()


def test_objects_with_named_fields_are_their_class_and_fields() -> None:
    # named tuples as dataclasses: the name and the fields (attrs classes and pydantic
    # models too: test_hashing_libraries.py)
    text = '{{"x":{{"\\u0000dataclass":["{}",{{"act":"relu","width":64}}]}}}}'
    assert config_hash({"x": Layer(64, "relu")}) == _documented(text.format("Layer"))
    text = '{"t":{"\\u0000timedelta":[1,3600,5]}}'
    assert config_hash({"t": datetime.timedelta(1, 3600, 5)}) == _documented(text)


def test_same_digest_in_processes_with_different_hash_seeds(tmp_path: pathlib.Path) -> None:
    script = (
        "from taggedartifacts import config_hash\n"
        "print(config_hash({'s': {'b', 'a', 'c'}, 'f': frozenset({1.5, 2}),"
        " 'd': {'z': 1, 'a': [1]}}))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "12345", "random")
    }
    assert len(digests) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"x": True}, {"x": 1}),
        ({"x": 1}, {"x": 1.0}),
        ({"x": 0}, {"x": False}),
        ({"x": None}, {"x": "None"}),
        ({"a": {"b": 1}}, {"a.b": 1}),
        ({"x": "1"}, {"x": 1}),
        ({"x": b"ab"}, {"x": "ab"}),
        ({"x": [1, 2]}, {"x": [2, 1]}),
        ({"x": {1, 2}}, {"x": [1, 2]}),
        ({"x": pathlib.PurePosixPath("a")}, {"x": "a"}),
        ({"x": 0.0}, {"x": -0.0}),
        ({"x": datetime.date(2024, 1, 2)}, {"x": "2024-01-02"}),
        ({"x": np.arange(3, dtype="<i8")}, {"x": np.arange(3, dtype="<i4")}),
        ({"x": np.zeros((2, 3))}, {"x": np.zeros((3, 2))}),
        ({"x": [[1], [2]]}, {"x": [[1, 2]]}),
        ({"\x01": 1}, {"x": {"\x01": 1}}),
        ({"n": np.int64(1)}, {"n": True}),
        ({"n": np.float64(0.5)}, {"n": np.array(0.5)}),  # a 0-d array stays an array
        (
            {"m": np.ma.array([1, 2, 3], mask=[False, True, False])},
            {"m": np.ma.array([1, 2, 3], mask=[False, False, False])},
        ),
        ({"m": np.ma.array([1, 2, 3], mask=[False, True, False])}, {"m": np.array([1, 2, 3])}),
        # named tuples by their field names: these two once hashed alike
        (_A(lr=0.1, depth=3), _B(depth=0.1, lr=3)),
        ({"x": Layer(64, "relu")}, {"x": [64, "relu"]}),
        (Opt(0.1, (1,)), dataclasses.asdict(Opt(0.1, (1,)))),  # the class's name counts
        ({"t": datetime.timedelta(seconds=1)}, {"t": datetime.timedelta(microseconds=1)}),
    ],
)
def test_different_values_differ(a: Any, b: Any) -> None:
    assert config_hash(a) != config_hash(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({"x": (1, 2)}, {"x": [1, 2]}),
        (OrderedDict(b=1, a=2), {"a": 2, "b": 1}),
        (MappingProxyType({"a": 1}), {"a": 1}),
        ({"x": {3, 1, 2}}, {"x": frozenset({2, 3, 1})}),
        (
            {"p": pathlib.PureWindowsPath(r"data\train.csv")},
            {"p": pathlib.PurePosixPath("data/train.csv")},
        ),
        ({"c": Color.RED}, {"c": "red"}),
        ({"nan": float("nan")}, {"nan": -float("nan")}),
        ({"a": np.arange(4.0).astype(">f8")}, {"a": np.arange(4.0)}),
        (
            {"a": np.arange(6.0).reshape(2, 3).T},
            {"a": np.ascontiguousarray(np.arange(6.0).reshape(2, 3).T)},
        ),
        ({"n": np.float64(0.5)}, {"n": 0.5}),  # what a sweep over np.linspace gives
        ({"n": np.float32(0.5)}, {"n": 0.5}),
        ({"n": np.int64(5)}, {"n": 5}),
        ({"n": np.bool_(True)}, {"n": True}),
        ({"s": np.str_("adam")}, {"s": "adam"}),  # what np.array(["adam"])[0] gives
        ({"b": np.bytes_(b"ab")}, {"b": b"ab"}),
        (argparse.Namespace(lr=0.1), {"lr": 0.1}),  # vars(args) and args
        (types.SimpleNamespace(lr=0.1), {"lr": 0.1}),
        (  # masked values mean nothing, whatever the data under them holds
            {"m": np.ma.array([1, 2, 3], mask=[False, True, False])},
            {"m": np.ma.array([1, 9, 3], mask=[False, True, False])},
        ),
    ],
)
def test_equal_values_agree(a: Any, b: Any) -> None:
    assert config_hash(a) == config_hash(b)


def test_optional_libraries_are_not_imported_for_plain_configs() -> None:
    script = (
        "import sys\nfrom taggedartifacts import config_hash\n"
        "config_hash({'a': [1, 2.0, {'b': None}]})\n"
        "print([m for m in ('numpy', 'omegaconf', 'pydantic', 'attrs') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _function() -> None: ...


@pytest.mark.parametrize(
    ("value", "where", "what"),
    [
        (
            {"model": {"optimizer": _function}},
            "config['model']['optimizer']",
            "objects of type function",
        ),
        ({"layers": [1, 2, object()]}, "config['layers'][2]", "objects of type object"),
        ({"fh": open(os.devnull)}, "config['fh']", "TextIOWrapper"),  # noqa: SIM115
        ({1: "a"}, "config", "keys must be str"),
        ({"m": {"\x00set": [1]}}, "config['m']", "reserved"),
        ({"s": {1, _function}}, "config['s'] (a set element)", "function"),
        ({"opt": Opt(0.1, (_function,))}, "config['opt'].layers[0]", "function"),
        ({"a": np.array([object()])}, "config['a']", "dtype object"),
        ({"r": range(3)}, "config['r']", "range"),
        ({"fh": open(os.devnull)}, "config['fh']", "pass the file's path ('/dev/null')"),  # noqa: SIM115
        ({"o": _Settings()}, "config['o']", "pass vars(x) instead"),
        ({"o": _Dumpable()}, "config['o']", "pass x.model_dump() instead"),
        ({"o": _Settings}, "config['o']", "_Settings is a class; pass an instance of it"),
    ],
)
def test_unsupported_values_name_where_they_sit(value: Any, where: str, what: str) -> None:
    with pytest.raises(UnhashableConfigError) as info:
        config_hash(value)
    assert str(info.value).startswith(where + ": ")
    assert what in str(info.value)
    assert info.value.where == where
    assert isinstance(info.value, TypeError)


def test_self_containing_values_raise_instead_of_hanging() -> None:
    loop: dict[str, Any] = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(
        UnhashableConfigError, match=r"config\['a'\]\[0\]: the value contains itself"
    ):
        config_hash(loop)


def test_shared_but_not_circular_values_are_fine() -> None:
    shared = [1, 2]
    assert config_hash({"a": shared, "b": shared}) == config_hash({"a": [1, 2], "b": [1, 2]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text().filter(lambda k: not k.startswith("\x00")), children, max_size=4
        )
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(st.text().filter(lambda k: not k.startswith("\x00")), json_values, max_size=6)
)
def test_insertion_order_never_matters(config: dict[str, Any]) -> None:
    reordered = dict(reversed(list(config.items())))
    assert config_hash(config) == config_hash(reordered)


def _typed(value: Any) -> Any:
    """A structure that is equal exactly when two JSON values mean the same config."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, list):
        return ("list", tuple(_typed(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _typed(v)) for k, v in value.items()))
    return (type(value).__name__, value)


@given(json_values, json_values)
def test_distinct_json_values_get_distinct_digests(a: Any, b: Any) -> None:
    assert (config_hash(a) == config_hash(b)) == (_typed(a) == _typed(b))


def test_a_subclass_of_str_int_or_float_hashes_as_its_value_whatever_it_says() -> None:
    class Label(str):
        def __str__(self) -> str:
            return "same"

    class Count(int):
        def __int__(self) -> int:
            return 0

    class Rate(float):
        def __float__(self) -> float:
            return 0.0

    assert config_hash({"x": Label("adam")}) == config_hash({"x": "adam"})
    assert config_hash({"x": Label("adam")}) != config_hash({"x": Label("sgd")})
    assert config_hash({"x": Count(3)}) == config_hash({"x": 3})
    assert config_hash({"x": Rate(0.5)}) == config_hash({"x": 0.5})
