"""cache=True skips work whose artifact exists; include_args puts arguments into the name."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import (
    Artifact,
    ArtifactConflictError,
    DirtyRepositoryWarning,
    InvalidArgumentError,
    TaggedArtifactsWarning,
    UnhashableConfigError,
    config_hash,
    parse,
    versions,
)

PIPELINE = """
import sys
from pathlib import Path
from taggedartifacts import Artifact

LR = float(sys.argv[2])

@Artifact("outpath", {"lr": LR}, cache=True)
def step(outpath):
    with open("calls.log", "a") as log:
        log.write("called\\n")
    Path(outpath).write_text(f"lr={LR}")
    return "computed"

print(step(outpath=sys.argv[1]))
"""


def run_pipeline(repo: Repo, lr: float) -> str:
    return subprocess.run(
        [sys.executable, "pipeline.py", "out/result.txt", str(lr)],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def calls(repo: Repo) -> int:
    log = repo.path / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_cache_hits_and_misses_across_processes(repo: Repo) -> None:
    repo.write("pipeline.py", PIPELINE)
    repo.write(".gitignore", "out/\ncalls.log\n")
    repo.commit("pipeline")
    (repo.path / "out").mkdir()

    assert run_pipeline(repo, 0.1) == "computed"
    assert run_pipeline(repo, 0.1) == "computed"  # reused: what the first run returned
    assert calls(repo) == 1  # and the function did not run
    assert run_pipeline(repo, 0.2) == "computed"  # another config misses
    assert calls(repo) == 2
    repo.write("code.py", "print('new code')\n")
    repo.commit("new code")
    assert run_pipeline(repo, 0.1) == "computed"  # a new commit misses
    assert run_pipeline(repo, 0.1) == "computed"
    assert calls(repo) == 3
    assert len(versions(repo.path / "out" / "result.txt")) == 3


def test_cache_hit_is_logged_at_info(
    repo: Repo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ran = []

    @Artifact("outpath", cache=True, repo=repo.path)
    def step(outpath: Path) -> str:
        ran.append(1)
        outpath.write_text("x")
        return "made"

    assert step(tmp_path / "a.txt") == "made"
    with caplog.at_level(logging.INFO, logger="taggedartifacts"):
        assert step(tmp_path / "a.txt") == "made"  # what the first call returned
    [record] = [r for r in caplog.records if "reusing" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert str(step.paths(tmp_path / "a.txt")["outpath"]) in record.getMessage()
    assert ran == [1]


def test_cache_needs_every_output(repo: Repo, tmp_path: Path) -> None:
    ran = []

    @Artifact(["a", "b"], cache=True, repo=repo.path)
    def step(a: Path, b: Path) -> None:
        ran.append(1)
        a.write_text("a")
        b.write_text("b")

    step(tmp_path / "a.txt", tmp_path / "b.txt")
    step.paths(tmp_path / "a.txt", tmp_path / "b.txt")["b"].unlink()  # type: ignore[union-attr]
    step(tmp_path / "a.txt", tmp_path / "b.txt")
    assert ran == [1, 1]


def test_dirty_tree_hits_only_with_the_same_fingerprint(repo: Repo, tmp_path: Path) -> None:
    ran = []

    @Artifact("outpath", cache=True, allow_dirty=True, repo=repo.path)
    def step(outpath: Path) -> None:
        ran.append(1)
        outpath.write_text("x")

    repo.write("code.py", "print('draft 1')\n")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        for _ in range(2):
            step(tmp_path / "a.txt")
    assert [w.category for w in shown] == [DirtyRepositoryWarning]  # once for this call site
    assert ran == [1]
    repo.write("code.py", "print('draft 2')\n")
    with pytest.warns(DirtyRepositoryWarning):  # another call site
        step(tmp_path / "a.txt")
    assert ran == [1, 1]


def test_include_args_puts_every_other_argument_into_the_name(repo: Repo) -> None:
    @Artifact("outpath", {"model": "mlp"}, include_args=True, repo=repo.path)
    def train(outpath: str, lr: float = 0.1, epochs: int = 3) -> str:
        return outpath

    a = train(lr=0.1, outpath="m.pkl")
    assert train(outpath="m.pkl") == a  # defaults are applied before hashing
    assert train("m.pkl", 0.1, 3) == a
    assert train(lr=0.2, outpath="m.pkl") != a
    assert train(epochs=4, outpath="m.pkl") != a
    expected = config_hash({"arguments": {"lr": 0.1, "epochs": 3}, "config": {"model": "mlp"}})
    assert parse(a).config == expected[:10]


def test_include_args_by_name_hashes_only_those(repo: Repo) -> None:
    @Artifact("outpath", include_args=("lr",), repo=repo.path)
    def train(outpath: str, lr: float, verbose: bool = False) -> str:
        return outpath

    assert train("m.pkl", 0.1) == train("m.pkl", 0.1, verbose=True)
    assert train("m.pkl", 0.1) != train("m.pkl", 0.2)


def test_without_include_args_the_name_depends_on_config_alone(repo: Repo) -> None:
    @Artifact("outpath", {"k": 1}, repo=repo.path)
    def train(outpath: str, lr: float) -> str:
        return outpath

    assert train("m.pkl", 0.1) == train("m.pkl", 0.2)
    assert parse(train("m.pkl", 0.1)).config == config_hash({"k": 1})[:10]


def test_include_args_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="include_args names 'missing'") as info:

        @Artifact("outpath", include_args=("missing",))
        def f(outpath: str, lr: float) -> None: ...

    assert isinstance(info.value, TypeError)
    with pytest.raises(InvalidArgumentError, match="path parameter"):

        @Artifact("outpath", include_args=("outpath",))
        def g(outpath: str) -> None: ...


def test_an_unhashable_argument_is_named(repo: Repo) -> None:
    @Artifact("outpath", include_args=True, repo=repo.path)
    def train(outpath: str, model: Any) -> None: ...

    with pytest.raises(
        UnhashableConfigError, match=r"^argument 'model'\['layer'\]: objects of type"
    ):
        train("m.pkl", {"layer": object()})


def test_a_hit_returns_what_the_miss_returned_with_published_paths(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = []

    @Artifact("outpath", cache=True, repo=repo.path)
    def train(outpath: Path) -> tuple[Path, dict[str, Any]]:
        ran.append(outpath)
        outpath.write_text("weights")
        (outpath.parent / (outpath.name + ".log")).write_text("log")  # a side file
        return outpath, {"acc": 0.9, "log": str(outpath) + ".log", "epochs": [1, 2]}

    first = train(Path("model.bin"))
    path, metrics = first
    assert isinstance(path, Path)
    assert not path.is_absolute()  # spelled as the caller spelled it
    assert path.read_text() == "weights"  # it exists: published, not the private path
    assert metrics["log"] == str(path) + ".log"
    assert Path(metrics["log"]).read_text() == "log"
    assert train(Path("model.bin")) == first  # a hit: the same value, the same types
    assert len(ran) == 1


def test_a_value_that_cannot_be_recorded_warns_once_and_a_hit_returns_none(
    repo: Repo, tmp_path: Path
) -> None:
    class Frame:  # like a DataFrame: no JSON form
        pass

    @Artifact("outpath", cache=True, repo=repo.path)
    def table(outpath: Path) -> Frame:
        outpath.write_text("a,b")
        return Frame()

    with pytest.warns(TaggedArtifactsWarning, match=r"table\(\): a cache hit will return None"):
        assert isinstance(table(tmp_path / "t.csv"), Frame)
    assert table(tmp_path / "t.csv") is None


def test_cache_that_wrote_nothing_says_so(repo: Repo, tmp_path: Path) -> None:
    @Artifact("outpath", cache=True, repo=repo.path)
    def lost(outpath: Path) -> None:
        (outpath.parent / "side.txt").write_text("written next to it, not at it")

    with pytest.warns(TaggedArtifactsWarning, match=r"lost\(\): cache=True, but it wrote nothing"):
        lost(tmp_path / "x.txt")
    assert (tmp_path / "side.txt").read_text().startswith("written")  # side files published


def test_a_record_of_other_full_digests_is_no_hit_and_is_never_replaced(
    repo: Repo, tmp_path: Path
) -> None:
    ran = []

    @Artifact("outpath", {"lr": 0.1}, cache=True, repo=repo.path)
    def step(outpath: Path) -> None:
        ran.append(1)
        outpath.write_text("mine")

    step(tmp_path / "a.txt")
    [made] = versions(tmp_path / "a.txt")
    record = Path(str(made.path) + ".provenance.json")
    other = json.loads(record.read_text())
    other["config_hash"] = other["config_hash"][:10] + "f" * 54  # same short name, other config
    record.write_text(json.dumps(other))
    with pytest.raises(ArtifactConflictError) as info:
        step(tmp_path / "a.txt")  # not a hit: the full digest differs; refused before it runs
    assert len(ran) == 1
    assert other["config_hash"] in str(info.value)
    assert config_hash({"lr": 0.1}) in str(info.value)
    assert Path(made.path).read_text() == "mine"  # and not replaced


def test_a_directory_at_a_tagged_file_name_is_no_hit(repo: Repo, tmp_path: Path) -> None:
    ran = []

    @Artifact("outpath", cache=True, repo=repo.path)
    def table(outpath: Path) -> None:
        ran.append(1)
        outpath.write_text("a,b")

    table(tmp_path / "t.csv")
    [made] = versions(tmp_path / "t.csv")
    Path(made.path).unlink()
    Path(made.path).mkdir()  # something else now sits at the name, with the record beside it
    with pytest.raises(IsADirectoryError):
        table(tmp_path / "t.csv")  # not a hit: the function runs (and cannot replace it)
    assert len(ran) == 2


def train_with(lr: float, outpath: str) -> str:
    Path(outpath).write_text(f"lr={lr}")
    return outpath


def test_a_partials_frozen_arguments_go_into_the_name(repo: Repo, tmp_path: Path) -> None:
    slow = Artifact("outpath", include_args=True, repo=repo.path)(
        functools.partial(train_with, 0.1)
    )
    fast = Artifact("outpath", include_args=True, repo=repo.path)(
        functools.partial(train_with, 0.2)
    )
    assert slow(str(tmp_path / "m.txt")) != fast(str(tmp_path / "m.txt"))
    assert len(versions(tmp_path / "m.txt")) == 2


def test_include_args_leaves_a_methods_self_out(repo: Repo) -> None:
    class Model:
        """An object that has no stable encoding: only its arguments describe the output."""

        @Artifact("outpath", include_args=True, repo=repo.path)
        def save(self, outpath: str, epochs: int = 3) -> str:
            return outpath

    model = Model()
    assert model.save("w.bin", epochs=3) == model.save("w.bin")
    assert model.save("w.bin", epochs=4) != model.save("w.bin")


def test_a_hit_spells_returned_paths_as_its_own_caller_did(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @Artifact("outdir", cache=True, repo=repo.path)
    def build(outdir: str) -> dict[str, Any]:
        Path(outdir).mkdir()
        (Path(outdir) / "weights.bin").write_text("w")
        Path(outdir + ".log").write_text("log")  # beside it
        return {"dir": outdir, "weights": Path(outdir) / "weights.bin", "log": outdir + ".log"}

    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    made = build("out/model")
    assert made["dir"].startswith("out/model-")
    monkeypatch.chdir(tmp_path / "sub")  # another worker, another working directory
    hit = build("../out/model")
    assert hit["dir"] == "../" + made["dir"]
    assert hit["weights"] == Path("../" + made["dir"]) / "weights.bin"
    assert Path(hit["log"]).read_text() == "log"
    absolute = build(str(tmp_path / "out" / "model"))
    assert absolute["dir"] == str(tmp_path / made["dir"])


def test_another_function_writing_the_same_path_and_config_is_a_conflict_not_a_hit(
    repo: Repo, tmp_path: Path
) -> None:
    @Artifact("outpath", {"n": 1}, repo=repo.path, cache=True)
    def train(outpath: Path) -> str:
        outpath.write_text("a model")
        return "trained"

    @Artifact("outpath", {"n": 1}, repo=repo.path, cache=True)
    def evaluate(outpath: Path) -> str:
        outpath.write_text("scores")
        return "evaluated"

    assert train(tmp_path / "out.txt") == "trained"
    with pytest.raises(ArtifactConflictError, match=r"was made by .*train\(\).*evaluate\(\)"):
        evaluate(tmp_path / "out.txt")
    [made] = tmp_path.glob("out-*.txt")
    assert made.read_text() == "a model"


def test_a_module_run_as_a_script_and_imported_is_one_function(repo: Repo) -> None:
    repo.write(
        "job.py",
        "import sys\nfrom pathlib import Path\nfrom taggedartifacts import Artifact\n\n"
        "@Artifact('outpath', {'n': 1}, cache=True)\n"
        "def build(outpath):\n    print('built')\n    Path(outpath).write_text('x')\n\n"
        "if __name__ == '__main__':\n    build('out/result.txt')\n",
    )
    repo.write(".gitignore", "out/\n__pycache__/\n")
    repo.commit("job")
    run = [sys.executable, "job.py"]
    imported = [sys.executable, "-c", "import job; job.build('out/result.txt')"]
    first = subprocess.run(run, cwd=repo.path, capture_output=True, text=True, check=True)
    again = subprocess.run(imported, cwd=repo.path, capture_output=True, text=True, check=True)
    assert (first.stdout, again.stdout) == ("built\n", "")  # the second call was a hit
