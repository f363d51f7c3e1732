"""Edition: one version everywhere (VERSION, conf.py, CITATION.cff, .zenodo.json, the changelog, and the
built PDF, EPUB and website), the edition statement with its date, "Cite this page", and the changelog
shown as "What changed"."""

import datetime
import json
import re
import runpy
import zipfile

import pytest
import yaml
from conftest import ALL_PAGES, EPUB, ROOT, SITE_URL, html_page, outline_titles

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
VERSION = (ROOT / "VERSION").read_text(encoding="utf-8").strip()
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
RELEASED = re.compile(r"^## \[(\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
STATEMENT = re.compile(r"Edition (\d+\.\d+), (\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})")


def long_date(iso):
    date = datetime.date.fromisoformat(iso)
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def statement_date(match):
    return datetime.date(int(match.group(4)), MONTHS.index(match.group(3)) + 1, int(match.group(2)))


# -- The sources agree (fast) ---------------------------------------------------------------------


@pytest.mark.fast
def test_version_file_holds_an_edition_number():
    assert re.fullmatch(r"\d+\.\d+", VERSION), f"VERSION holds {VERSION!r}, not MAJOR.MINOR"


@pytest.mark.fast
def test_conf_py_reads_the_version_file():
    conf = runpy.run_path(str(ROOT / "conf.py"))
    assert conf["version"] == conf["release"] == VERSION


@pytest.mark.fast
def test_citation_cff_and_zenodo_json_carry_the_same_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    zenodo = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    assert str(cff["version"]) == VERSION, "CITATION.cff: run `make release` rather than editing versions by hand"
    assert zenodo["version"] == VERSION, ".zenodo.json: run `make release` rather than editing versions by hand"
    assert zenodo["title"] == cff["title"]


@pytest.mark.fast
def test_changelog_follows_keep_a_changelog_and_ends_at_this_version():
    assert CHANGELOG.startswith("# Changelog\n")
    assert "keepachangelog.com" in CHANGELOG
    headings = re.findall(r"^## (.*)$", CHANGELOG, re.MULTILINE)
    assert headings[0] == "[Unreleased]", "the newest section must be '## [Unreleased]'"
    released = RELEASED.findall(CHANGELOG)
    assert len(released) == len(headings) - 1, f"a version heading is not '## [X.Y] - YYYY-MM-DD': {headings}"
    assert released[0][0] == VERSION, f"the latest edition in CHANGELOG.md is {released[0][0]}, VERSION says {VERSION}"
    numbers = [tuple(map(int, v.split("."))) for v, _ in released]
    dates = [datetime.date.fromisoformat(d) for _, d in released]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers), "editions out of order"
    assert dates == sorted(dates, reverse=True), "edition dates out of order"
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(cff["date-released"]) == released[0][1], "CITATION.cff's date-released is not the edition's date"


@pytest.mark.fast
def test_changelog_sections_use_the_known_kinds_of_change_with_medical_content_first():
    kinds = ["Medical content", "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"]
    for section in re.split(r"^## ", CHANGELOG, flags=re.MULTILINE)[1:]:
        title = section.split("\n", 1)[0]
        found = re.findall(r"^### (.*)$", section, re.MULTILINE)
        assert set(found) <= set(kinds), f"{title}: unknown kind of change in {found} (use {kinds})"
        assert found == sorted(found, key=kinds.index), f"{title}: Medical content first, then {kinds[1:]}"
        for kind in found:
            entries = section.split(f"### {kind}\n", 1)[1].split("\n### ", 1)[0]
            assert re.search(r"^- \S", entries, re.MULTILINE), f"{title}: '{kind}' has no entries"


# -- The built outputs agree ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_first_pages(pdf, pdf_pages):
    return pdf, pdf_pages[:4]


@pytest.fixture(scope="module")
def opf(built):
    with zipfile.ZipFile(EPUB) as book:
        return book.read("content.opf").decode("utf-8")


@pytest.fixture(scope="module")
def edition_date(opf):
    """The build's date, as the EPUB records it (from SOURCE_DATE_EPOCH)."""
    return datetime.date.fromisoformat(re.search(r"<dc:date>(\d{4}-\d{2}-\d{2})T", opf).group(1))


def test_pdf_title_page_states_the_edition_and_its_date(pdf_first_pages, edition_date):
    reader, pages = pdf_first_pages
    match = STATEMENT.search(pages[0])
    assert match, f"no 'Edition X.Y, DATE' on the title page: {pages[0]!r}"
    assert match.group(1) == VERSION and statement_date(match) == edition_date
    assert str(reader.docinfo["/Subject"]) == match.group(0)


def test_pdf_says_how_to_cite_the_edition_on_its_first_pages(pdf_first_pages):
    notices = [page for page in pdf_first_pages[1] if "How to cite this edition" in page]
    assert notices, "no edition notice in the PDF's first four pages"
    notice = notices[0]
    assert f"edition {VERSION}" in notice and SITE_URL in notice.replace("\n", "")


