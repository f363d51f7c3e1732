"""Sphinx configuration for the Ketamine and Anxiety Handbook.

Used with the sources in docs/:  sphinx-build -c . docs _build/html
Paths below are relative to this file (the project root), not to docs/.
Sections: project, extensions, MyST, citations, HTML, PDF, EPUB.
"""

import contextlib
import io
import os
import sys
import time

sys.path.insert(0, os.path.abspath("docs/_ext"))

# -- Project ---------------------------------------------------------------

project = "The Ketamine and Anxiety Handbook"
author = "The Ketamine and Anxiety Handbook contributors"
# The edition number lives in one place, the VERSION file (`make release VERSION=X.Y` changes it).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "VERSION"), encoding="utf-8") as _file:
    version = release = _file.read().strip()
language = "en"

# One date for the whole build: SOURCE_DATE_EPOCH when set (reproducible
# builds), otherwise today. Review-date checks compare against it too.
BUILD_TIME = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))
copyright = f"{BUILD_TIME.tm_year}, {author}. Text CC BY 4.0, code MIT"

# Where the handbook lives. Everything that needs an address reads it here.
SITE_URL = "https://ketamine-handbook.github.io/ketamine-anxiety-handbook/"
REPOSITORY_URL = "https://github.com/ketamine-handbook/ketamine-anxiety-handbook"
# Where readers without a GitHub account send a problem: with an address here, every page offers "or by
# email" beside "Report a problem" (docs/_templates/page.html). Empty until the editors have a mailbox that
# they have confirmed with a test message: an address nobody reads would lose readers' reports.
FEEDBACK_EMAIL = ""
REPOSITORY_BRANCH = "main"

# Files that build the PDF and EPUB downloads; the site links to them.
PDF_NAME = "ketamine-anxiety-handbook.pdf"
EPUB_NAME = "ketamine-anxiety-handbook.epub"

root_doc = "index"
exclude_patterns = ["_snippets", "_ext", "_templates", "_pdf"]
templates_path = ["docs/_templates"]
nitpicky = True

# -- Extensions --------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx.ext.graphviz",
    "sphinxcontrib.bibtex",
    "sphinxext.opengraph",
    "notfound.extension",
    "handbook",  # docs/_ext/handbook/: front matter, evidence labels, checks (see ARCHITECTURE.md)
]
# sphinxext-opengraph prints "matplotlib is not installed, social cards will not be generated" when it is
# imported, though the handbook has no social cards (ogp_social_cards below): imported here, quietly.
with contextlib.redirect_stdout(io.StringIO()):
    import sphinxext.opengraph  # noqa: F401

# The handbook's own checks (docs/_ext/handbook/).
handbook_disclaimer = "_snippets/disclaimer.md"
handbook_build_date = time.strftime("%Y-%m-%d", BUILD_TIME)
handbook_allow_overdue = os.environ.get("HANDBOOK_ALLOW_OVERDUE") == "1"
# Every page says who has checked its medical content (front matter `medical_review`, shown under its title).
handbook_require_medical_review = True
# Every item a patient needs from each label, and the section that tells it (docs/_ext/handbook/safety.py).
handbook_safety_map = "docs/safety-map.yml"
# One entry per study, read by the build (docs/_ext/handbook/studies.py); the website offers it as a CSV.
handbook_studies = "docs/studies.yml"
handbook_studies_csv = "ketamine-anxiety-studies.csv"
# Frequencies shown as icon arrays of 100 people and in words (docs/_ext/handbook/pictures.py).
handbook_frequencies = "docs/frequencies.yml"
# Papers that were retracted or withdrawn: citing one fails the build (docs/_ext/handbook/citations.py).
handbook_retracted = "docs/retracted-dois.txt"
handbook_pdf_name = PDF_NAME
handbook_epub_name = EPUB_NAME
# Sites of regulators and official product labels: a bibliography entry with evidence = {regulatory}
# must have its url on one of these (docs/_ext/handbook/evidence.py).
handbook_regulator_hosts = [
    "fda.gov", "www.fda.gov", "www.accessdata.fda.gov", "dailymed.nlm.nih.gov",  # US regulator, labels
    "www.ema.europa.eu", "ec.europa.eu",  # EU
    "www.nice.org.uk", "www.gov.uk", "products.mhra.gov.uk", "www.medicines.org.uk",  # UK
    "www.scottishmedicines.org.uk",  # Scotland's advice on medicines for NHS Scotland, as NICE's for England
    "www.govinfo.gov", "www.federalregister.gov", "www.deadiversion.usdoj.gov", "www.dea.gov",  # US rules
    "www.nhs.uk",  # NHS medicines pages: national medicines information, for examples of medicine names
]
# Structured data for search engines (JSON-LD, docs/_ext/handbook/structured_data.py). Every page is about
# the handbook's subjects; an entry with if_keywords only pages whose front-matter keywords include one.
handbook_about = [
    {"type": "MedicalCondition", "name": "Anxiety disorders"},
    {"type": "Drug", "name": "Ketamine"},
    {"type": "Drug", "name": "Esketamine", "if_keywords": ["esketamine", "Spravato"]},
]
# Pages each of whose sections that cite research or a regulator must carry an evidence label (evidence.py):
# the topic pages. The questions page's short answers link to labelled sections; the glossary cites directly.
handbook_labelled_pages = ["anxiety", "ketamine-history", "mechanism", "benefits-and-risks", "safety",
                           "patient-stories", "future-research", "options", "approvals"]
