"""Every change the handbook makes to code it does not own: Sphinx, pybtex and sphinxcontrib-bibtex.

Nothing else in the extension replaces a third-party function or attribute; the other modules use
public hooks only (events, directives, roles, node visitors, sphinxcontrib-bibtex's plugin registry).

Each patch is a `Patch` in PATCHES, its reason in the docstring of its `apply` function: what it fixes,
the upstream version it was written for, the upstream issue (or why there is none), and, where the fix
belongs upstream, the text of a bug report. Each names the upstream code it relies on, with a fingerprint
of that code's source (16 hex digits of its SHA-256). `setup` checks every fingerprint before it applies
anything and stops the build with its message if one differs: a patch written against one version
of a function must not run silently against another (the checking is in upstream.py).
tests/test_patches.py runs the same checks, and checks that each upstream problem is still there (so a
patch no longer needed is noticed too).

When an upgrade trips a check:
1. read the patch's docstring, then the new upstream code it names;
2. if upstream fixed the problem, delete the patch; otherwise adapt it to the new code;
3. print the new fingerprints and copy them here:
   ``PYTHONPATH=docs/_ext .venv/bin/python -c "from handbook import patches; patches.print_fingerprints()"``
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import inspect
import os
import sys
import types

from .upstream import Patch, UpstreamChanged, fingerprint, resolve, source_of  # noqa: F401  (re-exported)

# -- Sphinx: search index -------------------------------------------------------------------------


def keep_index_entries_between_builds(app):
    """Keep the index entries of pages an incremental HTML build does not rewrite, in a stable order.

    Fixes: the handbook's keywords reach the search as index entries (search.py). Sphinx rebuilds
    `searchindex.js` from the previous one plus the rewritten pages, but `IndexBuilder.load` restores
    titles and words, not index entries, so after a second `make html` most keyword results are gone.
    This wraps the builder's `load_indexer` (on this builder only) to put back the entries of the pages
    that are not rewritten, read from the previous index, and makes `freeze` write them in docname
    order, so the output is the same whichever pages were rewritten.
    Written for: Sphinx 9.0.4.
    Upstream: https://github.com/sphinx-doc/sphinx/issues/12599 (open; reported for 7.4.4).
    Bug report (the ordering part, to add to that issue):
        `IndexBuilder.freeze()` builds 'indexentries' by walking `_index_entries` in insertion order,
        so once `load()` restores entries, the order of pages in each entry's list depends on which
        pages the build rewrote, and `searchindex.js` differs between a full and an incremental build
        of the same sources. Walking `sorted(self._index_entries.items())` makes it reproducible.
    It also drops the words that no page has any longer. `prune` takes the rewritten pages out of each
    word's set of pages but keeps the word, and `get_terms` writes an empty set as `[]`: a word taken out
    of a page stays in an incremental build's index (matching nothing), and not in a clean build's.
    Bug report (to file with sphinx-doc/sphinx, none found open):
        After an incremental HTML build in which a page loses a word that no other page has,
        `searchindex.js` keeps the word with an empty list ("tex":[]), so it differs from a clean build's.
        `IndexBuilder.prune()` intersects each word's set of pages with the pages kept and never deletes
        a word whose set became empty; `get_terms()` then writes it. Deleting empty sets in `prune()` (or
        skipping them in `get_terms()`) makes the two builds' indexes the same.
    """
    builder = app.builder
    load_indexer = getattr(builder, "load_indexer", None)
    if load_indexer is None or getattr(load_indexer, "handbook_patch", False):
        return

    def load_indexer_with_entries(docnames):
        load_indexer(docnames)
        if builder.indexer is not None:
            remember_stems(builder.indexer.lang)
        path = os.path.join(builder.outdir, builder.searchindex_filename)
        if builder.indexer is None or not os.path.exists(path):
            return
        from sphinx.search import js_index

        with open(path, encoding="utf-8") as f:
            try:
                frozen = js_index.loads(f.read())
            except ValueError:
                return
        names, restored = frozen["docnames"], {}
        for entry, places in frozen.get("indexentries", {}).items():
            for file_index, target, main in places:
                restored.setdefault(names[file_index], []).append((entry, target, "main" if main else ""))
        indexer = builder.indexer
        for docname, entries in restored.items():
            if docname in indexer._titles and docname not in docnames:
                indexer._index_entries[docname] = sorted(entries)
        freeze = indexer.freeze

        def sorted_freeze():
            ordered = dict(sorted(indexer._index_entries.items()))
            indexer._index_entries.clear()
            indexer._index_entries.update(ordered)
            for mapping in (indexer._mapping, indexer._title_mapping):  # words no page has any longer
                for word in [word for word, pages in mapping.items() if not pages]:
                    del mapping[word]
            return freeze()

        indexer.freeze = sorted_freeze

    load_indexer_with_entries.handbook_patch = True
    builder.load_indexer = load_indexer_with_entries


def remember_stems(language):
    """Stem each word once per build, not once per page.

    Fixes: speed. `IndexBuilder.feed` memoises stems only while it indexes one page, and the same
    words (the disclaimer's among them) come back on every page: stemming was about an eighth of a
    profiled cold build. Stemming is a pure function of the word, so the result is the same.
    Applied by keep_index_entries_between_builds, to the indexer's language object of this build (and
    by search.search_data to the one it stems the section-level index with).
    Written for: Sphinx 9.0.4.
    Upstream: no issue; it is a speed-up, not a bug. Suggestion for Sphinx:
        `IndexBuilder.feed()` wraps `self.lang.stem` in a fresh `functools.cache` for each document,
        so common words are stemmed again on every page. Keeping one cache on the IndexBuilder for
        the whole build would save about 10 % of a cold build of a small site.
    """
    if not hasattr(language.stem, "cache_info"):
        language.stem = functools.lru_cache(maxsize=None)(language.stem)


# -- Sphinx: parallel builds ---------------------------------------------------------------------

# Fewer pages than this to read, and the build runs in one process even when given -j.
SERIAL_BELOW_PAGES = 6


def serial_for_small_updates(app, env, docnames):
    """Read and write a build of a few pages in one process (connected to env-before-read-docs).

    Fixes: speed. `make` passes `-j auto`, which makes a cold build of every page faster on two cores.
    But a parallel build forks worker processes and polls them every 20 ms: a profile of a one-page
    edit showed 0.28 s of waiting in a 1.9 s (profiled) rebuild. Sphinx decides on parallel reading,
    and later on parallel writing, after this event, from `app.parallel`, so lowering it here is enough.
    Written for: Sphinx 9.0.4.
    Upstream: no issue; parallel reading is a user's choice. Suggestion for Sphinx:
        With -j N, `Builder.read()` forks workers even for one changed document; below a handful of
        documents the fork and the 20 ms polling cost more than they save. Reading serially when
        len(docnames) is small (as `_read_parallel` already chunks by size) would make -j auto a
        safe default for incremental builds.
    """
    if app.parallel > 1 and len(docnames) < SERIAL_BELOW_PAGES:
        app.parallel = 1


def _app_has_parallel():
    from sphinx.application import Sphinx

    if "self.parallel = parallel" not in source_of(Sphinx.__init__):
        return "sphinx.application.Sphinx.__init__ no longer sets self.parallel"
    return None


# -- pybtex and sphinxcontrib-bibtex ----------------------------------------------------------------


# importlib.metadata.entry_points, each answer kept for the build.
cached_entry_points = functools.lru_cache(maxsize=None)(importlib.metadata.entry_points)


def cache_entry_points():
    """Find each plugin through the installed packages' entry points once per build.

    Fixes: speed. pybtex and sphinxcontrib-bibtex look up their styles and backends with
    `importlib.metadata.entry_points`, which reads every installed package's metadata on each call;
    a profile of the HTML build showed it repeated for each of the ~240 citations. Installed
    packages do not change during a build, so each answer is kept. The answers are tuples of
    EntryPoint objects, which the callers only read.
    Written for: pybtex 0.26.1 and sphinxcontrib-bibtex 2.7.0.
    Upstream: none known (importlib.metadata caches nothing by design). Bug report for pybtex:
        `pybtex.plugin._load_entry_point` calls `importlib.metadata.entry_points()` on every
        `find_plugin()`, and sphinxcontrib-bibtex calls `find_plugin` for each citation it formats,
        so a build with a few hundred citations reads every installed package's metadata a few
        hundred times. Caching the entry points per (group, name) in `pybtex.plugin` (installed
        packages do not change while a process runs) removes that cost; pygments did the same in
        https://github.com/pygments/pygments/pull/2979.
    """
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    pybtex.plugin.entry_points = cached_entry_points
    sphinxcontrib.bibtex.plugin.entry_points = cached_entry_points


def _modules_use_importlib_entry_points():
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    for module in (pybtex.plugin, sphinxcontrib.bibtex.plugin):
        current = getattr(module, "entry_points", None)
        if current is not importlib.metadata.entry_points and current is not cached_entry_points:
            return f"{module.__name__}.entry_points is no longer importlib.metadata.entry_points ({current!r})"
    return None


def cache_names_from_latex():
    """Decode each LaTeX string (authors' names, mostly) into rich text once per build.

    Fixes: speed. Every author's name was decoded from LaTeX again for each citation. The same
    string always gives the same text, and pybtex never changes a rich-text object once made, so
    `Text.from_latex` is wrapped in a cache.
    Written for: pybtex 0.26.1.
    Upstream: none known; a speed-up, not a bug. Suggestion for pybtex:
        `Person` parsing calls `Text.from_latex` for every name part each time an entry is
        formatted; memoising it (rich text is immutable) makes formatting many citations of the
        same entries several times faster.
    """
    from pybtex.richtext import Text

    if not hasattr(Text.from_latex, "cache_info"):
        Text.from_latex = classmethod(functools.lru_cache(maxsize=None)(Text.from_latex.__func__))


def keep_formatted_entries(app):
    """Keep each bibliography entry as formatted for the References page from one build to the next.

    Fixes: speed. sphinxcontrib-bibtex formats the whole bibliography at env-updated, on every build,
    whatever changed: about 0.1 s of a 0.75 s one-page rebuild (0.3 s profiled), for output that is
    the same unless the entry, its label or the style changed. pybtex's `BaseStyle.format_entry` is
    wrapped to return last build's result when the style, the label and everything of the entry that
    formatting reads (type, fields, names) are the same; the results live on the environment
    (`env.handbook_formatted_entries`), so they are pickled with it and dropped with it, and all of
    them are dropped when pybtex or sphinxcontrib-bibtex is another version. An entry with a crossref
    (whose formatting reads another entry) and a call with bibliography data are never kept. A missing
    field still raises at every build, so its warning is never lost.
    Applied by setup (the wrapper) and at builder-inited (this function: which environment's results).
    Written for: pybtex 0.26.1 and sphinxcontrib-bibtex 2.7.0.
    Upstream: none known; a speed-up, not a bug. Suggestion for sphinxcontrib-bibtex:
        `BibtexDomain.env_updated` formats every entry of every bibliography on each build, even
        when no page that cites or lists them changed. Keeping the formatted entries in the domain
        data, keyed by the entry's fields and label, would make incremental builds of a site with a
        large bibliography cost the same as of one without.
    """
    versions = (importlib.metadata.version("pybtex"), importlib.metadata.version("sphinxcontrib-bibtex"))
    env = app.env
    kept = getattr(env, "handbook_formatted_entries", None)
    if not kept or kept.get("versions") != versions:
        kept = env.handbook_formatted_entries = {"versions": versions, "entries": {}}
    _FORMATTED["entries"] = kept["entries"]


# The formatted entries of this build's environment, while it runs: {(style, label, key): (state, entry)}.
_FORMATTED = {}


def entry_state(entry):
    """Everything of a bibliography entry that formatting it reads."""
    names = tuple((role, tuple((p.first_names, p.middle_names, p.prelast_names, p.last_names, p.lineage_names)
                               for p in persons)) for role, persons in entry.persons.items())
    return entry.type, tuple(entry.fields.items()), names


def style_of(style):
    """What names a formatting style: its class and the classes of its parts, and its options."""
    return tuple(f"{type(part).__module__}.{type(part).__qualname__}" for part in
                 (style, style.name_style, style.label_style, style.sorting_style)) + (style.abbreviate_names,)


def format_entries_once():
    """Wrap pybtex's `BaseStyle.format_entry` to use the results keep_formatted_entries keeps."""
    from pybtex.style.formatting import BaseStyle

    format_entry = BaseStyle.format_entry
    if getattr(format_entry, "handbook_patch", False):
        return

    def format_entry_kept(self, label, entry, bib_data=None):
        kept = _FORMATTED.get("entries")
        if kept is None or bib_data is not None or "crossref" in entry.fields:
            return format_entry(self, label, entry, bib_data)
        key, state = (style_of(self), label, entry.key), entry_state(entry)
        last = kept.get(key)
        if last is not None and last[0] == state:
            return last[1]
        formatted = format_entry(self, label, entry, bib_data)
        kept[key] = (state, formatted)
        return formatted

    format_entry_kept.handbook_patch = True
    format_entry_kept.__wrapped__ = format_entry
    BaseStyle.format_entry = format_entry_kept


def resolve_each_citation_once():
    """Resolve each citation (`{cite:p}` with the same keys) once per page address, not once per use.

    Fixes: speed. sphinxcontrib-bibtex formats a citation with pybtex's templates every time it is
    resolved: 590 citations of 128 kinds in the handbook, 0.2 s of a cold build, all of it in Sphinx's main
    process, which resolves every page before handing it to a worker. The result depends on the role,
    the keys (with their pre- and post-text, all in the target), the builder, the relative addresses from
    the page of the pages whose bibliographies list those keys, and, when the page is one of them, the page
    itself (upstream prefers its own bibliography); that is the key, and each use gets a deep copy. A
    citation with an unknown key, or whose bibliography has no address from the page (outside a LaTeX
    document), is resolved by upstream every time, so its warning or its text is as upstream gives it.
    Written for: sphinxcontrib-bibtex 2.7.0 (and Sphinx 9.0.4's make_refnode, which builds the link).
    Upstream: none known; a speed-up, not a bug. Suggestion for sphinxcontrib-bibtex:
        `BibtexDomain.resolve_xref` formats the citation's pybtex template on every call; a site
        that cites the same source on many pages formats the same text again each time. Caching the
        formatted references by (role, target) for the build would make resolving cheap.
    """
    from sphinxcontrib.bibtex.citation_target import parse_citation_targets
    from sphinxcontrib.bibtex.domain import BibtexDomain

    resolve_xref = BibtexDomain.resolve_xref
    if getattr(resolve_xref, "handbook_patch", False):
        return

    def resolve_xref_once(self, env, fromdocname, builder, typ, target, node, contnode):
        from sphinx.errors import NoUri

        if id(env) not in _RESOLVED:  # every page has been read: the pages whose bibliographies list each key
            listed = {}
            for cit in self.citations:
                if self.bibliographies[cit.bibliography_key].list_ == "citation":
                    listed.setdefault(cit.key, set()).add(cit.bibliography_key.docname)
            _RESOLVED[id(env)] = (listed, {})
        listed, resolved = _RESOLVED[id(env)]
        keys = [found.key for found in parse_citation_targets(target)]
        if not all(key in listed for key in keys):
            return resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode)
        pages = sorted(set().union(*(listed[key] for key in keys)))
        try:
            addresses = tuple(builder.get_relative_uri(fromdocname, page) for page in pages)
        except NoUri:  # a page outside the document being written (LaTeX): as upstream does, every time
            return resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode)
        # Upstream links a page's citation to its own bibliography first: such a page is its own kind.
        key = (builder.name, typ, target, fromdocname if fromdocname in pages else None, addresses)
        if key not in resolved:
            resolved[key] = resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode).deepcopy()
        return resolved[key].deepcopy()

    resolve_xref_once.handbook_patch = True
    resolve_xref_once.__wrapped__ = resolve_xref
    BibtexDomain.resolve_xref = resolve_xref_once


