"""The handbook's own Sphinx extension: editorial rules the build enforces.

Every rule reports through Sphinx's logger as a warning with a file and line, so
with ``-W`` (always on in the Makefile) a contributor's mistake fails the build
with a message in the familiar ``file:line: WARNING: ...`` form.

What it does:

* front matter: checks each page's YAML front matter against a small schema
  (title, description, last_reviewed, next_review, reviewers, keywords);
* review dates: shows "Last reviewed / Next review due" under each page title,
  and an "overdue for review" notice (and a warning) once the next review date
  has passed the build date;
* disclaimer: appends the one shared disclaimer and crisis-help snippet
  (``handbook_disclaimer``) to every page;
* evidence labels: the ``evidence`` directive, one of a fixed set of levels;
* safety checks: no raw HTML, no image or diagram without alt text, every page
  has a Key points box, every bibliography entry has a well-formed DOI or a URL
  and is cited somewhere;
* HTML: diagrams as ``<img>`` with alt text (not ``<object>``), the meta description from the
  front matter, only the CSS and JS the pages use, and a complete sitemap.xml.
"""

from __future__ import annotations

import datetime
import html
import os
import re

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.addnodes import pending_xref
from sphinx.ext.graphviz import graphviz, render_dot
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

# libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

logger = logging.getLogger(__name__)

# -- Front matter -------------------------------------------------------------

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)
DESCRIPTION_MAX = 160
REQUIRED_FIELDS = ("title", "description", "last_reviewed", "next_review", "reviewers", "keywords")


def _warn(message, docname=None, line=None, location=None, subtype="content"):
    logger.warning(message, location=location or (docname, line), type="handbook", subtype=subtype)


