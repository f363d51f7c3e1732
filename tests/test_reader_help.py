"""Help for readers on every page: crisis help within one tap, feedback, the accessibility statement.

- Crisis help: every page opens with a "Help in a crisis" link to the crisis box at its end
  (docs/_snippets/disclaimer.md, id "crisis-help"), the sidebar has one too, and the box has tap-to-call
  and text links and direct links to the helplines, each beside its citation. The PDF has the numbers on
  the back of its title page, the EPUB near the top of its first page. On a phone the link is on the first
  screen, and tapping it (or the sidebar's) brings the box into view.
- Feedback: every page ends with "Report a problem with this page", the repository's issue form with the
  page's source path filled in.
- The accessibility statement is in the site, the PDF and the EPUB; the issue forms are valid.
- axe finds nothing with the menu open on a phone, light and dark (the desktop's sidebar is always open,
  and test_browser.py checks every page there), and the download links look like links.
"""

import re
import subprocess
import urllib.parse
import zipfile

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ALL_PAGES, DOCS, EPUB, PHONE, ROOT, SITE_URL, VENV_BIN, html_page

REPOSITORY_URL = re.search(r'^REPOSITORY_URL = "(.*)"', (ROOT / "conf.py").read_text(), re.MULTILINE).group(1)
CRISIS_SNIPPET = (DOCS / "_snippets" / "crisis-help.md").read_text(encoding="utf-8")
ISSUE_FORMS = ROOT / ".github" / "ISSUE_TEMPLATE"

# What the crisis box must offer: tap-to-call and text links, and each helpline's own page, with the
# bibliography entry cited beside it.
PHONE_LINKS = {"tel:988", "sms:988", "tel:116123"}
HELPLINES = {"samhsa988": "https://988lifeline.org/",
             "samaritans": "https://www.samaritans.org/how-we-can-help/contact-samaritan/",
             "findahelpline": "https://findahelpline.com/"}


# -- Crisis help in the built pages ------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_PAGES)
def test_page_opens_with_a_crisis_link_to_the_crisis_box(built, name):
    soup = html_page(name)
    article = soup.select_one("article[role=main]")
    first = article.find(True)
    assert first is not None and "crisis-link" in first.get("class", []), \
        f"{name}: the article does not open with the crisis link but with {str(first)[:80]}"
    assert first.a["href"] == "#crisis-help" and "Help in a crisis" in first.a.get_text()
    box = soup.find(id="crisis-help")
    assert box is not None and "disclaimer" in box["class"], f"{name}: #crisis-help is not the crisis box"
    assert len(soup.select("#crisis-help")) == 1


@pytest.mark.parametrize("name", ALL_PAGES)
def test_sidebar_offers_help_in_a_crisis(built, name):
    link = html_page(name).select_one(".sidebar-drawer a.sidebar-crisis-link")
    assert link is not None and link["href"] == "#crisis-help"


def test_pages_without_a_crisis_box_send_the_sidebar_link_to_the_home_page(built):
    soup = html_page("search")
    assert soup.find(id="crisis-help") is None
    assert soup.select_one("a.sidebar-crisis-link")["href"] == "index.html#crisis-help"


@pytest.mark.parametrize("name", ALL_PAGES)
def test_crisis_box_has_tap_to_call_links_and_the_helplines_own_pages(built, name):
    box = html_page(name).find(id="crisis-help")
    hrefs = {a["href"] for a in box.select("a[href]")}
    assert PHONE_LINKS <= hrefs, f"{name}: missing {PHONE_LINKS - hrefs}"
    assert set(HELPLINES.values()) <= hrefs, f"{name}: missing {set(HELPLINES.values()) - hrefs}"
    # Each helpline link sits in the same list item as a citation of its source.
    for url in HELPLINES.values():
        item = box.select_one(f'a[href="{url}"]').find_parent("li")
        cite = item.select_one(".bibtex-citation a[href]")
        assert cite and re.match(r"(references\.html)?#", cite["href"]), f"{name}: {url} uncited"
    assert "emergency" in box.get_text()


