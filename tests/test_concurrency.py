"""cache=True under concurrency: callers of one artifact on one file system build it once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from taggedartifacts import Artifact, DirtyRepositoryWarning, _function, versions

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
    ends = time.monotonic() + seconds
    while time.monotonic() < ends and not Path({go!r}).exists():  # the test says when
        time.sleep(0.02)
    Path(outpath).write_text("result")
    return {{"rows": 3}}

print(build(sys.argv[1], float(sys.argv[2])))
"""


def builder(tmp_path: Path, repo: Repo) -> tuple[Path, Path, Path]:
    """A script that builds once per artifact, for ``argv[2]`` seconds at most: until
    the test writes ``tmp_path/go``."""
    script = tmp_path / "builder.py"
    log, started = tmp_path / "built.log", tmp_path / "started"
    names = {"log": log, "started": started, "go": tmp_path / "go"}
    script.write_text(BUILDER.format(repo=str(repo.path), **{k: str(v) for k, v in names.items()}))
    return script, log, started


def test_twelve_concurrent_callers_build_once(repo: Repo, tmp_path: Path) -> None:
    script, log, _ = builder(tmp_path, repo)
    target = tmp_path / "out" / "table.csv"
    errs = [tmp_path / f"err{i}.txt" for i in range(12)]
    procs = []
    for err in errs:
        with err.open("w") as stderr:
            command = [sys.executable, str(script), str(target), "120"]
            procs.append(
                subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
            )
    note = "which another call of build() is building"
    deadline = time.monotonic() + 100
    try:
        while not any(note in err.read_text() for err in errs):  # INFO: who they wait for
            assert time.monotonic() < deadline, "no caller said it was waiting"
            time.sleep(0.05)
    finally:
        (tmp_path / "go").touch()  # the builder finishes while others wait (or the test failed)
        outs = [p.communicate(timeout=120)[0] for p in procs]
    results = [err.read_text() for err in errs]
    assert [p.returncode for p in procs] == [0] * 12, [
        err[-3000:] for err in results if "Traceback" in err
    ]
    assert log.read_text() == "built\n"  # once
    assert set(outs) == {"{'rows': 3}\n"}  # every caller got the value
    waited = [err for err in results if note in err]
    assert all("it is held by process " in err for err in waited), waited
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


def test_more_async_waiters_than_worker_threads_do_not_deadlock(repo: Repo, tmp_path: Path) -> None:
    built = []

    @Artifact("outpath", cache=True, repo=repo.path)
    async def fetch(outpath: Path) -> str:
        built.append(outpath)
        await asyncio.sleep(0.2)
        outpath.write_text("data")
        return "fetched"

    async def main() -> list[str]:
        calls = [fetch(tmp_path / "out.txt") for _ in range(3 * ((os.cpu_count() or 1) + 4))]
        return await asyncio.wait_for(asyncio.gather(*calls), timeout=60)

    assert set(asyncio.run(main())) == {"fetched"}
    assert len(built) == 1


def test_a_call_cancelled_while_it_starts_leaves_nothing_held(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = _function.Function.start

    def slow_start(self: Any, *args: Any) -> Any:
        time.sleep(0.5)  # the task is cancelled meanwhile
        return real_start(self, *args)

    @Artifact("outpath", cache=True, repo=repo.path)
    async def fetch(outpath: Path) -> str:
        outpath.write_text("data")
        return "fetched"

    async def cancel_then_call() -> str:
        with monkeypatch.context() as patch:
            patch.setattr(_function.Function, "start", slow_start)
            task = asyncio.ensure_future(fetch(tmp_path / "out.txt"))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.6)  # the started run is given up when it is made
        return await asyncio.wait_for(fetch(tmp_path / "out.txt"), timeout=30)

    assert asyncio.run(cancel_then_call()) == "fetched"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".taggedartifacts")] == []


def test_a_warning_turned_error_holds_nothing(repo: Repo, tmp_path: Path) -> None:
    repo.write("code.py", "print('edited')\n")

    @Artifact("outpath", cache=True, allow_dirty=True, repo=repo.path)
    def build(outpath: Path) -> None:
        outpath.write_text("x")

    raised: list[BaseException] = []

    def twice() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # as pytest's filterwarnings = error
            for _ in range(2):  # the second would wait forever for a lock the first held
                try:
                    build(tmp_path / "out" / "x.txt")
                except DirtyRepositoryWarning as exc:
                    raised.append(exc)

    caller = threading.Thread(target=twice, daemon=True)
    caller.start()
    caller.join(timeout=60)
    assert len(raised) == 2
    assert not (tmp_path / "out").exists()  # no lock, no stage, no output
