"""Search that answers questions (issue 13), in a real browser over the built site.

A question typed as a whole sentence puts the page that answers it in the top three results; a word the
handbook does not use never empties the results; abbreviations find the pages that spell them out; a
result opens the section that matched, and its snippet shows the words that matched.

The search is Sphinx's own, with docs/_static/search-questions.js rewriting and ranking the query over
the section-level index that docs/_ext/handbook/search.py writes (see both for how). The questions below
are readers' questions written for these tests; more are tried after the fact, so the synonym lists are
kept broad rather than tuned to these.
"""

import functools
import json
import re

import pytest
from browser import pages, ranked
from bs4 import BeautifulSoup
from conftest import HTML, article, build_again, copy_root, html_page

browser = pytest.mark.browser

# (question, the page that answers it). The common-questions page answers most of them too; these name
# the topic page that explains the answer, which must also reach the top three.
QUESTIONS = [
    ("can I drive after ketamine?", "safety"),
    ("is ketamine addictive", "benefits-and-risks"),
    ("will it make me feel strange?", "benefits-and-risks"),
    ("can I have it while pregnant?", "safety"),
    ("is it habit-forming?", "benefits-and-risks"),
    ("will I trip?", "benefits-and-risks"),
    ("can I breastfeed while on ketamine?", "safety"),
    ("can I drink alcohol after a session", "safety"),
    ("can I take ketamine with xanax", "safety"),
    ("does it raise blood pressure", "safety"),
    ("why do I need to pee so much after ketamine", "benefits-and-risks"),
    ("who should not take ketamine", "safety"),
    ("I have an aneurysm, can I have ketamine?", "safety"),
    ("how quickly does ketamine work", "benefits-and-risks"),
    ("how much does ketamine therapy cost", "benefits-and-risks"),
    ("can ketamine make me throw up", "benefits-and-risks"),
    ("is it normal to feel dizzy after the nasal spray", "benefits-and-risks"),
    ("how long until I can drive after esketamine", "safety"),
    ("how many sessions will I need?", "future-research"),
    ("what is the best dose of ketamine", "future-research"),
    ("can ketamine be used with cbt", "future-research"),
    ("who responds to ketamine", "future-research"),
    ("what is the nose spray?", "ketamine-history"),
    ("who invented ketamine?", "ketamine-history"),
    ("is ketamine a horse tranquilizer?", "ketamine-history"),
    ("is ketamine the same as PCP", "ketamine-history"),
    ("is ketamine legal", "approvals"),
    ("is ketamine FDA approved for anxiety?", "approvals"),
    ("what does off-label mean", "approvals"),
    ("can I get esketamine on the NHS?", "approvals"),
    ("are online ketamine clinics safe?", "safety"),  # the FDA's warning on at-home ketamine
    ("can a doctor prescribe ketamine for anxiety", "approvals"),
    ("how does ketamine work in the brain?", "mechanism"),
    ("does ketamine grow new brain connections", "mechanism"),
    ("what are the symptoms of anxiety", "anxiety"),
    ("what treatments are there for anxiety besides ketamine?", "anxiety"),
    ("I worry all the time", "anxiety"),
    ("are there stories from real patients", "patient-stories"),
    ("can ketamine make anxiety worse?", "patient-stories"),
    ("how big were the studies", "studies"),
    ("what should I ask my doctor about ketamine?", "summary"),
]

# Questions whose answer on the common-questions page must itself be a result in the top three.
ANSWERS = [
    ("can I drive after ketamine?", "questions-driving"),
    ("is ketamine addictive", "questions-addictive"),
    ("can I have it while pregnant?", "questions-pregnancy"),
    ("where can I get help in a crisis?", "questions-crisis"),
    ("will insurance pay for it", "questions-insurance"),
]

# Medicines and drinks readers ask about with ketamine: the first result is an answer about taking them
# together (issue 18: someone on sertraline and lorazepam must find the benzodiazepine warning first).
INTERACTION_ANSWERS = {"questions-medicines", "questions-alcohol", "questions-breathing", "questions-antidepressants",
                       "safety-breathing", "safety-interactions"}
INTERACTION_QUERIES = ["sertraline and lorazepam", "benzo", "opioids", "alcohol", "diazepam",
                       "can I take it with valium", "methadone", "ketamine and codeine", "clonazepam with esketamine",
                       "can I drink wine after ketamine"]

