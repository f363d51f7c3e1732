"""Evidence labels follow from the sources a section cites (docs/_ext/handbook/evidence.py).

Each test copies the small handbook in tests/roots/test-evidence (whose labels all follow from their
sources), writes one mistake over a page or its .bib, builds it in-process and looks for the message at
the file and line a contributor must fix.
"""

import pathlib
import re
import shutil
import sys

import pytest
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors

pytestmark = pytest.mark.fast

HERE = pathlib.Path(__file__).resolve().parent
ROOTS = HERE / "roots"
sys.path.insert(0, str(HERE.parent / "docs" / "_ext"))  # the fixture's conf.py loads "handbook"

TOPIC = (ROOTS / "test-evidence" / "topic.md").read_text(encoding="utf-8")
BIB = (ROOTS / "test-evidence" / "refs.bib").read_text(encoding="utf-8")


def build(srcdir, builder="dummy", fresh=True, **kwargs):
    """Build SRCDIR in-process; return its warnings, with paths relative to SRCDIR."""
    app = SphinxTestApp(builder, srcdir=srcdir, freshenv=fresh, **kwargs)
    try:
        app.build()
    finally:
        app.cleanup()
    return strip_colors(app.warning.getvalue()).replace(f"{srcdir}/", "")


def copy_fixture(dest):
    shutil.copytree(ROOTS / "test-evidence", dest)
    return dest


def line_of(text, needle):
    """The 1-based line of TEXT where NEEDLE first appears."""
    assert needle in text, f"{needle!r} is not in the text"
    return text[:text.index(needle)].count("\n") + 1


def page(body):
    """A topic page with the fixture's front matter and Key points, and BODY."""
    return TOPIC[:TOPIC.index("## Trials")] + body


def evidence_warnings(warnings):
    return [line for line in warnings.splitlines() if "[handbook.evidence]" in line]


# One build holds every mistake, each on its own page or bibliography entry: a test per mistake then
# looks for its message at its file and line.
PAGES = {
    "stronger": page("## Claims\n\n```{evidence} rct\n```\n\nAn open study {cite:p}`openlabel` and rats "
                     "{cite:p}`rats`.\n"),
    "different": page("## Claims\n\n```{evidence} expert\n```\n\nA trial {cite:p}`trial` and a review "
                      "{cite:t}`opinion`.\n"),
    "background": page("## Claims\n\n```{evidence} small-studies\n```\n\nAnxiety is common "
                       "{cite:p}`factsheet`.\n"),
    "news": TOPIC.replace("The label lists who should not take it {cite:p}`label`.",
                          "The label lists who should not take it {cite:p}`label`.\n\nIt was approved "
                          "{cite:p}`news`."),
    "approved": TOPIC.replace("```{evidence} regulatory", "```{evidence} approved"),
    "misspelt": TOPIC.replace("```{evidence} regulatory", "```{evidence} small-study"),
    "subsection": TOPIC.replace("Rats suggest a mechanism {cite:p}`rats`.", "Rats and a trial {cite:p}`rats,trial`."),
    "role": TOPIC.replace("{evidence-level}`openlabel`", "{evidence-level}`openlable`"),
    "cites-new-entries": page("## New entries\n\n{cite:p}`pressrelease,unlabelled,typo`\n"),
}
NEW_ENTRIES = """
@misc{pressrelease,
  author   = {{A company}},
  title    = {Company announces approval},
  year     = {2019},
  url      = {https://www.prnewswire.com/news-releases/approval.html},
  evidence = {regulatory}
}

@article{unlabelled,
  author   = {Writer, E.},
  title    = {A study without a level},
  journal  = {Journal},
  year     = {2021},
  doi      = {10.1000/unlabelled}
}

@article{typo,
  author   = {Writer, F.},
  title    = {A trial with a misspelt level},
  journal  = {Journal},
  year     = {2022},
  doi      = {10.1000/typo},
  evidence = {rtc}
}
"""


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory):
    """The warnings of one build of the fixture with every mistake below in it, by file."""
    srcdir = copy_fixture(tmp_path_factory.mktemp("mistakes") / "evidence")
    for name, text in PAGES.items():
        (srcdir / f"{name}.md").write_text(text, encoding="utf-8")
    (srcdir / "refs.bib").write_text(BIB + NEW_ENTRIES, encoding="utf-8")
    warnings = evidence_warnings(build(srcdir))
    by_file = {}
    for warning in warnings:
        by_file.setdefault(warning.split(":")[0], []).append(warning)
    return by_file


def only(mistakes, file):
    (message,) = mistakes.get(file, [])
    return message


def test_labels_that_follow_from_their_sources_pass(tmp_path):
    srcdir = copy_fixture(tmp_path / "evidence")
    warnings = build(srcdir, "html")
    assert "WARNING" not in warnings, warnings
    # ... and {evidence-level} shows each entry's level by name.
    html = (srcdir / "_build" / "html" / "topic.html").read_text(encoding="utf-8")
    assert re.search(r'class="evidence-level evidence-rct">Randomised trials in depression<', html)
    assert re.search(r'class="evidence-level evidence-small-studies">Small or open-label studies in anxiety<', html)
    assert "Regulator or product label" in html


