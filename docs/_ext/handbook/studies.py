"""Studies as data: one entry per study in docs/studies.yml (``handbook_studies`` in conf.py).

From the entries come the studies page's at-a-glance table and each study's section (written into the page
where it says ```{study-glance}``` and ```{study-entries} GROUP```, before MyST reads it), the search page's
flow of records (```{study-search}```), a CSV of the evidence table that the website offers for download
(``handbook_studies_csv``), and the studies' citations in the page's structured data.

The build checks each entry, at its line in studies.yml: every field filled; a key that is in the
bibliography; a known kind and condition; a kind that agrees with the bibliography entry's evidence level
(a randomised trial carries `rct`, an open-label study `small-studies`, and so on) and a condition that
agrees with its `condition`; and that the search's flow counts add up and match the studies included.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path

import yaml

from .util import LineLoader, did_you_mean, run_when_inputs_change, warn

# kind: (what readers see, the evidence levels its bibliography entry may carry)
KINDS = {
    "rct": ("Randomised controlled trial", {"rct"}),
    "meta-analysis": ("Meta-analysis", {"rct", "small-studies"}),
    "systematic-review": ("Systematic review", {"rct", "small-studies"}),
    "open-label": ("Open-label or uncontrolled study", {"small-studies"}),
    "laboratory": ("Laboratory or animal study", {"preclinical"}),
    "narrative-review": ("Narrative review", {"expert"}),
}
# condition studied: (what readers see, the bibliography `condition` it falls under, or None for animals)
CONDITIONS = {
    "gad": ("Generalised anxiety disorder", "anxiety"),
    "sad": ("Social anxiety disorder", "anxiety"),
    "gad-sad": ("Generalised or social anxiety disorder", "anxiety"),
    "panic": ("Panic disorder", "anxiety"),
    "ptsd": ("Post-traumatic stress disorder", "anxiety"),
    "ocd": ("Obsessive-compulsive disorder", "anxiety"),
    "mixed-anxiety": ("Anxiety disorders (several)", "anxiety"),
    "anxious-depression": ("Anxiety within depression", "depression"),
    "depression": ("Depression", "depression"),
    "perioperative": ("Anxiety around surgery or procedures", "other-uses"),
    "end-of-life": ("Anxiety or depression at the end of life", "other-uses"),
    "recreational-use": ("Recreational use", "recreational-use"),
    "animals": ("Animals", None),
}
# Rows of each study's section: (heading readers see, field).
ROWS = [("Design", "design"), ("Compared with", "comparator"), ("Participants", "participants"),
        ("Dose and route", "dose"), ("Measures", "measures"), ("Main result", "result"),
        ("Follow-up", "follow_up"), ("Limits", "limits")]
FIELDS = {"key", "group", "kind", "condition", "n", "in_search", "heading", "glance_kind", "glance_who", "confirmed",
          *(field for _name, field in ROWS)}
MARKER = re.compile(
    r"^```\{(study-glance|study-entries|study-search|study-search-strings)\}[ \t]*(\S*)[ \t]*\n```[ \t]*$",
    re.MULTILINE)


def data_path(app):
    name = app.config.handbook_studies
    return (Path(app.confdir) / name).resolve() if name else None


def load(app):
    """The data file as a dict, or None (with a warning at its line when it does not parse)."""
    path = data_path(app)
    if path is None or not path.is_file():
        if path is not None:
            warn(f"the studies file {path} does not exist", location=str(path), subtype="studies")
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        warn(f"the studies file does not parse: {getattr(error, 'problem', None) or error}: check the "
             "indentation and that each study starts with '- key:'",
             location=f"{path}:{mark.line + 1 if mark else 1}", subtype="studies")
        return None
    if not (isinstance(data, dict) and isinstance(data.get("studies"), list) and isinstance(data.get("search"), dict)):
        warn("the studies file needs a 'search:' block and a 'studies:' list", location=f"{path}:1",
             subtype="studies")
        return None
    data["studies"] = [s for s in data["studies"] if isinstance(s, dict)]
    data["names"] = {}
    return data


# -- Checks ---------------------------------------------------------------------------------------------


def check_inputs(app):
    """What the check reads: the studies file and the bibliography."""
    from .citations import bib_paths

    return [data_path(app) or "", *bib_paths(app)], (app.config.handbook_studies,)


@run_when_inputs_change(check_inputs)
def check(app):
    """Each entry against the bibliography, and the search's counts; at builder-inited, when the studies
    file or the bibliography changed (the data stays on the environment between builds)."""
    data = load(app)
    app.env.handbook_studies = data
    if data is None:
        return
    path = data_path(app)
    entries = app.env.get_domain("cite").bibdata.data.entries
    data["names"] = {s["key"]: name_of(entries[s["key"]]) for s in data["studies"] if s.get("key") in entries}
    seen = {}
    for study in data["studies"]:
        where = f"{path}:{study['__line__']}"
        key = study.get("key")
        what = f"study '{key or '?'}'"
        for field in sorted(f for f in set(study) - FIELDS if not f.startswith("__")):
            warn(f"{what} has an unknown field '{field}'{did_you_mean(field, FIELDS)}", location=where,
                 subtype="studies")
        missing = [f for f in sorted(FIELDS - {"n", "in_search"}) if not str(study.get(f) or "").strip()]
        if missing:
            warn(f"{what} has no {', '.join(missing)}: fill every field (write 'not reported in the abstract' "
                 "where the paper does not say)", location=where, subtype="studies")
        if key in seen:
            warn(f"{what} appears twice (also at line {seen[key]}): one entry per study", location=where,
                 subtype="studies")
        seen.setdefault(key, study["__line__"])
        if key and key not in entries:
            warn(f"{what}: '{key}' is not a key of the bibliography{did_you_mean(key, entries)}: add the study to "
                 "references.bib first, with the same key", location=where, subtype="studies")
        kind, condition = study.get("kind"), study.get("condition")
        if kind not in KINDS:
            warn(f"{what} has an unknown kind '{kind}'{did_you_mean(kind, KINDS)}: use one of {', '.join(KINDS)}",
                 location=where, subtype="studies")
        if condition not in CONDITIONS:
            warn(f"{what} has an unknown condition '{condition}'{did_you_mean(condition, CONDITIONS)}: use one of "
                 f"{', '.join(CONDITIONS)}", location=where, subtype="studies")
        if study.get("n") is not None and not isinstance(study.get("n"), int):
            warn(f"{what}: n must be a whole number of people (or leave it out for a review)", location=where,
                 subtype="studies")
        if key in entries and kind in KINDS:
            level = entries[key].fields.get("evidence", "").strip()
            if level not in KINDS[kind][1]:
                warn(f"{what} is a {KINDS[kind][0].lower()}, but its bibliography entry says evidence = {{{level}}}: "
                     f"a {KINDS[kind][0].lower()} carries {' or '.join(sorted(KINDS[kind][1]))}; correct the kind or "
                     "the entry", location=where, subtype="studies")
        if key in entries and condition in CONDITIONS and CONDITIONS[condition][1]:
            declared = {c.strip() for c in entries[key].fields.get("condition", "").split(",")}
            if CONDITIONS[condition][1] not in declared:
                warn(f"{what} studied {CONDITIONS[condition][0].lower()}, but its bibliography entry's condition is "
                     f"'{entries[key].fields.get('condition', '')}': it should include "
                     f"'{CONDITIONS[condition][1]}'", location=where, subtype="studies")
    check_search(path, data)


def searched(data):
    """The studies the search counts: those in its groups, but for ones an earlier edition described that the
    rules would now leave out (in_search: false)."""
    groups = data["search"].get("groups") or []
    return [s for s in data["studies"] if s.get("group") in groups and s.get("in_search", True) is not False]


def check_search(path, data):
    search = data["search"]
    where = f"{path}:{data['__key_lines__']['search']}"
    if not isinstance(search.get("date"), datetime.date):
        warn("the search needs 'date: YYYY-MM-DD', the day it was run", location=where, subtype="studies")
    counts = search.get("flow") or {}
    excluded = counts.get("excluded") or {}
    try:
        total_excluded = sum(int(v) for k, v in excluded.items() if not str(k).startswith("__"))
        if int(counts["identified"]) - int(counts["duplicates"]) != int(counts["screened"]):
            warn("search flow: identified minus duplicates must equal screened", location=where, subtype="studies")
        if int(counts["screened"]) - total_excluded != int(counts["included"]):
            warn(f"search flow: screened ({counts['screened']}) minus excluded ({total_excluded}) must equal "
                 f"included ({counts['included']})", location=where, subtype="studies")
        found = sum(1 for s in searched(data))
        if int(counts["included"]) != found:
            warn(f"search flow: {counts['included']} included, but {found} studies are listed in the searched "
                 f"groups ({', '.join(search.get('groups') or [])}): every included study needs an entry",
                 location=where, subtype="studies")
    except (KeyError, TypeError, ValueError) as error:
        warn(f"search flow needs whole numbers for identified, duplicates, screened, excluded (by reason) and "
             f"included ({error})", location=where, subtype="studies")


# -- The page, written from the data ----------------------------------------------------------------------


def write_page(app, docname, source):
    """Replace the markers in a page by the MyST the data gives (the page is read again when the data changes)."""
    if not MARKER.search(source[0]):
        return
    data = app.env.handbook_studies
    path = data_path(app)
    if path is not None:
        app.env.note_dependency(str(path))
    if data is None:
        return

    def replace(match):
        what, group = match.groups()
        if what == "study-glance":
            return glance(data)
        if what == "study-search":
            return search_flow(data)
        if what == "study-search-strings":
            return search_strings(data)
        studies = [s for s in data["studies"] if s.get("group") == group]
        if not studies:
            warn(f"no study in group '{group}'{did_you_mean(group, {s.get('group') for s in data['studies']})}",
                 docname, source[0].count("\n", 0, match.start()) + 1, subtype="studies")
        return "\n".join(entry(s, data["names"].get(s["key"])) for s in studies)

    source[0] = MARKER.sub(replace, source[0])


def searched_on(data):
    date = data["search"].get("date")
    return f"{date.day} {date:%B %Y}" if isinstance(date, datetime.date) else str(date)


def glance(data):
    lines = [f"**Evidence searched up to {searched_on(data)}.** How the studies were found, and which were left out "
             "and why, is on the {doc}`evidence-search` page. The table below is also a spreadsheet file: "
             "{handbook-download}`csv`.", "",
             ":::{list-table}", ":header-rows: 1", ":widths: 22 30 48", "",
             "* - Study", "  - Kind of study", "  - Who took part"]
    for study in data["studies"]:
        name = data["names"].get(study["key"]) or short_name(study["key"])
        lines += [f"* - {{ref}}`{name} <study-{study['key']}>`", f"  - {one_line(study.get('glance_kind'))}",
                  f"  - {one_line(study.get('glance_who'))}"]
    return "\n".join([*lines, ":::", ""])


def entry(study, name=None):
    key = study["key"]
    lines = [f"(study-{key})=", "", f"### {name or short_name(key)}: {one_line(study.get('heading'))}", "",
             ":::{list-table}", ":stub-columns: 1", ":widths: 24 76", ""]
    for name, field in ROWS:
        lines += [f"* - {name}", f"  - {one_line(study.get(field))}"]
    lines += ["* - Source", f"  - {{cite:p}}`{key}`", ":::", ""]
    return "\n".join(lines)


def search_flow(data):
    """The flow of records, as PRISMA 2020 draws it, in a table (readable in every format), then the included
    studies, each linked to its entry, by the studies page's section."""
    flow = data["search"].get("flow") or {}
    excluded = {k: v for k, v in (flow.get("excluded") or {}).items() if not str(k).startswith("__")}
    lines = [":::{list-table}", ":header-rows: 1", ":widths: 70 30", "", "* - Step", "  - Records",
             "* - Records found by the searches", f"  - {flow.get('identified')}",
             "* - Duplicates removed (the same study found twice)", f"  - {flow.get('duplicates')}",
             "* - Records screened (title and abstract)", f"  - {flow.get('screened')}"]
    for reason, count in excluded.items():
        lines += [f"* - Excluded: {reason}", f"  - {count}"]
    lines += ["* - **Studies included**", f"  - **{flow.get('included')}**", ":::", ""]
    names = data.get("names") or {}
    kept = [s for s in data["studies"] if s.get("in_search") is False]
    if kept:
        listed = ", ".join(f"{{ref}}`{names.get(s['key']) or short_name(s['key'])} <study-{s['key']}>`" for s in kept)
        lines += [f"The studies page also keeps {len(kept)} studies that earlier editions described and that these "
                  f"rules would now leave out, as they were not randomised: {listed}. They are not counted above.", ""]
    lines += ["The included studies, by section of the studies page:", ""]
    for group in data["search"].get("groups") or []:
        studies = [s for s in searched(data) if s.get("group") == group]
        links = ", ".join(f"{{ref}}`{names.get(s['key']) or short_name(s['key'])} <study-{s['key']}>`" for s in studies)
        lines += [f"- {{ref}}`studies-{group}`: {links}."]
    return "\n".join([*lines, ""])


