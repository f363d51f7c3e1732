"""Studies as data (docs/studies.yml, docs/_ext/handbook/studies.py): the studies page is written from one
entry per study, and a mistake in an entry fails the build at its line with how to fix it; retracted papers
cannot be cited.

The fast tests build the small fixture handbook (tests/roots/test-handbook) with a studies page, a search
page and a studies.yml of one study, then break one thing at a time.
"""

import csv
import io
import re

import pytest
from conftest import ROOTS, build_again, build_pages, html_page, line_of
from sphinx.util.console import strip_colors

pytestmark = pytest.mark.fast

CONF = (ROOTS / "test-handbook" / "conf.py").read_text(encoding="utf-8")
CONF_WITH_STUDIES = CONF + 'handbook_studies = "studies.yml"\nhandbook_retracted = "retracted.txt"\n'

STUDIES = """\
search:
  date: 2026-12-04
  groups: [anxiety]
  strings:
    pubmed: ['ketamine[tiab] AND anxiety[tiab]']
    clinicaltrials: [{condition: anxiety, intervention: ketamine}]
  flow:
    identified: 3
    duplicates: 1
    screened: 2
    excluded:
      in another condition or setting: 1
    included: 1

studies:
  - key: glue2017
    group: anxiety
    kind: open-label
    condition: gad-sad
    n: 12
    heading: rising doses in hard-to-treat anxiety
    glance_kind: Rising doses, no comparison group
    glance_who: 12 patients with hard-to-treat anxiety
    design: Three rising doses a week apart.
    comparator: None.
    participants: 12 patients with {term}`ketamine`-naive anxiety.
    dose: 0.25, 0.5 and 1 mg/kg under the skin.
    measures: Not reported in the abstract.
    result: "*Average change:* anxiety fell within an hour. *Responders:* 10 of 12."
    follow_up: A week after each dose.
    limits: Very small.
    confirmed: Abstract, 4 December 2026.
"""

PAGE = """\
---
title: {title}
description: A page of the fixture handbook.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [studies]
---

:::{{admonition}} Key points
:class: key-points

- A page {{cite:p}}`glue2017`.
:::

{body}
"""
STUDIES_PAGE = PAGE.format(title="Studies", body="## At a glance\n\n```{study-glance}\n```\n\n(studies-anxiety)=\n\n"
                                                 "## Anxiety\n\n```{study-entries} anxiety\n```\n")
SEARCH_PAGE = PAGE.format(title="How the studies were found",
                          body="## Strings\n\n```{study-search-strings}\n```\n\n## Flow\n\n```{study-search}\n```\n")


def build(tmp_path, studies=STUDIES, retracted="", builder="dummy"):
    files = {"conf.py": CONF_WITH_STUDIES, "studies.yml": studies, "retracted.txt": retracted}
    return build_pages(tmp_path / "handbook", {"studies": STUDIES_PAGE, "evidence-search": SEARCH_PAGE}, files=files,
                       builder=builder)


def ours(warnings):
    return [w for w in warnings.splitlines() if "[handbook.studies]" in w or "[handbook.bib]" in w]


def test_the_fixture_builds_and_the_page_and_csv_come_from_the_data(tmp_path):
    assert build(tmp_path, builder="html") == ""
    out = tmp_path / "handbook" / "_build" / "html"
    page = html_page("studies", root=out)
    section = page.find(id="study-glue2017")
    assert section is not None and section.find("h3").get_text().startswith("Glue 2017: rising doses")
    cells = [tr.find_all(["th", "td"]) for tr in section.select("table tr")]
    rows = {c[0].get_text(" ", strip=True): c[1].get_text(" ", strip=True) for c in cells if len(c) == 2}
    assert list(rows) == ["Design", "Compared with", "Participants", "Dose and route", "Measures", "Main result",
                          "Follow-up", "Limits", "Source"]
    assert "Evidence searched up to 4 December 2026." in page.get_text(" ")
    table = list(csv.DictReader(io.StringIO((out / "studies.csv").read_text(encoding="utf-8"))))
    assert [r["key"] for r in table] == ["glue2017"]
    assert table[0]["main_result"] == "Average change: anxiety fell within an hour. Responders: 10 of 12."
    assert table[0]["participants"] == "12 patients with ketamine-naive anxiety."  # roles as plain words
    assert table[0]["doi_or_url"] == "https://doi.org/10.1177/0269881117705089"
    assert table[0]["evidence_level"] == "small-studies" and table[0]["n"] == "12"
    search = " ".join(html_page("evidence-search", root=out).get_text(" ").split())
    assert "ketamine[tiab] AND anxiety[tiab]" in search and "Studies included" in search


