from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taggedartifacts import InvalidPathError, NotTaggedError, Tag, parse
from taggedartifacts._tagging import split_name, split_query, tag_name, tag_path, untagged_path

C = "abc1234" + "0" * 33
H = "0123456789" + "f" * 54
D = "fedcba" + "9" * 58


@pytest.mark.parametrize(
    ("name", "clean", "dirty"),
    [
        ("loss.png", "loss-abc1234-0123456789.png", "loss-abc1234-dirtyfedcba9999-0123456789.png"),
        (
            "data.csv.gz",
            "data-abc1234-0123456789.csv.gz",
            "data-abc1234-dirtyfedcba9999-0123456789.csv.gz",
        ),
        ("my.data.v2.csv", "my.data.v2-abc1234-0123456789.csv", None),
        ("results", "results-abc1234-0123456789", "results-abc1234-dirtyfedcba9999-0123456789"),
        ("model.tar.zst", "model-abc1234-0123456789.tar.zst", None),
        ("log.gz", "log-abc1234-0123456789.gz", None),
        (".env", ".env-abc1234-0123456789", None),
        ("a-b c.é.txt", "a-b c.é-abc1234-0123456789.txt", None),
        ("run.2024-01-01", "run.2024-01-01-abc1234-0123456789", None),
        ("trailing.", "trailing.-abc1234-0123456789", None),
        ("data.zarr", "data-abc1234-0123456789.zarr", None),
        ("PHOTO.JPG", "PHOTO-abc1234-0123456789.JPG", None),
    ],
)
def test_names(name: str, clean: str, dirty: str | None) -> None:
    assert tag_name(name, commit=C, config_digest=H) == clean
    if dirty is not None:
        assert tag_name(name, commit=C, config_digest=H, fingerprint=D) == dirty
    tag = parse(clean)
    assert (tag.untagged, tag.commit, tag.config, tag.dirty, tag.diff) == (
        name,
        "abc1234",
        "0123456789",
        False,
        None,
    )


@pytest.mark.parametrize("compression", [".gz", ".bz2", ".xz", ".zst", ".lz4", ".br", ".GZ"])
def test_every_documented_compression_suffix_keeps_the_one_before_it(compression: str) -> None:
    assert tag_name(f"table.csv{compression}", commit=C, config_digest=H) == (
        f"table-abc1234-0123456789.csv{compression}"
    )
    assert tag_name("table.csv.bak", commit=C, config_digest=H) == (
        "table.csv-abc1234-0123456789.bak"  # not a compression suffix: the tag goes before it
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("plots/loss.png", "plots/loss-abc1234-0123456789.png"),
        ("/abs/dir.v1/x.txt", "/abs/dir.v1/x-abc1234-0123456789.txt"),
        ("runs/model/", "runs/model-abc1234-0123456789/"),
        ("runs/model//", "runs/model-abc1234-0123456789//"),
        ("foo.txt", "foo-abc1234-0123456789.txt"),
        ("back\\slash.txt", "back\\slash-abc1234-0123456789.txt"),  # a file name on POSIX
    ],
)
def test_only_the_last_component_changes(path: str, expected: str) -> None:
    assert tag_path(path, commit=C, config_digest=H) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            PureWindowsPath(r"C:\runs\loss.png"),
            PureWindowsPath(r"C:\runs\loss-abc1234-0123456789.png"),
        ),
        (
            PureWindowsPath(r"\\server\share\x.csv"),
            PureWindowsPath(r"\\server\share\x-abc1234-0123456789.csv"),
        ),
        (PurePosixPath("/a/b.txt"), PurePosixPath("/a/b-abc1234-0123456789.txt")),
        (Path("rel/out.npy"), Path("rel/out-abc1234-0123456789.npy")),
    ],
)
def test_pure_paths_keep_drive_share_and_type(
    path: PureWindowsPath, expected: PureWindowsPath
) -> None:
    result = tag_path(path, commit=C, config_digest=H)
    assert result == expected
    assert type(result) is type(path)
    assert parse(result).untagged == path.name


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket/runs/loss.png", "s3://bucket/runs/loss-abc1234-0123456789.png"),
        ("gs://bucket/model/", "gs://bucket/model-abc1234-0123456789/"),
        (  # the query stays after the name
            "s3://bucket/x.png?versionId=3",
            "s3://bucket/x-abc1234-0123456789.png?versionId=3",
        ),
        (  # "#" is part of a key for fsspec, not a fragment
            "s3://bucket/run#3/loss.png",
            "s3://bucket/run#3/loss-abc1234-0123456789.png",
        ),
        ("memory://b/a?b/c.txt", "memory://b/a-abc1234-0123456789?b/c.txt"),
    ],
)
def test_urls_tag_the_last_key_component(url: str, expected: str) -> None:
    assert tag_path(url, commit=C, config_digest=H) == expected
    assert parse(expected).untagged == split_query(url)[0].rstrip("/").rsplit("/", 1)[-1]


