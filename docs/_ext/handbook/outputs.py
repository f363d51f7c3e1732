"""Outputs: the HTML site, the PDF and the EPUB.

* Download links: {handbook-download}`pdf` / {handbook-download}`epub`, resolved per builder.
* PDF completeness: every page must be in the PDF's toctrees.
* HTML: diagrams as <img> with alt text (not <object>), SVGs without a DOCTYPE (EPUB 3 forbids it),
  only the CSS and JS the pages use, the meta description from the front matter, ARIA fixes, and a
  complete sitemap.xml.
* Lighter pages: the body's indentation left out, and the site's own stylesheets written without their
  comments and spare spaces (the sources in docs/_static keep them), so that a first view stays light.
"""

from __future__ import annotations

import html
import os
import re

from docutils import nodes
from sphinx import addnodes
from sphinx.ext.graphviz import graphviz, render_dot

from .util import warn

# -- Download links -------------------------------------------------------------------


class download_link(nodes.Inline, nodes.TextElement):
    """A link to the PDF or EPUB edition, resolved per builder."""


DOWNLOAD_TEXT = {"pdf": "the PDF edition", "epub": "the EPUB edition", "csv": "the evidence table (CSV)"}


def download_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{handbook-download}`pdf`, {handbook-download}`epub` or {handbook-download}`csv` (the evidence table)."""
    kind = text.strip().lower()
    if kind not in DOWNLOAD_TEXT:
        msg = inliner.reporter.warning(f"unknown download '{text}' (use pdf, epub or csv)", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return [download_link(rawtext, DOWNLOAD_TEXT[kind], kind=kind)], []


def resolve_download_links(app, doctree, docname):
    """On the website the files sit at the site root; in the PDF and EPUB, link to the website."""
    config = app.config
    filename = {"pdf": config.handbook_pdf_name, "epub": config.handbook_epub_name,
                "csv": getattr(config, "handbook_studies_csv", "studies.csv")}
    for node in list(doctree.findall(download_link)):
        name = filename[node["kind"]]
        if app.builder.name in ("html", "dirhtml"):
            uri = "../" * docname.count("/") + name
        else:
            uri = config.html_baseurl + name
        ref = nodes.reference("", "", refuri=uri, classes=["download-link"])
        ref += nodes.Text(node.astext())
        node.replace_self(ref)


# -- PDF completeness -------------------------------------------------------------------


def check_every_page_in_pdf(app, doctree, docname):
    """The PDF is assembled from the root page's toctrees: every page must end up in it."""
    if app.builder.name != "pdf" or docname != app.config.root_doc:
        return
    included = {node["docname"] for node in doctree.findall(addnodes.start_of_file)} | {docname}
    for missing in sorted(set(app.env.found_docs) - included):
        warn("page is missing from the PDF: include it in a toctree the PDF build sees "
             "(not inside an 'only' block)", missing, 1, subtype="pdf")


# -- HTML output --------------------------------------------------------------------


def _drop_svg_doctype(path):
    """Graphviz writes an SVG 1.1 DOCTYPE with external entities, which EPUB 3 forbids."""
    if not path or not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        svg = f.read()
    cleaned = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg, count=1)
    if cleaned != svg:
        with open(path, "w", encoding="utf-8") as f:
            f.write(cleaned)


def visit_graphviz_html(self, node):
    """Diagrams as <img> with alt text; Sphinx's default <object> has no text alternative."""
    fname, outfn = render_dot(self, node["code"], node["options"], "svg", "graphviz")
    _drop_svg_doctype(outfn)
    alt = html.escape(node.get("alt", ""), quote=True)
    self.body.append(f'<div class="graphviz"><img src="{fname}" alt="{alt}" class="graphviz" /></div>\n')
    raise nodes.SkipNode


# Assets the handbook does not use: no code (pygments), no tabs, no ads or version menus
# (furo-extensions); the few sphinx-design and graphviz rules it needs are in handbook.css.
UNUSED_ASSETS = {"pygments.css", "sphinx-design.min.css", "graphviz.css", "styles/furo-extensions.css",
                 "design-tabs.js"}


def _asset_name(asset):
    return str(getattr(asset, "filename", asset)).split("?")[0].removeprefix("_static/")


def on_html_page_context(app, pagename, templatename, context, doctree):
    """Ship only the CSS and JS the page uses, and the description from the front matter."""
    for key in ("css_files", "script_files"):
        if key in context:
            context[key] = [a for a in context[key] if _asset_name(a) not in UNUSED_ASSETS]
    if "body" in context:
        # Bibliography entries sit in a role="list" container; docutils marks each one with the
        # deprecated role "doc-biblioentry", which leaves the list without list items.
        context["body"] = context["body"].replace(' role="doc-biblioentry"', ' role="listitem"')
        # Code examples (in the contributing guide) may scroll sideways: keyboard users must reach them.
        context["body"] = context["body"].replace('<div class="highlight"><pre>',
                                                  '<div class="highlight"><pre tabindex="0">')
        if app.builder.name == "html" and "<thead>" in context["body"]:
            context["body"] = label_table_cells(context["body"])
    meta = app.env.handbook_pages.get(pagename, {})
    description = meta.get("description")
    if description:
        context["metatags"] = context.get("metatags", "") + (
            f'\n    <meta name="description" content="{html.escape(description, quote=True)}" />')
    context["handbook_meta"] = meta


TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL)


def label_table_cells(body):
    """Each body cell of a table with a header row, after the first (which names the row), gets its column's
    name (data-label): on a phone, where handbook.css shows each row as a block, the name heads the cell, so
    no table runs off the screen and no word is broken."""

    def label(table):
        head = re.search(r"<thead>(.*?)</thead>", table, re.DOTALL)
        if not head:
            return table
        names = [html.escape(re.sub(r"<[^>]+>", "", th).strip(), quote=True)
                 for th in re.findall(r"<th\b[^>]*>(.*?)</th>", head.group(1), re.DOTALL)]

        def row(match):
            # The first cell names the row, as its heading: it needs no label of its own.
            cells = iter(["", *names[1:]])
            return re.sub(r"<td\b", lambda _: f'<td data-label="{next(cells, "")}"', match.group(0))

        rest = re.sub(r"<tr\b.*?</tr>", row, table[head.end():], flags=re.DOTALL)
        opening = re.sub(r'^<table class="', '<table class="labelled-cells ', table[:head.end()], count=1)
        return opening + rest

    return TABLE.sub(lambda m: label(m.group(0)), body)


def fix_navigation_headings(app, pagename, templatename, context, doctree):
    """Sidebar captions have role="heading" but no level, which ARIA requires."""
    tree = context.get("furo_navigation_tree")
    if tree:
        context["furo_navigation_tree"] = tree.replace('class="caption" role="heading">',
                                                       'class="caption" role="heading" aria-level="2">')


def write_sitemap(app, exception):
    """sitemap.xml listing every page at the site's base URL. (sphinx-sitemap lists only the pages
    an incremental build rewrote, so a second `make html` would publish a partial sitemap.)"""
    if exception is not None or app.builder.name != "html":
        return
    base = app.config.html_baseurl
    urls = "".join(f"  <url><loc>{html.escape(base + app.builder.get_target_uri(doc))}</loc></url>\n"
                   for doc in sorted(app.env.found_docs))
    with open(os.path.join(app.outdir, "sitemap.xml"), "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n")


# -- Lighter pages -----------------------------------------------------------------------

KEEP_AS_WRITTEN = re.compile(r"(<pre\b.*?</pre>|<textarea\b.*?</textarea>|<script\b.*?</script>)", re.DOTALL)


def dedent_html(text):
    """HTML without the indentation at the start of its lines, except inside <pre>, <textarea> and <script>:
    a browser shows the same page (a line break still separates words), and the page is about 2 KB lighter.
    A template filter: page.html applies it to the page's body."""
    parts = KEEP_AS_WRITTEN.split(text)
    return "".join(part if i % 2 else re.sub(r"\n[ \t]+", "\n", part) for i, part in enumerate(parts))


SYMBOL = re.compile(r'<symbol id="([^"]+)".*?</symbol>\n?', re.DOTALL)


def drop_unused_icons(text):
    """furo's page carries every icon it might show as an SVG <symbol>; those the page never uses (<use
    href="#id">), such as the edit and view icons the handbook turns off, are left out (about 1 KB)."""
    return SYMBOL.sub(lambda m: m.group(0) if f'href="#{m.group(1)}"' in text else "", text)


def add_template_filters(app):
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["dedent_html"] = dedent_html
        templates.environment.filters["drop_unused_icons"] = drop_unused_icons


# -- Stylesheets ------------------------------------------------------------------------

OWN_STYLESHEETS = ("handbook.css", "panels.css", "checklist.css")


def minify_css(text):
    """CSS without comments, and without the spaces around braces and semicolons and after colons and
    commas. (The handbook's stylesheets have no colon or comma followed by a space inside a string.)"""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};])\s*", r"\1", text)
    text = re.sub(r"([:,]) ", r"\1", text)
    return text.replace(";}", "}").strip() + "\n"


def minify_stylesheets(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    for name in OWN_STYLESHEETS:
        path = os.path.join(app.outdir, "_static", name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(minify_css(text))


def setup(app):
    app.add_config_value("handbook_pdf_name", "handbook.pdf", "env")
    app.add_config_value("handbook_epub_name", "handbook.epub", "env")
    app.add_role("handbook-download", download_role)
    app.add_node(download_link)
    app.connect("doctree-resolved", resolve_download_links)
    app.connect("doctree-resolved", check_every_page_in_pdf)
    app.add_node(graphviz, override=True, html=(visit_graphviz_html, None))
    app.connect("html-page-context", on_html_page_context, priority=400)
    app.connect("html-page-context", fix_navigation_headings, priority=900)  # after furo builds the tree
    app.connect("build-finished", write_sitemap)
    app.connect("build-finished", minify_stylesheets)
    app.connect("builder-inited", add_template_filters)
