"""The design keeps a setup.py at the top level; every setting lives in pyproject.toml."""

from setuptools import setup

setup()
