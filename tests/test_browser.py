"""Readers' experience in a real browser (Debian's Chromium, headless, driven by Playwright).

The built site is served on 127.0.0.1 under its public base path. Covers search, accessibility (axe-core),
keyboard access, privacy (no request leaves the site), console errors, the 404 page, page weight, the
light/dark toggle and the print view.
"""

import pathlib
import re

import pytest
import tinycss2
from axe_playwright_python.base import AxeResults
from browser import ONCE_PER_STYLE, STYLES, STYLES_FOLLOWS_AXE, open_all, pages, ranked
from conftest import ALL_PAGES, DOCS, HTML

pytestmark = pytest.mark.browser

# What readers might type, and the page that should answer it (in the top three results).
QUERIES = {
    "anxiety": ["anxiety", "anxious", "panic attack", "worry", "phobia", "generalised anxiety disorder",
                "generalized anxiety", "social anxiety", "symptoms", "stigma"],
    # The options page sets each treatment out; "SSRI" lands on its medicines section.
    "options": ["SSRI", "alternatives", "other treatments", "what else can I try", "talking therapy"],
    "ketamine-history": ["history", "anesthetic", "anaesthesia", "phencyclidine", "Parke-Davis",
                         "Schedule III", "1962", "timeline", "Spravato", "esketamine"],
    "mechanism": ["glutamate", "NMDA receptor", "synaptic plasticity", "neuroplasticity", "BDNF", "mTOR",
                  "how ketamine works", "AMPA"],
    "benefits-and-risks": ["side effects", "side effect", "dissociation", "blood pressure", "nausea",
                           "bladder", "cystitis", "misuse", "cost"],
    "safety": ["who should not take ketamine", "can I drive", "breastfeeding", "heart problems", "liver",
               "teenagers", "older people", "suicidal thoughts"],
    "patient-stories": ["story", "stories", "experience", "testimonial", "anecdote"],
    "future-research": ["future", "research", "clinical trials", "dosing", "psychotherapy",
                        "long-term safety"],
    "glossary": ["glossary", "definition"],
    "summary": ["questions", "takeaways"],
}

PAGE_BUDGET_BYTES = 130 * 1024
PAGE_BUDGET_REQUESTS = 10
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SCHEMES = ["light", "dark"]
# The rules whose result can change with the colours.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
OUTSIDE_ARTICLE = {"exclude": [["article"]]}  # the header, the menu, the footer
# The four views axe checks each page in: {(width, scheme): ((pixels wide, high), scheme[, axe's runs])}, each
# run [context, only these rules, all but these rules[, ONCE_PER_STYLE]] (browser.open_all).
# - Light on a desktop: every rule on the whole page.
# - Dark on a desktop: the colour rules on the whole page, since dark mode changes colours and nothing else.
# - On a phone: what can differ with the width. In light, every rule but the colour rules on the whole page
#   (the layout, and so what shows, differs), and the colour rules outside the article (the phone's header
#   and menu); in dark, the colour rules outside the article. No colour in the article depends on the
#   screen's width, so the desktop's views have checked the article's colours.
# The stylesheets are held to both conditions (test_dark_mode_changes_colours_and_no_colour_depends_on_the_width).
# The colour rules run ONCE_PER_STYLE (tests/browser.py, STYLES): in each view, on the text whose colours,
# size and backgrounds no earlier page showed, and on text something positioned could be drawn under.
# A fault in a style many pages share is reported on the first page that has it.
# Colour contrast is most of axe's time: these views cost about a quarter of four full views (ARCHITECTURE.md).
VIEWS = {
    ("desktop", "light"): (WIDTHS["desktop"], "light", [[None, None, COLOUR_RULES],
                                                         [None, COLOUR_RULES, None, ONCE_PER_STYLE]]),
    ("desktop", "dark"): (WIDTHS["desktop"], "dark", [[None, COLOUR_RULES, None, ONCE_PER_STYLE]]),
    ("phone", "light"): (WIDTHS["phone"], "light", [[None, None, COLOUR_RULES],
                                                     [OUTSIDE_ARTICLE, COLOUR_RULES, None, ONCE_PER_STYLE]]),
    ("phone", "dark"): (WIDTHS["phone"], "dark", [[OUTSIDE_ARTICLE, COLOUR_RULES, None, ONCE_PER_STYLE]]),
}


