"""Contributor mistakes in a page: each is reported at the page's file and line, with how to fix it.

Every case below is one mistake on one page of the small fixture handbook (tests/roots/test-handbook).
All the broken pages are built together, in-process, once for this module; each test then looks for
its own message, at its own page and line. With `-W` (as `make` builds), any of these messages fails
the build. A mistake that raised an exception instead would fail the whole module.
"""

import re

import pytest
from conftest import ROOTS, build_pages, line_of

pytestmark = pytest.mark.fast

# A correct page. Each case breaks it in one way. Line 1 is '---', line 2 the title, and so on.
PAGE = """\
---
title: A page with one mistake
description: A page of the fixture handbook that a test breaks in one way.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [mistake, test]
---

:::{admonition} Key points
:class: key-points

- {term}`Ketamine` is a medicine {cite:p}`glue2017`.
:::

## A section

Some text.
"""


def swap(old, new):
    assert old in PAGE, old
    return PAGE.replace(old, new, 1)


def without(field):
    return re.sub(rf"^{field}:.*\n", "", PAGE, flags=re.MULTILINE)


# name: (the broken page, the line the message must point at (or text on that line), the message).
# Each message says what is wrong and how to put it right.
CASES = {
    # -- Review status (medical_review): who has checked the page's claims
    "medical-review-not-a-date": (swap("keywords: [mistake, test]", "keywords: [mistake, test]\nmedical_review: "
                                       "{second_reader: soon, clinician: not yet}"), "medical_review:",
                                  r"front matter field 'medical_review' second_reader: write a date \(YYYY-MM-DD\) or "
                                  r"one of 'not yet', 'not needed', not 'soon'"),
    "medical-review-incomplete": (swap("keywords: [mistake, test]", "keywords: [mistake, test]\nmedical_review: yes"),
                                  "medical_review:",
                                  r"front matter field 'medical_review' must give both second_reader and clinician"),
    # -- Front matter: the block as a whole
    "no-front-matter": (PAGE.split("---\n", 2)[2], 1,
                        r"page has no YAML front matter: start the page with a '---' block"),
    "front-matter-not-closed": (PAGE.replace("---\n\n:::", "\n:::", 1), 1,
                                r"front matter is not closed: end it with a line '---'"),
    "front-matter-not-yaml": (swap("keywords: [mistake", "keywords: [[mistake"), "keywords:",
                              r"front matter is not valid YAML: .*check the brackets, quotes and colons"),
    "front-matter-not-a-mapping": (re.sub(r"^(?=[a-z_]+:)", "- ", PAGE, flags=re.MULTILINE), 2,
                                   r"front matter must be 'field: value' lines"),
    "field-unknown-near-miss": (swap("last_reviewed:", "last_reviwed:"), "last_reviwed:",
                                r"unknown front matter field 'last_reviwed' \(did you mean 'last_reviewed'\?\)"),
    "field-unknown": (swap("keywords:", "colour: blue\nkeywords:"), "colour:",
                      r"unknown front matter field 'colour': the fields are title, description, "),
    "field-twice": (swap("keywords:", "title: Another title\nkeywords:"), "title: Another",
                    r"front matter field 'title' is given twice \(also on line 2\): keep one"),
    # -- Each field: missing, empty, wrong type
    "title-missing": (without("title"), 1, r"front matter field 'title' is missing: add a line 'title: "),
    "title-empty": (swap("title: A page with one mistake", "title:"), "title:",
                    r"front matter field 'title' is empty: give it a value, e\.g\. 'title: "),
    "title-not-text": (swap("title: A page with one mistake", "title: [A, page]"), "title:",
                       r"front matter field 'title' must be text, not a list: "),
    "description-missing": (without("description"), 1, r"front matter field 'description' is missing: add "),
    "description-empty": (swap("description: A page", "description: ''\nx: A page").replace("\nx: A page of the "
                          "fixture handbook that a test breaks in one way.", ""), "description:",
                          r"front matter field 'description' is empty"),
    "description-too-long": (swap("way.", "way. " + "More words. " * 12), "description:",
                             r"front matter field 'description' is 2\d\d characters long \(at most 160\): shorten it"),
    "description-not-text": (swap("description: A page of the fixture handbook that a test breaks in one way.",
                                  "description: 42"), "description:",
                             r"front matter field 'description' must be text, not a number: "),
    "reviewers-missing": (without("reviewers"), 1, r"front matter field 'reviewers' is missing: add "),
    "reviewers-empty": (swap("reviewers: [Test team]", "reviewers: []"), "reviewers:",
                        r"front matter field 'reviewers' is empty"),
    "reviewers-not-a-list": (swap("reviewers: [Test team]", "reviewers: {team: Test}"), "reviewers:",
                             r"front matter field 'reviewers' must be a list of names or words, e\.g\. \[one, two\]"),
    "keywords-missing": (without("keywords"), 1, r"front matter field 'keywords' is missing: add "),
    "keywords-not-a-list": (swap("keywords: [mistake, test]", "keywords: mistake, test"), "keywords:",
                            r"front matter field 'keywords' must be a list of names or words, e\.g\. \[one, two\]"),
    "keywords-with-an-empty-entry": (swap("keywords: [mistake, test]", "keywords: [mistake, '', test]"), "keywords:",
                                     r"front matter field 'keywords' must be a list of names or words, "
                                     r"e\.g\. \[one, two\], but has '' in it: remove it"),
    # -- Dates
    "last-reviewed-missing": (without("last_reviewed"), 1, r"front matter field 'last_reviewed' is missing: add "),
    "next-review-missing": (without("next_review"), 1, r"front matter field 'next_review' is missing: add "),
    "date-day-impossible": (swap("next_review: 2027-04-01", "next_review: 2027-02-30"), "next_review:",
                            r"front matter field 'next_review' is not a real date: '2027-02-30' .*write a date "
                            r"that exists, as YYYY-MM-DD"),
    "date-month-impossible": (swap("last_reviewed: 2026-10-01", "last_reviewed: 2026-13-01"), "last_reviewed:",
                              r"front matter field 'last_reviewed' is not a real date: '2026-13-01'"),
    "date-as-text": (swap("next_review: 2027-04-01", "next_review: next spring"), "next_review:",
                     r"front matter field 'next_review' must be a date written YYYY-MM-DD, not 'next spring'"),
    "date-in-another-order": (swap("next_review: 2027-04-01", "next_review: 01/04/2027"), "next_review:",
                              r"front matter field 'next_review' must be a date written YYYY-MM-DD, not '01/04/2027'"),
    "date-with-a-time": (swap("next_review: 2027-04-01", "next_review: 2027-04-01 10:00"), "next_review:",
                         r"front matter field 'next_review' must be a date written YYYY-MM-DD"),
    "date-as-a-number": (swap("next_review: 2027-04-01", "next_review: 2027"), "next_review:",
                         r"front matter field 'next_review' must be a date written YYYY-MM-DD, not 2027"),
    "next-review-before-last-reviewed": (swap("next_review: 2027-04-01", "next_review: 2026-01-01"), "next_review:",
                                         r"front matter field 'next_review' \(2026-01-01\) must come after "
                                         r"last_reviewed \(2026-10-01\)"),
    "last-reviewed-in-the-future": (swap("last_reviewed: 2026-10-01", "last_reviewed: 2206-10-01"), "last_reviewed:",
                                    r"front matter field 'last_reviewed' \(2206-10-01\) is in the future: write the "
                                    r"date of the last review"),
    "overdue": (swap("last_reviewed: 2026-10-01\nnext_review: 2027-04-01",
                     "last_reviewed: 2026-01-01\nnext_review: 2026-06-01"), "next_review:",
                r"page is overdue for review: next_review 2026-06-01 is before the build date 2026-11-01: "
                r"review the page, then update last_reviewed and next_review"),
    # -- Page structure
    "two-top-level-titles": (PAGE + "\n# A second title\n\nMore text.\n", "# A second title",
                             r"page has a second top-level title 'A second title': the front matter's title is "
                             r"the page's only '#' heading; make this one a '##' section"),
    "heading-level-skipped": (PAGE + "\n#### Too deep\n\nMore text.\n", "#### Too deep",
                              r"Non-consecutive header level increase; H2 to H4"),
    "no-key-points": (swap(":class: key-points", ":class: summary"), 1,
                      r"page has no Key points box: add one at the top of the page"),
    # -- Content that the handbook does not allow
    "raw-html": (PAGE + '\n<div class="promo">Book now</div>\n', "<div",
                 r"raw HTML or a raw block is not allowed in handbook pages; use Markdown or a MyST directive"),
    "script-tag": (PAGE + "\n<script>alert('hi')</script>\n", "<script>", r"raw HTML"),
    "diagram-without-alt-text": (PAGE + "\n```{graphviz}\ndigraph { a -> b }\n```\n", "{graphviz}",
                                 r"diagram has no ':alt:' text: describe it for readers who cannot see it"),
    "image-without-alt-text": (PAGE + "\n![](picture.svg)\n", "![](", r"image 'picture\.svg' has no alt text: "
                               r"describe it for readers who cannot see it"),
    "unknown-evidence-level": (PAGE + "\n```{evidence} anecdotes\n```\n", "{evidence}",
                               r"unknown evidence level 'anecdotes' \(use one of: "),
    "label-twice-on-a-page": (PAGE + "\n(twice)=\n\n## One\n\nText.\n\n(twice)=\n\n## Two\n\nText.\n",
                              "(twice)=\n\n## Two", r"Duplicate explicit target name: \"twice\""),
}


