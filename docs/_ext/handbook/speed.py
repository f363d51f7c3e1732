"""How the build keeps fast on two cores: fewer garbage collections, and pages read in an order that keeps
both workers busy.

Neither changes the output: when Python frees unreachable objects, and the order pages are read in, do not
change what is written (tests/test_build.py compares a build's pages with a serial build's).
ARCHITECTURE.md ("Speed of a cold build") has the measurements.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

from sphinx.util.parallel import make_chunks

# -- Garbage collection ---------------------------------------------------------------------------------

# Python's default (700, 10, 10) runs a full collection, which goes through every object that can hold
# others, whenever the long-lived objects grow by a quarter: seven times in a cold build of the handbook.
# A build makes millions of short-lived nodes; a page's doctree, once written to disk, is dropped whole.
BUILD_COLLECTION_THRESHOLDS = (5000, 10, 100)


def fewer_collections_while_building(app, env, docnames):
    """Collect garbage less often while Sphinx builds (Python's gc thresholds, for this process and the
    workers it forks): from the start of reading (connected to env-before-read-docs) to the end of the build,
    when the previous thresholds are put back. An app that is set up but never builds changes nothing.

    Measured on 2 cores (cold `make html` of the 23-page handbook, serial): full collections took 0.43 s
    of 3.8 s; with these thresholds there are none, and a process's peak memory grows from 123 to 127 MB
    (the grown handbook's 143 pages: 208 to 275 MB)."""
    if not _PREVIOUS_THRESHOLDS:
        _PREVIOUS_THRESHOLDS.append(gc.get_threshold())
        gc.set_threshold(*BUILD_COLLECTION_THRESHOLDS)


def put_the_thresholds_back(app, exception):
    if _PREVIOUS_THRESHOLDS:
        gc.set_threshold(*_PREVIOUS_THRESHOLDS.pop())


_PREVIOUS_THRESHOLDS = []  # the thresholds before this build raised them


# -- The order pages are read in --------------------------------------------------------------------------

# Directives that write a page from a data file named in conf.py: reading such a page costs about as much
# as reading the data as text. (The `{include}`d files are found in the page itself.)
DATA_DIRECTIVES = {
    "handbook_studies": re.compile(r"^[`:]{3,}\{study-(glance|entries|search)", re.M),
    "handbook_safety_map": re.compile(r"^[`:]{3,}\{(safety-map-table|safety-checklist)\}", re.M),
    "handbook_frequencies": re.compile(r"^[`:]{3,}\{icon-array\}", re.M),
}
INCLUDE = re.compile(r"^[`:]{3,}\{include\}\s+(\S+)", re.M)


def reading_cost(app, docname):
    """About how long a page takes to read, in bytes of text: its source, the files it includes and the
    data files its directives write it from."""
    source = Path(app.env.doc2path(docname))
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, ValueError):  # unreadable or not UTF-8: reading it reports that, at the page
        return source.stat().st_size if source.is_file() else 0
    cost = len(text)
    for name in INCLUDE.findall(text):  # relative to the page, or to the source folder when it starts with /
        included = Path(app.srcdir) / name.lstrip("/") if name.startswith("/") else source.parent / name
        cost += included.stat().st_size if included.is_file() else 0
    for config_name, directive in DATA_DIRECTIVES.items():
        data = getattr(app.config, config_name, None)
        if data and directive.search(text):
            path = Path(app.confdir) / data
            cost += path.stat().st_size if path.is_file() else 0
    return cost


def finish_time(chunks, costs, workers):
    """When the last of CHUNKS (lists of pages) is read, each taken in turn by the first free worker, as
    Sphinx's ParallelTasks takes them; COSTS: each page's cost."""
    return finish_of([sum(costs[page] for page in chunk) for chunk in chunks], workers)


def finish_of(chunk_costs, workers):
    free_at = [0] * workers
    for cost in chunk_costs:
        first = free_at.index(min(free_at))
        free_at[first] += cost
    return max(free_at)


def balanced_order(docnames, costs, workers):
    """DOCNAMES reordered so that Sphinx's chunks of them (the same sizes, `make_chunks`) keep the workers
    busy to about the same time: the costliest pages first, each put in the chunk that ends the reading
    soonest."""
    sizes = [len(chunk) for chunk in make_chunks(list(docnames), workers)]
    chunks, totals = [[] for _ in sizes], [0] * len(sizes)
    for page in sorted(docnames, key=lambda name: (-costs[name], name)):

        def finish_with(number, page=page):
            trial = totals[:number] + [totals[number] + costs[page]] + totals[number + 1:]
            return finish_of(trial, workers), number

        best = min((number for number in range(len(sizes)) if len(chunks[number]) < sizes[number]),
                   key=finish_with)
        chunks[best].append(page)
        totals[best] += costs[page]
    return [page for chunk in chunks for page in chunk]


def read_in_balanced_chunks(app, env, docnames):
    """Reorder the pages to read so that the parallel workers finish together (connected to
    env-before-read-docs, whose documented use this is: the list is reordered in place).

    Sphinx cuts the sorted list into chunks of ten and gives each to the next free worker; the studies
    page (written from studies.yml) costs as much as eight others, and with the pages in alphabetical order
    one worker read a last chunk alone for 0.4 s of a 1.1 s reading phase."""
    if app.parallel <= 1 or len(docnames) < 2:
        return
    costs = {docname: reading_cost(app, docname) for docname in docnames}
    docnames[:] = balanced_order(docnames, costs, app.parallel)


def setup(app):
    app.connect("env-before-read-docs", fewer_collections_while_building)
    app.connect("build-finished", put_the_thresholds_back)
    # After patches.serial_for_small_updates (priority 500), which may turn parallel reading off.
    app.connect("env-before-read-docs", read_in_balanced_chunks, priority=600)