def label_texts(html):
    return [" ".join(re.sub(r"<[^>]+>", "", m).split())
            for m in re.findall(r'<p class="evidence-label">(.*?)</p>', html, re.S)]


def test_a_label_says_which_evidence_is_in_anxiety_and_which_in_depression(tmp_path):
    """The conditions come from the sources' condition fields; when the strongest sources are not about
    anxiety, the label says what the anxiety evidence is, or that none is cited."""
    srcdir = copy_fixture(tmp_path / "evidence")
    build(srcdir, "html")
    labels = label_texts((srcdir / "_build" / "html" / "topic.html").read_text(encoding="utf-8"))
    assert labels == [
        "Evidence: Randomised trials in depression; no anxiety studies cited here",  # a trial and a review
        "Evidence: Small or open-label studies in anxiety",
        "Evidence: Randomised trials in depression; in anxiety, small or open-label studies",  # both cited
        "Evidence: Regulator or product label",
    ], labels
    # The same sources, with the trial now in anxiety: the label needs no second part.
    (srcdir / "refs.bib").write_text(BIB.replace("condition = {depression}", "condition = {anxiety, depression}", 1),
                                     encoding="utf-8")
    build(srcdir, "html", fresh=False)
    labels = label_texts((srcdir / "_build" / "html" / "topic.html").read_text(encoding="utf-8"))
    assert labels[0] == "Evidence: Randomised trials in anxiety and depression", labels


def test_a_research_entry_without_a_condition_fails_at_the_entry(tmp_path):
    srcdir = copy_fixture(tmp_path / "evidence")
    bib = BIB.replace("  condition = {anxiety}\n", "").replace("condition = {depression}", "condition = {depresion}", 1)
    (srcdir / "refs.bib").write_text(bib.replace("evidence = {small-studies},", "evidence = {small-studies}"),
                                     encoding="utf-8")
    warnings = evidence_warnings(build(srcdir))
    assert any(w.startswith(f"refs.bib:{line_of(bib, '@article{openlabel')}: ")
               and "entry 'openlabel' (evidence = {small-studies}) has no condition field: add the condition it "
               "studied, e.g. 'condition = {anxiety}'" in w for w in warnings), warnings
    assert any(w.startswith(f"refs.bib:{line_of(bib, '@article{trial')}: ")
               and "unknown condition 'depresion' (did you mean 'depression'?)" in w for w in warnings), warnings


def test_the_fixture_pages_pass_and_each_mistake_is_reported_once(mistakes):
    assert "topic.md" not in mistakes and "index.md" not in mistakes
    files = {f"{name}.md" for name in PAGES if name != "cites-new-entries"} | {"refs.bib"}
    assert set(mistakes) == files
    assert all(len(messages) == 1 for file, messages in mistakes.items() if file != "refs.bib")


def test_a_label_stronger_than_its_sources_fails_at_the_label(mistakes):
    message = only(mistakes, "stronger.md")
    assert message.startswith(f"stronger.md:{line_of(PAGES['stronger'], '```{evidence} rct')}: WARNING:")
    assert "claims stronger evidence than the sources this section cites" in message
    assert "carry 'small-studies' (Small or open-label studies)" in message
    assert "openlabel: small-studies; rats: preclinical" in message
    assert "Write '{evidence} small-studies'" in message


def test_a_label_different_from_its_sources_fails_at_the_label(mistakes):
    message = only(mistakes, "different.md")
    assert message.startswith(f"different.md:{line_of(PAGES['different'], '```{evidence} expert')}: WARNING:")
    assert "evidence label 'expert' (Case reports or expert opinion) does not match" in message
    assert "carry 'rct' (Randomised trials)" in message
    assert "trial: rct; opinion: expert" in message


def test_a_label_on_a_section_that_cites_only_background_fails(mistakes):
    message = only(mistakes, "background.md")
    line = line_of(PAGES["background"], "```{evidence} small-studies")
    assert message.startswith(f"background.md:{line}: WARNING:")
    assert "section has an evidence label ('small-studies') but cites no source that carries one" in message
    assert "factsheet: background" in message


def test_a_regulatory_section_citing_news_fails_at_the_citation(mistakes):
    message = only(mistakes, "news.md")
    assert message.startswith(f"news.md:{line_of(PAGES['news'], 'It was approved')}: WARNING:")
    assert "'news' (https://news.example.com/approval, evidence = background)" in message
    assert "regulatory facts must cite the regulator or the product label, not news or press releases" in message


def bib_message(mistakes, key):
    (message,) = [m for m in mistakes["refs.bib"] if f"entry '{key}'" in m]
    assert message.startswith(f"refs.bib:{line_of(BIB + NEW_ENTRIES, '{' + key + ',')}: WARNING:"), message
    return message


