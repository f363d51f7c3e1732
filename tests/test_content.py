"""Content: front matter, Key points, citations, disclaimer, review dates, labels, bibliography."""

import datetime
import re
import shutil
import subprocess

import pybtex.database
import pytest
import yaml
from conftest import ALL_PAGES, DOCS, ROOT, TOPIC_PAGES, article, front_matter, html_page

CITE = re.compile(r"\{cite:[pt]\}`([^`]+)`")


@pytest.mark.fast
@pytest.mark.parametrize("page", ALL_PAGES)
def test_front_matter_has_every_field(page):
    meta = front_matter(page)
    for field in ("title", "description", "last_reviewed", "next_review", "reviewers", "keywords"):
        assert meta.get(field), f"{page}.md: front matter lacks {field}"
    assert isinstance(meta["last_reviewed"], datetime.date) and isinstance(meta["next_review"], datetime.date)
    assert len(meta["description"]) <= 160


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_opens_with_key_points(built, page):
    body = article(html_page(page))
    first_box = body.select_one(".admonition")
    assert first_box is not None and "key-points" in first_box["class"], f"{page}: no Key points box first"
    assert first_box.select_one(".admonition-title").get_text(strip=True) == "Key points"
    assert len(first_box.select("li")) >= 2


# The contributing guide describes the project's process and makes no factual claim; the
# references page is the bibliography itself.
@pytest.mark.parametrize("page", [p for p in ALL_PAGES if p not in ("contributing", "references", "changes")])
def test_page_cites_at_least_one_source(built, page):
    body = article(html_page(page))
    assert body.select('a[href^="references.html#"]'), f"{page}: no citation in the page's own text"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_shows_disclaimer_crisis_help_and_review_dates(built, page):
    soup = html_page(page)
    box = soup.select_one("article .disclaimer")
    assert box is not None, f"{page}: no disclaimer"
    assert "988" in box.get_text() and "emergency" in box.get_text()
    dates = soup.select_one("article .review-dates")
    meta = front_matter(page)
    assert dates is not None, f"{page}: no review dates"
    assert meta["last_reviewed"].isoformat() in dates.get_text()
    assert meta["next_review"].isoformat() in dates.get_text()


@pytest.mark.parametrize("page", TOPIC_PAGES)
def test_topic_page_has_evidence_labels_and_glossary_links(built, page):
    body = article(html_page(page))
    assert body.select(".evidence"), f"{page}: no evidence label"
    assert body.select('a[href^="glossary.html#term-"]'), f"{page}: no glossary term linked"


def _prose_words(page):
    text = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    text = re.sub(r"\A---.*?\n---\n", "", text, flags=re.DOTALL)
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # directives such as diagrams
    text = re.sub(r"\{[a-z:-]+\}`[^`]*`", "x", text)  # a role counts as one word
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))


# The benefits and risks page holds side effects and misuse as well as benefits (issue 11); the safety page
# tells every warning of the product labels, section by section (issue 18).
# The safety page tells every warning of two labels, section by section (docs/safety-map.yml).
LONGEST = {"benefits-and-risks": 1700, "safety": 2100}


@pytest.mark.fast
@pytest.mark.parametrize("page", TOPIC_PAGES)
def test_topic_page_length(page):
    assert 700 <= _prose_words(page) <= LONGEST.get(page, 1500), f"{page}: {_prose_words(page)} words"


def test_stories_are_labelled_illustrative(built):
    body = article(html_page("patient-stories"))
    stories = body.select(".admonition.story")
    assert len(stories) >= 2
    for story in stories:
        assert "illustrative" in story.select_one(".admonition-title").get_text().lower()


def _bibliography():
    return pybtex.database.parse_file(str(DOCS / "references.bib"))


@pytest.mark.fast
def test_every_bibliography_entry_has_doi_or_url():
    for key, entry in _bibliography().entries.items():
        assert entry.fields.get("doi") or entry.fields.get("url"), f"{key}: no DOI or URL"


