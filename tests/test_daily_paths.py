"""Daily paths that used to crash or mislead: a closed pipe, option order, one JSON shape
per thing, slices of versions, and what a cache hit hands back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import Artifact, VersionList, versions
from taggedartifacts._cli import main


def command(repo: Repo, *args: str) -> tuple[int, str, str]:
    """``taggedartifacts ARGS`` in-process, in the repository."""
    before = os.getcwd()
    os.chdir(repo.path)
    try:
        out, err = sys.stdout, sys.stderr
        import io

        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        try:
            code = main(list(args))
            return code, sys.stdout.getvalue(), sys.stderr.getvalue()
        finally:
            sys.stdout, sys.stderr = out, err
    finally:
        os.chdir(before)


@pytest.fixture
def many(repo: Repo) -> Path:
    """out/loss.png in 3,000 versions: more than a pipe holds when listed."""
    out = repo.path / "out"
    out.mkdir()
    commit = repo.head()[:7]
    for i in range(3000):
        (out / f"loss-{commit}-{i:010x}.png").write_bytes(b"")
    return out / "loss.png"


def test_a_reader_that_stops_early_ends_the_listing_quietly(repo: Repo, many: Path) -> None:
    script = shutil.which("taggedartifacts", path=os.path.dirname(sys.executable))
    assert script is not None, "the console script is not installed"
    for listing in (
        f"'{script}' ls out/loss.png",
        f"'{sys.executable}' -m taggedartifacts ls out/loss.png",
    ):
        result = subprocess.run(
            ["bash", "-c", f'{listing} | head -n 1; echo "status ${{PIPESTATUS[0]}}"'],
            cwd=repo.path,
            capture_output=True,
            text=True,
        )
        assert result.stderr == ""  # no "[Errno 32] Broken pipe", no traceback
        header, status = result.stdout.splitlines()
        assert header.startswith("PATH ")
        assert status in ("status 0", "status 141")  # done, or ended by SIGPIPE as git is


def test_depends_on_before_the_path_takes_one_path(repo: Repo) -> None:
    repo.write("src/model.py", "DEPTH = 3\n")
    repo.commit("a model")
    after = command(repo, "tag", "out/x.png", "--depends-on", "src/")
    before = command(repo, "tag", "--depends-on", "src/", "out/x.png")
    assert before == after
    assert before[1].startswith("out/x-code")
    two = command(repo, "tag", "--depends-on", "src/", "--depends-on", "code.py", "out/x.png")
    assert two[0] == 0
    assert two[1] != before[1]  # code.py is in this scope too


def test_one_json_shape_for_a_version_in_ls_show_and_latest(repo: Repo) -> None:
    @Artifact("outpath", {"lr": 0.1}, provenance=True, repo=repo.path)
    def save(outpath: Path) -> Path:
        outpath.write_text("data")
        return outpath

    made = save(repo.path / "out" / "loss.png")
    code, listed, _ = command(repo, "ls", "out/loss.png", "--json")
    [row] = json.loads(listed)
    shown = json.loads(command(repo, "show", f"out/{made.name}", "--json")[1])
    latest = json.loads(
        command(repo, "latest", "out/loss.png", "--config", '{"lr": 0.1}', "--json")[1]
    )
    assert code == 0
    assert latest == row
    assert shown.pop("provenance")["config"] == {"lr": 0.1}
    assert shown == row  # the same keys, in the same order, with the same values
    assert list(row) == [
        "path", "name", "untagged", "commit", "code", "relation", "commit_date", "subject",
        "dirty", "diff", "config", "size", "modified",
    ]  # fmt: skip
    tagged = json.loads(
        command(repo, "tag", "out/loss.png", "--config", '{"lr": 0.1}', "--json")[1]
    )
    assert (tagged["path"], tagged["config_hash"][:10]) == (f"out/{made.name}", row["config"])


def test_a_slice_of_versions_is_still_a_version_list(repo: Repo, many: Path) -> None:
    found = versions(many)
    first = found[:5]
    assert isinstance(first, VersionList)
    assert list(first) == list(found)[:5]
    assert "5 tagged versions of" in repr(first)
    assert "<table" in first._repr_html_()
    assert found[0] == first[0]
    assert found[-1] == list(found)[-1]


def test_a_cache_hit_returns_a_dict_in_the_order_the_call_made_it(repo: Repo) -> None:
    @Artifact("outpath", cache=True, repo=repo.path)
    def fit(outpath: Path) -> dict[str, Any]:
        outpath.write_text("fit")
        return {"zeta": 1, "alpha": {"y": 2, "b": 3}, "mid": [3, 1]}

    made = fit(repo.path / "fit.txt")
    hit = fit(repo.path / "fit.txt")
    assert hit == made
    assert list(hit) == ["zeta", "alpha", "mid"]
    assert list(hit["alpha"]) == ["y", "b"]


class FakeKernelShell:
    """What a Jupyter kernel's shell shows the library: a kernel, and no notebook path."""

    def __init__(self) -> None:
        self.kernel = object()
        self.user_ns: dict[str, Any] = {}


def test_a_kernel_with_no_notebook_known_says_so_once_even_when_the_call_fails(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from taggedartifacts import TaggedArtifactsWarning, _notebook

    shell = FakeKernelShell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setattr(_notebook, "_UNKNOWN_SAID", [])

    @Artifact("outpath", repo=repo.path)
    def broken(outpath: Path) -> None:
        raise RuntimeError("a bug in the cell")

    unknown = "the notebook this kernel runs is not known"
    with pytest.warns(TaggedArtifactsWarning, match=unknown), pytest.raises(RuntimeError):
        broken(repo.path / "out.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once: the second call is quiet
        with pytest.raises(RuntimeError):
            broken(repo.path / "out.txt")
