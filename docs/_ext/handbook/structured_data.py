"""Structured data: JSON-LD that tells search engines what each web page is, built from what the handbook
already says, so nothing is typed twice.

Every page with front matter gets a schema.org ``MedicalWebPage``:

- ``name``, ``description``: the front matter's title and description;
- ``lastReviewed``: its last_reviewed date (the date the page shows as "Last reviewed");
- ``reviewedBy``: its reviewers, each an ``Organization`` when the name says it is a group ("Handbook
  editorial team"), otherwise a ``Person``;
- ``about``: the subjects in ``handbook_about`` (conf.py). An entry with ``if_keywords`` applies only to
  a page whose front-matter keywords include one of them (Esketamine for pages keyed "esketamine");
  the others apply to every page, the subjects of the whole handbook (anxiety disorders, ketamine);
- ``citation``: the bibliography entries the page cites, in the order it first cites them, and those a
  ``{bibliography}`` on the page lists (the References page), each a ``ScholarlyArticle`` (a journal
  article) or ``CreativeWork`` with its title, its DOI as a https://doi.org/ address (else its url) and
  its year; left out when the page cites nothing;
- ``inLanguage`` (conf.py ``language``), ``license`` (``handbook_text_license``, the text licence in
  LICENSE), ``url`` (``html_baseurl`` and the page's file) and ``isPartOf`` (the whole site).

No datePublished or dateModified: the handbook keeps no per-page record of either (the edition date is
the date of the last commit to any file), and lastReviewed is the date that means something here.

The pages in ``handbook_faq_pages`` (the common-questions page) also get a ``FAQPage``: each section
whose heading ends in "?" and that has no sections of its own is a question, and its text (citations as
the reader sees them, "(Glue et al., 2017)") is the answer. A group heading that ends in "?" ("Does it
work?") holds questions rather than answering one, so it is not a question itself.

Only the website gets it (``html`` and ``dirhtml`` builders), not the EPUB, whose pages go through the
same html-page-context event. The JSON sits in ``<script type="application/ld+json">`` in the page's
head (furo's ``metatags``), with ``<``, ``>`` and ``&`` written as JSON escapes so no text can close
the script or upset an XML parser.

Incremental builds: the front matter and a page's citations are read with the page (frontmatter.py,
sphinxcontrib-bibtex's ``citation_refs``, both per page, purged and merged for parallel reads), so an
edited page is right. An edited bibliography re-reads only the References page, so ``env-updated``
asks Sphinx to write again every page that cites an entry, when a .bib file changed since the last build.
"""

from __future__ import annotations

import json
import os
import re

from docutils import nodes
from sphinx import addnodes

from .util import did_you_mean, warn

SCHEMA = "https://schema.org"
# Words that make a reviewer's name a group, not a person: "Handbook editorial team".
ORGANISATION_WORDS = {"team", "group", "board", "committee", "panel", "editors", "editorial", "society",
                      "association", "college", "institute", "service", "network", "council"}
WEB_BUILDERS = ("html", "dirhtml")


def plain(latex):
    """A .bib field as a reader sees it: braces and LaTeX escapes gone ('{FDA} approves' -> 'FDA approves')."""
    from pybtex.richtext import Text

    return " ".join(Text.from_latex(latex).render_as("text").split())


def reviewer(name):
    is_group = ORGANISATION_WORDS & set(re.findall(r"[a-z]+", name.lower()))
    return {"@type": "Organization" if is_group else "Person", "name": name}


def subjects(about, keywords):
    """The things a page is about: each entry of handbook_about without `if_keywords`, and each whose
    `if_keywords` shares a word with the page's front-matter keywords (case ignored)."""
    words = {str(word).casefold() for word in keywords or ()}
    return [{"@type": entry["type"], "name": entry["name"]} for entry in about
            if "if_keywords" not in entry or words & {w.casefold() for w in entry["if_keywords"]}]


def cited_keys(env, docname):
    """Keys of the entries a page cites, in order of first citation, then those its bibliography lists."""
    domain = env.get_domain("cite")
    keys = [target.key for ref in domain.citation_refs if ref.docname == docname for target in ref.targets]
    keys += [citation.key for citation in domain.citations if citation.bibliography_key.docname == docname]
    return list(dict.fromkeys(keys))


def work(entry):
    """One bibliography entry as a schema.org creative work."""
    fields = entry.fields
    item = {"@type": "ScholarlyArticle" if entry.type.lower() == "article" else "CreativeWork",
            "name": plain(fields.get("title", ""))}
    if fields.get("doi"):
        item["url"] = "https://doi.org/" + fields["doi"].strip()
    elif fields.get("url"):
        item["url"] = fields["url"].strip()
    if fields.get("year"):
        item["datePublished"] = fields["year"].strip()
    return item


def citations(env, docname):
    entries = env.get_domain("cite").bibdata.data.entries
    return [work(entries[key]) for key in cited_keys(env, docname) if key in entries]


def medical_web_page(app, pagename, meta):
    config = app.config
    data = {"@context": SCHEMA, "@type": "MedicalWebPage"}
    if meta.get("title"):
        data["name"] = meta["title"]
    if meta.get("description"):
        data["description"] = meta["description"]
    if config.html_baseurl:
        data["url"] = config.html_baseurl + app.builder.get_target_uri(pagename)
        data["isPartOf"] = {"@type": "WebSite", "name": config.html_title or config.project,
                            "url": config.html_baseurl}
    if meta.get("last_reviewed"):
        data["lastReviewed"] = meta["last_reviewed"].isoformat()
    if meta.get("reviewers"):
        data["reviewedBy"] = [reviewer(name) for name in meta["reviewers"]]
    about = subjects(config.handbook_about, meta.get("keywords"))
    if about:
        data["about"] = about
    works = citations(app.env, pagename)
    if works:
        data["citation"] = works
    data["inLanguage"] = config.language or "en"
    if config.handbook_text_license:
        data["license"] = config.handbook_text_license
    return data


