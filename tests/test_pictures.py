"""Numbers as pictures (docs/frequencies.yml, docs/_ext/handbook/pictures.py): icon arrays of 100 people and
the same frequency in words, from one entry; in the website, the PDF and the EPUB.
"""

import re
import zipfile

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import DOCS, EPUB, ROOTS, article, build_pages, html_page

CONF = (ROOTS / "test-handbook" / "conf.py").read_text(encoding="utf-8") + 'handbook_frequencies = "freq.yml"\n'
FREQUENCIES = """\
- id: responders
  source: glue2017
  counted: people who responded
  groups:
    - {label: After ketamine, per_100: 33}
    - {label: After placebo, per_100: 0}
"""
PAGE = """\
---
title: Pictures
description: A page with an icon array.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [pictures]
---

:::{admonition} Key points
:class: key-points

- A picture {cite:p}`glue2017`.
:::

## Responders

In the trial, {per-100}`responders/After ketamine` responded.

```{icon-array} responders
```
"""


def build(tmp_path, frequencies=FREQUENCIES, page=PAGE, builder="dummy"):
    return build_pages(tmp_path / "handbook", {"pictures": page},
                       files={"conf.py": CONF, "freq.yml": frequencies}, builder=builder)


@pytest.mark.fast
def test_the_picture_and_the_words_come_from_one_entry(tmp_path):
    assert build(tmp_path, builder="html") == ""
    page = html_page("pictures", root=tmp_path / "handbook" / "_build" / "html")
    figures = page.select(".icon-arrays figure.icon-array")
    assert len(figures) == 2
    svg = figures[0].find("svg")
    assert svg["role"] == "img" and svg["aria-label"] == "After ketamine: 33 of 100 people"
    faint, filled = svg.find_all("path")
    assert faint["stroke"] == filled["stroke"] == "currentColor"  # the text colour, so light and dark both read

    def squares(path):  # each row is a line whose dashes are squares: (length + gap) / (size + gap) squares
        return sum(round((float(n) + 2) / 11) for n in re.findall(r"h([\d.]+)", path["d"]))

    assert squares(faint) == 100 and squares(filled) == 33
    assert len(figures[1].find_all("path")) == 1  # nobody to fill in
    words = " ".join(page.select_one(".icon-array-caption").get_text(" ").split())
    assert words.startswith("In words: people who responded. After ketamine, about 33 in 100 people (about 1 in 3); "
                            "after placebo, none of 100 people")
    assert page.select_one(".per-100").get_text() == "about 33 in 100 people (about 1 in 3)"