# Abbreviations readers type, and what the page that answers them spells out.
ABBREVIATIONS = {
    "PTSD": "post-traumatic stress disorder",
    "OCD": "obsessive-compulsive disorder",
    "GAD": "generalised anxiety disorder",
    "SSRI": "selective serotonin reuptake inhibitor",
    "CBT": "cognitive behavioural therapy",
    "TRD": "treatment-resistant depression",
    "MAOI": "monoamine oxidase inhibitor",
}


@functools.cache
def page_text(name):
    """The words of a built page's article, in lower case."""
    return re.sub(r"\s+", " ", article(html_page(name)).get_text(" ")).lower()


# -- Driving the search page ------------------------------------------------------------------------


def run(page, query):
    """Search as the page does for ?q=QUERY; the result links (href) in rank order."""
    page.evaluate("q => { document.getElementById('search-results').replaceChildren(); Search.performSearch(q); }",
                  query)
    page.wait_for_function("document.querySelector('#search-results p.search-summary')?.innerText")
    return page.eval_on_selector_all("#search-results ul.search li > a", "els => els.map(e => e.getAttribute('href'))")


# -- Whole questions --------------------------------------------------------------------------------


@browser
@pytest.mark.parametrize("query", INTERACTION_QUERIES)
def test_a_medicine_or_drink_lands_on_the_interaction_answer_first(search_page, query):
    first = ranked(search_page, query)[0]
    assert first.split("#")[-1] in INTERACTION_ANSWERS, f"{query!r}: first result {first}"


@browser
@pytest.mark.parametrize("query,expected", QUESTIONS)
def test_question_puts_the_answering_page_in_the_top_three(search_page, query, expected):
    top = pages(ranked(search_page, query))
    assert expected in top[:3], f"{query!r}: top pages {top[:5]}"


# Whole questions and single words (test_browser.py ranks its word queries with `ranked` alone).
LISTED = [QUESTIONS[0][0], QUESTIONS[-1][0], "anxious", "NMDA receptor", "side effects", "Spravato"]


@browser
@pytest.mark.parametrize("query", LISTED)
def test_the_page_lists_the_results_in_the_order_chosen(search_page, query):
    """The results the page draws are exactly `ranked`'s, in its order, so tests may read `ranked` alone."""
    assert run(search_page, query) == ranked(search_page, query)


@browser
@pytest.mark.parametrize("query,anchor", ANSWERS)
def test_the_answer_on_the_questions_page_is_a_result_of_its_own(search_page, query, anchor):
    links = run(search_page, query)
    assert f"questions.html#{anchor}" in links[:3], f"{query!r}: top results {links[:5]}"


@browser
def test_a_word_the_handbook_does_not_use_leaves_the_rest_of_the_question(search_page):
    links = run(search_page, "can I drive home after ketamine zorblax")
    assert "safety" in pages(links)[:3], links[:5]
    note = search_page.inner_text("#search-results .search-note")
    assert "zorblax" in note and "Not found" in note, note


@browser
@pytest.mark.parametrize("query,expected", [
    ("can I have ketamine while pregnent", "safety"),
    ("is ketamine adictive", "benefits-and-risks"),
    ("can I drvie after ketamine", "safety"),
])
def test_a_typing_slip_still_finds_the_answer(search_page, query, expected):
    top = pages(ranked(search_page, query))
    assert expected in top[:3], f"{query!r}: top pages {top[:5]}"


@browser
def test_only_unknown_words_offer_the_common_questions(search_page):
    links = run(search_page, "qwertyuiop zxcvbnm")
    assert links and links[0] == "questions.html", links


@browser
def test_only_small_words_offer_the_common_questions(search_page):
    links = run(search_page, "how do I?")
    assert links and links[0] == "questions.html", links
    assert "too common" in search_page.inner_text("#search-results .search-note")


@browser
@pytest.mark.parametrize("abbreviation,spelled_out", ABBREVIATIONS.items())
def test_abbreviation_finds_a_page_that_spells_it_out(search_page, built, abbreviation, spelled_out):
    top = pages(ranked(search_page, abbreviation))[:3]
    spelling = [name for name in top if spelled_out in page_text(name)]
    assert spelling, f"{abbreviation}: none of {top} spells out {spelled_out!r}"


