"""The safety map (docs/safety-map.yml, docs/_ext/handbook/safety.py): every item a label tells patients has a
home in the handbook that cites that label, or a reason it is left out; the printable checklist is made from it.

The fast tests build the small fixture handbook (tests/roots/test-handbook, whose map passes) with one mistake
written over its map, and look for the message at the map's line. The others read the real map and the built
handbook.
"""

import copy
import datetime
import re

import pytest
import yaml
from conftest import DOCS, HTML, PDF, ROOTS, article, build_pages, html_page, line_of

MAP = (ROOTS / "test-handbook" / "safety-map.yml").read_text(encoding="utf-8")
REAL_MAP = DOCS / "safety-map.yml"

CHECKLIST_PAGE = """\
---
title: Checklist
description: A printable checklist made from the safety map.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [checklist]
---

:::{admonition} Key points
:class: key-points

- Take this list to the clinic {cite:p}`glue2017`.
:::

## Before your first dose

```{safety-checklist}
```
"""


def row(**fields):
    lines = [f"  - {k}: {v}" if i == 0 else f"    {k}: {v}" for i, (k, v) in enumerate(fields.items())]
    return "\n".join(lines) + "\n"


GOOD = dict(source="glue2017", section="Results", item="a new item", home="topic-section")
NEW_ROW = MAP.count("\n") + 1  # the line where a row added at the end starts

# name: (the map with one mistake, text on the line the message must point at, the message).
CASES = {
    "no-home": (MAP + row(source="glue2017", section="Results", item="no home given"), NEW_ROW,
                r"has neither 'home:' nor 'omitted:': give the label of the section that tells the reader"),
    "unknown-home": (MAP + row(**{**GOOD, "item": "mistyped home", "home": "topic-sectoin"}), NEW_ROW,
                     r"'home: topic-sectoin' is not the label of any section \(did you mean 'topic-section'\?\)"),
    "home-not-citing": (MAP + row(**{**GOOD, "item": "wrong section", "home": "evidence-scale"}),
                        NEW_ROW,
                        r"its home 'evidence-scale' \(index\) does not cite 'glue2017': cite the source in that "
                        r"section"),
    "source-not-listed": (MAP + row(**{**GOOD, "source": "glue2018", "item": "unlisted source"}),
                          NEW_ROW,
                          r"names the source 'glue2018' \(did you mean 'glue2017'\?\), which is not listed under "
                          r"'sources:'"),
    "both": (MAP + row(**GOOD, omitted="not needed"), NEW_ROW, r"has both 'home:' and 'omitted:'"),
    "unknown-field": (MAP + row(**{**GOOD, "item": "typo field", "hom": "x"}), NEW_ROW,
                      r"has an unknown field 'hom' \(did you mean 'home'\?\)"),
    "no-item": (MAP + row(source="glue2017", section="Results", home="topic-section"), NEW_ROW,
                r"has no 'item:' line"),
    "unknown-group": (MAP + row(**GOOD, checklist="A line.", group="tel"), NEW_ROW,
                      r"has an unknown group 'tel' \(did you mean 'tell'\?\)"),
    "source-not-in-bib": (MAP.replace("rows:", "  glue2071:\n    version: x\n    checked: 2026-11-01\n\nrows:"),
                          "glue2071:",
                          r"source 'glue2071' is not a key of the bibliography \(did you mean 'glue2017'\?\)"),
    "source-no-version": (MAP.replace('    version: "Journal article, 2017"\n', ""), "glue2017:",
                          r"source 'glue2017' has no 'version:'"),
    "source-bad-date": (MAP.replace("checked: 2026-11-01", "checked: last week"), "glue2017:",
                        r"source 'glue2017' needs 'checked: YYYY-MM-DD'"),
    "does-not-parse": (MAP.replace("    section: Methods", "   section: Methods"), "   section: Methods",
                       r"the safety map does not parse: .*check the indentation"),
}


@pytest.fixture(scope="module")
def warnings(tmp_path_factory):
    """Each broken map in a copy of the fixture of its own, all built in-process."""
    found = {}
    for name, (text, _line, _message) in CASES.items():
        src = tmp_path_factory.mktemp(name) / "handbook"
        found[name] = build_pages(src, {}, files={"safety-map.yml": text})
    return found


