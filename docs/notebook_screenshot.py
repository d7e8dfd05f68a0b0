"""Render docs/notebook.png: a real notebook run in a real kernel, as Jupyter shows it.

Needs what the tests need plus ``pip install nbconvert matplotlib`` and a
headless Chromium (Debian: ``apt-get install chromium``). Run from the
repository root: ``python docs/notebook_screenshot.py``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import nbclient
import nbformat
from nbconvert import HTMLExporter

CELLS = [
    """\
import subprocess
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from taggedartifacts import Artifact, versions

def save_loss_curve(lr):
    @Artifact(keyword="outpath", config={"lr": lr, "epochs": 50})
    def save(outpath):
        steps = np.arange(50)
        fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
        ax.plot(steps, np.exp(-lr * steps) + 0.05 * np.sin(steps / 3))
        ax.set_title(f"lr={lr}")
        fig.tight_layout()
        fig.savefig(outpath)
        plt.close(fig)
        return outpath
    return save("plots/loss.png")

save_loss_curve(0.05)""",
    "from pathlib import Path\n"
    "Path('train.py').write_text(\"SCHEDULE = 'fast'\\n\")\n"
    "subprocess.run(['git', 'commit', '-qam', 'Faster schedule'], check=True)\n"
    "[save_loss_curve(lr) for lr in (0.05, 0.2)]",
    "versions('plots/loss.png')",
    "versions('plots/loss.png').show(width=200)",
]


def main() -> None:
    out = Path(__file__).resolve().parent / "notebook.png"
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "experiment"
        repo.mkdir()
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
        }
        os.environ.update(env)
        (repo / "train.py").write_text("SCHEDULE = 'slow'\n")
        (repo / ".gitignore").write_text("plots/\n")
        (repo / "plots").mkdir()
        for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "First schedule"]):
            subprocess.run(["git", *command], cwd=repo, check=True)

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
        nbclient.NotebookClient(
            nb, timeout=120, resources={"metadata": {"path": str(repo)}}
        ).execute()
        body, _ = HTMLExporter().from_notebook_node(nb)
        page = Path(tmp) / "notebook.html"
        page.write_text(body)
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp}/chrome",
                "--hide-scrollbars",
                "--window-size=1250,1000",
                f"--screenshot={out}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