@browser
def test_no_script_errors_while_searching(search_page):
    for query in ("can I drive after ketamine?", "ptsd", "¿qué es?", "-", "'\"<b>"):
        run(search_page, query)
    assert not search_page.errors, search_page.errors


# -- Landing on the answer --------------------------------------------------------------------------


@browser
def test_a_result_opens_the_section_that_matched(page, site):
    page.goto(f"{site}search.html?q=can I drive after ketamine?")
    link = page.locator("#search-results ul.search li > a[href^='safety.html#']").first
    link.wait_for()
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(r"safety\.html#"), wait_until="load")
    anchor = href.split("#", 1)[1]
    assert page.evaluate("location.hash") == f"#{anchor}"
    section = page.locator(f"section[id='{anchor}']")
    assert "driv" in section.locator("h2, h3").first.inner_text().lower(), href
    # The browser brings the section to the top of the window.
    page.wait_for_function(
        "id => { const top = document.getElementById(id).getBoundingClientRect().top;"
        " return top >= -2 && top < window.innerHeight / 2; }", arg=anchor, timeout=5000)


@browser
@pytest.mark.parametrize("query,words", [
    ("can I drive after ketamine?", {"drive", "driving"}),
    ("is it habit-forming?", {"misuse", "misused", "addiction", "addictive"}),  # synonyms highlighted
    ("will I trip?", {"dissociation", "dissociative"}),
    ("what does it cost", {"cost", "costs"}),
])
def test_snippet_shows_and_highlights_the_words_that_matched(page, site, query, words):
    page.goto(f"{site}search.html?q={query}")
    first = page.locator("#search-results ul.search li").first
    first.locator("p.context").wait_for()
    snippet = first.locator("p.context").inner_text().lower()
    highlighted = {h.lower() for h in first.locator("p.context .highlighted").all_inner_texts()}
    assert any(w in snippet for w in words), snippet
    assert highlighted & words, f"highlighted {highlighted}, expected one of {words}"


@browser
def test_snippet_comes_from_the_matching_section_not_the_page_opening(page, site):
    page.goto(f"{site}search.html?q=can I drink alcohol after a session")
    item = page.locator("#search-results ul.search li:has(a[href^='safety.html#'])").first
    item.locator("p.context").wait_for()
    snippet = item.locator("p.context").inner_text()
    assert "alcohol" in snippet.lower() and "Key points" not in snippet, snippet


@browser
def test_a_whole_question_works_from_a_local_file(page, built):
    page.goto((HTML / "search.html").as_uri() + "?q=can I drive after ketamine?")
    page.wait_for_selector("#search-results p.search-summary", timeout=10000)
    links = page.eval_on_selector_all("#search-results ul.search li > a", "els => els.map(e => e.getAttribute('href'))")
    assert "safety" in pages(links)[:3], links[:5]


# -- The index behind it (no browser) -----------------------------------------------------------------


