"""Sphinx configuration: ``sphinx-build -W -b html docs OUT`` (the docs extra holds what
it needs). The API reference is generated from the package's docstrings (autodoc)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, installed or not

import taggedartifacts  # noqa: E402  (after the path is set)

project = "taggedartifacts"
author = "The taggedartifacts developers"
copyright = "2026, The taggedartifacts developers"
release = taggedartifacts.__version__
version = release

# No intersphinx: the build must not need the network (CI has none).
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"taggedartifacts {release}"
pygments_style = "sphinx"