def search_strings(data):
    """The exact strings of the documented search, as the weekly evidence watch runs them."""
    strings = data["search"].get("strings") or {}
    lines = ["PubMed (E-utilities), each string run on its own:", "", "```text"]
    lines += [line for term in strings.get("pubmed", []) for line in (term, "")][:-1]
    lines += ["```", "", "ClinicalTrials.gov (API version 2), each pair of condition and intervention terms:", "",
              "```text"]
    lines += [f"condition: {q.get('condition')}; intervention: {q.get('intervention')}"
              for q in strings.get("clinicaltrials", [])]
    return "\n".join([*lines, "```", ""])


def name_of(bib_entry):
    """'Oliveira Filho 2023': the first author's surname, as printed, and the year, from the bibliography."""
    from pybtex.richtext import Text

    people = bib_entry.persons.get("author") or []
    year = bib_entry.fields.get("year", "")
    if not people:
        return None
    surname = " ".join(str(Text.from_latex(part)) for part in people[0].prelast_names + people[0].last_names)
    return f"{surname.replace('{', '').replace('}', '')} {year}".strip()


def short_name(key):
    match = re.fullmatch(r"([a-z]+)(\d{4})([a-z]?)", key or "")
    return f"{match.group(1).capitalize()} {match.group(2)}{match.group(3)}" if match else str(key)