def _search_data():
    text = (HTML / "_static" / "search-data.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1:].strip().rstrip(";"))


def test_every_synonym_points_at_words_the_handbook_uses(built):
    from handbook.search_words import SYNONYMS, normalise
    from sphinx.search.en import SearchEnglish

    language = SearchEnglish({})
    data = _search_data()
    known = {*data["text"], *data["heads"], *data["labels"], *(s for kws in data["keywords"].values() for s in kws)}
    dead = {}
    for phrase, targets in SYNONYMS.items():
        for word in normalise(targets).split():
            if language.word_filter(word) and language.stem(word).lower() not in known:
                dead.setdefault(phrase, []).append(word)
    assert not dead, f"synonyms pointing at words no page uses (fix the synonym or the page): {dead}"


def test_synonym_keys_are_written_as_the_script_reads_them():
    from handbook.search_words import STOP_WORDS, SYNONYMS, normalise

    unreadable = [key for key in SYNONYMS if normalise(key) != key]
    assert not unreadable, f"synonym keys must be lower case, without apostrophes or hyphens: {unreadable}"
    assert {"can", "i", "after", "how", "what"} <= STOP_WORDS


def test_every_question_heading_is_an_index_entry_for_its_section(built):
    text = (HTML / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    doc = index["docnames"].index("questions")
    entries = {(entry.lower(), anchor) for entry, places in index["indexentries"].items()
               for file, anchor, _main in places if file == doc}
    missing = []
    for heading in article(html_page("questions")).select("h3"):
        question = re.sub(r"\s+", " ", heading.get_text(" ")).strip().rstrip("¶#").strip()
        anchor = heading.find_parent("section")["id"]
        if (question.rstrip("?").strip().lower(), anchor) not in entries:  # Sphinx keeps them lower case
            missing.append(question)
    assert not missing, f"question headings without an index entry: {missing}"


def test_search_page_loads_the_question_search(built):
    soup = BeautifulSoup((HTML / "search.html").read_text(encoding="utf-8"), "html.parser")
    sources = [s.get("src", "") for s in soup.select("script[src]")]
    for name in ("search-data.js", "search-questions.js"):
        script = next((s for s in soup.select("script[src]") if name in s["src"]), None)
        assert script is not None and script.has_attr("defer"), f"{name} not loaded (deferred): {sources}"
    other = BeautifulSoup((HTML / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert not other.select("script[src*='search-data']"), "the search data is loaded on every page"


@pytest.mark.fast
def test_the_script_was_written_for_the_installed_searchtools():
    from handbook import search

    assert search.searchtools_fingerprint() == search.SEARCHTOOLS_FINGERPRINT, (
        "Sphinx's searchtools.js changed: read docs/_static/search-questions.js against it, then record "
        "the new fingerprint in docs/_ext/handbook/search.py")


@pytest.mark.fast
def test_a_build_stopped_while_writing_is_finished_by_the_next_without_a_warning(tmp_path):
    """Pages written but the search index lost (a build killed while it wrote): the next build reads every
    page again, so the index is whole and nothing warns (with -W, Sphinx's warning failed `make`)."""
    from sphinx.search import js_index

    src = copy_root("handbook", tmp_path / "src")
    index = build_again(src).outdir / "searchindex.js"
    whole = js_index.loads(index.read_text(encoding="utf-8"))["docnames"]
    index.unlink()
    again = build_again(src)
    assert "search index couldn't be loaded" not in again.warning.getvalue()
    assert js_index.loads(index.read_text(encoding="utf-8"))["docnames"] == whole


# -- What readers tripped over (issue 20) ------------------------------------------------------------


@browser
@pytest.mark.parametrize("query,term", [("benzo", "benzodiazepine"), ("lorazepam", "benzodiazepine"),
                                        ("what is dissociation", "dissociation"),
                                        ("contraindication", "contraindication")])
def test_a_glossary_result_shows_its_definition_as_the_snippet(page, site, query, term):
    page.goto(f"{site}search.html?q={query}")
    item = page.locator(f"#search-results ul.search li:has(a[href*='glossary.html#term-{term}'])").first
    item.locator("p.context").wait_for()
    snippet = item.locator("p.context").inner_text()
    assert len(snippet.split()) >= 8, f"{query!r}: a one-word snippet {snippet!r}"


@browser
@pytest.mark.parametrize("query", ["benzo", "lorazepam", "who should not take it", "sedation", "dissociation",
                                   "anaesthetic", "off-label", "REMS"])
def test_a_question_answer_ranks_above_a_glossary_entry(search_page, query):
    links = ranked(search_page, query)
    answers = [i for i, link in enumerate(links) if link.startswith("questions.html#")]
    terms = [i for i, link in enumerate(links) if link.startswith("glossary.html#")]
    if answers and terms:
        assert answers[0] < terms[0], f"{query!r}: {links[:6]}"


@browser
@pytest.mark.parametrize("query", ["cost cost", "how much does it cost", "side effects side effects"])
def test_searched_for_names_each_word_once(page, site, query):
    page.goto(f"{site}search.html?q={query}")
    note = page.locator("#search-results .search-note")
    note.wait_for()
    listed = re.findall(r"[\w-]+", note.inner_text().split(":", 1)[1].lower())
    assert len(listed) == len(set(listed)), note.inner_text()


@browser
@pytest.mark.parametrize("query", ["report a problem", "report an error", "how do I report a mistake"])
def test_search_finds_how_to_report_a_problem(search_page, query):
    assert ranked(search_page, query)[0] == "about.html#about-report", ranked(search_page, query)[:3]


@browser
def test_search_page_leads_to_crisis_help(page, site):
    page.goto(f"{site}search.html?q=anxiety")
    link = page.locator("article .crisis-link a").first
    assert link.is_visible()
    assert link.get_attribute("href").endswith("index.html#crisis-help")
