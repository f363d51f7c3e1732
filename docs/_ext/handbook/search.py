"""Search that answers readers' questions, built on Sphinx's own search (no outside request; works from
``file://``).

* Each page's front-matter keywords become index entries, which Sphinx's search ranks highly, so a
  reader's word ("Spravato", "anxious") finds the page that answers it.
* Each heading that asks a question (ends in "?") becomes an index entry pointing at its section, so a
  question on the common-questions page is a result of its own that opens at its answer.
* The search page gets a second, section-level index, ``_static/search-data.js``: for every section of
  every page (and every glossary entry), its anchor, its heading, and the stems of its own words, with
  the page's keywords and the reader-word lists of search_words.py. The search page's script,
  docs/_static/search-questions.js, reads it to rank whole questions: it rewrites the query (stop words
  out, readers' words to the handbook's), scores each section by the words it shares with the query,
  weighting rare words and headings, and lists sections, so a result opens where the answer is and its
  snippet shows the words that matched. A word the handbook does not use is dropped, so no word empties
  the results.

The script wraps three functions of Sphinx's searchtools.js (`Search._parseQuery`,
`Search._performSearch` and `Search.makeSearchSummary`), not public API. SEARCHTOOLS_FINGERPRINT
records the searchtools.js it was written for; when Sphinx ships another, the build stops with
`UpstreamChanged` (read search-questions.js against the new file, then record the new fingerprint).
The script also falls back to Sphinx's own search if anything it expects is missing.

Two changes to Sphinx's own search indexing (keeping index entries across incremental builds, and
stemming each word once per build) are patches of Sphinx internals, so they live in patches.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re

from docutils import nodes
from sphinx import addnodes

from .patches import remember_stems
from .search_words import FILLER_WORDS, STOP_WORDS, SYNONYMS, normalise
from .upstream import UpstreamChanged
from .util import keep_per_page

DATA_FILE = "search-data.js"
SCRIPT_FILE = "search-questions.js"
# sha256 of sphinx/themes/basic/static/searchtools.js (Sphinx 9.0.4), whose functions the script wraps.
SEARCHTOOLS_FINGERPRINT = "954625d140412a9d"
# Pages a reader rarely wants as an answer: their results count for less.
PAGE_WEIGHTS = {"changes": 0.3, "contributing": 0.5, "references": 0.5, "about": 0.7, "accessibility": 0.7,
                "glossary": 0.75, "label-coverage": 0.4, "checklist": 0.8, "studies": 0.6}
# Elements whose words belong to no one section: the shared disclaimer, the review dates.
COMPOUND = re.compile(r"\w+(?:-\w+)+")
SKIP_CLASSES = {"no-search", "disclaimer", "review-dates", "crisis-first"}


# -- Index entries ----------------------------------------------------------------------------------


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


def add_question_index(app, doctree):
    """Each heading that ends in '?' as a main index entry for its own section."""
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        text = title.astext().strip() if title is not None else ""
        if text.endswith("?") and section["ids"] and title.parent is section:
            entry = ("single", text.rstrip("?").strip(), section["ids"][0], "main", None)
            section.insert(section.index(title) + 1, addnodes.index(entries=[entry]))


# -- The section-level index for the search page ----------------------------------------------------
#
# Each page's share of the index is worked out when the page is read (`note_sections`, kept in
# env.handbook_search_sections like the other per-page data), so a build that reads one page stems one
# page's words: going through every page's doctree when the search page is written took most of a
# one-page rebuild, and grew with the handbook. What depends on other pages (the text a cross-reference
# will show) or on the builder (`{only}` blocks) is kept aside and settled when the search page is written.

# Words under no `{only}` condition: every output shows them.
ALWAYS = ()


def own_text(node, out, conditions=ALWAYS):
    """Append to OUT, as (conditions, text or cross-reference), the words a reader sees in NODE, without
    nested sections, headings, citations and the shared boxes. CONDITIONS are the `{only}` expressions
    the words sit under."""
    for child in node.children:
        if isinstance(child, nodes.Text):
            out.append((conditions, child.astext()))
        elif isinstance(child, (nodes.section, nodes.title, nodes.comment, addnodes.index, addnodes.glossary,
                                nodes.substitution_definition, nodes.system_message)):
            continue
        elif isinstance(child, nodes.Element) and SKIP_CLASSES & set(child.get("classes", [])):
            continue
        elif isinstance(child, addnodes.only):
            own_text(child, out, (*conditions, child["expr"]))
        elif isinstance(child, addnodes.pending_xref):
            out.append((conditions, unresolved_xref(child)))
        elif isinstance(child, nodes.Element):
            own_text(child, out, conditions)


def unresolved_xref(node):
    """What a cross-reference will read: its own text, or ("ref"|"doc", target, own text) when that is
    the title of a section or page, known only once every page is read (citations read as nothing:
    they are names)."""
    if node.get("refdomain") == "cite":
        return ""
    if not node.get("refexplicit") and node.get("reftype") in ("ref", "doc"):
        return (node["reftype"], node.get("reftarget", ""), node.astext())
    return node.astext()


def xref_text(xref, env):
    """The text of an unresolved_xref once every page is read."""
    kind, target, own = xref
    if kind == "ref":
        label = env.domains.standard_domain.labels.get(target.lower())
        return label[2] if label else ""
    return env.titles[target].astext() if target in env.titles else own


def section_words(node, language):
    """A section's (or glossary entry's) words as {conditions: [stems]} and the cross-references
    [(conditions, xref)] to settle later."""
    parts = []
    own_text(node, parts)
    texts, xrefs = {}, []
    for conditions, part in parts:
        if isinstance(part, tuple):
            xrefs.append((conditions, part))
        else:
            texts.setdefault(conditions, []).append(part)
    return {conditions: stems(" ".join(words), language) for conditions, words in texts.items()}, xrefs


def page_sections(doctree, docname, language):
    """[anchor, heading, is_term, heading stems, label stems, word stems, cross-references] for each
    section of a page: the page's own top first, anchor ''; and for each glossary entry, its terms as the
    heading and its definition as the text, so a question about a word lands on its definition."""
    found = []

    def add(anchor, heading, is_term, node_words):
        words, xrefs = node_words
        # A section's label names its subject too ("anxiety-symptoms" for "How anxiety can feel").
        label = stems(anchor.removeprefix(docname).replace("-", " "), language)
        found.append((anchor, heading, is_term, stems(heading, language), label, words, xrefs))

    for number, section in enumerate(doctree.findall(nodes.section)):
        title = section.next_node(nodes.title)
        anchor = "" if number == 0 else (section["ids"][0] if section["ids"] else "")
        add(anchor, title.astext() if title is not None else "", 0, section_words(section, language))
    for glossary in doctree.findall(addnodes.glossary):
        for item in glossary.findall(nodes.definition_list_item):
            terms = [term for term in item.children if isinstance(term, nodes.term)]
            if not terms or not terms[0]["ids"]:
                continue
            words, xrefs = {}, []
            for definition in item.findall(nodes.definition):
                more_words, more_xrefs = section_words(definition, language)
                for conditions, found_stems in more_words.items():
                    words[conditions] = sorted({*words.get(conditions, ()), *found_stems})
                xrefs.extend(more_xrefs)
            add(terms[0]["ids"][0], ", ".join(term.astext() for term in terms), 1, (words, xrefs))
    return found


def stems(text, language):
    """The distinct index stems of TEXT, as Sphinx stems words for its own index (numbers kept), and of
    each hyphenated word written whole ("off-label" also as "offlabel"), sorted. Each distinct word is
    stemmed once: a section's index needs its stems, not their order or how often they occur."""
    words = set(language.split(text))
    words.update("".join(m.split("-")) for m in COMPOUND.findall(text))
    found = {language.stem(word).lower() for word in words}
    return sorted(stem for stem in found if stem.isdigit() or language.word_filter(stem))


