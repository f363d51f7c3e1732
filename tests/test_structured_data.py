"""Structured data (JSON-LD) for search engines (docs/_ext/handbook/structured_data.py).

On the built site: every page with front matter carries one MedicalWebPage whose fields agree with the
front matter and with what the page itself shows (its "Last reviewed" date, the references it links to);
the questions page also carries an FAQPage with one question per question heading. The EPUB carries none.

In-process, on the fixture handbook (tests/roots/test-handbook): a page that cites nothing, the
References page, an FAQ page with a group heading and an unanswered question, the `about` rule, people
and groups as reviewers, and text that would end the script element early.
"""

import functools
import json
import os
import re
import zipfile

import pytest
from bs4 import BeautifulSoup
from conftest import ALL_PAGES, EPUB, ROOT, SITE_URL, build_in_process, copy_root, front_matter, html_page
from sphinx.testing.util import SphinxTestApp

LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
FAQ_PAGES = ["questions"]
CONTENT_PAGES = [page for page in ALL_PAGES if front_matter(page)]


@functools.cache
def parsed(page):
    """A built page, parsed once for all the tests here."""
    return html_page(page)


def json_ld(soup):
    """Every JSON-LD block of a page, parsed, by @type."""
    blocks = {}
    for tag in soup.select('script[type="application/ld+json"]'):
        data = json.loads(tag.string)
        assert data["@type"] not in blocks, f"two {data['@type']} blocks"
        blocks[data["@type"]] = data
    return blocks


def heading_text(heading):
    heading = BeautifulSoup(str(heading), "html.parser")
    for link in heading.select("a.headerlink"):
        link.decompose()
    return " ".join(heading.get_text().split())


def reference_entries(soup):
    """The References page's entries: {id: the external links it gives (DOI or URL)}."""
    return {div["id"]: {a["href"] for a in div.select("a.reference.external")} for div in soup.select("div.citation")}


@pytest.fixture(scope="module")
def entries(built):
    return reference_entries(parsed("references"))


def test_content_pages_are_every_page_with_front_matter():
    assert len(CONTENT_PAGES) == len(ALL_PAGES) >= 15


@pytest.mark.parametrize("page", CONTENT_PAGES)
def test_page_is_a_medical_web_page_built_from_its_front_matter(built, page):
    meta = front_matter(page)
    soup = parsed(page)
    data = json_ld(soup)["MedicalWebPage"]
    assert data["@context"] == "https://schema.org"
    assert data["name"] == meta["title"]
    assert data["description"] == meta["description"]
    assert data["url"] == f"{SITE_URL}{page}.html"
    assert data["inLanguage"] == soup.html["lang"] == "en"
    assert data["license"] == LICENSE_URL
    assert [r["name"] for r in data["reviewedBy"]] == meta["reviewers"]
    for reviewer in data["reviewedBy"]:
        assert reviewer["@type"] == ("Organization" if "team" in reviewer["name"].lower() else "Person")


@pytest.mark.parametrize("page", CONTENT_PAGES)
def test_last_reviewed_is_the_date_the_page_shows(built, page):
    data = json_ld(parsed(page))["MedicalWebPage"]
    shown = re.search(r"Last reviewed:\s*(\d{4}-\d{2}-\d{2})", parsed(page).select_one(".review-dates").get_text())
    assert data["lastReviewed"] == shown.group(1) == str(front_matter(page)["last_reviewed"])


@pytest.mark.parametrize("page", CONTENT_PAGES)
def test_about_names_the_condition_and_the_drugs_by_the_rule_in_conf(built, page):
    about = [(thing["@type"], thing["name"]) for thing in json_ld(parsed(page))["MedicalWebPage"]["about"]]
    keywords = {word.casefold() for word in front_matter(page)["keywords"]}
    expected = [("MedicalCondition", "Anxiety disorders"), ("Drug", "Ketamine")]
    if keywords & {"esketamine", "spravato"}:
        expected.append(("Drug", "Esketamine"))
    assert about == expected


@pytest.mark.parametrize("page", CONTENT_PAGES)
def test_citations_are_the_references_the_page_links_to(built, entries, page):
    soup = parsed(page)
    data = json_ld(soup)["MedicalWebPage"]
    if page == "references":
        linked = set(entries)  # the page that lists every entry
    else:
        linked = {a["href"].split("#")[1] for a in soup.select('a[href^="references.html#"]')} & set(entries)
    if not linked:
        assert "citation" not in data
        return
    works = data["citation"]
    assert len({work["url"] for work in works}) == len(works), "an entry listed twice"
    cited = set()
    for work in works:
        assert work["@type"] in ("ScholarlyArticle", "CreativeWork")
        assert work["name"] and "{" not in work["name"] and "\\" not in work["name"]
        assert re.fullmatch(r"\d{4}", work.get("datePublished", "2000"))
        holders = [entry for entry, links in entries.items() if work["url"] in links]
        assert len(holders) == 1, f"{work['url']} is not the link of one References entry"
        cited.add(holders[0])
    assert cited == linked