def answer_text(section):
    """A question's answer as plain text: the section's own content, not its heading."""
    parts = [child.astext() for child in section.children
             if not isinstance(child, (nodes.title, nodes.section, nodes.target, nodes.comment,
                                       nodes.system_message, nodes.raw, addnodes.index))]
    return " ".join(" ".join(parts).split())


def questions(doctree):
    """(question, answer) for each section whose heading ends in '?' and that has no sections inside."""
    found = []
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is None or not title.astext().rstrip().endswith("?"):
            continue
        if any(isinstance(child, nodes.section) for child in section.children):
            continue  # a group heading such as "Does it work?": its questions are the sections inside
        found.append((" ".join(title.astext().split()), answer_text(section), section))
    return found


def faq_page(pagename, doctree):
    entities = []
    for question, answer, section in questions(doctree):
        if not answer:
            warn(f"question '{question}' has no answer text under it: write the answer below the heading, or "
                 "make the heading a statement", location=section, subtype="structured-data")
            continue
        entities.append({"@type": "Question", "name": question,
                         "acceptedAnswer": {"@type": "Answer", "text": answer}})
    if not entities:
        warn("page is listed in handbook_faq_pages but has no question headings (a heading ending in '?' with "
             "its answer under it): add questions, or remove the page from handbook_faq_pages in conf.py",
             pagename, 1, subtype="structured-data")
        return None
    return {"@context": SCHEMA, "@type": "FAQPage", "mainEntity": entities}


def script(data):
    """A JSON-LD script element. `<`, `>` and `&` inside strings become \\u escapes: the same JSON, but no
    '</script>' or '<!--' can end the element early, and the page stays well-formed XML."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'\n    <script type="application/ld+json">{text}</script>'


def add_structured_data(app, pagename, templatename, context, doctree):
    if app.builder.name not in WEB_BUILDERS or doctree is None:
        return
    meta = app.env.handbook_pages.get(pagename)
    if not meta:
        return  # no front matter: search, the index, the 404 page
    blocks = [medical_web_page(app, pagename, meta)]
    if pagename in app.config.handbook_faq_pages:
        faq = faq_page(pagename, doctree)
        if faq:
            blocks.append(faq)
    context["metatags"] = context.get("metatags", "") + "".join(script(block) for block in blocks)


def bibliography_signature(env):
    return sorted((str(path), bibfile.mtime) for path, bibfile in env.get_domain("cite").bibdata.bibfiles.items())


def rewrite_citing_pages(app, env):
    """After a .bib file changed, every page that cites an entry is written again (its citation data, and
    its in-text citations, may have changed), though only the References page was read again."""
    signature = bibliography_signature(env)
    previous = getattr(env, "handbook_bibliography_signature", None)
    env.handbook_bibliography_signature = signature
    if previous is None or previous == signature:
        return []
    return sorted({ref.docname for ref in env.get_domain("cite").citation_refs})


ABOUT_KEYS = {"type": "MedicalCondition", "name": "Anxiety disorders", "if_keywords": ["esketamine"]}


def check_about(app, config):
    """Each handbook_about entry is {"type": ..., "name": ...} with an optional "if_keywords" list; a
    wrong entry is reported (conf.py) and left out, rather than stopping the build with a traceback."""
    conf = os.path.join(app.confdir, "conf.py")
    text = open(conf, encoding="utf-8").read() if os.path.isfile(conf) else ""
    where = f"{conf}:{text.count(chr(10), 0, max(text.find('handbook_about'), 0)) + 1}"
    good = []
    for entry in config.handbook_about:
        if not isinstance(entry, dict):
            problem = f"must be a dict such as {ABOUT_KEYS!r}, not {entry!r}"
        elif not all(isinstance(entry.get(key), str) and entry[key].strip() for key in ("type", "name")):
            problem = f"needs a schema.org \"type\" and a \"name\", as in {ABOUT_KEYS!r}: {entry!r}"
        elif set(entry) - set(ABOUT_KEYS):
            unknown = sorted(set(entry) - set(ABOUT_KEYS))[0]
            problem = f"has an unknown key {unknown!r}{did_you_mean(unknown, ABOUT_KEYS)}: {entry!r}"
        elif "if_keywords" in entry and not (isinstance(entry["if_keywords"], list) and
                                             all(isinstance(word, str) for word in entry["if_keywords"])):
            problem = f"\"if_keywords\" must be a list of front-matter keywords: {entry!r}"
        else:
            good.append(entry)
            continue
        warn(f"handbook_about entry {problem}", location=where, subtype="structured-data")
    config.handbook_about = good


def setup(app):
    app.add_config_value("handbook_about", [], "html", types=[list])
    app.add_config_value("handbook_faq_pages", [], "html", types=[list])
    app.add_config_value("handbook_text_license", "", "html", types=[str])
    app.connect("config-inited", check_about)
    app.connect("env-updated", rewrite_citing_pages)
    app.connect("html-page-context", add_structured_data)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
