"""The safety map: every item a patient needs from each authoritative source, and where the handbook tells it.

``handbook_safety_map`` (conf.py) names a YAML file, docs/safety-map.yml, with two parts:

* ``sources``: one entry per product label, regulator's page or guideline, by its key in references.bib,
  with the version or date the map was last checked against (``version``, ``checked``) and, optionally,
  what the weekly label watch compares with the newest published version (``watch``).
* ``rows``: one item of one source each: ``source`` (a key of ``sources``), ``section`` (where in the source),
  ``item`` (the item in a few words) and either ``home`` (the label of the handbook section that tells the
  reader, or a list of labels) or ``omitted`` (why the handbook leaves it out). A row may add ``checklist``
  (a line for the printable checklist) and ``group`` (which part of the checklist it goes in).

The build fails, at the map's file and line and saying how to fix it, when a row has neither a home nor a
reason, names a section that does not exist, or names a section that does not cite the row's source.
Checked once all pages are read (env-check-consistency), so a change to a page or to the map is checked
against the whole handbook. ``{safety-checklist}`` writes the checklist from the rows that have a
``checklist`` line, each with its citation and a link to the section that explains it, so the two cannot
drift apart.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from .evidence import cite_keys, is_citation
from .util import LineLoader, did_you_mean, keep_per_page, warn

ROW_FIELDS = {"source", "section", "item", "home", "omitted", "checklist", "group"}
SOURCE_FIELDS = {"version", "checked", "watch"}
# The checklist's parts, in the order they print, with their headings.
GROUPS = {
    "tell": "Tell the clinic before your first dose if",
    "medicines": "Tell the clinic about every medicine, and about alcohol and drugs",
    "day": "On the day of a session",
    "urgent": "Get help at once if",
    "soon": "Tell your clinic soon if",
}


def map_path(app):
    name = app.config.handbook_safety_map
    return (Path(app.confdir) / name).resolve() if name else None


def load_map(app):
    """The map as {'sources': {...}, 'rows': [...]}, or None with a warning when it cannot be read."""
    path = map_path(app)
    if path is None:
        return None
    if not path.is_file():
        warn(f"the safety map {path} does not exist: create it, or unset handbook_safety_map in conf.py",
             location=str(path), subtype="safety")
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        warn(f"the safety map does not parse: {getattr(error, 'problem', None) or error}: check the indentation "
             "and that each row starts with '- source:'", location=f"{path}:{line}", subtype="safety")
        return None
    if not (isinstance(data, dict) and isinstance(data.get("sources"), dict) and isinstance(data.get("rows"), list)):
        warn("the safety map needs two parts, 'sources:' (by bibliography key) and 'rows:' (a list)",
             location=f"{path}:1", subtype="safety")
        return None
    return data


def as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# -- What each section of each page cites ------------------------------------------------------------


def note_section_citations(app, doctree):
    """Keep, for each section of this page (by its ids), the bibliography keys cited in it and in its
    subsections, written in the page itself (not in the shared disclaimer and crisis snippets). One pass
    over the page: each citation counts for every section it sits in."""
    page = str(app.env.doc2path(app.env.docname))
    sections = list(doctree.findall(nodes.section))
    cited = {id(section): set() for section in sections}
    for ref in doctree.findall(is_citation):
        if ref.source not in (None, page):
            continue
        keys = cite_keys(ref)
        parent = ref.parent
        while parent is not None:
            if id(parent) in cited:
                cited[id(parent)].update(keys)
            parent = parent.parent
    found = {}
    for section in sections:
        keys = sorted(cited[id(section)])
        for section_id in section["ids"]:
            found[section_id] = keys
    app.env.handbook_section_cites[app.env.docname] = found


def cited_in(env, label):
    """(docname, keys cited in the labelled section), or None when no section has that label."""
    labels = env.get_domain("std").labels
    if label not in labels:
        return None
    docname, label_id, _title = labels[label]
    return docname, env.handbook_section_cites.get(docname, {}).get(label_id, [])


# -- The checks ----------------------------------------------------------------------------------------


def check_map(app, env):
    data = load_map(app)
    if data is None:
        return
    path = map_path(app)
    entries = env.get_domain("cite").bibdata.data.entries
    sources = {key: value for key, value in data["sources"].items() if not key.startswith("__")}
    for key, source in sources.items():
        check_source(f"{path}:{data['sources']['__key_lines__'][key]}", key, source, entries)
    labels = env.get_domain("std").labels
    for row in data["rows"]:
        if isinstance(row, dict):
            check_row(env, path, row, sources, labels)
        else:
            warn("each row of the safety map is a mapping starting '- source: KEY'", location=f"{path}:1",
                 subtype="safety")


def check_source(where, key, source, entries):
    if key not in entries:
        warn(f"safety map source '{key}' is not a key of the bibliography{did_you_mean(key, entries)}: name "
             "each source by its key in references.bib", location=where, subtype="safety")
    if not isinstance(source, dict):
        warn(f"safety map source '{key}' needs 'version:' and 'checked:' lines", location=where, subtype="safety")
        return
    for field in sorted(f for f in set(source) - SOURCE_FIELDS if not f.startswith("__")):
        warn(f"safety map source '{key}' has an unknown field '{field}'{did_you_mean(field, SOURCE_FIELDS)}",
             location=where, subtype="safety")
    if not str(source.get("version") or "").strip():
        warn(f"safety map source '{key}' has no 'version:': write the version or date of the source the map "
             "was checked against (e.g. 'DailyMed version 18, revised 3/2026')", location=where, subtype="safety")
    checked = source.get("checked")
    if not isinstance(checked, datetime.date):
        warn(f"safety map source '{key}' needs 'checked: YYYY-MM-DD', the day the map was last compared with "
             "it, section by section", location=where, subtype="safety")


def check_row(env, path, row, sources, labels):
    where = f"{path}:{row['__line__']}"
    what = f"safety map row '{row.get('item') or '?'}'"
    for field in sorted(f for f in set(row) - ROW_FIELDS if not f.startswith("__")):
        warn(f"{what} has an unknown field '{field}'{did_you_mean(field, ROW_FIELDS)} (fields: "
             f"{', '.join(sorted(ROW_FIELDS))})", location=where, subtype="safety")
    for field in ("source", "section", "item"):
        if not str(row.get(field) or "").strip():
            warn(f"{what} has no '{field}:' line: each row names its source, the section of the source and "
                 "the item in a few words", location=where, subtype="safety")
    source = row.get("source")
    if source and source not in sources:
        warn(f"{what} names the source '{source}'{did_you_mean(source, sources)}, which is not listed under "
             "'sources:' at the top of the map: add it there with its version and the date you checked it",
             location=where, subtype="safety")
    homes, omitted = as_list(row.get("home")), str(row.get("omitted") or "").strip()
    if not homes and not omitted:
        warn(f"{what} has neither 'home:' nor 'omitted:': give the label of the section that tells the reader "
             "(home: benefits-and-risks-breathing), or say why the handbook leaves it out (omitted: ...)",
             location=where, subtype="safety")
    if homes and omitted:
        warn(f"{what} has both 'home:' and 'omitted:': keep one", location=where, subtype="safety")
    if row.get("group") is not None and row["group"] not in GROUPS:
        warn(f"{what} has an unknown group '{row['group']}'{did_you_mean(row['group'], GROUPS)}: use one of "
             f"{', '.join(GROUPS)}", location=where, subtype="safety")
    if row.get("checklist") and not homes:
        warn(f"{what} has a checklist line but no 'home:': the checklist links each line to the section that "
             "explains it", location=where, subtype="safety")
    for label in homes:
        found = cited_in(env, label)
        if found is None:
            warn(f"{what}: 'home: {label}' is not the label of any section{did_you_mean(label, labels)}: use "
                 "the label written as '(label)=' above the section's heading", location=where, subtype="safety")
        elif source and source not in found[1]:
            warn(f"{what}: its home '{label}' ({found[0]}) does not cite '{source}': cite the source in that "
                 f"section ({{cite:p}}`{source}`), or choose the section that tells the reader this item",
                 location=where, subtype="safety")


# -- The checklist -------------------------------------------------------------------------------------


def map_for_directive(directive, name):
    """The safety map for a directive that draws on it (the page is rebuilt when the map changes), or None
    after a warning at the directive when conf.py names no map, or when the map has errors."""
    path = map_path(directive.env.app)
    if path is None:
        warn(f"{{{name}}} needs handbook_safety_map in conf.py", location=directive.get_location(), subtype="safety")
        return None
    directive.env.note_dependency(str(path))
    return load_map(directive.env.app)


class SafetyChecklist(SphinxDirective):
    """```{safety-checklist}``` -- the printable checklist, from the map's rows that have a checklist line."""

    def run(self):
        data = map_for_directive(self, "safety-checklist")
        if data is None:
            return []
        lines = checklist_lines(data["rows"])
        text = []
        for group, heading in GROUPS.items():
            if not lines.get(group):
                continue
            text.append(f"**{heading}:**\n")
            for line, (sources, home) in lines[group].items():
                text.append(f"- {line} {{cite:p}}`{','.join(sources)}` ({{ref}}`why <{home}>`)")
            text.append("")
        container = nodes.container(classes=["safety-checklist"])
        self.set_source_info(container)
        container += self.parse_text_to_nodes("\n".join(text))
        for bullets in container.findall(nodes.bullet_list):
            bullets["classes"].append("checklist")
            for paragraph in bullets.findall(nodes.paragraph):
                wrap_sources(paragraph)
        # Printed from the website, the lines go without their sources (to fit one page); this says where they are.
        address = f"{self.config.html_baseurl}{self.env.docname}.html"
        note = addnodes.only(expr="builder_html")
        note += nodes.paragraph("", "", nodes.Text("The source of each line, and why it matters, are on the web "
                                                   f"page {address}"), classes=["print-only"])
        container += note
        return [container]


