"""Build: the HTML builds from clean with zero warnings, and the same sources give the same bytes however
the build ran (in one process or in parallel, interrupted and run again).

The clean build of all three (HTML, PDF, EPUB) is the `clean_build` fixture in conftest.py, shared with
tests/test_reproducible.py, which compares its PDF and EPUB with `make`'s byte for byte.
"""

import os
import signal
import subprocess
import time

from conftest import BUILD, DOCS, PDF, ROOT, VENV_BIN, source_date_epoch, sphinx_build


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_html_builds_from_clean_without_warnings(clean_build):
    """The clean build (conftest.py) ran with -W, so a warning would have failed it; nor may it print one."""
    _, logs = clean_build
    for builder, output in logs.items():
        assert "WARNING" not in output and "ERROR" not in output, f"{builder}: {output}"


def test_a_parallel_build_interrupted_and_run_again_gives_the_clean_serial_result(clean_build, tmp_path):
    """Reproducible: pages read and written in parallel (as `make` runs Sphinx, -j), a build killed once it
    has begun to write, then run again: every file is byte-identical to the clean build in one process."""
    clean, _ = clean_build
    env = {**os.environ, "SOURCE_DATE_EPOCH": source_date_epoch(PDF)}
    out = tmp_path / "interrupted"
    cmd = [str(VENV_BIN / "sphinx-build"), "-M", "html", str(DOCS), str(out), "-c", str(ROOT), "-q", "-j", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (out / "html" / "_static").exists() and time.time() < deadline:  # every page read, writing begins
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sphinx_build("html", out, env=env, extra=["-q", "-j", "2"]).returncode == 0
    a, b = _tree(out / "html"), _tree(clean / "html")
    assert a.keys() == b.keys()
    assert [str(n) for n in a if a[n] != b[n]] == []


def test_make_has_nothing_left_to_do_after_a_build():
    """`make` a second time does no work: every output is newer than its sources."""
    result = subprocess.run(["make", "-q", f"BUILDDIR={BUILD}", "all"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make would rebuild something: " + result.stdout + result.stderr
