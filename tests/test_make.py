"""The Makefile's targets: `make` builds everything, `make help` lists every target, `make check` builds
nothing and runs only the fast tests."""

import re
import subprocess

import pytest
from conftest import ROOT

pytestmark = pytest.mark.fast

NO_BUILD = "BUILDDIR=/nonexistent-build"  # with `make -n`, nothing is run, let alone built


def make(*args):
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True)


def test_help_lists_every_target_once_with_what_it_does():
    phony = re.search(r"^\.PHONY: (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1).split()
    lines = make("-s", "help").stdout.splitlines()
    listed = [line.split()[1] for line in lines]
    assert sorted(listed) == sorted(phony)
    assert all(line.startswith("  make ") and len(line.split()) >= 4 for line in lines), lines


def test_make_alone_builds_the_site_the_pdf_and_the_epub():
    dry = make("-n", NO_BUILD).stdout
    for builder in ("html", "latexpdf", "epub"):
        assert re.search(rf"sphinx-build -M {builder} ", dry), f"`make` would not build {builder}:\n{dry}"


def test_check_lints_and_runs_only_the_fast_tests_without_building():
    dry = make("-n", "check", NO_BUILD).stdout
    assert "ruff check" in dry and "codespell" in dry
    assert re.search(r"pytest -m fast", dry), dry
    assert "sphinx-build" not in dry, dry
