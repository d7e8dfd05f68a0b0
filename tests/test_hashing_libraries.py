"""config_hash on the config objects of other libraries: Hydra's OmegaConf, pydantic 2, attrs.

None of them is needed to use taggedartifacts; they are in the test extra, and without
them this module is skipped (test_hashing.py holds everything else about config_hash).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from conftest import missing

for _name in ("omegaconf", "pydantic", "attrs"):
    pytest.importorskip(_name, reason=missing(_name))

import attrs  # noqa: E402  (after the skips: typed imports for mypy)
import pydantic  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from taggedartifacts import UnhashableConfigError, config_hash  # noqa: E402


class Train(pydantic.BaseModel):
    lr: float
    layers: list[int]


@attrs.define
class Sched:
    warmup: int
    kind: str


GOLDEN: list[tuple[str, Any, str]] = [
    (
        "pydantic",
        {"train": Train(lr=0.1, layers=[64, 64])},
        "051725ead325db5406ede5754749c4ea54a6ca9c417d8f8bf09ca69c3f3d5309",
    ),
    (
        "attrs",
        {"sched": Sched(100, "cosine")},
        "008cf8d9409604a8fb1b334c7694618f7d95a579974ef6d06a1d6b1664f0ce4e",
    ),
    (  # a list and an interpolation, as Hydra configs hold them
        "omegaconf",
        OmegaConf.create("model:\n  layers: [64, 64]\n  width: ${model.layers[0]}\nlr: 0.1\n"),
        "5120cc556f551318cf3b91111e30b80069ffde0ea54c721c902e4796a9f4df4d",
    ),
]


@pytest.mark.parametrize(("label", "value", "digest"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_vectors(label: str, value: Any, digest: str) -> None:
    """Frozen digests: a change here would rename every artifact users already have."""
    assert config_hash(value) == digest


def _documented(text: str) -> str:
    return hashlib.sha256(b"taggedartifacts-config-v1\n" + text.encode()).hexdigest()


def test_attrs_classes_and_pydantic_models_are_their_class_and_fields() -> None:
    # as dataclasses and named tuples (test_hashing.py): the name and the fields
    assert config_hash({"s": Sched(1, "x")}) == _documented(
        '{"s":{"\\u0000dataclass":["Sched",{"kind":"x","warmup":1}]}}'
    )
    extra = pydantic.create_model("Extra", lr=(float, ...), __config__={"extra": "allow"})
    assert config_hash({"m": extra(lr=0.1, note="x")}) == _documented(
        '{"m":{"\\u0000dataclass":["Extra",{"lr":0.1,"note":"x"}]}}'
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (OmegaConf.create({"a": [1, {"b": "${a[0]}"}]}), {"a": [1, {"b": 1}]}),
        ({"l": OmegaConf.create([1, 2])}, {"l": [1, 2]}),
    ],
)
def test_an_omegaconf_config_is_the_plain_config_it_resolves_to(a: Any, b: Any) -> None:
    assert config_hash(a) == config_hash(b)


def test_a_missing_omegaconf_value_names_where_it_sits() -> None:
    # OmegaConf's own error would not say where, nor what to do
    with pytest.raises(UnhashableConfigError) as info:
        config_hash(OmegaConf.create({"model": {"lr": "???"}}))
    assert str(info.value).startswith("config['model']['lr']: ")
    assert "has no value (???); give it one" in str(info.value)
    assert info.value.where == "config['model']['lr']"
