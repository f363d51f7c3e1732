"""Bad input: each kind of contributor mistake fails the build with a message naming the file and line.

Every test breaks a copy of the sources in a temporary directory (never the real tree), builds it with
the project's options (-W --keep-going -n), and checks both that the build fails and what it says.
"""

import re
import shutil

import pytest
from conftest import DOCS, ROOT, sphinx_build


@pytest.fixture
def copy(tmp_path):
    """A throwaway copy of conf.py and docs/ to break."""
    shutil.copy(ROOT / "conf.py", tmp_path / "conf.py")
    shutil.copy(ROOT / "CONTRIBUTING.md", tmp_path / "CONTRIBUTING.md")  # included by docs/contributing.md
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def append(copy, page, text):
    path = copy / "docs" / f"{page}.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").count("\n") - text.count("\n")  # line of the added text


def replace(copy, page, old, new):
    path = copy / "docs" / f"{page}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {page}.md"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def fails(copy, pattern, builder="html"):
    """Build the copy; assert it fails and its output matches PATTERN; return the output."""
    result = sphinx_build(builder, copy / "_build", src=copy / "docs", conf=copy, extra=["-q"])
    output = result.stderr + result.stdout
    assert result.returncode != 0, f"the build passed, but should have failed:\n{output}"
    assert re.search(pattern, output), f"expected {pattern!r} in:\n{output}"
    return output


def at(page, line=None):
    """The 'docs/page.md:LINE:' prefix of a Sphinx message."""
    number = r"\d+" if line is None else str(line)
    return rf"docs/{page}\.md:{number}: (WARNING|ERROR): "


def test_reference_to_missing_label(copy):
    line = append(copy, "mechanism", "See {ref}`mechanism-no-such-section`.")
    fails(copy, at("mechanism", line) + r"undefined label: 'mechanism-no-such-section'")


def test_link_to_missing_page(copy):
    line = append(copy, "mechanism", "See {doc}`no-such-page`.")
    fails(copy, at("mechanism", line) + r"unknown document: 'no-such-page'")


def test_link_to_missing_anchor(copy):
    line = append(copy, "mechanism", "See [the anxiety page](anxiety.md#no-such-heading).")
    fails(copy, at("mechanism", line) + r".*no-such-heading")


def test_duplicate_label(copy):
    append(copy, "mechanism", "(anxiety-kinds)=\n\n## A second section with a used label\n\nText.")
    fails(copy, at("mechanism") + r"duplicate label anxiety-kinds")


def test_citation_key_missing_from_bibliography(copy):
    line = append(copy, "mechanism", "A claim {cite:p}`nosuchkey2099`.")
    fails(copy, at("mechanism", line) + r"could not find bibtex key \"nosuchkey2099\"")


def _add_bib_entry(copy, fields):
    bib = copy / "docs" / "references.bib"
    entry = "@article{broken2020,\n  author = {Doe, Jane},\n  title = {A title},\n  journal = {A journal},\n" \
            f"  year = {{2020}},\n{fields}}}\n"
    line = bib.read_text(encoding="utf-8").count("\n") + 2
    bib.write_text(bib.read_text(encoding="utf-8") + "\n" + entry, encoding="utf-8")
    append(copy, "mechanism", "A claim {cite:p}`broken2020`.")
    return line


def test_bibliography_entry_without_doi_or_url(copy):
    line = _add_bib_entry(copy, "")
    fails(copy, rf"docs/references\.bib:{line}: WARNING: bibliography entry 'broken2020' has neither a doi nor a url")


def test_malformed_doi(copy):
    line = _add_bib_entry(copy, "  doi = {https://doi.org/10.1000/xyz},\n")
    fails(copy, rf"docs/references\.bib:{line}: WARNING: bibliography entry 'broken2020' has a malformed DOI")


