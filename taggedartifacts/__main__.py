"""``python -m taggedartifacts``: the command line."""

from taggedartifacts._cli import run

run()
