"""Every performance target of taggedartifacts, measured next to its floor in one run.

Run: ``python benchmarks/bench.py`` (``pip install -e ".[bench]"`` adds joblib, for the
config hash comparison; without it those rows say "not measured"). It builds
throwaway repositories and directories in a temporary directory (up to 100,000
tracked files, 20,000 and 100,000 untracked ones, a 200 MB file, directories of
50,000 and 100,000 files, histories of 1,000, 10,000 and 100,000 commits written by
git fast-import), then prints one row per target, labelled with the target (``T1``
to ``T20``) and the value measured, and a summary of which targets are met. T16,
T17 and T20 have no bound: their rows are reported, never judged.

It uses the public API of taggedartifacts and git on the command line only: every
figure is one a user could measure. Times are medians of rounds in which every
variant runs once in turn, so machine noise hits a call and its floor alike; every
ratio is to a floor measured in the same run. It only measures: a missed target is
reported, never raised. A full run takes about eight minutes on a shared 2-core
machine (a fifth of it building files and histories); ``--quick`` (smaller sizes, a
1,000-commit history only, few rounds, for CI) about half a minute. Notes from runs:
benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import hashlib
import inspect
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import taggedartifacts
from taggedartifacts import (
    Artifact,
    DirtyRepositoryWarning,
    config_hash,
    git_state,
    pinned,
    versions,
)

GIT_ENV = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
# Python processes as pip installs them, with bytecode: PYTHONDONTWRITEBYTECODE would
# time the compiler at every start instead.
PY_ENV = {k: v for k, v in GIT_ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
# Floors run git as cheaply as Python can, as the library does: by its full path (a bare
# "git" makes exec try every PATH entry before it), reading one pipe.
GIT = shutil.which("git") or "git"
STATUS = (GIT, "status", "--porcelain=v2", "--untracked-files=no")
STATUS_ALL = (GIT, "status", "--porcelain=v2", "--untracked-files=all")
CONFIG = {"lr": 0.1, "layers": [64, 64], "optimizer": "adam"}
PAYLOAD = b"x" * 100  # what the writing functions write
# A time in the past for files whose stat data we set: mtimes before the index was
# written are never "racily clean" (that is git's own cost, paid by every status alike
# until an index is written a second later). It does not make a file "not recently
# modified" for the library: its digest and loaded-code caches trust a file's stat data
# only when both its mtime and its ctime are over two seconds old, and os.utime sets the
# ctime to now. Only waiting does that: see settle().
PAST = time.time() - 3600
# How long settle() waits after the last write: over git's one second and the library's
# two seconds (mtime and ctime alike).
SETTLE = 2.1


@dataclass(frozen=True)
class Sizes:
    """How big and how often: the full run, or the quick one."""

    quick: bool
    rounds: int  # interleaved rounds of the cheap measurements
    tracked: tuple[int, ...]  # T1-T3, T10, T11, T16, T17: repositories of this many files
    touched: int  # T5, T9: tracked files of the touched tree
    untracked: int  # T4: untracked 1 KB files, the judged row
    untracked_many: int  # T4: untracked 1 KB files, the rows without a target (0: none)
    crowd: int  # T6: other files in the directory an atomic call writes into
    unrelated: int  # T8: unrelated files next to the versions
    big_mb: int  # T3: the changed tracked file
    touched_rounds: int  # T5: fresh processes
    async_calls: int  # T9
    pinned_calls: int  # T12: calls per round
    memory_calls: int  # T15: calls inside pinned()
    memory_plain: int  # T15: plain calls
    child_rounds: int  # T16, T18: fresh processes per size
    histories: tuple[int, ...]  # T18, T19: repositories of this many commits on HEAD
    history_rounds: int  # T19: fresh processes per question and set of versions
    digested_mb: tuple[int, ...]  # T20: artifacts of this many MB, digested at publish


FULL = Sizes(
    quick=False,
    rounds=41,
    tracked=(100, 10_000, 100_000),
    touched=20_000,
    untracked=20_000,
    untracked_many=100_000,
    crowd=50_000,
    unrelated=100_000,
    big_mb=200,
    touched_rounds=7,
    async_calls=21,
    pinned_calls=10_000,
    memory_calls=100_000,
    memory_plain=1_000,
    child_rounds=7,
    histories=(1_000, 10_000, 100_000),
    history_rounds=3,
    digested_mb=(1, 100, 1_000),
)
QUICK = Sizes(
    quick=True,
    rounds=5,
    tracked=(100, 1_000),
    touched=2_000,
    untracked=2_000,
    untracked_many=0,
    crowd=2_000,
    unrelated=2_000,
    big_mb=20,
    touched_rounds=2,
    async_calls=5,
    pinned_calls=2_000,
    memory_calls=10_000,
    memory_plain=200,
    child_rounds=2,
    histories=(1_000,),
    history_rounds=1,
    digested_mb=(1, 10),
)


# ---------------------------------------------------------------- rows and verdicts


@dataclass(frozen=True)
class Verdict:
    number: int
    label: str
    value: str
    met: bool | None  # None: not measured


VERDICTS: list[Verdict] = []
REPORTED: list[int] = []  # targets whose rows are reported, no target judges them
EXTRAS: list[tuple[str, str]] = []  # T16: what else a call costs, printed at the end


def section(title: str) -> None:
    print(f"\n{title}", flush=True)


def row(label: str, value: str) -> None:
    """A measurement that no target judges (a floor, an absolute time)."""
    print(f"     {label:<92} {value}", flush=True)


def judge(number: int, label: str, value: str, met: bool | None) -> None:
    """A row that a target judges: its label says the target, its value what was measured."""
    verdict = "not measured" if met is None else "met" if met else "NOT MET"
    print(f"T{number:<3} {label:<92} {value:>10}  {verdict}", flush=True)
    VERDICTS.append(Verdict(number, label, value, met))


def report(number: int, label: str, value: str) -> None:
    """A row of a target that has no bound yet: its figure is reported, never judged."""
    print(f"T{number:<3} {label:<92} {value:>10}  reported", flush=True)
    if number not in REPORTED:
        REPORTED.append(number)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def sec(seconds: float) -> str:
    return f"{seconds:.3f} s"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


def at(files: int, what: str = "files") -> str:
    return f"[{files:,} {what}]"


# ---------------------------------------------------------------- timing


def timed(func: Callable[[], Any]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def medians(funcs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds of each function, run interleaved so machine noise hits all alike.

    Each round starts with the next function in turn: in a fixed order, a git status
    run right after our call measured 5 % faster than the same status run elsewhere.
    """
    times: dict[str, list[float]] = {name: [] for name in funcs}
    names = list(funcs)
    for func in funcs.values():
        func()  # warm up
    for r in range(rounds):
        turn = r % len(names)
        for name in names[turn:] + names[:turn]:
            times[name].append(timed(funcs[name]))
    return {name: statistics.median(values) for name, values in times.items()}


def run(
    cwd: Path, *command: str, env: dict[str, str] = GIT_ENV
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=GIT_ENV)


def bare(outpath: str) -> str:
    return outpath


def write_out(outpath: str) -> str:
    with open(outpath, "wb") as fh:
        fh.write(PAYLOAD)
    return outpath


async def async_bare(outpath: str) -> str:
    return outpath


# ---------------------------------------------------------------- building


def tracked_name(i: int, files: int) -> str:
    """The i-th tracked file of a repository of ``files``: the first fifth lie in src/."""
    top = "src/" if i < files // 5 else ""
    return f"{top}d{i // 1000:03}/f{i:06}.txt"