def test_bibliography_entry_never_cited(copy):
    bib = copy / "docs" / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + "\n@misc{lonely2020,\n  title = {Uncited},\n"
                   "  year = {2020},\n  url = {https://example.org/}\n}\n", encoding="utf-8")
    fails(copy, r"docs/references\.bib:\d+: WARNING: bibliography entry 'lonely2020' is not cited on any page")


def test_glossary_term_not_defined(copy):
    line = append(copy, "mechanism", "A {term}`flibbertigibbet` here.")
    fails(copy, at("mechanism", line) + r"term not in glossary: 'flibbertigibbet'")


def test_orphan_page(copy):
    (copy / "docs" / "orphan.md").write_text(
        (copy / "docs" / "summary.md").read_text(encoding="utf-8").replace("(summary-", "(orphan-"),
        encoding="utf-8")
    fails(copy, r"docs/orphan\.md: WARNING: document isn't included in any toctree")


def test_page_missing_from_the_pdf(copy):
    replace(copy, "index", "```{toctree}\n:caption: About\n:hidden:\n\nabout\ncontributing\n```",
            "```{toctree}\n:caption: About\n:hidden:\n\nabout\n```\n\n::::{only} html\n"
            "```{toctree}\n:hidden:\n\ncontributing\n```\n::::")
    fails(copy, at("contributing", 1) + r"page is missing from the PDF", builder="latex")


def test_front_matter_missing(copy):
    path = copy / "docs" / "mechanism.md"
    path.write_text(re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.DOTALL),
                    encoding="utf-8")
    fails(copy, at("mechanism", 1) + r"page has no YAML front matter")


def test_front_matter_field_missing(copy):
    path = copy / "docs" / "mechanism.md"
    path.write_text(re.sub(r"^description:.*\n", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE),
                    encoding="utf-8")
    fails(copy, at("mechanism", 1) + r"front matter field 'description' is missing")


def test_front_matter_date_malformed(copy):
    replace(copy, "mechanism", "next_review: 2027", "next_review: sometime in 2027 ")
    fails(copy, at("mechanism", 5) + r"front matter field 'next_review' must be a date")


def test_front_matter_not_yaml(copy):
    replace(copy, "mechanism", "keywords: [", "keywords: [[")
    fails(copy, at("mechanism") + r"front matter is not valid YAML")


def test_review_date_overdue(copy):
    replace(copy, "mechanism", "last_reviewed: 20", "last_reviewed: 2000-01-01\nold_last_reviewed: 20")
    path = copy / "docs" / "mechanism.md"
    path.write_text(re.sub(r"^next_review:.*$", "next_review: 2000-06-01", path.read_text(encoding="utf-8"),
                           flags=re.MULTILINE).replace("old_last_reviewed", "# was"), encoding="utf-8")
    fails(copy, at("mechanism", 6) + r"page is overdue for review: next_review 2000-06-01")


def test_unknown_evidence_level(copy):
    line = append(copy, "mechanism", "```{evidence} anecdotes\n```")
    fails(copy, at("mechanism", line) + r"unknown evidence level 'anecdotes'")


def test_raw_html(copy):
    line = append(copy, "mechanism", '<div class="promo">Book now</div>')
    fails(copy, at("mechanism", line) + r"raw HTML")


def test_script_tag(copy):
    line = append(copy, "mechanism", "<script>alert('hi')</script>")
    fails(copy, at("mechanism", line) + r"raw HTML")


def test_image_without_alt_text(copy):
    line = append(copy, "mechanism", "![](_static/favicon.svg)")
    fails(copy, at("mechanism", line) + r"image '.*favicon\.svg' has no alt text")


def test_diagram_without_alt_text(copy):
    line = append(copy, "mechanism", "```{graphviz}\ndigraph { a -> b }\n```")
    fails(copy, at("mechanism", line) + r"diagram has no ':alt:' text")


def test_page_without_key_points(copy):
    replace(copy, "mechanism", ":class: key-points", ":class: summary")
    fails(copy, at("mechanism", 1) + r"page has no Key points box")