# For the environment being built, {id(env): ({citation key: pages listing it}, {key: node})};
# emptied when a build has read its pages (the bibliography may have changed since the last build).
_RESOLVED = {}


def forget_resolved_citations(app, env):
    _RESOLVED.clear()


# -- textstat -------------------------------------------------------------------------------------------


def defer_pkg_resources():
    """Put a lazily loaded `pkg_resources` in `sys.modules`, so that importing textstat does not load it.

    Fixes: speed (and a deprecation warning). textstat 0.7.4 imports setuptools' `pkg_resources` when it
    is imported, for its lists of easy words, which only readability formulas the handbook does not use
    read; loading it (and `packaging`, `jaraco`, `platformdirs`) took 28 ms of every build, a one-page
    edit's included. A stand-in takes its place and imports it when a name of it is first read, if ever:
    a code path that reads the lists gets the real module.
    Called by setup and by readability.py, before either imports textstat; does nothing when pkg_resources
    is already imported or is not installed.
    Written for: textstat 0.7.4.
    Upstream: textstat 0.7.5 and later read their resources another way but require NLTK, which the
    handbook avoids (its grades are counted offline with pyphen). Nothing to report.
    """
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is not None:
        sys.modules["pkg_resources"] = ImportedOnFirstUse("pkg_resources")


