"""Readers' experience in a real browser (Debian's Chromium, headless, driven by Playwright).

The built site is served on 127.0.0.1 under its public base path. Covers search, accessibility (axe-core),
keyboard access, privacy (no request leaves the site), console errors, the 404 page, page weight, the
light/dark toggle and the print view.
"""

import functools
import pathlib

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import ALL_PAGES, HTML

pytestmark = pytest.mark.browser

# What readers might type, and the page that should answer it (in the top three results).
QUERIES = {
    "anxiety": ["anxiety", "anxious", "panic attack", "worry", "phobia", "generalised anxiety disorder",
                "generalized anxiety", "social anxiety", "symptoms", "stigma", "SSRI"],
    "ketamine-history": ["history", "anesthetic", "anaesthesia", "phencyclidine", "Parke-Davis",
                         "Schedule III", "1962", "timeline", "Spravato", "esketamine"],
    "mechanism": ["glutamate", "NMDA receptor", "synaptic plasticity", "neuroplasticity", "BDNF", "mTOR",
                  "how ketamine works", "AMPA"],
    "benefits-and-risks": ["side effects", "side effect", "dissociation", "blood pressure", "nausea",
                           "bladder", "cystitis", "misuse", "cost"],
    "patient-stories": ["story", "stories", "experience", "testimonial", "anecdote"],
    "future-research": ["future", "research", "clinical trials", "dosing", "psychotherapy",
                        "long-term safety"],
    "glossary": ["glossary", "definition"],
    "summary": ["questions", "takeaways"],
}

PAGE_BUDGET_BYTES = 130 * 1024
PAGE_BUDGET_REQUESTS = 10
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def results_shown(page):
    """The result pages listed under #search-results, in rank order, once the search has finished."""
    page.wait_for_function("document.querySelector('#search-results p.search-summary')?.innerText")
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    ranked = []
    for href in hrefs:
        name = href.split("/")[-1].split(".html")[0]
        if name not in ranked:
            ranked.append(name)
    return ranked


