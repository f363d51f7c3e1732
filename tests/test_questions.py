"""The common-questions page (issue 13): readers' questions as headings, each answered briefly and plainly,
with its source and a link to the section that explains more; in the site's contents, the PDF and the
EPUB; linked from the landing page and from every topic page.

The answers are read from the built HTML, as a reader sees them: the heading of each question is a level-3
heading ending in "?", and its answer is the rest of that section.
"""

import html
import re
import zipfile

import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, EPUB, TOPIC_PAGES, article, bookmarks, html_page

MIN_QUESTIONS = 25
MAX_WORDS = 80
MAX_GRADE = 7  # Flesch-Kincaid grade of each answer
# Pages that carry a topic and so end with a link to the common questions.
LINKING_PAGES = [*TOPIC_PAGES, "approvals"]
# What the questions must cover (issue 13), as a pattern a question heading matches.
COVERAGE = {
    "what ketamine is": r"what is ketamine",
    "what esketamine is": r"esketamine",
    "generalised anxiety disorder": r"generali[sz]ed anxiety|\bGAD\b",
    "social anxiety": r"social anxiety",
    "panic": r"panic",
    "PTSD": r"PTSD|post-traumatic",
    "OCD": r"OCD|obsessive",
    "how fast": r"how (fast|quickly|soon)",
    "how long": r"how long",
    "side effects": r"side effects",
    "who should not have it": r"who should not",
    "other medicines": r"medicines|antidepressant",
    "alcohol": r"alcohol|drink",
    "driving": r"drive",
    "pregnancy": r"pregnan",
    "breastfeeding": r"breastfeed",
    "addiction and misuse": r"addict|misuse",
    "bladder": r"bladder",
    "legality": r"legal",
    "at-home and online clinics": r"online|at home|at-home",
    "cost": r"cost",
    "insurance": r"insurance",
    "what a session is like": r"session",
    "what to ask a clinician": r"ask",
    "help in a crisis": r"crisis",
}
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def _text(tag):
    return re.sub(r"\s+", " ", tag.get_text(" ")).strip()


@pytest.fixture(scope="module")
def answers(built):
    """{question: answer section without its heading}, in page order."""
    found = {}
    for heading in article(html_page("questions")).select("section h3"):
        question = _text(heading).rstrip("¶#").strip()
        if not question.endswith("?"):
            continue
        section = BeautifulSoup(str(heading.parent), "html.parser")
        section.find("h3").decompose()
        found[question] = section
    return found


def _prose(section):
    """The answer's words without its citations (names and years are not prose)."""
    prose = BeautifulSoup(str(section), "html.parser")
    for citation in prose.select("a[href^='references.html']"):
        citation.decompose()
    text = _text(prose)
    return re.sub(r"\s+([.,;:])", r"\1", re.sub(r"\(\s*[;,]?\s*\)", "", text))


def test_page_asks_at_least_25_questions(answers):
    assert len(answers) >= MIN_QUESTIONS, f"only {len(answers)} questions: {list(answers)}"


def test_every_question_heading_ends_in_a_question_mark(built):
    headings = [_text(h).rstrip("¶#").strip() for h in article(html_page("questions")).select("h3")]
    assert headings and all(h.endswith("?") for h in headings), [h for h in headings if not h.endswith("?")]


@pytest.mark.parametrize("topic,pattern", COVERAGE.items())
def test_questions_cover_the_topic(answers, topic, pattern):
    asked = [q for q in answers if re.search(pattern, q, re.IGNORECASE)]
    assert asked, f"no question about {topic} (a heading matching {pattern!r})"


def test_every_answer_is_at_most_80_words(answers):
    long = {q: len(WORD.findall(_text(a))) for q, a in answers.items() if len(WORD.findall(_text(a))) > MAX_WORDS}
    assert not long, f"answers over {MAX_WORDS} words (citations included): {long}"


def test_every_answer_cites_a_source(answers):
    uncited = [q for q, a in answers.items() if not a.select("a[href^='references.html#']")]
    assert not uncited, f"answers without a citation: {uncited}"


