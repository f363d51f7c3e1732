"""Benchmark: build speed for contributors and page weight and search speed for readers.

Run with `make bench` (after `make`). Prints a table of medians; it asserts nothing; the goals are in
the right-hand column for comparison. Not collected by pytest (the file name does not start with test_).

Besides the handbook as it is, it times a grown handbook: BENCH_COPIES (default 20) copies of the six
topic pages added, as ../shared/tools/scale-probe grows it, cold and after a one-page edit, against bare
Sphinx + MyST on the same pages, the two taken in turn. BENCH_COPIES=0 leaves that case out.
"""

import contextlib
import multiprocessing
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from browser import CHROMIUM, CHROMIUM_ARGS, serve_site  # noqa: E402
from conftest import DOCS, EPUB, HTML, PDF, ROOT, VENV_BIN  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
COPIES = int(os.environ.get("BENCH_COPIES", "20"))
SPHINX = [str(VENV_BIN / "sphinx-build")]
TOPICS = ["anxiety", "ketamine-history", "mechanism", "benefits-and-risks", "patient-stories", "future-research"]
PEAK_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "used = resource.getrusage(resource.RUSAGE_CHILDREN); print(used.ru_maxrss, used.ru_utime + used.ru_stime)")
# Bare Sphinx + MyST: the handbook's Markdown settings and excluded folders, nothing else.
BARE_CONF = ('project = "bare"\nextensions = ["myst_parser"]\nmyst_enable_extensions = ["colon_fence", "deflist"]\n'
             'exclude_patterns = ["_snippets", "_ext", "_templates", "_latex"]\n')
# The same third-party extensions and theme as the handbook, none of its own code (docs/_ext): what the
# handbook's own checks and speed-ups add or save, beside what the extensions and theme cost.
STOCK_CONF = BARE_CONF.replace('"bare"', '"stock"').replace(
    '["myst_parser"]', '["myst_parser", "sphinx_design", "sphinx.ext.graphviz", "sphinxcontrib.bibtex", '
    '"sphinxext.opengraph", "notfound.extension"]') + (
    'html_theme = "furo"\nbibtex_bibfiles = ["references.bib"]\nbibtex_reference_style = "author_year"\n'
    'bibtex_default_style = "plain"\nbibtex_tooltips = False\nogp_site_url = "https://example.org/"\n')


def timed(cmd, env=None):
    """Seconds, peak memory (MB, the largest process) and CPU seconds (all its processes) of one command."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, *cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    peak, cpu = out.stdout.split()
    return seconds, int(peak) / 1024, float(cpu)


def median_of(cmd, prepare=None):
    times, peaks = [], []
    for _ in range(RUNS):
        if prepare:
            prepare()
        seconds, peak, _cpu = timed(cmd)
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def copy_project(dest):
    """The project's tracked files, with their times kept, so `make` there behaves as in a clone."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    for name in filter(None, files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def copy_included_files(dest):
    """The files outside docs/ that pages include: without them, bare Sphinx would read those pages again on
    every build."""
    for name in ("CONTRIBUTING.md", "CHANGELOG.md"):
        shutil.copy(ROOT / name, dest / name)


def build_times(work):
    """Each handbook build runs through the project's Makefile, with its options, in a copy."""
    project = work / "project"
    copy_project(project)
    # Ace, as `make` installed it: otherwise the first timed build in the copy runs `npm ci` (and its
    # memory showed up as the build's peak).
    if (ROOT / "tools" / "node_modules").exists():
        (project / "tools" / "node_modules").symlink_to(ROOT / "tools" / "node_modules")
    out = work / "out"
    make = lambda target: ["make", "-s", "-C", str(project), f"VENV={VENV_BIN.parent}",  # noqa: E731
                           f"BUILDDIR={out}", target]
    clean = lambda: shutil.rmtree(out, ignore_errors=True)  # noqa: E731

    # The bare build: default theme, only MyST, the same pages (and the contributor guide they include).
    bare_src = work / "bare" / "docs"
    shutil.copytree(DOCS, bare_src, ignore=shutil.ignore_patterns("_ext", "_templates", "__pycache__"))
    copy_included_files(work / "bare")
    (bare_src / "conf.py").write_text(BARE_CONF)
    bare_out = work / "bare" / "out"
    # -j auto, as make passes it to the handbook's build.
    bare = [*SPHINX, "-M", "html", str(bare_src), str(bare_out), "-q", "-j", "auto"]
    stock_src = work / "stock" / "docs"
    shutil.copytree(bare_src, stock_src)
    copy_included_files(work / "stock")
    (stock_src / "conf.py").write_text(STOCK_CONF)
    stock_out = work / "stock" / "out"
    stock = [*SPHINX, "-M", "html", str(stock_src), str(stock_out), "-q", "-j", "auto"]

    def edit_one_page(docs):
        page = docs / "mechanism.md"
        return lambda: page.write_text(page.read_text() + "\n")

    def fresh_html():
        clean()
        timed(make("html"))

    rows = {}
    rows["cold HTML (handbook, make html)"], rows["cold HTML (bare Sphinx + MyST)"] = side_by_side(
        make("html"), bare, clean, lambda: shutil.rmtree(bare_out, ignore_errors=True))
    rows["cold HTML (its extensions, no own code)"] = median_of(
        stock, lambda: shutil.rmtree(stock_out, ignore_errors=True))
    rows["incremental HTML (one page edited)"], rows["incremental HTML (bare, same edit)"] = side_by_side(
        make("html"), bare, edit_one_page(project / "docs"), edit_one_page(bare_src))
    rows["PDF (make pdf, cold)"] = median_of(make("pdf"), clean)
    rows["EPUB (make epub, cold)"] = median_of(make("epub"), clean)
    rows["EPUB after HTML (as in `make`)"] = median_of(make("epub"), fresh_html)
    return rows