def search_language(app=None):
    """The same splitting, stemming and stop words as Sphinx's own index. The HTML builder's own language
    object when there is one: its stems, kept for the build (patches.py), are then reused here."""
    from sphinx.search.en import SearchEnglish

    indexer = getattr(app.builder, "indexer", None) if app else None
    language = indexer.lang if isinstance(getattr(indexer, "lang", None), SearchEnglish) else None
    language = language or _LANGUAGE.setdefault("en", SearchEnglish({}))
    remember_stems(language)  # each word stemmed once, not once per section it appears in
    return language


_LANGUAGE = {}  # one language object per process for reading pages, so its stems are kept


def note_sections(app, doctree):
    """Keep the page's share of the search page's index (connected to doctree-read, after every handler
    that changes the doctree)."""
    docname = app.env.docname
    app.env.handbook_search_sections[docname] = page_sections(doctree, docname, search_language())


def section_stems(words, xrefs, env, tags, stems_of):
    """The stems of a section's words in this build's output, cross-references settled (STEMS_OF: stems
    of a text)."""
    if not xrefs and list(words) in ([], [ALWAYS]):  # most sections: nothing to settle
        return words.get(ALWAYS, [])
    found = set()
    for conditions, found_stems in words.items():
        if all(tags.eval_condition(expr) for expr in conditions):
            found.update(found_stems)
    for conditions, xref in xrefs:
        if all(tags.eval_condition(expr) for expr in conditions):
            found.update(stems_of(xref_text(xref, env)))
    return found


