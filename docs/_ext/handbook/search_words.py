"""The words readers type, and the words the handbook uses: what the search drops and what it adds.

search.py writes both lists into the search page's data (``_static/search-data.js``); the search page's
script (docs/_static/search-questions.js) reads them when it rewrites a reader's question.

The lists live in search-words.yml, beside this module; edit them there.

STOP_WORDS are dropped from a question before it is searched: the small words of any sentence ("can",
"I", "after") and the words of asking ("how", "safe to", "tell me"). A word the handbook does not use is
dropped too, so no word empties the results.

SYNONYMS map a reader's word or phrase (lower case, words separated by single spaces, apostrophes removed,
hyphens as spaces: "habit-forming" is "habit forming") to words the handbook uses. The reader's own
words are searched as well, so a synonym only adds. A phrase is matched before its words, longest first.
Every word on the right must be one the handbook uses (tests/test_search.py checks), so a synonym never
points nowhere. Keep the map broad: readers' questions are not known in advance.
"""

from __future__ import annotations

import pathlib

import yaml

# libyaml's loader when PyYAML has it: the file is read at every build, and it is ten times faster.
_WORDS = yaml.load(pathlib.Path(__file__).with_name("search-words.yml").read_text(encoding="utf-8"),
                   Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

# Dropped before searching. Sphinx's English stop words, plus the words of asking and everyday fillers.
STOP_WORDS = frozenset(_WORDS["stop_words"].split())

# Words that carry nothing and may sit inside a phrase ("does ketamine *actually* work"): left out before
# phrases are matched.
FILLER_WORDS = frozenset(_WORDS["filler_words"].split())

# Reader's word or phrase -> words the handbook uses, in the file's order.
SYNONYMS = dict(_WORDS["synonyms"])


def normalise(text):
    """A reader's text as the search page's script sees it: lower case, apostrophes dropped, every other
    run of non-letters (hyphens included) a single space."""
    import re

    text = re.sub(r"['’]", "", text.lower())
    return " ".join(re.findall(r"[^\W_]+", text))
