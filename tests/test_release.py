"""Releases: tools/release bumps the edition everywhere and dates the changelog; tools/changelog-section
prints an edition's release notes. Run on temporary copies of the project's files."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

pytestmark = pytest.mark.fast

RELEASE_FILES = ["VERSION", "CITATION.cff", ".zenodo.json", "CHANGELOG.md"]


def run(tool, *args):
    return subprocess.run([sys.executable, str(ROOT / "tools" / tool), *args], capture_output=True, text=True)


@pytest.fixture
def project(tmp_path):
    """A copy of the files a release changes, with known Unreleased entries."""
    for name in RELEASE_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    changelog = (tmp_path / "CHANGELOG.md").read_text(encoding="utf-8")
    changelog = re.sub(r"(## \[Unreleased\]\n).*?(?=^## \[)", r"\1\n### Medical content\n\n- A test change.\n\n",
                       changelog, count=1, flags=re.DOTALL | re.MULTILINE)
    (tmp_path / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    return tmp_path


def current_version():
    return (ROOT / "VERSION").read_text(encoding="utf-8").strip()


def next_version():
    major, minor = current_version().split(".")
    return f"{major}.{int(minor) + 1}"


def test_release_bumps_every_copy_of_the_version_and_dates_the_changelog(project):
    new = next_version()
    before = {name: (project / name).read_text(encoding="utf-8") for name in RELEASE_FILES}
    result = run("release", new, "--date", "2027-03-04", "--root", str(project))
    assert result.returncode == 0, result.stderr

    assert (project / "VERSION").read_text() == new + "\n"
    cff = yaml.safe_load((project / "CITATION.cff").read_text())
    assert cff["version"] == new and str(cff["date-released"]) == "2027-03-04"
    assert json.loads((project / ".zenodo.json").read_text())["version"] == new
    # Nothing else in CITATION.cff changed.
    assert {k: v for k, v in cff.items() if k not in ("version", "date-released")} == \
        {k: v for k, v in yaml.safe_load(before["CITATION.cff"]).items() if k not in ("version", "date-released")}

    changelog = (project / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.*)$", changelog, re.MULTILINE)
    assert headings[0] == "[Unreleased]" and headings[1] == f"[{new}] - 2027-03-04"
    assert headings[2].startswith(f"[{current_version()}]")
    notes = run("changelog-section", new, str(project / "CHANGELOG.md"))
    assert notes.returncode == 0 and notes.stdout == "### Medical content\n\n- A test change.\n"
    assert run("changelog-section", "Unreleased", str(project / "CHANGELOG.md")).returncode == 1  # empty now
    # The older editions are untouched.
    old_tail = before["CHANGELOG.md"][before["CHANGELOG.md"].index(f"## [{current_version()}]"):]
    assert changelog.endswith(old_tail)


@pytest.mark.parametrize("version, why", [
    ("1", "not an edition number"), ("1.1.1", "not an edition number"), ("one", "not an edition number"),
    ("0.9", "not newer"), ("CURRENT", "not newer"),
])
def test_release_refuses_a_bad_or_old_version_and_changes_nothing(project, version, why):
    version = current_version() if version == "CURRENT" else version
    before = {name: (project / name).read_bytes() for name in RELEASE_FILES}
    result = run("release", version, "--root", str(project))
    assert result.returncode == 1 and why in result.stderr, result.stderr
    assert {name: (project / name).read_bytes() for name in RELEASE_FILES} == before


def test_release_refuses_an_empty_unreleased_section(project):
    changelog = project / "CHANGELOG.md"
    text = re.sub(r"(## \[Unreleased\]\n).*?(?=^## \[)", r"\1\n", changelog.read_text(), count=1,
                  flags=re.DOTALL | re.MULTILINE)
    changelog.write_text(text)
    result = run("release", next_version(), "--root", str(project))
    assert result.returncode == 1 and "Unreleased section of CHANGELOG.md is empty" in result.stderr
    assert (project / "VERSION").read_text().strip() == current_version()


def test_release_refuses_a_date_that_does_not_exist(project):
    result = run("release", next_version(), "--date", "2027-02-30", "--root", str(project))
    assert result.returncode == 1 and (project / "VERSION").read_text().strip() == current_version()


def test_changelog_section_prints_the_notes_of_a_tagged_edition():
    version = current_version()
    result = run("changelog-section", f"v{version}")  # as the release workflow calls it, with the tag
    assert result.returncode == 0, result.stderr
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    start = text.index(f"## [{version}]")
    following = text.find("\n## [", start + 1)
    section = text[start:following if following > 0 else len(text)]
    assert result.stdout.strip() == section.split("\n", 1)[1].strip()
    assert "## [" not in result.stdout


def test_changelog_section_fails_for_an_edition_it_does_not_have():
    result = run("changelog-section", "99.0")
    assert result.returncode == 1 and "no section '## [99.0]'" in result.stderr and result.stdout == ""


# -- The release files and the workflow that publishes them ----------------------------------------


@pytest.fixture
def fake_build(tmp_path):
    """A build folder with stand-ins for the PDF, the EPUB and a small website."""
    build = tmp_path / "build"
    for path, data in {"pdf/ketamine-anxiety-handbook.pdf": b"%PDF-1.7 stand-in",
                       "epub/ketamine-anxiety-handbook.epub": b"PK stand-in",
                       "html/index.html": b"<html>home</html>", "html/_static/handbook.css": b"body{}",
                       "html/.built": b"", "html/.buildinfo": b"# Sphinx"}.items():
        (build / path).parent.mkdir(parents=True, exist_ok=True)
        (build / path).write_bytes(data)
    return build


def package_release(build, out, epoch="1790000000"):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "package-release"), "v2.3", str(build), str(out)],
                          capture_output=True, text=True, env={"SOURCE_DATE_EPOCH": epoch, "PATH": "/usr/bin:/bin"})


def test_package_release_gathers_the_books_the_website_and_checksums(fake_build, tmp_path):
    import hashlib
    import zipfile

    result = package_release(fake_build, tmp_path / "release")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "release"
    names = ["ketamine-anxiety-handbook-2.3-website.zip", "ketamine-anxiety-handbook-2.3.epub",
             "ketamine-anxiety-handbook-2.3.pdf"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "SHA256SUMS"])
    assert (out / names[2]).read_bytes() == (fake_build / "pdf/ketamine-anxiety-handbook.pdf").read_bytes()
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{hashlib.sha256((out / n).read_bytes()).hexdigest()}  {n}" for n in sorted(names)]
    with zipfile.ZipFile(out / names[0]) as site:
        assert site.namelist() == ["ketamine-anxiety-handbook-2.3-website/_static/handbook.css",
                                   "ketamine-anxiety-handbook-2.3-website/index.html"]
        assert site.read("ketamine-anxiety-handbook-2.3-website/index.html") == b"<html>home</html>"
    # Reproducible: again, elsewhere, the same bytes.
    assert package_release(fake_build, tmp_path / "again").returncode == 0
    assert (tmp_path / "again" / "SHA256SUMS").read_bytes() == (out / "SHA256SUMS").read_bytes()


def test_package_release_stops_when_a_book_was_not_built(fake_build, tmp_path):
    (fake_build / "epub/ketamine-anxiety-handbook.epub").unlink()
    result = package_release(fake_build, tmp_path / "release")
    assert result.returncode != 0 and "not built" in result.stderr and "epub" in result.stderr


def _steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_release_workflow_builds_tests_and_publishes_from_a_tag():
    workflow = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text(encoding="utf-8"))
    assert workflow[True]["push"]["tags"] == ["v*"]  # YAML reads the key `on` as True
    job = workflow["jobs"]["release"]
    assert job["container"]["image"] == "debian:12" and job["permissions"] == {"contents": "write"}
    runs = [step.get("run", "") for step in job["steps"]]
    order = [next(i for i, run in enumerate(runs) if needle in run)
             for needle in (".ci/run", "tools/changelog-section", "tools/package-release", "gh release create")]
    assert order == sorted(order), "build and test, then notes and files, then publish"
    assert "release/*" in runs[order[3]] and "--notes-file release-notes.md" in runs[order[3]]
    assert runs[order[0]].strip() == ".ci/run", "the CI entry point with no argument: make test"


def test_workflow_actions_are_pinned_to_the_same_commits_as_the_main_workflow():
    pins = {}
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        for step in _steps(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if "uses" in step:
                action, _, ref = step["uses"].partition("@")
                assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {step['uses']} is not pinned to a commit"
                pins.setdefault(action, set()).add(ref)
    assert all(len(refs) == 1 for refs in pins.values()), f"one action, several commits: {pins}"