def test_every_answer_links_to_the_section_that_explains_more(answers):
    """An answer links to another page of the handbook (a section of it, mostly); the crisis answer
    links straight to the helplines instead, with tap-to-call numbers."""
    missing = []
    for question, answer in answers.items():
        hrefs = [a["href"] for a in answer.select("a[href]")]
        inside = [h for h in hrefs if re.match(r"[\w-]+\.html", h) and not h.startswith(("references.html",
                                                                                          "glossary.html"))]
        if "crisis" in question.lower():
            if not any(h.startswith("tel:") for h in hrefs) or not any(h.startswith("https://") for h in hrefs):
                missing.append(question)
        elif not inside:
            missing.append(question)
    assert not missing, f"answers without a link to the page that explains more: {missing}"


def test_section_links_land_on_sections_that_exist(answers, built):
    broken, pages = [], {}
    for question, answer in answers.items():
        for link in answer.select("a[href*='.html#']"):
            page, anchor = link["href"].split("#", 1)
            if page.startswith("references.html"):
                continue
            if page not in pages:
                pages[page] = html_page(page.removesuffix(".html"))
            if pages[page].find(id=anchor) is None:
                broken.append(f"{question}: {link['href']}")
    assert not broken, broken


def test_answers_are_plain_language(answers):
    """Flesch-Kincaid grade at most 7 for each answer, its citations left out (textstat 0.7.4 counts
    syllables with pyphen, offline)."""
    textstat = pytest.importorskip("textstat")
    grades = {q: textstat.flesch_kincaid_grade(_prose(a)) for q, a in answers.items()}
    for question, grade in grades.items():
        print(f"{grade:5.1f}  {question}")
    hard = {q: g for q, g in grades.items() if g > MAX_GRADE}
    assert not hard, f"answers above grade {MAX_GRADE}: {hard}"


def test_key_points_box_first(built):
    box = article(html_page("questions")).select_one(".admonition")
    assert box is not None and "key-points" in box["class"]


def test_page_is_in_the_contents(built):
    nav = html_page("index").select(".sidebar-tree a[href]")
    assert any(a["href"].startswith("questions.html") for a in nav), "questions page not in the navigation"


def test_landing_page_links_to_the_questions(built):
    links = article(html_page("index")).select("a[href^='questions.html']")
    assert links, "the landing page does not link to the common questions"


@pytest.mark.parametrize("page", LINKING_PAGES)
def test_topic_page_links_to_the_questions(built, page):
    links = article(html_page(page)).select("a[href^='questions.html']")
    assert links, f"{page} does not link to the common questions"


def _chapter_pages(reader, title):
    """The page numbers of the PDF chapter with this title, from the PDF's bookmarks."""
    top = [(re.sub(r"^(Chapter \d+|Appendix [A-Z]) ", "", title), page) for title, page, _ in bookmarks(reader)]
    starts = [page for name, page in top if name == title]
    assert starts, f"no chapter '{title}' in the PDF's bookmarks: {[name for name, _ in top]}"
    later = [page for _, page in top if page > starts[0]]
    return range(starts[0], min(later) if later else len(reader.pages))


def test_questions_are_in_the_pdf(pdf, pdf_pages, answers):
    pages = _chapter_pages(pdf, "Common questions about ketamine for anxiety")
    text = re.sub(r"\s+", " ", " ".join(pdf_pages[n] for n in pages))
    text = text.replace("’", "'")
    missing = [q for q in answers if q.replace("’", "'") not in text]
    assert not missing, f"questions missing from the PDF's Common questions chapter: {missing}"


def test_questions_are_in_the_epub(built, answers):
    with zipfile.ZipFile(EPUB) as book:
        names = book.namelist()
        assert "questions.xhtml" in names, "no questions chapter in the EPUB"
        page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", book.read("questions.xhtml").decode()))
        opf = book.read(next(n for n in names if n.endswith(".opf"))).decode()
    item = re.search(r'<item id="([^"]+)" href="questions.xhtml"', opf)
    assert item and f'<itemref idref="{item.group(1)}"' in opf, "questions not in the EPUB's reading order"
    page = html.unescape(page)
    missing = [q for q in answers if q not in page]
    assert not missing, f"questions missing from the EPUB: {missing}"


def test_every_source_heading_of_level_three_is_a_question_on_the_built_page(built):
    headings = re.findall(r"^### (.+)$", (DOCS / "questions.md").read_text(encoding="utf-8"), re.MULTILINE)
    built_headings = [_text(h).rstrip("¶#").strip() for h in article(html_page("questions")).select("h3")]
    assert len(headings) == len(built_headings) >= MIN_QUESTIONS
