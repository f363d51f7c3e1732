"""The patches of third-party code (docs/_ext/handbook/patches.py): each still fits the code it replaces.

For each patch: the upstream code it relies on is the code it was written for (a test that fails when an
upgrade changes it), the upstream problem it works around is still there (so a patch that is no longer
needed is noticed), and the patch does what it says. All in-process, on small inputs; no full build.
"""

import functools
import importlib.metadata
import inspect
import io
import pathlib
import shutil
import sys
import types

import pytest
from conftest import build_again
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "docs" / "_ext"))
from handbook import patches  # noqa: E402

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("patch", patches.PATCHES, ids=lambda p: p.name)
def test_upstream_code_is_what_the_patch_was_written_for(patch):
    problems = patch.problems()
    assert not problems, (f"patch '{patch.name}' no longer fits the installed {patch.package}: "
                          + "; ".join(problems) + f". See the docstring of patches.{patch.apply.__name__}.")


def test_a_changed_upstream_function_stops_the_build_with_a_message():
    changed = patches.Patch(name="example", apply=patches.cache_names_from_latex, package="pybtex",
                            written_for="0.26.1", relies_on={"pybtex.richtext:Text.from_latex": "0" * 16})
    with pytest.raises(patches.UpstreamChanged) as raised:
        changed.verify()
    message = str(raised.value)
    assert "handbook patch 'example'" in message
    assert "pybtex.richtext:Text.from_latex has changed" in message
    assert "written for pybtex 0.26.1" in message
    assert "cache_names_from_latex" in message


def test_setup_stops_the_build_with_the_patch_s_message_alone(monkeypatch):
    changed = patches.Patch(name="example", apply=patches.cache_names_from_latex, package="pybtex",
                            written_for="0.26.1", relies_on={"pybtex.richtext:Text.from_latex": "0" * 16})
    monkeypatch.setattr(patches, "PATCHES", (changed,))
    with pytest.raises(SystemExit) as stopped:
        patches.setup(app=None)
    assert str(stopped.value).startswith("\nThe build stopped: handbook patch 'example'")


def test_a_vanished_upstream_function_stops_the_build_with_a_message():
    gone = patches.Patch(name="example", apply=patches.cache_names_from_latex, package="pybtex",
                         written_for="0.26.1", relies_on={"pybtex.richtext:Text.no_such_method": "0" * 16})
    with pytest.raises(patches.UpstreamChanged, match="no_such_method cannot be found"):
        gone.verify()


def test_every_patch_says_why_and_where_it_belongs_upstream():
    for patch in patches.PATCHES:
        doc = inspect.getdoc(patch.apply) or ""
        for part in ("Fixes:", "Written for:", "Upstream:"):
            assert part in doc, f"the docstring of patches.{patch.apply.__name__} has no '{part}'"
        assert patch.written_for in doc


# -- Search index entries ------------------------------------------------------------------------


def _index_builder():
    from sphinx.search import IndexBuilder

    env = types.SimpleNamespace(domains=types.SimpleNamespace(sorted=lambda: []), version={"x": 1})
    for name in ("titles", "filenames", "mapping", "title_mapping", "all_titles", "index_entries",
                 "objtypes", "objnames"):
        setattr(env, f"_search_index_{name}", {})
    return IndexBuilder(env, "en", {}, None)


def test_sphinx_still_drops_index_entries_when_it_loads_an_index():
    """The bug the patch works around (sphinx-doc/sphinx#12599). When this fails, Sphinx restores index
    entries itself: drop keep_index_entries_between_builds."""
    first = _index_builder()
    first._titles.update(page="Page")
    first._filenames.update(page="page.md")
    first._all_titles.update(page=[])
    first._index_entries.update(page=[("ketamine", "", "main")])
    stream = io.StringIO()
    first.dump(stream, "json")
    stream.seek(0)
    second = _index_builder()
    second.load(stream, "json")
    assert second._titles == {"page": "Page"}
    assert second._index_entries == {}, "Sphinx now restores index entries: the patch may be dropped"


