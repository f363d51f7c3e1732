"""Helpers for the browser tests: serve the built site on 127.0.0.1 and drive Debian's Chromium."""

import contextlib
import functools
import http.server
import sys
import threading

from axe_playwright_python.base import AXE_SCRIPT
from conftest import HTML, SITE_PATH

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site under its public base path, like GitHub Pages, with its 404 page."""

    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith(SITE_PATH):
            path = "/" + path[len(SITE_PATH):]
        elif path != "/":
            path = "/__outside_site__" + path
        return super().translate_path(path)

    def send_error(self, code, message=None, explain=None):
        page = HTML / "404.html"
        if code != 404 or not page.exists():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SiteServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser that closes a page before a file has been sent is no error of the site's: say nothing."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve_site():
    handler = functools.partial(SiteHandler, directory=str(HTML))
    server = SiteServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SITE_PATH}"
    finally:
        server.shutdown()


# -- Searching ------------------------------------------------------------------------------------


def ranked(page, query):
    """The result links in rank order, from the two steps of Sphinx's Search.query that choose them
    (parse the query, then search); the page lists exactly these, so the display is not waited for."""
    return page.evaluate("""q => {
        const [query, terms, excluded, highlight, objects] = Search._parseQuery(q);
        return Search._performSearch(query, terms, excluded, highlight, objects).reverse()
            .map(([docname, , anchor]) => docname + '.html' + anchor);
    }""", query)


def pages(links):
    """The pages of the result links, each once, in rank order."""
    ranked = []
    for link in links:
        name = link.split(".html")[0]
        if name not in ranked:
            ranked.append(name)
    return ranked


# -- Opening many pages at once ------------------------------------------------------------------

# axe runs at a time (one core each, in its page's renderer process), and pages loading ahead of them so
# that a page has long been idle when axe is due to start on it. In `make test` the other pytest process
# keeps the second core busy: two axe runs at a time there cost 5-10 s more CPU for no shorter run.
# Figures: ARCHITECTURE.md, "Keeping make test fast".
AXE_AT_ONCE = 1
LOADING_AHEAD = 1
# axe does its work in one go once started: started from a timer, it leaves `evaluate` free to return.
# RUNS: [[context, only these rules, all but these rules], ...], one after another; their violations together.
# A context {"styled": [i, ...]} is the elements STYLES listed at those places (window.__axeStyled).
START_AXE = """(runs) => {
    window.__axeResult = undefined;
    setTimeout(async () => {
        try {
            const violations = [];
            for (const [context, only, skip] of runs) {
                const options = {resultTypes: ["violations"]};
                if (only) options.runOnly = {type: "rule", values: only};
                if (skip) options.rules = Object.fromEntries(skip.map(rule => [rule, {enabled: false}]));
                const styled = context && context.styled && context.styled.map(i => window.__axeStyled[i]);
                if (styled && !styled.length) continue;
                violations.push(...(await axe.run(styled || context || document, options)).violations);
            }
            window.__axeResult = {violations};
        } catch (e) {
            window.__axeResult = {error: String(e)};
        }
    });
}"""

# Each style once. axe's colour rules (colour contrast; links told apart from text by colour alone) decide an
# element's result from what is drawn under and in it: its text colour (fill and stroke too), size, weight and
# shadow, whether its text is long enough to judge, whether it is disabled, the background colours of it and of
# the elements it sits in up to the first opaque one with nothing translucent above, and the opacity, filters
# and blending of all of those; for a link, also its fonts, borders and outline, and the block of text around it
# as axe finds it (axe's isInTextBlock, copied) with that block's fonts, colours and backdrop. Two elements
# alike in all of these get the same result, so a run marked ONCE_PER_STYLE checks only the elements whose
# style no earlier page showed in that view. STYLES lists the elements with text in the run's context (the
# visible ones: axe skips the hidden) with the style of each, or null where something else could be drawn under
# the text: anything that paints a background (or a positioned box, or a positioned ::before or ::after) over
# the text's lines without containing it, or a background image; and shadow roots, which it cannot read.
# Those are checked on every page. A second reader tried 26 ways to hide a fault from it; the tests in
# test_browser.py keep one of each kind.
ONCE_PER_STYLE = "once per style"
# The axe whose isInTextBlock STYLES copies: when axe is upgraded, compare the two and update this.
STYLES_FOLLOWS_AXE = "4.12"
STYLES = r"""(exclude) => {
    // Out of the flow, over or under other content: absolute and fixed. A sticky element stays over its own
    // container's background, so its text is judged as in the flow, but it is an overlay for other text.
    const positioned = (c) => c.position === "absolute" || c.position === "fixed";
    const drawn = (c) => c.content !== "none" && c.content !== "normal";
    const opaque = (colour) => /^rgb\(/.test(colour);
    const transparent = (colour) => /^rgba\(.*, 0\)$|^transparent$/.test(colour);
    // Where a positioned ::before or ::after is drawn: its containing block, moved by its offsets.
    const pseudoBox = (host, p) => {
        let block = host;
        while (block !== document.body && getComputedStyle(block).position === "static") block = block.parentElement;
        const b = p.position === "fixed" ? new DOMRect(0, 0, innerWidth, innerHeight) : block.getBoundingClientRect();
        const h = host.getBoundingClientRect(), px = (v, otherwise) => v.endsWith("px") ? parseFloat(v) : otherwise;
        const left = b.left + px(p.left, h.left - b.left), top = b.top + px(p.top, h.top - b.top);
        return new DOMRect(left, top, px(p.width, b.width), px(p.height, b.height));
    };
    // [the element that draws it, a box it covers]: positioned boxes, and every box that paints a background
    // (a negative margin, an offset or a transform can move one under text it does not contain), line by line.
    // Kept by bands of the page's height, so that a line is compared only with the boxes level with it.
    const BAND = 256, bands = new Map(), across = (r) => {
        const first = Math.floor(r.top / BAND), last = Math.floor(r.bottom / BAND);
        return Array.from({length: last - first + 1}, (_, i) => first + i);
    };
    const overlay = (e, q) => {
        if (!q.width || !q.height) return;
        for (const band of across(q)) {
            if (!bands.has(band)) bands.set(band, []);
            bands.get(band).push([e, q]);
        }
    };
    for (const e of document.body.querySelectorAll("*")) {
        const c = getComputedStyle(e);
        if (positioned(c) || c.position === "sticky") overlay(e, e.getBoundingClientRect());
        else if (!transparent(c.backgroundColor) || c.backgroundImage !== "none")
            for (const q of e.getClientRects()) overlay(e, q);
        for (const pseudo of ["::before", "::after"]) {
            const p = getComputedStyle(e, pseudo);
            if (drawn(p) && positioned(p)) overlay(e, pseudoBox(e, p));
        }
    }
    const overlapped = (el, r) => across(r).some(band => (bands.get(band) || []).some(([host, q]) =>
        !host.contains(el) && !el.contains(host)
        && r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom));
    const compositing = (c) => [c.opacity, c.filter, c.mixBlendMode, c.backdropFilter].join("|");
    const above = new Map(), under = new Map();
    const blending = (el) => {  // what the elements from EL up do to all they contain
        if (!el) return "";
        if (!above.has(el)) above.set(el, compositing(getComputedStyle(el)) + "/" + blending(el.parentElement));
        return above.get(el);
    };
    const noBlending = (text) => /^(1\|none\|normal\|none\/)*$/.test(text);
    const backdrop = (el) => {  // what EL and the elements it sits in draw under its text, or null
        if (!el) return "";
        if (under.has(el)) return under.get(el);
        const c = getComputedStyle(el);
        let own = [c.backgroundColor, compositing(c)].join("|"), unknown = c.backgroundImage !== "none";
        for (const pseudo of ["::before", "::after"]) {
            const p = getComputedStyle(el, pseudo);
            if (!drawn(p)) continue;
            own += [pseudo, p.backgroundColor, p.opacity].join("|");
            unknown ||= positioned(p) || p.backgroundImage !== "none";
        }
        let result;
        if (unknown) result = null;
        else if (opaque(c.backgroundColor) && noBlending(compositing(c) + "/" + blending(el.parentElement)))
            result = own + "/" + blending(el.parentElement);
        else if (positioned(c)) result = null;
        else result = backdrop(el.parentElement) === null ? null : own + "/" + backdrop(el.parentElement);
        under.set(el, result);
        return result;
    };
    // Links: the block of text axe compares a link with, and whether axe counts it as in running text.
    const isBlock = (e, inlineBlock) => {
        const d = getComputedStyle(e).display;
        return ["block", "list-item", "table", "flex", "grid"].includes(d) || d.startsWith("table-")
            || (inlineBlock && d === "inline-block");
    };
    const block = (el) => {
        let b = el.parentElement;
        while (b && !isBlock(b, true)) b = b.parentElement;
        return b || el;
    };
    const WIDGET = "a[href], button, input, select, textarea, summary, [role=link], [role=button], [role=checkbox], "
        + "[role=tab], [role=menuitem], [role=textbox], [role=switch]";
    const inTextBlock = (link) => {  // axe 4.12's isInTextBlock
        const d = getComputedStyle(link).display;
        if (isBlock(link) || ["inline-block", "inline-flex", "inline-grid"].includes(d)) return false;
        let root = link.parentElement;
        while (root && !isBlock(root)) root = root.parentElement;
        if (!root) return false;
        let text = "", widget = "", state = 0;
        const walk = (n) => {
            if (n !== root) {
                if (state === 2) return;
                if (n.nodeType === 3) { text += n.nodeValue; return; }
                if (n.nodeType !== 1) return;
                if (n === link) state = 1;
                const blk = isBlock(n);
                if (blk || ["BR", "HR"].includes(n.nodeName)) { if (state === 0) text = widget = ""; else state = 2; }
                if (blk || n.style.display === "none" || n.style.overflow === "hidden"
                    || !["", "none"].includes(n.style.float) || !["", "relative"].includes(n.style.position)) return;
                if (n.matches(WIDGET)) { widget += n.textContent; return; }
            }
            for (const c of n.childNodes) walk(c);
        };
        walk(root);
        const clean = (t) => t.replace(/\s+/g, " ").trim();
        return clean(text).length > clean(widget).length;
    };
    const elements = [], styles = [];
    for (const el of document.body.querySelectorAll("*")) {
        if (exclude && el.closest(exclude)) continue;
        const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("")
            .replace(/\s+/g, " ").trim();
        const hasText = own || el.tagName === "A" || ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(el.tagName);
        if (!hasText && !el.shadowRoot) continue;
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height || !el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
        const s = getComputedStyle(el);
        const style = [el.tagName, s.color, s.webkitTextFillColor, s.webkitTextStrokeWidth, s.webkitTextStrokeColor,
                       s.fontSize, s.fontWeight, s.textShadow, s.textDecorationLine, s.textDecorationStyle,
                       s.textDecorationColor, s.borderBottomStyle, s.borderBottomWidth, s.borderBottomColor,
                       // text axe does not judge (one character, symbols only) or leaves to review (disabled)
                       /[\p{L}\p{N}].*[\p{L}\p{N}]/u.test(own) ? "" : "text:" + own,
                       !!el.closest(':disabled, [aria-disabled="true"]') || !!el.closest("label")?.control?.disabled];
        if (el.tagName === "A") {
            const b = block(el), t = getComputedStyle(b);
            style.push(s.fontStyle, s.fontFamily.split(",")[0], s.borderTopStyle, s.borderTopWidth, s.borderTopColor,
                       s.outlineStyle, s.outlineWidth, s.outlineColor, inTextBlock(el), t.color, t.fontWeight,
                       t.fontSize, t.fontStyle, t.fontFamily.split(",")[0], t.textDecorationLine,
                       t.textDecorationStyle, String(backdrop(b)));
        }
        const drawnUnder = backdrop(el);
        elements.push(el);
        const unknown = el.shadowRoot || drawnUnder === null || [...el.getClientRects()].some(q => overlapped(el, q));
        styles.push(unknown ? null : style.join("|") + "/" + drawnUnder);
    }
    window.__axeStyled = elements;
    return styles;
}"""

# The whole page, every rule axe runs by default.
EVERYTHING = [[None, None, None]]


class Tab:
    """A browser tab, in its own context, that opens one page after another. It notes what each page
    showed (requests, console errors, images without alt text) and runs axe on it once in each view
    (screen size and colour scheme), switching views without loading the page again."""

    def __init__(self, browser, styles_seen):
        self.styles_seen = styles_seen  # {view: the styles checked in it on earlier pages}, shared by the tabs
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.seen = {}
        self.page.on("request", lambda r: self.seen["requests"].append(r.url))
        self.page.on("console", lambda m: self.seen["errors"].append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.seen["errors"].append(str(e)))

    def open(self, name, url, views):
        """Start loading the page in its first view (so each page loads as a reader would see it first)."""
        self.name, self.views, self.violations = name, list(views.items()), {}
        self._show(0)
        self.seen = {"requests": [], "errors": []}
        response = self.page.goto(url, wait_until="commit")
        if response is not None and not response.ok:
            raise AssertionError(f"{url}: HTTP {response.status}")

    def _show(self, view):
        (width, height), scheme = self.views[view][1][:2]
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.emulate_media(color_scheme=scheme)

    def start_axe(self):
        """Start axe in the next view, without waiting for it. The first time, wait until the network has
        been idle for half a second (so late requests are seen too) and note the images without alt."""
        if "images without alt" not in self.seen:
            self.page.wait_for_load_state("networkidle")
            self.seen["images without alt"] = self.page.eval_on_selector_all(
                "article img", "els => els.filter(e => !(e.getAttribute('alt') || '').trim()).map(e => e.src)")
            self.page.evaluate(AXE_SCRIPT)
        if self.violations:  # the first view is the one the page was loaded in
            self._show(len(self.violations))
        name, view = self.views[len(self.violations)]
        runs = view[2] if len(view) > 2 else EVERYTHING
        self.page.evaluate(START_AXE, [self._new_styles(name, run) for run in runs])

    def _new_styles(self, view, run):
        """RUN, for ONCE_PER_STYLE, on the elements in its context whose style this view has not yet checked."""
        context, only, skip, *once = run
        if once != [ONCE_PER_STYLE]:
            return run
        exclude = ",".join(selector for [selector] in context["exclude"]) if context else None
        seen = self.styles_seen.setdefault(view, set())
        new = []
        for i, style in enumerate(self.page.evaluate(STYLES, exclude)):
            if style is None or style not in seen:
                new.append(i)
                seen.add(style)
        return [{"styled": new}, only, skip]

    def finish_axe(self):
        """Wait for axe; return True when the page has been checked in every view."""
        self.page.wait_for_function("window.__axeResult !== undefined", polling=50, timeout=60000)
        result = self.page.evaluate("window.__axeResult")
        if "error" in result:
            raise AssertionError(f"axe failed on {self.page.url}: {result['error']}")
        self.violations[self.views[len(self.violations)][0]] = result["violations"]
        return len(self.violations) == len(self.views)


def open_all(browser, pages, views):
    """PAGES: {name: url}; VIEWS: {view: ((width, height), colour scheme[, axe's runs])}, each run
    [context, only these rules, all but these rules[, ONCE_PER_STYLE]] (None: the whole page, every rule),
    EVERYTHING by default. The pages are checked in order, so ONCE_PER_STYLE checks a style on the first
    page that shows it.

    Returns {name: what the page showed, with axe's violations by view}. LOADING_AHEAD pages load
    while AXE_AT_ONCE pages are checked by axe, each in its own tab and renderer process."""
    waiting, free, tabs, loading, checking, seen, styles_seen = list(pages.items()), [], [], [], [], {}, {}
    try:
        while waiting or loading or checking:
            while waiting and len(loading) < LOADING_AHEAD:
                tab = free.pop() if free else Tab(browser, styles_seen)
                if tab not in tabs:
                    tabs.append(tab)
                tab.open(*waiting.pop(0), views)
                loading.append(tab)
            if loading and len(checking) < AXE_AT_ONCE:
                tab = loading.pop(0)
            else:
                tab = checking.pop(0)
                if tab.finish_axe():
                    seen[tab.name] = {**tab.seen, "violations": tab.violations}
                    free.append(tab)
                    continue
            tab.start_axe()
            checking.append(tab)
    finally:  # a failure leaves no tab running axe behind it
        for tab in tabs:
            tab.context.close()
    return seen
