"""Reproducible books: two clean builds of the same sources with the same SOURCE_DATE_EPOCH give a
byte-identical PDF and EPUB (tests/test_build.py checks the HTML).

Slow (two PDF and two EPUB builds, run side by side: about 15 s on 2 cores), so not marked fast:
`make test` runs it, `make check` does not.
"""

import hashlib
import os
import shlex
import subprocess
import zipfile

from conftest import DOCS, ROOT, VENV_BIN

BOOKS = {"latexpdf": "latex/ketamine-anxiety-handbook.pdf", "epub": "epub/ketamine-anxiety-handbook.epub"}


def build_books(out, env, jobs, umask="022"):
    """Start building the PDF, then the EPUB, into OUT; return the running shell."""
    commands = [shlex.join([str(VENV_BIN / "sphinx-build"), "-M", builder, str(DOCS), str(out), "-c", str(ROOT),
                            "-q", "-W", "--keep-going", "-n", *jobs]) for builder in BOOKS]
    script = f"umask {umask} && " + " && ".join(commands)
    return subprocess.Popen(["sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_two_clean_builds_give_byte_identical_pdf_and_epub(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1790000000", "TZ": "UTC"}
    # One build as `make` runs it (parallel), one serial, and with another time zone and umask: none of
    # them may leak into the files.
    first = build_books(tmp_path / "a", env, ["-j", "2"])
    second = build_books(tmp_path / "b", {**env, "TZ": "Pacific/Auckland"}, [], umask="077")
    for build in (first, second):
        output = build.communicate(timeout=300)[0]
        assert build.returncode == 0, output[-3000:]
    for book in BOOKS.values():
        a, b = (tmp_path / "a" / book).read_bytes(), (tmp_path / "b" / book).read_bytes()
        assert a == b, f"{book} differs between two builds: {describe_difference(a, b, book)}"


def describe_difference(a, b, book):
    """Where two builds of a book differ, to start the search for the cause."""
    if book.endswith(".epub"):
        import io

        with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
            if za.namelist() != zb.namelist():
                return f"entries or their order differ: {za.namelist()} / {zb.namelist()}"
            differing = [i.filename for i, j in zip(za.infolist(), zb.infolist(), strict=True)
                         if za.read(i) != zb.read(j) or i.date_time != j.date_time
                         or i.external_attr != j.external_attr]
            return f"entries differ (content, date or mode): {differing}"
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return (f"sizes {len(a)} / {len(b)}, first difference at byte {first}: {a[first - 60:first + 60]!r}; "
            f"sha256 {hashlib.sha256(a).hexdigest()[:12]} / {hashlib.sha256(b).hexdigest()[:12]}")
