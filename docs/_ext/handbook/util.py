"""Helpers every part of the extension shares: warnings with a file and line, "did you mean", and
where each bibliography entry starts in its file."""

from __future__ import annotations

import atexit
import difflib
import functools
import gc
import hashlib
import logging as std_logging
import re
from pathlib import Path

import yaml
from sphinx.util import logging

logger = logging.getLogger("handbook")
WARNINGS_GIVEN = [0]  # how many warnings warn() has given in this process


def warn(message, docname=None, line=None, location=None, subtype="content"):
    """A warning at `location` (a node, or 'path:line') or at (docname, line). With -W it fails the build
    in the familiar `file:line: WARNING: message` form; `subtype` lets a project silence one class."""
    WARNINGS_GIVEN[0] += 1
    logger.warning(message, location=location or (docname, line), type="handbook", subtype=subtype)


def inputs_digest(paths, values):
    """A digest of the files at PATHS (their bytes), of VALUES, and of the extension's own code (each
    module's size and time), so that a change to any of them, or to a check itself, changes it."""
    digest = hashlib.sha256(repr(values).encode())
    for path in paths:
        path = Path(path)
        digest.update(f"\0{path}\0".encode())
        digest.update(path.read_bytes() if path.is_file() else b"(none)")
    for code in sorted(Path(__file__).parent.iterdir()):
        if code.suffix in (".py", ".yml"):
            stat = code.stat()
            digest.update(f"\0{code.name} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def run_when_inputs_change(inputs):
    """Run a builder-inited check of data files again only when its inputs changed since a build in
    which it found nothing wrong. INPUTS(app) gives (file paths, config values) the check reads. A check
    that gave a warning runs again at the next build, so the warning is given again; what it leaves on
    the environment (say env.handbook_studies) is kept with it from one build to the next."""

    def decorate(check):
        @functools.wraps(check)
        def check_if_inputs_changed(app):
            clean = app.env.__dict__.setdefault("handbook_clean_checks", {})
            digest = inputs_digest(*inputs(app))
            if clean.get(check.__qualname__) == digest:
                return
            clean.pop(check.__qualname__, None)
            given = WARNINGS_GIVEN[0]
            check(app)
            if WARNINGS_GIVEN[0] == given:
                clean[check.__qualname__] = digest

        return check_if_inputs_changed

    return decorate


def skip_the_collection_at_exit():
    """When the build's process ends, freeze what is left (the environment, the doctrees, the modules), so
    Python's last garbage collection, which goes through every object that can hold others, leaves them
    alone: the operating system frees the memory anyway. That pass was 0.18 s of a 1 s one-page rebuild.
    Registered once per process; in a test run, the process is pytest, and it ends the same way."""
    if gc.freeze not in _AT_EXIT:
        _AT_EXIT.append(gc.freeze)
        atexit.register(gc.freeze)


_AT_EXIT = []


def not_myst_settings(record):
    """False for MyST's line listing every one of its settings ("myst v5.2.0: MdParserConfig(...)")."""
    return "MdParserConfig(" not in record.getMessage()


def drop_myst_settings_line():
    """MyST logs all its settings, one long line, at every build: leave that line out of the output."""
    myst = std_logging.getLogger("sphinx.myst_parser.sphinx_ext.main")
    if not_myst_settings not in myst.filters:
        myst.addFilter(not_myst_settings)


def did_you_mean(word, choices):
    """' (did you mean 'x'?)' for the closest of `choices` to a mistyped `word`, or '' if none is close.
    Up to three are named when several are about as close ('glue2071': 'glue2018' or 'glue2017')."""
    close = difflib.get_close_matches(str(word), list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    best = difflib.SequenceMatcher(None, str(word), close[0]).ratio()
    close = [c for c in close if difflib.SequenceMatcher(None, str(word), c).ratio() >= best - 0.05]
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"


def bib_entry_lines(text):
    """(key, line) of each '@type{key,' in a .bib text, in order, repeats included. An entry without a key
    gets the name pybtex gives it (unnamed-1, unnamed-2...); a key needs no comma after it to be found."""
    found, unnamed = [], 0
    for m in re.finditer(r"^[ \t]*@(?!comment|string|preamble)\w+\s*[{(]\s*([^,\s]*)", text,
                         re.MULTILINE | re.IGNORECASE):
        key = m.group(1)
        if not key:
            unnamed += 1
            key = f"unnamed-{unnamed}"
        found.append((key, text.count("\n", 0, m.start()) + 1))
    return found


def bib_entry_locations(bibdata):
    """'path:line' of each entry's first line, by key, so messages point at the entry to fix."""
    locations = {}
    for path in bibdata.bibfiles:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
        for key, line in bib_entry_lines(text):
            locations.setdefault(key, f"{path}:{line}")
    return locations


def keep_per_page(app, attribute):
    """Keep `env.<attribute>`, a dict by page name, right across builds: created once, a page's entry
    dropped before the page is read again, and the entries of parallel readers merged back. Call it in
    `setup` before the handlers that use the dict, since it creates it at builder-inited."""

    def create(app):
        if not hasattr(app.env, attribute):
            setattr(app.env, attribute, {})

    def purge(app, env, docname):
        getattr(env, attribute).pop(docname, None)

    def merge(app, env, docnames, other):
        theirs = getattr(other, attribute)
        getattr(env, attribute).update({d: theirs[d] for d in docnames if d in theirs})

    app.connect("builder-inited", create)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)


class LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A YAML loader that notes each mapping's line (1-based) under '__line__', and the line of each of its
    keys under '__key_lines__', so a data file's mistakes are reported at their line. libyaml's safe loader
    when PyYAML has it: the data files are read at every build, and it reads them ten times faster (studies.yml
    took 65 ms, now 5 ms; the same data)."""


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__key_lines__"] = {key.value: key.start_mark.line + 1 for key, _value in node.value}
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)