def test_a_regulatory_entry_off_a_regulator_s_site_fails_at_the_entry(mistakes):
    message = bib_message(mistakes, "pressrelease")
    assert "'pressrelease' has evidence = {regulatory}, but its url" in message
    assert "is on www.prnewswire.com, which is not a regulator's or a product label's site" in message


def test_an_entry_without_an_evidence_field_fails_at_the_entry(mistakes):
    assert "entry 'unlabelled' has no evidence field: add a line such as 'evidence = {rct}'" in bib_message(
        mistakes, "unlabelled")


def test_an_unknown_level_in_the_bibliography_gets_a_did_you_mean(mistakes):
    assert "entry 'typo' has an unknown evidence level 'rtc' (did you mean 'rct'?)" in bib_message(mistakes, "typo")


@pytest.mark.parametrize(("name", "written", "meant"), [("approved", "approved", "regulatory"),
                                                         ("misspelt", "small-study", "small-studies")])
def test_an_unknown_level_in_a_label_gets_a_did_you_mean(mistakes, name, written, meant):
    message = only(mistakes, f"{name}.md")
    assert message.startswith(f"{name}.md:{line_of(PAGES[name], '{evidence} ' + written)}: WARNING: unknown "
                              f"evidence level '{written}' (did you mean '{meant}'?")


def test_a_subsection_without_a_label_counts_for_its_section_and_one_with_a_label_does_not(mistakes):
    # "Why it might work" (rats, unlabelled) belongs to "Small studies"; "Strength of evidence" has its own
    # label. A trial cited in the unlabelled subsection makes the section's sources 'rct'.
    message = only(mistakes, "subsection.md")
    assert message.startswith(f"subsection.md:{line_of(PAGES['subsection'], '```{evidence} small-studies')}: ")
    assert "openlabel: small-studies; rats: preclinical; trial: rct" in message


def test_an_unknown_key_in_the_evidence_level_role_gets_a_did_you_mean(mistakes):
    message = only(mistakes, "role.md")
    assert message.startswith(f"role.md:{line_of(PAGES['role'], 'openlable')}: WARNING: unknown bibliography key "
                              "'openlable' (did you mean 'openlabel'?)")


def test_a_level_changed_in_the_bibliography_is_checked_on_an_incremental_build(tmp_path):
    srcdir = copy_fixture(tmp_path / "evidence")
    assert evidence_warnings(build(srcdir)) == []
    bib = srcdir / "refs.bib"
    bib.write_text(BIB.replace("evidence = {small-studies}", "evidence = {expert}"), encoding="utf-8")
    # topic.md is not read again, but its labels are checked again.
    (message,) = evidence_warnings(build(srcdir, fresh=False))
    assert message.startswith(f"topic.md:{line_of(TOPIC, '```{evidence} small-studies')}: WARNING:")
    assert "carry 'preclinical'" in message


def test_parallel_reading_finds_the_same_problems(tmp_path):
    srcdir = copy_fixture(tmp_path / "evidence")
    (srcdir / "topic.md").write_text(TOPIC.replace("```{evidence} rct\n```\n\nA trial", "```{evidence} expert\n"
                                                   "```\n\nA trial"), encoding="utf-8")
    for n in range(6):  # enough pages that Sphinx reads in parallel (patches.SERIAL_BELOW_PAGES)
        (srcdir / f"extra{n}.md").write_text((srcdir / "references.md").read_text().replace(
            "```{bibliography}\n```\n", ""), encoding="utf-8")
    warnings = evidence_warnings(build(srcdir, parallel=2))
    assert [w.split(": WARNING:")[0] for w in warnings] == [f"topic.md:{line_of(TOPIC, '```{evidence} rct')}"]


# -- Pages on which every section that cites research must carry a label --------------------------------

UNLABELLED_PAGE = TOPIC[:TOPIC.index(":::{admonition}")] + """## Labelled

```{evidence} rct
```

A trial {cite:p}`trial`.

### Under it

More on the trial {cite:p}`trial`.

## Background only

Anxiety is common {cite:p}`factsheet`.

## Unlabelled

An open study found a benefit {cite:p}`openlabel`.
"""


@pytest.mark.parametrize("labelled_pages", [["unlabelled"], []])
def test_a_section_citing_research_without_a_label_fails_where_labels_are_required(tmp_path, labelled_pages):
    """On the pages listed in handbook_labelled_pages, a section that cites research or a regulator needs a
    label of its own or one above it; a section citing only background sources needs none. Elsewhere (the
    questions page, the glossary) no label is required."""
    srcdir = copy_fixture(tmp_path / "evidence")
    (srcdir / "unlabelled.md").write_text(UNLABELLED_PAGE, encoding="utf-8")
    warnings = evidence_warnings(build(srcdir, confoverrides={"handbook_labelled_pages": labelled_pages}))
    if not labelled_pages:
        assert warnings == []
        return
    (message,) = warnings
    assert message.startswith(f"unlabelled.md:{line_of(UNLABELLED_PAGE, 'An open study')}: ")
    assert "section 'Unlabelled' cites openlabel but has no evidence label: add ```{evidence} small-studies```" \
        in message
