"""Reading level and answer length, checked while the handbook builds.

The limits (CONTRIBUTING, "Writing style guide") are measured on the built pages by tests/test_readability.py
and tests/test_questions.py. This module measures the same text while Sphinx builds, from each page's
resolved doctree, so that `make html` and `make serve` report a page over a limit at its file and line,
seconds after the edit:

* the Key points box: Flesch-Kincaid grade at most ``handbook_reading_grades["key points"]`` (7);
* the rest of the page's running text: at most ``["body"]`` (9), with its hardest paragraphs named;
* each answer on a page of ``handbook_answer_pages`` (a section whose heading asks a question): at most
  ``["answer"]`` (7), and at most ``handbook_answer_words`` words, citations included (80).

What is measured is what the tests measure: paragraphs, list items and definitions, each ending as a
sentence ends; not headings, glossary terms, tables, code, citations, evidence labels or the crisis box.
Only pages with front matter (the pages a reader lands on) are measured. The grade is textstat's, which
counts syllables with pyphen's bundled dictionaries (it works offline).
"""

from __future__ import annotations

import functools
import re
import warnings

from docutils import nodes

from .patches import defer_pkg_resources
from .structured_data import questions
from .util import warn


@functools.cache
def textstat():
    """textstat, imported when a page is first graded (once): by then the handbook's setup has given pyphen its
    hyphenation patterns (patches.keep_hyphenation_patterns), which textstat's import would otherwise parse."""
    defer_pkg_resources()  # textstat imports pkg_resources for word lists the grade never reads (patches.py)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # in case pkg_resources is loaded: it warns that it is deprecated
        import textstat

    return textstat


DEFAULT_GRADES = {"key points": 7, "body": 9, "answer": 7}
NOT_PROSE_NODES = (nodes.title, nodes.table, nodes.literal_block, nodes.term, nodes.rubric, nodes.comment,
                   nodes.citation, nodes.raw, nodes.system_message, nodes.target)
NOT_PROSE_CLASSES = {"disclaimer", "crisis-first", "evidence", "review-dates", "bibtex-citation", "no-search"}
BLOCKS = (nodes.paragraph, nodes.caption)  # what is measured, each ending as a sentence
SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def grade(text):
    return textstat().flesch_kincaid_grade(text) if text.strip() else 0.0


def is_citation(node):
    return isinstance(node, nodes.Element) and (
        "bibtex-citation" in node.get("classes", []) or node.get("refdomain") == "cite")


def text_without_citations(node):
    """The node's text with citations left out, and the brackets and spaces they leave behind tidied."""
    parts, stack = [], list(reversed(node.children))
    while stack:  # the text nodes in document order, not going into a citation
        child = stack.pop()
        if isinstance(child, nodes.Text):
            parts.append(child.astext())
        elif isinstance(child, nodes.Element) and not is_citation(child):
            stack.extend(reversed(child.children))
    text = re.sub(r"\s+", " ", " ".join(parts))
    text = re.sub(r"\(\s*[;,]?\s*\)", "", text)
    return re.sub(r"\s+([.,;:!?)])", r"\1", text).strip()


def ancestors(node, stop):
    node = node.parent
    while node is not None and node is not stop:
        yield node
        node = node.parent


def is_left_out(element, classes):
    return isinstance(element, NOT_PROSE_NODES) or bool(classes & set(element.get("classes", ())))


def left_out(node, root, classes=NOT_PROSE_CLASSES):
    return any(is_left_out(a, classes) for a in [node, *ancestors(node, stop=root)] if isinstance(a, nodes.Element))


def prose_blocks(node, root, classes):
    """The paragraphs and captions in NODE (NODE too), in document order, that are not left out: neither they nor
    an element between them and ROOT (as `left_out` looks). One walk of the tree, not going into an element
    left out."""
    if node is not root and left_out(node, root, classes):
        return  # every block in NODE sits in it
    if isinstance(node, BLOCKS) and not left_out(node, root, classes):
        yield node
    stack = [child for child in reversed(node.children) if isinstance(child, nodes.Element)]
    while stack:
        element = stack.pop()
        if is_left_out(element, classes):
            continue
        if isinstance(element, BLOCKS):
            yield element
        stack.extend(child for child in reversed(element.children) if isinstance(child, nodes.Element))


def sentences(node, root, classes=NOT_PROSE_CLASSES):
    """(line, text) of each paragraph or caption in NODE that is running prose, each ending as a sentence;
    CLASSES: the classes of the elements left out."""
    for block in prose_blocks(node, root, classes):
        text = text_without_citations(block)
        if not re.search(r"\w", text):
            continue
        if not SENTENCE_END.search(text):
            text = text.rstrip(",;:—- ") + "."
        yield block.line, text


def is_key_points(node):
    return isinstance(node, nodes.admonition) and "key-points" in node["classes"]


MEASURED_BUILDERS = {"html", "dirhtml", "dummy"}  # one page at a time (LaTeX resolves the whole book at once)


def check_reading_level(app, doctree, docname):
    if app.builder.name not in MEASURED_BUILDERS or docname not in getattr(app.env, "handbook_pages", {}):
        return  # another builder, or no front matter: not a page a reader lands on
    grades = {**DEFAULT_GRADES, **(app.config.handbook_reading_grades or {})}
    boxes = list(doctree.findall(is_key_points))
    key_points = [text for box in boxes for _, text in sentences(box, doctree)]
    if key_points and grade("\n".join(key_points)) > grades["key points"]:
        warn(f"the Key points box reads at grade {grade(chr(10).join(key_points)):.1f}, above "
             f"{grades['key points']} (Flesch-Kincaid): use shorter words and sentences", location=boxes[0],
             subtype="readability")
    body = list(sentences(doctree, doctree, NOT_PROSE_CLASSES | {"key-points"}))
    body_text = "\n".join(text for _, text in body)
    if body and grade(body_text) > grades["body"]:
        hardest = sorted((p for p in body if textstat().lexicon_count(p[1]) >= 20), key=lambda p: -grade(p[1]))[:3]
        named = "; ".join(f"line {line} (grade {grade(text):.1f})" for line, text in hardest)
        warn(f"the page's running text reads at grade {grade(body_text):.1f}, above {grades['body']} "
             f"(Flesch-Kincaid); rewrite its hardest paragraphs first: {named}", docname,
             hardest[0][0] if hardest else None, subtype="readability")
    if docname in app.config.handbook_answer_pages:
        check_answers(app, doctree, grades["answer"])


def check_answers(app, doctree, most):
    limit = app.config.handbook_answer_words
    for question, _, section in questions(doctree):
        title = section.next_node(nodes.title)
        answer = nodes.section()
        answer.extend(child.deepcopy() for child in section.children if child is not title)
        words = len(WORD.findall(answer.astext()))  # every word a reader sees under the heading
        if words > limit:
            warn(f"the answer to {question!r} is {words} words (citations included), above {limit}: "
                 "keep the answer short and link to the section that says more", location=title,
                 subtype="readability")
        text = "\n".join(t for _, t in sentences(answer, answer))
        if text and grade(text) > most:
            warn(f"the answer to {question!r} reads at grade {grade(text):.1f}, above {most} (Flesch-Kincaid): "
                 "use shorter words and sentences", location=title, subtype="readability")


def setup(app):
    app.add_config_value("handbook_reading_grades", {}, "env", types=[dict])
    app.add_config_value("handbook_answer_pages", [], "env", types=[list])
    app.add_config_value("handbook_answer_words", 80, "env", types=[int])
    app.connect("doctree-resolved", check_reading_level)