handbook_faq_pages = ["questions"]  # pages whose question headings are marked up as an FAQ
handbook_answer_pages = ["questions"]  # pages whose answers are kept short and plain (readability.py)
handbook_text_license = "https://creativecommons.org/licenses/by/4.0/"  # the text's licence (LICENSE)

graphviz_output_format = "svg"
graphviz_dot_args = ["-Gfontname=Helvetica", "-Nfontname=Helvetica", "-Efontname=Helvetica"]

# -- MyST --------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_title_to_header = True  # the front-matter title is the page heading
myst_heading_anchors = 3
# Link schemes: web and e-mail; tel: and sms: for the crisis numbers (tap to call or text);
# issue-form:NAME.yml for one of the repository's issue forms (.github/ISSUE_TEMPLATE/).
myst_url_schemes = {"http": None, "https": None, "mailto": None, "tel": None, "sms": None,
                    "issue-form": REPOSITORY_URL + "/issues/new?template={{path}}"}

# -- Citations ---------------------------------------------------------------

bibtex_bibfiles = ["docs/references.bib"]
bibtex_reference_style = "author_year_round"  # registered in docs/_ext/handbook/citations.py
bibtex_default_style = "plain"
# No hover tooltips on citations: a title attribute helps only mouse users (each citation already links
# to its entry in the References page), and the tooltips had every entry formatted a second time.
bibtex_tooltips = False

# -- HTML --------------------------------------------------------------------

html_theme = "furo"
html_title = "Ketamine and Anxiety Handbook"
html_static_path = ["docs/_static"]
html_css_files = ["handbook.css"]
html_favicon = "docs/_static/favicon.svg"
html_baseurl = SITE_URL
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_context = {"pdf_name": PDF_NAME, "epub_name": EPUB_NAME, "feedback_email": FEEDBACK_EMAIL}
html_sidebars = {
    "**": [
        "sidebar/brand.html",
        "sidebar/search.html",
        "sidebar/scroll-start.html",
        "sidebar/navigation.html",
        "sidebar/downloads.html",
        "sidebar/scroll-end.html",
    ]
}
html_theme_options = {
    "source_repository": REPOSITORY_URL,
    "source_branch": REPOSITORY_BRANCH,
    "source_directory": "docs/",
    "navigation_with_keys": True,
    "top_of_page_buttons": [],  # the edit/view links sit at the end of each page (docs/_templates/page.html)
}


ogp_site_url = SITE_URL
ogp_site_name = html_title
ogp_social_cards = {"enable": False}
ogp_enable_meta_description = True

notfound_urls_prefix = "/" + SITE_URL.split("/", 3)[3]
notfound_context = {
    "title": "Page not found",
    "body": (
        "<h1>Page not found</h1>"
        "<p>We could not find that page. It may have moved when the handbook was reorganised.</p>"
        '<p>Try the search box, or go back to the <a href="index.html">handbook home page</a>.</p>'
    ),
}

# -- PDF -------------------------------------------------------------------
# `make pdf` (sphinx-build -M pdf): the handbook's own builder (docs/_ext/handbook/pdf.py) prints the whole
# handbook with WeasyPrint as a tagged PDF (PDF/UA-1), styled by docs/_pdf/handbook-pdf.css. The file is
# PDF_NAME (handbook_pdf_name, above); the pages of handbook_appendices (edition.py) become appendices.

# -- EPUB --------------------------------------------------------------------

epub_basename = EPUB_NAME.replace(".epub", "")
epub_title = project
epub_author = author
epub_publisher = author
epub_copyright = copyright
# The NCX and OPF identifiers must match, and EPUB3 wants an XML name.
epub_uid = epub_identifier = "ketamine-anxiety-handbook"
epub_show_urls = "no"
epub_exclude_files = ["search.html", "404.html", ".buildinfo.bak", "_static/checklist.css"]
epub_css_files = ["handbook.css"]
