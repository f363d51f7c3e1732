"""Shared fixtures: where the built outputs are, what the handbook's pages are, and in-process builds.

Two kinds of test:

* fast (marked ``fast``, run by ``make check``): they read the sources, or build a small fixture
  project from tests/roots/ in-process with sphinx.testing (about 0.3 s each), as Sphinx and
  sphinx-design test their own extensions. They need nothing built.
* the rest (run by ``make test``): they read the outputs that `make` built (BUILDDIR, default _build),
  drive a browser over the built site, or build the whole handbook where the whole handbook is what
  is tested.
"""

import copy
import datetime
import functools
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import zoneinfo

import pytest
import yaml
from bs4 import BeautifulSoup
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUILD = ROOT / os.environ.get("BUILDDIR", "_build")
HTML = BUILD / "html"
PDF = BUILD / "pdf" / "ketamine-anxiety-handbook.pdf"
EPUB = BUILD / "epub" / "ketamine-anxiety-handbook.epub"
VENV_BIN = pathlib.Path(sys.executable).parent
ROOTS = pathlib.Path(__file__).resolve().parent / "roots"  # fixture projects, one per folder test-NAME

# The fixture projects load the handbook's own extension by name, as conf.py does.
sys.path.insert(0, str(DOCS / "_ext"))

TOPIC_PAGES = ["anxiety", "ketamine-history", "mechanism", "benefits-and-risks", "safety", "patient-stories",
               "future-research"]
REQUIRED_PAGES = ["index", *TOPIC_PAGES, "summary", "glossary", "references", "about"]
ALL_PAGES = sorted(p.stem for p in DOCS.glob("*.md"))

SITE_URL = re.search(r'^SITE_URL = "(.*)"', (ROOT / "conf.py").read_text(), re.MULTILINE).group(1)
SITE_PATH = "/" + SITE_URL.split("/", 3)[3]  # e.g. /ketamine-anxiety-handbook/

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)


def front_matter(page):
    text = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    return yaml.safe_load(match.group(1)) if match else {}


def html_page(page, root=HTML):
    """The built page, parsed once and shared by every test: read it, never change it. To cut it up, cut up a
    copy (copy.copy(element), or article(), which gives one); the fixture shared_pages_stay_as_parsed holds tests
    to this. (A copy for every caller cost about 7 s of `make test`.)"""
    return parsed_html(root / f"{page}.html")


@functools.cache
def parsed_html(path):
    """The HTML file at PATH, parsed once for all tests: read it, never change it (see html_page)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    _AS_PARSED[path] = str(soup)
    return soup


_AS_PARSED = {}  # {path: the shared tree as parsed, serialised}: what it must still be at the end


@pytest.fixture(scope="session", autouse=True)
def shared_pages_stay_as_parsed():
    """After the last test, every shared page (html_page, parsed_html) is still as it was parsed: a test that
    changed one would have changed what the tests after it read."""
    yield
    changed = [str(path) for path, text in _AS_PARSED.items() if str(parsed_html(path)) != text]
    assert not changed, f"a test changed the shared parsed page, instead of a copy of it: {changed}"


def article(soup):
    """A copy of the page's own content, without the shared disclaimer box."""
    body = copy.copy(soup.select_one("article[role=main]") or soup.select_one("article"))
    for box in body.select(".disclaimer"):
        box.decompose()
    return body


def sphinx_build(builder, out, src=DOCS, conf=ROOT, env=None, extra=(), umask=-1):
    """Run sphinx-build in make mode with the project's options; return the completed process."""
    cmd = [str(VENV_BIN / "sphinx-build"), "-M", builder, str(src), str(out), "-c", str(conf),
           "-W", "--keep-going", "-n", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, umask=umask)


def pytest_configure(config):
    config.addinivalue_line("markers", "fast: needs nothing built and no browser; `make check` runs these")
    config.addinivalue_line("markers", "browser: drives Chromium over the built site")
    # myst-parser 5.2 uses an attribute Sphinx 9 deprecates; nothing the handbook can act on.
    config.addinivalue_line("filterwarnings", "ignore:'sphinx.environment.BuildEnvironment.app' is deprecated")


BROWSER_FIXTURES = {"browser", "site"}  # and every fixture that uses them


@pytest.hookimpl(tryfirst=True)  # before `-m` selects tests by their marks
def pytest_collection_modifyitems(items):
    for item in items:
        if BROWSER_FIXTURES & set(item.fixturenames) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)  # `make test` runs these in the browser's own process
        if item.get_closest_marker("fast") and "built" in item.fixturenames:
            raise pytest.UsageError(f"{item.nodeid} is marked fast but reads the built outputs, which "
                                    "`make check` does not build: drop the mark or the `built` fixture")


