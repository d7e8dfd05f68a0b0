"""The command line, driven in-process through main(argv) in throwaway repositories."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import Repo, missing

from taggedartifacts import Artifact, TaggedArtifactsWarning, __version__
from taggedartifacts._arguments import parser
from taggedartifacts._cli import main


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``taggedartifacts ARGS`` in the repository's directory, as a user's shell would."""

    def run(repo: Repo, *args: str) -> Result:
        monkeypatch.chdir(repo.path)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def test_the_installed_command_and_the_module_both_run(repo: Repo) -> None:
    script = shutil.which("taggedartifacts", path=os.path.dirname(sys.executable))
    assert script is not None, "the console script is not installed"
    for command in ([script], [sys.executable, "-m", "taggedartifacts"]):
        result = subprocess.run(
            [*command, "tag", "a.png"], cwd=repo.path, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == decorator_name(repo, "a.png", {}) + "\n"


def test_version(repo: Repo, cli: Cli) -> None:
    assert cli(repo, "--version") == (0, f"taggedartifacts {__version__}\n", "")


def test_help_shows_examples_that_parse_and_the_exit_codes(repo: Repo, cli: Cli) -> None:
    result = cli(repo, "--help")
    assert result.returncode == 0
    epilog = result.stdout.split("examples:\n", 1)[1]
    examples = re.findall(r"^  (taggedartifacts .*)$", epilog, flags=re.M)
    examples += re.findall(r"\$\((taggedartifacts [^)]*)\)", epilog)
    assert len(examples) >= 5
    (repo.path / "config.json").write_text('{"lr": 0.1}')  # what an example names
    for example in examples:
        parser().parse_args(shlex.split(example)[1:])  # exits 2 if an example went stale
    assert "exit status:\n  0  success\n  1  " in result.stdout
    assert "\n  2  a usage error" in result.stdout


def help_entries(text: str) -> dict[str, bool]:
    """Each argument of a --help text, and whether it has a help text."""
    entries = {}
    for section in re.findall(r"^(?:positional arguments|options):\n((?:  .*\n)+)", text, re.M):
        lines = section.splitlines()
        for i, line in enumerate(lines):
            if re.match(r"  \S", line):
                name, _, help_text = line.strip().partition("  ")
                continued = i + 1 < len(lines) and lines[i + 1].startswith(" " * 8)
                entries[name] = bool(help_text.strip()) or continued
    return entries


@pytest.mark.parametrize("command", ["tag", "latest", "ls", "show", "prune"])
def test_every_argument_of_every_command_has_help(repo: Repo, cli: Cli, command: str) -> None:
    result = cli(repo, command, "--help")
    assert result.returncode == 0
    entries = help_entries(result.stdout)
    assert "PATH" in entries or "FILE" in entries
    assert {name for name, has_help in entries.items() if not has_help} == set()


def decorator_name(repo: Repo, path: str, config: dict[str, object], **options: Any) -> str:
    @Artifact("out", config, repo=repo.path, **options)
    def name(out: str) -> str:
        return out

    return name(path)


def test_tag_prints_what_the_decorator_uses(repo: Repo, cli: Cli) -> None:
    result = cli(repo, "tag", "plots/loss.png", "--config", '{"lr": 0.1, "layers": [64, 64]}')
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout
        == decorator_name(repo, "plots/loss.png", {"lr": 0.1, "layers": [64, 64]}) + "\n"
    )
    (repo.path / "cfg.json").write_text('{"lr": 0.1, "layers": [64, 64]}')
    assert cli(repo, "tag", "plots/loss.png", "--config", "@cfg.json").stdout == result.stdout


