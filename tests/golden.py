"""Frozen config hashes and names that need nothing but the standard library.

test_hashing.py checks the digests (with the NumPy ones beside them); run as a script
(``python -S tests/golden.py`` with the repository on PYTHONPATH), this prints what
:func:`compute` gives as JSON, so test_interpreters.py can compare every Python it finds.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import decimal
import enum
import json
import math
import pathlib
import sys
import types
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

from taggedartifacts import config_hash, parse
from taggedartifacts._tagging import tag_name, tag_path


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Opt:
    lr: float
    layers: tuple[object, ...]


class Layer(NamedTuple):
    width: int
    act: str


PLAIN_GOLDEN: list[tuple[str, Any, str]] = [
    ("empty", {}, "c08edbf323f4915c3daa76c81bd2ca7eb0d24733ed79b528e4e384153811b31c"),
    ("lr", {"lr": 0.1}, "21b3876c401c3e4c5da5ef373ef81a1032a113b531aa2a87c7a2476ede866719"),
    (
        "nested",
        {"lr": 0.1, "layers": [64, 64], "model": {"name": "mlp", "dropout": None, "bn": True}},
        "64a541a9d7cd63663b452689de2d75b3d7120d4a3ee22cae66820a36c2b94fd5",
    ),
    ("int", {"x": 1}, "b7eda210c93129a063bf80f33a4b837e2ded684db792f4286d0a0c35e5545ab0"),
    ("float", {"x": 1.0}, "a90cfcb54636263397ae168dd58469cd41c311b2368ad4a0e873550cdc8f394f"),
    ("bool", {"x": True}, "3e59a1915afe6abf5658f7693be9f6ee6a11505cace1f4b186b8c6dd108d9cd4"),
    (
        "special floats",
        {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "negzero": -0.0},
        "c45406b51326195edcd079674ca79be70f8ac409863d080fbeba3cea8c44f315",
    ),
    (
        "unicode",
        {"name": "Zürich ✓", "key\nwith newline": "v"},
        "6e0754a81381be56c599fd1ff423c1d2ed10fec7812f851d421522ff0b131690",
    ),
    (
        "bytes set path",
        {"b": b"\x00\xff", "s": {3, 1, 2}, "p": pathlib.PurePosixPath("data/train.csv")},
        "8fa1f6212ca639b94e872962320d98f624e538baca84dfb1490d78c96025dd2e",
    ),
    (
        "date decimal enum",
        {
            "d": datetime.date(2024, 1, 2),
            "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            "m": decimal.Decimal("1.10"),
            "c": Color.RED,
        },
        "f6903c085d37a376e4563d94970e288c49587efdd7df94da1e02bf1310e20721",
    ),
    (
        "dataclass",
        {"opt": Opt(0.01, (1, 2))},
        "abf3d6dff3e4e68be287b990b6931a3a58997c0d1bfbeb4a48752a39abd7ebcd",
    ),
    ("big int", {"n": 2**100}, "d96ddf20f75209cf68a79f9ee09dac454d6f609e50123e0345325f3c864f693b"),
    (  # new in 0.2: a named tuple by its fields, as a dataclass
        "named tuple",
        {"layer": Layer(64, "relu")},
        "cb9e88e1762141caeb0fbca6135925dee0ac604b8e7940102ca2a4c8cf77bcf2",
    ),
    (  # new in 0.2: argparse's Namespace as the dict of its attributes
        "namespace",
        argparse.Namespace(lr=0.1, layers=[64, 64]),
        "0347ab87590ba0d5fe0c004b1a2edc43c12dae307b2085b1ab7c8834a77b76d9",
    ),
    (
        "simple namespace",
        {"opt": types.SimpleNamespace(name="adam", beta=0.9)},
        "4b545dfa583fc7c4b1f3622547aaf07111e3bc2a30262f080ccb5fdc734459f9",
    ),
    (
        "timedelta",
        {"timeout": datetime.timedelta(days=1, seconds=3600, microseconds=5)},
        "43d77ed40f9ee644a805c8109b5288bb30dc08145c70466187cd14c0598c0691",
    ),
]

COMMIT = "3f2a9c1" + "0" * 33
FINGERPRINT = "0cf932c73b" + "f" * 54
# (path, dirty?, the tagged path), tagged with COMMIT and the hash of the "nested" config.
GOLDEN_PATHS: list[tuple[str | PurePath, bool, str]] = [
    ("plots/loss.png", False, "plots/loss-3f2a9c1-64a541a9d7.png"),
    ("data.csv.gz", False, "data-3f2a9c1-64a541a9d7.csv.gz"),
    ("my.data.v2.csv", False, "my.data.v2-3f2a9c1-64a541a9d7.csv"),
    ("results", False, "results-3f2a9c1-64a541a9d7"),
    ("runs/model/", False, "runs/model-3f2a9c1-64a541a9d7/"),
    ("run.2024-01-01", False, "run.2024-01-01-3f2a9c1-64a541a9d7"),
    ("a-b c.é.txt", False, "a-b c.é-3f2a9c1-64a541a9d7.txt"),
    ("draft.png", True, "draft-3f2a9c1-dirty0cf932c73b-64a541a9d7.png"),
    ("s3://bucket/x.png?versionId=3", False, "s3://bucket/x-3f2a9c1-64a541a9d7.png?versionId=3"),
    (PurePosixPath("/a/b.tar.zst"), True, "/a/b-3f2a9c1-dirty0cf932c73b-64a541a9d7.tar.zst"),
    (PureWindowsPath(r"C:\runs\loss.png"), False, r"C:\runs\loss-3f2a9c1-64a541a9d7.png"),
    (PureWindowsPath(r"\\server\share\x.csv"), False, r"\\server\share\x-3f2a9c1-64a541a9d7.csv"),
]


def compute() -> dict[str, Any]:
    """Every golden config hash, and each golden path tagged, parsed and tagged by name."""
    digests = {label: config_hash(value) for label, value, _ in PLAIN_GOLDEN}
    names = []
    for path, dirty, _ in GOLDEN_PATHS:
        fingerprint = FINGERPRINT if dirty else None
        tagged = tag_path(
            path, commit=COMMIT, config_digest=digests["nested"], fingerprint=fingerprint
        )
        name = path.name if isinstance(path, PurePath) else parse(tagged).untagged
        names.append(
            {
                "path": str(tagged),
                "type": type(tagged).__name__,
                "tag_name": tag_name(
                    name, commit=COMMIT, config_digest=digests["nested"], fingerprint=fingerprint
                ),
                "parse": list(parse(tagged)),
            }
        )
    return {"config_hash": digests, "names": names}


if __name__ == "__main__":
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    print(json.dumps({"version": version, **compute()}))
