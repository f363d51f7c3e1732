"""The handbook's own Sphinx extension: editorial rules the build enforces.

Every rule reports through Sphinx's logger as a warning with a file and line (util.warn), so with
``-W`` (always on in the Makefile) a contributor's mistake fails the build with a message in the
familiar ``file:line: WARNING: ...`` form.

One module per concern, each with a ``setup(app)`` that registers its config values, directives,
roles and event handlers; ``setup`` below calls them in order. ARCHITECTURE.md has the map.
"""

from __future__ import annotations

from . import (
    books,
    citations,
    content,
    edition,
    evidence,
    frontmatter,
    outputs,
    patches,
    pdf,
    pictures,
    readability,
    safety,
    search,
    speed,
    structured_data,
    studies,
    util,
)
from .outputs import download_link  # noqa: F401  (doctrees pickled before the split name it here)


def setup(app):
    patches.setup(app)  # first: it stops the build if upstream code changed under a patch
    frontmatter.setup(app)
    content.setup(app)
    evidence.setup(app)
    citations.setup(app)
    safety.setup(app)
    studies.setup(app)
    pictures.setup(app)
    readability.setup(app)
    search.setup(app)
    outputs.setup(app)
    edition.setup(app)
    books.setup(app)
    pdf.setup(app)
    structured_data.setup(app)
    speed.setup(app)
    util.drop_myst_settings_line()  # quieter output: no MyST settings dump on every build
    util.skip_the_collection_at_exit()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 4}