@pytest.fixture(scope="session")
def built():
    for path in (HTML / "index.html", PDF, EPUB):
        if not path.exists():
            pytest.fail(f"{path} is missing: run `make` first (make test does)")
    return BUILD


@pytest.fixture(scope="session")
def pdf(built):
    """The PDF `make` built, opened once with pikepdf for every test that reads it (pypdf took 1.6 s to count
    its pages: it reads every object of the stream that holds the structure tree)."""
    import pikepdf

    with pikepdf.open(PDF) as document:
        yield document


@pytest.fixture(scope="session")
def pdf_pages(pdf):
    """The text of each of the PDF's pages in reading order, extracted once by poppler's pdftotext (0.4 s;
    pypdf took 6-7 s on the PDF WeasyPrint writes)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(PDF), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:len(pdf.pages)]
    assert len(pages) == len(pdf.pages), "pdftotext gave fewer pages than the PDF has"
    return pages


def bookmarks(pdf):
    """The PDF's top-level bookmarks, in order: [(title, the index of the page it opens, [titles under it])]."""
    index = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}

    def titles(items):
        for item in items:
            yield item.title
            yield from titles(item.children)

    with pdf.open_outline() as outline:
        return [(item.title, index[item.destination[0].objgen], list(titles(item.children))) for item in outline.root]


def outline_titles(pdf):
    """Every bookmark title of a PDF, in order."""
    for title, _, under in bookmarks(pdf):
        yield title
        yield from under