@pytest.fixture(scope="session")
def opened(browser, site):
    """What every page showed when opened (requests, console errors, images without alt text), and axe's
    violations in each view: both screen widths, light and dark (browser.open_all)."""
    return open_all(browser, {name: f"{site}{name}.html" for name in ALL_PAGES}, VIEWS)


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


@pytest.mark.parametrize("expected,query", [(p, q) for p, qs in QUERIES.items() for q in qs])
def test_search_puts_the_answering_page_in_the_top_three(search_page, expected, query):
    """The ranking the search page shows (tests/test_search.py checks that it lists exactly these)."""
    top = pages(ranked(search_page, query))
    assert expected in top[:3], f"{query!r}: top results {top[:5]}"


def test_search_box_query_in_the_address_shows_results(page, site):
    """The search box sends readers to search.html?q=...: that page runs the search by itself."""
    page.goto(f"{site}search.html?q=NMDA receptor")
    assert "mechanism" in results_shown(page)[:3]


def test_search_works_from_files_opened_locally(page, built):
    url = (HTML / "search.html").as_uri() + "?q=glutamate"
    page.goto(url)
    page.wait_for_selector("#search-results p.search-summary", timeout=10000)
    assert page.locator("#search-results ul.search li").count() > 0


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ALL_PAGES)
def test_axe_finds_no_violations(opened, name, width, scheme):
    violations = opened[name]["violations"][width, scheme]
    assert not violations, AxeResults({"violations": violations}).generate_report()


# Properties that set a colour. Dark mode may set these and nothing else; no rule for a screen width may set them.
COLOUR_PROPERTY = re.compile(r"(^|-)colou?r$|^background(-image)?$|^(fill|stroke|opacity|filter|text-shadow)$")
STYLESHEETS = sorted((DOCS / "_static").glob("*.css"))


def _css_rules(nodes, conditions=()):
    """(the @media conditions a rule is under, its selector, the properties it sets), for every rule."""
    for node in nodes:
        if node.type == "at-rule" and node.lower_at_keyword == "media":
            inner = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
            yield from _css_rules(inner, (*conditions, tinycss2.serialize(node.prelude).strip()))
        elif node.type == "qualified-rule":
            declarations = tinycss2.parse_declaration_list(node.content, skip_comments=True, skip_whitespace=True)
            yield conditions, tinycss2.serialize(node.prelude).strip(), [
                d.lower_name for d in declarations if d.type == "declaration"]


def css_faults(css):
    """What in CSS would let a colour fault hide from VIEWS: a colour set for some screen widths only, or
    dark mode changing more than colours."""
    faults = []
    for conditions, selector, properties in _css_rules(tinycss2.parse_stylesheet(css, skip_comments=True)):
        colours = [p for p in properties if COLOUR_PROPERTY.search(p)]
        if colours and any("width" in c for c in conditions):
            faults.append(f"{selector}: {', '.join(colours)} set for a screen width ({' and '.join(conditions)})")
        if any("dark" in c for c in conditions) or 'data-theme="dark"' in selector:
            others = [p for p in properties if not COLOUR_PROPERTY.search(p)]
            if others:
                faults.append(f"{selector}: dark mode sets {', '.join(others)}, not only colours")
    return faults


@pytest.mark.fast
def test_dark_mode_changes_colours_and_no_colour_depends_on_the_width():
    """What lets the dark views in VIEWS check less than the light ones: the handbook's stylesheets set no
    colour for a screen width, and dark mode sets colours only. If a page needs either, give the dark views
    every rule on the whole page again (and make test takes longer)."""
    assert STYLESHEETS, "no stylesheets found"
    faults = [f"{css.name}: {fault}" for css in STYLESHEETS for fault in css_faults(css.read_text(encoding="utf-8"))]
    assert not faults, "\n".join(faults)


@pytest.mark.fast
@pytest.mark.parametrize("css,fault", [
    ("@media (max-width: 40em) { td { background: #eee } }", "td: background set for a screen width"),
    ("@media screen and (min-width: 63em) { a.x { color: red } }", "a.x: color set for a screen width"),
    ("@media (prefers-color-scheme: dark) { .box { display: none } }", ".box: dark mode sets display"),
    ('body[data-theme="dark"] .box { border-left-color: red; padding: 0 }', "dark mode sets padding"),
])
def test_the_stylesheet_check_finds_each_fault(css, fault):
    assert any(fault in found for found in css_faults(css)), css_faults(css)
    assert not css_faults(".box { color: red; display: none } @media (prefers-color-scheme: dark) "
                          "{ .box { background-color: #000; border-left-color: red } }")


