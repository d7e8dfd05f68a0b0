"""Sweeps from the shell: the names include_args gives, config files, diff, and pruning
per config, as a user drives them between scripts, notebooks and the command line."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo, missing

from taggedartifacts import Artifact, versions
from taggedartifacts._cli import main
from taggedartifacts._records import record_path

CONFIG = {"lr": 0.1, "model": {"depth": 3}}


def cli(where: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``taggedartifacts ARGS`` run in ``where``: exit status, stdout, stderr."""
    before = os.getcwd()
    os.chdir(where)
    try:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
    finally:
        os.chdir(before)
    return code, out, err


def trainer(repo: Repo, config: dict[str, Any] = CONFIG, **options: Any) -> Any:
    @Artifact("outpath", config, include_args=["seed", "data"], repo=repo.path, **options)
    def train(data: str, seed: int, outpath: Path) -> Path:
        outpath.write_text(f"trained on {data} with seed {seed}")
        return outpath

    return train


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("data/x.csv", "a,b\n1,2\n")
    repo.write("notebooks/.keep", "")
    repo.commit("data and notebooks")
    return repo


def test_a_path_argument_names_the_same_from_any_directory(
    project: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    train = trainer(project)
    monkeypatch.chdir(project.path)
    from_root = train("data/x.csv", 3, outpath=Path("out/model.txt").absolute())
    monkeypatch.chdir(project.path / "notebooks")
    from_notebook = train("../data/x.csv", 3, outpath=project.path / "out/model.txt")
    absolute = train(str(project.path / "data/x.csv"), 3, outpath=project.path / "out/model.txt")
    assert from_root == from_notebook == absolute
    other = train("../data/x.csv", 4, outpath=project.path / "out/model.txt")
    assert other != from_root  # the seed is in the name


def test_tag_with_arg_prints_the_name_a_call_with_include_args_writes(
    project: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    made = trainer(project)("data/x.csv", 3, outpath=project.path / "out/model.txt")
    config = json.dumps(CONFIG)
    for where, data in [
        (project.path, "data/x.csv"),
        (project.path / "notebooks", "../data/x.csv"),
    ]:
        code, out, err = cli(
            where, "tag", "out/model.txt", "--config", config, "--arg", f"data={data}",
            "--arg", "seed=3", capsys=capsys,
        )  # fmt: skip
        assert (code, err) == (0, "")
        assert os.path.basename(out.strip()) == made.name
    code, out, _ = cli(
        project.path, "tag", "out/model.txt", "--config", config, "--arg", "data=data/x.csv",
        "--arg", 'seed="3"', capsys=capsys,
    )  # fmt: skip
    assert os.path.basename(out.strip()) != made.name  # the string "3" is not the number 3


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cfg.yaml", "lr: 0.1\nmodel:\n  depth: 3\n"),
        ("cfg.yml", "{lr: 0.1, model: {depth: 3}}\n"),
        ("cfg.toml", "lr = 0.1\n[model]\ndepth = 3\n"),
        ("cfg.json", json.dumps(CONFIG)),
    ],
)
def test_a_config_file_names_as_the_same_config_in_json(
    repo: Repo, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    if name.endswith((".yaml", ".yml")):
        pytest.importorskip("yaml", reason=missing("PyYAML"))
    if name.endswith(".toml") and sys.version_info < (3, 11):
        pytest.importorskip("tomli", reason=missing("tomli"))
    (repo.path / name).write_text(text)
    _, inline, _ = cli(repo.path, "tag", "x.png", "--config", json.dumps(CONFIG), capsys=capsys)
    code, from_file, err = cli(repo.path, "tag", "x.png", "--config", "@" + name, capsys=capsys)
    assert (code, err) == (0, "")
    assert from_file == inline


def test_an_argument_read_from_a_file(
    project: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    @Artifact("outpath", include_args=["schedule"], repo=project.path)
    def fit(schedule: dict[str, Any], outpath: Path) -> None:
        outpath.write_text("fit")

    monkeypatch.chdir(project.path)
    pytest.importorskip("yaml", reason=missing("PyYAML"))
    fit({"warmup": 10, "steps": [1, 2]}, outpath=project.path / "fit.txt")
    (made,) = versions(project.path / "fit.txt")
    (project.path / "schedule.yaml").write_text("warmup: 10\nsteps: [1, 2]\n")
    code, out, _ = cli(
        project.path, "tag", "fit.txt", "--arg", "schedule=@schedule.yaml", capsys=capsys
    )
    assert (code, out.strip()) == (0, made.name)


@pytest.fixture
def sweep(project: Repo, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """model.txt at two commits for two learning rates, with records; oldest first."""
    monkeypatch.chdir(project.path)
    made: dict[str, Path] = {}
    when = 1_700_000_000
    for step in ("before", "after"):
        if step == "after":
            project.write("code.py", "print('a better model')\n")
            project.commit("better model")
        for lr in (0.1, 0.2):
            train = trainer(project, {**CONFIG, "lr": lr}, provenance=True)
            path = train("data/x.csv", 3, outpath=project.path / "out/model.txt")
            when += 10
            os.utime(path, (when, when))
            made[f"{step} {lr}"] = path
    return made


def test_diff_says_whether_code_or_config_differ(
    project: Repo, sweep: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    same_code = (os.fspath(sweep["after 0.1"]), os.fspath(sweep["after 0.2"]))
    code, out, err = cli(project.path, "diff", *same_code, capsys=capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("code:    the same (commits ")
    assert "config:  lr: 0.1 -> 0.2" in out.splitlines()
    code, out, _ = cli(
        project.path, "diff", os.fspath(sweep["before 0.1"]), os.fspath(sweep["after 0.1"]),
        capsys=capsys,
    )  # fmt: skip
    assert out.splitlines()[0].startswith("code:    different (commits ")
    assert "code.py" in out
    assert "config:  the same" in out.splitlines()
    code, out, _ = cli(project.path, "diff", *same_code, "--json", capsys=capsys)
    found = json.loads(out)
    assert (found["same_code"], found["config"], found["notes"]) == (
        True,
        {"lr": [0.1, 0.2]},
        [],
    )
    other = sweep["after 0.1"].with_name(sweep["after 0.1"].name.replace("model", "other"))
    shutil.copy(sweep["after 0.1"], other)  # the same version, of another path
    shutil.copy(record_path(sweep["after 0.1"]), record_path(other))
    spelled = os.path.relpath(same_code[1], project.path)  # one file, spelled two ways
    code, out, _ = cli(project.path, "diff", same_code[1], spelled, capsys=capsys)
    assert "two paths" not in out
    code, out, _ = cli(project.path, "diff", same_code[0], os.fspath(other), capsys=capsys)
    assert f"note:    they are versions of two paths: {project.path / 'out/model.txt'} and " in out


def test_ls_filters_and_shows_hashed_arguments_too(
    project: Repo, sweep: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(
        project.path, "ls", "out/model.txt", "--json", "--where", "lr=0.2", capsys=capsys
    )
    assert [row["name"] for row in json.loads(out)] == [
        sweep["after 0.2"].name,
        sweep["before 0.2"].name,
    ]
    code, out, _ = cli(
        project.path, "ls", "out/model.txt", "--json", "--where", "seed=3", capsys=capsys
    )
    assert (code, len(json.loads(out))) == (0, 4)  # a hashed argument is a key as well
    code, out, _ = cli(
        project.path, "ls", "out/model.txt", "--json", "--where", "seed=4", capsys=capsys
    )
    assert code == 1
    code, out, _ = cli(project.path, "ls", "out/model.txt", "--config-columns", capsys=capsys)
    header = out.splitlines()[0].split()
    assert (code, "lr" in header) == (0, True)
    assert "seed" not in header  # only what differs gets a column


def test_prune_keep_per_config_keeps_the_newest_of_each_config(
    project: Repo, sweep: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        project.path, "prune", "out/model.txt", "--keep-per-config", "1", "--json", capsys=capsys
    )
    assert (code, err) == (0, "")
    [result] = json.loads(out)
    removed = {row["name"] for row in result["removed"]}
    assert removed == {sweep["before 0.1"].name, sweep["before 0.2"].name}
    assert {v.name for v in versions(project.path / "out/model.txt")} == {
        sweep["after 0.1"].name,
        sweep["after 0.2"].name,
    }
    for gone in ("before 0.1", "before 0.2"):  # their records went with them
        assert not any(p.name.startswith(sweep[gone].stem) for p in sweep[gone].parent.iterdir())


def test_show_of_a_scoped_name_gives_its_code_key_and_commit(
    project: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write("src/model.py", "DEPTH = 3\n")
    head = project.commit("a model")

    @Artifact("outpath", provenance=True, repo=project.path, depends_on=["src/"])
    def save(outpath: Path) -> Path:
        outpath.write_text("scoped")
        return outpath

    monkeypatch.chdir(project.path)
    made = save(project.path / "scoped.txt")
    code, out, _ = cli(project.path, "show", made.name, "--json", capsys=capsys)
    assert code == 0
    info = json.loads(out)
    assert info["code"] == made.name.split("-")[1][len("code") :]
    assert info["provenance"]["commit"] == head
    code, text, _ = cli(project.path, "show", made.name, capsys=capsys)
    assert code == 0
    assert f"code:        {info['code']}" in text.splitlines()
    assert f"checkout:    git checkout {head} (its code, in a work tree)" in text.splitlines()


def test_a_sweep_over_a_hashed_dict_is_found_by_its_dotted_keys(
    project: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    @Artifact("outpath", {"lr": 0.1}, include_args=["cfg"], provenance=True, repo=project.path)
    def fit(cfg: dict[str, Any], outpath: Path) -> None:
        outpath.write_text(json.dumps(cfg))

    monkeypatch.chdir(project.path)
    for model, alpha in (("gbr", 0.1), ("rf", 0.1), ("gbr", 0.5)):
        fit({"model": model, "alpha": alpha}, outpath=project.path / "out/m.txt")
    code, out, _ = cli(project.path, "ls", "out/m.txt", "--config-columns", capsys=capsys)
    header = out.splitlines()[0].split()
    assert code == 0
    assert header[header.index("CONFIG") + 1 : header.index("SIZE")] == ["cfg.model", "cfg.alpha"]
    code, out, _ = cli(
        project.path, "ls", "out/m.txt", "--where", "cfg.model=gbr", "--json", capsys=capsys
    )
    found = [json.loads(Path(row["path"]).read_text()) for row in json.loads(out)]
    assert sorted(f["alpha"] for f in found) == [0.1, 0.5]
    assert {f["model"] for f in found} == {"gbr"}
    code, shown, _ = cli(project.path, "show", json.loads(out)[0]["path"], capsys=capsys)
    assert '"arguments": {' in shown
    assert '"config": {' in shown


def test_ls_shows_and_matches_values_json_cannot_hold(
    project: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    # A set and a date are kept tagged in the record; ls shows them readably, and --where
    # matches them by what they hold or by the text ls shows.
    for tags in ({"a", "b"}, {"c"}):
        config = {"tags": tags, "day": datetime.date(2024, 1, 2)}
        trainer(project, config, provenance=True)("data/x.csv", 1, outpath=project.path / "m.txt")
    code, out, _ = cli(project.path, "ls", "m.txt", "--config-columns", capsys=capsys)
    assert code == 0
    assert "\x00" not in out
    assert 'set:["a","b"]' in out
    assert 'set:["c"]' in out
    for where in ('tags=["a","b"]', 'tags=set:["a","b"]'):
        code, out, _ = cli(project.path, "ls", "m.txt", "--json", "--where", where, capsys=capsys)
        assert (code, len(json.loads(out))) == (0, 1), where
    code, out, _ = cli(
        project.path, "ls", "m.txt", "--json", "--where", "day=2024-01-02", capsys=capsys
    )
    assert (code, len(json.loads(out))) == (0, 2)


def test_a_date_and_its_text_differ_either_way_and_show_at_any_depth(
    project: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    made = [
        trainer(project, config, provenance=True)("data/x.csv", 1, outpath=project.path / "d.txt")
        for config in ({"d": [datetime.date(2024, 1, 2)]}, {"d": ["2024-01-02"]})
    ]
    for a, b in (made, made[::-1]):
        code, out, _ = cli(project.path, "diff", os.fspath(a), os.fspath(b), capsys=capsys)
        assert code == 0
        assert "config:  the same" not in out
        assert "\x00" not in out
    assert 'config:  d: ["2024-01-02"] -> ["date:\\"2024-01-02\\""]' in out