def grow(docs, copies):
    """Add COPIES copies of the six topic pages to DOCS, their labels and titles renamed, listed in a hidden
    toctree of the home page (as ../shared/tools/scale-probe grows the handbook). Returns the page count."""
    names = []
    for number in range(1, copies + 1):
        for topic in TOPICS:
            text = (docs / f"{topic}.md").read_text(encoding="utf-8")
            text = re.sub(r"^\((.+)\)=$", lambda m, n=number: f"({m.group(1)}-c{n})=", text, flags=re.M)
            text = re.sub(r"^title: ([\"']?)(.*?)\1$",
                          lambda m, n=number: f"title: {m.group(1)}{m.group(2)} (copy {n}){m.group(1)}",
                          text, count=1, flags=re.M)
            (docs / f"{topic}-c{number}.md").write_text(text, encoding="utf-8")
            names.append(f"{topic}-c{number}")
    index = docs / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n```{toctree}\n:caption: Copies\n:hidden:\n\n"
                     + "\n".join(names) + "\n```\n", encoding="utf-8")
    return len(list(docs.glob("*.md")))


def side_by_side(first, second, prepare_first, prepare_second):
    """(median seconds, peak MB, median CPU seconds) of RUNS runs of each of two commands, taken in turn, so
    that a slow spell of a shared machine falls on both. CPU time moves less than wall time when other work
    shares the machine."""
    runs = ([], [])
    for _ in range(RUNS):
        for command, prepare, found in ((first, prepare_first, runs[0]), (second, prepare_second, runs[1])):
            prepare()
            found.append(timed(command))
    return [(statistics.median(s for s, _, _ in found), max(p for _, p, _ in found),
             statistics.median(c for _, _, c in found)) for found in runs]