def test_epub_metadata_carries_the_version(opf, edition_date):
    assert f'<meta property="ibooks:version">{VERSION}</meta>' in opf
    description = re.search(r"<dc:description>(.*?)</dc:description>", opf).group(1)
    match = STATEMENT.search(description)
    assert match and match.group(1) == VERSION and statement_date(match) == edition_date, description


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_web_page_states_the_edition_in_its_footer(built, page, edition_date):
    footer = html_page(page).select_one("footer .edition-statement")
    assert footer is not None, f"{page}: no edition statement in the footer"
    match = STATEMENT.search(footer.get_text(" ", strip=True))
    assert match and match.group(1) == VERSION and statement_date(match) == edition_date, footer.get_text()
    if page != "changes":
        assert footer.select_one('a[href="changes.html"]'), f"{page}: the footer does not link to What changed"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_web_page_offers_cite_this_page_as_text_and_bibtex(built, page):
    soup = html_page(page)
    box = soup.select_one("article details.cite-this-page")
    assert box is not None and box.select_one("summary").get_text(strip=True) == "Cite this page", page
    url = SITE_URL + f"{page}.html"
    title = soup.select_one("article h1").get_text(strip=True).rstrip("#¶")
    text = box.select_one(".citation-text").get_text(" ", strip=True)
    bibtex = box.select_one(".citation-bibtex").get_text()
    assert url in text and f"edition {VERSION}" in text, text
    if page != "index":
        assert title in text, f"{page}: the citation does not name the page ({title})"
    assert re.match(r"@misc\{[\w.:-]+,\n", bibtex), bibtex
    fields = dict(re.findall(r"^  (\w+)\s*= \{(.*)\},?$", bibtex, re.MULTILINE))
    assert fields["url"] == url and fields["version"] == VERSION, fields
    assert bibtex.count("{") == bibtex.count("}"), "unbalanced braces in the BibTeX entry"


def test_what_changed_page_shows_every_edition_of_the_changelog(built):
    page = html_page("changes")
    headings = [h.get_text(strip=True).rstrip("#¶") for h in page.select("article h2")]
    for version, date in RELEASED.findall(CHANGELOG):
        assert f"Edition {version}, {long_date(date)}" in headings, f"What changed lacks edition {version}: {headings}"
    assert page.select_one("article h2") is not None and "Medical content" in page.get_text()


def test_pdf_has_what_changed_as_an_appendix(pdf, pdf_pages):
    titles = list(outline_titles(pdf))
    chapters = [t for t in titles if re.match(r"(Chapter \d+|Appendix [A-Z]) ", t)]
    assert "Appendix A What changed" in chapters, chapters
    assert chapters[-1] == "Appendix A What changed", f"What changed is not the last chapter: {chapters}"
    text = "\n".join(pdf_pages[-12:])
    assert re.search(r"Appendix\s*A\s*What changed", text), "no Appendix A: What changed near the PDF's end"
    assert f"Edition {VERSION}, {long_date(RELEASED.search(CHANGELOG).group(2))}" in text



# -- The extension's parts, in-process (fast) -------------------------------------------------------


class FakeConfig:
    project = "The Test Handbook"
    author = "The Test Handbook contributors"
    version = "2.3"
    html_baseurl = "https://example.org/handbook/"
    handbook_build_date = "2027-01-05"


@pytest.mark.fast
def test_page_citation_names_the_page_the_edition_and_its_address():
    from handbook.edition import edition_statement, page_citation

    assert edition_statement(FakeConfig) == "Edition 2.3, 5 January 2027"
    text, bibtex = page_citation(FakeConfig, "Side effects & risks", "https://example.org/handbook/a/risks.html")
    assert text == ("The Test Handbook contributors (2027). Side effects & risks. In The Test Handbook, "
                    "edition 2.3. https://example.org/handbook/a/risks.html")
    assert bibtex.startswith("@misc{ketamine-anxiety-handbook-2.3-a-risks,\n")
    assert "  author       = {{The Test Handbook contributors}},\n" in bibtex
    assert "  howpublished = {The Test Handbook, edition 2.3},\n" in bibtex and bibtex.endswith("\n}")
    assert "  title        = {Side effects \\& risks},\n" in bibtex
    whole, whole_bibtex = page_citation(FakeConfig, "The Test Handbook", "https://example.org/handbook/index.html")
    assert whole.startswith("The Test Handbook contributors (2027). The Test Handbook, edition 2.3.")
    assert "howpublished" not in whole_bibtex


CHANGES_PAGE = """---
title: What changed
description: The changes.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Tester]
keywords: [changes]
---

:::{admonition} Key points
:class: key-points

- One.
- Two.
:::

```{include} _snippets/CHANGELOG.md
:start-after: <!-- changelog-start -->
```
"""


@pytest.mark.fast
@pytest.mark.parametrize("unreleased", ["", "### Fixed\n\n- A fix.\n\n"])
def test_what_changed_leaves_out_an_empty_unreleased_section(tmp_path, unreleased):
    from conftest import build_pages

    changelog = ("# Changelog\n\n<!-- changelog-start -->\n\n## [Unreleased]\n\n" + unreleased +
                 "## [1.0] - 2026-10-01\n\n### Added\n\n- The first edition.\n")
    warnings = build_pages(tmp_path / "src", {"changes": CHANGES_PAGE}, {"_snippets/CHANGELOG.md": changelog},
                           builder="html")
    assert "WARNING" not in warnings, warnings
    page = (tmp_path / "src" / "_build" / "html" / "changes.html").read_text(encoding="utf-8")
    assert "Edition 1.0, 1 October 2026" in page and "[1.0]" not in page
    assert ("Since the last edition" in page) == bool(unreleased) and "[Unreleased]" not in page
