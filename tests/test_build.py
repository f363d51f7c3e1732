"""Build: the HTML, PDF and EPUB each build from clean with zero warnings."""

import pytest
from conftest import sphinx_build


@pytest.mark.parametrize("builder", ["html", "latexpdf", "epub"])
def test_builds_from_clean_without_warnings(builder, tmp_path):
    result = sphinx_build(builder, tmp_path, extra=["-q"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr
    assert "ERROR" not in result.stderr, result.stderr


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_clean_builds_give_identical_html(tmp_path):
    """Reproducible: the same sources and SOURCE_DATE_EPOCH give byte-identical HTML, every file,
    whether the pages are built in parallel (as `make` does) or in one process."""
    env = {"SOURCE_DATE_EPOCH": "1790000000"}
    first, second = tmp_path / "a", tmp_path / "b"
    assert sphinx_build("html", first, env=env, extra=["-q", "-j", "2"]).returncode == 0
    assert sphinx_build("html", second, env=env, extra=["-q"]).returncode == 0
    a, b = _tree(first / "html"), _tree(second / "html")
    assert a.keys() == b.keys()
    differing = [str(name) for name in a if a[name] != b[name]]
    assert not differing, differing


def test_two_clean_builds_give_the_same_pdf_text(tmp_path):
    from pypdf import PdfReader

    env = {"SOURCE_DATE_EPOCH": "1790000000"}
    texts = []
    for name in ("a", "b"):
        assert sphinx_build("latexpdf", tmp_path / name, env=env, extra=["-q"]).returncode == 0
        reader = PdfReader(str(tmp_path / name / "latex" / "ketamine-anxiety-handbook.pdf"))
        texts.append([page.extract_text() for page in reader.pages])
    assert texts[0] == texts[1]


def test_an_interrupted_build_run_again_gives_the_clean_result(tmp_path):
    import signal
    import subprocess
    import time

    from conftest import DOCS, ROOT, VENV_BIN

    env = {"SOURCE_DATE_EPOCH": "1790000000"}
    out = tmp_path / "interrupted"
    cmd = [str(VENV_BIN / "sphinx-build"), "-M", "html", str(DOCS), str(out), "-c", str(ROOT), "-q"]
    proc = subprocess.Popen(cmd, env={**__import__("os").environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not (out / "html" / "_static").exists() and time.time() < deadline:  # writing has begun
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sphinx_build("html", out, env=env, extra=["-q"]).returncode == 0
    assert sphinx_build("html", tmp_path / "clean", env=env, extra=["-q"]).returncode == 0
    a, b = _tree(out / "html"), _tree(tmp_path / "clean" / "html")
    assert a.keys() == b.keys()
    assert [str(n) for n in a if a[n] != b[n]] == []


def test_make_has_nothing_left_to_do_after_a_build():
    """`make` a second time does no work: every output is newer than its sources."""
    import subprocess

    from conftest import BUILD, ROOT

    result = subprocess.run(["make", "-q", f"BUILDDIR={BUILD}", "all"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "make would rebuild something: " + result.stdout + result.stderr