def test_an_incremental_build_keeps_every_page_s_keywords_in_the_search_index(tmp_path):
    from sphinx.search import js_index

    src = tmp_path / "src"
    shutil.copytree(HERE / "roots" / "test-evidence", src)

    def build():
        app = build_again(src)
        return js_index.loads((app.outdir / "searchindex.js").read_text(encoding="utf-8"))["indexentries"]

    full = build()
    assert {"home", "topic", "references"} <= set(full)
    topic = src / "topic.md"
    topic.write_text(topic.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert build() == full


def test_sphinx_still_keeps_a_word_no_page_has_after_pruning():
    """The second bug the patch works around: a word whose pages were all rewritten stays, with no pages.
    When this fails, Sphinx drops such words itself: drop the deleting in sorted_freeze."""
    builder = _index_builder()
    builder._mapping.update(tex={"page"}, ketamine={"page", "other"})
    builder.prune(["other"])
    assert builder.get_terms({"other": 0})[0] == {"tex": [], "ketamine": 0}


def test_an_incremental_build_writes_the_search_index_a_clean_build_writes(tmp_path):
    """A page loses a word no other page has: the next build's searchindex.js is byte for byte a clean
    build's (without the patch the word stays, with no pages)."""
    src = tmp_path / "src"
    shutil.copytree(HERE / "roots" / "test-evidence", src)
    topic = src / "topic.md"
    topic.write_text(topic.read_text(encoding="utf-8") + "\nA zanzibarian word.\n", encoding="utf-8")
    build_again(src)
    topic.write_text(topic.read_text(encoding="utf-8").replace("A zanzibarian word.", "No such word."),
                     encoding="utf-8")
    incremental = (build_again(src).outdir / "searchindex.js").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    shutil.copytree(src, clean, ignore=shutil.ignore_patterns("_build"))
    assert "zanzibar" not in incremental
    assert incremental == (build_again(clean).outdir / "searchindex.js").read_text(encoding="utf-8")


# -- Stems ----------------------------------------------------------------------------------------


def _page(text):
    document = new_document("page", get_default_settings(Parser))
    Parser().parse(text, document)
    return document


def test_sphinx_still_stems_the_same_word_again_on_every_page():
    """When this fails, Sphinx keeps stems for the whole build: drop remember_stems."""
    builder = _index_builder()
    calls = []
    stem = builder.lang.stem
    builder.lang.stem = lambda word: calls.append(word) or stem(word)
    for name in ("one", "two"):
        builder.feed(name, f"{name}.md", "Title", _page("Ketamine works quickly."))
    assert calls.count("Ketamine") == 2


def test_with_the_patch_each_word_is_stemmed_once_per_build():
    builder = _index_builder()
    calls = []
    stem = builder.lang.stem
    builder.lang.stem = lambda word: calls.append(word) or stem(word)
    patches.remember_stems(builder.lang)
    for name in ("one", "two"):
        builder.feed(name, f"{name}.md", "Title", _page("Ketamine works quickly."))
    assert calls.count("Ketamine") == 1
    assert "ketamin" in builder._mapping and builder._mapping["ketamin"] == {"one", "two"}


# -- Serial builds for small updates ---------------------------------------------------------------


def test_sphinx_decides_on_parallel_reading_after_env_before_read_docs():
    from sphinx.builders import Builder

    source = inspect.getsource(Builder.read)
    assert source.index("'env-before-read-docs'") < source.index("self._app.parallel > 1")
    build = inspect.getsource(Builder.build)
    assert build.index("self.read()") < build.index("self._app.parallel > 1 and self.allow_parallel")


def test_a_build_of_few_pages_runs_in_one_process():
    app = types.SimpleNamespace(parallel=2)
    patches.serial_for_small_updates(app, None, ["one"])
    assert app.parallel == 1
    app = types.SimpleNamespace(parallel=2)
    patches.serial_for_small_updates(app, None, [str(n) for n in range(patches.SERIAL_BELOW_PAGES)])
    assert app.parallel == 2


# -- pybtex and sphinxcontrib-bibtex -----------------------------------------------------------------


def test_plugins_are_found_through_importlib_entry_points_and_found_the_same_with_the_cache():
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    patches.cache_entry_points()
    for module in (pybtex.plugin, sphinxcontrib.bibtex.plugin):
        assert module.entry_points is patches.cached_entry_points
    assert patches.cached_entry_points.__wrapped__ is importlib.metadata.entry_points
    group = "pybtex.style.formatting"
    assert list(patches.cached_entry_points(group=group, name="plain")) == list(
        importlib.metadata.entry_points(group=group, name="plain"))
    assert pybtex.plugin.find_plugin(group, "plain").__name__ == "Style"
    assert sphinxcontrib.bibtex.plugin.find_plugin("sphinxcontrib.bibtex.style.referencing", "author_year")


def test_names_decoded_from_latex_are_kept_and_the_same_as_without_the_cache():
    from pybtex.richtext import Text

    patches.cache_names_from_latex()
    uncached = inspect.unwrap(Text.from_latex.__func__)
    latex = r"Gl{\"u}e and {\'E}mile"
    assert isinstance(Text.from_latex.__func__, functools._lru_cache_wrapper)
    assert Text.from_latex(latex) is Text.from_latex(latex)
    assert Text.from_latex(latex) == uncached(Text, latex)
    assert str(Text.from_latex(latex)) == "Glüe and Émile"


def test_formatted_entries_are_kept_and_formatted_again_when_the_entry_or_its_label_changes(monkeypatch):
    from pybtex.database import Entry, Person
    from pybtex.plugin import find_plugin
    from pybtex.style.formatting import BaseStyle

    patches.format_entries_once()
    monkeypatch.setitem(patches._FORMATTED, "entries", {})
    style = find_plugin("pybtex.style.formatting", "plain")()
    entry = Entry("article", fields={"title": "Ketamine in anxiety", "journal": "J Psychopharmacol",
                                     "year": "2017"}, persons={"author": [Person("Glue, P.")]})
    entry.key = "glue2017"
    first = style.format_entry("1", entry)
    assert style.format_entry("1", entry) is first
    uncached = inspect.unwrap(BaseStyle.format_entry)(style, "1", entry)
    assert first.text.render_as("text") == uncached.text.render_as("text") and first.label == uncached.label
    entry.fields["year"] = "2018"
    again = style.format_entry("1", entry)
    assert again is not first and "2018" in again.text.render_as("text")
    entry.persons["author"].append(Person("Medlicott, N. J."))
    assert "Medlicott" in style.format_entry("1", entry).text.render_as("text")
    assert style.format_entry("2", entry).label == "2"


def test_the_patches_module_is_the_only_one_that_replaces_third_party_code():
    package = pathlib.Path(patches.__file__).parent
    for module in package.glob("*.py"):
        if module.name == "patches.py":
            continue
        text = module.read_text(encoding="utf-8")
        for sign in (".load_indexer =", ".freeze =", ".stem =", "entry_points =", "from_latex =", ".parallel =",
                     ".format_entry ="):
            assert sign not in text, f"{module.name} changes third-party code ({sign!r}); move it to patches.py"


# -- textstat -------------------------------------------------------------------------------------------


def test_textstat_still_asks_pyphen_for_every_word_it_counts():
    """When this fails, textstat counts each word once itself: drop count_each_word_once."""
    import textstat
    from pyphen import Pyphen

    counter = textstat.textstat.__class__()  # a fresh textstatistics, with its own unpatched Pyphen
    counter.pyphen = Pyphen(lang="en_US")
    asked = []
    positions = counter.pyphen.positions
    counter.pyphen.positions = lambda word: asked.append(word) or positions(word)
    counter.syllable_count("Anxiety and anxiety again.")
    assert asked.count("anxiety") == 2


def test_with_the_patch_each_word_s_syllables_are_counted_the_same_and_once():
    import textstat
    from pyphen import Pyphen

    patches.count_each_word_once()
    hyphenation = textstat.textstat.pyphen
    assert hyphenation.positions.cache_info  # kept
    text = "Ketamine can ease anxiety quickly; the benefit of ketamine fades within a week or two."
    unpatched = textstat.textstat.__class__()
    unpatched.pyphen = Pyphen(lang="en_US")
    assert textstat.syllable_count(text) == unpatched.syllable_count(text)
    assert textstat.flesch_kincaid_grade(text) == unpatched.flesch_kincaid_grade(text)
    hits = hyphenation.positions.cache_info().hits
    textstat.textstat.syllable_count.cache_clear()  # textstat keeps whole texts too: count this one again
    textstat.syllable_count(text)
    assert hyphenation.positions.cache_info().hits > hits


def test_textstat_still_imports_pkg_resources_and_gets_the_real_module_when_it_reads_a_word_list():
    """When the first assertion fails, textstat no longer imports pkg_resources: drop defer_pkg_resources."""
    import textstat  # noqa: F401

    source = inspect.getsource(sys.modules["textstat.textstat"])
    assert "\nimport pkg_resources\n" in source
    stand_in = patches.ImportedOnFirstUse("json")
    assert stand_in.dumps([1]) == "[1]"  # the real module's name, imported when first read


def test_building_loads_no_pkg_resources():
    """The handbook grades pages with textstat but never reads pkg_resources: not loaded (a fresh process)."""
    import subprocess

    code = ("import sys; sys.path.insert(0, 'docs/_ext'); from handbook import readability; "
            "readability.grade('Short words help. So do short sentences.'); "
            "print(type(sys.modules['pkg_resources']).__name__, 'jaraco.text' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ImportedOnFirstUse", "False"], out


# -- pyphen ---------------------------------------------------------------------------------------------


def _fresh_hyphenation(monkeypatch, doctreedir):
    """Run keep_hyphenation_patterns as a new process would (pyphen's in-memory cache empty); return pyphen's
    dictionary object it made, and how many times pyphen parsed the .dic file."""
    import pyphen

    parsed = []
    parse = pyphen.HyphDict.__init__
    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(pyphen.HyphDict, "__init__", lambda self, path: parsed.append(path) or parse(self, path))
    patches.keep_hyphenation_patterns(types.SimpleNamespace(doctreedir=doctreedir))
    dictionary = pyphen.LANGUAGES[pyphen.language_fallback("en_US")]
    return pyphen.hdcache[dictionary], len(parsed)


def test_hyphenation_patterns_are_parsed_once_kept_and_give_the_same_syllables(monkeypatch, tmp_path):
    from pyphen import LANGUAGES, HyphDict

    first, parsed = _fresh_hyphenation(monkeypatch, tmp_path)
    assert parsed == 1 and (tmp_path / patches.HYPHENATION_KEPT).is_file()
    again, parsed = _fresh_hyphenation(monkeypatch, tmp_path)
    assert parsed == 0, "the kept patterns were not used"
    fresh = HyphDict(LANGUAGES["en_US"])
    words = "ketamine anxiety benzodiazepine esketamine dissociation hyphenation understandable a".split()
    assert [again.positions(w) for w in words] == [fresh.positions(w) for w in words]
    assert again.patterns == fresh.patterns and again.maxlen == fresh.maxlen


def test_kept_hyphenation_patterns_are_parsed_again_when_stale_or_unreadable(monkeypatch, tmp_path):
    import pickle

    _fresh_hyphenation(monkeypatch, tmp_path)
    kept = tmp_path / patches.HYPHENATION_KEPT
    stamp, patterns, maxlen = pickle.loads(kept.read_bytes())
    kept.write_bytes(pickle.dumps((("0.0.1", *stamp[1:]), patterns, maxlen)))  # another pyphen's
    assert _fresh_hyphenation(monkeypatch, tmp_path)[1] == 1
    assert pickle.loads(kept.read_bytes())[0] == stamp  # kept again, with this pyphen's stamp
    kept.write_bytes(b"not a pickle")
    assert _fresh_hyphenation(monkeypatch, tmp_path)[1] == 1
    stamp, digest, data = pickle.loads(kept.read_bytes())
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 1  # one bit of the patterns, the stamp intact
    kept.write_bytes(pickle.dumps((stamp, digest, bytes(damaged))))
    assert _fresh_hyphenation(monkeypatch, tmp_path)[1] == 1


def test_builds_sharing_a_doctree_folder_each_keep_the_patterns_without_colliding(monkeypatch, tmp_path):
    """Each process writes its own temporary file and renames it; a rename that fails leaves nothing."""
    import os

    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(FileNotFoundError(a)))
    assert _fresh_hyphenation(monkeypatch, tmp_path)[1] == 1  # no exception
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(os, "replace", replace)
    _fresh_hyphenation(monkeypatch, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [patches.HYPHENATION_KEPT]


def test_pyphen_still_parses_its_dictionary_in_every_new_process():
    """When this fails, pyphen keeps parsed patterns itself: drop keep_hyphenation_patterns."""
    import pyphen

    source = inspect.getsource(pyphen.HyphDict.__init__)
    assert "read_text" in source and "pickle" not in inspect.getsource(pyphen)
