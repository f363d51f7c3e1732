# The Ketamine and Anxiety Handbook: build, preview, test.
#
#   make            build everything (HTML site, PDF, EPUB), installing what is missing
#   make check      the quick checks while you edit (lint + fast tests, nothing built; under 20 s)
#   make test       every check (lint + all tests, on the built outputs and in a browser)
#   make help       every target, one line each
#
# Each target's line in `make help` is the `## ...` comment on its rule below.
# Variables: BUILDDIR (default _build), SPHINXOPTS (default: warnings are errors, parallel).

BUILDDIR   ?= _build
SOURCEDIR  := docs
VENV       ?= .venv
PYTHON     := $(VENV)/bin/python
# -j auto: read and write pages in parallel, one process per core (about 0.2 s faster on 2 cores;
# the output is byte-identical to a serial build).
SPHINXOPTS ?= -W --keep-going -n -j auto
# $(call sphinx,BUILDER[,OPTIONS]): Sphinx's make mode, configuration from the top-level conf.py.
# A failed build drops Sphinx's saved state, so the next run reads every page again and reports
# the same problems instead of skipping the pages it had already read.
sphinx      = $(VENV)/bin/sphinx-build -M $(1) $(SOURCEDIR) $(BUILDDIR) -c . $(SPHINXOPTS) $(2) \
              || { rm -rf $(BUILDDIR)/doctrees; exit 1; }
PDF        := ketamine-anxiety-handbook.pdf
EPUB       := ketamine-anxiety-handbook.epub

# Reproducible builds: the date of the last commit, unless given.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

# The pages include CHANGELOG.md and CONTRIBUTING.md from the top level (docs/changes.md, docs/contributing.md).
SOURCES := conf.py VERSION CHANGELOG.md CONTRIBUTING.md $(shell find $(SOURCEDIR) -type f -not -name '*.pyc' 2>/dev/null)
VENV_OK := $(VENV)/.installed
SYSTEM_OK := $(BUILDDIR)/.system-packages
ACE_OK := tools/node_modules/.installed

.PHONY: all html pdf latexpdf epub clean test check pages lint serve bench audit setup linkcheck release help
.DEFAULT_GOAL := all

all: $(BUILDDIR)/html/$(PDF) $(BUILDDIR)/html/$(EPUB)  ## build everything: the HTML site, the PDF and the EPUB (the default)

# -- Set-up -------------------------------------------------------------------

setup: $(VENV_OK) $(SYSTEM_OK) $(ACE_OK)  ## install what building and testing need (Debian packages, .venv, Ace)

# The system check runs first, so a missing package stops `make` with its one message.
$(VENV_OK): requirements.txt | $(SYSTEM_OK)
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	touch $@

# Ace by DAISY, the EPUB accessibility checker the tests run, locked in tools/package-lock.json.
# --ignore-scripts: its Electron download cannot run offline, and the command-line checker needs none.
$(ACE_OK): tools/package.json tools/package-lock.json | $(SYSTEM_OK)
	cd tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(SYSTEM_OK): tools/system-packages
	tools/system-packages
	mkdir -p $(BUILDDIR) && touch $@

# -- Outputs that `make` keeps up to date (nothing rebuilt when nothing changed)

$(BUILDDIR)/html/.built: $(SOURCES) | setup
	$(call sphinx,html)
	touch $@

# The tagged PDF (PDF/UA-1): Sphinx's `pdf` builder (docs/_ext/handbook/pdf.py) lays the whole handbook
# out with WeasyPrint and the print stylesheet docs/_pdf/handbook-pdf.css.
$(BUILDDIR)/pdf/$(PDF): $(SOURCES) | setup
	$(call sphinx,pdf,-q)
	touch $@

# Sphinx zips every file it finds in the EPUB's folder, so the EPUB is built in an empty folder: a file
# an earlier build left there (an old diagram, a page since deleted) would go into the book. The pages
# are not read again (their doctrees are kept), only written: about a second.
$(BUILDDIR)/epub/$(EPUB): $(SOURCES) | setup
	rm -rf $(BUILDDIR)/epub
	$(call sphinx,epub)
	touch $@

# The site offers the PDF and EPUB as downloads from its root.
$(BUILDDIR)/html/%.pdf $(BUILDDIR)/html/%.epub: $(BUILDDIR)/html/.built $(BUILDDIR)/pdf/$(PDF) $(BUILDDIR)/epub/$(EPUB)
	cp $(BUILDDIR)/pdf/$(PDF) $(BUILDDIR)/epub/$(EPUB) $(BUILDDIR)/html/

# -- Sphinx's familiar targets (always run Sphinx) ------------------------------