# A page with one of each fault the checks above look for, each colour-contrast fault where a view in VIEWS
# looks for it: in the article in light or dark (or on a desktop only), outside it on a phone in light or dark.
# {n} tells the pages apart, their faulty colours too (a style is checked once: ONCE_PER_STYLE).
FAULTY_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faulty {n}</title><style>
@media (prefers-color-scheme: light) {{ .light-only {{ color: #dddd{n}{n}; background: #fff; }} }}
@media (prefers-color-scheme: dark) {{ .dark-only {{ color: #2222{n}{n}; background: #000; }} }}
@media (min-width: 601px) {{ .desktop-only {{ color: #bbbb{n}{n}; background: #fff; }} }}
@media (max-width: 600px) and (prefers-color-scheme: light) {{.phone-light {{ color: #dddd{n}{n}; background: #fff }} }}
@media (max-width: 600px) and (prefers-color-scheme: dark) {{.phone-dark {{ color: #2222{n}{n}; background: #000 }} }}
</style></head><body><main><header><p id="phone-light-{n}" class="phone-light">Menu</p>
<p id="phone-dark-{n}" class="phone-dark">Search</p></header><article><h1>Faulty {n}</h1>
<p id="light-{n}" class="light-only">Hard to read in light mode.</p>
<p id="dark-{n}" class="dark-only">Hard to read in dark mode.</p>
<p id="desktop-{n}" class="desktop-only">Hard to read on a desktop.</p>
<img src="https://tracker.invalid/pixel-{n}.png"></article></main>
<script>console.error("page {n} is faulty on purpose")</script></body></html>"""


def test_the_checks_of_every_page_see_each_fault_in_its_own_view(browser, tmp_path):
    """open_all, which the tests above rely on, finds what is wrong, on the page and in the view it is
    wrong in: three pages, so that a tab is reused and pages load while others are checked."""
    urls = {}
    for n in range(3):
        faulty = tmp_path / f"faulty-{n}.html"
        faulty.write_text(FAULTY_PAGE.format(n=n), encoding="utf-8")
        urls[n] = faulty.as_uri()
    opened = open_all(browser, urls, VIEWS)
    assert set(opened) == set(urls)
    for n, seen in opened.items():
        found = {view: {(v["id"], node["target"][0]) for v in violations for node in v["nodes"]}
                 for view, violations in seen["violations"].items()}
        expected = {("desktop", "light"): {("image-alt", "img"), ("color-contrast", f"#light-{n}"),
                                           ("color-contrast", f"#desktop-{n}")},
                    ("desktop", "dark"): {("color-contrast", f"#dark-{n}"), ("color-contrast", f"#desktop-{n}")},
                    ("phone", "light"): {("image-alt", "img"), ("color-contrast", f"#phone-light-{n}")},
                    ("phone", "dark"): {("color-contrast", f"#phone-dark-{n}")}}
        assert found == expected, n
        assert seen["images without alt"] == [f"https://tracker.invalid/pixel-{n}.png"]
        assert f"https://tracker.invalid/pixel-{n}.png" in seen["requests"]
        assert [e for e in seen["errors"] if "faulty on purpose" in e] == [f"page {n} is faulty on purpose"]


# Grey text that is easy to read on white, in a box that draws a dark backdrop axe cannot read from the style.
GREY_TEXT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Grey</title><style>
.grey {{ color: #595959; position: relative }}
.with-before::before {{ content: ""; position: absolute; inset: 0; background: #333 }}
</style></head><body><main><article><h1>Grey</h1>
<div class="{box}" style="{style}"><p class="grey">Grey text.</p></div>
</article></main></body></html>"""
BACKDROPS_NOT_IN_THE_STYLE = {
    "over a positioned ::before": {"box": "with-before", "style": "position: relative"},
    "under a background image": {"box": "", "style": "background-image: linear-gradient(#333, #444)"},
}


# ONCE_PER_STYLE against one of each way a second reader found to hide a fault behind a style seen before (26
# tried): {case: (as first seen, passing; the same style with a fault axe finds)}. Each case's colours are
# its own, so that the cases do not stand in for one another.
NO_LINE = "text-decoration: none"
HIDDEN_BEHIND_A_STYLE = {
    "a box with a dark background around the text": (
        '<div><p id="{id}" style="color: #585858">Grey text.</p></div>',
        '<div style="background: #333"><p id="{id}" style="color: #585858">Grey text.</p></div>'),
    "a positioned backdrop beside the text": (
        '<div style="position: relative"><p id="{id}" style="color: #575757; position: relative">Grey.</p></div>',
        '<div style="position: relative"><div style="position: absolute; inset: 0; background: #333"></div>'
        '<p id="{id}" style="color: #575757; position: relative">Grey.</p></div>'),
    "a background moved under the text by a negative margin": (
        '<div style="height: 60px"></div><p id="{id}" style="color: #595959">Grey text here.</p>',
        '<div style="height: 60px; background: #333"></div>'
        '<p id="{id}" style="color: #595959; margin-top: -50px">Grey text here.</p>'),
    "a see-through box with an opaque background, over another colour": (
        '<div style="background: #000; padding: 4px"><p id="{id}" style="background: #000; opacity: .5; '
        'color: #fff">Some text.</p></div>',
        '<div style="background: #fff; padding: 4px"><p id="{id}" style="background: #000; opacity: .5; '
        'color: #fff">Some text.</p></div>'),
    "one character, too short for axe to judge, seen first": (
        '<p><span id="{id}" style="color: #aaa">x</span></p>',
        '<p><span id="{id}" style="color: #aaa">Longer words</span></p>'),
    "a disabled control, which axe leaves to review, seen first": (
        '<button id="{id}" disabled style="color: #a8a8a8; background: #fff; border: 1px solid #000">Go on</button>',
        '<button id="{id}" style="color: #a8a8a8; background: #fff; border: 1px solid #000">Go on</button>'),
    "a link whose text is in a child with its own colour, seen first": (
        '<p>Running text <a id="{id}" href="#x" style="color: #a9a9a9"><span style="color: #000">the label</span>'
        '</a> more running text.</p>',
        '<p>Running text <a id="{id}" href="#x" style="color: #a9a9a9">the label</a> more running text.</p>'),
    "a text fill colour": (
        '<p id="{id}" style="color: #010101">Some text.</p>',
        '<p id="{id}" style="color: #010101; -webkit-text-fill-color: #bbb">Some text.</p>'),
    "a link with little text around it, seen first": (
        f'<p><a id="{{id}}" href="#x" style="color: #333; {NO_LINE}">a fairly long link text here</a> and x</p>',
        f'<p>Plenty of running text around <a id="{{id}}" href="#x" style="color: #333; {NO_LINE}">a fairly long '
        'link text here</a> and more running text.</p>'),
    "a link in a box of text that is inline-block": (
        f'<p>Running text <span style="color: #6a6a6a">around <a id="{{id}}" href="#x" style="color: #767676; '
        f'{NO_LINE}">the link</a> with more text</span> and more.</p>',
        f'<p>Running text <span style="display: inline-block; color: #6a6a6a">around <a id="{{id}}" href="#x" '
        f'style="color: #767676; {NO_LINE}">the link</a> with more text</span> and more.</p>'),
    "a link in italic running text, seen in upright text first": (
        f'<p style="font-style: italic">Running text <a id="{{id}}" href="#x" style="font-style: normal; '
        f'color: #343434; {NO_LINE}">link</a> more running text.</p>',
        f'<p>Running text <a id="{{id}}" href="#x" style="font-style: normal; color: #343434; {NO_LINE}">link</a> '
        'more running text.</p>'),
    "text in a shadow root, which STYLES cannot read": (
        "",
        '<div id="{id}"></div><script>document.getElementById("{id}").attachShadow({{mode: "open"}}).innerHTML = '
        '"<p style=\'color: #bcbcbc\'>In a shadow root</p>"</script>'),
}


# And a fault on both pages, in the same style: checked, and found, on the first page only.
REPEATED = '<p id="{id}" style="color: #c0c0c0">Pale text.</p>'


def test_a_fault_in_a_style_seen_before_is_still_found(browser, tmp_path):
    """Two pages: every case as first seen, then every case with its fault. The faults are all found; a fault
    repeated in the same style is found on the first page only."""
    urls = {}
    cases = [*HIDDEN_BEHIND_A_STYLE, "repeated"]
    for n, page in enumerate(["first", "faulty"]):
        sections = "".join(f'<section style="margin: 40px 0">{pair[n].format(id=f"case-{i}")}</section>'
                           for i, pair in enumerate([*HIDDEN_BEHIND_A_STYLE.values(), (REPEATED, REPEATED)]))
        (tmp_path / f"{page}.html").write_text(
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{page}</title></head><body>'
            f'<main><h1>{page}</h1>{sections}</main></body></html>', encoding="utf-8")
        urls[page] = (tmp_path / f"{page}.html").as_uri()
    view = {("desktop", "light"): (WIDTHS["desktop"], "light", [[None, COLOUR_RULES, None, ONCE_PER_STYLE]])}
    opened = open_all(browser, urls, view)
    found = {page: {cases[int(re.search(r"#case-(\d+)", str(node["target"])).group(1))]
                    for v in seen["violations"]["desktop", "light"] for node in v["nodes"]}
             for page, seen in opened.items()}
    assert found == {"first": {"repeated"}, "faulty": set(HIDDEN_BEHIND_A_STYLE)}


def test_styles_follows_the_axe_the_tests_run():
    """STYLES copies axe's test of whether a link is in running text: a new axe may have changed it."""
    from axe_playwright_python.base import AXE_SCRIPT

    version = re.search(r"axe v(\d+\.\d+)", AXE_SCRIPT[:300]).group(1)
    assert version == STYLES_FOLLOWS_AXE, (
        f"axe is now {version}: compare its isInTextBlock with the copy in tests/browser.py (STYLES), "
        "then set STYLES_FOLLOWS_AXE")


@pytest.mark.parametrize("case", BACKDROPS_NOT_IN_THE_STYLE)
def test_text_whose_backdrop_axe_cannot_see_from_its_style_is_always_checked(page, tmp_path, case):
    """Where axe cannot tell the colours from the style (it reports them as needing review), STYLES gives no
    style (null), so the text is checked on every page."""
    html = GREY_TEXT.format(**BACKDROPS_NOT_IN_THE_STYLE[case])
    (tmp_path / "grey.html").write_text(html, encoding="utf-8")
    page.goto((tmp_path / "grey.html").as_uri())
    assert page.evaluate(STYLES, None)[1:] == [None]  # the heading has a style; the grey text none


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


@pytest.mark.parametrize("name", ALL_PAGES)
def test_images_have_text_alternatives(opened, name):
    assert not opened[name]["images without alt"]


@pytest.mark.parametrize("name", ALL_PAGES)
def test_no_request_leaves_the_site_and_console_is_clean(opened, site, name):
    seen = opened[name]
    outside = [u for u in seen["requests"] if not u.startswith((site, "data:"))]
    assert not outside, outside
    assert not seen["errors"], seen["errors"]


@pytest.mark.parametrize("name", ["index", "benefits-and-risks", "mechanism", "ketamine-history"])
def test_first_view_is_light(page, site, name):
    """A first visit: the browser's cache is switched off (as DevTools' "Disable cache" does), so every
    file is fetched. What it fetched is what the browser's Resource Timing lists (the page and every
    resource, each with its size once decoded); frames, objects and workers would fetch outside that list,
    so the page may have none."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        page.goto(f"{site}{name}.html", wait_until="networkidle")
        sizes = page.evaluate("""() => performance.getEntriesByType('navigation')
            .concat(performance.getEntriesByType('resource')).map(e => [e.name, e.decodedBodySize])""")
        assert page.locator("iframe, frame, object, embed").count() == 0
    finally:
        devtools.send("Network.setCacheDisabled", {"cacheDisabled": False})
        devtools.detach()
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


# -- Phones (issue 20) -------------------------------------------------------------------------------

PHONE_WIDTHS = (320, 360, 390)
# What runs off the side: a table, code block, picture or diagram wider than its own box or past the
# window's edge (less the page's margin), and the page itself wider than the window.
OVERFLOW = """() => {
    const out = [];
    for (const el of document.querySelectorAll('main table, main pre, main .table-wrapper, main img, main svg')) {
        const box = el.getBoundingClientRect();
        if (!box.width) continue;
        if (el.scrollWidth > el.clientWidth + 1 || box.right > window.innerWidth - 4 || box.left < 4)
            out.push(`${el.tagName}.${el.className.baseVal ?? el.className} ${Math.round(box.width)} px`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth)
        out.push(`page ${document.documentElement.scrollWidth} px`);
    return out;
}"""
# Tap targets that must be at least 44 px by 44 px on a phone: the crisis links (the helplines, not the
# citations beside them), the menu and header buttons, and the navigation (measured with the menu open).
SMALL_TARGETS = """() => {
    const menu = document.getElementById('__navigation');
    if (menu) menu.checked = true;
    const selector = '.disclaimer a.external, .crisis-link a, .sidebar-crisis-link, .sidebar-tree a,'
        + ' .sidebar-downloads a, .mobile-header a, .mobile-header label, .mobile-header button';
    return [...document.querySelectorAll(selector)]
        .map(el => [el, el.getBoundingClientRect()])
        .filter(([el, box]) => box.width && (box.width < 43.5 || box.height < 43.5))
        .map(([el, box]) => `${el.className || el.tagName} "${el.textContent.trim().slice(0, 30)}"`
             + ` ${Math.round(box.width)}x${Math.round(box.height)}`);
}"""


@pytest.fixture(scope="module")
def phone_views(browser, site):
    """Every page on a phone: what overflows at each width, and the tap targets that are too small."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    seen = {}
    try:
        for name in ALL_PAGES + ["search", "genindex"]:
            tab.set_viewport_size({"width": 390, "height": 844})
            tab.goto(f"{site}{name}.html", wait_until="load")
            overflow = {}
            for width in PHONE_WIDTHS:
                tab.set_viewport_size({"width": width, "height": 844})
                overflow[width] = tab.evaluate(OVERFLOW)
            seen[name] = {"overflow": overflow, "small targets": tab.evaluate(SMALL_TARGETS)}
    finally:
        context.close()
    return seen


@pytest.mark.parametrize("name", ALL_PAGES + ["search", "genindex"])
def test_nothing_runs_off_the_side_on_a_phone(phone_views, name):
    overflow = {width: found for width, found in phone_views[name]["overflow"].items() if found}
    assert not overflow, overflow


@pytest.mark.parametrize("name", ALL_PAGES + ["search", "genindex"])
def test_crisis_links_and_navigation_are_big_enough_to_tap(phone_views, name):
    assert not phone_views[name]["small targets"]


def test_search_is_one_tap_away_on_a_phone(phone, site):
    phone.goto(f"{site}benefits-and-risks.html")
    button = phone.locator(".mobile-header a.mobile-search")
    assert button.is_visible() and button.get_attribute("aria-label")
    button.click()
    phone.wait_for_url(re.compile(r"search\.html"))


def test_report_links_name_the_section_the_reader_came_to(page, site):
    page.route("https://github.com/**", lambda route: route.abort())
    page.goto(f"{site}benefits-and-risks.html#benefits-and-risks-side-effects")
    link = page.locator("a.report-problem")
    link.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
    link.click()
    assert link.get_attribute("href").endswith("&section=benefits-and-risks-side-effects")
    email = page.locator("a.report-email")
    if not email.count():  # no email route until the editors confirm a mailbox (FEEDBACK_EMAIL in conf.py)
        return
    email.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
    email.click()
    assert "Section%3A%20benefits-and-risks-side-effects%0A" in email.get_attribute("href")


@pytest.mark.parametrize("view", ["page", "phone"])
def test_no_blank_gap_between_crisis_help_and_the_topics_in_the_menu(request, site, view):
    tab = request.getfixturevalue(view)
    tab.goto(f"{site}index.html")
    tab.evaluate("document.getElementById('__navigation').checked = true")
    # No more space than the menu puts between two of its groups (the caption's own top margin).
    gap, between_groups = tab.evaluate("""() => {
        const caption = document.querySelector('.sidebar-tree .caption');
        const crisis = document.querySelector('.sidebar-crisis');
        return [caption.getBoundingClientRect().top - crisis.getBoundingClientRect().bottom,
                parseFloat(getComputedStyle(caption).marginTop)];
    }""")
    assert gap <= between_groups + 1, f"{gap} px of blank space"