def _field_line(text, field):
    """Line number (1-based) of a front-matter field in the page source."""
    match = re.search(rf"^{re.escape(field)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def check_front_matter(docname, text):
    """Return the validated front matter of one page, warning about each problem."""
    match = FRONT_MATTER.match(text)
    if not match:
        _warn("page has no YAML front matter (a '---' block with title, description, "
              "last_reviewed, next_review, reviewers, keywords)", docname, 1)
        return {}
    try:
        data = yaml.load(match.group(1), Loader=YAML_LOADER) or {}
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", 0) + 2
        _warn(f"front matter is not valid YAML: {err}", docname, line)
        return {}
    if not isinstance(data, dict):
        _warn("front matter must be a mapping of field: value", docname, 2)
        return {}

    def bad(field, why):
        _warn(f"front matter field '{field}' {why}", docname, _field_line(text, field))

    for field in REQUIRED_FIELDS:
        if field not in data or data[field] in (None, "", []):
            _warn(f"front matter field '{field}' is missing", docname, 1)
    for field in ("title", "description"):
        if field in data and not isinstance(data[field], str):
            bad(field, "must be text")
    if isinstance(data.get("description"), str) and len(data["description"]) > DESCRIPTION_MAX:
        bad("description", f"is {len(data['description'])} characters long (at most {DESCRIPTION_MAX})")
    for field in ("last_reviewed", "next_review"):
        if field in data and not isinstance(data[field], datetime.date):
            bad(field, f"must be a date written YYYY-MM-DD, not {data[field]!r}")
            data.pop(field)
    if "last_reviewed" in data and "next_review" in data and data["next_review"] <= data["last_reviewed"]:
        bad("next_review", "must come after last_reviewed")
    for field in ("reviewers", "keywords"):
        value = data.get(field)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            bad(field, "must be a list of names or words, e.g. [one, two]")
    return data


def on_source_read(app, docname, source):
    text = source[0]
    env = app.env
    env.handbook_pages[docname] = check_front_matter(docname, text)
    # The shared disclaimer and crisis help, appended so that line numbers in
    # the page itself stay true.
    snippet = os.path.relpath(app.config.handbook_disclaimer, os.path.dirname(docname) or ".")
    source[0] = text.rstrip("\n") + f"\n\n```{{include}} {snippet}\n```\n"


def on_env_purge_doc(app, env, docname):
    env.handbook_pages.pop(docname, None)


def on_env_merge_info(app, env, docnames, other):
    env.handbook_pages.update({d: other.handbook_pages[d] for d in docnames if d in other.handbook_pages})


def on_builder_inited(app):
    if not hasattr(app.env, "handbook_pages"):
        app.env.handbook_pages = {}
    keep_index_entries_between_builds(app)
    check_bibliography(app)


# -- Review dates -----------------------------------------------------------------


def review_nodes(app, docname, meta):
    """The 'Last reviewed / Next review due' line, and the overdue notice when due."""
    last, nxt = meta.get("last_reviewed"), meta.get("next_review")
    if not (last and nxt):
        return []
    line = nodes.paragraph(classes=["review-dates"])
    line += nodes.strong(text="Last reviewed: ")
    line += nodes.Text(f"{last.isoformat()}.  ")
    line += nodes.strong(text="Next review due: ")
    line += nodes.Text(f"{nxt.isoformat()}.")
    result = [line]
    build_date = datetime.date.fromisoformat(app.config.handbook_build_date)
    if nxt < build_date:
        notice = nodes.admonition(classes=["overdue-review", "warning"])
        notice += nodes.title(text="Overdue for review")
        notice += nodes.paragraph(text=(
            f"This page was due for its next review on {nxt.isoformat()}. Its content may be out of "
            "date: check with a clinician before acting on it."))
        result.append(notice)
        message = f"page is overdue for review: next_review {nxt.isoformat()} is before the build date {build_date}"
        if app.config.handbook_allow_overdue:
            logger.info(message, location=(docname, None))
        else:
            source = app.env.doc2path(docname)
            with open(source, encoding="utf-8") as f:
                line_no = _field_line(f.read(), "next_review")
            _warn(message, docname, line_no, subtype="overdue")
    return result


def keyword_index(meta):
    """The page's front-matter keywords as main index entries, which Sphinx's search ranks highly,
    so a reader's word ("Spravato", "anxious") finds the page that answers it."""
    entries = [("single", kw, "", "main", None) for kw in meta.get("keywords") or [] if isinstance(kw, str)]
    return addnodes.index(entries=entries) if entries else None


def remember_stems(language):
    """Stem each word once per build. Sphinx keeps stems only while indexing one page, and the same
    words (the disclaimer's among them) come back on every page: stemming was about an eighth of a
    profiled cold build."""
    import functools

    if not hasattr(language.stem, "cache_info"):
        language.stem = functools.lru_cache(maxsize=None)(language.stem)


def keep_index_entries_between_builds(app):
    """Sphinx (9.0) forgets the index entries of pages an incremental HTML build does not rewrite,
    so a second `make html` would lose most keyword search results. Put them back from the
    previous search index, before the rewritten pages add their own."""
    builder = app.builder
    load_indexer = getattr(builder, "load_indexer", None)
    if load_indexer is None:
        return

    def load_indexer_with_entries(docnames):
        load_indexer(docnames)
        if builder.indexer is not None:
            remember_stems(builder.indexer.lang)
        path = os.path.join(builder.outdir, builder.searchindex_filename)
        if builder.indexer is None or not os.path.exists(path):
            return
        from sphinx.search import js_index

        with open(path, encoding="utf-8") as f:
            try:
                frozen = js_index.loads(f.read())
            except ValueError:
                return
        names, restored = frozen["docnames"], {}
        for entry, places in frozen.get("indexentries", {}).items():
            for file_index, target, main in places:
                restored.setdefault(names[file_index], []).append((entry, target, "main" if main else ""))
        indexer = builder.indexer
        for docname, entries in restored.items():
            if docname in indexer._titles and docname not in docnames:
                indexer._index_entries[docname] = sorted(entries)
        # Same order whichever pages were rewritten, so builds stay reproducible.
        freeze = indexer.freeze

        def sorted_freeze():
            ordered = dict(sorted(indexer._index_entries.items()))
            indexer._index_entries.clear()
            indexer._index_entries.update(ordered)
            return freeze()

        indexer.freeze = sorted_freeze

    builder.load_indexer = load_indexer_with_entries


def on_doctree_read(app, doctree):
    docname = app.env.docname
    meta = app.env.handbook_pages.get(docname, {})
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None:
        after_title = section.index(section.next_node(nodes.title)) + 1
        keywords = keyword_index(meta)
        added = ([keywords] if keywords is not None else []) + review_nodes(app, docname, meta)
        for offset, node in enumerate(added):
            section.insert(after_title + offset, node)
    for table in doctree.findall(nodes.table):
        table["classes"].append("longtable")  # in the PDF, a long table may break across pages
    check_doctree(docname, doctree)


# -- Safety checks on each page ----------------------------------------------------


def _located(node):
    """The node itself, or its nearest ancestor that knows its line (images do not)."""
    while node is not None and not node.line:
        node = node.parent
    return node


def check_doctree(docname, doctree):
    for node in doctree.findall(nodes.raw):
        _warn("raw HTML or a raw block is not allowed in handbook pages; use Markdown or a "
              "MyST directive instead", location=node, subtype="raw")
    for node in doctree.findall(nodes.image):
        if not node.get("alt", "").strip():
            _warn(f"image '{node.get('uri')}' has no alt text: describe it for readers who cannot see it",
                  location=_located(node) or (docname, None), subtype="alt")
    for node in doctree.findall(graphviz):
        if not node.get("alt", "").strip():
            _warn("diagram has no ':alt:' text: describe it for readers who cannot see it",
                  location=node, subtype="alt")
    has_key_points = any("key-points" in n["classes"] for n in doctree.findall(nodes.admonition))
    if not has_key_points:
        _warn("page has no Key points box (an admonition with ':class: key-points')", docname, 1,
              subtype="key-points")


# -- Evidence labels -------------------------------------------------------------

EVIDENCE_LEVELS = {
    "approved": "Approved use",
    "rct": "Randomised trials",
    "small-studies": "Small or open-label studies",
    "preclinical": "Laboratory or animal studies",
    "expert": "Case reports or expert opinion",
}
EVIDENCE_SCALE_LABEL = "evidence-scale"


class EvidenceDirective(SphinxDirective):
    """```{evidence} rct``` -- a label of the strength of the evidence for a section."""

    required_arguments = 1
    has_content = True

    def run(self):
        level = self.arguments[0].strip()
        if level not in EVIDENCE_LEVELS:
            known = ", ".join(EVIDENCE_LEVELS)
            _warn(f"unknown evidence level '{level}' (use one of: {known})",
                  location=self.get_location(), subtype="evidence")
            return []
        box = nodes.container(classes=["evidence", f"evidence-{level}"])
        self.set_source_info(box)
        label = nodes.paragraph(classes=["evidence-label"])
        ref = pending_xref("", refdomain="std", reftype="ref", reftarget=EVIDENCE_SCALE_LABEL,
                           refexplicit=True, refwarn=True)
        ref += nodes.inline(text="Evidence")
        label += ref
        label += nodes.Text(": ")
        label += nodes.strong(text=EVIDENCE_LEVELS[level])
        if self.content:
            label += nodes.Text(" \N{EM DASH} ")
            inline_nodes, messages = self.state.inline_text(" ".join(self.content), self.lineno)
            label += inline_nodes
            label += messages
        box += label
        return [box]


# -- Bibliography ------------------------------------------------------------------


def _round_brackets():
    from sphinxcontrib.bibtex.style.referencing import BracketStyle

    return BracketStyle(left="(", right=")")


def register_citation_style():
    """Author-year citations in round brackets: (Glue et al., 2017), as in medical writing."""
    import dataclasses

    from sphinxcontrib.bibtex.plugin import register_plugin
    from sphinxcontrib.bibtex.style.referencing import BracketStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    @dataclasses.dataclass
    class RoundAuthorYear(AuthorYearReferenceStyle):
        bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_textual: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_author: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_label: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_year: BracketStyle = dataclasses.field(default_factory=_round_brackets)

    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYear)