def test_doi_entries_are_cited_by_their_doi(built):
    works = json_ld(parsed("references"))["MedicalWebPage"]["citation"]
    bib = (ROOT / "docs" / "references.bib").read_text(encoding="utf-8")
    dois = re.findall(r"^\s*doi\s*=\s*\{([^}]+)\}", bib, re.MULTILINE)
    assert dois
    assert {f"https://doi.org/{doi}" for doi in dois} <= {work["url"] for work in works}


def test_licence_is_the_one_license_names():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and LICENSE_URL + "legalcode" in text


@pytest.mark.parametrize("page", FAQ_PAGES)
def test_faq_has_one_question_per_question_heading(built, page):
    soup = parsed(page)
    faq = json_ld(soup)["FAQPage"]
    questions = [(q["name"], q["acceptedAnswer"]["text"]) for q in faq["mainEntity"]]
    headings, groups = [], []
    for section in soup.select("article section"):
        heading = section.find(re.compile(r"^h[1-6]$"))
        name = heading_text(heading)
        if name.endswith("?"):
            (groups if section.find("section") else headings).append(name)
    assert [name for name, _ in questions] == headings
    # Every heading in the source that ends in "?" is a question or a heading over questions.
    source = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
    assert len(re.findall(r"^#{2,6} .*\?\s*$", source, re.MULTILINE)) == len(headings) + len(groups)
    assert len(headings) >= 25
    for name, answer in questions:
        assert len(answer.split()) >= 5, f"{name}: answer {answer!r}"
        assert "<" not in answer and "{cite" not in answer and "{term" not in answer


def test_faq_answer_is_the_text_under_its_heading(built):
    soup = parsed("questions")
    answers = {q["name"]: q["acceptedAnswer"]["text"] for q in json_ld(soup)["FAQPage"]["mainEntity"]}
    for section in soup.select("article section"):
        heading = section.find(re.compile(r"^h[1-6]$"))
        if heading_text(heading) in answers and not section.find("section"):
            body = BeautifulSoup(str(section), "html.parser")
            body.find(re.compile(r"^h[1-6]$")).decompose()
            assert answers[heading_text(heading)] == " ".join(body.get_text().split())


def test_only_faq_pages_and_content_pages_carry_json_ld(built):
    for page in CONTENT_PAGES:
        types = set(json_ld(parsed(page)))
        assert types == ({"MedicalWebPage", "FAQPage"} if page in FAQ_PAGES else {"MedicalWebPage"}), page
    for page in ("search", "genindex", "404"):
        assert not json_ld(parsed(page)), page


def test_script_text_cannot_end_the_element_early(built):
    for page in CONTENT_PAGES:
        for tag in parsed(page).select('script[type="application/ld+json"]'):
            assert not re.search(r"<|>|&", tag.string), page


def test_epub_has_no_json_ld(built):
    with zipfile.ZipFile(EPUB) as book:
        for name in book.namelist():
            if name.endswith(".xhtml"):
                assert b"application/ld+json" not in book.read(name), name


# -- In-process, on the fixture handbook ----------------------------------------------------------------


FAQ = """---
title: Questions
description: Questions readers ask.
last_reviewed: 2026-10-02
next_review: 2027-04-01
reviewers: [Ann Example, Test team]
keywords: [questions, subject]
---

:::{admonition} Key points
:class: key-points

- Answers.
:::

## Does it work?

### Is it safe?

It is a medicine {cite:p}`glue2017`. Never write `</script><!--` & more here.

### Is it quick?

Yes, in one study.

## Unanswered

### Who knows?

## Notes

Not a question.
"""

