"""Studies table: one labelled entry per study, pages link to it, and a study's numbers live in the table
and in at most one page's prose (issue 11).

The table is docs/studies.md: one section per study, labelled `study-<bibliography key>`, holding a
two-column table whose rows are the fields below. The tests read the built HTML (and the PDF and EPUB
for the last two), so they see what a reader sees.
"""

import re
import zipfile

import pybtex.database
import pytest
from conftest import DOCS, EPUB, HTML, TOPIC_PAGES, article, html_page

FIELDS = ["Design", "Compared with", "Participants", "Dose and route", "Measures", "Main result", "Follow-up",
          "Limits", "Source"]
# Pages whose text must link a study's first citation to its entry in the table.
LINKING_PAGES = [*TOPIC_PAGES, "summary", "evidence-levels"]
# Pages searched for retold numbers: every page except the table itself and the bibliography.
NOT_PROSE = {"studies", "references"}
NUMBER_WORDS = {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
                "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
                "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20}
NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(\s*%)?")


def _text(tag):
    return re.sub(r"\s+", " ", tag.get_text(" ")).strip()


@pytest.fixture(scope="module")
def html_built():
    if not (HTML / "studies.html").exists():
        pytest.fail(f"{HTML / 'studies.html'} is missing: run `make html` first")
    return HTML


@pytest.fixture(scope="module")
def bib_key_of_anchor(html_built):
    """references.html#idNN -> bibliography key, matched through each entry's DOI or URL."""
    bib = pybtex.database.parse_file(str(DOCS / "references.bib"))
    by_link = {}
    for key, entry in bib.entries.items():
        if entry.fields.get("doi"):
            by_link[f"https://doi.org/{entry.fields['doi']}".lower()] = key
        if entry.fields.get("url"):
            by_link[entry.fields["url"].lower()] = key
    anchors = {}
    for entry in article(html_page("references")).select(".citation[id]"):
        links = [a["href"].lower() for a in entry.select("a[href^='http']")]
        keys = {by_link[link] for link in links if link in by_link}
        if len(keys) == 1:
            anchors[entry["id"]] = keys.pop()
    return anchors


def _cited_keys(tag, anchors):
    keys = set()
    for link in tag.select('a[href^="references.html#"]'):
        key = anchors.get(link["href"].split("#", 1)[1])
        if key:
            keys.add(key)
    return keys


@pytest.fixture(scope="module")
def studies(html_built, bib_key_of_anchor):
    """key -> {field: text of that row}, read from the studies page."""
    body = article(html_page("studies"))
    table = {}
    for section in body.select('section[id^="study-"]'):
        key = section["id"].removeprefix("study-")
        rows = {}
        for tr in section.select("table tr"):
            cells = tr.find_all(["th", "td"])
            if len(cells) == 2:
                rows[_text(cells[0])] = cells[1]
        table[key] = rows
    return table


def row_numbers(rows):
    """The figures a study's entry reports: decimals, percentages and p values from any field, and
    counts of five or more (sample sizes, responders) from Participants and Main result."""
    found = set()
    for field, cell in rows.items():
        if field == "Source":
            continue
        text = _text(cell)
        for match in NUMBER.finditer(text):
            value, percent = match.groups()
            if float(value) == 0:
                continue
            if "." in value or percent:
                found.add(value)
            elif field in ("Participants", "Main result") and 5 <= int(value) and not 1900 <= int(value) <= 2100:
                found.add(value)
    return found


def _numbers_in(text):
    """Numbers a reader sees in a block of text, with number words read as digits."""
    text = text.lower()
    numbers = [m.group(1) for m in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)", text)]
    numbers += [str(value) for word, value in NUMBER_WORDS.items() if re.search(rf"\b{word}\b", text)]
    return numbers


def _same_figure(reported, seen):
    """A page's figure matches a reported one when it is the same number, or the same number rounded."""
    if "." in seen:
        if "." not in reported:
            return False
        places = len(seen.split(".")[1])
        return round(float(reported), places) == float(seen)
    return "." not in reported and int(reported) == int(seen)


def _blocks(body):
    """Paragraphs, and list items, table cells and definitions that hold no paragraph of their own."""
    blocks = list(body.find_all("p"))
    for tag in body.find_all(["li", "td", "th", "dd", "dt"]):
        if tag.find("p") is None:
            blocks.append(tag)
    return blocks


def _prose_pages():
    return sorted(p.stem for p in HTML.glob("*.html")
                  if p.stem not in NOT_PROSE and (DOCS / f"{p.stem}.md").exists())


# -- The table itself ---------------------------------------------------------------------------------

def test_studies_page_has_at_least_eight_labelled_entries(studies):
    assert len(studies) >= 8, f"only {len(studies)} studies in the table: {sorted(studies)}"


def test_every_entry_fills_every_field_and_cites_its_study(studies, bib_key_of_anchor):
    problems = []
    for key, rows in studies.items():
        missing = [f for f in FIELDS if f not in rows or not _text(rows[f])]
        if missing:
            problems.append(f"{key}: empty or missing {missing}")
        elif key not in _cited_keys(rows["Source"], bib_key_of_anchor):
            problems.append(f"{key}: the Source row does not cite {key}")
    assert not problems, problems


def test_main_results_tell_average_change_and_responders_apart(studies):
    """An entry that reports either kind of result names both, saying when one is not reported."""
    for key, rows in studies.items():
        text = _text(rows["Main result"])
        if "Average change" in text or "Responders" in text:
            assert "Average change" in text and "Responders" in text, f"{key}: {text[:120]}"


def test_social_anxiety_trial_entry_reports_both_scales_and_both_counts(studies):
    text = _text(studies["taylor2018"]["Main result"])
    assert "Average change" in text and "Responders" in text
    for figure in ("0.01", "0.95", "33.33%", "0.025", "88.89%", "52.94%", "0.034"):
        assert figure in text, f"taylor2018: {figure} missing from the main result"
    measures = _text(studies["taylor2018"]["Measures"])
    assert "Clinician-rated" in measures and "Self-rated" in measures


def test_the_studies_page_is_in_the_table_of_contents(html_built):
    nav = html_page("index").select_one(".sidebar-tree")
    assert nav.select_one('a[href="studies.html"]'), "studies page not in the site navigation"


# -- The pages link to it, and do not retell its numbers ------------------------------------------------

@pytest.mark.parametrize("page", LINKING_PAGES)
def test_first_citation_of_each_study_links_to_its_entry(studies, bib_key_of_anchor, page):
    """Like a glossary term, a study's first citation on a page comes with a link to its entry."""
    body = article(html_page(page))
    seen, unlinked = set(), []
    for block in _blocks(body):
        for key in sorted(_cited_keys(block, bib_key_of_anchor) & set(studies) - seen):
            seen.add(key)
            if not block.select(f'a[href="studies.html#study-{key}"]'):
                unlinked.append(f"{key}: «{_text(block)[:90]}…»")
    assert not unlinked, f"{page}: first citation without a link to the study's entry: {unlinked}"


def test_a_study_s_numbers_are_retold_on_at_most_one_page(studies, bib_key_of_anchor):
    retold = {}
    for page in _prose_pages():
        body = article(html_page(page))
        for block in _blocks(body):
            numbers = _numbers_in(_text(block))
            for key in _cited_keys(block, bib_key_of_anchor) & set(studies):
                hits = sorted({n for n in row_numbers(studies[key]) for seen in numbers if _same_figure(n, seen)})
                if hits:
                    retold.setdefault(key, {}).setdefault(page, []).append(f"{hits} in «{_text(block)[:70]}…»")
    too_many = {key: pages for key, pages in retold.items() if len(pages) > 1}
    assert not too_many, "a study's figures retold on more than one page (keep one, link the rest): " + \
        "; ".join(f"{key} on {sorted(pages)}: {pages}" for key, pages in too_many.items())


def test_social_anxiety_trial_is_summarised_correctly_for_both_measures(bib_key_of_anchor):
    """Patients' own ratings differed in responders but not in average change: a sentence about the
    self-rated scale must say which of the two it means."""
    wrong = []
    for page in _prose_pages():
        for block in _blocks(article(html_page(page))):
            if "taylor2018" not in _cited_keys(block, bib_key_of_anchor):
                continue
            text = _text(block).lower()
            if re.search(r"patients['’]? own|own rating|own anxiety|self-rated|self-reported|patients rated", text):
                if "average" not in text or "respon" not in text:
                    wrong.append(f"{page}: «{_text(block)[:120]}…»")
    assert not wrong, f"self-rated result without average change and responders told apart: {wrong}"


# -- The same facts in the PDF and the EPUB ---------------------------------------------------------------

def _flat(text):
    text = text.replace("\u2010", "-").replace("\u00ad", "").replace("\u2019", "'")
    return re.sub(r"\s+", " ", text)


def _reported_figures(studies):
    figures = {}
    for key, rows in studies.items():
        text = _text(rows["Main result"])
        figures[key] = sorted({m.group(0).replace(" ", "") for m in re.finditer(r"\d+\.\d+%?|\d+%", text)})
    return figures


def test_pdf_holds_the_table_and_its_figures(pdf_pages, studies):
    text = _flat("\n".join(pdf_pages))
    assert "Studies behind this handbook" in text
    squeezed = text.replace(" ", "")
    missing = {key: [f for f in figures if f not in squeezed]
               for key, figures in _reported_figures(studies).items()}
    missing = {key: figures for key, figures in missing.items() if figures}
    assert not missing, f"figures from the studies table missing in the PDF: {missing}"


def test_epub_holds_the_table_its_labels_and_the_links_to_it(built, studies):
    with zipfile.ZipFile(EPUB) as book:
        page = book.read("studies.xhtml").decode()
        others = {name: book.read(name).decode() for name in book.namelist()
                  if name.endswith(".xhtml") and name != "studies.xhtml"}
    missing_ids = [key for key in studies if f'id="study-{key}"' not in page]
    assert not missing_ids, f"EPUB studies page lacks entries: {missing_ids}"
    flat = _flat(re.sub(r"<[^>]+>", " ", page)).replace(" ", "")
    missing = {key: [f for f in figures if f not in flat] for key, figures in _reported_figures(studies).items()}
    missing = {key: figures for key, figures in missing.items() if figures}
    assert not missing, f"figures from the studies table missing in the EPUB: {missing}"
    unlinked = [key for key in studies if not any(f"studies.xhtml#study-{key}" in text for text in others.values())]
    assert not unlinked, f"no EPUB page links to these entries of the studies table: {unlinked}"


# -- Studies as data: the CSV, the search date, the documented search (issue 19) --------------------------


def _csv_rows():
    import csv
    import io

    path = HTML / "ketamine-anxiety-studies.csv"
    assert path.exists(), "the evidence table's CSV is not in the built site"
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_csv_downloads_from_the_studies_page_and_matches_it(html_built, studies):
    page = article(html_page("studies"))
    link = page.select_one('a.download-link[href="ketamine-anxiety-studies.csv"]')
    assert link is not None, "the studies page does not link the CSV"
    rows = _csv_rows()
    assert [r["key"] for r in rows] == list(studies), "the CSV and the page list different studies, or in another order"
    for row in rows:
        entry = studies[row["key"]]
        for column, field in (("design", "Design"), ("main_result", "Main result"), ("limits", "Limits")):
            page_text = re.sub(r"\s+([,.;:)])", r"\1", _text(entry[field])).replace("( ", "(").replace("’", "'")
            assert " ".join(row[column].split()) == page_text, (row["key"], column)
        assert row["doi_or_url"].startswith("https://"), row["key"]


def test_every_study_found_by_the_search_is_a_trial_or_review_with_its_comparator(studies):
    rows = {r["key"]: r for r in _csv_rows()}
    assert len(rows) >= 40
    for key, row in rows.items():
        assert row["compared_with"], key
        assert row["kind"], key
    kinds = {row["kind"] for row in rows.values()}
    assert {"Randomised controlled trial", "Meta-analysis", "Systematic review"} <= kinds


def test_the_search_date_is_on_the_studies_page_and_in_the_books(html_built, pdf_pages):
    import unicodedata

    phrase = "Evidence searched up to"
    assert phrase in _text(article(html_page("studies")))
    assert phrase in " ".join(unicodedata.normalize("NFKC", p) for p in pdf_pages).replace("\n", " ")
    with zipfile.ZipFile(EPUB) as book:
        assert phrase in book.read("studies.xhtml").decode("utf-8")


def test_the_search_page_states_the_question_strings_date_and_a_flow_that_adds_up(html_built):
    import yaml

    data = yaml.safe_load((DOCS / "studies.yml").read_text(encoding="utf-8"))
    page = article(html_page("evidence-search"))
    text = _text(page)
    for needle in ("The question", "Evidence searched up to 4 December 2026", "PubMed", "ClinicalTrials.gov",
                   "panic disorder", "retracted"):
        assert needle in text, needle
    for string in data["search"]["strings"]["pubmed"]:
        assert " ".join(string.split()) in text.replace("  ", " "), string
    flow = {_text(tr.find_all("td")[0]): int(_text(tr.find_all("td")[1])) for tr in page.select("table tbody tr")}
    excluded = sum(v for k, v in flow.items() if k.startswith("Excluded"))
    found = flow["Records found by the searches"]
    screened = flow["Records screened (title and abstract)"]
    assert found - flow["Duplicates removed (the same study found twice)"] == screened
    assert flow["Records screened (title and abstract)"] - excluded == flow["Studies included"]


def test_no_retracted_paper_is_cited():
    import pybtex.database

    listed = {line.split("#")[0].strip().lower() for line in (DOCS / "retracted-dois.txt").read_text().splitlines()
              if line.split("#")[0].strip()}
    bib = pybtex.database.parse_file(str(DOCS / "references.bib"))
    cited = {e.fields.get("doi", "").lower() for e in bib.entries.values()}
    assert not listed & cited
