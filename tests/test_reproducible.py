"""Reproducible books: a clean build of the same sources with the same SOURCE_DATE_EPOCH (the `clean_build`
fixture in conftest.py) gives a PDF and an EPUB byte-identical to the ones `make` built
(tests/test_build.py checks the HTML).

The clean build is slow (about 9 s on a quiet machine), so that test is not marked fast: `make test` runs
it, `make check` does not. The parts that make the books reproducible and accessible
(docs/_ext/handbook/books.py for the EPUB) are tested in-process below, and are fast. The PDF's dates
come from SOURCE_DATE_EPOCH (docs/_ext/handbook/pdf.py).
"""

import hashlib
import os
import re
import shutil
import zipfile

import pytest
from conftest import BUILD, ROOT, source_date_epoch

# The EPUB, and the one HTML document the PDF is printed from (with the pictures it uses); the PDF itself
# is WeasyPrint's print of that document, deterministic as the test after this one shows.
BOOKS = {"pdf": "pdf/handbook.html", "epub": "epub/ketamine-anxiety-handbook.epub"}


def test_a_clean_build_gives_the_same_pdf_document_and_epub_as_make(clean_build):
    """`make` built its books in parallel, in the machine's time zone, with umask 022 (and, on a working
    copy, perhaps bit by bit as pages changed); the clean build (conftest.py) did none of that. None of it
    may leak into the files."""
    clean, _ = clean_build
    # The pictures the document uses (make's folder may also hold a diagram an earlier build left there).
    images = sorted(set(re.findall(r'src="_images/([^"]+)"', (clean / BOOKS["pdf"]).read_text(encoding="utf-8"))))
    for name in images:
        assert (BUILD / "pdf" / "_images" / name).read_bytes() == (clean / "pdf" / "_images" / name).read_bytes()
    for book in BOOKS.values():
        made, again = (BUILD / book).read_bytes(), (clean / book).read_bytes()
        assert made == again, (f"{book} from `make` differs from a clean build: "
                               f"{describe_difference(made, again, book)}. If `make clean && make test` "
                               "passes, an incremental build leaves something behind in the book.")


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


def test_weasyprint_prints_the_same_document_twice_to_the_same_bytes(built, tmp_path, monkeypatch):
    """The PDF's half of reproducibility: the same document, stylesheet and SOURCE_DATE_EPOCH give the same
    bytes (dates from SOURCE_DATE_EPOCH, the /ID a hash of the content). Shown on make's own document cut
    to its first chapters (the whole book takes about 13 s to lay out), with the pdf builder's writer."""
    from handbook.pdf import write_pdf

    document = (BUILD / "pdf" / "handbook.html").read_text(encoding="utf-8")
    third_chapter = document.index('<section class="chapter"', document.index('<section class="chapter"') + 1)
    (tmp_path / "pdf").mkdir()
    shutil.copytree(BUILD / "pdf" / "_images", tmp_path / "pdf" / "_images")
    short = tmp_path / "pdf" / "short.html"
    short.write_text(document[:third_chapter] + "</section></body></html>", encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", source_date_epoch(BUILD / "pdf" / "ketamine-anxiety-handbook.pdf"))
    css = (ROOT / "docs" / "_pdf" / "handbook-pdf.css").read_text(encoding="utf-8")
    write_pdf(str(short), str(tmp_path / "one.pdf"), css)
    write_pdf(str(short), str(tmp_path / "two.pdf"), css)
    one, two = (tmp_path / "one.pdf").read_bytes(), (tmp_path / "two.pdf").read_bytes()
    assert one == two, describe_difference(one, two, "pdf")
    assert len(one) > 10_000


# -- The parts that make the books reproducible and accessible, in-process (fast) -------------------


@pytest.mark.fast
def test_epub_zipped_again_is_the_same_whatever_the_files_dates_and_modes(tmp_path):
    from handbook.books import rezip

    books = []
    for name, (mtime, mode) in {"a": (1_000_000_000, 0o600), "b": (1_900_000_000, 0o644)}.items():
        out = tmp_path / name
        (out / "META-INF").mkdir(parents=True)
        files = {"mimetype": b"application/epub+zip", "META-INF/container.xml": b"<container/>",
                 "index.xhtml": b"<html/>"}
        with zipfile.ZipFile(out / "book.epub", "w") as book:  # as Sphinx zips it
            for path, data in files.items():
                (out / path).write_bytes(data)
                os.chmod(out / path, mode)
                os.utime(out / path, (mtime, mtime))
                book.write(out / path, path)
        rezip(out / "book.epub", out, 1790000000)
        books.append((out / "book.epub").read_bytes())
    assert books[0] == books[1]
    with zipfile.ZipFile(tmp_path / "a" / "book.epub") as book:
        assert book.namelist()[0] == "mimetype" and book.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert {info.date_time for info in book.infolist()} == {(2026, 9, 21, 14, 13, 20)}


@pytest.mark.fast
def test_epub_package_and_navigation_gain_their_accessibility_markup():
    from handbook.books import accessibility_metadata, label_navigation

    opf = '<package>\n  <metadata>\n    <dc:title>T</dc:title>\n  </metadata>\n</package>'
    once = accessibility_metadata(opf, "The publisher")
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                 "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert f'<meta property="{prop}">' in once, prop
    assert once.index("schema:accessMode") < once.index("</metadata>")
    assert accessibility_metadata(once, "The publisher") == once
    nav = label_navigation('<nav epub:type="toc">\n<h1>Contents</h1>')
    assert nav.startswith('<nav epub:type="toc" role="doc-toc">') and label_navigation(nav) == nav
