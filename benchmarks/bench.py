"""How much a decorated call costs, next to the floor it cannot beat.

Run: ``python benchmarks/bench.py`` (``pip install -e ".[bench]"`` adds joblib
for the comparison). It builds throwaway repositories of 100, 10,000 and 50,000
tracked files in a temporary directory, measures medians with the standard
library's clock, and prints one table. It finishes in under two minutes on a
2-core machine. Quick mode for a smoke test: ``--quick``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import taggedartifacts
from taggedartifacts import Artifact, DirtyRepositoryWarning, config_hash, pinned

GIT_ENV = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
ROWS: list[tuple[str, str]] = []


def row(label: str, value: str) -> None:
    ROWS.append((label, value))
    print(f"{label:<62} {value}", flush=True)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=GIT_ENV)


def make_repo(root: Path, files: int) -> Path:
    repo = root / f"repo{files}"
    for i in range(files):
        sub = repo / f"d{i // 1000:03}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"f{i:06}.txt").write_text(f"file {i}\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "bench")
    if hasattr(os, "sync"):
        os.sync()  # while fresh files are written back, every lstat is slower: time a settled tree
    # Files modified in the same second as the index was written are "racily clean": git
    # re-reads every one at every status until a git command rewrites the index in a later
    # second, which the user's own `git status` does all day. A repository built in a second
    # has only such files; give it the index a user's repository has. Every variant below
    # (floor, ours, GitPython) is timed on the same repository.
    time.sleep(1.1)
    git(repo, "update-index", "-q", "--refresh")
    return repo


def medians(funcs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds of each function, run interleaved so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for func in funcs.values():
        func()  # warm up
    for _ in range(rounds):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.3f} ms"


def bare(outpath: str) -> str:
    return outpath


Timed = Callable[[], Any]


def compare(
    files: int,
    rounds: int,
    case: str,
    decorated: Timed,
    floor: tuple[str, Timed],
    naive: tuple[str, Timed] | None = None,
    targets: tuple[str, str] = ("", ""),
) -> None:
    """Time a decorated call (minus the bare call) against its floor and naive GitPython."""
    funcs = {"bare": lambda: bare("x.txt"), "decorated": decorated, "floor": floor[1]}
    if naive is not None:
        funcs["naive"] = naive[1]
    m = medians(funcs, rounds)
    overhead = m["decorated"] - m["bare"]
    at = f"[{files} files]"
    row(f"{at} floor{floor[0]}", ms(m["floor"]))
    row(f"{at} decorated call - bare call, {case}", ms(overhead))
    row(f"{at}   ratio to floor{targets[0]}", f"{overhead / m['floor']:8.2f}")
    if naive is not None:
        row(f"{at} GitPython naive: {naive[0]}", ms(m["naive"]))
        row(f"{at}   GitPython naive / decorated{targets[1]}", f"{m['naive'] / overhead:8.2f}")


def bench_calls(root: Path, files: int, rounds: int) -> None:
    import git as gitpython

    repo = make_repo(root, files)
    status = ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"]
    naive = gitpython.Repo(repo)

    def run(*command: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(command, cwd=repo, capture_output=True, env=GIT_ENV)

    clean = Artifact("outpath", {"lr": 0.1}, repo=repo)(bare)
    compare(
        files,
        rounds,
        "clean tree",
        lambda: clean("x.txt"),
        (": git status --porcelain=v2 (subprocess)", lambda: run(*status)),
        ("head.commit.hexsha + is_dirty()", lambda: (naive.head.commit.hexsha, naive.is_dirty())),
        (" (target <= 1.10)", " (target >= 1.8 at 100)"),
    )

    # Not a target of the issue, but what untracked=True users pay: the scan for new files.
    watched = Artifact("outpath", {"lr": 0.1}, untracked=True, repo=repo)(bare)
    compare(
        files,
        rounds,
        "untracked=True",
        lambda: watched("x.txt"),
        (", untracked=True: git status --untracked-files=all", lambda: run(*status[:-1], "-uall")),
        (
            "is_dirty(untracked_files=True)",
            lambda: (naive.head.commit.hexsha, naive.is_dirty(untracked_files=True)),
        ),
    )

    (repo / "d000" / "f000000.txt").write_text("changed\n")
    dirty = Artifact("outpath", {"lr": 0.1}, allow_dirty=True, repo=repo)(bare)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyRepositoryWarning)
        compare(
            files,
            rounds,
            "dirty tree",
            lambda: dirty("x.txt"),
            (
                ", dirty: git status + git diff HEAD --binary",
                lambda: (run(*status), run("git", "diff", "HEAD", "--binary")),
            ),
            targets=(" (target <= 1.10)", ""),
        )
    git(repo, "checkout", "--", ".")


def bench_pinned(root: Path, calls: int) -> None:
    repo = make_repo(root, 10)
    decorated = Artifact("outpath", {"lr": 0.1}, repo=repo)(bare)
    results = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            bare("x.txt")
        bare_time = time.perf_counter() - start
        with pinned(repo):
            start = time.perf_counter()
            for _ in range(calls):
                decorated("x.txt")
            results.append((time.perf_counter() - start - bare_time) / calls)
    row(
        f"pinned(): {calls} decorated calls, overhead per call (target <= 10 us)",
        f"{statistics.median(results) * 1e6:8.2f} us",
    )


def bench_hash(rounds: int) -> None:
    import numpy as np

    try:
        import joblib
    except ImportError:
        joblib = None
    small = {f"key{i}": i * 0.5 for i in range(10)}
    nested = {
        f"s{i}": {f"k{j}": [j, j * 0.25, f"v{j}", j % 2 == 0] for j in range(100)}
        for i in range(100)
    }
    array = np.random.default_rng(0).random(1_000_000)

    def json_floor(value: Any) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()

    funcs: dict[str, Callable[[], Any]]
    for label, value in (("10 keys", small), ("nested, 10,000 keys", nested)):
        funcs = {"ours": partial(config_hash, value), "json": partial(json_floor, value)}
        if joblib is not None:
            funcs["joblib"] = partial(joblib.hash, value)
        m = medians(funcs, rounds)
        row(f"config_hash, {label}", ms(m["ours"]))
        row("  json.dumps+sha256 / ours (target >= 0.67)", f"{m['json'] / m['ours']:8.2f}")
        if joblib is not None:
            row("  joblib.hash / ours (target >= 8 on nested)", f"{m['joblib'] / m['ours']:8.2f}")
    funcs = {
        "ours": lambda: config_hash(array),
        "floor": lambda: hashlib.sha256(array.tobytes()).hexdigest(),
    }
    if joblib is not None:
        funcs["joblib"] = lambda: joblib.hash(array)
    m = medians(funcs, max(5, rounds // 4))
    row("config_hash, 1,000,000 float64 array", ms(m["ours"]))
    row("  sha256 of the bytes / ours", f"{m['floor'] / m['ours']:8.2f}")
    if joblib is not None:
        row("  joblib.hash / ours (target >= 2)", f"{m['joblib'] / m['ours']:8.2f}")


def bench_import(rounds: int) -> None:
    # As installed by pip, with bytecode: let the warm-up run write it even where the
    # environment says not to (PYTHONDONTWRITEBYTECODE would time the compiler instead).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - start

    def importtime() -> float:
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

    m = medians(
        {"sys": lambda: run("import sys"), "ours": lambda: run("import taggedartifacts")}, rounds
    )
    cumulative = statistics.median(importtime() for _ in range(rounds))
    row("import taggedartifacts, -X importtime cumulative (target <= 15 ms)", ms(cumulative))
    row("  wall clock of the process minus one doing import sys", ms(m["ours"] - m["sys"]))
    probe = (
        "import sys, taggedartifacts\n"
        "print([m for m in ('git', 'numpy', 'fsspec') if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    row("modules imported by it among git, numpy, fsspec", loaded.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    args = parser.parse_args()
    sizes = (100, 1_000) if args.quick else (100, 10_000, 50_000)
    rounds = 5 if args.quick else 41
    print(
        f"taggedartifacts {taggedartifacts.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.strip()}"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for files in sizes:
            bench_calls(Path(tmp), files, rounds)
        bench_pinned(Path(tmp), 1_000 if args.quick else 10_000)
    bench_hash(rounds)
    bench_import(rounds)
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