html: setup  ## build the HTML site with Sphinx, even when nothing changed
	$(call sphinx,html)
	touch $(BUILDDIR)/html/.built

pdf: setup  ## build the tagged PDF (PDF/UA-1) with Sphinx and WeasyPrint, even when nothing changed
	$(call sphinx,pdf,-q)

latexpdf: pdf  ## the old name of `make pdf` (the PDF is no longer made with LaTeX)

epub: setup  ## build the EPUB with Sphinx, even when nothing changed
	rm -rf $(BUILDDIR)/epub
	$(call sphinx,epub)

clean:  ## delete the build folder (BUILDDIR)
	rm -rf $(BUILDDIR)

# -- Checks -------------------------------------------------------------------

lint: $(VENV_OK)  ## spelling, whitespace, Python style, workflow and config schemas
	$(VENV)/bin/codespell docs/*.md README.md CONTRIBUTING.md
	git ls-files -z | grep -zv '\.\(svg\|png\)$$' | xargs -0 tools/check-whitespace
	$(VENV)/bin/ruff check conf.py docs/_ext tests tools/check-whitespace .github/scripts
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.readthedocs .readthedocs.yaml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(PYTHON) -m json.tool .devcontainer/devcontainer.json >/dev/null

# Two pytest processes side by side, split so that they finish together on a fresh clone, where Ace by DAISY
# checks the new EPUB (ARCHITECTURE.md, "Keeping make test fast"): in the background the page sweep, search,
# the readers' phone checks and the PDF's accessibility checks; in the foreground the rest, Ace's check first
# (about 27 s of CPU on both cores, while the other process is at its sweep). The background report follows
# the other's; either failing fails `make test`.
BACKGROUND_TESTS = tests/test_browser.py tests/test_search.py tests/test_pdf_accessibility.py tests/test_reader_help.py
FIRST_TESTS = tests/test_epub_accessibility.py

test: all lint  ## every check: build what is out of date, lint, then all tests (browser tests alongside)
	@mkdir -p $(BUILDDIR)
	@echo "pytest $(BACKGROUND_TESTS) (in the background; its report follows)"
	@BUILDDIR=$(BUILDDIR) $(PYTHON) -m pytest $(BACKGROUND_TESTS) > $(BUILDDIR)/browser-tests.log 2>&1 & browser=$$!; \
	echo 'pytest tests (every other test, the other browser tests among them)'; \
	BUILDDIR=$(BUILDDIR) $(PYTHON) -m pytest $(BACKGROUND_TESTS:%=--ignore=%) $(FIRST_TESTS) tests; rest=$$?; \
	wait $$browser; status=$$?; cat $(BUILDDIR)/browser-tests.log; \
	test $$rest -eq 0 && test $$status -eq 0

# The edit loop: the handbook's pages read and checked by Sphinx's "dummy" builder (every check of the build:
# references, citations, glossary terms, front matter, evidence labels, reading level; nothing written;
# it shares the HTML build's saved state, so after an edit it reads that page again), then the tests marked `fast`,
# which read the sources or build small projects in-process (tests/roots/). No browser, no PDF or EPUB.
check: lint pages  ## quick checks while you edit: lint, every page read and checked, the fast tests (under 20 s)
	$(PYTHON) -m pytest -m fast -q tests

pages: $(VENV_OK)  ## read and check every page as the build does (all its checks), writing nothing
	$(call sphinx,dummy,-q)

# -- Working on the handbook ------------------------------------------------------

serve: setup  ## live preview on http://127.0.0.1:8000, rebuilt as you edit
	$(VENV)/bin/sphinx-autobuild -c . $(SPHINXOPTS) --host 127.0.0.1 --port 8000 $(SOURCEDIR) $(BUILDDIR)/serve

bench: all  ## build and reader-side timings
	$(PYTHON) tests/bench.py

# Needs the network: never part of `make test`. Broken links are listed in $(BUILDDIR)/linkcheck/output.txt.
linkcheck: setup  ## check outside links, bibliography DOIs included, on the live web (weekly in CI)
	$(VENV)/bin/sphinx-build -M linkcheck $(SOURCEDIR) $(BUILDDIR) -c . $(SPHINXOPTS)

audit: all  ## Lighthouse scores of the built site
	tools/lighthouse-audit $(BUILDDIR)/html

# A new edition (CONTRIBUTING.md, "Releasing an edition"): bumps VERSION, CITATION.cff and .zenodo.json,
# and moves the changelog's Unreleased entries under the new version, dated today. Commits nothing.
release:  ## VERSION=X.Y: a new edition, the version everywhere and the changelog dated (tools/release)
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=X.Y" >&2; exit 1; }
	tools/release $(VERSION)

help:  ## list every target, one line each
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 18
