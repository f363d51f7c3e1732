"""Build: the HTML builds from clean with zero warnings, and the same sources give the same bytes however
the build ran (in one process or in parallel, bit by bit as the sources changed, stopped and run again).

The clean build of all three (HTML, PDF, EPUB) is the `clean_build` fixture in conftest.py, shared with
tests/test_reproducible.py, which compares its PDF and EPUB with `make`'s byte for byte.
"""

import shutil
import subprocess

from conftest import BUILD, HTML, ROOT, clean_build_env, sphinx_build


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_html_builds_from_clean_without_warnings(clean_build):
    """The clean build (conftest.py) ran with -W, so a warning would have failed it; nor may it print one."""
    _, logs = clean_build
    for builder, output in logs.items():
        assert "WARNING" not in output and "ERROR" not in output, f"{builder}: {output}"


def test_make_s_parallel_build_gives_the_clean_serial_result(clean_build):
    """Reproducible: `make` reads and writes the pages in parallel (-j auto), and has built them bit by bit
    as the sources changed; every file of the clean build in one process is byte-identical in its site."""
    clean, _ = clean_build
    a, b = _tree(HTML), _tree(clean / "html")
    assert [str(n) for n in b if n not in a] == [], "files the clean build has and make's site lacks"
    assert [str(n) for n in b if a[n] != b[n]] == [], (
        "make's site differs from a clean build of the same sources (the clean build takes its date from "
        "make's PDF: after `make html` alone on a later day, run `make`)")


def test_a_build_stopped_after_reading_is_finished_by_the_next(clean_build, tmp_path):
    """A build stopped once it has read every page (Sphinx has saved what it read: interrupted while writing,
    say) is finished by the next, in parallel, to the same bytes as the clean build. The clean build's saved
    state, without its site, is that stopped build: the next reads nothing again and writes every page."""
    clean, _ = clean_build
    out = tmp_path / "stopped"
    shutil.copytree(clean / "doctrees", out / "doctrees")
    result = sphinx_build("html", out, env=clean_build_env(), extra=["-j", "2"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 added, 0 changed, 0 removed" in result.stdout, \
        "the next build read the pages again: it did not resume the stopped one"
    a, b = _tree(out / "html"), _tree(clean / "html")
    assert a.keys() == b.keys()
    assert [str(n) for n in a if a[n] != b[n]] == []


def test_make_has_nothing_left_to_do_after_a_build():
    """`make` a second time does no work: every output is newer than its sources."""
    result = subprocess.run(["make", "-q", f"BUILDDIR={BUILD}", "all"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make would rebuild something: " + result.stdout + result.stderr
