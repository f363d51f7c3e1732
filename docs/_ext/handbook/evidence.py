"""Evidence labels, derived from the sources a section cites.

* Every bibliography entry declares its level once: ``evidence = {LEVEL}`` in references.bib, LEVEL one
  of SOURCE_LEVELS. An entry at the `regulatory` level must have a url on a regulator's or a product
  label's site (``handbook_regulator_hosts`` in conf.py).
* ```{evidence} LEVEL``` labels a section (the section holding the directive, with its subsections that
  have no label of their own). The label is written in the page, so it reads in the source, but it must
  follow from the sources the section cites: the strongest research level among them (RESEARCH_ORDER);
  if none, `regulatory` when any source is a regulator's or a label. A section labelled `regulatory`
  may cite only regulatory sources.
* {evidence-level}`key` shows the level of one entry, e.g. in a table's "Strength of evidence" column.
* Research entries (all but `preclinical`) also declare what they studied: ``condition = {anxiety}``, or
  several, comma-separated (CONDITIONS). A label then names the conditions of its strongest sources, and
  when those are not about anxiety it says what the section's anxiety evidence is: "Randomised trials in
  depression; in anxiety, small or open-label studies". Derived from the sources, never written by hand.

Parallel reading and incremental builds: each page's labels and the citations under them are noted when
the page is read (doctree-read, kept in env.handbook_evidence) and checked against the current
bibliography once all pages are read (env-check-consistency), so a change to references.bib is checked
against every page, read again or not. A page using the role depends on the .bib files, so it is read
again when they change.
"""

from __future__ import annotations

import urllib.parse

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util.docutils import SphinxDirective, SphinxRole

from .util import bib_entry_locations, did_you_mean, keep_per_page, warn

# The names readers see, for the levels a section label may take.
LEVELS = {
    "regulatory": "Regulator or product label",
    "rct": "Randomised trials",
    "small-studies": "Small or open-label studies",
    "preclinical": "Laboratory or animal studies",
    "expert": "Case reports or expert opinion",
}
# Research levels, strongest first. `regulatory` is not research: it counts only when nothing else does.
RESEARCH_ORDER = ("rct", "small-studies", "preclinical", "expert")
# A source may also be `background`: not evidence about treatment (fact sheets, helplines, history).
SOURCE_LEVELS = (*LEVELS, "background")
BACKGROUND_NAME = "Background (not evidence about treatment)"
# Levels that were renamed, so an old name gets a pointer to the new one.
RENAMED = {"approved": "regulatory"}
EVIDENCE_SCALE_LABEL = "evidence-scale"
# What a research source studied, as a label names it ("Randomised trials in depression"), in this order.
CONDITIONS = {"anxiety": "anxiety", "depression": "depression", "recreational-use": "recreational use",
              "other-uses": "other medical uses"}
# Levels whose entries must say what condition they studied.
NEEDS_CONDITION = ("rct", "small-studies", "expert")


def suggestion(value, choices):
    if value in RENAMED:
        return f" (did you mean '{RENAMED[value]}'? '{value}' was renamed)"
    return did_you_mean(value, choices)


# -- Levels of the bibliography's entries ----------------------------------------------------------


def entry_level(entry):
    """The entry's declared level, or None when it has none we know."""
    level = entry.fields.get("evidence", "").strip()
    return level if level in SOURCE_LEVELS else None


def entry_conditions(entry):
    """The conditions an entry declares, in CONDITIONS' order; unknown names are left out (and reported)."""
    named = {c.strip() for c in entry.fields.get("condition", "").split(",") if c.strip()}
    return [c for c in CONDITIONS if c in named]


