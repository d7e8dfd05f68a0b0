"""Tests that need more than the test-core extra skip, saying what to install; under
TAGGEDARTIFACTS_ALL_TESTS=1 (.ci/run) such a skip fails instead (the hooks in conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import ALL_TESTS, TEST_EXTRA, missing
from packaging.requirements import Requirement

ABSENT = "taggedartifacts_no_such_module"
TOP = f"""
import pytest
from conftest import missing

pytest.importorskip({ABSENT!r}, reason=missing({ABSENT!r}))

def test_never_collected():
    pass
"""
INNER = f"""
import pytest
from conftest import missing

@pytest.fixture
def needs_it():
    pytest.importorskip({ABSENT!r}, reason=missing({ABSENT!r}))

def test_in_a_test():
    pytest.importorskip({ABSENT!r}, reason=missing({ABSENT!r}))

def test_in_a_fixture(needs_it):
    pass

def test_without_saying_what_to_install():
    pytest.importorskip({ABSENT!r})

def test_another_kind_of_skip():
    pytest.skip("no Python 3.99 on this machine")
"""


def outcomes(suite: Path, all_tests: bool) -> dict[str, tuple[str, str]]:
    """``{test or module: (outcome, message)}`` of a pytest run of ``suite``, in a process of
    its own (its JUnit XML report)."""
    env = {k: v for k, v in os.environ.items() if k != "TAGGEDARTIFACTS_ALL_TESTS"}
    if all_tests:
        env["TAGGEDARTIFACTS_ALL_TESTS"] = "1"
    report = suite / "report.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml"]
    subprocess.run(
        [*command, str(report), "--continue-on-collection-errors", str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        check=False,
    )
    found = {}
    for case in ElementTree.parse(report).iter("testcase"):
        children = [child for child in case if child.tag in ("failure", "error", "skipped")]
        if not children:
            found[case.get("name", "")] = ("passed", "")
        else:  # the reason is in the message, or for a module in the text
            text = f"{children[0].get('message', '')}\n{children[0].text or ''}"
            found[case.get("name", "")] = (children[0].tag, text)
    return found


def test_a_missing_dependency_skips_and_fails_only_under_all_tests(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(Path(__file__).with_name("conftest.py"), suite)
    (suite / "test_top.py").write_text(TOP)
    (suite / "test_inner.py").write_text(INNER)
    says = missing(ABSENT)
    unsaid = f"a skip for a missing dependency must say what to install ({TEST_EXTRA}): "
    pytest_says = f"could not import {ABSENT!r}: No module named {ABSENT!r}"
    other = "no Python 3.99 on this machine"
    ci = "TAGGEDARTIFACTS_ALL_TESTS=1 runs every test, but a test dependency is missing: "
    expected = {
        False: {
            "test_top": ("skipped", says),
            "test_in_a_test": ("skipped", says),
            "test_in_a_fixture": ("skipped", says),
            "test_without_saying_what_to_install": ("failure", unsaid + pytest_says),
            "test_another_kind_of_skip": ("skipped", other),
        },
        True: {
            "test_top": ("error", ci + says),
            "test_in_a_test": ("failure", ci + says),
            "test_in_a_fixture": ("error", ci + says),
            "test_without_saying_what_to_install": ("failure", ci + pytest_says),
            "test_another_kind_of_skip": ("skipped", other),
        },
    }
    for all_tests, cases in expected.items():
        found = outcomes(suite, all_tests)
        assert sorted(found) == sorted(cases), all_tests
        for name, (outcome, reason) in cases.items():
            assert found[name][0] == outcome, (all_tests, name, found[name])
            assert reason in found[name][1], (all_tests, name, found[name])


def test_ci_has_every_dependency_of_the_test_extra() -> None:
    if not ALL_TESTS:
        pytest.skip("only under TAGGEDARTIFACTS_ALL_TESTS=1 (.ci/run sets it)")
    absent = []
    for text in metadata.requires("taggedartifacts") or []:
        requirement = Requirement(text)
        if requirement.marker is None or not requirement.marker.evaluate({"extra": "test"}):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            absent.append(f"{requirement} (not installed)")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            absent.append(f"{requirement} ({version} is installed)")
    assert absent == [], f"install them: {TEST_EXTRA}"