FIXTURE_CONF = """
handbook_about = [{"type": "MedicalCondition", "name": "Anxiety disorders"},
                  {"type": "Drug", "name": "Subject drug", "if_keywords": ["Subject"]}]
handbook_faq_pages = ["faq"]
handbook_text_license = "https://creativecommons.org/licenses/by/4.0/"
"""


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    srcdir = copy_root("handbook", tmp_path_factory.mktemp("structured") / "handbook")
    (srcdir / "conf.py").write_text((srcdir / "conf.py").read_text(encoding="utf-8") + FIXTURE_CONF)
    index = srcdir / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("references\n```", "references\nfaq\n```"))
    (srcdir / "faq.md").write_text(FAQ, encoding="utf-8")
    warnings = build_in_process(srcdir, "html")
    outdir = srcdir / "_build" / "html"
    return warnings, {page: BeautifulSoup((outdir / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
                      for page in ("index", "topic", "references", "glossary", "faq")}


@pytest.mark.fast
def test_fixture_page_without_citations_has_no_citation_field(fixture_site):
    _, pages = fixture_site
    data = json_ld(pages["index"])["MedicalWebPage"]
    assert "citation" not in data
    assert data["name"] == "Test handbook" and data["lastReviewed"] == "2026-10-01"
    assert data["url"] == "https://example.org/handbook/index.html"


@pytest.mark.fast
def test_fixture_citations_from_the_bibliography(fixture_site):
    _, pages = fixture_site
    glue = {"@type": "ScholarlyArticle", "name": "Ketamine's dose-related effects on anxiety symptoms in patients "
            "with treatment refractory anxiety disorders", "url": "https://doi.org/10.1177/0269881117705089",
            "datePublished": "2017"}
    for page in ("topic", "references", "glossary", "faq"):  # cited twice on topic: listed once
        assert json_ld(pages[page])["MedicalWebPage"]["citation"] == [glue], page


@pytest.mark.fast
def test_fixture_about_rule_and_reviewers(fixture_site):
    _, pages = fixture_site
    condition = {"@type": "MedicalCondition", "name": "Anxiety disorders"}
    drug = {"@type": "Drug", "name": "Subject drug"}
    assert json_ld(pages["index"])["MedicalWebPage"]["about"] == [condition]
    assert json_ld(pages["topic"])["MedicalWebPage"]["about"] == [condition, drug]  # keyword "subject"
    assert json_ld(pages["faq"])["MedicalWebPage"]["reviewedBy"] == [
        {"@type": "Person", "name": "Ann Example"}, {"@type": "Organization", "name": "Test team"}]


@pytest.mark.fast
def test_fixture_faq_questions_group_headings_and_escaping(fixture_site):
    warnings, pages = fixture_site
    faq = json_ld(pages["faq"])["FAQPage"]
    assert [q["name"] for q in faq["mainEntity"]] == ["Is it safe?", "Is it quick?"]
    answer = faq["mainEntity"][0]["acceptedAnswer"]["text"]
    assert answer == "It is a medicine (Glue et al., 2017). Never write </script><!-- & more here."
    raw = str(pages["faq"].select('script[type="application/ld+json"]')[1])
    assert "\\u003c/script\\u003e\\u003c!--" in raw and raw.count("</script>") == 1
    assert "FAQPage" not in str(pages["topic"])
    assert re.search(r"faq\.md:\d+: WARNING: question 'Who knows\?' has no answer text", warnings), warnings


@pytest.mark.fast
def test_fixture_bibliography_edit_reaches_citing_pages_on_an_incremental_build(tmp_path):
    """Only the References page is read again after a .bib edit; the pages that cite the entry are
    written again, so their citation data follows the bibliography."""
    srcdir = copy_root("handbook", tmp_path / "handbook")
    outdir = srcdir / "_build" / "html"

    def build(fresh):
        app = SphinxTestApp("html", srcdir=srcdir, freshenv=fresh)
        try:
            app.build()
        finally:
            app.cleanup()

    def names(page):
        soup = BeautifulSoup((outdir / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        return [work["name"] for work in json_ld(soup)["MedicalWebPage"].get("citation", [])]

    build(fresh=True)
    assert names("topic")[0].startswith("Ketamine's dose-related effects")
    bib = srcdir / "refs.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("Ketamine's dose-related", "{Ketamine's} dose related"))
    stat = bib.stat()
    os.utime(bib, (stat.st_atime, stat.st_mtime + 10))  # a later time, even on a coarse file system clock
    build(fresh=False)
    for page in ("topic", "glossary", "references"):
        assert names(page)[0].startswith("Ketamine's dose related effects"), page
    assert names("index") == []


@pytest.mark.fast
def test_fixture_wrong_about_entries_are_reported_not_a_traceback(build):
    warnings = build(handbook_about=[{"type": "Drug"}, {"type": "Drug", "name": "X", "if_keyword": ["x"]},
                                     "Ketamine", {"type": "Drug", "name": "Y", "if_keywords": "y"}])
    found = [line for line in warnings.splitlines() if "handbook_about entry" in line]
    assert len(found) == 4, warnings
    assert all(line.startswith("conf.py:1: WARNING:") for line in found), found  # set on the command line
    assert "unknown key 'if_keyword' (did you mean 'if_keywords'?)" in warnings