@pytest.fixture(scope="session")
def search_page(browser, site):
    """The site's search page, loaded once with its index, for every query."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site}search.html")
    page.wait_for_function("Search.hasIndex()")
    yield page
    context.close()


def search(page, query):
    """Run QUERY through the search page's own code, as the page does when opened with ?q=QUERY;
    return the result pages in rank order."""
    page.evaluate("q => { document.getElementById('search-results').replaceChildren(); "
                  "Search.performSearch(q); }", query)
    return results_shown(page)


@pytest.mark.parametrize("expected,query", [(p, q) for p, qs in QUERIES.items() for q in qs])
def test_search_puts_the_answering_page_in_the_top_three(search_page, expected, query):
    ranked = search(search_page, query)
    assert expected in ranked[:3], f"{query!r}: top results {ranked[:5]}"


def test_search_box_query_in_the_address_shows_results(page, site):
    """The search box sends readers to search.html?q=...: that page runs the search by itself."""
    page.goto(f"{site}search.html?q=NMDA receptor")
    assert "mechanism" in results_shown(page)[:3]


def test_search_works_from_files_opened_locally(page, built):
    url = (HTML / "search.html").as_uri() + "?q=glutamate"
    page.goto(url)
    page.wait_for_selector("#search-results p.search-summary", timeout=10000)
    assert page.locator("#search-results ul.search li").count() > 0


@pytest.fixture(scope="session")
def variant(browser):
    """variant(width, scheme) -> one page per screen width and colour scheme, shared by every test."""

    @functools.cache
    def variant(width, scheme):
        w, h = WIDTHS[width]
        return browser.new_context(viewport={"width": w, "height": h}, color_scheme=scheme).new_page()

    return variant


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ALL_PAGES)
def test_axe_finds_no_violations(variant, site, name, width, scheme):
    page = variant(width, scheme)
    page.goto(f"{site}{name}.html")
    results = Axe().run(page)
    violations = results.response["violations"]
    assert not violations, results.generate_report()


def test_keyboard_reaches_search_navigation_and_pdf(page, site):
    page.goto(f"{site}anxiety.html")
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("""() => {
            const e = document.activeElement;
            if (e.matches('input[name=q]')) return 'search';
            if (e.closest('.sidebar-tree')) return 'navigation';
            if ((e.getAttribute('href') || '').endsWith('.pdf')) return 'pdf';
            return 'other';
        }"""))
    assert {"search", "navigation", "pdf"} <= reached, reached


@pytest.fixture(scope="session")
def visits(browser, site):
    """What opening each page showed, by page: every request, console errors, images without alt text.

    Every page opens at once, each in a fresh context, and is read once the network has been idle for
    half a second (Playwright's "networkidle"), so late requests are caught too. One after the other,
    the pages spent a third of their time in that wait (18 s against 11 s for all of them)."""
    opened = {}
    for name in ALL_PAGES:
        context = browser.new_context()
        page = context.new_page()
        seen = {"requests": [], "errors": []}
        page.on("request", lambda r, seen=seen: seen["requests"].append(r.url))
        page.on("console", lambda m, seen=seen: seen["errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, seen=seen: seen["errors"].append(str(e)))
        page.goto(f"{site}{name}.html", wait_until="commit")
        opened[name] = (context, page, seen)
    for context, page, seen in opened.values():
        page.wait_for_load_state("networkidle")
        seen["images without alt"] = page.eval_on_selector_all(
            "article img", "els => els.filter(e => !(e.getAttribute('alt') || '').trim()).map(e => e.src)")
        context.close()
    return {name: seen for name, (_, _, seen) in opened.items()}


@pytest.mark.parametrize("name", ALL_PAGES)
def test_images_have_text_alternatives(visits, name):
    assert not visits[name]["images without alt"]


@pytest.mark.parametrize("name", ALL_PAGES)
def test_no_request_leaves_the_site_and_console_is_clean(visits, site, name):
    seen = visits[name]
    outside = [u for u in seen["requests"] if not u.startswith(site) and not u.startswith("data:")]
    assert not outside, outside
    assert not seen["errors"], seen["errors"]


@pytest.mark.parametrize("name", ["index", "benefits-and-risks", "mechanism", "ketamine-history"])
def test_first_view_is_light(page, site, name):
    sizes = []

    def record(response):
        sizes.append((response.url, len(response.body())))

    page.on("response", record)
    page.goto(f"{site}{name}.html", wait_until="networkidle")
    total = sum(size for _, size in sizes)
    assert len(sizes) <= PAGE_BUDGET_REQUESTS, sizes
    assert total <= PAGE_BUDGET_BYTES, f"{total} bytes: {sizes}"


def test_missing_page_gets_a_helpful_404(page, site):
    response = page.goto(f"{site}no-such-page.html")
    assert response.status == 404
    assert page.locator("form[action$='search.html'] input[name=q]").count() == 1
    home = page.locator("article a", has_text="home page")
    home.click()
    page.wait_for_load_state()
    assert page.url.rstrip("/").endswith(("index.html", site.rstrip("/").split("/")[-1]))
    assert "Ketamine" in page.title()


def test_theme_toggle_switches_light_and_dark(page, site):
    page.goto(f"{site}index.html")
    seen = set()
    for _ in range(3):
        page.locator(".theme-toggle >> visible=true").first.click()
        seen.add(page.evaluate("document.body.dataset.theme"))
    assert {"light", "dark"} <= seen, seen


def test_print_view_hides_navigation(page, site, tmp_path):
    page.goto(f"{site}mechanism.html")
    page.emulate_media(media="print")
    assert not page.locator(".sidebar-drawer").is_visible()
    assert not page.locator(".toc-drawer").is_visible()
    assert page.locator("article h1").is_visible()
    pdf = pathlib.Path(tmp_path / "page.pdf")
    page.pdf(path=str(pdf))
    assert pdf.stat().st_size > 10000