def in_conditions(conditions):
    """'in anxiety and depression' for ['anxiety', 'depression']."""
    names = [CONDITIONS[c] for c in conditions]
    return "in " + (" and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1])


def condition_note(level, sources):
    """What to add after a label's level, given the (level, conditions) of the sources its section cites:
    the conditions of the sources at that level and, when anxiety is not among them, the strongest
    anxiety evidence cited ('' when the level is not a research level with conditions)."""
    at_level = [c for c in CONDITIONS if any(lv == level and c in conds for lv, conds in sources)]
    if not at_level:
        return ""
    note = " " + in_conditions(at_level)
    if "anxiety" not in at_level:
        anxiety = derive({lv for lv, conds in sources if "anxiety" in conds} - {"regulatory", "background"})
        note += f"; in anxiety, {LEVELS[anxiety].lower()}" if anxiety else "; no anxiety studies cited here"
    return note


def host_of(url):
    return (urllib.parse.urlsplit(url).hostname or "").lower()


def check_source_levels(app):
    """Each entry declares a known level; a regulatory entry points at a regulator's or a label's site."""
    bibdata = app.env.get_domain("cite").bibdata
    locations = bib_entry_locations(bibdata)
    known = ", ".join(SOURCE_LEVELS)
    hosts = set(app.config.handbook_regulator_hosts)
    for key, entry in bibdata.data.entries.items():
        where = locations.get(key)
        level = entry.fields.get("evidence", "").strip()
        if not level:
            warn(f"bibliography entry '{key}' has no evidence field: add a line such as "
                 f"'evidence = {{rct}}', with one of: {known} (see the evidence levels page)",
                 location=where, subtype="evidence")
        elif level not in SOURCE_LEVELS:
            warn(f"bibliography entry '{key}' has an unknown evidence level '{level}'"
                 f"{suggestion(level, SOURCE_LEVELS)}: use one of: {known}", location=where, subtype="evidence")
        elif level in NEEDS_CONDITION or entry.fields.get("condition", "").strip():
            named = [c.strip() for c in entry.fields.get("condition", "").split(",") if c.strip()]
            unknown = [c for c in named if c not in CONDITIONS]
            if not named:
                warn(f"bibliography entry '{key}' (evidence = {{{level}}}) has no condition field: add the condition "
                     f"it studied, e.g. 'condition = {{anxiety}}' (one or more of: {', '.join(CONDITIONS)}), so "
                     "evidence labels can say whether the evidence is in anxiety", location=where, subtype="evidence")
            for name in unknown:
                warn(f"bibliography entry '{key}' has an unknown condition '{name}'"
                     f"{did_you_mean(name, CONDITIONS)}: use one or more of: {', '.join(CONDITIONS)}, "
                     "comma-separated", location=where, subtype="evidence")
        if level == "regulatory":
            url = entry.fields.get("url", "").strip()
            if host_of(url) not in hosts:
                where_to = f"its url {url} is on {host_of(url) or 'no site'}" if url else "it has no url"
                warn(f"bibliography entry '{key}' has evidence = {{regulatory}}, but {where_to}, which is not "
                     "a regulator's or a product label's site: cite the regulator's own page or the label "
                     "(the sites allowed are handbook_regulator_hosts in conf.py), or give the entry the "
                     "level of what it is", location=where, subtype="evidence")


# -- The directive and the role ---------------------------------------------------------------------


class EvidenceDirective(SphinxDirective):
    """```{evidence} rct``` -- a label of the strength of the evidence for a section."""

    required_arguments = 1
    has_content = True

    def run(self):
        level = self.arguments[0].strip()
        if level not in LEVELS:
            warn(f"unknown evidence level '{level}'{suggestion(level, LEVELS)} (use one of: "
                 f"{', '.join(LEVELS)})", location=self.get_location(), subtype="evidence")
            return []
        for path in self.env.get_domain("cite").bibdata.bibfiles:  # the label names the sources' conditions
            self.env.note_dependency(str(path))
        box = nodes.container(classes=["evidence", f"evidence-{level}"], evidence_level=level)
        self.set_source_info(box)
        label = nodes.paragraph(classes=["evidence-label"])
        ref = pending_xref("", refdomain="std", reftype="ref", reftarget=EVIDENCE_SCALE_LABEL,
                           refexplicit=True, refwarn=True)
        ref += nodes.inline(text="Evidence")
        label += ref
        label += nodes.Text(": ")
        label += nodes.strong(text=LEVELS[level])
        if self.content:
            label += nodes.Text(" \N{EM DASH} ")
            inline_nodes, messages = self.state.inline_text(" ".join(self.content), self.lineno)
            label += inline_nodes
            label += messages
        box += label
        return [box]


class EvidenceLevelRole(SphinxRole):
    """{evidence-level}`glue2017` -> the reader's name of that entry's level, e.g. "Randomised trials"."""

    def run(self):
        bibdata = self.env.get_domain("cite").bibdata
        for path in bibdata.bibfiles:  # read the page again when the bibliography changes
            self.env.note_dependency(str(path))
        key = self.text.strip()
        entry = bibdata.data.entries.get(key)
        if entry is None:
            warn(f"unknown bibliography key '{key}'{did_you_mean(key, bibdata.data.entries)} in "
                 "{evidence-level}", location=self.get_location(), subtype="evidence")
            return [nodes.inline(text=key)], []
        level = entry_level(entry)
        name = LEVELS.get(level, BACKGROUND_NAME if level == "background" else "Level not stated")
        if level in NEEDS_CONDITION and entry_conditions(entry):
            name += " " + in_conditions(entry_conditions(entry))
        return [nodes.inline(self.rawtext, name, classes=["evidence-level", f"evidence-{level}"])], []


# -- Labels and the citations under them ----------------------------------------------------------------


def cite_keys(ref):
    """The keys one {cite:p}/{cite:t} names (it may name several, comma-separated)."""
    from sphinxcontrib.bibtex.citation_target import parse_citation_targets

    try:
        return [target.key for target in parse_citation_targets(ref["reftarget"])]
    except ValueError:  # sphinxcontrib-bibtex reports a malformed citation itself
        return []


def is_citation(node):
    return isinstance(node, pending_xref) and node.get("refdomain") == "cite"


def own_labels(section):
    """The evidence labels in a section itself, not in its subsections."""
    return [box for box in section.findall(nodes.container)
            if "evidence_level" in box and box.parent is not None and _section_of(box) is section]


def _section_of(node):
    node = node.parent
    while node is not None and not isinstance(node, nodes.section | nodes.document):
        node = node.parent
    return node


def citations_under(section, page):
    """(key, line) of each citation in the section and in its subsections that have no label, written
    in the page itself: text included from a shared snippet (the disclaimer, crisis help) is not a
    section's evidence."""
    found = []
    for child in section.children:
        if isinstance(child, nodes.section):
            if not own_labels(child):
                found += citations_under(child, page)
            continue
        for ref in child.findall(is_citation):
            if ref.source in (None, page):
                found += [(key, ref.line) for key in cite_keys(ref)]
    return found


def note_labels(app, doctree):
    """Keep each label of this page, with its line and the citations of its section; name the conditions
    its sources studied after its level (condition_note)."""
    page = str(app.env.doc2path(app.env.docname))
    entries = app.env.get_domain("cite").bibdata.data.entries
    labels = []
    for box in doctree.findall(nodes.container):
        if "evidence_level" in box:
            citations = citations_under(_section_of(box), page)
            labels.append({"line": box.line, "level": box["evidence_level"], "citations": citations})
            sources = [(entry_level(entries[key]), entry_conditions(entries[key]))
                       for key in dict.fromkeys(key for key, _line in citations) if key in entries]
            note = condition_note(box["evidence_level"], sources)
            if note:
                strong = next(box.findall(nodes.strong))
                strong.replace(strong.children[0], nodes.Text(strong.astext() + note))
    app.env.handbook_evidence[app.env.docname] = labels


def unlabelled_sections(doctree, page, entries):
    """Sections that cite research or a regulator, written in the page itself, with no evidence label of
    their own or from a section above them (a label covers its section and the subsections without one):
    [(section, [(key, line), ...])]."""
    found = {}
    for ref in doctree.findall(is_citation):
        if ref.source not in (None, page):
            continue  # a shared snippet's citation is not the section's evidence
        keys = [key for key in cite_keys(ref) if key in entries
                and entry_level(entries[key]) not in (None, "background")]
        if not keys:
            continue
        section = _section_of(ref)
        while isinstance(section, nodes.section) and not own_labels(section):
            section = _section_of(section)
        if isinstance(section, nodes.section):
            continue  # covered by a label
        home = _section_of(ref)
        found.setdefault(id(home), (home, []))[1].extend((key, ref.line) for key in keys)
    return list(found.values())


def check_labels_present(app, doctree):
    """On the pages that must label their evidence (handbook_labelled_pages), each section that cites research or
    a regulator carries a label, or sits under a section that does."""
    if app.env.docname not in app.config.handbook_labelled_pages:
        return
    page = str(app.env.doc2path(app.env.docname))
    entries = app.env.get_domain("cite").bibdata.data.entries
    for section, citations in unlabelled_sections(doctree, page, entries):
        title = section.next_node(nodes.title)
        keys = list(dict.fromkeys(key for key, _line in citations))
        level = derive({entry_level(entries[key]) for key in keys})
        line = min((line for _key, line in citations if line), default=None)
        warn(f"section '{title.astext() if title else ''}' cites {', '.join(keys)} but has no evidence label: add "
             f"```{{evidence}} {level}``` under its heading, with a line saying what the sources are "
             "(the level follows from the sources cited; see the evidence levels page)",
             app.env.docname, line, subtype="evidence")


def derive(levels):
    """The level a section's sources support: the strongest research level; else regulatory; else None."""
    for level in RESEARCH_ORDER:
        if level in levels:
            return level
    return "regulatory" if "regulatory" in levels else None


def check_labels(app, env):
    """Each section's label follows from its sources; a regulatory section cites only regulatory sources."""
    entries = env.get_domain("cite").bibdata.data.entries
    for docname in sorted(env.handbook_evidence):
        for label in env.handbook_evidence[docname]:
            check_label(docname, label, entries)


def check_label(docname, label, entries):
    written = label["level"]
    cited = {}  # key -> level, in the order first cited
    for key, _line in label["citations"]:
        if key in entries:  # an unknown key is reported by sphinxcontrib-bibtex
            cited.setdefault(key, entry_level(entries[key]))
    listing = "; ".join(f"{key}: {level or 'no level'}" for key, level in cited.items())
    where = (docname, label["line"])
    if written == "regulatory":
        others = [(key, line) for key, line in label["citations"] if key in entries and cited[key] != "regulatory"]
        for key, line in others:
            url = entries[key].fields.get("url", "").strip() or "no url"
            warn(f"'{key}' ({url}, evidence = {cited[key] or 'none'}) is cited in a section labelled "
                 "'regulatory': regulatory facts must cite the regulator or the product label, not news or "
                 "press releases; cite the regulator's page or the label instead",
                 docname, line or label["line"], subtype="evidence")
        if others:
            return
    derived = derive(set(cited.values()))
    if derived is None:
        warn(f"section has an evidence label ('{written}') but cites no source that carries one"
             + (f" (it cites only: {listing})" if cited else "")
             + ": cite the sources the section rests on, or remove the label",
             location=where, subtype="evidence")
    elif derived != written:
        stronger = (written in RESEARCH_ORDER and derived in RESEARCH_ORDER
                    and RESEARCH_ORDER.index(written) < RESEARCH_ORDER.index(derived))
        claim = "claims stronger evidence than" if stronger else "does not match"
        warn(f"evidence label '{written}' ({LEVELS[written]}) {claim} the sources this section cites, which "
             f"carry '{derived}' ({LEVELS[derived]}). Cited: {listing}. Write '{{evidence}} {derived}', or cite "
             f"the sources that support '{written}' (a source's level is its evidence field in references.bib)",
             location=where, subtype="evidence")


# -- Environment bookkeeping ------------------------------------------------------------------------


def setup(app):
    app.add_config_value("handbook_regulator_hosts", [], "env", types=[list, tuple, set])
    app.add_config_value("handbook_labelled_pages", [], "env", types=[list, tuple, set])
    app.add_directive("evidence", EvidenceDirective)
    app.add_role("evidence-level", EvidenceLevelRole())
    keep_per_page(app, "handbook_evidence")
    app.connect("builder-inited", check_source_levels)
    app.connect("doctree-read", note_labels)
    app.connect("doctree-read", check_labels_present)
    app.connect("env-check-consistency", check_labels)