def test_tag_refuses_a_tagged_name_and_an_argument_given_twice(repo: Repo, cli: Cli) -> None:
    tagged = cli(repo, "tag", "plots/loss.png").stdout.strip()
    again = cli(repo, "tag", tagged)  # a name tag printed, given back to it
    assert (again.returncode, again.stdout) == (2, "")
    assert f"{tagged} is tagged already; give the path it was made from, plots/loss.png" in (
        again.stderr
    )
    missing = cli(repo, "verify", "plots/nothing.png")  # said as git says it: no errno
    assert missing.stderr == "taggedartifacts: error: plots/nothing.png: no such tagged version\n"
    slurm = cli(repo, "tag", "slurm-4567890-1700000000.out")  # of that shape, not tagged now
    assert slurm.stdout == decorator_name(repo, "slurm-4567890-1700000000.out", {}) + "\n"
    repo.write("code.py", "print('edited')\n")  # a usage error comes before git's verdict
    twice = cli(repo, "tag", "model.bin", "--arg", "lr=0.1", "--arg", "lr=0.2")
    assert (twice.returncode, twice.stdout) == (2, "")
    assert "--arg lr= is given more than once" in twice.stderr


def test_tag_on_a_dirty_tree(repo: Repo, cli: Cli) -> None:
    repo.write("code.py", "print('edited')\n")
    refused = cli(repo, "tag", "a.csv")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "uncommitted changes (code.py)" in refused.stderr
    assert "--allow-dirty" in refused.stderr
    allowed = cli(repo, "tag", "a.csv", "--allow-dirty")
    assert allowed.returncode == 0
    with pytest.warns():
        assert allowed.stdout == decorator_name(repo, "a.csv", {}, allow_dirty=True) + "\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tag", "x", "--config", "{oops"), "argument --config: not valid JSON: Expecting"),
        (("tag", "x", "--config", "[1, 2]"), "argument --config: not an object of settings"),
        (("tag", "x", "--config", "@code.py"), "argument --config: code.py is not valid JSON"),
        (("tag", "x", "--config", "@missing.json"), "--config: there is no file missing.json"),
        (("tag", "x", "--config", "@code.py/x"), "--config: cannot read code.py/x"),
        (("latest", "x", "--config", '{"n": ' + "1" * 5000 + "}"), "write it as a JSON string"),
        (("prune", "x", "--config", "@missing.json"), "--config: there is no file missing.json"),
        (("ls", "x", "--where", "n=" + "1" * 5000), "argument --where: an integer there has"),
        (("ls", "x", "--where", "n=" + "[" * 100_000), "argument --where: n=: the value is not"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("tag",), "the following arguments are required: PATH; see taggedartifacts tag --help"),
        (("tag", "x", "--repo", "nowhere"), "argument --repo: nowhere does not exist"),
        (("ls", "x", "--repo", "code.py"), "argument --repo: code.py is not a directory"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    repo: Repo, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli(repo, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("taggedartifacts: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_config_file_that_is_not_utf8_is_a_usage_error(repo: Repo, cli: Cli) -> None:
    (repo.path / "cfg.json").write_bytes(b'{"name": "\xff"}')
    result = cli(repo, "tag", "x", "--config", "@cfg.json")
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert "cfg.json is not UTF-8 text" in result.stderr


def test_errors_name_options_not_keywords(repo: Repo, cli: Cli, outside: Path) -> None:
    nowhere = cli(Repo(outside), "tag", "x.png")
    assert nowhere.returncode == 1
    assert "run inside a git checkout, pass --repo, or set TAGGEDARTIFACTS_COMMIT" in (
        nowhere.stderr
    )
    (outside / ".git").write_text("gitdir: /nonexistent\n")
    unreadable = cli(Repo(outside), "latest", "x.png")
    assert unreadable.returncode == 1
    assert "pass --repo with a work tree git can read" in unreadable.stderr
    untracked = cli(repo, "tag", "x.png", "--depends-on", "code.py", "--depends-on", "nothing.py")
    assert untracked.returncode == 2
    assert "--depends-on names 'nothing.py', which names nothing tracked in" in untracked.stderr
    for result in (nowhere, unreadable, untracked):
        assert result.stderr.count("\n") == 1
        assert not re.search(r"(?<![-\w])(repo=|depends_on|allow_dirty)", result.stderr), result


@pytest.fixture
def history(repo: Repo, cli: Cli) -> Repo:
    """Versions of out/loss.png at an older commit, at HEAD, and at a commit git does not know."""
    first = cli(repo, "tag", "out/loss.png", "--config", '{"lr": 0.1}').stdout.strip()
    repo.write("code.py", "print('second')\n")
    repo.commit("Tune the learning rate")
    second = cli(repo, "tag", "out/loss.png", "--config", '{"lr": 0.2}').stdout.strip()
    (repo.path / "out").mkdir()
    for name, content, mtime in (
        (first, "one", 1_700_000_000),
        (second, "second!", 1_700_000_100),
        ("out/loss-0000000-0123456789.png", "?", 1_600_000_000),
        ("out/loss-curve-0000000-0123456789.png", "other stem", 1_700_000_200),
    ):
        (repo.path / name).write_text(content)
        os.utime(repo.path / name, (mtime, mtime))
    return repo


# A fixed repository (author, dates and content from conftest) gives fixed commits.
GOLDEN_LS = """\
PATH                             COMMIT   RELATION  COMMIT DATE                DIRTY  CONFIG      SIZE  MODIFIED                   SUBJECT
out/loss-f1af7e5-e595a20c49.png  f1af7e5  HEAD      2024-01-02T03:04:05+00:00  False  e595a20c49  7     2023-11-14T22:15:00+00:00  Tune the learning rate
out/loss-a78e033-21b3876c40.png  a78e033  ancestor  2024-01-02T03:04:05+00:00  False  21b3876c40  3     2023-11-14T22:13:20+00:00  initial
out/loss-0000000-0123456789.png  0000000  unknown                              False  0123456789  1     2020-09-13T12:26:40+00:00
"""  # noqa: E501 (a table is as wide as it is)


def test_ls_golden_output(history: Repo, cli: Cli) -> None:
    result = cli(history, "ls", "out/loss.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout == GOLDEN_LS


def test_ls_of_a_tagged_name_lists_its_siblings(history: Repo, cli: Cli) -> None:
    result = cli(history, "ls", "out/loss-a78e033-21b3876c40.png")
    assert result == (0, GOLDEN_LS, "")


def test_a_path_from_ls_can_be_shown(history: Repo, cli: Cli) -> None:
    first_row = cli(history, "ls", "out/loss.png").stdout.splitlines()[1]
    shown = cli(history, "show", first_row.split()[0])
    assert shown.returncode == 0, shown.stderr
    assert "commit:      f1af7e5" in shown.stdout


def test_ls_json(history: Repo, cli: Cli) -> None:
    rows = json.loads(cli(history, "ls", "out/loss.png", "--json").stdout)
    assert [r["path"] for r in rows] == [
        "out/loss-f1af7e5-e595a20c49.png",
        "out/loss-a78e033-21b3876c40.png",
        "out/loss-0000000-0123456789.png",
    ]
    assert [r["relation"] for r in rows] == ["HEAD", "ancestor", "unknown"]
    assert rows[0]["subject"] == "Tune the learning rate"
    assert rows[0]["size"] == 7
    assert rows[2]["commit_date"] is None


def test_ls_and_show_of_missing_files_exit_1(repo: Repo, cli: Cli) -> None:
    for args in (
        ("ls", "nothing.png"),
        ("show", "x-abc1234-0123456789.png"),
        ("show", "plain.png"),
    ):
        result = cli(repo, *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith("taggedartifacts: error: ")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


def test_show_of_an_untagged_name_with_versions_points_at_ls(history: Repo, cli: Cli) -> None:
    result = cli(history, "show", "out/loss.png")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "taggedartifacts: error: out/loss.png is not a tagged name, but it has 3 versions: "
        "taggedartifacts ls out/loss.png lists them, with the paths show takes\n"
    )


def test_show(repo: Repo, cli: Cli) -> None:
    @Artifact("out", {"lr": 0.1}, provenance=True, repo=repo.path)
    def save(out: Path) -> Path:
        out.write_text("data")
        return out

    made = save(repo.path / "loss.png")
    text = cli(repo, "show", made.name)
    assert text.returncode == 0
    assert f"commit:      {made.name.split('-')[1]}" in text.stdout
    assert '"requested_path": ' in text.stdout
    info = json.loads(cli(repo, "show", made.name, "--json").stdout)
    assert info["provenance"]["commit"] == repo.head()
    assert info["untagged"] == "loss.png"
    Path(str(made) + ".provenance.json").write_text("{not json")  # a damaged record
    with warnings.catch_warnings():
        warnings.simplefilter("always", TaggedArtifactsWarning)  # shown, as outside pytest
        damaged = cli(repo, "show", made.name)
    assert "is not a record taggedartifacts wrote" in damaged.stderr
    assert "provenance:  unreadable (see the warning above)" in damaged.stdout
    assert "made without" not in damaged.stdout


SWEEP: list[dict[str, Any]] = [
    {"lr": 0.1, "model": {"depth": 3, "act": "relu"}, "tags": ["a"]},
    {"lr": 0.2, "model": {"depth": 3, "act": "relu"}, "tags": ["a"]},
    {"lr": 0.1, "model": {"depth": 5, "act": "relu"}, "tags": ["a"]},
]


@pytest.fixture
def sweep(repo: Repo) -> list[str]:
    """out/curve.png from a small sweep with provenance records (oldest first), and a newer
    version without a record; returns their paths as ls spells them."""
    made = []
    configs: list[dict[str, Any]] = [*SWEEP, {"lr": 0.3}]
    for i, config in enumerate(configs):

        @Artifact("out", config, provenance=i < len(SWEEP), repo=repo.path)
        def save(out: Path) -> Path:
            out.write_text("curve")
            return out

        path = save(repo.path / "out" / "curve.png")
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
        made.append(f"out/{path.name}")
    return made


def listed(result: Result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [row["path"] for row in json.loads(result.stdout)]


def test_ls_where_filters_by_config_values_from_records(
    repo: Repo, cli: Cli, sweep: list[str]
) -> None:
    first, second, third, unrecorded = sweep
    assert listed(cli(repo, "ls", "out/curve.png", "--json", "--where", "lr=0.1")) == [
        third,
        first,
    ]
    both = ("--where", "lr=0.1", "--where", "model.depth=5")
    assert listed(cli(repo, "ls", "out/curve.png", "--json", *both)) == [third]
    # A bare word is a string; a version without a record matches no --where.
    words = cli(repo, "ls", "out/curve.png", "--where", "model.act=relu")
    assert [line.split()[0] for line in words.stdout.splitlines()[1:]] == [third, second, first]
    assert unrecorded not in words.stdout
    assert listed(cli(repo, "ls", "out/curve.png", "--json", "--where", 'tags=["a"]')) == [
        third,
        second,
        first,
    ]


def test_ls_where_without_a_match_says_what_helps(repo: Repo, cli: Cli, sweep: list[str]) -> None:
    result = cli(repo, "ls", "out/curve.png", "--where", "lr=0.3")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "taggedartifacts: error: no version of out/curve.png matches --where lr=0.3; "
        "taggedartifacts ls out/curve.png --config-columns shows how their configs differ\n"
    )
    bad = cli(repo, "ls", "out/curve.png", "--where", "lr")
    assert (bad.returncode, bad.stderr.count("\n")) == (2, 1)
    assert "argument --where: 'lr' is not KEY=VALUE" in bad.stderr


def test_ls_where_on_versions_without_records(history: Repo, cli: Cli) -> None:
    result = cli(history, "ls", "out/loss.png", "--where", "lr=0.1")
    assert result.returncode == 1
    assert "no version has a provenance record with its config" in result.stderr
    assert "provenance=True" in result.stderr


def table(text: str) -> list[dict[str, str]]:
    """The rows of a printed table, each cell under its header (cells are padded to line up)."""
    header, *lines = text.splitlines()
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    ends = [start for start, _ in starts[1:]] + [None]
    return [
        {name: line[start:end].strip() for (start, name), end in zip(starts, ends, strict=True)}
        for line in lines
    ]


def test_ls_config_columns_show_what_differs(repo: Repo, cli: Cli, sweep: list[str]) -> None:
    result = cli(repo, "ls", "out/curve.png", "--config-columns")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[6:10] == ["CONFIG", "lr", "model.depth", "SIZE"]  # what is alike is left out
    rows = table(result.stdout)
    assert [(r["PATH"], r["lr"], r["model.depth"]) for r in rows] == [
        (sweep[3], "", ""),  # no record: no values
        (sweep[2], "0.1", "5"),
        (sweep[1], "0.2", "3"),
        (sweep[0], "0.1", "3"),
    ]
    rows = json.loads(cli(repo, "ls", "out/curve.png", "--config-columns", "--json").stdout)
    assert [r["config_values"] for r in rows] == [
        {},
        {"lr": 0.1, "model.depth": 5},
        {"lr": 0.2, "model.depth": 3},
        {"lr": 0.1, "model.depth": 3},
    ]


def test_ls_config_columns_without_records_says_so(history: Repo, cli: Cli) -> None:
    result = cli(history, "ls", "out/loss.png", "--config-columns")
    assert result.returncode == 0
    assert result.stdout == GOLDEN_LS
    assert result.stderr == (
        "taggedartifacts: note: no version has a provenance record with its config; "
        "write them with provenance=True\n"
    )


def side_commit(repo: Repo) -> str:
    """A commit git knows that is not HEAD's ancestor: an abandoned branch's."""
    repo.git("checkout", "-q", "-b", "abandoned")
    repo.git("commit", "-q", "--allow-empty", "-m", "an idea that went nowhere")  # files stay
    sha = repo.head()
    repo.git("checkout", "-q", "main")
    return sha[:7]


def test_prune_dry_run_then_for_real(history: Repo, cli: Cli) -> None:
    other = history.path / "out" / f"loss-{side_commit(history)}-0123456789.png"
    other.write_text("x")
    dry = cli(history, "prune", "out/loss.png", "--unreachable", "--dry-run")
    kept = (
        f"kept out/{other.name}: no record shows this library made it (--unrecorded removes it too)"
    )
    assert dry == (1, kept + "\n", dry.stderr)  # no record: it could be the user's own file
    dry = cli(history, "prune", "out/loss.png", "--unreachable", "--unrecorded", "--dry-run")
    assert dry == (
        0,
        f"would remove out/{other.name}\nwould free 1 byte in 1 version\n",
        "",
    )
    assert other.exists()
    real = cli(history, "prune", "out/loss.png", "--unreachable", "--unrecorded")
    assert real == (0, f"removed out/{other.name}\nfreed 1 byte in 1 version\n", "")
    assert not other.exists()
    assert (history.path / "out" / "loss-0000000-0123456789.png").exists()  # unknown: kept
    again = cli(history, "prune", "out/loss.png", "--unreachable", "--unrecorded")
    assert again == (
        1,
        "",
        "taggedartifacts: error: nothing to remove: --unreachable selects none of the "
        "3 versions of out/loss.png\n",
    )


def test_prune_keep_takes_records_along_and_nothing_else(history: Repo, cli: Cli) -> None:
    out = history.path / "out"
    (out / "loss-a78e033-21b3876c40.png.provenance.json").write_text("{}\n")
    (out / "loss.png").write_text("the user's own file")
    result = cli(history, "prune", "out/loss-f1af7e5-e595a20c49.png", "--keep", "1", "--unrecorded")
    assert result == (
        0,
        "removed out/loss-a78e033-21b3876c40.png\n"
        "removed out/loss-a78e033-21b3876c40.png.provenance.json\n"
        "removed out/loss-0000000-0123456789.png\n"
        "freed 7 bytes in 2 versions\n",
        "",
    )
    assert sorted(os.listdir(out)) == [
        "loss-curve-0000000-0123456789.png",
        "loss-f1af7e5-e595a20c49.png",
        "loss.png",
    ]


def test_prune_config_keeps_what_tag_names_now(history: Repo, cli: Cli) -> None:
    result = cli(history, "prune", "out/loss.png", "--config", '{"lr": 0.2}', "--keep", "0")
    assert result == (
        1,
        "kept out/loss-f1af7e5-e595a20c49.png: tag --config names it now\n",
        "taggedartifacts: error: nothing to remove: --config --keep 0 selects only what "
        "tag --config names now, which stays\n",
    )
    older = cli(history, "prune", "out/loss.png", "--config", '{"lr": 0.1}', "--older-than", "30",
                "--unrecorded")  # fmt: skip
    assert older.returncode == 0, older.stderr
    assert older.stdout.splitlines()[0] == "removed out/loss-a78e033-21b3876c40.png"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "say which versions to remove: --keep N, --keep-per-config N, --unreachable"),
        (("--keep", "-1"), "argument --keep: '-1' is not a count"),
        (("--older-than", "soon"), "argument --older-than: 'soon' is not a number of days"),
        (("--older-than", "nan"), "argument --older-than: 'nan' is not a number of days"),
    ],
)
def test_prune_usage_errors(history: Repo, cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli(history, "prune", "out/loss.png", *args)
    assert (result.returncode, result.stdout, result.stderr.count("\n")) == (2, "", 1)
    assert message in result.stderr
    assert len(os.listdir(history.path / "out")) == 4


def test_prune_without_versions_or_work_tree(repo: Repo, cli: Cli, outside: Path) -> None:
    none = cli(repo, "prune", "nothing.png", "--keep", "0")
    assert none == (1, "", "taggedartifacts: error: no tagged versions of nothing.png\n")
    (outside / "loss-abc1234-0123456789.png").write_text("x")
    refused = cli(repo, "prune", str(outside / "loss.png"), "--unreachable")
    assert refused.returncode == 1
    assert "no telling which versions are unreachable; pass --repo naming" in refused.stderr
    assert (outside / "loss-abc1234-0123456789.png").exists()


def test_prune_urls(repo: Repo, cli: Cli) -> None:
    fsspec = pytest.importorskip("fsspec", reason=missing("fsspec (the remote extra)"))
    root = f"/prune-{os.getpid()}-{id(repo)}/runs"
    base = "memory://" + root  # as fsspec spells what it lists
    fs = fsspec.filesystem("memory")
    sha = side_commit(repo)
    for name, data in (
        (f"loss-{sha}-0123456789.png", b"old"),
        (f"loss-{sha}-0123456789.png.provenance.json", b"{}"),
        ("loss.png", b"the user's own file"),
        (f"model-{sha}-0123456789/weights.bin", b"w" * 10),
        (f"model-{sha}-0123456789/.taggedartifacts-complete", b""),
    ):
        fs.pipe_file(f"{base}/{name}", data)
    result = cli(
        repo, "prune", f"{base}/loss.png", f"{base}/model", "--unreachable", "--unrecorded"
    )
    assert result == (
        0,
        f"removed {base}/loss-{sha}-0123456789.png\n"
        f"removed {base}/loss-{sha}-0123456789.png.provenance.json\n"
        f"removed {base}/model-{sha}-0123456789\n"
        "freed 15 bytes in 2 versions\n",
        "",
    )
    assert fs.find(root) == [f"{root}/loss.png"]
    fs.rm(root, recursive=True)
