"""Shared fixtures: where the built outputs are, and what the handbook's pages are.

The tests read the outputs that `make` built (BUILDDIR, default _build); `make test` builds them first.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUILD = ROOT / os.environ.get("BUILDDIR", "_build")
HTML = BUILD / "html"
PDF = BUILD / "latex" / "ketamine-anxiety-handbook.pdf"
EPUB = BUILD / "epub" / "ketamine-anxiety-handbook.epub"
VENV_BIN = pathlib.Path(sys.executable).parent

TOPIC_PAGES = ["anxiety", "ketamine-history", "mechanism", "benefits-and-risks", "patient-stories",
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
    return BeautifulSoup((root / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def article(soup):
    """The page's own content, without the shared disclaimer box."""
    body = soup.select_one("article[role=main]") or soup.select_one("article")
    body = BeautifulSoup(str(body), "html.parser")
    for box in body.select(".disclaimer"):
        box.decompose()
    return body


def sphinx_build(builder, out, src=DOCS, conf=ROOT, env=None, extra=()):
    """Run sphinx-build in make mode with the project's options; return the completed process."""
    cmd = [str(VENV_BIN / "sphinx-build"), "-M", builder, str(src), str(out), "-c", str(conf),
           "-W", "--keep-going", "-n", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def built():
    for path in (HTML / "index.html", PDF, EPUB):
        if not path.exists():
            pytest.fail(f"{path} is missing: run `make` first (make test does)")
    return BUILD
