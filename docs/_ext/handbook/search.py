"""Search: each page's front-matter keywords become index entries, which Sphinx's search ranks highly,
so a reader's word ("Spravato", "anxious") finds the page that answers it.

Two changes to Sphinx's own search indexing (keeping index entries across incremental builds, and
stemming each word once per build) are patches of Sphinx internals, so they live in patches.py.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes


def keyword_index(meta):
    """The page's front-matter keywords as main index entries."""
    entries = [("single", kw, "", "main", None) for kw in meta.get("keywords") or [] if isinstance(kw, str)]
    return addnodes.index(entries=entries) if entries else None


def add_keyword_index(app, doctree):
    """Put the keywords' index node right after the page title."""
    section = next(iter(doctree.findall(nodes.section)), None)
    keywords = keyword_index(app.env.handbook_pages.get(app.env.docname, {}))
    if section is None or keywords is None:
        return
    section.insert(section.index(section.next_node(nodes.title)) + 1, keywords)


def setup(app):
    # Before Sphinx collects index entries (priority 500); after frontmatter.add_review_dates (399).
    app.connect("doctree-read", add_keyword_index, priority=400)