@pytest.fixture(scope="module")
def warnings(tmp_path_factory):
    pages = {name: text for name, (text, _, _) in CASES.items()}
    picture = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'
    files = {"picture.svg": picture, "orphan.md": PAGE}  # orphan.md: a page in no toctree
    return build_pages(tmp_path_factory.mktemp("bad-pages") / "src", pages, files)


@pytest.mark.parametrize("name", CASES)
def test_mistake_is_reported_at_its_line_with_how_to_fix_it(warnings, name):
    text, line, message = CASES[name]
    line = line if isinstance(line, int) else line_of(text, line)
    assert re.search(rf"^{name}\.md:{line}: WARNING: {message}", warnings, re.MULTILINE), \
        f"expected at {name}.md:{line}: {message}\n\nall warnings about {name}.md:\n" + "\n".join(
            w for w in warnings.splitlines() if w.startswith(f"{name}.md"))


def test_the_pages_without_mistakes_give_no_warning(warnings):
    """The fixture's own pages stay clean, so each message above comes from its case alone."""
    clean = [w for w in warnings.splitlines() if w.startswith(("index.md", "topic.md", "glossary.md",
                                                               "references.md", "refs.bib"))]
    assert not clean, "\n".join(clean)


def test_the_fixture_handbook_builds_without_warnings(build):
    assert build() == ""



