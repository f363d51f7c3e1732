"""The safety and approval facts a reader needs before treatment (issue 11) appear in the website, the PDF
and the EPUB alike, and no page still says that esketamine is approved for treatment-resistant depression
only.

Each fact is a short phrase from the page that states it. The phrase is looked for in that page's HTML
article, in that page's chapter of the EPUB, and in the PDF. Text is compared with spaces, hyphens and
apostrophes removed, so that line breaks, hyphenation and curly quotes in the PDF do not matter.
"""

import html
import re
import zipfile

import pytest
from conftest import EPUB, HTML, article, html_page

# (page, phrase): what the page must tell the reader, in its own words.
FACTS = [
    # Approvals and access: dated, current, sourced to the regulators.
    ("approvals", "Status as of 27 November 2026"),
    ("approvals", "first approved in 1970"),
    ("approvals", "Schedule III"),
    ("approvals", "Class B drug on 10 June 2014"),
    ("approvals", "either on its own or together with an antidepressant taken by mouth"),
    ("approvals", "who have acute suicidal thoughts or behaviour"),
    ("approvals", "authorised Spravato on 18 December 2019"),
    ("approvals", "a clinician judges to be a psychiatric emergency"),
    ("approvals", "TA854"),
    ("approvals", "is not recommended for treatment-resistant depression"),
    ("approvals", "ketamine is not approved for any psychiatric disorder"),
    ("approvals", "In October 2023 the FDA warned"),
    # Before treatment: safety, from the product labels (issue 18: every label's warnings, mapped).
    ("benefits-and-risks", "Before treatment: safety"),
    ("safety", "It names five risks"),
    ("safety", "Suicidal thoughts in young people"),
    ("safety", "may cause deep sedation, slowed breathing, coma or death"),
    ("safety", "calming medicines such as lorazepam"),
    ("safety", "with a finger clip that measures oxygen (pulse oximetry)"),
    ("safety", "The US label says it lasts about four hours"),
    ("safety", "between 8 and 19 in every 100 people on the spray had a large rise"),
    ("safety", "a sudden severe headache, a change in your sight, a seizure (fit)"),
    ("safety", "an aneurysm (a bulge in an artery wall)"),
    ("safety", "an arteriovenous malformation"),
    ("safety", "had a bleed inside the brain"),
    ("safety", "an allergy to esketamine, to ketamine"),
    ("safety", "heart attack or other heart or blood vessel event in the last six weeks"),
    ("safety", "Treat only if the benefit outweighs the risk"),
    ("safety", "may harm an unborn baby, so it is not recommended in pregnancy"),
    ("safety", "breastfeeding is not recommended"),
    ("safety", "Monoamine oxidase inhibitors"),
    ("safety", "theophylline or aminophylline"),
    ("safety", "until the day after a treatment"),
    ("safety", "widened bile ducts"),
    ("safety", "leave only once fully recovered, and with a responsible adult"),
    ("safety", "watches you until you are stable (in the US, for at least two hours)"),
    ("safety", "The programme covers every use of the spray"),
    ("benefits-and-risks", "The risk is not only in recreational use"),
    ("safety", "In October 2023 the FDA warned"),
    ("safety", "using them at home adds risk"),
    ("questions", "Can I take ketamine with benzodiazepines, opioids or my other medicines?"),
    ("questions", "Can ketamine affect my breathing?"),
    ("questions", "What should I report at once?"),
]

# A sentence that ties esketamine (or "the approved" spray) to treatment-resistant depression alone.
APPROVAL = re.compile(r"\b(approv\w*|licen[cs]\w*|indicated)\b", re.IGNORECASE)
TRD = re.compile(r"treatment-resistant depression|\bTRD\b", re.IGNORECASE)
ONLY = re.compile(r"\bonly\b|\balone\b|\bsolely\b|\bexclusively\b", re.IGNORECASE)
# Words that show the sentence is about the other approved uses, or about a single dated decision.
OTHER_USES = re.compile(r"suicidal|psychiatric emergency|on its own|some kinds of depression|"
                        r"in 2019|March 2019|certified|supervision|REMS|observ", re.IGNORECASE)


def _squeeze(text):
    text = html.unescape(text).replace("\u00ad", "")
    return re.sub(r"[\s\-\u2010\u2011\u2013'\u2019\u2018]+", "", text).lower()


def _sentences(text):
    return re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text))


def says_trd_only(sentence):
    """True for a sentence that says esketamine's approval covers treatment-resistant depression only."""
    return bool(APPROVAL.search(sentence) and TRD.search(sentence) and ONLY.search(sentence)
                and not OTHER_USES.search(sentence))


@pytest.fixture(scope="module")
def pdf_text(pdf_pages):
    return _squeeze("\n".join(pdf_pages))


@pytest.fixture(scope="module")
def epub_pages(built):
    with zipfile.ZipFile(EPUB) as book:
        return {name.removesuffix(".xhtml"): _squeeze(re.sub(r"<[^>]+>", " ", book.read(name).decode()))
                for name in book.namelist() if name.endswith(".xhtml")}


@pytest.mark.parametrize(("page", "phrase"), FACTS)
def test_fact_is_on_its_page_in_the_html(built, page, phrase):
    text = _squeeze(article(html_page(page)).get_text(" "))
    assert _squeeze(phrase) in text, f"{page}.html does not say: {phrase!r}"


@pytest.mark.parametrize(("page", "phrase"), FACTS)
def test_fact_is_on_its_page_in_the_epub(epub_pages, page, phrase):
    assert page in epub_pages, f"{page}.xhtml missing from the EPUB"
    assert _squeeze(phrase) in epub_pages[page], f"{page}.xhtml does not say: {phrase!r}"


@pytest.mark.parametrize(("page", "phrase"), FACTS)
def test_fact_is_in_the_pdf(pdf_text, page, phrase):
    assert _squeeze(phrase) in pdf_text, f"the PDF does not say ({page}): {phrase!r}"


def test_the_detector_finds_the_old_wording():
    """The check below would catch the sentences the handbook used to print, and passes current ones."""
    old = ["Esketamine is approved for treatment-resistant depression only.",
           "Approval by the US regulator covers treatment-resistant depression only.",
           "Approved for treatment-resistant depression only; ketamine for anxiety remains off-label."]
    current = ["The current US label lists two uses, both in depression, including acute suicidal thoughts.",
               "The esketamine nasal spray is approved only for some kinds of depression, not for anxiety."]
    assert all(says_trd_only(s) for s in old)
    assert not any(says_trd_only(s) for s in current)


def test_no_page_says_esketamine_is_approved_for_treatment_resistant_depression_only(built):
    found = []
    for path in sorted(HTML.glob("*.html")):
        if path.stem in ("genindex", "search", "404"):
            continue
        for sentence in _sentences(article(html_page(path.stem)).get_text(" ")):
            if says_trd_only(sentence):
                found.append(f"{path.name}: {sentence[:140]}")
    assert not found, "out-of-date approval (esketamine is also approved for other uses): " + "; ".join(found)
