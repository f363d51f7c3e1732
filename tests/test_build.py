"""Build: the HTML builds from clean with zero warnings, and the same sources give the same bytes however
the build ran (in one process or in parallel, interrupted and run again).

The PDF and EPUB: tests/test_reproducible.py builds both from clean twice, with warnings as errors, and
compares them byte for byte. Two HTML builds here (about 8 s on 2 cores) cover what five did before.
"""

import os
import signal
import subprocess
import time

import pytest
from conftest import BUILD, DOCS, ROOT, VENV_BIN, sphinx_build

ENV = {"SOURCE_DATE_EPOCH": "1790000000"}


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean_serial(tmp_path_factory):
    """One clean HTML build in one process, with the project's options (-W --keep-going -n)."""
    out = tmp_path_factory.mktemp("clean")
    return out / "html", sphinx_build("html", out, env=ENV, extra=["-q"])


def test_html_builds_from_clean_without_warnings(clean_serial):
    _, result = clean_serial
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr
    assert "ERROR" not in result.stderr, result.stderr


def test_a_parallel_build_interrupted_and_run_again_gives_the_clean_serial_result(clean_serial, tmp_path):
    """Reproducible: pages read and written in parallel (as `make` runs Sphinx, -j), a build killed once it
    has begun to write, then run again: every file is byte-identical to one clean build in one process."""
    out = tmp_path / "interrupted"
    cmd = [str(VENV_BIN / "sphinx-build"), "-M", "html", str(DOCS), str(out), "-c", str(ROOT), "-q", "-j", "2"]
    proc = subprocess.Popen(cmd, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (out / "html" / "_static").exists() and time.time() < deadline:  # every page read, writing begins
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sphinx_build("html", out, env=ENV, extra=["-q", "-j", "2"]).returncode == 0
    clean, _ = clean_serial
    a, b = _tree(out / "html"), _tree(clean)
    assert a.keys() == b.keys()
    assert [str(n) for n in a if a[n] != b[n]] == []


def test_make_has_nothing_left_to_do_after_a_build():
    """`make` a second time does no work: every output is newer than its sources."""
    result = subprocess.run(["make", "-q", f"BUILDDIR={BUILD}", "all"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make would rebuild something: " + result.stdout + result.stderr
