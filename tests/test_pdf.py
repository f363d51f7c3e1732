"""PDF: a sane book with a title page, contents, bookmarks, working internal links and every page."""

import re
import subprocess

import pytest
from conftest import ALL_PAGES, PDF, TOPIC_PAGES, front_matter, outline_titles

# Words each topic's chapter must contain: if a page went missing or rendered empty, they vanish.
KEY_TERMS = {
    "anxiety": ["generalised anxiety disorder", "panic", "social anxiety"],
    "ketamine-history": ["1962", "anaesthetic", "Schedule III"],
    "mechanism": ["glutamate", "NMDA", "synaptic plasticity"],
    "benefits-and-risks": ["dissociation", "blood pressure", "bladder"],
    "safety": ["breathing", "blood pressure", "pregnancy", "benzodiazepines"],
    "patient-stories": ["illustrative", "monitoring"],
    "future-research": ["long-term", "esketamine"],
}


@pytest.fixture(scope="module")
def reader(pdf):
    return pdf


@pytest.fixture(scope="module")
def text(pdf_pages):
    return "\n".join(pdf_pages)


def _normalise(s):
    s = s.replace("\u2010", "-").replace("\u00ad", "").replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", s).lower()


def test_page_count_is_sane(reader):
    assert 25 <= len(reader.pages) <= 150, len(reader.pages)


def test_title_page_and_contents(pdf_pages):
    first = pdf_pages[0]
    assert "The Ketamine and Anxiety Handbook" in first
    assert any("contents" in pdf_pages[i].lower() for i in range(1, 4))


def test_outline_has_every_page(reader):
    """A bookmark for each page, as its chapter ("Chapter 3 How ketamine may work", "Appendix A What changed")."""
    titles = {re.sub(r"^(chapter \d+|appendix [a-z]) ", "", _normalise(t)) for t in outline_titles(reader)}
    missing = [p for p in ALL_PAGES if p != "index" and _normalise(front_matter(p)["title"]) not in titles]
    assert not missing, f"no bookmark for: {missing}"
    assert "references" in titles and "contents" in titles


def test_internal_links_point_at_existing_destinations(reader):
    import pikepdf

    named = {name for name, _ in pikepdf.NameTree(reader.Root.Names.Dests).items()}
    internal = 0
    for page in reader.pages:
        for annot in page.obj.get("/Annots") or []:
            if annot.get("/Subtype") != "/Link":
                continue
            action, dest = annot.get("/A"), annot.get("/Dest")
            if action is not None and action.get("/S") == "/GoTo":
                dest = action["/D"]
            if dest is None:
                continue
            internal += 1
            if isinstance(dest, pikepdf.String):
                assert str(dest) in named, f"link to missing destination {dest}"
    assert internal >= 100, f"only {internal} internal links"


def test_bibliography_is_in_the_pdf(text):
    assert "10.1177/0269881117705089" in text.replace("\n", "")  # Glue et al. 2017


@pytest.mark.parametrize("page", TOPIC_PAGES)
def test_each_topic_key_terms_are_in_the_text(text, page):
    flat = _normalise(text)
    missing = [t for t in KEY_TERMS[page] if _normalise(t) not in flat]
    assert not missing, f"{page}: {missing} not found in the PDF text"
    assert _normalise(front_matter(page)["title"]) in flat


def test_no_page_is_blank(pdf_pages):
    blank = [i + 1 for i, text in enumerate(pdf_pages) if len(text.strip()) < 40]
    assert not blank, f"pages with (almost) no text: {blank}"


# Where text may be: inside the text column (A4 less 22 mm each side: tables never run off the page), and,
# from top to bottom, where an A4 page printed at full size on US Letter (792 pt high) keeps it, whether the
# printer centres the page or starts at its top, with a 6 mm (18 pt) edge a printer cannot print on.
A4_WIDTH, A4_HEIGHT, LETTER_HEIGHT, EDGE = 595.28, 841.89, 792.0, 18.0
TEXT_LEFT, TEXT_RIGHT = 22 / 25.4 * 72, A4_WIDTH - 22 / 25.4 * 72
TOP, BOTTOM = (A4_HEIGHT - LETTER_HEIGHT) / 2 + EDGE, LETTER_HEIGHT - EDGE


def test_every_word_is_on_the_text_column_and_prints_on_a4_and_letter(built):
    bbox = subprocess.run(["pdftotext", "-bbox", str(PDF), "-"], capture_output=True, text=True, check=True).stdout
    outside = []
    for number, page in enumerate(bbox.split("<page ")[1:], start=1):
        assert 'width="595.' in page[:80] and 'height="841.' in page[:80], f"page {number} is not A4"
        for match in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
                                 page):
            x0, y0, x1, y1 = map(float, match.groups()[:4])
            if x0 < TEXT_LEFT - 1 or x1 > TEXT_RIGHT + 1 or y0 < TOP or y1 > BOTTOM:
                outside.append(f"page {number}: {match.group(5)!r} at x {x0:.0f}-{x1:.0f}, y {y0:.0f}-{y1:.0f}")
    assert not outside, f"{len(outside)} words off the text column or off a Letter sheet: {outside[:10]}"


def test_pages_render_as_images(pdf_pages, tmp_path):
    """pdftoppm renders every page without complaint (a broken page fails here)."""
    result = subprocess.run(["pdftoppm", "-r", "20", "-png", str(PDF), str(tmp_path / "p")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    assert len(list(tmp_path.glob("p*.png"))) == len(pdf_pages)
