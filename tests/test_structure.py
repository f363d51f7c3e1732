"""Structure: navigation, cross-links between topic pages, and links that resolve."""

import posixpath
import urllib.parse

import pytest
from conftest import ALL_PAGES, HTML, REQUIRED_PAGES, SITE_PATH, SITE_URL, TOPIC_PAGES, article, html_page, parsed_html


@pytest.mark.fast
def test_every_required_page_exists_as_a_source():
    missing = [p for p in REQUIRED_PAGES if p not in ALL_PAGES]
    assert not missing, f"pages missing from docs/: {missing}"


def test_navigation_lists_every_page(built):
    nav = html_page("index").select_one(".sidebar-tree")
    linked = {a["href"].split("#")[0].removesuffix(".html") for a in nav.select("a[href]")}
    missing = [p for p in ALL_PAGES if p != "index" and p not in linked]
    assert not missing, f"not in the site navigation: {missing}"


@pytest.mark.parametrize("page", TOPIC_PAGES)
def test_topic_page_links_to_two_other_topics_in_running_text(built, page):
    body = article(html_page(page))
    for box in body.select(".key-points"):
        box.decompose()
    targets = set()
    for link in body.select("p a.reference.internal[href], li a.reference.internal[href]"):
        target = link["href"].split("#")[0].removesuffix(".html")
        if target in TOPIC_PAGES and target != page:
            targets.add(target)
    assert len(targets) >= 2, f"{page} links to only {sorted(targets)} among the other topic pages"


def _html_files():
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


_ID_CACHE = {}


def _ids(path, cache=_ID_CACHE):
    if path not in cache:
        soup = parsed_html(path)
        cache[path] = {tag["id"] for tag in soup.select("[id]")} | {tag["name"] for tag in soup.select("a[name]")}
    return cache[path]


def test_every_internal_link_and_anchor_resolves(built):
    broken = []
    for path in _html_files():
        soup = parsed_html(path)
        for tag in soup.select("[href], [src]"):
            url = tag.get("href") or tag.get("src")
            parts = urllib.parse.urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith(("mailto:", "data:")):
                continue
            if parts.path.startswith(SITE_PATH):  # absolute links (the 404 page) under the site's base path
                target = HTML / urllib.parse.unquote(parts.path.removeprefix(SITE_PATH))
            elif parts.path:
                target = path.parent / urllib.parse.unquote(parts.path)
            else:
                target = path
            target = HTML / posixpath.normpath(str(target.relative_to(HTML)))
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(HTML)}: {url} (no such file)")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in _ids(target):
                broken.append(f"{path.relative_to(HTML)}: {url} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_meta_description_and_opengraph_tags(built):
    from conftest import front_matter

    for page in ALL_PAGES:
        soup = html_page(page)
        description = soup.select('meta[name="description"]')
        assert len(description) == 1, f"{page}: {len(description)} meta descriptions"
        assert description[0]["content"] == front_matter(page)["description"]
        for prop in ("og:title", "og:url", "og:description", "og:site_name"):
            assert soup.select_one(f'meta[property="{prop}"]'), f"{page}: no {prop}"
        assert soup.select_one('meta[property="og:url"]')["content"].startswith(SITE_URL)


def test_sitemap_lists_every_page_at_the_site_url(built):
    import re as _re

    sitemap = (HTML / "sitemap.xml").read_text(encoding="utf-8")
    urls = set(_re.findall(r"<loc>([^<]+)</loc>", sitemap))
    for page in ALL_PAGES:
        assert f"{SITE_URL}{page}.html" in urls, f"{page} not in sitemap.xml"