class ImportedOnFirstUse(types.ModuleType):
    """A stand-in for a module, in `sys.modules`, that imports the module when one of its names is first read
    (importlib's LazyLoader loads it as soon as `import` looks at the stand-in's `__spec__`)."""

    def __getattr__(self, name):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _textstat_imports_pkg_resources_only_for_easy_words():
    import textstat  # noqa: F401  (its module textstat.textstat)

    uses = [line for line in inspect.getsource(sys.modules["textstat.textstat"]).splitlines()
            if "pkg_resources" in line]
    if uses != ["import pkg_resources", *["                    for ln in pkg_resources.resource_stream("] * 2]:
        return "textstat uses pkg_resources in new places: check that loading it lazily is still right"
    return None


def count_each_word_once():
    """Keep each word's hyphenation points for the process, for textstat's syllable count.

    Fixes: speed. readability.py grades every page's text with textstat, whose `syllable_count` asks
    pyphen for each word's hyphenation points: 32,000 words, 0.06 s of Sphinx's main process in a cold
    build, although pyphen keeps its own points per word (two calls and a list for each word remain).
    The points of a word do not change, and textstat only counts them, so the count is the same.
    Applied at setup, to textstat's own Pyphen object (the instance, not the class).
    Written for: textstat 0.7.4 (pyphen 0.18.1).
    Upstream: none known; a speed-up, not a bug. Suggestion for textstat:
        `syllable_count` calls `Pyphen.positions` once per word, in words already counted; an
        `lru_cache` on a per-word count would make grading long texts several times faster.
    """
    import textstat

    hyphenation = textstat.textstat.pyphen
    if not hasattr(hyphenation.positions, "cache_info"):
        hyphenation.positions = functools.lru_cache(maxsize=None)(hyphenation.positions)


