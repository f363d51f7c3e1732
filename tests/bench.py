"""Benchmark: build speed for contributors and page weight and search speed for readers.

Run with `make bench` (after `make`). Prints a table of medians; it asserts nothing; the goals are in
the right-hand column for comparison. Not collected by pytest (the file name does not start with test_).
"""

import contextlib
import multiprocessing
import os
import pathlib
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
SPHINX = [str(VENV_BIN / "sphinx-build")]
PEAK_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
BARE_CONF = 'project = "bare"\nextensions = ["myst_parser"]\nmyst_enable_extensions = ["colon_fence"]\n'


def timed(cmd, env=None):
    """Seconds and peak memory (MB, the largest process) of one command."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, *cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return seconds, int(out.stdout.strip()) / 1024


def median_of(cmd, prepare=None):
    times, peaks = [], []
    for _ in range(RUNS):
        if prepare:
            prepare()
        seconds, peak = timed(cmd)
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
    shutil.copy(ROOT / "CONTRIBUTING.md", work / "bare" / "CONTRIBUTING.md")
    (bare_src / "conf.py").write_text(BARE_CONF)
    bare_out = work / "bare" / "out"
    bare = [*SPHINX, "-M", "html", str(bare_src), str(bare_out), "-q"]

    def edit_one_page(docs):
        page = docs / "mechanism.md"
        return lambda: page.write_text(page.read_text() + "\n")

    def fresh_html():
        clean()
        timed(make("html"))

    rows = {}
    rows["cold HTML (handbook, make html)"] = median_of(make("html"), clean)
    rows["cold HTML (bare Sphinx + MyST)"] = median_of(bare, lambda: shutil.rmtree(bare_out, ignore_errors=True))
    fresh_html()
    rows["incremental HTML (one page edited)"] = median_of(make("html"), edit_one_page(project / "docs"))
    rows["incremental HTML (bare, same edit)"] = median_of(bare, edit_one_page(bare_src))
    rows["PDF (make pdf, cold)"] = median_of(make("pdf"), clean)
    rows["EPUB (make epub, cold)"] = median_of(make("epub"), clean)
    rows["EPUB after HTML (as in `make`)"] = median_of(make("epub"), fresh_html)
    return rows


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
    print(f"{'Build':40} {'seconds':>8} {'peak MB':>8}  goal")
    goals = {"incremental HTML (one page edited)": "<= 0.8 s", "PDF (make pdf, cold)": "<= 10 s",
             "EPUB (make epub, cold)": "<= 2 s"}
    for name, (seconds, peak) in builds.items():
        print(f"{name:40} {seconds:8.2f} {peak:8.0f}  {goals.get(name, '')}")
    ratio = builds["cold HTML (handbook, make html)"][0] / builds["cold HTML (bare Sphinx + MyST)"][0]
    print(f"{'cold HTML ratio handbook / bare':40} {ratio:8.2f}x{'':8}  <= 1.3x\n")

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