@pytest.mark.fast
def test_crisis_snippet_cites_each_helpline():
    for key in HELPLINES:
        assert f"{{cite:p}}`{key}`" in CRISIS_SNIPPET, key


# -- Crisis help in the PDF and the EPUB ---------------------------------------------------------------


def _pdf_links(page):
    uris = set()
    for annot in page.obj.get("/Annots") or []:
        action = annot.get("/A")
        if action is not None and action.get("/S") == "/URI":
            uris.add(str(action["/URI"]))
    return uris


def test_pdf_first_pages_carry_the_crisis_numbers(pdf, pdf_pages):
    first = pdf.pages[:3]
    text = " ".join(pdf_pages[:3])
    assert "988" in text and "116 123" in text, "crisis numbers not on the PDF's first three pages"
    links = set().union(*(_pdf_links(p) for p in first))
    assert PHONE_LINKS <= links, f"missing tap-to-call links: {PHONE_LINKS - links}"
    assert set(HELPLINES.values()) <= links


def test_pdf_crisis_page_says_what_the_snippet_says(pdf):
    """The page after the title page (the crisis box, as on every web page: docs/_ext/handbook/pdf.py) has
    every number and link of the snippet."""
    snippet_links = set(re.findall(r"\]\(((?:tel|sms|https):[^)]+)\)", CRISIS_SNIPPET))
    assert snippet_links <= _pdf_links(pdf.pages[1]), snippet_links - _pdf_links(pdf.pages[1])


def _epub_spine():
    with zipfile.ZipFile(EPUB) as book:
        opf = book.read("content.opf").decode()
        manifest = dict(re.findall(r'<item id="([^"]+)" href="([^"]+)"', opf))
        spine = [manifest[i] for i in re.findall(r'<itemref idref="([^"]+)"', opf)]
        return spine, {name: book.read(name).decode() for name in spine}


def test_epub_first_page_opens_with_crisis_help(built):
    spine, pages = _epub_spine()
    first = pages[spine[0]]
    soup = BeautifulSoup(first, "html.parser")
    box = soup.select_one(".crisis-first")
    assert box is not None, f"{spine[0]}: no crisis help near the top"
    hrefs = {a["href"] for a in box.select("a[href]")}
    # epubcheck does not accept sms: links, so the EPUB says "text 988" without one (docs/_templates/page.html).
    assert PHONE_LINKS - {"sms:988"} <= hrefs and set(HELPLINES.values()) <= hrefs
    assert "text 988" in box.get_text()
    # Near the top: right after the page's Key points box.
    previous = box.find_previous_sibling(True)
    assert previous is not None and "key-points" in previous.get("class", []), str(previous)[:200]


# -- Feedback -------------------------------------------------------------------------------------------


def _form_field_ids(form):
    data = yaml.safe_load((ISSUE_FORMS / form).read_text(encoding="utf-8"))
    return {item.get("id") for item in data["body"]}


FEEDBACK_EMAIL = re.search(r'^FEEDBACK_EMAIL = "(.*)"', (ROOT / "conf.py").read_text(), re.MULTILINE).group(1)
VERSION = (ROOT / "VERSION").read_text().strip()