def grown_build_times(work):
    """The grown handbook, cold and after a one-page edit, each beside bare Sphinx + MyST on the same pages."""
    project = work / "grown"
    copy_project(project)
    if (ROOT / "tools" / "node_modules").exists():
        (project / "tools" / "node_modules").symlink_to(ROOT / "tools" / "node_modules")
    pages = grow(project / "docs", COPIES)
    bare_src = work / "grown-bare" / "docs"
    shutil.copytree(project / "docs", bare_src, ignore=shutil.ignore_patterns("_ext", "_templates", "__pycache__"))
    copy_included_files(work / "grown-bare")
    (bare_src / "conf.py").write_text(BARE_CONF)
    out, bare_out = work / "grown-out", work / "grown-bare" / "out"
    handbook = ["make", "-s", "-C", str(project), f"VENV={VENV_BIN.parent}", f"BUILDDIR={out}", "html"]
    bare = [*SPHINX, "-M", "html", str(bare_src), str(bare_out), "-q", "-j", "auto"]

    def edit(docs):
        page = docs / "mechanism-c1.md"
        return lambda: page.write_text(page.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")

    cold = side_by_side(handbook, bare, lambda: shutil.rmtree(out, ignore_errors=True),
                        lambda: shutil.rmtree(bare_out, ignore_errors=True))
    edited = side_by_side(handbook, bare, edit(project / "docs"), edit(bare_src))
    return pages, [("cold HTML (make html; bare with -j auto)", cold, "<= 1.0x"),
                   ("incremental HTML (one page edited)", edited, "<= 1.15x")]


# Measured with the browser's own clock, from the start of the navigation to search.html?q=... (what
# pressing Enter in the search box does) to the first frame painted after the first result appears.
FIRST_RESULT_PAINTED = """
new MutationObserver((changes, observer) => {
  if (document.querySelector('#search-results ul.search li')) {
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__firstResultPainted = performance.now(); }, 0));
  }
}).observe(document, {subtree: true, childList: true});
"""


@contextlib.contextmanager
def site_server_process():
    """The site served from its own process, like a real web server. Served from a thread of this
    process, it would share Python's lock with the Playwright client and slow the page down."""
    context = multiprocessing.get_context("fork")
    address = context.Queue()
    server = context.Process(target=_serve_until_stopped, args=(address,), daemon=True)
    server.start()
    try:
        yield address.get(timeout=30)
    finally:
        server.terminate()
        server.join()


def _serve_until_stopped(address):
    with serve_site() as site:
        address.put(site)
        threading.Event().wait()


def reader_figures():
    from playwright.sync_api import sync_playwright

    topics = ["anxiety", "ketamine-history", "mechanism", "benefits-and-risks", "patient-stories",
              "future-research"]
    largest = max(topics, key=lambda p: (HTML / f"{p}.html").stat().st_size)
    rows = {}
    with site_server_process() as site, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in ("index", largest):
            sizes = []
            for _ in range(RUNS):
                context = browser.new_context()
                page = context.new_page()
                responses = []
                page.on("response", lambda r, responses=responses: responses.append(len(r.body())))
                page.goto(f"{site}{name}.html", wait_until="networkidle")
                sizes.append((sum(responses), len(responses)))
                context.close()
            rows[f"first view of {name}.html"] = sizes[0]
        search_ms = []
        for _ in range(RUNS):
            context = browser.new_context()
            page = context.new_page()
            page.add_init_script(FIRST_RESULT_PAINTED)
            page.goto(f"{site}search.html?q=glutamate")
            page.wait_for_function("window.__firstResultPainted !== undefined", polling=100)
            search_ms.append(page.evaluate("window.__firstResultPainted"))
            context.close()
        rows["search 'glutamate': first result painted"] = statistics.median(search_ms)
        browser.close()
    return rows


def main():
    if not (HTML / "index.html").exists() or not PDF.exists() or not EPUB.exists():
        raise SystemExit("run `make` first")
    uname = os.uname()
    print(f"Machine: {uname.sysname} {uname.release} {uname.machine}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}; medians of {RUNS} runs\n")
    with tempfile.TemporaryDirectory() as tmp:
        builds = build_times(pathlib.Path(tmp))
        grown = grown_build_times(pathlib.Path(tmp)) if COPIES else None
    print(f"{'Build':40} {'seconds':>8} {'peak MB':>8}  goal")
    goals = {"incremental HTML (one page edited)": "<= 0.8 s", "PDF (make pdf, cold)": "<= 10 s",
             "EPUB (make epub, cold)": "<= 2 s"}
    for name, (seconds, peak, *_cpu) in builds.items():
        print(f"{name:40} {seconds:8.2f} {peak:8.0f}  {goals.get(name, '')}")
    for what, mine, theirs, goal in (("cold", "cold HTML (handbook, make html)", "cold HTML (bare Sphinx + MyST)",
                                      "<= 1.2x"),
                                     ("incremental", "incremental HTML (one page edited)",
                                      "incremental HTML (bare, same edit)", "<= 1.15x")):
        ratio, cpu = (builds[mine][i] / builds[theirs][i] for i in (0, 2))
        print(f"{what + ' HTML ratio handbook / bare':40} {ratio:8.2f}x (CPU time {cpu:.2f}x)  {goal}")
    stock = builds["cold HTML (its extensions, no own code)"][0]
    print(f"{'cold HTML ratio handbook / its extensions':40} "
          f"{builds['cold HTML (handbook, make html)'][0] / stock:8.2f}x")
    print()
    if grown:
        pages, rows = grown
        print(f"Grown handbook: {pages} pages ({COPIES} copies of the six topic pages), the two taken in turn")
        print(f"{'Build':40} {'handbook':>8} {'bare':>8} {'ratio':>7} {'CPU ratio':>9}  goal")
        for name, ((mine, _, my_cpu), (theirs, _, their_cpu)), goal in rows:
            print(f"{name:40} {mine:8.2f} {theirs:8.2f} {mine / theirs:6.2f}x {my_cpu / their_cpu:8.2f}x  {goal}")
        print()

    readers = reader_figures()
    print(f"{'Reader':40} {'value':>16}  goal")
    for name, value in readers.items():
        if isinstance(value, tuple):
            print(f"{name:40} {value[0] / 1024:8.1f} KB {value[1]:3d} req  <= 130 KB, <= 10 requests")
        else:
            print(f"{name:40} {value:13.0f} ms  <= 200 ms")
    print()
    for label, path in (("searchindex.js", HTML / "searchindex.js"), ("PDF", PDF), ("EPUB", EPUB)):
        print(f"{'size of ' + label:40} {path.stat().st_size / 1024:8.1f} KB")


if __name__ == "__main__":
    main()
