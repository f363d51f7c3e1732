r"""Edition: one edition number, stated with its date in the PDF, the EPUB and on every web page.

- The number lives in one place, the VERSION file at the top of the project: conf.py reads it into
  ``version`` and ``release``, and everything here reads those. CITATION.cff and .zenodo.json carry copies
  for GitHub and Zenodo, which `make release` writes and tests/test_edition.py compares.
- The date is the build date, ``handbook_build_date``: the day of SOURCE_DATE_EPOCH, which the Makefile
  sets from the last commit, so an edition built again keeps its date.
- The statement reads "Edition 1.0, 27 November 2026".

Where it shows:

- PDF (pdf.py): the title page ("Edition 1.0, 27 November 2026" under the title; the running heads say
  "Edition 1.0"), then crisis help with the edition notice (how to cite the edition) at the foot of the same
  page; the pages in ``handbook_appendices`` (the "What changed" page) become appendices.
- HTML: each page's template context gets ``handbook_edition`` (the statement, the page's address, and
  "Cite this page" as text and as BibTeX), which docs/_templates/cite.html and edition.html show.
- The "What changed" page includes CHANGELOG.md, its headings read as "Edition 1.1, 5 January 2027" and
  "Since the last edition" (left out while empty, just after a release).
- EPUB: the description and contributor in content.opf (Sphinx writes "unknown" otherwise), beside the
  version Sphinx already records there (ibooks:version).
"""

from __future__ import annotations

import datetime
import re

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def edition_date(config):
    return datetime.date.fromisoformat(config.handbook_build_date)


def long_date(date):
    """27 November 2026, whatever the machine's locale."""
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def edition_statement(config):
    return f"Edition {config.version}, {long_date(edition_date(config))}"


def bibtex_escape(text):
    """Text for a BibTeX field: the characters LaTeX reads as commands escaped, braces dropped."""
    return "".join({"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "$": r"\$"}.get(c, c)
                   for c in text if c not in "{}")


def page_citation(config, title, url, reviewed=None):
    """'Cite this page' as text and as a BibTeX entry. The home page cites the handbook as a whole. REVIEWED
    (the page's last_reviewed date) is named in both; the reader adds the date they read it."""
    year = edition_date(config).year
    whole = title == config.project
    text = f"{config.author} ({year}). "
    text += (f"{config.project}, edition {config.version}. {url}" if whole else
             f"{title}. In {config.project}, edition {config.version}. {url}")
    if reviewed:
        text += f" (page last reviewed {long_date(reviewed)})"
    slug = url.removeprefix(config.html_baseurl).removesuffix(".html").replace("/", "-") or "index"
    key = f"ketamine-anxiety-handbook-{config.version}" + ("" if whole else f"-{slug}")
    fields = [("author", f"{{{bibtex_escape(config.author)}}}"), ("title", bibtex_escape(title))]
    if not whole:
        fields.append(("howpublished", bibtex_escape(f"{config.project}, edition {config.version}")))
    fields += [("version", config.version), ("year", str(year)), ("url", url)]
    if reviewed:
        fields.append(("note", f"Page last reviewed {reviewed.isoformat()}"))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields)
    return text, f"@misc{{{key},\n{body}\n}}"


# -- HTML -----------------------------------------------------------------------------------------


def add_edition_to_page(app, pagename, templatename, context, doctree):
    """The edition statement and the page's citation, for the templates (cite.html, edition.html)."""
    if app.builder.format != "html" or app.builder.name == "epub":
        return
    config = app.config
    title_node = app.env.titles.get(pagename)
    title = title_node.astext() if title_node is not None else config.project
    if pagename == config.root_doc:
        title = config.project
    url = config.html_baseurl + app.builder.get_target_uri(pagename)
    reviewed = (getattr(app.env, "handbook_pages", {}).get(pagename) or {}).get("last_reviewed")
    text, bibtex = page_citation(config, title, url, reviewed if hasattr(reviewed, "isoformat") else None)
    context["handbook_edition"] = {
        "version": config.version,
        "date": edition_date(config).isoformat(),
        "statement": edition_statement(config),
        "url": url,
        "citation": text,
        "bibtex": bibtex,
        "changes": "changes" in app.env.found_docs,
    }


# -- The EPUB -------------------------------------------------------------------------------------


def describe_epub(app, config):
    """The EPUB's description and contributor (Sphinx writes "unknown" otherwise)."""
    if config.epub_description in ("", "unknown"):
        config.epub_description = f"{config.project}. {edition_statement(config)}."
    if config.epub_contributor in ("", "unknown"):
        config.epub_contributor = config.author


# -- The changelog page ---------------------------------------------------------------------------


RELEASED_HEADING = re.compile(r"^\[(\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$")
UNRELEASED_HEADING = "[Unreleased]"
UNRELEASED_TITLE = "Since the last edition"


def readable_changelog(app, doctree):
    """CHANGELOG.md's headings as readers read them: "[1.1] - 2027-01-05" becomes "Edition 1.1, 5 January
    2027" and "[Unreleased]" becomes "Since the last edition". Right after a release the Unreleased section
    is empty: it is left out rather than printed as a bare heading."""
    for section in list(doctree.findall(nodes.section)):
        title = section.next_node(nodes.title)
        text = title.astext() if title is not None else ""
        released = RELEASED_HEADING.match(text)
        if released:
            date = datetime.date.fromisoformat(released.group(2))
            title.children = [nodes.Text(f"Edition {released.group(1)}, {long_date(date)}")]
        elif text == UNRELEASED_HEADING:
            if not [child for child in section.children if not isinstance(child, (nodes.title, nodes.target))]:
                section.parent.remove(section)
            else:
                title.children = [nodes.Text(UNRELEASED_TITLE)]


class HandbookCitation(SphinxDirective):
    """```{handbook-citation}```: the whole handbook's citation for this edition, as "Cite this page" gives it
    on the home page; in every format (the web pages, the PDF and the EPUB)."""

    def run(self):
        config = self.env.config
        text, _ = page_citation(config, config.project, config.html_baseurl)
        return [nodes.block_quote("", nodes.paragraph(text=text))]


def setup(app):
    app.add_directive("handbook-citation", HandbookCitation)
    app.add_config_value("handbook_appendices", ["changes"], "env")
    app.connect("doctree-read", readable_changelog, priority=400)  # before Sphinx collects the contents
    app.connect("config-inited", describe_epub)
    app.connect("html-page-context", add_edition_to_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
