"""Content checks and what every page carries.

* The one shared disclaimer and crisis-help snippet (`handbook_disclaimer`) is appended to every page.
* No raw HTML, no image or diagram without alt text, and a Key points box on every page.
* Tables are marked `longtable`, so in the PDF a long table may break across pages.
"""

from __future__ import annotations

import os

from docutils import nodes
from sphinx.ext.graphviz import graphviz

from .util import warn


def append_disclaimer(app, docname, source):
    """The shared disclaimer and crisis help, appended so that line numbers in the page itself stay true."""
    snippet = os.path.relpath(app.config.handbook_disclaimer, os.path.dirname(docname) or ".")
    source[0] = source[0].rstrip("\n") + f"\n\n```{{include}} {snippet}\n```\n"


def located(node):
    """The node itself, or its nearest ancestor that knows its line (images do not)."""
    while node is not None and not node.line:
        node = node.parent
    return node


def check_doctree(docname, doctree):
    for node in doctree.findall(nodes.raw):
        warn("raw HTML or a raw block is not allowed in handbook pages; use Markdown or a "
             "MyST directive instead", location=node, subtype="raw")
    for node in doctree.findall(nodes.image):
        if not node.get("alt", "").strip():
            warn(f"image '{node.get('uri')}' has no alt text: describe it for readers who cannot see it",
                 location=located(node) or (docname, None), subtype="alt")
    for node in doctree.findall(graphviz):
        if not node.get("alt", "").strip():
            warn("diagram has no ':alt:' text: describe it for readers who cannot see it",
                 location=node, subtype="alt")
    has_key_points = any("key-points" in n["classes"] for n in doctree.findall(nodes.admonition))
    if not has_key_points:
        warn("page has no Key points box: add one at the top of the page, an admonition titled 'Key points' "
             "with ':class: key-points' and a short list (copy the box of another page)", docname, 1,
             subtype="key-points")
    check_one_title(doctree)


def check_one_title(doctree):
    """The front matter's title is the page's one '#' heading (myst_title_to_header): a '#' heading in
    the text makes a second top-level title, which splits the page in the PDF and the navigation."""
    titles = [section for section in doctree.children if isinstance(section, nodes.section)]
    for section in titles[1:]:
        title = section.next_node(nodes.title)
        warn(f"page has a second top-level title '{title.astext()}': the front matter's title is the page's "
             "only '#' heading; make this one a '##' section", location=located(title) or section,
             subtype="structure")


def check_page(app, doctree):
    for table in doctree.findall(nodes.table):
        table["classes"].append("longtable")  # in the PDF, a long table may break across pages
    check_doctree(app.env.docname, doctree)


def setup(app):
    app.add_config_value("handbook_disclaimer", "_snippets/disclaimer.md", "env")
    app.connect("source-read", append_disclaimer)
    app.connect("doctree-read", check_page, priority=400)