def wrap_sources(paragraph):
    """Put a checklist line's citation and 'why' link in one inline of class checklist-source (print hides it)."""
    first = next((i for i, child in enumerate(paragraph.children) if not isinstance(child, nodes.Text)), None)
    if first is None:
        return
    sources = nodes.inline(classes=["checklist-source"])
    for child in paragraph.children[first:]:
        sources += child.deepcopy()
    paragraph.children = paragraph.children[:first]
    paragraph += sources


class SafetyMapTable(SphinxDirective):
    """```{safety-map-table} SOURCE``` -- the map's rows for one source, as a table: where in the source, the
    item, and the sections that tell it (or why it is left out), with the version the map was checked against."""

    required_arguments = 1

    def run(self):
        data = map_for_directive(self, "safety-map-table")
        if data is None:
            return []
        key = self.arguments[0]
        sources = {k: v for k, v in data["sources"].items() if not k.startswith("__")}
        if key not in sources:
            warn(f"{{safety-map-table}} names '{key}', which is not a source of the safety map"
                 f"{did_you_mean(key, sources)}", location=self.get_location(), subtype="safety")
            return []
        source = sources[key]
        version = " ".join(str(source.get("version", "")).split())
        text = [f"Source: {{cite:t}}`{key}`. Checked on {source.get('checked')} against: {version}", "",
                ":::{list-table}", ":header-rows: 1", ":widths: 25 40 35", "",
                "* - Where in the source", "  - What it tells patients", "  - Where this handbook tells it"]
        for row in data["rows"]:
            if not isinstance(row, dict) or row.get("source") != key:
                continue
            homes = as_list(row.get("home"))
            omitted = " ".join(str(row.get("omitted", "")).split())
            told = "; ".join(f"{{ref}}`{label}`" for label in homes) or f"Left out: {omitted}"
            text += [f"* - {row.get('section', '')}", f"  - {row.get('item', '')}", f"  - {told}"]
        text.append(":::")
        container = nodes.container(classes=["safety-map"])
        self.set_source_info(container)
        container += self.parse_text_to_nodes("\n".join(text))
        return [container]


