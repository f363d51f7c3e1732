"""Front matter and review dates.

* Checks each page's YAML front matter against a small schema (title, description, last_reviewed,
  next_review, reviewers, keywords) when Sphinx reads the page, and keeps it in `env.handbook_pages`
  for the other parts of the extension (search keywords, the meta description).
* Shows "Last reviewed / Next review due" under each page title, and an "overdue for review" notice
  (and a warning) once the next review date has passed the build date.
"""

from __future__ import annotations

import datetime
import re

import yaml
from docutils import nodes

from .util import logger, warn

# libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)
DESCRIPTION_MAX = 160
REQUIRED_FIELDS = ("title", "description", "last_reviewed", "next_review", "reviewers", "keywords")


def field_line(text, field):
    """Line number (1-based) of a front-matter field in the page source."""
    match = re.search(rf"^{re.escape(field)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def check_front_matter(docname, text):
    """Return the validated front matter of one page, warning about each problem."""
    match = FRONT_MATTER.match(text)
    if not match:
        warn("page has no YAML front matter (a '---' block with title, description, "
             "last_reviewed, next_review, reviewers, keywords)", docname, 1)
        return {}
    try:
        data = yaml.load(match.group(1), Loader=YAML_LOADER) or {}
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", 0) + 2
        warn(f"front matter is not valid YAML: {err}", docname, line)
        return {}
    if not isinstance(data, dict):
        warn("front matter must be a mapping of field: value", docname, 2)
        return {}

    def bad(field, why):
        warn(f"front matter field '{field}' {why}", docname, field_line(text, field))

    for field in REQUIRED_FIELDS:
        if field not in data or data[field] in (None, "", []):
            warn(f"front matter field '{field}' is missing", docname, 1)
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


def read_front_matter(app, docname, source):
    app.env.handbook_pages[docname] = check_front_matter(docname, source[0])


def init_pages(app):
    if not hasattr(app.env, "handbook_pages"):
        app.env.handbook_pages = {}


def purge_pages(app, env, docname):
    env.handbook_pages.pop(docname, None)


def merge_pages(app, env, docnames, other):
    env.handbook_pages.update({d: other.handbook_pages[d] for d in docnames if d in other.handbook_pages})


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
                line_no = field_line(f.read(), "next_review")
            warn(message, docname, line_no, subtype="overdue")
    return result


def add_review_dates(app, doctree):
    """Put the review line (and any overdue notice) right after the page title."""
    docname = app.env.docname
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    after_title = section.index(section.next_node(nodes.title)) + 1
    for offset, node in enumerate(review_nodes(app, docname, app.env.handbook_pages.get(docname, {}))):
        section.insert(after_title + offset, node)


def setup(app):
    app.add_config_value("handbook_build_date", datetime.date.today().isoformat(), "env")
    app.add_config_value("handbook_allow_overdue", False, "env")
    app.connect("builder-inited", init_pages)
    app.connect("source-read", read_front_matter)
    app.connect("env-purge-doc", purge_pages)
    app.connect("env-merge-info", merge_pages)
    # Before search.add_keyword_index (400), which puts the keywords' index node before this line.
    app.connect("doctree-read", add_review_dates, priority=399)