def build_repo(path: Path, files: int, big: int = 0) -> Path:
    """A repository of ``files`` small files (and ``big.bin`` of ``big`` bytes), one commit.

    fast-import writes every blob into one pack, and git checks the tree out with a
    worker per core: ``git add`` would write a loose object per file, and creating a
    file costs up to half a millisecond on a busy virtual disk.
    """
    path.mkdir(parents=True)
    git(path, "init", "-q")
    command = ["git", "-c", "core.compression=0", "fast-import", "--quiet"]
    proc = subprocess.Popen(command, cwd=path, stdin=subprocess.PIPE, env=GIT_ENV)
    if proc.stdin is None:
        raise RuntimeError("no pipe to git fast-import")
    write = proc.stdin.write
    write(b"commit refs/heads/bench\ncommitter b <b@example.com> 1700000000 +0000\ndata 5\nbench\n")
    for i in range(files):
        data = b"file %d\n" % i
        name = tracked_name(i, files).encode()
        write(b"M 100644 inline %s\ndata %d\n%s\n" % (name, len(data), data))
    if big:
        write(b"M 100644 inline big.bin\ndata %d\n" % big)
        block = bytes(range(256)) * 4096
        for start in range(0, big, len(block)):
            write(block[: big - start])
        write(b"\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed in {path}")
    git(path, "symbolic-ref", "HEAD", "refs/heads/bench")
    git(path, "-c", "checkout.workers=0", "reset", "-q", "--hard")
    return path


def create_files(directory: Path, names: Iterable[str], data: bytes = b"") -> None:
    for name in names:
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            if data:
                os.write(fd, data)
        finally:
            os.close(fd)


def settle(repos: Iterable[Path]) -> None:
    """Wait until every file written so far is "not recently modified", and give the
    repositories the index a user's own ``git status`` keeps fresh.

    Files modified in the same second as the index was written are "racily clean":
    git re-reads every one at every status until a git command rewrites the index in a
    later second. A tree built in seconds has only such files. The library trusts a
    file's stat data (and keeps its digest) only once its mtime and ctime are over two
    seconds old; a file written (or os.utime'd) since is read again at every call.
    ``os.sync()`` first: while fresh files are written back, every lstat is slower.
    """
    if hasattr(os, "sync"):
        os.sync()
    time.sleep(SETTLE)
    for repo in repos:
        git(repo, "update-index", "-q", "--refresh")


@dataclass(frozen=True)
class Trees:
    root: Path
    tracked: dict[int, Path]  # T1-T3, T10, T11, T16, T17: clean repositories by size
    small: Path  # the 100-file repository: T6, T7, T10, T12, T15, T16
    dirty: Path  # another 100-file repository, one file changed: T16
    touched: Path  # T5, T9
    big: Path  # 100 files and big.bin, changed: T3, T15
    untracked: Path  # 100 files and the untracked ones: T4
    untracked_many: Path | None  # 100 files and many more untracked ones: T4
    crowd: Path  # a directory of other files: T6
    unrelated: Path  # a directory of unrelated files and 100 versions: T8
    out: Path  # where outputs go
    histories: dict[int, History]  # T18, T19: long histories by their length


def build(root: Path, s: Sizes) -> Trees:
    tracked = {files: build_repo(root / f"repo{files}", files) for files in s.tracked}
    small = tracked[min(s.tracked)]
    trees = Trees(
        root=root,
        tracked=tracked,
        small=small,
        dirty=build_repo(root / "dirty", 100),
        touched=build_repo(root / "touched", s.touched),
        big=build_repo(root / "big", 100, big=s.big_mb << 20),
        untracked=build_repo(root / "untracked", 100),
        untracked_many=build_repo(root / "untracked-many", 100) if s.untracked_many else None,
        crowd=root / "crowd",
        unrelated=root / "unrelated",
        out=root / "out",
        histories={n: build_history(root / f"history{n}", n) for n in s.histories},
    )
    add_untracked(trees.untracked, s.untracked)
    if trees.untracked_many is not None:
        add_untracked(trees.untracked_many, s.untracked_many)
    trees.crowd.mkdir()
    create_files(trees.crowd, (f"other-{i:06}.dat" for i in range(s.crowd)))
    trees.unrelated.mkdir()
    create_files(trees.unrelated, (f"frame-{i:06}.png" for i in range(s.unrelated)))
    cfg = config_hash(CONFIG)[:10]
    create_files(trees.unrelated, (f"loss-{i:07x}-{cfg}.png" for i in range(100)), PAYLOAD)
    (trees.out / "frames").mkdir(parents=True)
    change(trees.dirty / tracked_name(99, 100), b"changed\n")
    with open(trees.big / "big.bin", "ab") as fh:  # a new size: git sees it without reading
        fh.write(b"changed\n")
    os.utime(trees.big / "big.bin", (PAST, PAST))
    # The last write: from here on, the changed and untracked files' digests are kept.
    repos = [*tracked.values(), trees.dirty, trees.touched, trees.big, trees.untracked]
    repos += [history.repo for history in trees.histories.values()]
    if trees.untracked_many is not None:
        repos.append(trees.untracked_many)
    settle(repos)
    return trees


def add_untracked(repo: Path, count: int) -> None:
    """``count`` untracked files of 1 KB, a thousand to a directory."""
    for i in range(0, count, 1000):
        (repo / f"u{i // 1000:03}").mkdir()
    names = (f"u{i // 1000:03}/u{i:06}.dat" for i in range(count))
    create_files(repo, names, b"u" * 1024)


def change(path: Path, data: bytes) -> None:
    """Modify a tracked file, its mtime in the past (see PAST); settle() before timing."""
    path.write_bytes(data)
    os.utime(path, (PAST, PAST))


# ---------------------------------------------------------------- T1, T2, T3


def bench_clean(files: int, repo: Path, rounds: int) -> None:
    import git as gitpython

    naive = gitpython.Repo(repo)
    clean = Artifact("outpath", CONFIG, repo=repo)(bare)
    private = private_status(repo)
    m = medians(
        {
            "bare": lambda: bare("x.txt"),
            "ours": lambda: clean("x.txt"),
            "floor": lambda: run(repo, *STATUS),
            "naive": lambda: (naive.head.commit.hexsha, naive.is_dirty()),
            "private": private,
            "state": lambda: git_state(repo),
        },
        rounds,
    )
    naive.close()
    ours = m["ours"] - m["bare"]
    rest = after_git(repo, rounds)
    row(f"{at(files)} floor: git status --porcelain=v2 --untracked-files=no", ms(m["floor"]))
    row(
        f"{at(files)} the same as we run git: LC_ALL=C, an index copy it may lock", ms(m["private"])
    )
    row(f"{at(files)}   git_state() alone: that status, run and parsed", ms(m["state"]))
    row(f"{at(files)}   the rest: a call in pinned(), timed right after a git status", ms(rest))
    row(f"{at(files)} clean decorated call - bare call", ms(ours))
    row(f"{at(files)} GitPython naive: head.commit.hexsha + is_dirty()", ms(m["naive"]))
    ratio = ours / m["floor"]
    judge(1, f"{at(files)} clean call / git status (target <= 1.10)", f"{ratio:.2f}", ratio <= 1.1)
    faster = m["naive"] / ours
    goal = 1.8 if files <= 100 else 1.0
    judge(
        2,
        f"{at(files)} GitPython naive / clean call (target >= {goal:.2f})",
        f"{faster:.2f}",
        faster >= goal,
    )


def after_git(repo: Path, rounds: int) -> float:
    """A decorated call inside pinned() (all of a call but reading the git state), each
    timed right after a git status has run: with the cold caches a real call has."""
    tagged = Artifact("outpath", CONFIG, repo=repo)(bare)
    times = []
    with pinned(repo):
        tagged("x.txt")
        for _ in range(rounds):
            run(repo, *STATUS)
            times.append(timed(lambda: tagged("x.txt")))
    return statistics.median(times)