def test_a_page_in_no_toctree_is_reported(warnings):
    assert re.search(r"^orphan\.md: WARNING: document isn't included in any toctree", warnings, re.MULTILINE)


def test_a_label_defined_on_two_pages_is_reported(build):
    topic = (ROOTS / "test-handbook" / "topic.md").read_text(encoding="utf-8")
    page = topic + "\n(evidence-scale)=\n\n## Again\n\nText.\n"
    warnings = build(files={"topic.md": page})
    line = line_of(page, "## Again")
    assert re.search(rf"^topic\.md:{line}: WARNING: duplicate label evidence-scale, other instance in index",
                     warnings, re.MULTILINE), warnings


def test_a_page_left_out_of_the_pdf_is_reported(build):
    """The PDF is built from the root page's toctrees: a page listed only for HTML is missing from it."""
    index = (ROOTS / "test-handbook" / "index.md").read_text(encoding="utf-8")
    index = index.replace("references\n```", "references\n```\n\n::::{only} builder_html\n```{toctree}\n"
                          ":hidden:\n\nextra\n```\n::::")
    warnings = build(files={"index.md": index, "extra.md": PAGE}, builder="pdf")
    assert re.search(r"^extra\.md:1: WARNING: page is missing from the PDF: include it in a toctree the PDF "
                     r"build sees", warnings, re.MULTILINE), warnings


def test_a_page_without_its_review_status_fails_where_the_project_requires_it(build):
    """The handbook's conf.py sets handbook_require_medical_review: then a page without the field fails at its
    first line, saying what to add (the fixture does not set it, so its pages pass without one)."""
    warnings = build(handbook_require_medical_review=True)
    assert re.search(r"^topic\.md:1: WARNING: front matter field 'medical_review' is missing: add a line "
                     r"'medical_review: \{second_reader: 2026-12-04, clinician: not yet\}'", warnings,
                     re.MULTILINE), warnings