def checklist_lines(rows):
    """{group: {line: ([source keys], home label)}}, in the map's order; a line two rows share (the same
    advice in two labels) is listed once, citing both."""
    lines = {}
    for row in rows:
        if not isinstance(row, dict) or not row.get("checklist") or not as_list(row.get("home")):
            continue
        group = lines.setdefault(row.get("group") or "tell", {})
        line = " ".join(str(row["checklist"]).split())
        sources, home = group.setdefault(line, ([], as_list(row["home"])[0]))
        if row.get("source") and row["source"] not in sources:
            sources.append(row["source"])
    return lines


def checklist_stylesheet(app, pagename, templatename, context, doctree):
    """The checklist's page (and only it) loads docs/_static/checklist.css: boxes to tick, and one printed page.
    The EPUB, an HTML builder too, does without: epubcheck rejects the file's CSS."""
    if app.builder.name != "epub" and doctree is not None and next(doctree.findall(is_checklist), None):
        app.add_css_file("checklist.css")


def is_checklist(node):
    return isinstance(node, nodes.container) and "safety-checklist" in node["classes"]


def setup(app):
    app.add_config_value("handbook_safety_map", None, "env", types=[str, type(None)])
    app.add_directive("safety-checklist", SafetyChecklist)
    app.add_directive("safety-map-table", SafetyMapTable)
    keep_per_page(app, "handbook_section_cites")
    app.connect("doctree-read", note_section_citations)
    app.connect("env-check-consistency", check_map)
    app.connect("html-page-context", checklist_stylesheet, priority=300)  # before outputs.py copies css_files (400)
