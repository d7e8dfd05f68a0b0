"""Package metadata for taggedartifacts (build settings live in pyproject.toml)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "taggedartifacts" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="taggedartifacts",
    version=VERSION,
    description="Name every output file after the git commit and config that made it.",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="MIT",
    packages=find_packages(include=["taggedartifacts", "taggedartifacts.*"]),
    package_data={"taggedartifacts": ["py.typed"]},
    python_requires=">=3.10",
    install_requires=["GitPython>=3.1.30"],
    extras_require={
        "remote": ["fsspec>=2023.1"],
        "test": [
            "pytest>=7.4",
            "hypothesis>=6.80",
            "numpy>=1.24",
            "fsspec>=2023.1",
            "s3fs>=2023.1",
            "moto[server]>=5.0",
            "cloudpickle>=2.0",
            "ipykernel>=6.0",
            "nbclient>=0.7",
            "nbformat>=5.0",
        ],
        "lint": ["ruff>=0.4", "mypy>=1.8"],
        "bench": ["joblib>=1.3", "numpy>=1.24"],
    },
    entry_points={"console_scripts": ["taggedartifacts = taggedartifacts._cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
        "License :: OSI Approved :: MIT License",
        "Typing :: Typed",
        "Intended Audience :: Science/Research",
    ],
)
