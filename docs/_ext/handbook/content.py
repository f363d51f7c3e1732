"""Content checks and what every page carries.

* The one shared disclaimer and crisis-help snippet (`handbook_disclaimer`) is appended to every page.
* No raw HTML, no image or diagram without alt text, and a Key points box on every page.
* Tables are marked `longtable`, so in the PDF a long table may break across pages.
* An unknown label, page or glossary term gets Sphinx's message with the nearest known name ("did you
  mean ...?") or how to fix it, through Sphinx's public `missing-reference` event; a Markdown link to a
  page or heading that does not exist gets the nearest one too (MyST has no hook for it: see
  SuggestLinkTargets).
"""

from __future__ import annotations

import difflib
import os

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.errors import NoUri
from sphinx.ext.graphviz import graphviz
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from .util import did_you_mean, warn


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


# -- Cross-references: a near miss gets "did you mean ...?" ------------------------------------------

# Sphinx's own wording of each message (so it reads as before), and how to fix it when no name is close.
UNKNOWN_TARGET = {
    "ref": ("undefined label: {target!r}", "a label is written '(name)=' on the line above a heading"),
    "numref": ("undefined label: {target!r}", "a label is written '(name)=' on the line above a figure"),
    "doc": ("unknown document: {target!r}", "name a page by its file name without '.md', e.g. {{doc}}`glossary`"),
    "term": ("term not in glossary: {target!r}", "add the term to glossary.md, or link a defined one with "
             "{{term}}`your words <term>`"),
}


def known_targets(env, domain, reftype):
    """The names a reference of this type may use, as Sphinx matches them (glossary terms whatever their
    case), each with the name to suggest."""
    if reftype in ("ref", "numref"):
        return {name: name for name in [*domain.labels, *domain.anonlabels]}
    if reftype == "doc":
        return {name: name for name in env.found_docs}
    return {name.lower(): name for name, _, objtype, *_ in domain.get_objects() if objtype == "term"}


def warn_unknown_target(app, env, node, contnode):
    """Sphinx's warning for an unknown {ref}, {numref}, {doc} or {term} target, with a suggestion.

    Runs last among `missing-reference` handlers, when nothing could resolve the reference. Raising NoUri
    is the documented way to stop Sphinx's own warning (which has no suggestion); the link text stays,
    unlinked, as Sphinx leaves it for any unresolved reference."""
    reftype, target = node.get("reftype"), node.get("reftarget", "")
    if node.get("refdomain") != "std" or reftype not in UNKNOWN_TARGET:
        return None
    if not (app.config.nitpicky or node.get("refwarn")) or {(f"std:{reftype}", target), (reftype, target)} & set(
            app.config.nitpick_ignore):
        return None
    std = env.domains["std"]
    if reftype == "ref" and target in std.anonlabels:  # a label that is not on a heading: no text to show
        logging.getLogger(__name__).warning(
            f"label {target!r} is not above a heading, so a link to it needs its own text: write "
            f"{{ref}}`your words <{target}>`", location=node, type="ref", subtype=reftype)
        raise NoUri
    message, hint = UNKNOWN_TARGET[reftype]
    known = known_targets(env, std, reftype)
    close = difflib.get_close_matches(target.lower() if reftype == "term" else target, known, n=1, cutoff=0.6)
    suggestion = f" (did you mean '{known[close[0]]}'?)" if close else f": {hint}"
    if close and reftype == "term" and "<" not in node.get("reftarget", "") and not node.get("refexplicit"):
        # The reader's words can stay: {term}`synapses <synapse>`.
        suggestion += f"; to keep your wording, write {{term}}`{target} <{known[close[0]]}>`"
    logging.getLogger(__name__).warning(message.format(target=target) + suggestion, location=node,
                                        type="ref", subtype=reftype)
    raise NoUri


class SuggestLinkTargets(SphinxPostTransform):
    """A Markdown link to a page or a heading that does not exist, with a near miss: '[..](glosary.md)',
    '[..](mechanism.md#glutamate-and-nmda-receptrs)', '[..](#a-sectoin)'.

    MyST warns about these without a suggestion and offers no hook to add one. This runs just before
    MyST resolves links (its priority is 9) and, only when a known name is close, gives the warning with
    "did you mean ...?" and leaves the link text unlinked, so MyST does not warn a second time. Links
    with no close name are left to MyST's own warning."""

    default_priority = 8

    def run(self, **kwargs):
        env = self.env
        std = env.domains["std"]
        for node in list(self.document.findall(pending_xref)):
            if node.get("reftype") != "myst":
                continue
            labels = set(std.labels) | set(std.anonlabels)
            target, doc = node.get("reftarget", ""), node.get("refdoc", env.docname)
            if node.get("refdomain") == "doc":
                anchor = node.get("reftargetid")
                if target not in env.all_docs or not anchor:
                    continue
                anchors = self.anchors(target) | {name for name, (d, *_) in std.labels.items() if d == target}
                wanted, choices, what = anchor, anchors, f"no heading or label '#{anchor}' in {target}"
            else:
                local = self.anchors(doc)
                docs = {f"{name}.md" for name in env.found_docs}
                if target in labels or target in local or target.removesuffix(".md") in env.found_docs:
                    continue
                wanted, choices, what = target, labels | local | docs, f"link target not found: '{target}'"
            suggestion = did_you_mean(wanted, choices)
            if suggestion:
                logging.getLogger(__name__).warning(what + suggestion, location=node, type="ref", subtype="myst")
                node.replace_self(node[0].deepcopy())

    def anchors(self, docname):
        """The heading anchors MyST made for a page (myst_heading_anchors), and its sections' ids."""
        slugs = self.env.metadata.get(docname, {}).get("myst_slugs", {})
        return set(slugs) | {section_id for _, section_id, _ in slugs.values()}


def setup(app):
    app.add_post_transform(SuggestLinkTargets)
    app.connect("missing-reference", warn_unknown_target, priority=950)
    app.add_config_value("handbook_disclaimer", "_snippets/disclaimer.md", "env")
    app.connect("source-read", append_disclaimer)
    app.connect("doctree-read", check_page, priority=400)
