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
import zipfile

import pytest
from conftest import BUILD

BOOKS = {"pdf": "pdf/ketamine-anxiety-handbook.pdf", "epub": "epub/ketamine-anxiety-handbook.epub"}


def test_a_clean_build_gives_the_same_pdf_and_epub_as_make(clean_build):
    """`make` built its books in parallel, in the machine's time zone, with umask 022 (and, on a working
    copy, perhaps bit by bit as pages changed); the clean build (conftest.py) did none of that. None of it
    may leak into the files."""
    clean, _ = clean_build
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