# -- pyphen --------------------------------------------------------------------------------------------

HYPHENATION_KEPT = "handbook-hyphenation.pickle"  # in the build's doctree folder


def keep_hyphenation_patterns(app):
    """Give pyphen the English hyphenation patterns as an earlier build parsed them, kept in the build folder.

    Fixes: speed. textstat, which readability.py grades pages with, makes a pyphen dictionary for en_US
    when it is imported; pyphen parses the 11,000 patterns of its bundled `hyph_en_US.dic` each time:
    44 ms of every build, a one-page edit's included. Unpickled, the same patterns take 4 ms. They are kept
    beside the doctrees with the pyphen version, the dictionary file's size and time and a SHA-256 of the
    patterns, and parsed again when any of them differs or the file cannot be read (a clean build parses
    them, and keeps them).
    Called by setup before anything imports textstat (readability.py imports it when it first grades).
    Written for: pyphen 0.18.1 (`HyphDict`: `patterns`, `cache`, `maxlen`; the module's `hdcache`).
    Upstream: none known; a speed-up, not a bug. Suggestion for pyphen:
        `HyphDict.__init__` parses the .dic file on every process start. Shipping the parsed patterns
        (or caching them on disk) would make `Pyphen(lang=...)` ten times faster to create.
    """
    import hashlib
    import pickle
    import tempfile

    import pyphen

    dictionary = pyphen.LANGUAGES[pyphen.language_fallback("en_US")]
    if dictionary in pyphen.hdcache:
        return
    stat = os.stat(str(dictionary))
    stamp = (importlib.metadata.version("pyphen"), str(dictionary), stat.st_size, stat.st_mtime_ns)
    kept = os.path.join(str(app.doctreedir), HYPHENATION_KEPT)
    try:  # (stamp, SHA-256 of the patterns' bytes, those bytes): anything else is parsed again
        with open(kept, "rb") as file:
            kept_stamp, digest, data = pickle.load(file)  # noqa: S301 (the build's own file)
        if kept_stamp != stamp or hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("stale or damaged")
        patterns, maxlen = pickle.loads(data)  # noqa: S301
        hyphenation = object.__new__(pyphen.HyphDict)
        hyphenation.patterns, hyphenation.cache, hyphenation.maxlen = patterns, {}, maxlen
    except Exception:  # noqa: BLE001 (a missing, stale or damaged file: parse the dictionary, as pyphen does)
        hyphenation = pyphen.HyphDict(dictionary)
        data = pickle.dumps((hyphenation.patterns, hyphenation.maxlen), pickle.HIGHEST_PROTOCOL)
        temporary = None
        try:  # each process writes its own file, then renames it: builds sharing the folder do not collide
            os.makedirs(str(app.doctreedir), exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=str(app.doctreedir), prefix=HYPHENATION_KEPT)
            with os.fdopen(handle, "wb") as file:
                pickle.dump((stamp, hashlib.sha256(data).hexdigest(), data), file, pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, kept)
        except OSError:  # not kept: the next build parses the patterns again
            if temporary and os.path.exists(temporary):
                os.remove(temporary)
    pyphen.hdcache[dictionary] = hyphenation


