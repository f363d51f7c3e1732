"""Front matter and review dates.

* Checks each page's YAML front matter against a small schema (title, description, last_reviewed,
  next_review, reviewers, keywords) when Sphinx reads the page, and keeps it in `env.handbook_pages`
  for the other parts of the extension (search keywords, the meta description).
* Shows "Last reviewed / Next review due" under each page title, and an "overdue for review" notice
  (and a warning) once the next review date has passed the build date.
* `medical_review` (required where ``handbook_require_medical_review`` is set, as in the handbook's conf.py):
  when a second reader last checked the page's claims against their sources, and when an independent
  clinician last reviewed it, each a date, "not yet" or "not needed". Shown under the review dates.
"""

from __future__ import annotations

import datetime
import re

import yaml
from docutils import nodes
from sphinx import addnodes

from .util import did_you_mean, keep_per_page, logger, warn

# libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FrontMatterLoader(YAML_LOADER):
    """Reads dates as the text written, so this module checks them: PyYAML would turn 2026-02-30 into a
    ValueError (a traceback) and 2026-11-25 10:00 into a datetime."""


FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)
DESCRIPTION_MAX = 160
# Each field, with a line to copy when it is missing or wrong.
FIELDS = {
    "title": "title: How ketamine may work in anxiety",
    "description": "description: One sentence that search results show, at most 160 characters.",
    "last_reviewed": "last_reviewed: 2026-11-25",
    "next_review": "next_review: 2027-05-25",
    "reviewers": "reviewers: [Handbook editorial team]",
    "keywords": "keywords: [mechanism, glutamate, NMDA receptor]",
}
REQUIRED_FIELDS = tuple(FIELDS)
# Optional unless handbook_require_medical_review: who has checked the page's medical content, and when.
MEDICAL_REVIEW_EXAMPLE = "medical_review: {second_reader: 2026-12-04, clinician: not yet}"
MEDICAL_REVIEWERS = {"second_reader": "a second reader checked every claim against its source",
                     "clinician": "an independent clinician reviewed the page"}
REVIEW_WORDS = ("not yet", "not needed")
DATE_FIELDS = ("last_reviewed", "next_review")
TEXT_FIELDS = ("title", "description")
LIST_FIELDS = ("reviewers", "keywords")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIELD = re.compile(r"^([^\s#:'\"-][^:\n]*?)\s*:(?:\s|$)", re.MULTILINE)  # a top-level 'field:' line


