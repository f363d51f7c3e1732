"""A small handbook whose sections' evidence labels all follow from their sources (tests/test_evidence.py).

Tests copy it, write one mistake over a page or the .bib, and build it in-process.
"""

# tests/conftest.py puts docs/_ext on sys.path, so "handbook" below is the handbook's own extension.

project = "Evidence test handbook"
root_doc = "index"
exclude_patterns = ["_snippets", "_build"]
nitpicky = True
extensions = ["myst_parser", "sphinxcontrib.bibtex", "handbook"]

myst_enable_extensions = ["colon_fence"]
myst_title_to_header = True

bibtex_bibfiles = ["refs.bib"]
bibtex_reference_style = "author_year_round"
bibtex_tooltips = False

handbook_disclaimer = "_snippets/disclaimer.md"
handbook_build_date = "2026-11-01"
handbook_regulator_hosts = ["www.fda.gov", "dailymed.nlm.nih.gov"]
html_baseurl = "https://example.org/handbook/"