@pytest.mark.fast
def test_the_pdf_draws_the_same_grid_with_its_alt_text(tmp_path):
    """The PDF draws the web page's SVG, and tags it as a Figure whose alt text is the grid's name."""
    import pikepdf

    assert build(tmp_path, builder="pdf") == ""
    out = tmp_path / "handbook" / "_build" / "pdf"
    book = BeautifulSoup((out / "handbook.html").read_text(encoding="utf-8"), "html.parser")
    svgs = book.select("figure.icon-array svg")
    assert len(svgs) == 2 and svgs[0].find("title").get_text() == "After ketamine: 33 of 100 people"
    with pikepdf.open(next(out.glob("*.pdf"))) as pdf:
        alts, stack = [], [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    if kid.S == "/Figure":
                        alts.append(str(kid.get("/Alt", "")))
                    stack.append(kid)
    assert sorted(alts) == sorted(svg.find("title").get_text() for svg in svgs), alts


@pytest.mark.fast
@pytest.mark.parametrize("name,frequencies,page,where,message", [
    ("unknown-id", FREQUENCIES, PAGE.replace("{icon-array} responders", "{icon-array} responder"), "pictures.md",
     r"unknown frequency 'responder' \(did you mean 'responders'\?\)"),
    ("unknown-group", FREQUENCIES, PAGE.replace("responders/After ketamine", "responders/After ketamin"), "pictures.md",
     r"frequency 'responders' has no group 'After ketamin' \(did you mean 'After ketamine'\?\)"),
    ("over-100", FREQUENCIES.replace("per_100: 33", "per_100: 133"), PAGE, "freq.yml",
     r"each group needs a label and per_100, a whole number from 0 to 100"),
    ("unknown-source", FREQUENCIES.replace("source: glue2017", "source: glue2071"), PAGE, "freq.yml",
     r"source 'glue2071' is not a key of the bibliography \(did you mean 'glue2017'\?\)"),
])
def test_a_mistake_is_reported_where_it_is(tmp_path, name, frequencies, page, where, message):
    warnings = [w for w in build(tmp_path, frequencies, page).splitlines() if "[handbook.pictures]" in w]
    assert any(w.startswith(f"{where}:") and re.search(message, w) for w in warnings), warnings


# -- The handbook as built ----------------------------------------------------------------------------------


def test_every_frequency_is_drawn_in_the_site_the_pdf_and_the_epub(built, pdf_pages):
    entries = yaml.safe_load((DOCS / "frequencies.yml").read_text(encoding="utf-8"))
    used = {m.group(1) for p in DOCS.glob("*.md") for m in re.finditer(r"\{icon-array\} (\S+)", p.read_text())}
    assert {e["id"] for e in entries} == used, "a frequency no page draws, or a page drawing an unknown one"
    pdf = " ".join(pdf_pages)
    with zipfile.ZipFile(EPUB) as book:
        epub = " ".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xhtml"))
        opf = book.read("content.opf").decode("utf-8")
    for entry in entries:
        for group in entry["groups"]:
            caption = f"{group['label']}: {group['per_100']} in 100"
            assert caption in pdf, f"not in the PDF: {caption}"
            assert caption in epub, f"not in the EPUB: {caption}"
    assert 'href="benefits-and-risks.xhtml" properties="svg"' in opf  # EPUB 3: pages with inline SVG say so
    svgs = article(html_page("benefits-and-risks")).select("figure.icon-array svg[role=img][aria-label]")
    assert len(svgs) >= 2



# -- Panels for acting: a worksheet, "Get help at once" and "Tell your clinic" ------------------------------


def test_the_options_page_has_a_worksheet_to_fill_in_in_every_format(built, pdf_pages):
    """PEMAT-P item 23 (a tangible tool on the page): prompts with a line to write on, tick boxes for what
    matters, in the site, the PDF (the same ballot boxes, not a missing glyph) and the EPUB."""
    page = html_page("options")
    sheet = article(page).select_one("section#options-worksheet .admonition.worksheet")
    assert sheet is not None
    prompts = [li.get_text(" ", strip=True) for li in sheet.select("li")]
    assert len(prompts) >= 5 and any("review date" in p.lower() for p in prompts), prompts
    assert sheet.get_text().count("\u2610") >= 3  # boxes to tick
    assert page.select_one('link[href^="_static/panels.css"]') is not None
    pdf = next((t for t in pdf_pages if "My choice: notes to take" in t), "")
    assert pdf.count("\u2610") >= 3, "the PDF lost the worksheet's tick boxes"  # drawn from DejaVu Sans
    with zipfile.ZipFile(EPUB) as book:
        assert "My choice: notes to take" in book.read("options.xhtml").decode("utf-8")


def test_the_report_answer_separates_get_help_now_from_tell_your_clinic(built):
    """PEMAT-P items 15 and 26: the urgent signs in a red panel of their own, the rest in another."""
    answer = article(html_page("questions")).select_one("section#questions-report")
    urgent = answer.select_one(".report-panels > .admonition.get-help-now")  # side by side on a wide screen
    soon = answer.select_one(".report-panels > .admonition.tell-clinic")
    assert urgent is not None and soon is not None
    assert re.search(r"breathe", urgent.get_text()) and re.search(r"suicide", urgent.get_text())
    assert not re.search(r"suicide|breathe", soon.get_text())


def test_only_pages_with_a_panel_load_its_styles(built):
    for name in ("options", "questions"):
        assert html_page(name).select_one('link[href^="_static/panels.css"]') is not None, name
    assert html_page("benefits-and-risks").select_one('link[href^="_static/panels.css"]') is None


def test_the_questions_for_the_clinician_are_a_list_to_tick(built):
    """PEMAT-P item 23 on the questions page: the questions to ask are a tool on the page itself."""
    answer = article(html_page("questions")).select_one("section#questions-ask-clinician")
    sheet = answer.select_one(".admonition.worksheet")
    assert sheet is not None
    questions = [li.get_text(" ", strip=True) for li in sheet.select("li")]
    assert len(questions) >= 4 and all(q.startswith("\u2610") and q.endswith("?") for q in questions), questions