def one_line(value):
    return " ".join(str(value or "").split())


# -- The CSV -------------------------------------------------------------------------------------------------

CSV_COLUMNS = ["key", "study", "title", "journal", "year", "doi_or_url", "kind", "condition", "design", "compared_with",
               "participants", "n", "dose_and_route", "measures", "main_result", "follow_up", "limits",
               "evidence_level"]


def plain(text):
    """MyST roles and emphasis as the words a reader sees: {term}`x <y>` -> x, *x* -> x."""
    text = re.sub(r"\{[a-z:-]+\}`([^`<]*?)\s*<[^>]*>`", r"\1", str(text or ""))
    text = re.sub(r"\{[a-z:-]+\}`([^`]*)`", r"\1", text)
    return one_line(re.sub(r"\*\*?([^*]+)\*\*?", r"\1", text))


def csv_text(app):
    data = app.env.handbook_studies
    entries = app.env.get_domain("cite").bibdata.data.entries
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for study in data["studies"]:
        fields = entries[study["key"]].fields if study.get("key") in entries else {}
        link = f"https://doi.org/{fields['doi']}" if fields.get("doi") else fields.get("url", "")
        title = plain(fields.get("title", "")).replace("{", "").replace("}", "")
        name = data["names"].get(study["key"]) or short_name(study["key"])
        writer.writerow([study["key"], name, title, fields.get("journal", ""), fields.get("year", ""), link,
                         KINDS.get(study.get("kind"), ("",))[0], CONDITIONS.get(study.get("condition"), ("",))[0],
                         plain(study.get("design")), plain(study.get("comparator")), plain(study.get("participants")),
                         study.get("n") if study.get("n") is not None else "", plain(study.get("dose")),
                         plain(study.get("measures")), plain(study.get("result")), plain(study.get("follow_up")),
                         plain(study.get("limits")), fields.get("evidence", "")])
    return out.getvalue()


def write_csv(app, exception):
    if exception is None and app.builder.name in ("html", "dirhtml") and app.env.handbook_studies:
        (Path(app.outdir) / app.config.handbook_studies_csv).write_text(csv_text(app), encoding="utf-8")


def setup(app):
    app.add_config_value("handbook_studies", None, "env", types=[str, type(None)])
    app.add_config_value("handbook_studies_csv", "studies.csv", "env")
    app.connect("builder-inited", check, priority=600)  # after sphinxcontrib-bibtex has read the .bib
    app.connect("source-read", write_page)
    app.connect("build-finished", write_csv)