@pytest.mark.parametrize("name", ALL_PAGES)
def test_every_page_links_to_the_issue_form_with_its_address_and_edition(built, name):
    link = html_page(name).select_one("article a.report-problem")
    assert link is not None and link.get_text(strip=True) == "Report a problem with this page"
    url = urllib.parse.urlsplit(link["href"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{REPOSITORY_URL}/issues/new"
    query = urllib.parse.parse_qs(url.query)
    form = query["template"][0]
    assert (ISSUE_FORMS / form).is_file(), f"no issue form {form}"
    fields = set(query) - {"template", "title", "labels", "assignees"}
    assert fields <= _form_field_ids(form), f"{name}: prefilled fields {fields} not in {form}"
    assert query["page"] == [f"{SITE_URL}{name}.html"], "the public address, not the source path"
    assert query["edition"] == [VERSION]
    assert "section=" in url.query, "an empty section field, for the script to fill in"


@pytest.mark.parametrize("name", ["index", "benefits-and-risks", "glossary"])
def test_a_report_by_email_is_offered_only_to_a_confirmed_address(built, name):
    """FEEDBACK_EMAIL in conf.py stays empty until the editors confirm a mailbox; then every page offers it."""
    link = html_page(name).select_one("article a.report-email")
    about = html_page("about").get_text(" ").lower()
    if not FEEDBACK_EMAIL:
        assert link is None and "by email" not in about
        return
    assert link is not None
    url = urllib.parse.urlsplit(link["href"])
    assert url.scheme == "mailto" and url.path == FEEDBACK_EMAIL
    query = urllib.parse.parse_qs(url.query)
    assert "Problem" in query["subject"][0]
    body = query["body"][0]
    assert f"Page: {SITE_URL}{name}.html" in body and f"Edition: {VERSION}" in body and "Section: " in body
    assert "personal medical details" in body


@pytest.mark.fast
def test_issue_forms_are_valid_and_have_a_page_field():
    forms = sorted(p for p in ISSUE_FORMS.glob("*.yml") if p.name != "config.yml")
    result = subprocess.run([str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-issue-forms",
                             *map(str, forms)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for form in ("content-error.yml", "accessibility.yml"):
        assert "page" in _form_field_ids(form), form


# -- Accessibility statement -------------------------------------------------------------------------------


def test_accessibility_statement_is_in_the_site(built):
    soup = html_page("accessibility")
    body = soup.select_one("article[role=main]").get_text(" ")
    for words in ("WCAG", "2.2", "AA", "axe", "dark", "phone", "keyboard", "Lighthouse", "tagged PDF"):
        assert words in body, f"the statement does not mention {words!r}"
    form = soup.select_one(f'article a[href="{REPOSITORY_URL}/issues/new?template=accessibility.yml"]')
    assert form is not None, "no link to the accessibility barrier form"
    assert (ISSUE_FORMS / "accessibility.yml").is_file()
    nav = {a["href"] for a in html_page("index").select(".sidebar-tree a[href]")}
    assert "accessibility.html" in nav


def test_accessibility_statement_is_in_the_pdf_and_the_epub(pdf_pages):
    text = " ".join(pdf_pages)
    assert "Accessibility statement" in text and "WCAG 2.2" in text
    spine, pages = _epub_spine()
    assert "accessibility.xhtml" in spine and "WCAG 2.2" in pages["accessibility.xhtml"]


# -- In a real browser (the session's server and Chromium: `site` and `browser` in conftest.py) -------------


IN_VIEW = """sel => {
    const r = document.querySelector(sel).getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.top < window.innerHeight;
}"""


def _in_view(page, selector):
    return page.evaluate(IN_VIEW, selector)


def _comes_into_view(page, selector):
    """True once SELECTOR is in the viewport (the page scrolls smoothly), False after 3 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(IN_VIEW, arg=selector, timeout=3000)
    except PlaywrightTimeout:
        return False
    return True


# The landing page, the longest pages, and the accessibility statement.
PHONE_PAGES = ["index", "benefits-and-risks", "glossary", "accessibility"]


@pytest.mark.browser
@pytest.mark.parametrize("name", PHONE_PAGES)
def test_on_a_phone_the_crisis_link_is_on_the_first_screen_and_one_tap_away(phone, site, name):
    page = phone
    page.goto(f"{site}{name}.html")
    link = page.locator(".crisis-link a")
    box = link.bounding_box()
    print(f"{name}: crisis link at {box['y']:.0f}-{box['y'] + box['height']:.0f} px from the top "
          f"of a {PHONE['height']} px screen, {box['height']:.0f} px high")
    assert link.is_visible() and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    assert box["height"] >= 24, "tap target under 24 px (WCAG 2.2, 2.5.8)"
    assert not _in_view(page, "#crisis-help"), "the crisis box is already in view: nothing to test"
    link.tap()
    page.wait_for_function("location.hash === '#crisis-help'")
    assert _comes_into_view(page, "#crisis-help")
    assert page.locator('#crisis-help a[href="tel:988"]').is_visible()


@pytest.mark.browser
def test_on_a_phone_the_menu_leads_to_the_crisis_box(phone, site):
    page = phone
    page.goto(f"{site}mechanism.html")
    page.locator(".mobile-header .nav-overlay-icon").tap()
    link = page.locator(".sidebar-drawer a.sidebar-crisis-link")
    link.wait_for(state="visible")
    box = link.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], "not on the menu's first screen"
    link.tap()
    page.wait_for_function("location.hash === '#crisis-help'")
    assert not page.locator("#__navigation").is_checked(), "the menu stays open over the crisis box"
    assert _comes_into_view(page, "#crisis-help")
    page.wait_for_timeout(500)  # the drawer slides away to the left
    box = link.bounding_box()
    assert box["x"] + box["width"] <= 0, "the menu still covers the page"


def _contrast(fg, bg):
    def luminance(rgb):
        def channel(c):
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rgb(css):
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_download_links_look_like_links(page, site, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{site}index.html")
    links = page.locator(".sidebar-downloads a")
    assert links.count() == 2
    for i in range(2):
        style = links.nth(i).evaluate("""a => {
            const s = getComputedStyle(a);
            let e = a, bg = 'rgba(0, 0, 0, 0)';
            while (e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                bg = getComputedStyle(e).backgroundColor; e = e.parentElement;
            }
            const text = getComputedStyle(document.querySelector('.sidebar-tree .caption-text')).color;
            return {line: s.textDecorationLine, color: s.color, bg, text};
        }""")
        assert "underline" in style["line"], style
        assert _contrast(_rgb(style["color"]), _rgb(style["bg"])) >= 4.5, style
        assert _rgb(style["color"]) != _rgb(style["text"]), "link colour same as the headings' text"


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_with_the_menu_open_on_a_phone(phone, site, scheme):
    """axe on the landing page with the phone's menu opened. (On a desktop the sidebar is always in view:
    test_browser.py's axe tests of every page cover it.)"""
    page = phone
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{site}index.html")
    page.locator(".mobile-header .nav-overlay-icon").tap()
    page.locator(".sidebar-drawer a.sidebar-crisis-link").wait_for(state="visible")
    page.wait_for_timeout(300)  # the drawer has slid in
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert not results.response["violations"], results.generate_report()


# -- Contributors (issue 20) ----------------------------------------------------------------------------


@pytest.mark.fast
def test_the_pull_request_template_asks_what_contributing_says_it_asks():
    template = (ROOT / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for asked in ["conflicts of interest", "CHANGELOG.md", "second reader", "last_reviewed", "make test",
                  "evidence"]:
        assert asked.lower() in template.lower(), f"the template does not ask about {asked!r}"
        assert asked.lower() in contributing.lower(), f"CONTRIBUTING.md does not mention {asked!r}"


@pytest.mark.fast
@pytest.mark.parametrize("recipe", ["Add a source", "Add a study", "Add a question to Common questions",
                                    "Add a glossary term", "Fix a sentence"])
def test_contributing_has_a_recipe_for_each_common_contribution(recipe):
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert re.search(rf"^### {re.escape(recipe)}$", contributing, re.MULTILINE), recipe


@pytest.mark.fast
def test_the_issue_chooser_offers_a_place_for_questions():
    config = yaml.safe_load((ISSUE_FORMS / "config.yml").read_text(encoding="utf-8"))
    assert config["blank_issues_enabled"] is False
    names = " ".join(link["name"] for link in config.get("contact_links", [])).lower()
    assert "question" in names and all(link["url"].startswith("https://") for link in config["contact_links"])