def swap(old, new):
    assert old in STUDIES, old
    return STUDIES.replace(old, new, 1)


# name: (the broken studies.yml, text on the line the message points at, the message)
CASES = {
    "unknown-key": (swap("- key: glue2017", "- key: glue2071"), "- key: glue2071",
                    r"'glue2071' is not a key of the bibliography \(did you mean 'glue2017'\?\)"),
    "kind-disagrees": (swap("kind: open-label", "kind: rct"), "- key: glue2017",
                       r"is a randomised controlled trial, but its bibliography entry says evidence = "
                       r"\{small-studies\}"),
    "unknown-kind": (swap("kind: open-label", "kind: open-lable"), "- key: glue2017",
                     r"unknown kind 'open-lable' \(did you mean 'open-label'\?\)"),
    "condition-disagrees": (swap("condition: gad-sad", "condition: depression"), "- key: glue2017",
                            r"studied depression, but its bibliography entry's condition is 'anxiety'"),
    "missing-field": (swap("    limits: Very small.\n", ""), "- key: glue2017", r"has no limits: fill every field"),
    "unknown-field": (swap("    limits: Very small.", "    limits: Very small.\n    limts: x"), "- key: glue2017",
                      r"unknown field 'limts' \(did you mean 'limits'\?\)"),
    "flow-does-not-add-up": (swap("screened: 2", "screened: 3"), "search:",
                             r"identified minus duplicates must equal screened"),
    "included-mismatch": (swap("included: 1", "included: 2").replace("excluded:\n      in another condition or "
                                                                      "setting: 1", "excluded: {}"), "search:",
                          r"2 included, but 1 studies are listed in the searched groups"),
    "does-not-parse": (swap("    dose: 0.25", "   dose: 0.25"), "   dose: 0.25", r"the studies file does not parse"),
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    return {name: ours(build(tmp_path_factory.mktemp(name), studies=text)) for name, (text, _, _) in CASES.items()}


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_in_the_studies_file_is_reported_at_its_line(broken, name):
    text, where, message = CASES[name]
    line = line_of(text, where)
    assert any(w.startswith(f"studies.yml:{line}: WARNING: ") and re.search(message, w) for w in broken[name]), (
        f"expected at studies.yml:{line}: {message}\ngot:\n" + "\n".join(broken[name]))


def test_citing_a_retracted_paper_fails_at_its_bibliography_entry(tmp_path):
    warnings = ours(build(tmp_path, retracted="# retracted papers\n10.1177/0269881117705089  # retracted 2026\n"))
    assert any(w.startswith("refs.bib:") and "is a retracted or withdrawn paper (retracted.txt:2: retracted 2026)"
               in w for w in warnings), warnings


def test_an_incremental_build_checks_the_data_again_when_the_studies_file_or_the_bibliography_changed(tmp_path):
    """The checks of studies.yml are skipped while it and the .bib are those of a clean build, and only then."""
    assert build(tmp_path, builder="html") == ""
    src = tmp_path / "handbook"

    def again():
        return ours(strip_colors(build_again(src).warning.getvalue()))

    assert again() == []
    (src / "studies.yml").write_text(swap("kind: open-label", "kind: open-lable"), encoding="utf-8")
    assert any("unknown kind 'open-lable'" in w for w in again())
    assert any("unknown kind 'open-lable'" in w for w in again()), "a check that warned must warn at every build"
    (src / "studies.yml").write_text(STUDIES, encoding="utf-8")
    assert again() == []
    bib = src / "refs.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("evidence = {small-studies}", "evidence = {rct}", 1),
                   encoding="utf-8")
    assert any("its bibliography entry says evidence = {rct}" in w for w in again())
