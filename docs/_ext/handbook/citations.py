"""Citations: the author-year style in round brackets, and checks of the bibliography.

* `author_year_round`, registered with sphinxcontrib-bibtex's public plugin API: (Glue et al., 2017).
* Each entry needs a well-formed DOI or an https URL; each entry must be cited somewhere.
"""

from __future__ import annotations

import dataclasses
import re

from .util import bib_entry_locations, warn

DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def _round_brackets():
    from sphinxcontrib.bibtex.style.referencing import BracketStyle

    return BracketStyle(left="(", right=")")


def register_citation_style():
    """Author-year citations in round brackets: (Glue et al., 2017), as in medical writing."""
    from sphinxcontrib.bibtex.plugin import register_plugin
    from sphinxcontrib.bibtex.style.referencing import BracketStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    @dataclasses.dataclass
    class RoundAuthorYear(AuthorYearReferenceStyle):
        bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_textual: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_author: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_label: BracketStyle = dataclasses.field(default_factory=_round_brackets)
        bracket_year: BracketStyle = dataclasses.field(default_factory=_round_brackets)

    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYear)


def check_bibliography(app):
    """Each entry needs a well-formed DOI or a URL.

    Reads the entries sphinxcontrib-bibtex has already parsed (its builder-inited handler runs first,
    as it is loaded first).
    """
    bibdata = app.env.get_domain("cite").bibdata
    locations = bib_entry_locations(bibdata)
    for key, entry in bibdata.data.entries.items():
        where = locations.get(key)
        doi = entry.fields.get("doi", "").strip()
        url = entry.fields.get("url", "").strip()
        if not doi and not url:
            warn(f"bibliography entry '{key}' has neither a doi nor a url field", location=where,
                 subtype="bib")
        if doi and not DOI.match(doi):
            warn(f"bibliography entry '{key}' has a malformed DOI '{doi}' (expected 10.NNNN/suffix, "
                 "without https://doi.org/)", location=where, subtype="bib")
        if url and not url.startswith("https://"):
            warn(f"bibliography entry '{key}' has a URL that is not https: '{url}'", location=where,
                 subtype="bib")


def check_every_entry_cited(app, env):
    """A bibliography entry that nothing cites is a sign of a dropped claim."""
    domain = env.get_domain("cite")
    cited = {target.key for ref in domain.citation_refs for target in ref.targets}
    locations = bib_entry_locations(domain.bibdata)
    for key in domain.bibdata.data.entries:
        if key not in cited:
            warn(f"bibliography entry '{key}' is not cited on any page", location=locations.get(key),
                 subtype="bib")


def setup(app):
    register_citation_style()
    app.connect("builder-inited", check_bibliography)
    app.connect("env-check-consistency", check_every_entry_cited)