def field_line(text, field):
    """Line number (1-based) of a front-matter field in the page source."""
    match = re.search(rf"^{re.escape(str(field))}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def kind(value):
    """What a contributor wrote, in their words: 'a list', 'a number'..."""
    if isinstance(value, bool):
        return "true/false"
    return {list: "a list", dict: "a set of 'field: value' lines", int: "a number", float: "a number"}.get(
        type(value), "text")


def yaml_error_line(err):
    """The page line a YAML error points at: where the broken construct starts, else where it broke.
    The front matter's own line 1 is the page's line 2."""
    mark = getattr(err, "context_mark", None) or getattr(err, "problem_mark", None)
    return mark.line + 2 if mark is not None else 2


def as_date(value):
    """(date, None) for a date written YYYY-MM-DD, else (None, what is wrong and how to fix it)."""
    text = str(value).strip()
    if not isinstance(value, str) or not DATE.fullmatch(text):
        return None, f"must be a date written YYYY-MM-DD, not {value!r}: for example {FIELDS['next_review']}"
    try:
        return datetime.date.fromisoformat(text), None
    except ValueError as err:
        return None, f"is not a real date: '{text}' ({err}): write a date that exists, as YYYY-MM-DD"


def check_front_matter(docname, text):
    """Return the validated front matter of one page, warning about each problem (file, line, and
    how to fix it). Dates come back as datetime.date; a field with a problem is left out."""
    match = FRONT_MATTER.match(text)
    if not match:
        if re.match(r"---\s*\n", text):
            warn("front matter is not closed: end it with a line '---' after its last field", docname, 1)
        else:
            warn("page has no YAML front matter: start the page with a '---' block giving title, description, "
                 "last_reviewed, next_review, reviewers and keywords, closed by a line '---' (copy the block "
                 "of another page)", docname, 1)
        return {}
    block = match.group(1)
    try:
        data = yaml.load(block, Loader=FrontMatterLoader)
    except (yaml.YAMLError, ValueError, RecursionError) as err:
        problem = "; ".join(str(p) for p in (getattr(err, "context", None), getattr(err, "problem", None)) if p)
        warn(f"front matter is not valid YAML: {problem or err}: check the brackets, quotes and colons on this "
             "line (a value containing ': ' or starting with [ { ' \" needs quotes)", docname, yaml_error_line(err))
        return {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        warn("front matter must be 'field: value' lines (e.g. 'title: ...'), not a list or a single value",
             docname, 2)
        return {}

    def bad(field, why):
        warn(f"front matter field '{field}' {why}", docname, field_line(text, field))

    seen = {}
    for found in FIELD.finditer(block):
        line = block.count("\n", 0, found.start()) + 2
        name = found.group(1)
        if name in seen:
            warn(f"front matter field '{name}' is given twice (also on line {seen[name]}): keep one", docname, line)
        seen.setdefault(name, line)
    known = {**FIELDS, "medical_review": MEDICAL_REVIEW_EXAMPLE}
    for field in data:
        if field not in known:
            hint = did_you_mean(field, known) or f": the fields are {', '.join(known)}"
            warn(f"unknown front matter field '{field}'{hint}", docname, field_line(text, field))
    result_review = (check_medical_review(data["medical_review"], lambda why: bad("medical_review", why))
                     if "medical_review" in data else None)
    result = {}
    for field, example in FIELDS.items():
        if field not in data:
            warn(f"front matter field '{field}' is missing: add a line '{example}'", docname, 1)
            continue
        value = data[field]
        if value is None or (isinstance(value, str | list | dict) and not str(value).strip(" []{}'\"")):
            bad(field, f"is empty: give it a value, e.g. '{example}'")
            continue
        if field in DATE_FIELDS:
            value, problem = as_date(value)
            if problem:
                bad(field, problem)
                continue
        elif field in TEXT_FIELDS and not isinstance(value, str):
            bad(field, f"must be text, not {kind(value)}: write it on one line, e.g. '{example}' (in quotes if "
                       "it starts with [ or { or contains ': ')")
            continue
        elif field in LIST_FIELDS and not isinstance(value, list):
            bad(field, f"must be a list of names or words, e.g. [one, two], not {kind(value)}: for example "
                       f"'{example}'")
            continue
        elif field in LIST_FIELDS and not all(isinstance(v, str) and v.strip() for v in value):
            wrong = next(v for v in value if not (isinstance(v, str) and v.strip()))
            bad(field, f"must be a list of names or words, e.g. [one, two], but has {wrong!r} in it: remove it, "
                       "or put a number in quotes ('1962')")
            continue
        result[field] = value
    if result_review:
        result["medical_review"] = result_review
    description = result.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        bad("description", f"is {len(description)} characters long (at most {DESCRIPTION_MAX}): shorten it; "
                           "search results cut it there")
    last, nxt = result.get("last_reviewed"), result.get("next_review")
    if last and last > datetime.date.today() + datetime.timedelta(days=1):  # a day's grace for time zones
        bad("last_reviewed", f"({last}) is in the future: write the date of the last review, at the latest today")
        del result["last_reviewed"]
        last = None
    if last and nxt and nxt <= last:
        bad("next_review", f"({nxt}) must come after last_reviewed ({last}): set the date of the next review")
        del result["next_review"]
    return result


def check_medical_review(value, bad):
    """{'second_reader': date or words, 'clinician': date or words}, or None after reporting what is wrong."""
    if not isinstance(value, dict) or set(value) != set(MEDICAL_REVIEWERS):
        bad(f"must give both second_reader and clinician, e.g. '{MEDICAL_REVIEW_EXAMPLE}'")
        return None
    review = {}
    for who, value_ in value.items():
        if str(value_).strip() in REVIEW_WORDS:
            review[who] = str(value_).strip()
            continue
        date, problem = as_date(value_)
        if problem:
            bad(f"{who}: write a date (YYYY-MM-DD) or one of {', '.join(repr(w) for w in REVIEW_WORDS)}, not "
                f"{value_!r}")
            return None
        if date > datetime.date.today() + datetime.timedelta(days=1):
            bad(f"{who} ({date}) is in the future: write the date the review was done")
            return None
        review[who] = date
    return review


def quote_impossible_dates(text):
    """The page with each impossible date in its front matter (next_review: 2026-02-30) put in quotes.

    MyST reads the front matter too, and drops all of it when a date does not exist ("Malformed YAML"),
    page title included. Once check_front_matter has reported the date, the quotes let MyST read the
    rest. Only that line changes, so every line number stays true."""
    match = FRONT_MATTER.match(text)
    if not match:
        return text

    def quoted(found):
        try:
            datetime.date.fromisoformat(found.group(2))
            return found.group(0)
        except ValueError:
            return f'{found.group(1)}"{found.group(2)}"'

    block = re.sub(r"^([\w-]+\s*:\s*)(\d{4}-\d{2}-\d{2})(?=\s*$)", quoted, match.group(1), flags=re.MULTILINE)
    return text[:match.start(1)] + block + text[match.end(1):]


def read_front_matter(app, docname, source):
    meta = check_front_matter(docname, source[0])
    if app.config.handbook_require_medical_review and "medical_review" not in meta and meta:
        if not re.search(r"^medical_review\s*:", source[0][:2000], re.MULTILINE):
            warn(f"front matter field 'medical_review' is missing: add a line '{MEDICAL_REVIEW_EXAMPLE}' (the date "
                 "a second reader last checked the page's claims, and whether an independent clinician has "
                 "reviewed it)", docname, 1)
    app.env.handbook_pages[docname] = meta
    source[0] = quote_impossible_dates(source[0])


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
    review = meta.get("medical_review")
    if review:
        result.append(review_status(review))
    build_date = datetime.date.fromisoformat(app.config.handbook_build_date)
    if nxt < build_date:
        notice = nodes.admonition(classes=["overdue-review", "warning"])
        notice += nodes.title(text="Overdue for review")
        notice += nodes.paragraph(text=(
            f"This page was due for its next review on {nxt.isoformat()}. Its content may be out of "
            "date: check with a clinician before acting on it."))
        result.append(notice)
        message = (f"page is overdue for review: next_review {nxt.isoformat()} is before the build date "
                   f"{build_date}: review the page, then update last_reviewed and next_review")
        if app.config.handbook_allow_overdue:
            logger.info(message, location=(docname, None))
        else:
            source = app.env.doc2path(docname)
            with open(source, encoding="utf-8") as f:
                line_no = field_line(f.read(), "next_review")
            warn(message, docname, line_no, subtype="overdue")
    return result


def review_status(review):
    """'Medical review: claims checked against their sources by a second reader on 2026-12-04; not yet
    reviewed by an independent clinician.' -- with a link to how pages are reviewed (the about page)."""
    def part(who, value):
        if value == "not needed":
            return {"second_reader": "no medical claims to check",
                    "clinician": "no clinical review needed"}[who]
        if value == "not yet":
            return {"second_reader": "claims not yet checked by a second reader",
                    "clinician": "not yet reviewed by an independent clinician"}[who]
        return {"second_reader": f"claims checked against their sources by a second reader on {value.isoformat()}",
                "clinician": f"reviewed by an independent clinician on {value.isoformat()}"}[who]

    line = nodes.paragraph(classes=["review-status"])
    line += nodes.strong(text="Medical review: ")
    line += nodes.Text(f"{part('second_reader', review['second_reader'])}; {part('clinician', review['clinician'])}. ")
    ref = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget="about-review", refexplicit=True,
                                refwarn=True)
    ref += nodes.inline(text="How pages are reviewed")
    line += ref
    line += nodes.Text(".")
    return line


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
    app.add_config_value("handbook_require_medical_review", False, "env")
    keep_per_page(app, "handbook_pages")
    app.connect("source-read", read_front_matter)
    # Before search.add_keyword_index (400), which puts the keywords' index node before this line.
    app.connect("doctree-read", add_review_dates, priority=399)