@pytest.mark.fast
@pytest.mark.parametrize("name", CASES)
def test_a_mistake_in_the_map_is_reported_at_its_line(warnings, name):
    text, where, message = CASES[name]
    line = line_of(text, where) if isinstance(where, str) else where
    ours = [w for w in warnings[name].splitlines() if "[handbook.safety]" in w]
    assert any(w.startswith(f"safety-map.yml:{line}: WARNING: ") and re.search(message, w) for w in ours), (
        f"expected at safety-map.yml:{line}: {message}\ngot:\n" + "\n".join(ours))


@pytest.mark.fast
def test_the_fixture_map_passes(tmp_path):
    assert build_pages(tmp_path / "handbook", {}) == ""


@pytest.mark.fast
def test_the_checklist_is_made_from_the_map_with_citations_and_links(tmp_path):
    extra = MAP + row(source="glue2017", section="Results", item="same line twice", home="topic-section",
                      checklist="You have high blood pressure.", group="tell")
    extra += row(source="glue2017", section="Results", item="urgent", home="topic-section",
                 checklist="You have chest pain.", group="urgent")
    warnings = build_pages(tmp_path / "handbook", {"checklist": CHECKLIST_PAGE}, files={"safety-map.yml": extra},
                           builder="html")
    assert warnings == ""
    soup = html_page("checklist", root=tmp_path / "handbook" / "_build" / "html")
    box = soup.select_one(".safety-checklist")
    items = [" ".join(li.get_text(" ").split()) for li in box.select("ul.checklist > li")]
    assert len(items) == 2, items  # the line two rows share is listed once
    assert items[0].startswith("You have high blood pressure.") and "Glue" in items[0] and "why" in items[0]
    assert box.select_one("a[href$='topic.html#topic-section']") is not None
    headings = [p.get_text() for p in box.find_all("strong")]
    assert headings == ["Tell the clinic before your first dose if:", "Get help at once if:"]


# -- The real map ------------------------------------------------------------------------------------------


def real_map():
    return yaml.safe_load(REAL_MAP.read_text(encoding="utf-8"))


@pytest.mark.fast
def test_the_real_map_covers_each_label_section_by_section():
    """The map was made by going through each source; every source it lists has rows, and the US label's
    sections that patients need each have at least one row."""
    data = real_map()
    rows = data["rows"]
    for key, source in data["sources"].items():
        assert any(r["source"] == key for r in rows), f"source {key} has no rows"
        assert isinstance(source["checked"], datetime.date)
    us = {r["section"].split()[0].rstrip(".") for r in rows if r["source"] == "spravato_label"}
    for section in ("Boxed", "4", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "7",
                    "8.1", "8.2", "17"):
        assert any(s == section or s.startswith(section) for s in us), f"no row for Spravato label section {section}"


@pytest.mark.fast
def test_most_rows_have_a_home_and_every_omission_says_why():
    rows = real_map()["rows"]
    omitted = [r for r in rows if r.get("omitted")]
    assert all(len(r["omitted"].split()) >= 4 for r in omitted), "an omission needs a reason, not a word"
    assert len(omitted) < len(rows) / 3


def test_each_home_tells_the_item_in_every_format(built, pdf_pages):
    """Each checklist line appears on the checklist page of the website, and in the PDF and the EPUB."""
    import zipfile

    from test_medical_facts import _squeeze

    lines = [" ".join(str(r["checklist"]).split()) for r in real_map()["rows"] if r.get("checklist")]
    assert len(lines) >= 15
    web = _squeeze(article(html_page("checklist")).get_text(" "))
    pdf = _squeeze("\n".join(pdf_pages))
    with zipfile.ZipFile(HTML.parent / "epub" / "ketamine-anxiety-handbook.epub") as book:
        epub = _squeeze(book.read("checklist.xhtml").decode("utf-8"))
    for line in lines:
        squeezed = _squeeze(line)
        assert squeezed in web, f"not on the checklist page: {line}"
        assert squeezed in pdf, f"not in the PDF: {line}"
        assert squeezed in _squeeze(re.sub(r"<[^>]+>", " ", epub)), f"not in the EPUB: {line}"