def search_data(app):
    """The section-level index as a JSON-ready dict."""
    env, tags = app.env, app.builder.tags
    language = search_language(app)
    stems_of = functools.lru_cache(maxsize=None)(lambda text: stems(text, language))  # the same titles recur
    docs, titles, sections, text, heads, labels, keywords, phrases = [], [], [], {}, {}, {}, {}, {}
    for docname in sorted(env.found_docs):
        doc = len(docs)
        docs.append(docname)
        titles.append(env.titles[docname].astext() if docname in env.titles else docname)
        meta = getattr(env, "handbook_pages", {}).get(docname, {})
        keywords[doc] = [stem for kw in meta.get("keywords") or [] for stem in stems_of(str(kw))]
        for kw in meta.get("keywords") or []:
            phrase = normalise(str(kw))
            if " " in phrase:
                phrases.setdefault(phrase, []).append(doc)
        for anchor, heading, is_term, head_stems, label_stems, words, xrefs in \
                env.handbook_search_sections.get(docname, []):
            index = len(sections)
            sections.append([doc, anchor, heading, is_term])
            for stem in head_stems:
                heads.setdefault(stem, []).append(index)
            for stem in label_stems:
                labels.setdefault(stem, []).append(index)
            for stem in section_stems(words, xrefs, env, tags, stems_of):
                text.setdefault(stem, []).append(index)
    return {
        "docs": docs,
        "titles": titles,
        "sections": sections,
        "heads": dict(sorted(heads.items())),
        "labels": dict(sorted(labels.items())),
        "text": dict(sorted(text.items())),
        "keywords": {str(doc): sorted(set(kws)) for doc, kws in keywords.items() if kws},
        "keyphrases": dict(sorted(phrases.items())),
        "weights": {docs.index(name): weight for name, weight in PAGE_WEIGHTS.items() if name in docs},
        "stopwords": sorted(STOP_WORDS),
        "fillers": sorted(FILLER_WORDS),
        "synonyms": dict(sorted(SYNONYMS.items())),
    }


def is_search_page(app, pagename):
    return pagename == "search" and app.builder.name == "html" and getattr(app.builder, "search", False)


def add_search_scripts(app, pagename, templatename, context, doctree):
    """On the search page only: write the section-level index and load it with the page's script."""
    if not is_search_page(app, pagename):
        return
    data = json.dumps(search_data(app), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    os.makedirs(os.path.join(app.outdir, "_static"), exist_ok=True)
    with open(os.path.join(app.outdir, "_static", DATA_FILE), "w", encoding="utf-8") as f:
        f.write(f"var HANDBOOK_SEARCH_DATA = {data};\n")
    # Deferred: they run once searchtools.js (loaded after them, without defer) has defined Search,
    # and before the page runs its search on DOMContentLoaded.
    app.add_js_file(DATA_FILE, loading_method="defer")
    app.add_js_file(SCRIPT_FILE, loading_method="defer")


def searchtools_fingerprint():
    import sphinx

    path = os.path.join(os.path.dirname(sphinx.__file__), "themes", "basic", "static", "searchtools.js")
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def check_searchtools(app):
    if app.builder.name != "html":
        return
    actual = searchtools_fingerprint()
    if actual != SEARCHTOOLS_FINGERPRINT:
        raise UpstreamChanged(
            f"Sphinx's searchtools.js has changed (fingerprint {actual}, docs/_static/{SCRIPT_FILE} was "
            f"written for {SEARCHTOOLS_FINGERPRINT}). The script wraps Search._parseQuery, "
            "Search._performSearch and Search.makeSearchSummary: read it against the new searchtools.js, "
            "adapt it if those changed, then record the new fingerprint as SEARCHTOOLS_FINGERPRINT in "
            "docs/_ext/handbook/search.py.")


def read_all_when_the_index_is_lost(app, env, added, changed, removed):
    """A build stopped while it wrote (Ctrl-C, a killed process) can leave pages written but no search
    index. Sphinx would then write only the other pages and warn that the index will be incomplete (an
    error with -W, so the next `make` fails once). Read every page again instead: all are written and
    the index is whole."""
    builder = app.builder
    index = getattr(builder, "searchindex_filename", None)
    if builder.format != "html" or not index or (builder.outdir / index).exists():
        return []
    if not any(builder.outdir.glob("*.html")):  # nothing written yet: every page will be anyway
        return []
    return sorted(env.found_docs - added - changed - removed)


def setup(app):
    keep_per_page(app, "handbook_search_sections")
    app.connect("env-get-outdated", read_all_when_the_index_is_lost)
    # Before Sphinx collects index entries (priority 500); after frontmatter.add_review_dates (399).
    app.connect("doctree-read", add_keyword_index, priority=400)
    app.connect("doctree-read", add_question_index, priority=400)
    # Last, once every handler has changed the doctree: what it reads is what the pages are written from.
    app.connect("doctree-read", note_sections, priority=900)
    app.connect("builder-inited", check_searchtools)
    # Before outputs.on_html_page_context (400), which copies the page's list of scripts.
    app.connect("html-page-context", add_search_scripts, priority=300)

