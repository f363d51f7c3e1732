"""Build: what keeps a cold build fast (docs/_ext/handbook/speed.py, and the speed-ups in patches.py) changes
nothing in the output, and does what it says.

Timings themselves are in tests/bench.py (`make bench`), not here. tests/test_build.py compares `make`'s
parallel site with a clean build in one process, byte for byte; these tests build the small fixture handbook
in-process, with and without each speed-up.
"""

import gc
import pathlib
import sys

import pytest
from conftest import build_pages, copy_root
from sphinx.testing.util import SphinxTestApp
from sphinx.util.parallel import make_chunks

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "docs" / "_ext"))
from handbook import patches, speed  # noqa: E402

pytestmark = pytest.mark.fast

# -- Garbage collection -----------------------------------------------------------------------------------


def test_the_build_collects_garbage_less_often_and_puts_the_thresholds_back(tmp_path):
    before, during = gc.get_threshold(), []
    app = SphinxTestApp("dummy", srcdir=copy_root("handbook", tmp_path / "src"), freshenv=True)
    try:
        assert gc.get_threshold() == before  # set up, not yet building: nothing changed
        app.connect("env-updated", lambda app, env: during.append(gc.get_threshold()))
        app.build()
    finally:
        app.cleanup()
    assert during == [speed.BUILD_COLLECTION_THRESHOLDS]
    assert gc.get_threshold() == before != speed.BUILD_COLLECTION_THRESHOLDS


# -- The order pages are read in ----------------------------------------------------------------------------

# Read times of the handbook's pages (ms, one process, December 2026): the studies page, written from
# studies.yml, costs as much as eight others.
COSTS = {"about": 36, "accessibility": 24, "anxiety": 41, "approvals": 37, "benefits-and-risks": 53, "changes": 37,
         "checklist": 32, "contributing": 113, "evidence-levels": 25, "evidence-search": 32, "future-research": 41,
         "glossary": 50, "index": 27, "ketamine-history": 39, "label-coverage": 163, "mechanism": 35,
         "options": 49, "patient-stories": 35, "questions": 65, "references": 13, "safety": 50, "studies": 343,
         "summary": 30}


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_pages_are_read_in_chunks_that_keep_the_workers_busy(workers):
    pages = sorted(COSTS)
    order = speed.balanced_order(pages, COSTS, workers)
    assert sorted(order) == pages  # the same pages, each once
    alphabetical = speed.finish_time(make_chunks(pages, workers), COSTS, workers)
    balanced = speed.finish_time(make_chunks(order, workers), COSTS, workers)
    assert balanced < alphabetical, (balanced, alphabetical)
    if workers == 2:  # two cores, as `make` runs here: the two workers finish within 5 % of each other
        assert balanced <= 1.05 * sum(COSTS.values()) / 2, (balanced, sum(COSTS.values()) / 2)
    assert speed.balanced_order(list(reversed(pages)), COSTS, workers) == order  # whatever order given


def test_a_chunk_read_alone_at_the_end_was_what_the_alphabet_gave():
    """The case this fixes: in alphabetical order, one worker read a last chunk alone."""
    pages = sorted(COSTS)
    assert speed.finish_time(make_chunks(pages, 2), COSTS, 2) > 1.2 * sum(COSTS.values()) / 2


def test_a_page_costs_its_text_its_included_files_and_the_data_it_is_written_from(tmp_path):
    srcdir = copy_root("handbook", tmp_path / "src")
    (srcdir / "long.txt").write_text("x" * 5000, encoding="utf-8")
    (srcdir / "with-include.md").write_text("# Page\n\n```{include} long.txt\n```\n", encoding="utf-8")
    (srcdir / "sub").mkdir()
    (srcdir / "sub" / "rooted.md").write_text("# Page\n\n```{include} /long.txt\n```\n", encoding="utf-8")
    (srcdir / "with-map.md").write_text("# Page\n\n```{safety-map-table} glue2017\n```\n", encoding="utf-8")
    (srcdir / "plain.md").write_text("# Page\n\nText.\n", encoding="utf-8")
    app = SphinxTestApp("dummy", srcdir=srcdir, freshenv=True)
    try:
        cost = {name: speed.reading_cost(app, name)
                for name in ("with-include", "sub/rooted", "with-map", "plain", "missing")}
    finally:
        app.cleanup()
    safety_map = (srcdir / app.config.handbook_safety_map).stat().st_size
    assert cost["plain"] == len("# Page\n\nText.\n")
    assert cost["with-include"] == len("# Page\n\n```{include} long.txt\n```\n") + 5000
    assert cost["sub/rooted"] == len("# Page\n\n```{include} /long.txt\n```\n") + 5000
    assert cost["with-map"] == len("# Page\n\n```{safety-map-table} glue2017\n```\n") + safety_map
    assert cost["missing"] == 0