def speed_up_citations():
    """Do the slow parts of formatting a citation once per build, not once per citation.

    A profile of the HTML build (see the README's Performance section) showed two costs repeated for
    each of the ~240 citations:

    - pybtex and sphinxcontrib-bibtex find their styles and backends through the installed packages'
      entry points, which reads every package's metadata each time. Installed packages do not change
      during a build, so each answer is kept.
    - every author's name is decoded from LaTeX into rich text again. The same string always gives the
      same text, and pybtex never changes a rich-text object once made, so each result is kept.
    """
    import functools
    import importlib.metadata

    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin
    from pybtex.richtext import Text

    cached = functools.lru_cache(maxsize=None)(importlib.metadata.entry_points)
    pybtex.plugin.entry_points = cached
    sphinxcontrib.bibtex.plugin.entry_points = cached
    if not hasattr(Text.from_latex, "cache_info"):
        Text.from_latex = classmethod(functools.lru_cache(maxsize=None)(Text.from_latex.__func__))


# Fewer pages than this to read, and the build runs in one process even when given -j.
SERIAL_BELOW_PAGES = 6


def serial_for_small_updates(app, env, docnames):
    """Run a build that reads only a few pages in one process.

    `make` passes `-j auto`, which makes a cold build of every page faster on two cores. But a parallel
    build forks worker processes and polls them every 20 ms: a profile of a one-page edit showed
    0.28 s of waiting in a 1.9 s (profiled) rebuild. Sphinx decides on parallel reading and writing after
    this event, so it is enough to lower the process count here.
    """
    if app.parallel > 1 and len(docnames) < SERIAL_BELOW_PAGES:
        app.parallel = 1


DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def bib_entry_locations(bibdata):
    """'path:line' of each entry's first line, by key, so messages point at the entry to fix."""
    locations = {}
    for path in bibdata.bibfiles:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,", text):
            locations.setdefault(match.group(1), f"{path}:{text.count(chr(10), 0, match.start()) + 1}")
    return locations


def check_bibliography(app):
    """Each entry needs a well-formed DOI or a URL.

    Reads the entries sphinxcontrib-bibtex has already parsed (its builder-inited handler runs first,
    as it is loaded first).
    """
    bibdata = app.env.get_domain("cite").bibdata
    locations = bib_entry_locations(bibdata)
    for key, entry in bibdata.data.entries.items():
        where = locations.get(key)
        doi = entry.fields.get("doi", "").strip()
        url = entry.fields.get("url", "").strip()
        if not doi and not url:
            _warn(f"bibliography entry '{key}' has neither a doi nor a url field", location=where,
                  subtype="bib")
        if doi and not DOI.match(doi):
            _warn(f"bibliography entry '{key}' has a malformed DOI '{doi}' (expected 10.NNNN/suffix, "
                  "without https://doi.org/)", location=where, subtype="bib")
        if url and not url.startswith("https://"):
            _warn(f"bibliography entry '{key}' has a URL that is not https: '{url}'", location=where,
                  subtype="bib")


def check_every_entry_cited(app, env):
    """A bibliography entry that nothing cites is a sign of a dropped claim."""
    domain = env.get_domain("cite")
    cited = {target.key for ref in domain.citation_refs for target in ref.targets}
    locations = bib_entry_locations(domain.bibdata)
    for key in domain.bibdata.data.entries:
        if key not in cited:
            _warn(f"bibliography entry '{key}' is not cited on any page", location=locations.get(key),
                  subtype="bib")


# -- Download links -------------------------------------------------------------------


class download_link(nodes.Inline, nodes.TextElement):
    """A link to the PDF or EPUB edition, resolved per builder."""


DOWNLOAD_TEXT = {"pdf": "the PDF edition", "epub": "the EPUB edition"}