# -- The list -------------------------------------------------------------------------------------

PATCHES = (
    Patch(
        name="search index entries kept between builds",
        apply=keep_index_entries_between_builds,
        package="sphinx", written_for="9.0.4",
        relies_on={
            "sphinx.builders.html:StandaloneHTMLBuilder.load_indexer": "b78f84fcc285866a",
            "sphinx.search:IndexBuilder.load": "497d629d025b36e0",
            "sphinx.search:IndexBuilder.prune": "cd9133b0a71ae089",
            "sphinx.search:IndexBuilder.freeze": "2088519f168e6c7a",
            "sphinx.search:IndexBuilder.get_terms": "ba9cf3ae1547fb0c",
            "sphinx.search:_JavaScriptIndex.loads": "ca34756ef6d897c7",
        },
    ),
    Patch(
        name="each word stemmed once per build",
        apply=remember_stems,
        package="sphinx", written_for="9.0.4",
        relies_on={
            "sphinx.search:IndexBuilder.feed": "056af53b330d8dac",
            "sphinx.search.en:SearchEnglish.stem": "54afa907cd62bf66",
        },
    ),
    Patch(
        name="small builds run serially",
        apply=serial_for_small_updates,
        package="sphinx", written_for="9.0.4",
        relies_on={
            "sphinx.builders:Builder.read": "c937cf30a8a87fe6",
            "sphinx.builders:Builder.build": "98501f7f3c98d44a",
        },
        check=_app_has_parallel,
    ),
    Patch(
        name="entry points looked up once per build",
        apply=cache_entry_points,
        package="pybtex", written_for="0.26.1",
        relies_on={
            "pybtex.plugin:_load_entry_point": "651a544d021985ba",
            "pybtex.plugin:enumerate_plugin_names": "a53bfce514f32af2",
            "pybtex.plugin:register_plugin": "9464791cf0f511c9",
            "sphinxcontrib.bibtex.plugin:_entry_points": "b60f9bba35f0420c",
        },
        check=_modules_use_importlib_entry_points,
    ),
    Patch(
        name="formatted bibliography entries kept between builds",
        apply=keep_formatted_entries,
        package="sphinxcontrib-bibtex", written_for="2.7.0",
        relies_on={
            "pybtex.style.formatting:BaseStyle.format_entry": "97df7b744039bb7c",
            "pybtex.style.formatting:BaseStyle.__init__": "9ffb5424a39ed776",
            "sphinxcontrib.bibtex.domain:BibtexDomain.get_formatted_entries": "578a8cecac09a5d3",
            "sphinxcontrib.bibtex.domain:BibtexDomain.env_updated": "738666286f00a8c1",
        },
    ),
    Patch(
        name="each citation resolved once per page address",
        apply=resolve_each_citation_once,
        package="sphinxcontrib-bibtex", written_for="2.7.0",
        relies_on={
            "sphinxcontrib.bibtex.domain:BibtexDomain.resolve_xref": "53e1f8c0f8f6a137",
            "sphinxcontrib.bibtex.style.template:SphinxReferenceText.render": "b7623e822e1c3b9a",
            "sphinx.util.nodes:make_refnode": "23007e5be017b53b",
        },
    ),
    Patch(
        name="pkg_resources loaded only if textstat uses it",
        apply=defer_pkg_resources,
        package="textstat", written_for="0.7.4",
        relies_on={"textstat.textstat:textstatistics._textstatistics__get_lang_easy_words": "cb66b1de6526acd9"},
        check=_textstat_imports_pkg_resources_only_for_easy_words,
    ),
    Patch(
        name="each word's syllables counted once per process",
        apply=count_each_word_once,
        package="textstat", written_for="0.7.4",
        relies_on={
            "textstat.textstat:textstatistics.syllable_count": "9e73ed36697fe0ef",
            "pyphen:Pyphen.positions": "f325a63f6c3f2ae7",
        },
    ),
    Patch(
        name="hyphenation patterns parsed once and kept",
        apply=keep_hyphenation_patterns,
        package="pyphen", written_for="0.18.1",
        relies_on={"pyphen:HyphDict.__init__": "ded3bdcdf58f9d38", "pyphen:HyphDict.positions": "74d3837eaee5ba1b",
                   "pyphen:Pyphen.__init__": "1c1b59c951875735"},
    ),
    Patch(
        name="LaTeX names decoded once per build",
        apply=cache_names_from_latex,
        package="pybtex", written_for="0.26.1",
        relies_on={"pybtex.richtext:Text.from_latex": "2bbce416f7552911"},
    ),
)


def verify_all():
    for patch in PATCHES:
        patch.verify()


def setup(app):
    """Check every patch against the installed code, then apply them. A patch that no longer fits stops
    the build with its message alone (raised as an exception, Sphinx would wrap it in a crash report that
    asks for a bug report to Sphinx)."""
    # Before anything imports textstat (verify_all does), which makes its pyphen dictionary at import.
    defer_pkg_resources()
    keep_hyphenation_patterns(app)
    try:
        verify_all()
    except UpstreamChanged as err:
        raise SystemExit(f"\nThe build stopped: {err}\n") from err
    cache_entry_points()
    cache_names_from_latex()
    format_entries_once()
    resolve_each_citation_once()
    count_each_word_once()
    app.connect("env-updated", forget_resolved_citations)
    app.connect("builder-inited", keep_formatted_entries)
    app.connect("builder-inited", keep_index_entries_between_builds)  # also remembers stems
    app.connect("env-before-read-docs", serial_for_small_updates)


def print_fingerprints():
    """Print each patch's fingerprints as the installed code has them, to paste into PATCHES."""
    for patch in PATCHES:
        print(patch.name)
        for name in patch.relies_on:
            print(f'    "{name}": "{fingerprint(resolve(name))}",')
