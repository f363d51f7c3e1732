# The Ketamine and Anxiety Handbook: build, preview, test.
#
#   make            build everything (HTML site, PDF, EPUB), installing what is missing
#   make test       run every check (lint + pytest on the built outputs)
#   make html | latexpdf | epub | clean      Sphinx's usual targets
#   make serve      live preview on http://127.0.0.1:8000 while you edit
#   make bench      build and reader-side timings     make audit   Lighthouse scores
#   make linkcheck  check outside links, bibliography DOIs included, on the live web (weekly in CI)
#   make release VERSION=X.Y   a new edition: the version everywhere, the changelog dated (tools/release)
#
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

SOURCES := conf.py VERSION CHANGELOG.md $(shell find $(SOURCEDIR) -type f -not -name '*.pyc' 2>/dev/null)
VENV_OK := $(VENV)/.installed
SYSTEM_OK := $(BUILDDIR)/.system-packages
ACE_OK := tools/node_modules/.installed

.PHONY: all html latexpdf epub clean test lint serve bench audit setup linkcheck release

all: $(BUILDDIR)/html/$(PDF) $(BUILDDIR)/html/$(EPUB)

# -- Set-up -------------------------------------------------------------------

setup: $(VENV_OK) $(SYSTEM_OK) $(ACE_OK)

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

# latexmk leaves the PDF alone when the LaTeX is unchanged (after a CSS edit, say): touch it, or
# make would think it out of date for ever.
$(BUILDDIR)/latex/$(PDF): $(SOURCES) | setup
	$(call sphinx,latexpdf,-q)
	touch $@

$(BUILDDIR)/epub/$(EPUB): $(SOURCES) | setup
	$(call sphinx,epub)
	touch $@

# The site offers the PDF and EPUB as downloads from its root.
$(BUILDDIR)/html/%.pdf $(BUILDDIR)/html/%.epub: $(BUILDDIR)/html/.built $(BUILDDIR)/latex/$(PDF) $(BUILDDIR)/epub/$(EPUB)
	cp $(BUILDDIR)/latex/$(PDF) $(BUILDDIR)/epub/$(EPUB) $(BUILDDIR)/html/

# -- Sphinx's familiar targets (always run Sphinx) ------------------------------

html: setup
	$(call sphinx,html)
	touch $(BUILDDIR)/html/.built

latexpdf: setup
	$(call sphinx,latexpdf,-q)

epub: setup
	$(call sphinx,epub)

clean:
	rm -rf $(BUILDDIR)

# -- Checks -------------------------------------------------------------------

lint: $(VENV_OK)
	$(VENV)/bin/codespell docs/*.md README.md CONTRIBUTING.md
	git ls-files -z | grep -zv '\.\(svg\|png\)$$' | xargs -0 tools/check-whitespace
	$(VENV)/bin/ruff check conf.py docs/_ext tests tools/check-whitespace .github/scripts
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.readthedocs .readthedocs.yaml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(PYTHON) -m json.tool .devcontainer/devcontainer.json >/dev/null

test: all lint
	BUILDDIR=$(BUILDDIR) $(PYTHON) -m pytest tests

# -- Working on the handbook ------------------------------------------------------

serve: setup
	$(VENV)/bin/sphinx-autobuild -c . $(SPHINXOPTS) --host 127.0.0.1 --port 8000 $(SOURCEDIR) $(BUILDDIR)/serve

bench: all
	$(PYTHON) tests/bench.py

# Needs the network: never part of `make test`. Broken links are listed in $(BUILDDIR)/linkcheck/output.txt.
linkcheck: setup
	$(VENV)/bin/sphinx-build -M linkcheck $(SOURCEDIR) $(BUILDDIR) -c . $(SPHINXOPTS)

audit: all
	tools/lighthouse-audit $(BUILDDIR)/html

# A new edition (CONTRIBUTING.md, "Releasing an edition"): bumps VERSION, CITATION.cff and .zenodo.json,
# and moves the changelog's Unreleased entries under the new version, dated today. Commits nothing.
release:
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=X.Y" >&2; exit 1; }
	tools/release $(VERSION)