@pytest.mark.fast
def test_every_bibliography_entry_is_cited():
    cited = set()
    for path in DOCS.rglob("*.md"):
        for match in CITE.finditer(path.read_text(encoding="utf-8")):
            cited.update(k.strip() for k in match.group(1).split(","))
    # The studies page cites each study of docs/studies.yml (its "Source" row, written by the build).
    studies = yaml.safe_load((DOCS / "studies.yml").read_text(encoding="utf-8"))["studies"]
    cited.update(study["key"] for study in studies)
    uncited = set(_bibliography().entries) - cited
    unknown = cited - set(_bibliography().entries)
    assert not uncited, f"never cited: {sorted(uncited)}"
    assert not unknown, f"cited but not in the bibliography: {sorted(unknown)}"


def test_references_page_lists_every_entry_with_a_link(built):
    body = article(html_page("references"))
    entries = body.select(".citation")
    assert len(entries) == len(_bibliography().entries)
    for entry in entries:
        assert entry.select('a[href^="https://"]'), f"entry without a link: {entry.get_text()[:80]}"


ORIGINALITY = ROOT.parent / "shared" / "tools" / "check-originality"


@pytest.mark.fast
@pytest.mark.skipif(not ORIGINALITY.exists(), reason="the source article's checker is not on this machine")
def test_no_sentence_copied_from_the_source_article():
    result = subprocess.run([shutil.which("python3"), str(ORIGINALITY), str(ROOT)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.fast
@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_is_not_overdue_for_review(page):
    """Freshness, against today's date: a page past its next review date fails here, by name."""
    due = front_matter(page)["next_review"]
    assert due >= datetime.date.today(), f"{page}.md is overdue for review (next_review {due})"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_shows_who_has_checked_its_medical_content(built, page):
    """Under its title, each page says when a second reader last checked its claims and whether an independent
    clinician has reviewed it, from its front matter (issue 22), linking to how pages are reviewed."""
    status = article(html_page(page)).select_one("p.review-status")
    assert status is not None, f"{page}: no review status"
    text = " ".join(status.get_text().split())
    assert re.search(r"second reader|no medical claims", text), text
    assert re.search(r"clinician|no clinical review", text), text
    assert status.select_one('a[href$="#about-review"]') is not None


def test_further_help_names_national_services_each_cited_to_its_own_page(built):
    """The summary lists anxiety charities and services in the US and the UK, each cited (issue 22); the
    questions page leads to the list."""
    section = article(html_page("summary")).find(id="summary-further-help")
    assert section is not None
    items = section.select("li")
    for name in ("Anxiety and Depression Association of America", "NAMI HelpLine", "SAMHSA", "Anxiety UK", "Mind",
                 "NHS Talking Therapies"):
        item = next((li for li in items if name in li.get_text()), None)
        assert item is not None, f"{name} is not listed"
        assert item.select_one('a[href^="references.html#"]'), f"{name} is not cited"
    answer = article(html_page("questions")).find(id="questions-support")
    assert answer.select_one('a[href$="#summary-further-help"]') is not None


# Figures as a study reports them (p values, decimals of a per cent) belong on the studies page; patient
# pages say "about 1 in 3 people" (issue 20; CONTRIBUTING, "Numbers on patient pages").
STUDY_FIGURES = re.compile(r"\bp ?[=<>≤] ?0?\.\d|\b\d+\.\d+ ?(%|per ?cent)|\bCI\b|\bconfidence interval", re.IGNORECASE)
PATIENT_PAGES = [*TOPIC_PAGES, "index", "summary", "questions", "options", "checklist", "glossary", "approvals"]


@pytest.mark.parametrize("page", PATIENT_PAGES)
def test_patient_pages_give_plain_frequencies_not_study_statistics(built, page):
    text = article(html_page(page)).get_text(" ")
    found = [m.group(0) for m in STUDY_FIGURES.finditer(text)]
    assert not found, f"{page}: {found}: give these on the studies page, and plain words here"
