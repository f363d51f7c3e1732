"""Bad input in the real handbook: a contributor's mistakes fail the build, each with its file and line.

Each kind of mistake has its own fast test on the small fixture handbook (test_bad_pages.py,
test_bad_references.py, test_bad_bibliography.py). This one test checks the whole chain on the real
sources, built with `make`'s options (-W --keep-going -n): a broken copy fails, every message names the
file and line, and nothing ends in a traceback.
"""

import re
import shutil

from conftest import ROOT, sphinx_build


def test_mistakes_in_the_real_handbook_fail_the_build_with_file_and_line(tmp_path):
    # The project as conf.py sees it (it reads files beside it; pages include CONTRIBUTING.md and others).
    shutil.copytree(ROOT, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "_build", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", "tests"))
    page = tmp_path / "docs" / "mechanism.md"
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^next_review: .*$", "next_review: 2027-02-30", text, count=1, flags=re.MULTILINE)
    text += "\nA mistyped term: {term}`glutamat`. A mistyped key {cite:p}`gleu2017`.\n"
    page.write_text(text, encoding="utf-8")
    last = text.count("\n")

    # The dummy builder reads, checks and resolves every page as `make html` does, but writes no HTML.
    result = sphinx_build("dummy", tmp_path / "_build", src=tmp_path / "docs", conf=tmp_path, extra=["-q"])
    output = result.stderr + result.stdout
    assert result.returncode != 0, f"the build passed, but should have failed:\n{output}"
    assert "Traceback" not in output and "Exception occurred" not in output, output
    for line, message in [(5, r"front matter field 'next_review' is not a real date: '2027-02-30'"),
                          (last, r"term not in glossary: 'glutamat' \(did you mean 'glutamate'\?\)"),
                          (last, r"could not find bibtex key \"gleu2017\" \(did you mean 'glue2017'\?\)")]:
        assert re.search(rf"docs/mechanism\.md:{line}: WARNING: {message}", output), f"{message!r} not in:\n{output}"
