"""Numbers as pictures: icon arrays of 100 people, and the plain frequencies in the text, from one data file.

``handbook_frequencies`` (conf.py) names docs/frequencies.yml: one entry per frequency a page shows, with its
source (a bibliography key), what was counted, and its groups (``label``, ``per_100``: how many of every 100
people). From each entry come:

* ```{icon-array} ID```: for each group, a grid of 100 squares with the people counted filled in, and under
  the grids a sentence that says the same in words (the picture's text alternative, which every reader
  sees), with the source cited. The web page, the EPUB and the PDF draw the grid as inline SVG in the text
  colour (so it reads in light and dark); in the PDF, the SVG's text alternative is its <title> (pdf.py).
* {per-100}`ID/GROUP` in a sentence: "about 33 in 100 people (about 1 in 3)", the same figure the picture shows.

The build checks each entry (fields, a known source, 0 to 100 people) at its line in the data file, and an
unknown ID or group where a page uses one.

Panels for acting (a "Get help at once" box, a "Tell your clinic" box, a worksheet with lines to write on) are
admonitions with the classes in ``PANEL_CLASSES``; a page that has one loads docs/_static/panels.css.

Diagrams (graphviz, drawn as SVG files) load lazily on the web site: the browser fetches one when the reader
scrolls near it, so a diagram far down a page adds nothing to the first view.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util.docutils import SphinxDirective, SphinxRole

from .util import LineLoader, did_you_mean, warn

FIELDS = {"id", "source", "counted", "groups"}
SIZE, GAP = 9, 2  # each square and the gap between squares, in SVG units


class icon_array(nodes.General, nodes.Element):
    """A grid of 100 squares, `per_100` of them filled, with a label."""


def load(app):
    name = app.config.handbook_frequencies
    path = (Path(app.confdir) / name).resolve() if name else None
    if path is None or not path.is_file():
        return path, {}
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader) or []  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        warn(f"the frequencies file does not parse: {getattr(error, 'problem', None) or error}",
             location=f"{path}:{mark.line + 1 if mark else 1}", subtype="pictures")
        return path, {}
    return path, {entry.get("id"): entry for entry in data if isinstance(entry, dict)}


def check(app):
    path, entries = load(app)
    app.env.handbook_frequencies = entries
    bib = app.env.get_domain("cite").bibdata.data.entries
    for key, entry in entries.items():
        where = f"{path}:{entry['__line__']}"
        for field in sorted(FIELDS - set(entry)):
            warn(f"frequency '{key}' has no '{field}:'", location=where, subtype="pictures")
        for field in sorted(f for f in set(entry) - FIELDS if not f.startswith("__")):
            warn(f"frequency '{key}' has an unknown field '{field}'{did_you_mean(field, FIELDS)}", location=where,
                 subtype="pictures")
        if entry.get("source") and entry["source"] not in bib:
            warn(f"frequency '{key}': source '{entry['source']}' is not a key of the bibliography"
                 f"{did_you_mean(entry['source'], bib)}", location=where, subtype="pictures")
        for group in entry.get("groups") or []:
            count = group.get("per_100") if isinstance(group, dict) else None
            if not isinstance(count, int) or not 0 <= count <= 100 or not str(group.get("label") or "").strip():
                warn(f"frequency '{key}': each group needs a label and per_100, a whole number from 0 to 100",
                     location=f"{path}:{group.get('__line__', entry['__line__']) if isinstance(group, dict) else 1}",
                     subtype="pictures")


def in_words(count):
    """'about 33 in 100 people (about 1 in 3)': the frequency, and a simpler one where it is close."""
    words = f"{count} in 100 people"
    for n in (2, 3, 4, 5, 6, 8, 10, 20):
        if count and abs(count - 100 / n) <= 1.0:
            return f"about {words} (about 1 in {n})"
    return f"about {words}" if count else "none of 100 people"


def lookup(env, target, location):
    """(entry, group or None) for 'ID' or 'ID/GROUP LABEL', warning when either is unknown."""
    entries = getattr(env, "handbook_frequencies", {})
    key, _, label = target.partition("/")
    entry = entries.get(key)
    if entry is None:
        warn(f"unknown frequency '{key}'{did_you_mean(key, entries)}: add it to the frequencies file",
             location=location, subtype="pictures")
        return None, None
    if not label:
        return entry, None
    labels = [g.get("label") for g in entry.get("groups") or []]
    group = next((g for g in entry.get("groups") or [] if g.get("label") == label), None)
    if group is None:
        warn(f"frequency '{key}' has no group '{label}'{did_you_mean(label, labels)}", location=location,
             subtype="pictures")
    return entry, group


class IconArrayDirective(SphinxDirective):
    """```{icon-array} ID``` -- one grid of 100 people for each group of the frequency, and the same in words."""

    required_arguments = 1

    def run(self):
        for name in filter(None, [self.config.handbook_frequencies]):
            self.env.note_dependency(str(Path(self.env.app.confdir) / name))
        entry, _ = lookup(self.env, self.arguments[0], self.get_location())
        if entry is None:
            return []
        figure = nodes.container(classes=["icon-arrays"])
        self.set_source_info(figure)
        for index, group in enumerate(entry.get("groups") or []):
            figure += icon_array(label=str(group["label"]), count=int(group["per_100"]), index=index,
                                 key=entry["id"])
        groups = entry.get("groups") or []
        words = "; ".join(f"{label(g, first=i == 0)}, {in_words(int(g['per_100']))}" for i, g in enumerate(groups))
        text = f"In words: {entry['counted']}. {words} {{cite:p}}`{entry['source']}`."
        caption = nodes.container(classes=["icon-array-caption"])
        caption += self.parse_text_to_nodes(text)
        figure += caption
        return [figure]


def label(group, first):
    """A group's label to start a sentence ('After ketamine') or to follow a semicolon ('after midazolam')."""
    text = str(group["label"])
    return text if first else text[0].lower() + text[1:]


