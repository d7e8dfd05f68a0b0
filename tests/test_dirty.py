"""Warnings about dirty work point at the user's code, however the function was called."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Repo

from taggedartifacts import Artifact, DirtyRepositoryWarning

HERE = os.path.abspath(__file__)


def _dirty_saver(repo: Repo) -> Artifact:
    repo.write("code.py", "print('edited, not committed')\n")
    return Artifact("outpath", repo=repo.path, allow_dirty=True)


def test_a_module_run_with_python_dash_m_warns_instead_of_crashing(repo: Repo) -> None:
    repo.write(
        "pkg/job.py",
        "from taggedartifacts import Artifact\n\n"
        "@Artifact('outpath', allow_dirty=True)\n"
        "def save(outpath):\n    return outpath\n\n"
        "print(save('out.txt'))\n",
    )
    repo.write("pkg/__init__.py", "")
    repo.commit("a package with a script")
    repo.write("pkg/job.py", (repo.path / "pkg" / "job.py").read_text() + "# edited\n")
    out = subprocess.run(
        [sys.executable, "-W", "always", "-m", "pkg.job"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "-dirty" in out.stdout
    assert "DirtyRepositoryWarning" in out.stderr
    assert "job.py:7" in out.stderr  # the line of the call


def test_an_awaited_call_warns_at_the_await(repo: Repo) -> None:
    import asyncio

    @_dirty_saver(repo)
    async def save(outpath: str) -> str:
        return outpath

    async def main() -> None:
        await save("a.txt")  # the line the warning names

    with pytest.warns(DirtyRepositoryWarning) as record:
        asyncio.run(main())
    [warning] = record
    assert (warning.filename, warning.lineno) == (HERE, main.__code__.co_firstlineno + 1)


def test_calls_of_gather_and_of_a_pool_warn_where_the_function_is_defined(repo: Repo) -> None:
    import asyncio

    @_dirty_saver(repo)
    async def save_async(outpath: str) -> str:
        return outpath

    @_dirty_saver(repo)
    def save(outpath: str) -> str:
        return outpath

    async def main() -> None:
        await asyncio.gather(save_async("a.txt"), save_async("b.txt"))

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        asyncio.run(main())
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(save, ["c.txt", "d.txt"]))
    places = {(w.filename, w.lineno) for w in record if w.category is DirtyRepositoryWarning}
    defined = {
        (HERE, save_async.__wrapped__.__code__.co_firstlineno),
        (HERE, save.__wrapped__.__code__.co_firstlineno),
    }
    assert places == defined  # never a line of asyncio or concurrent.futures
    assert not any("asyncio" in w.filename or "concurrent" in w.filename for w in record)


def test_a_plain_call_warns_at_the_call(repo: Repo, tmp_path: Path) -> None:
    @_dirty_saver(repo)
    def save(outpath: str) -> str:
        return outpath

    with pytest.warns(DirtyRepositoryWarning) as record:
        save(str(tmp_path / "a.txt"))  # this line
    assert record[0].lineno == test_a_plain_call_warns_at_the_call.__code__.co_firstlineno + 6
