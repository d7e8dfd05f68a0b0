"""A tour of taggedartifacts in a throwaway git repository.

Run it with ``python examples/quickstart.py``; it leaves nothing behind.
"""

from __future__ import annotations

import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from taggedartifacts import Artifact, DirtyRepositoryError, DirtyRepositoryWarning


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=Quickstart", "-c", "user.email=quickstart@example.com"]
    subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q")
        (repo / "train.py").write_text("LEARNING_RATE = 0.1\n")
        git(repo, "add", "train.py")
        git(repo, "commit", "-q", "-m", "first experiment")

        def make_saver(config: dict[str, float], allow_dirty: bool = False) -> Callable[..., Path]:
            @Artifact(keyword="outpath", config=config, allow_dirty=allow_dirty, repo=repo)
            def save_result(value: float, outpath: Path) -> Path:
                outpath.write_text(f"{value}\n")
                return outpath

            return save_result

        save = make_saver({"lr": 0.1})
        print("clean tree      ->", save(0.93, outpath=repo / "results.txt").name)

        (repo / "train.py").write_text("LEARNING_RATE = 0.2  # not committed\n")
        try:
            save(0.95, outpath=repo / "results.txt")
        except DirtyRepositoryError as exc:
            print("dirty tree      -> refused:", str(exc).split(";")[0])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DirtyRepositoryWarning)
            dirty_save = make_saver({"lr": 0.1}, allow_dirty=True)
            print("allow_dirty     ->", dirty_save(0.95, outpath=repo / "results.txt").name)

        git(repo, "checkout", "train.py")
        other = make_saver({"lr": 0.2})
        print("other config    ->", other(0.91, outpath=repo / "results.txt").name)
        print("files written   :", sorted(p.name for p in repo.glob("results-*.txt")))


if __name__ == "__main__":
    main()