def test_the_pages_are_reordered_only_for_a_parallel_read():
    app = type("App", (), {"parallel": 1})()
    pages = ["b", "a"]
    speed.read_in_balanced_chunks(app, None, pages)
    assert pages == ["b", "a"]


# -- Citations resolved once per page address (patches.py) ---------------------------------------------------

CITING_PAGE = """\
---
title: Citing
description: A page that cites the same source several times.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [citing]
---

:::{admonition} Key points
:class: key-points

- Ketamine is a medicine {cite:p}`glue2017`. It is used in surgery {cite:p}`glue2017`.
:::

It eased anxiety {cite:p}`glue2017`. Another study found the same {cite:t}`glue2017`.
"""


def html_of_fixture(srcdir, pages, builder="html", bib="", conf=""):
    """Build the fixture handbook at SRCDIR with PAGES ({name: text}) added to its toctree, BIB added to its
    .bib and CONF to its conf.py; return {path: bytes} of every HTML file written."""
    copy_root("handbook", srcdir)
    for name, added in (("conf.py", conf), ("refs.bib", bib)):
        (srcdir / name).write_text((srcdir / name).read_text(encoding="utf-8") + added, encoding="utf-8")
    index = srcdir / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "references\n```", "references\n" + "".join(f"{name}\n" for name in pages) + "```"), encoding="utf-8")
    for name, text in pages.items():
        (srcdir / f"{name}.md").write_text(text, encoding="utf-8")
    app = SphinxTestApp(builder, srcdir=srcdir, freshenv=True)
    try:
        app.build()
    finally:
        app.cleanup()
    out = pathlib.Path(app.outdir)
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.html"))}


def without_the_citation_patch(monkeypatch):
    """Upstream's resolve_xref from now on, and not patched again when the next app sets up."""
    from sphinxcontrib.bibtex import domain

    monkeypatch.setattr(domain.BibtexDomain, "resolve_xref", domain.BibtexDomain.resolve_xref.__wrapped__)
    monkeypatch.setattr(patches, "resolve_each_citation_once", lambda: None)


def test_a_citation_resolved_once_gives_the_pages_resolving_each_gave(tmp_path, monkeypatch):
    from sphinxcontrib.bibtex import domain

    calls = []
    format_references = domain.format_references
    monkeypatch.setattr(domain, "format_references", lambda *a: calls.append(a[1]) or format_references(*a))
    patched = html_of_fixture(tmp_path / "patched", {"citing": CITING_PAGE})
    patched_calls = len(calls)
    calls.clear()
    without_the_citation_patch(monkeypatch)
    unpatched = html_of_fixture(tmp_path / "unpatched", {"citing": CITING_PAGE})
    # Upstream formats every citation (the fixture's three, the page's four); the patch, each kind once per
    # page address: (p, glue2017) on the fixture's pages and this one, and (t, glue2017).
    assert len(calls) == 7 and patched_calls == 2, (calls, patched_calls)
    assert patched.keys() == unpatched.keys()
    for page in patched:
        assert patched[page] == unpatched[page], f"{page} differs with the patch"
    assert b"Glue" in patched[pathlib.Path("citing.html")]


LOCAL_BIBLIOGRAPHY = """\
---
title: Page {name}
description: A page with its own list of sources.
last_reviewed: 2026-10-01
next_review: 2027-04-01
reviewers: [Test team]
keywords: [page]
---

:::{{admonition}} Key points
:class: key-points

- Page {name} cites {{cite:p}}`glue2017`.
:::

Page {name} cites {{cite:p}}`glue2017`.

## Sources of {name}

```{{bibliography}}
:filter: docname in docnames
```
"""


