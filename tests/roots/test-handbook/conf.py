"""A three-page handbook, the smallest project that passes every check of the handbook extension.

Tests copy it, break one thing, and build it in-process (the `build` fixture in tests/conftest.py).
"""

# tests/conftest.py puts docs/_ext on sys.path, so "handbook" below is the handbook's own extension.

project = "Test handbook"
root_doc = "index"
exclude_patterns = ["_snippets", "_build"]
nitpicky = True
extensions = ["myst_parser", "sphinx.ext.graphviz", "sphinxcontrib.bibtex", "handbook"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_title_to_header = True
myst_heading_anchors = 3

bibtex_bibfiles = ["refs.bib"]
bibtex_reference_style = "author_year_round"
bibtex_default_style = "plain"
bibtex_tooltips = False

handbook_disclaimer = "_snippets/disclaimer.md"
handbook_build_date = "2026-11-01"
handbook_pdf_name = "test.pdf"
handbook_epub_name = "test.epub"
html_baseurl = "https://example.org/handbook/"
handbook_safety_map = "safety-map.yml"
