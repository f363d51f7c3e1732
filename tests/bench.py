"""Benchmark: build speed for contributors and page weight and search speed for readers.

Run with `make bench` (after `make`). Prints a table of medians; it asserts nothing; the goals are in
the right-hand column for comparison. Not collected by pytest (the file name does not start with test_).
"""

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
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
    """Seconds and peak memory (MB) of one command."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, *cmd], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return seconds, int(out.stdout.strip()) / 1024


def median_of(make_cmd, prepare=None):
    times, peaks = [], []
    for _ in range(RUNS):
        if prepare:
            prepare()
        seconds, peak = timed(make_cmd())
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def build_times(work):
    out = work / "out"
    handbook = lambda builder: [*SPHINX, "-M", builder, str(DOCS), str(out), "-c", str(ROOT),  # noqa: E731
                                "-W", "--keep-going", "-n", "-q"]
    clean = lambda: shutil.rmtree(out, ignore_errors=True)  # noqa: E731

    bare_src = work / "bare"
    shutil.copytree(DOCS, bare_src, ignore=shutil.ignore_patterns("_ext", "_templates", "__pycache__"))
    (bare_src / "conf.py").write_text(BARE_CONF)
    bare_out = work / "bare-out"
    rows = {}
    rows["cold HTML (handbook)"] = median_of(lambda: handbook("html"), clean)
    rows["cold HTML (bare Sphinx + MyST)"] = median_of(
        lambda: [*SPHINX, "-M", "html", str(bare_src), str(bare_out), "-q"],
        lambda: shutil.rmtree(bare_out, ignore_errors=True))

    page = DOCS / "mechanism.md"
    copy = work / "incremental"
    shutil.copytree(DOCS, copy / "docs")
    shutil.copy(ROOT / "conf.py", copy / "conf.py")
    shutil.copy(ROOT / "CONTRIBUTING.md", copy / "CONTRIBUTING.md")
    inc = [*SPHINX, "-M", "html", str(copy / "docs"), str(copy / "_build"), "-c", str(copy), "-W",
           "--keep-going", "-n", "-q"]
    timed(inc)
    edited = copy / "docs" / page.name

    def edit():
        edited.write_text(edited.read_text() + "\n")

    rows["incremental HTML (one page edited)"] = median_of(lambda: inc, edit)
    rows["PDF (LaTeX + latexmk)"] = median_of(lambda: handbook("latexpdf"), clean)
    rows["EPUB"] = median_of(lambda: handbook("epub"), clean)
    return rows


def reader_figures():
    from playwright.sync_api import sync_playwright

    topics = ["anxiety", "ketamine-history", "mechanism", "benefits-and-risks", "patient-stories",
              "future-research"]
    largest = max(topics, key=lambda p: (HTML / f"{p}.html").stat().st_size)
    rows = {}
    with serve_site() as site, sync_playwright() as p:
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
            start = time.perf_counter()
            page.goto(f"{site}search.html?q=glutamate")
            page.wait_for_selector("#search-results ul.search li")
            search_ms.append((time.perf_counter() - start) * 1000)
            context.close()
        rows["search 'glutamate' to first result"] = statistics.median(search_ms)
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
    goals = {"incremental HTML (one page edited)": "<= 0.8 s", "PDF (LaTeX + latexmk)": "<= 10 s",
             "EPUB": "<= 2 s"}
    for name, (seconds, peak) in builds.items():
        print(f"{name:40} {seconds:8.2f} {peak:8.0f}  {goals.get(name, '')}")
    ratio = builds["cold HTML (handbook)"][0] / builds["cold HTML (bare Sphinx + MyST)"][0]
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
