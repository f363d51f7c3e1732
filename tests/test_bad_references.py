"""Mistyped cross-references: an unknown label, page, glossary term, citation key or Markdown link target
is reported at the page's file and line, with the nearest known name ("did you mean ...?") or, when none is
close, how to fix it. All cases are built together, in-process, once for this module (see test_bad_pages.py).
"""

import re

import pytest
from conftest import build_pages, line_of
from test_bad_pages import PAGE

pytestmark = pytest.mark.fast

# The fixture handbook defines the label topic-section, the pages index, topic, glossary and references,
# the glossary terms "ketamine" and "NMDA receptor", and the citation key glue2017.
CASES = {
    "label-near-miss": ("See {ref}`topic-sectoin`.",
                        r"undefined label: 'topic-sectoin' \(did you mean 'topic-section'\?\)"),
    "label-unknown": ("See {ref}`zzz-nothing-like-it`.", r"undefined label: 'zzz-nothing-like-it': a label is "
                      r"written '\(name\)=' on the line above a heading"),
    "label-with-text-near-miss": ("See {ref}`the section <topic-sectio>`.",
                                  r"undefined label: 'topic-sectio' \(did you mean 'topic-section'\?\)"),
    "label-not-on-a-heading": ("See {ref}`index-intro`.", r"label 'index-intro' is not above a heading, so a link to "
                               r"it needs its own text: write \{ref\}`your words <index-intro>`"),
    "page-near-miss": ("See {doc}`glosary`.", r"unknown document: 'glosary' \(did you mean 'glossary'\?\)"),
    "page-unknown": ("See {doc}`zzz-no-page`.", r"unknown document: 'zzz-no-page': name a page by its file name "
                     r"without '\.md'"),
    "term-near-miss": ("A {term}`ketamin` dose.", r"term not in glossary: 'ketamin' \(did you mean 'ketamine'\?\)"),
    "term-plural": ("Two {term}`NMDA receptors`.", r"term not in glossary: 'NMDA receptors' \(did you mean "
                    r"'NMDA receptor'\?\); to keep your wording, write \{term\}`NMDA receptors <NMDA receptor>`"),
    "term-near-miss-with-text": ("The {term}`receptors <NMDA receptr>`.",
                                 r"term not in glossary: 'NMDA receptr' \(did you mean 'NMDA receptor'\?\)"),
    "term-unknown": ("A {term}`zzzyzx`.", r"term not in glossary: 'zzzyzx': add the term to glossary\.md"),
    "citation-key-near-miss": ("A claim {cite:p}`glue2071`.",
                               r"could not find bibtex key \"glue2071\" \(did you mean 'glue2017'\?\)"),
    "citation-key-wrong-case": ("A claim {cite:t}`Glue2017`.",
                                r"could not find bibtex key \"Glue2017\" \(did you mean 'glue2017'\?\)"),
    "citation-key-unknown": ("A claim {cite:p}`nosuchkey2099`.",
                             r"could not find bibtex key \"nosuchkey2099\": add it to refs\.bib"),
    "citation-key-second-of-two": ("Claims {cite:p}`glue2017,glue2O17`.",
                                   r"could not find bibtex key \"glue2O17\" \(did you mean 'glue2017'\?\)"),
    "link-to-a-page-near-miss": ("See [the glossary](glosary.md).",
                                 r"link target not found: 'glosary\.md' \(did you mean 'glossary\.md'\?\)"),
    "link-to-a-heading-near-miss": ("See [that section](topic.md#a-sectoin).",
                                    r"no heading or label '#a-sectoin' in topic \(did you mean 'a-section'\?\)"),
    "link-on-the-page-near-miss": ("See [above](#a-sectoin).",
                                   r"link target not found: 'a-sectoin' \(did you mean 'a-section'\?\)"),
}


def page(name):
    return PAGE + "\n" + CASES[name][0] + "\n"


@pytest.fixture(scope="module")
def warnings(tmp_path_factory):
    return build_pages(tmp_path_factory.mktemp("bad-references") / "src", {name: page(name) for name in CASES})


@pytest.mark.parametrize("name", CASES)
def test_unknown_target_is_reported_at_its_line_with_a_suggestion(warnings, name):
    line = line_of(page(name), CASES[name][0])
    expected = rf"^{name}\.md:{line}: WARNING: {CASES[name][1]}"
    mine = [w for w in warnings.splitlines() if w.startswith(f"{name}.md")]
    assert re.search(expected, warnings, re.MULTILINE), f"expected {expected}\ngot:\n" + "\n".join(mine)
    assert len(mine) == 1, "one message per mistake:\n" + "\n".join(mine)
