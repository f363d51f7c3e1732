"""Mistakes in the bibliography: each is reported at the .bib file's line, with how to fix it, and a
file that does not parse ends in a message, not a traceback.

Entries with one mistake each share one build; files that do not parse get one build each (a broken
file may hide the entries after it).
"""

import re

import pytest
from conftest import ROOTS, build_pages, line_of
from test_bad_pages import PAGE

pytestmark = pytest.mark.fast

FIXTURE_BIB = (ROOTS / "test-handbook" / "refs.bib").read_text(encoding="utf-8")
FIELDS = {"author": "Doe, J. and Roe, R.", "title": "A made-up title for a test", "journal": "A journal",
          "year": "2020", "doi": "10.1000/test", "evidence": "small-studies"}


def entry(key, kind="article", **changes):
    """A test entry (not a real source); a change of None drops the field."""
    fields = {**FIELDS, **changes}
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields.items() if value is not None)
    return f"@{kind}{{{key},\n{body}}}\n"


# key: (the entry, the message at the entry's first line, or at the line of the field at fault).
ENTRIES = {
    "nolink": (entry("nolink", doi=None), r"has neither a doi nor a url field: add doi = \{10\.NNNN/\.\.\.\} or"),
    "doiurl": (entry("doiurl", doi="https://doi.org/10.1000/xyz"), r"has a malformed DOI 'https://doi\.org/10\.1000"
               r"/xyz': it is a link, not a DOI \(expected 10\.NNNN/suffix, without https://doi\.org/\)"),
    "doibad": (entry("doibad", doi="10.10/x y"), r"has a malformed DOI '10\.10/x y': it contains a space"),
    "doinot10": (entry("doinot10", doi="11.1000/xyz"), r"has a malformed DOI '11\.1000/xyz': it does not start"),
    "plainhttp": (entry("plainhttp", doi=None, url="http://example.org/page"),
                  r"has a URL that is not https: 'http://example\.org/page': use the https:// address"),
    "urlspace": (entry("urlspace", doi=None, url="https://example.org/a page"),
                 r"has a URL that contains a space: 'https://example\.org/a page'"),
    "notitle": (entry("notitle", title=None), r"\(@article\) has no title field: add title = \{"),
    "noauthor": (entry("noauthor", author=None), r"\(@article\) has no author field: add author = \{"),
    "noyear": (entry("noyear", year=None), r"\(@article\) has no year field: add year = \{2017\}"),
    "nojournal": (entry("nojournal", journal=None), r"\(@article\) has no journal field: add journal = \{"),
    "noauthornotitle": (entry("noauthornotitle", author=None, title=None),
                        r"\(@article\) has no author and no title field: add author = \{"),
    "misctitle": (entry("misctitle", kind="misc", title=None, journal=None), r"\(@misc\) has no title field"),
    "badyear": (entry("badyear", year="2O20"), r"has year '2O20': write the year as four digits"),
    "badtype": (entry("badtype", kind="artcle"), r"has an unknown type '@artcle' \(did you mean 'article'\?\)"),
    "andand": (entry("andand", author="Doe, J. and and Roe, R."), r"has an empty name in its author list"),
    "uncited": (entry("uncited"), r"is not cited on any page: cite it where the page relies on it, or remove it"),
}
# The mistakes of one field, reported at that field's line.
FIELD_AT_FAULT = {"doiurl": "doi", "doibad": "doi", "doinot10": "doi", "plainhttp": "url", "urlspace": "url",
                  "badyear": "year", "andand": "author"}
REPEATED = entry("glue2017", title="The same key again")


@pytest.fixture(scope="module")
def bib_and_warnings(tmp_path_factory):
    bib = FIXTURE_BIB + "".join("\n" + text for text, _ in ENTRIES.values()) + "\n" + REPEATED
    citing = PAGE + "\n" + " ".join(f"{{cite:p}}`{key}`" for key in ENTRIES if key != "uncited") + "\n"
    warnings = build_pages(tmp_path_factory.mktemp("bad-bib") / "src", {"citing": citing}, {"refs.bib": bib})
    return bib, warnings


@pytest.mark.parametrize("key", ENTRIES)
def test_entry_mistake_is_reported_at_its_line_with_how_to_fix_it(bib_and_warnings, key):
    bib, warnings = bib_and_warnings
    text, message = ENTRIES[key]
    line = line_of(bib, text)
    field = FIELD_AT_FAULT.get(key)
    if field:  # the message points at the field's own line in the entry
        line += text[:text.index(f"  {field} = ")].count("\n")
    expected = rf"^refs\.bib:{line}: WARNING: bibliography entry '{key}' .*{message}"
    assert re.search(expected, warnings, re.MULTILINE), f"expected {expected}\ngot:\n{warnings}"


def test_a_repeated_key_is_reported_at_both_lines(bib_and_warnings):
    bib, warnings = bib_and_warnings
    line = line_of(bib, REPEATED)
    first = line_of(bib, "@article{glue2017")
    assert re.search(rf"^refs\.bib:{line}: WARNING: bibliography entry 'glue2017' appears twice \(also at line "
                     rf"{first}\): remove one, or give it another key", warnings, re.MULTILINE), warnings


def test_the_citing_page_and_the_good_entry_give_no_warning(bib_and_warnings):
    _, warnings = bib_and_warnings
    assert not [w for w in warnings.splitlines() if w.startswith(("citing.md", "topic.md", "index.md"))]


# name: (text appended to the fixture's .bib, where the message must point, the message).
UNREADABLE = {
    "unclosed-brace": ("@article{broken,\n  title = {Unclosed,\n  year = {2020}\n", "@article{broken",
                       r"bibliography file does not parse: syntax error in line \d+: premature end of file "
                       r"\(pybtex stopped at line \d+\): check this entry's '@type\{key,' line, its braces \{\} "
                       r"and the comma after each field"),
    "missing-comma-between-fields": (entry("nocomma").replace("title = {A made-up title for a test},",
                                                              "title = {A made-up title for a test}"),
                                     "@article{nocomma", r"bibliography file does not parse: syntax error"),
    "authors-separated-by-commas": (entry("commas", author="Doe, J., Roe, R., Poe, P."), "author = ",
                                    r"bibliography entry cannot be read: Too many commas in 'Doe, J\., Roe, R\., "
                                    r"Poe, P\.': separate the authors with ' and ', not commas"),
    "unbalanced-brace": (entry("unbalanced", author="Doe, J{. and Roe, R."), "@article{unbalanced",
                         r"bibliography file does not parse: syntax error in line \d+: premature end of file"),
    "field-given-twice": (entry("twice").replace("  year", "  doi = {10.1000/again},\n  year"), "@article{twice",
                          r"bibliography entry cannot be read: entry with key twice has a duplicate doi field: "
                          r"keep one of them"),
    "undefined-string": (entry("macro").replace("journal = {A journal}", "journal = JPsych"), "@article{macro",
                         r"bibliography file does not parse: .*JPsych"),
}


@pytest.mark.parametrize("name", UNREADABLE)
def test_a_file_pybtex_cannot_read_ends_in_a_message_at_its_line(build, name):
    text, needle, message = UNREADABLE[name]
    bib = FIXTURE_BIB + "\n" + text
    warnings = build(files={"refs.bib": bib})  # an exception here (pybtex's traceback) fails the test
    assert re.search(rf"^refs\.bib:{line_of(bib, needle)}: WARNING: {message}", warnings, re.MULTILINE), warnings
