"""cache=True under concurrency: callers of one artifact on one file system build it once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import Repo

from taggedartifacts import versions

BUILDER = """
import logging, sys, time
from pathlib import Path
from taggedartifacts import Artifact

logging.basicConfig(level=logging.INFO, format="%(message)s")

@Artifact("outpath", {{"n": 1}}, cache=True, repo={repo!r})
def build(outpath, seconds):
    with open({log!r}, "a") as log:
        log.write("built\\n")
    Path({started!r}).write_text("started")
    time.sleep(seconds)
    Path(outpath).write_text("result")
    return {{"rows": 3}}

print(build(sys.argv[1], float(sys.argv[2])))
"""


def builder(tmp_path: Path, repo: Repo) -> tuple[Path, Path, Path]:
    script = tmp_path / "builder.py"
    log, started = tmp_path / "built.log", tmp_path / "started"
    script.write_text(BUILDER.format(repo=str(repo.path), log=str(log), started=str(started)))
    return script, log, started


def test_twelve_concurrent_callers_build_once(repo: Repo, tmp_path: Path) -> None:
    script, log, _ = builder(tmp_path, repo)
    target = tmp_path / "out" / "table.csv"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(target), "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 12, [err for _, err in results]
    assert log.read_text() == "built\n"  # once
    assert {out for out, _ in results} == {"{'rows': 3}\n"}  # every caller got the value
    assert sum("which another call is building" in err for _, err in results) >= 1  # INFO: waited
    [version] = versions(target)
    assert Path(version.path).read_text() == "result"


def test_a_killed_builders_lock_is_taken_over_at_once(repo: Repo, tmp_path: Path) -> None:
    script, log, started = builder(tmp_path, repo)
    target = tmp_path / "out" / "table.csv"
    first = subprocess.Popen([sys.executable, str(script), str(target), "600"])
    deadline = time.monotonic() + 30
    while not started.exists():
        assert time.monotonic() < deadline, "the first builder never started"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)  # it dies holding the lock
    first.wait()
    began = time.monotonic()
    second = subprocess.run(
        [sys.executable, str(script), str(target), "0"], capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - began < 20  # no wait for a dead owner (the kernel released it)
    assert log.read_text() == "built\nbuilt\n"
    assert second.stdout == "{'rows': 3}\n"