CITATION = re.compile(r"\([^()]*\b(?:\d{4}|n\.d\.)[^()]*\)")


def sentences_of(element):
    """The sentences of an HTML element, citations, headings (panel titles too) and the evidence label taken out,
    squeezed for comparing."""
    from test_medical_facts import _squeeze

    element = copy.copy(element)  # the page is shared (html_page): cut up a copy
    for unwanted in element.select(".evidence-label, h1, h2, h3, h4, .admonition-title, a.headerlink, .icon-arrays"):
        unwanted.decompose()
    text = CITATION.sub(" ", " ".join(element.get_text(" ").split()))
    return [_squeeze(s) for s in re.split(r"(?<=[.!?:;])\s+", text) if len(s.split()) >= 5]


def test_every_home_of_the_map_reads_the_same_in_the_pdf_and_the_epub(built):
    """The sections that tell the labels' warnings carry the same sentences in all three formats. The PDF's
    text is read in the structure tree's order (what a screen reader reads: a sentence runs on across a page
    break, without the running head, list markers or a diagram's labels in its middle)."""
    import zipfile

    from bs4 import BeautifulSoup
    from pdf_structure import reading_text
    from test_medical_facts import _squeeze

    homes = {label for r in real_map()["rows"] for label in ([r["home"]] if isinstance(r.get("home"), str)
                                                            else r.get("home") or [])}
    pdf = _squeeze(CITATION.sub(" ", " ".join(reading_text(PDF).split())))
    with zipfile.ZipFile(HTML.parent / "epub" / "ketamine-anxiety-handbook.epub") as book:
        epub = {n.split("/")[-1].removesuffix(".xhtml"): BeautifulSoup(book.read(n), "html.parser")
                for n in book.namelist() if n.endswith(".xhtml")}
    missing = []
    for label in sorted(homes):
        page = "benefits-and-risks" if label.startswith("benefits-and-risks") else label.split("-")[0]
        section = html_page(page).find(id=label)
        assert section is not None, f"{label}: no such section on {page}.html"
        book_section = epub[page].find(id=label)
        assert book_section is not None, f"{label}: no such section in {page}.xhtml"
        book_text = "".join(sentences_of(book_section))
        for sentence in sentences_of(section):
            if sentence not in pdf:
                missing.append(f"PDF, {label}: {sentence[:80]}")
            if sentence not in book_text:
                missing.append(f"EPUB, {label}: {sentence[:80]}")
    assert not missing, "\n".join(missing[:20])


@pytest.mark.browser
@pytest.mark.parametrize("size", ["A4", "Letter"])
def test_the_checklist_prints_on_one_page_with_the_crisis_help(page, site, size):
    """Printed from the website, the checklist fits one sheet, keeps every line and the crisis help, and says
    where each line's source is (the sources themselves are left off paper to make it fit)."""
    import io

    from pypdf import PdfReader

    page.goto(f"{site}checklist.html")
    reader = PdfReader(io.BytesIO(page.pdf(format=size)))
    assert len(reader.pages) == 1, f"the checklist prints on {len(reader.pages)} {size} pages"
    import unicodedata

    from test_medical_facts import _squeeze

    printed = _squeeze(unicodedata.normalize("NFKC", reader.pages[0].extract_text()))  # "ﬀ" ligatures
    for row in real_map()["rows"]:
        if row.get("checklist"):
            assert _squeeze(" ".join(str(row["checklist"]).split())) in printed, row["checklist"]
    assert _squeeze("Get help at once if") in printed and "988" in printed and "116123" in printed
    assert _squeeze("The source of each line") in printed


@pytest.mark.browser
def test_each_checklist_line_has_a_box_to_tick_on_screen(page, site):
    page.goto(f"{site}checklist.html")
    boxes = page.eval_on_selector_all(
        "ul.checklist > li", "els => els.map(e => getComputedStyle(e, '::before').borderTopWidth)")
    assert boxes and all(width == "2px" for width in boxes), boxes
    assert page.is_hidden(".print-only")
