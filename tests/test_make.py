"""The Makefile's targets: `make` builds everything, `make help` lists every target, `make check` builds
nothing and runs only the fast tests, and the EPUB holds only what this build wrote."""

import re
import shutil
import subprocess
import zipfile

import pytest
from conftest import EPUB, ROOT

FAST = pytest.mark.fast

NO_BUILD = "BUILDDIR=/nonexistent-build"  # with `make -n`, nothing is run, let alone built


def make(*args):
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True)


@FAST
def test_help_lists_every_target_once_with_what_it_does():
    phony = re.search(r"^\.PHONY: (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1).split()
    lines = make("-s", "help").stdout.splitlines()
    listed = [line.split()[1] for line in lines]
    assert sorted(listed) == sorted(phony)
    assert all(line.startswith("  make ") and len(line.split()) >= 4 for line in lines), lines


@FAST
def test_make_alone_builds_the_site_the_pdf_and_the_epub():
    dry = make("-n", NO_BUILD).stdout
    for builder in ("html", "pdf", "epub"):
        assert re.search(rf"sphinx-build -M {builder} ", dry), f"`make` would not build {builder}:\n{dry}"


@FAST
def test_check_lints_reads_every_page_and_runs_the_fast_tests_without_writing_a_site():
    dry = make("-n", "check", NO_BUILD).stdout
    assert "ruff check" in dry and "codespell" in dry
    assert re.search(r"pytest -m fast", dry), dry
    assert re.findall(r"sphinx-build -M (\w+)", dry) == ["dummy"], dry  # pages read and checked, nothing written


def test_make_check_catches_a_mistake_in_a_page_at_its_line(tmp_path):
    """`make check` reads the handbook's own pages (`make pages`): a broken page fails it, at its line."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("__pycache__"))
    page = docs / "mechanism.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("{term}`glutamate`", "{term}`glutamite`", 1), encoding="utf-8")
    line = text[:text.index("{term}`glutamate`")].count("\n") + 1
    result = make(f"SOURCEDIR={docs}", f"BUILDDIR={tmp_path / 'build'}", "pages")
    assert result.returncode != 0
    assert re.search(rf"mechanism\.md:{line}: (WARNING|ERROR): .*glutamite", result.stdout + result.stderr), \
        result.stdout[-2000:] + result.stderr[-2000:]


def test_the_epub_never_carries_a_file_an_earlier_build_left(built, tmp_path):
    """Sphinx zips every file in the EPUB's folder: `make` empties it first, so an old diagram (here, one
    left by an earlier build) stays out of the book. Only the EPUB is written: the pages' doctrees are
    copied from `make`'s build, so none is read again."""
    shutil.copytree(built / "doctrees", tmp_path / "doctrees")
    (tmp_path / ".system-packages").touch()  # checked by `make` already
    stray = tmp_path / "epub" / "_images" / "graphviz-from-an-earlier-build.svg"
    stray.parent.mkdir(parents=True)
    stray.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    result = make(f"BUILDDIR={tmp_path}", f"{tmp_path}/epub/{EPUB.name}")  # as `make` builds it
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(tmp_path / "epub" / EPUB.name) as book:
        names = book.namelist()
        assert not [n for n in names if "earlier-build" in n], names
        assert "earlier-build" not in book.read("content.opf").decode("utf-8")


@FAST
def test_make_epub_also_starts_from_an_empty_folder():
    dry = make("-n", "epub", NO_BUILD).stdout
    assert re.search(r"rm -rf /nonexistent-build/epub\n.*sphinx-build -M epub ", dry), dry
