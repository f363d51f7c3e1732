"""Citations: the author-year style in round brackets, and checks of the bibliography.

* `author_year_round`, registered with sphinxcontrib-bibtex's public plugin API: (Glue et al., 2017).
* Each .bib file must parse: a syntax error is reported at its file and line (pybtex would stop the
  build with a traceback), and the rest of the file is still read.
* Each entry: a key used once, a type the citation style knows, the fields its type needs, an author (a
  person or an organisation: a citation never prints a title in the author's place), a four-digit year,
  a well-formed DOI or an https URL; and it must be cited somewhere.
* Each citation key must be in the bibliography; a near miss gets "did you mean ...?". This replaces
  sphinxcontrib-bibtex's "could not find bibtex key" warning, which has no suggestion and no public
  hook to add one: `suppress_warnings` (set here, in `config-inited`) silences that one message type,
  `bibtex.key_not_found`, and check_every_key_known reports the same keys with the nearest known one.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pybtex.errors
from pybtex.database.input.bibtex import Parser
from pybtex.scanner import PybtexSyntaxError

from .util import bib_entry_lines, bib_entry_locations, did_you_mean, run_when_inputs_change, warn

DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def _round_brackets():
    from sphinxcontrib.bibtex.style.referencing import BracketStyle

    return BracketStyle(left="(", right=")")


def register_citation_style():
    """Author-year citations in round brackets: (Glue et al., 2017), as in medical writing."""
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


# Fields each entry type needs, as BibTeX's standard styles expect them; any other type needs a title.
NEEDED_FIELDS = {
    "article": ("author", "title", "journal", "year"),
    "book": ("title", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "incollection": ("author", "title", "booktitle", "year"),
    "phdthesis": ("author", "title", "school", "year"),
    "mastersthesis": ("author", "title", "school", "year"),
    "techreport": ("author", "title", "institution", "year"),
}
EXAMPLE_FIELD = {"author": "author = {Glue, P. and Medlicott, N. J.}", "year": "year = {2017}",
                 "title": "title = {The paper's title}", "journal": "journal = {Journal of Psychopharmacology}"}


def bib_paths(app):
    """The .bib files, resolved as sphinxcontrib-bibtex resolves them (relative to conf.py's folder)."""
    return [(Path(app.confdir) / name).resolve() for name in app.config.bibtex_bibfiles or []]


# How to fix what pybtex reports about an entry it could read, by the error's class name.
ENTRY_ERROR_FIX = {
    "DuplicateField": "keep one of them",
    "InvalidNameString": "separate the authors with ' and ', not commas: 'Glue, P. and Medlicott, N. J.'",
}


def read_errors(path, encoding):
    """What pybtex cannot read in one .bib file, as [(line, message saying how to fix it)], and whether
    it complained at all (a repeated key counts, though check_bibliography reports those, with lines)."""
    text = path.read_text(encoding=encoding)
    with pybtex.errors.capture() as errors:
        Parser(encoding).parse_string(text)
    found = []
    for error in errors:
        message = str(error)
        if isinstance(error, PybtexSyntaxError):
            # The line of the entry pybtex was reading (its '@'), which is where to look.
            start = getattr(error, "error_context_info", (None,))[0]
            line = text.count("\n", 0, start) + 1 if start is not None else error.lineno
            found.append((line, f"bibliography file does not parse: {message} (pybtex stopped at line "
                                f"{error.lineno}): check this entry's '@type{{key,' line, its braces {{}} and "
                                "the comma after each field"))
        elif "repeated bibliography entry" not in message:
            # e.g. "Too many commas in 'Doe, J., Roe, K.'": the line holding the quoted text, or the entry's.
            quoted = re.search(r"'([^']+)'", message)
            at = text.find(quoted.group(1)) if quoted else -1
            if at < 0:
                starts = re.finditer(r"@\w+\s*[{(]\s*([^,\s]+)", text)
                at = next((m.start() for m in starts if m.group(1) in message), 0)
            fix = ENTRY_ERROR_FIX.get(type(error).__name__, "correct the entry")
            found.append((text.count("\n", 0, at) + 1, f"bibliography entry cannot be read: {message}: {fix}"))
    return found, bool(errors)


class BibErrorsCaptured:
    """While sphinxcontrib-bibtex reads a .bib file that check_bib_syntax found broken, pybtex collects its
    errors (its public pybtex.errors.capture) instead of raising them, so the build goes on to report
    every problem instead of stopping with a traceback."""

    capturing = None

    @classmethod
    def start(cls):
        cls.capturing = pybtex.errors.capture()
        cls.capturing.__enter__()

    @classmethod
    def stop(cls, app=None):
        if cls.capturing is not None:
            cls.capturing.__exit__(None, None, None)
            cls.capturing = None


def bib_inputs(app):
    """What the checks of the .bib files read: the files, and how they are read and formatted."""
    return bib_paths(app), (app.config.bibtex_encoding, app.config.bibtex_default_style)


def retracted_inputs(app):
    paths, values = bib_inputs(app)
    name = app.config.handbook_retracted
    return [*paths, *([Path(app.confdir) / name] if name else [])], (*values, name)


@run_when_inputs_change(bib_inputs)
def check_bib_syntax(app):
    """Each .bib file parses; each problem at its file and line. Runs before sphinxcontrib-bibtex reads
    the files (priority 400 < 500)."""
    broken = False
    for path in bib_paths(app):
        if path.is_file():
            errors, any_error = read_errors(path, app.config.bibtex_encoding)
            broken = broken or any_error
            for line, problem in errors:
                warn(problem, location=f"{path}:{line}", subtype="bib")
    if broken:
        BibErrorsCaptured.start()


def field_location(where, field):
    """'path:line' of FIELD's line in the entry that starts at WHERE ('path:line'), or WHERE if not found."""
    if not where:
        return where
    path, start = where.rsplit(":", 1)
    with open(path, encoding="utf-8-sig") as f:
        lines = f.read().splitlines()[int(start):]
    for offset, text in enumerate(lines, start=int(start) + 1):
        if text.lstrip().startswith("@"):
            break
        if re.match(rf"\s*{field}\s*=", text, re.IGNORECASE):
            return f"{path}:{offset}"
    return where


def doi_fault(doi):
    """What is wrong with a DOI that does not match 10.NNNN/suffix, in words."""
    if re.match(r"(?i)https?://|doi:", doi):
        return "it is a link, not a DOI"
    if re.search(r"\s", doi):
        return "it contains a space"
    if not doi.startswith("10."):
        return "it does not start with 10."
    return "it is not 10.NNNN/suffix"


@run_when_inputs_change(bib_inputs)
def check_bibliography(app):
    """Each entry: its key used once, a known type, the fields its type needs, a four-digit year, a
    well-formed DOI or an https URL.

    Reads the entries sphinxcontrib-bibtex has already parsed (its builder-inited handler runs first,
    as it is loaded first).
    """
    from pybtex.plugin import find_plugin

    bibdata = app.env.get_domain("cite").bibdata
    locations = bib_entry_locations(bibdata)
    for path in bibdata.bibfiles:
        seen = {}
        for key, line in bib_entry_lines(Path(path).read_text(encoding=app.config.bibtex_encoding)):
            if key.lower() in seen:
                warn(f"bibliography entry '{key}' appears twice (also at line {seen[key.lower()]}): remove one, "
                     "or give it another key", location=f"{path}:{line}", subtype="bib")
            seen.setdefault(key.lower(), line)
    style = find_plugin("pybtex.style.formatting", app.config.bibtex_default_style)()
    known_types = sorted(name[4:-9] for name in dir(style) if name.startswith("get_") and name.endswith("_template"))
    for key, entry in bibdata.data.entries.items():
        where = locations.get(key)
        if entry.type not in known_types:
            warn(f"bibliography entry '{key}' has an unknown type '@{entry.type}'"
                 f"{did_you_mean(entry.type, known_types) or ': use @article, @book or @misc'}",
                 location=where, subtype="bib")
            # Formatted as misc, so the build goes on to report the rest instead of stopping with a traceback.
            # (After a failed build `make` drops Sphinx's saved state, so the next one reads the file again.)
            entry.type = "misc"
        missing = [f for f in NEEDED_FIELDS.get(entry.type, ("title",))
                   if not (entry.fields.get(f, "").strip() or (f == "author" and entry.persons.get(f)))]
        if missing:
            wanted = ", ".join(EXAMPLE_FIELD.get(f, f"{f} = {{...}}") for f in missing)
            warn(f"bibliography entry '{key}' (@{entry.type}) has no {' and no '.join(missing)} field: add "
                 f"{wanted}", location=where, subtype="bib")
        if not (entry.persons.get("author") or entry.persons.get("editor")) and "author" not in missing:
            warn(f"bibliography entry '{key}' has no author: its citations would print the title where the "
                 "author belongs. Add the people (author = {Matveychuk, D. and Thomas, R. K.}) or, for a "
                 "regulator, company or other body, the organisation in double braces (author = {{European "
                 "Medicines Agency}})", location=where, subtype="bib")
        if not (entry.fields.get("title", "").strip() or entry.persons.get("author") or entry.persons.get("editor")):
            # Author-year citations need an author or a title: without either, formatting a citation of this
            # entry would stop the build with a traceback. The build fails on the warning above anyway.
            entry.fields["title"] = f"[{key}: no title]"
        names = entry.persons.get("author", [])
        if any(part.lower() == "and" for person in names
               for part in person.first_names + person.middle_names + person.prelast_names + person.last_names):
            warn(f"bibliography entry '{key}' has an empty name in its author list (two 'and's in a row, or "
                 "one at the end): write the names as 'Glue, P. and Medlicott, N. J.'",
                 location=field_location(where, "author"), subtype="bib")
        year = entry.fields.get("year", "").strip()
        if year and not re.fullmatch(r"\d{4}", year):
            warn(f"bibliography entry '{key}' has year '{year}': write the year as four digits, e.g. year = {{2017}}",
                 location=field_location(where, "year"), subtype="bib")
        doi = entry.fields.get("doi", "").strip()
        url = entry.fields.get("url", "").strip()
        if not doi and not url:
            warn(f"bibliography entry '{key}' has neither a doi nor a url field: add doi = {{10.NNNN/...}} "
                 "or, for a page with no DOI, url = {https://...}", location=where, subtype="bib")
        if doi and not DOI.match(doi):
            warn(f"bibliography entry '{key}' has a malformed DOI '{doi}': {doi_fault(doi)} (expected "
                 "10.NNNN/suffix, without https://doi.org/)", location=field_location(where, "doi"), subtype="bib")
        if url and not url.startswith("https://"):
            warn(f"bibliography entry '{key}' has a URL that is not https: '{url}': use the https:// address",
                 location=field_location(where, "url"), subtype="bib")
        if url and re.search(r"\s", url):
            warn(f"bibliography entry '{key}' has a URL that contains a space: '{url}': write %20 for a space, "
                 "or check that the address was copied whole", location=field_location(where, "url"), subtype="bib")


def retracted_dois(app):
    """{doi (lower case): (line, note)} from the list of retracted or withdrawn papers (handbook_retracted)."""
    name = app.config.handbook_retracted
    path = (Path(app.confdir) / name) if name else None
    if path is None or not path.is_file():
        return path, {}
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        doi, _, note = line.partition("#")
        if doi.strip():
            found[doi.strip().lower()] = (number, note.strip())
    return path, found


@run_when_inputs_change(retracted_inputs)
def check_no_retracted_paper(app):
    """No bibliography entry is a paper on the list of retracted or withdrawn papers."""
    path, retracted = retracted_dois(app)
    if not retracted:
        return
    bibdata = app.env.get_domain("cite").bibdata
    locations = bib_entry_locations(bibdata)
    for key, entry in bibdata.data.entries.items():
        doi = entry.fields.get("doi", "").strip().lower()
        if doi in retracted:
            line, note = retracted[doi]
            warn(f"bibliography entry '{key}' (doi {doi}) is a retracted or withdrawn paper ({path.name}:{line}"
                 f"{': ' + note if note else ''}): remove it and every claim that rests on it, or cite the "
                 "corrected version", location=locations.get(key), subtype="bib")


def check_every_entry_cited(app, env):
    """A bibliography entry that nothing cites is a sign of a dropped claim."""
    domain = env.get_domain("cite")
    cited = {target.key for ref in domain.citation_refs for target in ref.targets}
    locations = bib_entry_locations(domain.bibdata)
    for key in domain.bibdata.data.entries:
        if key not in cited:
            warn(f"bibliography entry '{key}' is not cited on any page: cite it where the page relies on it, "
                 "or remove it", location=locations.get(key), subtype="bib")


def suppress_bibtex_unknown_key(app, config):
    """check_every_key_known gives this message, with a suggestion (see the module's docstring)."""
    if "bibtex.key_not_found" not in config.suppress_warnings:
        config.suppress_warnings = [*config.suppress_warnings, "bibtex.key_not_found"]


CITE_ROLE = re.compile(r"\{(?:foot)?cite(?::\w+)?\}`([^`]*)`")


def cite_line(env, docname, key):
    """The line of a page where a cite role names KEY (sphinxcontrib-bibtex does not know it for MyST)."""
    with open(env.doc2path(docname), encoding="utf-8") as f:
        text = f.read()
    for match in CITE_ROLE.finditer(text):
        if key in re.split(r"[\s,]+", match.group(1)):
            return text.count("\n", 0, match.start()) + 1
    return None


def check_every_key_known(app, env):
    """Each key a page cites is in the bibliography: else the page's file and line, and the nearest key."""
    domain = env.get_domain("cite")
    keys = list(domain.bibdata.data.entries.keys())  # as written: sphinxcontrib-bibtex matches them exactly
    for ref in domain.citation_refs:
        for target in ref.targets:
            if target.key not in keys:
                hint = did_you_mean(target.key, keys) or f": add it to {', '.join(app.config.bibtex_bibfiles)}"
                warn(f'could not find bibtex key "{target.key}"{hint}', ref.docname,
                     ref.line or cite_line(env, ref.docname, target.key), subtype="cite")


def setup(app):
    register_citation_style()
    app.connect("config-inited", suppress_bibtex_unknown_key)
    app.connect("builder-inited", check_bib_syntax, priority=400)
    app.connect("builder-inited", BibErrorsCaptured.stop)  # once sphinxcontrib-bibtex has read the files
    app.connect("builder-inited", check_bibliography)
    app.connect("builder-inited", check_no_retracted_paper)
    app.add_config_value("handbook_retracted", None, "env", types=[str, type(None)])
    app.connect("env-check-consistency", check_every_key_known)
    app.connect("env-check-consistency", check_every_entry_cited)
