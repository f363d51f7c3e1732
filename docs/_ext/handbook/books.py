"""The EPUB: a book that rebuilds byte for byte, and that Ace by DAISY passes. (The PDF is pdf.py's.)

Reproducible (two clean builds with the same SOURCE_DATE_EPOCH give identical files;
tests/test_reproducible.py):

- EPUB: Sphinx zips each file with its modification time. ``finish_epub`` zips the book again, in the same
  order (``mimetype`` first and uncompressed, as EPUB requires), every entry dated SOURCE_DATE_EPOCH and
  readable by all.

Accessible (EPUB Accessibility 1.1, as Ace by DAISY checks it; tests/test_epub_accessibility.py):

- every XHTML document's ``<html>`` says its language (``lang`` and ``xml:lang``);
- the navigation document's ``<nav epub:type="toc">`` has the matching ARIA role ``doc-toc``;
- content.opf declares how the book can be read (schema.org accessibility metadata, ACCESSIBILITY below)
  and the standard it aims at.

Both changes to content.opf and nav.xhtml are made to the files Sphinx wrote, after it wrote them
(the build-finished event), so no Sphinx template or internal is replaced.
"""

from __future__ import annotations

import html
import os
import re
import time
import zipfile

XHTML_TAG = '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" ' \
            'lang="{lang}" xml:lang="{lang}">'

# What a reader needs to know before choosing this book (https://www.w3.org/TR/epub-a11y-11/).
# Only what is true of every build: the build checks alt text on every image and diagram.
ACCESSIBILITY = [
    ("schema:accessMode", "textual"),
    ("schema:accessMode", "visual"),  # two diagrams, each with a text alternative
    ("schema:accessModeSufficient", "textual"),
    ("schema:accessibilityFeature", "alternativeText"),
    ("schema:accessibilityFeature", "displayTransformability"),
    ("schema:accessibilityFeature", "index"),
    ("schema:accessibilityFeature", "readingOrder"),
    ("schema:accessibilityFeature", "structuralNavigation"),
    ("schema:accessibilityFeature", "tableOfContents"),
    ("schema:accessibilityHazard", "none"),
    ("schema:accessibilitySummary",
     "Reflowable text with headings in order, a navigable table of contents, an index, and a text "
     "alternative for each diagram; the language of every document is declared. Every build is checked "
     "with Ace by DAISY and EPUBCheck; the book has not been audited by an outside organisation."),
    ("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"),
]


def source_date():
    """The build's moment: SOURCE_DATE_EPOCH when set (the Makefile sets it), else now."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))


# -- EPUB -----------------------------------------------------------------------------------------


def declare_language(app, pagename, templatename, context, doctree):
    """Sphinx's EPUB pages open with an <html> tag that has no language: give it one."""
    if app.builder.name == "epub":
        context["html_tag"] = XHTML_TAG.format(lang=html.escape(app.config.language or "en"))


def accessibility_metadata(opf, publisher):
    """content.opf with the accessibility metadata added before </metadata>."""
    if "schema:accessMode" in opf:
        return opf
    lines = [f'    <meta property="{prop}">{html.escape(value)}</meta>' for prop, value in ACCESSIBILITY]
    lines.append(f'    <meta property="a11y:certifiedBy">{html.escape(publisher)}</meta>')
    return opf.replace("  </metadata>", "\n".join(lines) + "\n  </metadata>", 1)


def label_navigation(nav):
    """The table of contents' epub:type with its ARIA role."""
    return re.sub(r'<nav epub:type="toc"(?![^>]*role=)', '<nav epub:type="toc" role="doc-toc"', nav)


def declare_inline_svg(opf, outdir):
    """content.opf with properties="svg" on each page that draws inline SVG (the icon arrays), as EPUB 3
    requires of a content document that holds SVG."""
    def item(match):
        tag, href = match.group(0), match.group(1)
        path = os.path.join(outdir, href)
        if "properties=" in tag or not href.endswith(".xhtml") or not os.path.exists(path):
            return tag
        with open(path, encoding="utf-8") as f:
            has_svg = "<svg" in f.read()
        return tag.replace(' media-type=', ' properties="svg" media-type=', 1) if has_svg else tag

    return re.sub(r'<item [^>]*href="([^"]+)"[^>]*/>', item, opf)


def _edit(path, change, *args):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(change(text, *args))


def rezip(epub_path, outdir, date):
    """Zip the EPUB again from the files in outdir, in its own order, each entry dated `date`."""
    with zipfile.ZipFile(epub_path) as old:
        names = old.namelist()
    stamp = time.gmtime(max(date, 315532800))[:6]  # zip dates start in 1980
    with zipfile.ZipFile(epub_path, "w") as book:
        for name in names:
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.create_system = 3  # Unix, whatever the machine
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            with open(os.path.join(outdir, name), "rb") as f:
                book.writestr(entry, f.read())


def finish_epub(app, exception):
    if exception is not None or app.builder.name != "epub":
        return
    outdir = str(app.outdir)
    _edit(os.path.join(outdir, "content.opf"), accessibility_metadata, app.config.epub_publisher)
    _edit(os.path.join(outdir, "content.opf"), declare_inline_svg, outdir)
    _edit(os.path.join(outdir, "nav.xhtml"), label_navigation)
    rezip(os.path.join(outdir, app.config.epub_basename + ".epub"), outdir, source_date())


def setup(app):
    app.connect("html-page-context", declare_language)
    app.connect("build-finished", finish_epub)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