def download_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{handbook-download}`pdf` or {handbook-download}`epub`."""
    kind = text.strip().lower()
    if kind not in DOWNLOAD_TEXT:
        msg = inliner.reporter.warning(f"unknown download '{text}' (use pdf or epub)", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return [download_link(rawtext, DOWNLOAD_TEXT[kind], kind=kind)], []


def resolve_download_links(app, doctree, docname):
    """On the website the files sit at the site root; in the PDF and EPUB, link to the website."""
    config = app.config
    filename = {"pdf": config.handbook_pdf_name, "epub": config.handbook_epub_name}
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
    if app.builder.name != "latex" or docname != app.config.root_doc:
        return
    included = {node["docname"] for node in doctree.findall(addnodes.start_of_file)} | {docname}
    for missing in sorted(set(app.env.found_docs) - included):
        _warn("page is missing from the PDF: include it in a toctree the LaTeX build sees "
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
    meta = app.env.handbook_pages.get(pagename, {})
    description = meta.get("description")
    if description:
        context["metatags"] = context.get("metatags", "") + (
            f'\n    <meta name="description" content="{html.escape(description, quote=True)}" />')
    context["handbook_meta"] = meta


def fix_navigation_headings(app, pagename, templatename, context, doctree):
    """Sidebar captions have role="heading" but no level, which ARIA requires."""
    tree = context.get("furo_navigation_tree")
    if tree:
        context["furo_navigation_tree"] = tree.replace('class="caption" role="heading">',
                                                       'class="caption" role="heading" aria-level="2">')


# latexmk runs pdflatex until the .aux file stops changing. The second run always changes one line, the
# count of pages, which grows once the table of contents is filled in. Nothing in the handbook prints
# that count, so ignoring the line saves a third pdflatex run and leaves the PDF the same.
LATEXMK_IGNORE_PAGE_COUNT = r"""$hash_calc_ignore_pattern{'aux'} = '^\\\\gdef\s*\\\\\@abspage\@last\{';""" + "\n"


def skip_needless_latex_pass(app, exception):
    """Add LATEXMK_IGNORE_PAGE_COUNT to the latexmkrc Sphinx writes, before `latexpdf` runs latexmk."""
    if exception is not None or app.builder.name != "latex":
        return
    rc = os.path.join(app.outdir, "latexmkrc")
    with open(rc, encoding="utf-8") as f:
        settings = f.read()
    if LATEXMK_IGNORE_PAGE_COUNT not in settings:
        with open(rc, "a", encoding="utf-8") as f:
            f.write(("" if settings.endswith("\n") else "\n") + LATEXMK_IGNORE_PAGE_COUNT)


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


def setup(app):
    register_citation_style()
    speed_up_citations()
    app.add_config_value("handbook_disclaimer", "_snippets/disclaimer.md", "env")
    app.add_config_value("handbook_build_date", datetime.date.today().isoformat(), "env")
    app.add_config_value("handbook_allow_overdue", False, "env")
    app.add_config_value("handbook_pdf_name", "handbook.pdf", "env")
    app.add_config_value("handbook_epub_name", "handbook.epub", "env")
    app.add_directive("evidence", EvidenceDirective)
    app.add_role("handbook-download", download_role)
    app.add_node(download_link)
    app.connect("doctree-resolved", resolve_download_links)
    app.connect("doctree-resolved", check_every_page_in_pdf)
    app.add_node(graphviz, override=True, html=(visit_graphviz_html, None))
    app.connect("builder-inited", on_builder_inited)
    app.connect("env-before-read-docs", serial_for_small_updates)
    app.connect("source-read", on_source_read)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    app.connect("doctree-read", on_doctree_read, priority=400)  # before Sphinx collects index entries
    app.connect("env-check-consistency", check_every_entry_cited)
    app.connect("html-page-context", on_html_page_context, priority=400)
    app.connect("html-page-context", fix_navigation_headings, priority=900)  # after furo builds the tree
    app.connect("build-finished", write_sitemap)
    app.connect("build-finished", skip_needless_latex_pass)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