@pytest.mark.parametrize("bad", ["s3://bucket", "s3://bucket/", "s3://bucket?x=1/y.png"])
def test_urls_without_a_key_are_refused(bad: str) -> None:
    with pytest.raises(InvalidPathError, match="give a file under the bucket"):
        tag_path(bad, commit=C, config_digest=H)


def test_split_query() -> None:
    assert split_query("s3://b/x.png?versionId=1") == ("s3://b/x.png", "?versionId=1")
    assert split_query("s3://b/x#1.png") == ("s3://b/x#1.png", "")
    assert split_query("what?.png") == ("what?.png", "")  # a local file name, not a URL


@pytest.mark.parametrize("bad", ["", ".", "..", "/", "dir/..", PureWindowsPath("C:\\")])
def test_paths_without_a_name_are_refused(bad: str) -> None:
    with pytest.raises(InvalidPathError, match="names no file"):
        tag_path(bad, commit=C, config_digest=H)


@pytest.mark.parametrize(
    "name",
    ["plain.png", "loss-abc1234.png", "x-ABC1234-0123456789.png", "x-abc1234-012345678.png", ""],
)
def test_parse_refuses_untagged_names(name: str) -> None:
    with pytest.raises(NotTaggedError, match="carries no tag") as info:
        parse(name)
    assert isinstance(info.value, ValueError)


def test_parse_takes_full_paths_and_directories() -> None:
    assert parse("/x/y/runs/model-abc1234-0123456789/") == Tag(
        "model", "abc1234", False, None, "0123456789", ""
    )
    assert parse(Path("a/b-abc1234-dirtyfedcba9999-0123456789.csv.gz")).diff == "fedcba9999"


def test_names_made_before_0_2_with_a_6_digit_fingerprint_still_parse() -> None:
    tag = parse("plots/loss-abc1234-dirtyfedcba-0123456789.png")
    assert (tag.stem, tag.diff, tag.config, tag.suffix) == ("loss", "fedcba", "0123456789", ".png")
    with pytest.raises(ValueError, match="fingerprint must be at least 10"):
        tag_name("x.png", commit=C, config_digest=H, fingerprint="fedcba")


def test_parse_finds_the_last_tag_when_the_stem_looks_tagged() -> None:
    twice = tag_name(
        tag_name("x.png", commit=C, config_digest=H), commit="1" * 40, config_digest="2" * 64
    )
    tag = parse(twice)
    assert tag.commit == "1111111"
    assert tag.stem == "x-abc1234-0123456789"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("plots/loss-abc1234-0123456789.png", "plots/loss.png"),
        ("data-abc1234-dirtyfedcba9999-0123456789.csv.gz", "data.csv.gz"),
        ("runs/model-abc1234-0123456789/", "runs/model/"),
        ("s3://b/runs/loss-abc1234-0123456789.png?versionId=2", "s3://b/runs/loss.png?versionId=2"),
        ("plots/loss.png", "plots/loss.png"),
        ("plots/", "plots/"),
        (".", "."),
    ],
)
def test_untagged_path(path: str, expected: str) -> None:
    assert untagged_path(path) == expected


def test_split_name() -> None:
    assert split_name("a.tar.gz") == ("a", ".tar.gz")
    assert split_name("archive.tgz") == ("archive", ".tgz")
    assert split_name("noext") == ("noext", "")


hexes = st.text("0123456789abcdef", min_size=40, max_size=64)
stems = st.text(min_size=1).filter(
    lambda s: "/" not in s and "\x00" not in s and s not in (".", "..")
)
suffix_part = st.text(
    st.characters(blacklist_characters=".-/\x00", blacklist_categories=("Zs", "Cc")),
    min_size=1,
    max_size=5,
).filter(lambda s: not any(c.isspace() for c in s))
suffixes = st.lists(suffix_part, max_size=2).map(lambda parts: "".join("." + p for p in parts))


@given(stem=stems, suffix=suffixes, commit=hexes, config=hexes, diff=st.none() | hexes)
def test_parse_inverts_tagging(
    stem: str, suffix: str, commit: str, config: str, diff: str | None
) -> None:
    name = stem + suffix
    tagged = tag_name(name, commit=commit, config_digest=config, fingerprint=diff)
    tag = parse(tagged)
    assert tag.untagged == name
    assert (tag.commit, tag.config) == (commit[:7], config[:10])
    assert tag.diff == (diff[:10] if diff else None)
    assert tag.dirty is (diff is not None)
    assert split_name(tagged)[1] == split_name(name)[1]