def private_status(repo: Path) -> Callable[[], Any]:
    """The floor's git status as our calls run git: with LC_ALL=C (git loads no
    translations) on a private copy of the index (in the temporary directory, as the
    library's copies are), which git may lock to refresh it."""
    copy = repo.parent / f"{repo.name}.index"
    shutil.copyfile(repo / ".git" / "index", copy)
    env = {k: v for k, v in os.environ.items() if k != "GIT_OPTIONAL_LOCKS"}
    env.update(GIT_INDEX_FILE=str(copy), LC_ALL="C", LANGUAGE="C")
    return lambda: run(repo, *STATUS, env=env)


def bench_dirty_all(tracked: dict[int, Path], rounds: int) -> None:
    """A call with one tracked file changed, in each repository: all changed first, then
    one wait for all (else a call reads the file at every call, until it is two seconds
    old), then put back, with one more wait for a fresh index."""
    victims = {files: repo / tracked_name(files - 1, files) for files, repo in tracked.items()}
    originals = {files: victim.read_bytes() for files, victim in victims.items()}
    for victim in victims.values():
        change(victim, b"changed\n")
    settle(tracked.values())
    for files, repo in tracked.items():
        # A call costs milliseconds in a small repository: more rounds there (see T1).
        bench_dirty(files, repo, rounds * 5 if files <= 1_000 else rounds)
    for files, victim in victims.items():
        victim.write_bytes(originals[files])
    settle(tracked.values())


def bench_dirty(files: int, repo: Path, rounds: int) -> None:
    dirty = Artifact("outpath", CONFIG, allow_dirty=True, repo=repo)(bare)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyRepositoryWarning)
        m = medians(
            {
                "bare": lambda: bare("x.txt"),
                "ours": lambda: dirty("x.txt"),
                "floor": lambda: run(repo, *STATUS),
            },
            rounds,
        )
    ours = m["ours"] - m["bare"]
    row(f"{at(files)} floor, one file changed: one git status", ms(m["floor"]))
    row(f"{at(files)} dirty decorated call - bare call", ms(ours))
    ratio = ours / m["floor"]
    judge(3, f"{at(files)} dirty call / git status (target <= 1.10)", f"{ratio:.2f}", ratio <= 1.1)


def bench_big(repo: Path, mb: int, rounds: int) -> None:
    dirty = Artifact("outpath", CONFIG, allow_dirty=True, repo=repo)(bare)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyRepositoryWarning)
        first = timed(lambda: dirty("x.txt"))
        m = medians(
            {
                "bare": lambda: bare("x.txt"),
                "ours": lambda: dirty("x.txt"),
                "floor": lambda: run(repo, *STATUS),
            },
            rounds,
        )
    ours = m["ours"] - m["bare"]
    what = f"[changed {mb} MB tracked file, 100 others]"
    row(f"{what} first call (reads the file once)", ms(first))
    row(f"{what} floor: one git status", ms(m["floor"]))
    row(f"{what} repeated dirty call - bare call", ms(ours))
    ratio = ours / m["floor"]
    judge(3, f"{what} repeated call / git status (target <= 2.00)", f"{ratio:.2f}", ratio <= 2)


# ---------------------------------------------------------------- T4, T5


def bench_untracked(repo: Path, count: int, rounds: int, judged: bool) -> None:
    """A repeated untracked=True call reuses the whole state while git's answer, the
    loaded code and every file's stat data are unchanged: one git status listing every
    untracked file, plus one lstat per file. The first call reads every file."""
    watched = Artifact("outpath", CONFIG, untracked=True, allow_dirty=True, repo=repo)(bare)
    listed = run(repo, GIT, "ls-files", "-z", "--others").stdout.split(b"\0")
    names = [os.path.join(os.fsencode(repo), name) for name in listed if name]

    def lstats() -> None:
        for name in names:
            os.lstat(name)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyRepositoryWarning)
        first = timed(lambda: watched("x.txt"))
        m = medians(
            {
                "ours": lambda: watched("x.txt"),
                "floor": lambda: run(repo, *STATUS_ALL),
                "lstat": lstats,
            },
            rounds,
        )
    what = at(count, "untracked 1 KB files")
    ratio = m["ours"] / m["floor"]
    design = m["ours"] / (m["floor"] + m["lstat"])
    row(f"{what} floor: git status --untracked-files=all", ms(m["floor"]))
    row(f"{what}   one os.lstat per untracked file, from Python", ms(m["lstat"]))
    row(f"{what} first untracked=True call (reads every file)", ms(first))
    row(f"{what} untracked=True call, repeated", ms(m["ours"]))
    row(f"{what}   / (git status + one lstat per file) (no target)", f"{design:.2f}")
    if judged:
        judge(4, f"{what} repeated call / git status (target <= 3.00)", f"{ratio:.2f}", ratio <= 3)
    else:
        row(f"{what}   / git status (no target)", f"{ratio:.2f}")


def touch(repo: Path, files: int, when: float) -> None:
    for i in range(files):
        os.utime(repo / tracked_name(i, files), (when, when))


def bench_touched(trees: Trees, files: int, rounds: int) -> None:
    """Calls in fresh processes on a tree whose every file changed its stat data only.

    The floor runs on a copy of the same tree whose index is refreshed: its files are
    hard links to the same inodes, so one touch changes both trees alike.
    """
    repo, copy = trees.touched, trees.root / "touched-floor"
    shutil.copytree(repo, copy, copy_function=os.link)
    ours: list[list[float]] = []
    floor: list[float] = []
    for r in range(rounds):
        touch(repo, files, PAST + 60 * r)  # a new time at every round (see PAST)
        git(copy, "update-index", "-q", "--refresh")  # the floor's index only
        child = [sys.executable, __file__, "--child", "touched", str(repo), str(copy), "7"]
        out = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
        ours.append(out["ours"])
        floor += out["floor"]
    git(repo, "update-index", "-q", "--refresh")  # done: the user refreshes at last
    steady = [t for calls in ours for t in calls[2:]]
    base = statistics.median(floor)
    what = at(files, "touched files, index not refreshed")
    row(f"{what} floor: git status on a fresh index", ms(base))
    row(f"{what} call 1 in a process", ms(statistics.median(c[0] for c in ours)))
    row(f"{what} call 2", ms(statistics.median(c[1] for c in ours)))
    row(f"{what} calls 3 to 7, median", ms(statistics.median(steady)))
    row(f"{what} calls 3 to 7, slowest / floor", f"{max(steady) / base:.2f}")
    ratio = statistics.median(steady) / base
    label = f"{what} calls 3-7 / floor (target <= 1.50)"
    judge(5, label, f"{ratio:.2f}", ratio <= 1.5)


# ---------------------------------------------------------------- T6, T7, T8


def bench_atomic(trees: Trees, count: int, rounds: int) -> None:
    plain = Artifact("outpath", CONFIG, repo=trees.small)(write_out)
    atomic = Artifact("outpath", CONFIG, repo=trees.small, atomic=True)(write_out)
    atomic(str(trees.out / "warm.dat"))  # loads what staging loads, elsewhere
    first = timed(lambda: atomic(str(trees.crowd / "first.dat")))
    m = medians(
        {
            "plain": lambda: plain(str(trees.crowd / "plain.dat")),
            "atomic": lambda: atomic(str(trees.crowd / "atomic.dat")),
            "staging": lambda: stage_floor(trees.crowd),
            "status": lambda: run(trees.small, *STATUS),
        },
        rounds,
    )
    what = f"[directory of {count:,} other files]"
    row(f"{what} plain decorated call writing 100 bytes", ms(m["plain"]))
    row(f"{what} atomic=True call", ms(m["atomic"]))
    row(f"{what} file system alone: lock file, mkdir, write, rename, rmdir", ms(m["staging"]))
    # Since the check after the function (T17), an atomic call runs git status twice.
    row(f"{what} one git status (an atomic call runs a second one, see T17)", ms(m["status"]))
    rest = (m["atomic"] - m["status"]) / m["plain"]
    row(f"{what}   (atomic call - that second git status) / plain call (no target)", f"{rest:.2f}")
    ratio = m["atomic"] / m["plain"]
    judge(6, f"{what} atomic call / plain call (target <= 1.30)", f"{ratio:.2f}", ratio <= 1.3)
    EXTRAS.append(("atomic=True: extra over a plain call", us(m["atomic"] - m["plain"])))
    EXTRAS.append(
        (
            f"first atomic call into a directory of {count:,} files (sweeps it) - later ones",
            ms(first - m["atomic"]),
        )
    )