@functools.cache
def source_date_epoch(pdf):
    """The SOURCE_DATE_EPOCH a PDF was built with, read back from its creation date (D:YYYYMMDDHHMMSSZ).
    Read with pikepdf: 0.1 s, where pypdf took 1.4 s to reach the document's information."""
    import pikepdf

    with pikepdf.open(pdf) as document:
        stamp = str(document.docinfo["/CreationDate"])
    moment = datetime.datetime.strptime(stamp[2:16], "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
    return str(int(moment.timestamp()))


def _another_time_zone():
    """A time zone whose offset from UTC differs from this machine's now (where `make` built)."""
    here = time.localtime().tm_gmtoff
    for zone in ("Pacific/Auckland", "America/Los_Angeles"):
        if datetime.datetime.now(zoneinfo.ZoneInfo(zone)).utcoffset().total_seconds() != here:
            return zone
    raise AssertionError("unreachable: the two zones are never at the same offset")


def clean_build_env():
    """The environment the clean build runs in (and a build that carries on from its saved state must too).
    The pdf builder writes the document WeasyPrint prints, not the PDF: test_reproducible.py compares that
    document with make's, and shows WeasyPrint printing the same document twice gives the same bytes."""
    return {"SOURCE_DATE_EPOCH": source_date_epoch(PDF), "TZ": _another_time_zone(),
            "HANDBOOK_PDF_DOCUMENT_ONLY": "1"}


@pytest.fixture(scope="session")
def clean_build(built, tmp_path_factory):
    """The whole handbook built from clean, unlike `make` builds it: in one process (`make` runs Sphinx
    with -j auto, which is one process too on a one-core machine), in another time zone, with umask 077.
    It uses `make`'s SOURCE_DATE_EPOCH, read back from its PDF, so that both builds' outputs can be
    compared byte for byte.

    The PDF and the EPUB first, then the HTML, which reuses the pages they read (as `make` builds them all
    into one folder). Returns (folder, {builder: sphinx-build's output}); a failed build fails the test."""
    out = tmp_path_factory.mktemp("clean")
    env = clean_build_env()
    logs = {}
    for builder in ("pdf", "epub", "html"):
        result = sphinx_build(builder, out, env=env, extra=["-q"], umask=0o077)
        logs[builder] = result.stdout + result.stderr
        if result.returncode != 0:
            pytest.fail(f"a clean `{builder}` build failed:\n{logs[builder][-3000:]}")
    return out, logs


# -- One server and one browser for every browser test ------------------------------------------


@pytest.fixture(scope="session")
def site(built):
    """The built site, served on 127.0.0.1 under its public base path; its base URL."""
    from browser import serve_site

    with serve_site() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (imported here, so `make check` never loads it)."""
    from browser import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Tabs are shared: a page loaded in a tab already open costs about a third of the CPU time of a page in a
# new tab (0.2 s against 0.65 s here). A test that listens to a page's events opens a context of its own
# (`browser.new_context()`) and closes it; one that needs an empty cache switches the cache off in the
# shared tab, as test_first_view_is_light does.
DESKTOP = {"width": 1280, "height": 720}  # Playwright's default
PHONE = {"width": 390, "height": 844}


def _tab(browser, **options):
    context = browser.new_context(**options)
    return context.new_page()


def _reset(tab, size, site):
    """Hand the shared tab to the next test as a new tab would be: blank, the mouse in the corner, no
    emulation, and no cookies or stored data for the site (the theme chosen with the toggle, say)."""
    tab.goto("about:blank")
    tab.mouse.move(0, 0)
    tab.set_viewport_size(size)
    tab.emulate_media(media="null", color_scheme="null", reduced_motion="null", forced_colors="null")
    tab.context.clear_cookies()
    origin = "/".join(site.split("/", 3)[:3])  # http://127.0.0.1:PORT
    devtools = tab.context.new_cdp_session(tab)
    devtools.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    devtools.detach()
    return tab


@pytest.fixture(scope="session")
def _desktop_tab(browser):
    tab = _tab(browser)
    yield tab
    tab.context.close()


@pytest.fixture(scope="session")
def _phone_tab(browser):
    tab = _tab(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    yield tab
    tab.context.close()


@pytest.fixture
def page(_desktop_tab, site):
    """A desktop browser tab (1280 x 720), shared, and reset as `_reset` says."""
    return _reset(_desktop_tab, DESKTOP, site)


@pytest.fixture
def phone(_phone_tab, site):
    """A phone's browser tab (390 x 844, touch), shared, and reset as `_reset` says."""
    return _reset(_phone_tab, PHONE, site)


@pytest.fixture(scope="session")
def search_page(browser, site):
    """The site's search page, loaded once with its index, for every query; its script errors are
    collected in `search_page.errors`."""
    tab = _tab(browser)
    errors = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{site}search.html")
    tab.wait_for_function("Search.hasIndex() && window.HandbookSearch !== undefined")
    tab.errors = errors
    yield tab
    tab.context.close()


# -- In-process builds of the fixture projects in tests/roots/ -----------------------------------


def copy_root(name, dest):
    """Copy the fixture project tests/roots/test-NAME to DEST (a fresh folder) and return DEST."""
    shutil.copytree(ROOTS / f"test-{name}", dest)
    return dest


def build_in_process(srcdir, builder="dummy", **config):
    """Build SRCDIR with sphinx.testing; return its warnings, one per line, paths relative to SRCDIR.

    A message reads as a contributor sees it, e.g. "topic.md:5: WARNING: front matter field ...".
    The "dummy" builder reads, checks and resolves every page but writes nothing: the extension's
    checks all run, in a fraction of an HTML build's time. An exception in the extension is not
    caught: it fails the test, as a traceback would be a defect.
    """
    app = SphinxTestApp(builder, srcdir=pathlib.Path(srcdir), freshenv=True, confoverrides=config)
    try:
        app.build()
    finally:
        app.cleanup()
    return strip_colors(app.warning.getvalue()).replace(f"{srcdir}{os.sep}", "")


def build_again(srcdir, builder="html"):
    """Build SRCDIR in-process, keeping what an earlier build there left (an incremental build, as a
    second `make` runs); return the finished app (outdir, warning)."""
    app = SphinxTestApp(builder, srcdir=pathlib.Path(srcdir), freshenv=False)
    try:
        app.build()
    finally:
        app.cleanup()
    return app


def build_pages(srcdir, pages, files=None, builder="dummy"):
    """Copy the fixture handbook to SRCDIR, add PAGES ({name: text}, listed in its toctree) and FILES
    ({path: text}, replacing the fixture's), build it in-process and return the warnings.

    Many mistakes, each on its own page, cost one build: a test per mistake then looks for its
    message at its page and line.
    """
    copy_root("handbook", srcdir)
    index = srcdir / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("references\n```", "references\n" + "".join(
        f"{name}\n" for name in pages) + "```"), encoding="utf-8")
    for name, text in {**{f"{name}.md": text for name, text in pages.items()}, **(files or {})}.items():
        (srcdir / name).write_text(text, encoding="utf-8")
    return build_in_process(srcdir, builder)


def line_of(text, needle):
    """The 1-based line of TEXT where NEEDLE first appears."""
    assert needle in text, f"{needle!r} is not in the page"
    return text[:text.index(needle)].count("\n") + 1


@pytest.fixture
def build(tmp_path):
    """build(root="handbook", files={path: text}, builder="dummy") -> warnings text.

    Copies tests/roots/test-ROOT into tmp_path, writes FILES over it (new pages, broken pages, a
    broken .bib), and builds it in-process.
    """

    def build(root="handbook", files=None, builder="dummy", **config):
        srcdir = copy_root(root, tmp_path / root)
        for name, text in (files or {}).items():
            (srcdir / name).write_text(text, encoding="utf-8")
        return build_in_process(srcdir, builder, **config)

    return build