YANG2021 = """
@article{yang2021,
  author  = {Yang, X. and Fang, Y. and Chen, H. and others},
  title   = {Global, regional and national burden of anxiety disorders from 1990 to 2019},
  journal = {Epidemiology and Psychiatric Sciences},
  year    = {2021},
  doi     = {10.1017/S2045796021000275},
  evidence = {background}
}
"""


@pytest.mark.parametrize("builder", ["singlehtml", "html"])
def test_a_page_with_its_own_bibliography_links_to_it_as_without_the_patch(tmp_path, monkeypatch, builder):
    """Upstream links a citation to the citing page's own bibliography first; in a single-page build every
    page has the same address, so the page itself must be part of what the patch keeps a result by."""
    # b cites another source first, so its own list numbers Glue differently from a's
    b_first = "Page b cites {cite:p}`yang2021` and {cite:p}`glue2017`.\n\n##"
    pages = {"a": LOCAL_BIBLIOGRAPHY.format(name="a"),
             "b": LOCAL_BIBLIOGRAPHY.format(name="b").replace("Page b cites {cite:p}`glue2017`.\n\n##", b_first)}
    conf = "\nsuppress_warnings = ['bibtex.duplicate_citation', 'bibtex.duplicate_label']\n"
    patched = html_of_fixture(tmp_path / "patched", pages, builder, bib=YANG2021, conf=conf)
    without_the_citation_patch(monkeypatch)
    unpatched = html_of_fixture(tmp_path / "unpatched", pages, builder, bib=YANG2021, conf=conf)
    assert patched == unpatched


def patched_resolve_counting_upstream(monkeypatch):
    """The patched BibtexDomain.resolve_xref, with the upstream function it calls replaced by one that answers
    "resolved upstream" and notes each target it is asked for (the list returned)."""
    from sphinxcontrib.bibtex.domain import BibtexDomain

    patches.resolve_each_citation_once()
    resolve = BibtexDomain.resolve_xref
    upstream = next(cell for cell in resolve.__closure__ if cell.cell_contents is resolve.__wrapped__)
    calls = []
    monkeypatch.setattr(upstream, "cell_contents", lambda *args: calls.append(args[5]) or "resolved upstream")
    monkeypatch.setattr(patches, "_RESOLVED", {})
    return resolve, calls


def test_a_citation_whose_bibliography_has_no_address_is_resolved_by_upstream(monkeypatch):
    """A LaTeX document without the bibliography's page: upstream writes the role's text, every time."""
    from sphinx.errors import NoUri

    resolve, calls = patched_resolve_counting_upstream(monkeypatch)
    key = type("Key", (), {"docname": "refs"})()
    citation = type("Citation", (), {"key": "glue2017", "bibliography_key": key})()
    bibliography = type("Bibliography", (), {"list_": "citation"})()
    domain = type("Domain", (), {"citations": [citation], "bibliographies": {key: bibliography}})()

    def no_address(fromdocname, docname):
        raise NoUri(docname)

    builder = type("Builder", (), {"name": "latex", "get_relative_uri": staticmethod(no_address)})()
    for _ in range(2):
        assert resolve(domain, object(), "page", builder, "p", "glue2017", None, None) == "resolved upstream"
    assert calls == ["glue2017", "glue2017"]


def test_a_citation_of_an_unknown_key_is_resolved_every_time(monkeypatch):
    """Never kept: upstream resolves it (and warns) at each place it is cited."""
    resolve, calls = patched_resolve_counting_upstream(monkeypatch)
    domain = type("Domain", (), {"citations": [], "bibliographies": {}})()
    for _ in range(2):
        assert resolve(domain, object(), "page", None, "p", "unknown2020", None, None) == "resolved upstream"
    assert calls == ["unknown2020", "unknown2020"]


def test_a_page_citing_an_unknown_key_twice_fails_at_both_places(tmp_path):
    page = CITING_PAGE.replace("It eased anxiety {cite:p}`glue2017`", "It eased anxiety {cite:p}`nobody2020`")
    page = page.replace("the same {cite:t}`glue2017`", "the same {cite:t}`nobody2020`")
    warnings = build_pages(tmp_path / "src", {"citing": page}, builder="html")
    assert warnings.count("nobody2020") >= 2, warnings