def stage_floor(directory: Path) -> None:
    """What staging asks of the file system, without the library: a lock file and a
    private directory, the output written in it and renamed into place, both removed."""
    private, lock = directory / ".floor", directory / ".floor.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    os.mkdir(private)
    write_out(str(private / "floor.dat"))
    os.replace(private / "floor.dat", directory / "floor.dat")
    os.rmdir(private)
    os.close(fd)
    os.unlink(lock)


def record_floor(path: Path) -> None:
    """What a record asks of the file system: a new temporary file, renamed over the last."""
    temporary = path.with_name(".floor.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    os.write(fd, PAYLOAD * 10)
    os.close(fd)
    os.replace(temporary, path)


CALLS = [0]


def counted_out(outpath: str) -> str:
    CALLS[0] += 1
    return write_out(outpath)


def bench_records(trees: Trees, rounds: int) -> None:
    repo, out = trees.small, trees.out
    plain = Artifact("outpath", CONFIG, repo=repo)(write_out)
    nothing = Artifact("outpath", CONFIG, repo=repo)(bare)
    recorded = Artifact("outpath", CONFIG, repo=repo, provenance=True)(write_out)
    cached = Artifact("outpath", CONFIG, repo=repo, cache=True)(counted_out)
    m = medians(
        {
            "plain": lambda: plain(str(out / "plain.dat")),
            "nothing": lambda: nothing(str(out / "nothing.dat")),
            "provenance": lambda: recorded(str(out / "recorded.dat")),
            "hit": lambda: cached(str(out / "cached.dat")),
            "record": lambda: record_floor(out / "floor.json"),
        },
        rounds,
    )
    row("[100 files] plain decorated call writing 100 bytes", ms(m["plain"]))
    row("[100 files] provenance=True call", ms(m["provenance"]))
    row(
        "[100 files] file system alone: a 1 KB temporary file renamed over the last",
        ms(m["record"]),
    )
    ratio = m["provenance"] / m["plain"]
    judge(
        7, "[100 files] provenance call / plain call (target <= 1.30)", f"{ratio:.2f}", ratio <= 1.3
    )
    EXTRAS.append(("provenance=True: extra over a plain call", us(m["provenance"] - m["plain"])))
    hits = "" if CALLS[0] == 1 else f" (but the function ran {CALLS[0]} times!)"
    EXTRAS.append((f"cache=True hit: the whole call{hits}", ms(m["hit"])))
    label = "cache=True hit: extra over a call of a function that writes nothing"
    EXTRAS.append((label, us(m["hit"] - m["nothing"])))


def bench_digest(repo: Path, out: Path, mb: int, rounds: int) -> None:
    """What a record's size and sha256 cost when a cache=True call publishes an artifact
    of ``mb`` MB: the call next to a plain call writing the same bytes, and the digest
    alone. Each call writes a new path (a miss), removed after it."""
    data = os.urandom(1 << 20) * mb

    def write_data(outpath: str) -> str:
        with open(outpath, "wb") as fh:
            fh.write(data)
        return outpath

    plain = Artifact("outpath", CONFIG, repo=repo)(write_data)
    cached = Artifact("outpath", CONFIG, repo=repo, cache=True)(write_data)
    counter = itertools.count()

    def once(call: Callable[[str], str]) -> None:
        made = Path(call(str(out / f"digest-{next(counter)}.bin")))
        for path in (made, made.with_name(made.name + ".provenance.json")):
            path.unlink(missing_ok=True)

    def digest_alone() -> None:
        digest = hashlib.sha256()
        with open(out / "digest-floor.bin", "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)

    write_data(str(out / "digest-floor.bin"))
    m = medians(
        {"plain": lambda: once(plain), "cached": lambda: once(cached), "sha256": digest_alone},
        rounds,
    )
    what = f"[{mb:,} MB artifact]"
    row(f"{what} plain decorated call writing it", ms(m["plain"]))
    row(f"{what} cache=True call (a miss): size and sha256 into the record", ms(m["cached"]))
    row(f"{what} sha256 of the file alone, read in 1 MB blocks", ms(m["sha256"]))
    report(20, f"{what} cache=True call - plain call", ms(m["cached"] - m["plain"]))
    (out / "digest-floor.bin").unlink()


def bench_versions(directory: Path, count: int, rounds: int) -> None:
    query = directory / "loss.png"
    m = medians(
        {"versions": lambda: versions(query), "listdir": lambda: os.listdir(directory)}, rounds
    )
    found = len(versions(query))
    what = f"[{found} versions, {count:,} other files]"
    row(f"{what} floor: os.listdir", ms(m["listdir"]))
    row(f"{what} versions()", ms(m["versions"]))
    ratio = m["versions"] / m["listdir"]
    judge(8, f"{what} versions() / os.listdir (target <= 3.00)", f"{ratio:.2f}", ratio <= 3)


# ---------------------------------------------------------------- T9


async def worst_gap(call: Callable[[], Awaitable[Any]]) -> float:
    """The largest gap between ticks of a 1 ms ticker task while ``call`` runs."""
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst, last = max(worst, now - last), now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    worst = 0.0
    await call()
    running = False
    await task
    return worst


async def async_gaps(repo: Path, calls: int) -> tuple[list[float], list[float]]:
    tagged = Artifact("outpath", CONFIG, repo=repo)(async_bare)
    await tagged("x.txt")  # warm up: the worker thread, the index copy
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(calls):
        ours.append(await worst_gap(lambda: tagged("x.txt")))
        floor.append(await worst_gap(lambda: asyncio.to_thread(run, repo, *STATUS)))
    return ours, floor


def bench_async(repo: Path, files: int, calls: int) -> None:
    ours, floor = asyncio.run(async_gaps(repo, calls))
    what = f"{at(files)} {calls} calls"
    row(
        f"{what}, floor: git status in asyncio.to_thread, median worst gap",
        ms(statistics.median(floor)),
    )
    row(f"{what}: largest gap between 1 ms ticks, max over the calls", ms(max(ours)))
    median = statistics.median(ours)
    stretch = "met" if median < 0.01 else "not met"
    row(f"{what}: median of worst gaps, stretch target < 10 ms: {stretch}", ms(median))
    judge(9, f"{what}: median of worst loop stalls (target < 25 ms)", ms(median), median < 0.025)


# ---------------------------------------------------------------- T10, T11, T12


def bench_cli(files: int, repo: Path, rounds: int) -> None:
    found = shutil.which("taggedartifacts", path=str(Path(sys.executable).parent))
    cli = [found] if found else [sys.executable, "-m", "taggedartifacts"]
    floor = (
        "import subprocess, taggedartifacts\n"
        f"subprocess.run({list(STATUS)!r}, stdout=subprocess.DEVNULL, check=True)\n"
    )

    def process(*command: str) -> None:
        subprocess.run(command, cwd=repo, env=PY_ENV, capture_output=True, check=True)

    m = medians(
        {
            "cli": lambda: process(*cli, "tag", "plots/x.png"),
            "floor": lambda: process(sys.executable, "-c", floor),
        },
        rounds,
    )
    row(f"{at(files)} floor: python -c 'import taggedartifacts' + one git status", ms(m["floor"]))
    row(f"{at(files)} taggedartifacts tag plots/x.png", ms(m["cli"]))
    ratio = m["cli"] / m["floor"]
    label = f"{at(files)} CLI process / floor process (target <= 1.50)"
    judge(10, label, f"{ratio:.2f}", ratio <= 1.5)


def bench_scope(files: int, repo: Path, rounds: int) -> None:
    scoped = Artifact("outpath", CONFIG, repo=repo, depends_on=["src/"])(bare)
    m = medians(
        {
            "bare": lambda: bare("x.txt"),
            "ours": lambda: scoped("x.txt"),
            "floor": lambda: run(repo, *STATUS_ALL, "--", "src/"),
        },
        rounds,
    )
    ours = m["ours"] - m["bare"]
    what = f"[{files:,} files, {files // 5:,} in src/]"
    # Untracked files inside a scope count, so git must look for them there.
    row(f"{what} floor: git status --untracked-files=all -- src/", ms(m["floor"]))
    row(f"{what} depends_on=['src/'] call - bare call", ms(ours))
    ratio = ours / m["floor"]
    judge(11, f"{what} scoped call / scoped status (target <= 1.10)", f"{ratio:.2f}", ratio <= 1.1)


PINNED_GOAL = 100e-6  # seconds a call inside pinned() may add to the bare call


def pinned_extra(
    repo: Path,
    calls: int,
    rounds: int,
    ours: Callable[[int, str], Any],
    theirs: Callable[[int, str], Any],
    paths: Callable[[str, int, int], str],
) -> float:
    """Median over rounds of the seconds a decorated call inside pinned() takes over the
    bare call: each round calls the bare function, then the decorated one, ``calls`` times,
    each call with a path never used before (as a loop writing frames does)."""
    extra = []
    for r in range(rounds):
        mine = [paths("tagged", r, i) for i in range(calls)]
        bare_paths = [paths("bare", r, i) for i in range(calls)]
        start = time.perf_counter()
        for i, path in enumerate(bare_paths):
            theirs(i, path)
        plain = time.perf_counter() - start
        with pinned(repo):
            start = time.perf_counter()
            for i, path in enumerate(mine):
                ours(i, path)
            extra.append((time.perf_counter() - start - plain) / calls)
    return statistics.median(extra)


def per_call(func: Callable[[], Any], calls: int, rounds: int) -> float:
    """Median over rounds of the seconds one call of ``func`` takes, in a loop of ``calls``."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


# A config as experiments write them: nested sections, a list, strings and numbers.
NESTED = {
    "model": {"layers": [64, 128, 256], "activation": "gelu", "dropout": 0.1, "norm": None},
    "optimizer": {"name": "adam", "lr": 3e-4, "betas": [0.9, 0.999], "weight_decay": 0.01},
    "data": {"path": "data/train.parquet", "splits": {"train": 0.8, "val": 0.1}},
    "seed": 0,
    "epochs": 20,
}


def save_frame(data: Any, step: int, outpath: str, dpi: int = 100) -> str:
    return outpath


def bench_pinned(repo: Path, out: Path, calls: int, rounds: int) -> None:
    """Calls inside pinned(): the config hashed and the arguments bound at every call.
    Two shapes: the smallest (a flat config of three values, the path alone), and the
    loop as a user writes it (a nested config of 16 values, the path by keyword among
    other arguments, one left at its default). Below each, the two steps of such a call
    that a user can time alone: config_hash of its config, and binding its arguments
    with inspect.Signature.bind, as the library does at every call."""
    small = Artifact("outpath", CONFIG, repo=repo)(bare)
    extra = pinned_extra(
        repo,
        calls,
        rounds,
        lambda i, path: small(path),
        lambda i, path: bare(path),
        lambda kind, r, i: f"{out}/small-{kind}-{r:03}-{i:07}.png",
    )
    what = f"[{calls:,} calls x {rounds}] pinned(), new path each call"
    label = f"{what}: call - bare (target <= 100 us)"
    judge(12, label, us(extra), extra <= PINNED_GOAL)
    signature = inspect.signature(bare)
    pinned_parts(CONFIG, lambda: signature.bind("x.png"), calls, rounds)
    user = Artifact("outpath", NESTED, repo=repo)(save_frame)
    extra = pinned_extra(
        repo,
        calls,
        rounds,
        lambda i, path: user(None, i, outpath=path),
        lambda i, path: save_frame(None, i, outpath=path),
        lambda kind, r, i: f"{out}/user-{kind}-{r:03}-{i:07}.png",
    )
    label = "  the same, a nested config of 16 values, save(data, i, outpath=...) (<= 100 us)"
    judge(12, label, us(extra), extra <= PINNED_GOAL)
    nested_signature = inspect.signature(save_frame)
    pinned_parts(NESTED, lambda: nested_signature.bind(None, 1, outpath="x.png"), calls, rounds)


def pinned_parts(config: Any, bind: Callable[[], Any], calls: int, rounds: int) -> None:
    """Two steps of a call timed alone, in loops a tenth as long as the calls'."""
    row(
        "    of which config_hash(config), called alone",
        us(per_call(lambda: config_hash(config), calls // 10, rounds)),
    )
    row(
        "    of which inspect.Signature.bind of its arguments, alone",
        us(per_call(bind, calls // 10, rounds)),
    )


# ---------------------------------------------------------------- T13


def hash_shapes() -> dict[str, Any]:
    flat = {f"key{i}": i * 0.5 for i in range(10)}
    leaves = {
        f"k{i}": {"lr": i * 1e-3, "depth": i % 7, "act": "relu", "on": i % 2 == 0}
        for i in range(1000)
    }
    records = {
        "rows": [{"id": i, "x": i * 0.25, "label": f"r{i}", "ok": True} for i in range(10_000)]
    }
    mixed = {
        "model": {"layers": [64, 128, 256], "act": "gelu", "dropout": 0.1, "norm": None},
        "data": {
            "paths": [f"/data/part-{i:04}.parquet" for i in range(200)],
            "splits": {"train": 0.8, "val": 0.1, "test": 0.1},
        },
        "sweep": [
            {
                "lr": 10 ** -(i % 5),
                "tags": ["baseline", f"seed{i}"],
                "optimizer": {"name": "adam", "betas": [0.9, 0.999], "eps": 1e-8},
                "schedule": [{"epoch": e, "factor": 0.5**e} for e in range(3)],
            }
            for i in range(300)
        ],
        "notes": "a mixed nested config: lists, small dicts, strings",
    }
    nested = {
        f"s{i}": {f"k{j}": [j, j * 0.25, f"v{j}", j % 2 == 0] for j in range(100)}
        for i in range(100)
    }
    return {
        "flat, 10 keys": flat,
        "1,000 keys, each a small dict": leaves,
        "a list of 10,000 records": records,
        "mixed nested (lists, dicts, strings)": mixed,
        "nested, 10,000 keys": nested,
    }


def json_floor(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def bench_hash(rounds: int) -> None:
    import numpy as np

    try:
        import joblib
    except ImportError:
        joblib = None
    for label, value in hash_shapes().items():
        funcs: dict[str, Callable[[], Any]] = {
            "ours": partial(config_hash, value),
            "json": partial(json_floor, value),
        }
        if joblib is not None:
            funcs["joblib"] = partial(joblib.hash, value)
        m = medians(funcs, rounds)
        row(f"[{label}] config_hash", ms(m["ours"]))
        row(f"[{label}]   json.dumps+sha256 / ours (no target)", f"{m['json'] / m['ours']:.2f}")
        judged_joblib(f"[{label}] joblib.hash / config_hash (target >= 3.00)", m, 3)
    array = np.random.default_rng(0).random(1_000_000)
    funcs = {
        "ours": lambda: config_hash(array),
        "floor": lambda: hashlib.sha256(array.data).hexdigest(),
    }
    if joblib is not None:
        funcs["joblib"] = lambda: joblib.hash(array)
    m = medians(funcs, rounds)
    row("[1e6 float64 array] config_hash", ms(m["ours"]))
    row("[1e6 float64 array]   floor: sha256 of its bytes / ours", f"{m['floor'] / m['ours']:.2f}")
    judged_joblib("[1e6 float64 array] joblib.hash / config_hash (target >= 2.00)", m, 2)


def judged_joblib(label: str, m: dict[str, float], goal: float) -> None:
    if "joblib" not in m:
        judge(13, label, "no joblib", None)
        return
    ratio = m["joblib"] / m["ours"]
    judge(13, label, f"{ratio:.2f}", ratio >= goal)


# ---------------------------------------------------------------- T14


# The package as a regular install lays it out: plain files on sys.path. A development
# checkout installed with ``pip install -e .`` adds setuptools' editable finder to every
# submodule import, which no user of a released package pays; that figure is a row too.
REGULAR = {**PY_ENV, "PYTHONPATH": str(Path(taggedartifacts.__file__).resolve().parent.parent)}


def importtime(env: dict[str, str] = REGULAR) -> float:
    """What ``python -X importtime`` says ``import taggedartifacts`` took, all included."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import taggedartifacts"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stderr
    own = [line for line in err.splitlines() if line.rstrip().endswith("| taggedartifacts")]
    return int(own[-1].split("|")[1]) / 1e6


def bench_import(root: Path, rounds: int) -> None:
    def start(code: str) -> None:
        subprocess.run([sys.executable, "-c", code], check=True, env=REGULAR)

    m = medians(
        {"sys": lambda: start("import sys"), "ours": lambda: start("import taggedartifacts")},
        rounds,
    )
    cumulative = statistics.median(importtime() for _ in range(rounds))
    editable = statistics.median(importtime(PY_ENV) for _ in range(rounds))
    row("wall clock of a process importing it minus one importing sys", ms(m["ours"] - m["sys"]))
    row("  the same, -X importtime, through pip install -e's finder (no target)", ms(editable))
    judge(
        14,
        "import taggedartifacts, -X importtime cumulative, installed (target <= 15 ms)",
        ms(cumulative),
        cumulative <= 0.015,
    )
    modules = (
        "git",
        "gitdb",
        "numpy",
        "fsspec",
        "json",
        "subprocess",
        "inspect",
        "logging",
        "asyncio",
    )
    probe = (
        f"import sys, taggedartifacts\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    )
    # A git executable first on PATH that leaves a mark: importing must not run git either.
    fake, mark = root / "fakebin", root / "git-ran"
    fake.mkdir()
    (fake / "git").write_text(f'#!/bin/sh\ntouch "{mark}"\nexit 1\n')
    (fake / "git").chmod(0o755)
    env = {**PY_ENV, "PATH": f"{fake}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("GIT_PYTHON_GIT_EXECUTABLE", None)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    loaded = out.stdout.split() + (["the git executable"] if mark.exists() else [])
    row(f"modules looked for: git (GitPython), {', '.join(modules[1:])}", "")
    judge(
        14,
        "import loads none of those modules and runs no git (target: none)",
        ", ".join(loaded) or "none",
        not loaded and out.returncode == 0,
    )


# ---------------------------------------------------------------- T15


def rss_mb() -> float:
    """This process's resident memory (its peak where /proc is missing)."""
    gc.collect()
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def bench_memory(trees: Trees, calls: int, plain_calls: int) -> None:
    tagged = Artifact("outpath", CONFIG, repo=trees.small)(bare)
    tenth = calls // 10
    with pinned(trees.small):
        for i in range(tenth):
            tagged(f"{trees.out}/frames/mem-{i:07}.png")
        before = rss_mb()
        for i in range(tenth, calls):
            tagged(f"{trees.out}/frames/mem-{i:07}.png")
        after = rss_mb()
    label = f"RSS growth from call {tenth:,} to {calls:,} in pinned(), new paths (target < 5 MB)"
    judge(15, label, f"{after - before:.2f} MB", after - before < 5)
    dirty = Artifact("outpath", CONFIG, allow_dirty=True, repo=trees.big)(bare)
    tenth = plain_calls // 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyRepositoryWarning)
        for i in range(tenth):
            dirty(f"{trees.out}/frames/dirty-{i:07}.png")
        before = rss_mb()
        for i in range(tenth, plain_calls):
            dirty(f"{trees.out}/frames/dirty-{i:07}.png")
        after = rss_mb()
    label = (
        f"RSS growth from call {tenth:,} to {plain_calls:,}, dirty, digest cached (target < 5 MB)"
    )
    judge(15, label, f"{after - before:.2f} MB", after - before < 5)
    row("RSS of this process now", f"{after:.1f} MB")


# ---------------------------------------------------------------- T16


def bench_first(trees: Trees, rounds: int) -> None:
    """The first call in a fresh process, minus its later calls (modules already loaded)."""
    for files, repo in trees.tracked.items():
        first, later = [], []
        for _ in range(rounds):
            child = [sys.executable, __file__, "--child", "first", str(repo), "6"]
            calls = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
            first.append(calls[0])
            later += calls[1:]
        one, steady = statistics.median(first), statistics.median(later)
        label = f"{at(files)} first call in a process (locate, copy the index) - later calls"
        EXTRAS.append((label, f"{ms(one - steady)} ({ms(one)} - {ms(steady)})"))


def bench_dirty_extra(trees: Trees, rounds: int) -> None:
    clean = Artifact("outpath", CONFIG, repo=trees.small)(bare)
    dirty = Artifact("outpath", CONFIG, allow_dirty=True, repo=trees.dirty)(bare)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyRepositoryWarning)
        m = medians(
            {
                "clean": lambda: clean("x.txt"),
                "dirty": lambda: dirty("x.txt"),
                "clean floor": lambda: run(trees.small, *STATUS),
                "dirty floor": lambda: run(trees.dirty, *STATUS),
            },
            rounds,
        )
    label = "[100 files] dirty call (one changed file) - clean call"
    EXTRAS.append((label, us(m["dirty"] - m["clean"])))
    label = "[100 files]   git's own share: git status on the dirty tree - on the clean one"
    EXTRAS.append((label, us(m["dirty floor"] - m["clean floor"])))


# ---------------------------------------------------------------- T17


def bench_post_run(files: int, repo: Path, out: Path, rounds: int) -> None:
    """What an atomic=True or cache=True call pays after its function returns: a second
    git status, to check that the code did not change while it ran (a plain call only
    looks at the modules loaded meanwhile). A cache hit runs no function, so it has
    nothing to check: it should cost about one git status, like a plain call."""
    where = out / f"post-{files}"
    where.mkdir()
    ran = [0]

    def counted(outpath: str) -> str:
        ran[0] += 1
        return write_out(outpath)

    plain = Artifact("outpath", CONFIG, repo=repo)(write_out)
    nothing = Artifact("outpath", CONFIG, repo=repo)(bare)
    atomic = Artifact("outpath", CONFIG, repo=repo, atomic=True)(write_out)
    cached = Artifact("outpath", CONFIG, repo=repo, cache=True)(counted)
    missed = Artifact("outpath", CONFIG, repo=repo, cache=True)(write_out)
    fresh = itertools.count()
    m = medians(
        {
            "status": lambda: run(repo, *STATUS),
            "plain": lambda: plain(str(where / "plain.dat")),
            "nothing": lambda: nothing(str(where / "nothing.dat")),
            "atomic": lambda: atomic(str(where / "atomic.dat")),
            "miss": lambda: missed(str(where / f"miss-{next(fresh):05}.dat")),
            "hit": lambda: cached(str(where / "cached.dat")),
        },
        rounds,
    )
    what = at(files)
    row(f"{what} floor: one git status", ms(m["status"]))
    row(f"{what} plain call writing 100 bytes", ms(m["plain"]))
    extra = m["atomic"] - m["plain"]
    report(17, f"{what} atomic=True call - plain call (a second git status)", ms(extra))
    row(f"{what}   that extra, in git statuses", f"{extra / m['status']:.2f}")
    report(
        17,
        f"{what} cache=True miss (a new path each call) - plain call",
        ms(m["miss"] - m["plain"]),
    )
    hits = "" if ran[0] == 1 else f" (but the function ran {ran[0]} times!)"
    report(17, f"{what} cache=True hit, the whole call{hits}", ms(m["hit"]))
    row(f"{what}   the hit / one git status", f"{m['hit'] / m['status']:.2f}")
    row(
        f"{what}   the hit - a plain call of a function that writes nothing",
        us(m["hit"] - m["nothing"]),
    )


def print_extras() -> None:
    section("T16 what else a call costs (no targets)")
    for label, value in EXTRAS:
        row(label, value)


# ---------------------------------------------------------------- T18, T19


@dataclass(frozen=True)
class History:
    """A repository with a long linear history, and versions of one path named after
    commits spread over it (``results/<kind>/loss-<commit7>-<config10>.png``)."""

    repo: Path
    commits: int  # on HEAD's branch
    kinds: dict[str, list[str]]  # "ancestors", "mixed": each version's full commit sha
    built: float  # seconds git fast-import took, checkout included


SIDE = 100  # commits of the side branch, forked halfway down the history


def build_history(path: Path, commits: int, versions_of: int = 1_000) -> History:
    """``commits`` commits on main (each changing a file under src/, every other one a file
    under docs/ too) and a side branch of SIDE commits, written by one git fast-import.

    The versions: ``versions_of`` commits of main spread over its whole history (HEAD
    left out, so that a reader has to look for the nearest one), in results/ancestors;
    in results/mixed, the same but every tenth of them replaced by a side branch commit,
    which no walk of HEAD's history meets. Commits whose 7 hex digits name more than
    one object are skipped: such a name says nothing about its commit.
    """
    started = time.perf_counter()
    path.mkdir(parents=True)
    git(path, "init", "-q")
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE, env=GIT_ENV
    )
    if proc.stdin is None:
        raise RuntimeError("no pipe to git fast-import")
    chunks: list[bytes] = []
    for i in range(1, commits + SIDE + 1):
        branch = b"side" if i > commits else b"main"
        message = b"%s commit %d" % (branch, i)
        chunks.append(
            b"commit refs/heads/%s\nmark :%d\ncommitter b <b@example.com> %d +0000\n"
            b"data %d\n%s\n" % (branch, i, 1_600_000_000 + 60 * i, len(message), message)
        )
        if i == commits + 1:
            chunks.append(b"from :%d\n" % (commits // 2))
        for name in [b"src/m%03d.py" % (i % 100)] + [b"docs/p%03d.md" % (i % 50)] * (i % 2):
            data = b"%s %d\n" % (name, i)
            chunks.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name, len(data), data))
        if len(chunks) > 4096:
            proc.stdin.write(b"".join(chunks))
            chunks.clear()
    proc.stdin.write(b"".join(chunks))
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed in {path}")
    git(path, "symbolic-ref", "HEAD", "refs/heads/main")
    git(path, "reset", "-q", "--hard")
    built = time.perf_counter() - started
    main = run(path, GIT, "rev-list", "main").stdout.decode().split()  # newest first
    side = run(path, GIT, "rev-list", "main..side").stdout.decode().split()
    every = run(path, GIT, "cat-file", "--batch-check=%(objectname)", "--batch-all-objects")
    prefixes = collections.Counter(sha[:7] for sha in every.stdout.decode().split())
    ancestors = spread([c for c in main[1:] if prefixes[c[:7]] == 1], versions_of)
    sides = [c for c in side if prefixes[c[:7]] == 1]
    mixed = [c for i, c in enumerate(ancestors) if i % 10 != 5][: len(ancestors) - len(sides)]
    kinds = {"ancestors": ancestors, "mixed": mixed + sides}
    config = config_hash({})[:10]
    for kind, shas in kinds.items():
        (path / "results" / kind).mkdir(parents=True)
        names = (f"loss-{sha[:7]}-{config}.png" for sha in shas)
        create_files(path / "results" / kind, names, PAYLOAD)
    return History(path, commits, kinds, built)


def spread(items: list[str], count: int) -> list[str]:
    """``count`` of ``items`` (all of them if there are fewer), evenly spaced, in order."""
    if len(items) <= count:
        return items
    return [items[i * len(items) // count] for i in range(count)]


def bench_history_first(history: History, rounds: int) -> None:
    """A first call in a fresh process: scoped (depends_on=["src/"]) and plain. A scoped
    name carries the content key of the scope's code, from git ls-files of the scope:
    no call walks the history, so its length must not show. Each round also times the
    git call a first scoped call makes beyond a plain one (what the scope holds, which
    also shows that its paths are tracked), as git runs it from the command line."""
    key = (GIT, "ls-files", "-z", "-s", "--", "src/")
    plain: list[float] = []
    scoped: list[float] = []
    added: list[float] = []
    for r in range(rounds):
        kinds = ["first", "scoped"] if r % 2 == 0 else ["scoped", "first"]
        for kind in kinds:
            child = [sys.executable, __file__, "--child", kind, str(history.repo), "1"]
            calls = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
            (plain if kind == "first" else scoped).append(calls[0])
        added.append(timed(lambda: run(history.repo, *key)))
    what = at(history.commits, "commits")
    row(f"{what} built by git fast-import, checked out (well under a minute)", sec(history.built))
    first, scope, more = (statistics.median(times) for times in (plain, scoped, added))
    row(f"{what} first plain call in a fresh process", ms(first))
    row(f"{what} first depends_on=['src/'] call in a fresh process", ms(scope))
    row(f"{what}   git ls-files -s -- src/", ms(more))
    row(
        f"{what}   (first plain call + that) / first plain call",
        f"{(first + more) / first:.2f}",
    )
    ratio = scope / first
    label = f"{what} first scoped call / first plain call (target <= 1.50)"
    judge(18, label, f"{ratio:.2f}", ratio <= 1.5)


QUESTIONS = ("latest", "rows", "reachable")
ASKED = {  # a reader's call; what taggedartifacts ls prints; the filter read="latest" uses
    "latest": "read='latest'",
    "rows": "versions().rows() (ls)",
    "reachable": "versions(reachable=True)",
}


def bench_history_versions(history: History, rounds: int, graph: bool = False) -> None:
    """Where the commits of 1,000 versions stand, each question asked in a fresh process
    (a reader keeps what it learnt of the history for the process): one git rev-list
    walk of HEAD's history that stops once every commit was met, and GitPython reading
    each commit's date and subject. Its first time in a process is judged (it includes
    loading GitPython, as a script or taggedartifacts ls pays it); the same question
    asked again in that process is a row; so is the floor, one git rev-list of the whole
    history (a walk meets the oldest version's commit near the end, and never a side
    branch's). With ``graph``, git has a commit-graph file (what git gc or git
    maintenance write), and nothing is judged."""
    asked = [(kind, question) for kind in history.kinds for question in QUESTIONS]
    first: dict[tuple[str, str], list[float]] = {key: [] for key in asked}
    again: dict[tuple[str, str], list[float]] = {key: [] for key in asked}
    answers: dict[tuple[str, str], set[str]] = {key: set() for key in asked}
    walks: list[float] = []  # the whole history, once a round
    for r in range(rounds):
        turn = r % len(asked)
        for kind, question in asked[turn:] + asked[:turn]:
            directory = history.repo / "results" / kind
            child = [sys.executable, __file__, "--child", "history", str(history.repo)]
            child += [question, str(directory)]
            out = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
            first[kind, question].append(out["times"][0])
            again[kind, question].append(out["times"][1])
            answers[kind, question].add(out["answer"])
        walks.append(timed(lambda: run(history.repo, GIT, "rev-list", "HEAD")))
    whole = at(history.commits, "commits")
    if graph:
        row(f"{whole} after git commit-graph write --reachable", "")
        whole = " "
    walk = statistics.median(walks)
    row(f"{whole} floor: git rev-list HEAD, the whole history, through a pipe", sec(walk))
    for kind, shas in history.kinds.items():
        ancestors = [sha for sha in shas if sha in history.kinds["ancestors"]]
        others = len(shas) - len(ancestors)
        where = "all ancestors" if not others else f"{others} not ancestors"
        what = f"[{history.commits:,} commits, {len(shas):,} versions, {where}]"
        if graph:
            what = f"  [{len(shas):,} versions, {where}]"
        expected = {
            "latest": {f"loss-{ancestors[0][:7]}-{config_hash({})[:10]}.png"},
            "rows": {str(len(shas))},
            "reachable": {str(len(ancestors))},
        }
        for question in QUESTIONS:
            key = (kind, question)
            seconds = statistics.median(first[key])
            wrong = "" if answers[key] == expected[question] else f" (wrong: {answers[key]})"
            label = f"{what} {ASKED[question]}{wrong}"
            if graph:
                row(label, sec(seconds))
            else:
                judge(19, f"{label} (target < 1 s)", sec(seconds), seconds < 1 and not wrong)
        repeated = " / ".join(f"{statistics.median(again[kind, q]):.3f}" for q in QUESTIONS)
        row(f"{what[: what.index(']') + 1]}   asked again in that process, each (s)", repeated)


def history_child(repo: str, question: str, directory: str) -> None:
    """``--child history``: ask one question twice, in this fresh process."""
    query = Path(directory) / "loss.png"
    reader = Artifact("outpath", {}, repo=repo, read="latest")(bare)

    def ask() -> str:
        if question == "latest":
            return os.path.basename(reader(str(query)))
        if question == "rows":
            return str(len(versions(query).rows()))
        return str(len(versions(query, reachable=True)))

    times, answers = [], []
    for _ in range(2):
        start = time.perf_counter()
        answers.append(ask())
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "answer": answers[0]}))


# ---------------------------------------------------------------- children


def child(args: list[str]) -> None:
    """Calls in a fresh process, for the parent to time: ``touched``, ``first`` and
    ``scoped`` (a first call with depends_on), and ``history`` (see history_child)."""
    if args[0] == "history":
        history_child(*args[1:])
        return
    kind, repo, calls = args[0], args[1], int(args[-1])
    depends_on = ["src/"] if kind == "scoped" else None
    tagged = Artifact("outpath", CONFIG, repo=repo, depends_on=depends_on)(bare)
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(calls):
        ours.append(timed(lambda: tagged("x.txt")))
        if kind == "touched":
            floor.append(timed(lambda: run(Path(args[2]), *STATUS)))
    print(json.dumps({"ours": ours, "floor": floor} if kind == "touched" else ours))


# ---------------------------------------------------------------- main


def summary() -> None:
    section("Summary")
    judged = sorted({v.number for v in VERDICTS})
    for number in judged:
        rows = [v for v in VERDICTS if v.number == number]
        missed = [v for v in rows if v.met is False]
        if missed:
            print(f"T{number:<3} NOT MET")
            for v in missed:
                print(f"       {v.label.strip()}: {v.value}")
        elif any(v.met is None for v in rows):
            print(f"T{number:<3} not measured ({rows[0].value})")
        else:
            print(f"T{number:<3} met ({len(rows)} row{'s' * (len(rows) > 1)})")
    met = [n for n in judged if all(v.met for v in VERDICTS if v.number == n)]
    unmet = [n for n in judged if any(v.met is False for v in VERDICTS if v.number == n)]
    print(f"targets met: {', '.join(map(str, met)) or 'none'}")
    print(f"targets not met: {', '.join(map(str, unmet)) or 'none'}")
    reported = ", ".join(map(str, sorted({16, *REPORTED})))
    print(f"reported, no target: {reported} (rows for the README)")


def environment(s: Sizes) -> str:
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (
        f"taggedartifacts {taggedartifacts.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, {git_version.strip()}{load}"
        f"{', quick mode' if s.quick else ''}"
    )


def measure(trees: Trees, s: Sizes) -> None:
    rounds = s.rounds
    section("T1, T2 clean call: next to one git status, and to naive GitPython")
    # A call in a small repository costs milliseconds, and its ratio to git's sits near
    # its bound: five times the rounds there, so that one run's median can be trusted.
    for files, repo in trees.tracked.items():
        bench_clean(files, repo, rounds * 5 if files <= 1_000 else rounds)
    section("T3 dirty call: next to one git status")
    bench_dirty_all(trees.tracked, rounds)
    bench_big(trees.big, s.big_mb, rounds)
    section("T4 untracked=True")
    bench_untracked(trees.untracked, s.untracked, rounds, judged=True)
    if trees.untracked_many is not None:
        bench_untracked(trees.untracked_many, s.untracked_many, max(3, rounds // 8), judged=False)
    section("T5 touched tree, the user's index not refreshed")
    bench_touched(trees, s.touched, s.touched_rounds)
    section("T6 atomic=True")
    bench_atomic(trees, s.crowd, rounds)
    section("T7 provenance=True")
    bench_records(trees, rounds)
    section("T8 versions()")
    bench_versions(trees.unrelated, s.unrelated, rounds)
    section("T9 async calls: the event loop never waits")
    bench_async(trees.touched, s.touched, s.async_calls)
    section("T10 the taggedartifacts command")
    for files, repo in list(trees.tracked.items())[:2]:
        bench_cli(files, repo, rounds)
    section("T11 depends_on")
    bench_scope(s.tracked[1], trees.tracked[s.tracked[1]], rounds)
    section("T12 pinned()")
    # Microseconds a call, near its bound and on a noisy machine: half the rounds, not a
    # quarter, so that one run's median is not one busy stretch's.
    bench_pinned(trees.small, trees.out / "frames", s.pinned_calls, max(3, rounds // 2))
    section("T13 config hash")
    bench_hash(max(3, rounds // 2))
    section("T14 import")
    bench_import(trees.root, rounds)
    section("T15 memory")
    bench_memory(trees, s.memory_calls, s.memory_plain)
    bench_first(trees, s.child_rounds)
    bench_dirty_extra(trees, rounds)
    print_extras()
    section("T17 after the function returns: atomic=True checks the code again, a cache hit not")
    for files, repo in list(trees.tracked.items())[:2]:
        bench_post_run(files, repo, trees.out, rounds)
    section("T18 depends_on on long histories: a first call in a fresh process")
    for history in trees.histories.values():
        bench_history_first(history, 2 * s.child_rounds)  # two git calls more: near the bound
    section(
        "T19 readers and ls on long histories: 1,000 versions, each question in a fresh process"
    )
    for history in trees.histories.values():
        bench_history_versions(history, s.history_rounds)
    section("T20 integrity: the digest a cache=True record holds, computed at publish")
    for mb in s.digested_mb:
        bench_digest(trees.small, trees.out, mb, 3 if mb >= 100 else rounds)
    if not s.quick:  # rows without a target: what git gc or git maintenance would change
        longest = trees.histories[max(trees.histories)]
        git(longest.repo, "commit-graph", "write", "--reachable")
        bench_history_versions(longest, s.history_rounds, graph=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (CI)")
    s = QUICK if parser.parse_args().quick else FULL
    print(environment(s), flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="taggedartifacts-bench-") as tmp:
        trees = build(Path(tmp), s)
        built = time.perf_counter() - started
        row("built the repositories and directories", f"{built:.0f} s")
        measure(trees, s)
        removing = time.perf_counter()
    removed = time.perf_counter() - removing
    total = time.perf_counter() - started
    summary()
    print(f"done in {total:.0f} s (building {built:.0f} s, removing {removed:.0f} s)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        main()