class Per100Role(SphinxRole):
    """{per-100}`ID/GROUP` -> 'about 33 in 100 people (about 1 in 3)'."""

    def run(self):
        entry, group = lookup(self.env, self.text.strip(), self.get_location())
        if group is None:
            return [nodes.inline(text=self.text)], []
        return [nodes.inline(text=in_words(int(group["per_100"])), classes=["per-100"])], []


def svg(label, count, key, index):
    """A 10 x 10 grid of squares, the first COUNT in the text colour and the rest faint, as two dashed paths
    (one line per row, each dash a square: a few hundred bytes where 100 shapes would take ten kilobytes).
    role=img with its accessible name."""
    pitch, side = SIZE + GAP, 10 * SIZE + 9 * GAP

    def rows(lengths):
        return "".join(f"M0 {row * pitch + SIZE / 2:g}h{length}" for row, length in lengths if length > 0)

    filled = [(row, side if count >= (row + 1) * 10 else (count - row * 10) * pitch - GAP)
              for row in range(10) if count > row * 10]
    dashes = f'stroke="currentColor" stroke-width="{SIZE}" stroke-dasharray="{SIZE} {GAP}" fill="none"'
    title = f"{label}: {count} of 100 people"
    return (f'<figure class="icon-array"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
            f'aria-label="{title}" viewBox="0 0 {side} {side}" width="{side + 24}" height="{side + 24}">'
            f'<path d="{rows((row, side) for row in range(10))}" {dashes} stroke-opacity="0.28"/>'
            + (f'<path d="{rows(filled)}" {dashes}/>' if count else "")
            + f'</svg><figcaption>{label}: {count} in 100</figcaption></figure>')


def visit_icon_array_html(self, node):
    from html import escape

    self.body.append(svg(escape(node["label"]), node["count"], node["key"], node["index"]))
    raise nodes.SkipNode


PANEL_CLASSES = {"get-help-now", "tell-clinic", "worksheet"}


def panel_stylesheet(app, pagename, templatename, context, doctree):
    """Only the pages with a panel for acting load its styles, so that other pages stay light."""
    if doctree is not None and next(doctree.findall(has_panel), None):
        app.add_css_file("panels.css")


def has_panel(node):
    return isinstance(node, nodes.admonition) and bool(PANEL_CLASSES & set(node["classes"]))


DIAGRAM_IMG = '<img src="_images/graphviz-'


def lazy_diagrams(app, pagename, templatename, context, doctree):
    """Web pages only: the EPUB's reading systems load every image at once, and epubcheck knows no ``loading``."""
    if app.builder.format == "html" and app.builder.name != "epub" and DIAGRAM_IMG in context.get("body", ""):
        context["body"] = context["body"].replace(DIAGRAM_IMG, '<img loading="lazy" src="_images/graphviz-')


def skip(self, node):
    raise nodes.SkipNode


def setup(app):
    app.add_config_value("handbook_frequencies", None, "env", types=[str, type(None)])
    app.add_node(icon_array, html=(visit_icon_array_html, None),
                 text=(skip, None), man=(skip, None), texinfo=(skip, None))
    app.add_directive("icon-array", IconArrayDirective)
    app.add_role("per-100", Per100Role())
    app.connect("builder-inited", check, priority=600)
    app.connect("html-page-context", panel_stylesheet, priority=300)  # before outputs.py copies css_files (400)
    app.connect("html-page-context", lazy_diagrams)
