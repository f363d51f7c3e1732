"""The weekly evidence watch (.github/scripts/evidence_watch.py, .github/workflows/evidence-watch.yml): new
records for the documented search, and retractions of cited papers, listed in one issue; a source that cannot
be read is reported, never taken for "nothing new". Offline: recorded responses in tests/data/evidence-watch.
"""

import datetime
import importlib.util
import urllib.parse

import pytest
import yaml
from conftest import DOCS, ROOT
from test_setup import fake_gh

pytestmark = pytest.mark.fast

DATA = ROOT / "tests" / "data" / "evidence-watch"
SCRIPT = ROOT / ".github" / "scripts" / "evidence_watch.py"
spec = importlib.util.spec_from_file_location("evidence_watch", SCRIPT)
watch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(watch)

STUDIES = yaml.safe_load((DOCS / "studies.yml").read_text(encoding="utf-8"))
BIB = (DOCS / "references.bib").read_text(encoding="utf-8")
RETRACTED = (DOCS / "retracted-dois.txt").read_text(encoding="utf-8")
CITED = watch.cited_dois(BIB)


def recorded(name):
    return (DATA / name).read_text(encoding="utf-8")


def responses(pubmed="esearch-empty.json", ctgov="ctgov-empty.json", retracted_doi=None):
    """A stand-in for the network: each service answers from a recorded file."""
    asked = []

    def get(url):
        asked.append(url)
        if url.startswith(watch.ESEARCH):
            return recorded(pubmed)
        if url.startswith(watch.CTGOV):
            return recorded(ctgov)
        if url.startswith(watch.CROSSREF):
            doi = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["filter"][0].removeprefix("updates:")
            if doi == retracted_doi:
                return recorded("crossref-retraction.json").replace("DOI_PLACEHOLDER", doi)
            return recorded("crossref-none.json")
        raise AssertionError(f"unexpected address {url}")

    get.asked = asked
    return get


def test_the_documented_search_is_what_the_watch_runs():
    strings = STUDIES["search"]["strings"]
    assert len(strings["pubmed"]) >= 5 and len(strings["clinicaltrials"]) >= 2
    get = responses()
    assert watch.findings(STUDIES, BIB, RETRACTED, get=get) == {"records": [], "notices": [], "errors": []}
    pubmed = [u for u in get.asked if u.startswith(watch.ESEARCH)]
    assert len(pubmed) == len(strings["pubmed"])
    date = STUDIES["search"]["date"]
    assert all(f"mindate={date:%Y}%2F{date:%m}%2F{date:%d}" in u for u in pubmed), pubmed[0]
    assert sum(u.startswith(watch.CROSSREF) for u in get.asked) == len(CITED) > 30


def test_new_records_are_listed_for_screening():
    found = watch.findings(STUDIES, BIB, RETRACTED, get=responses("esearch.json", "ctgov.json"))
    assert any("PubMed 99000001 (https://pubmed.ncbi.nlm.nih.gov/99000001/)" in r for r in found["records"])
    assert any(r.startswith("ClinicalTrials.gov NCT99000001:") for r in found["records"])
    body = watch.issue_body(found)
    assert "New records for the documented search" in body and "docs/studies.yml" in body


def test_a_retracted_cited_paper_is_flagged_until_it_is_on_the_list():
    doi = CITED[0]
    found = watch.findings(STUDIES, BIB, RETRACTED, get=responses(retracted_doi=doi))
    assert found["notices"] == [f"{doi}: retraction (10.9999/retraction-notice-example, 2026-3-31): remove it and "
                                "add it to docs/retracted-dois.txt"]
    listed = RETRACTED + f"\n{doi}  # retracted 31 March 2026\n"
    assert watch.findings(STUDIES, BIB, listed, get=responses(retracted_doi=doi))["notices"] == []


@pytest.mark.parametrize("broken", ["not json", "{}", '{"message": {}}'])
def test_a_source_that_cannot_be_read_is_reported(broken):
    found = watch.findings(STUDIES, BIB, RETRACTED, get=lambda url: broken)
    assert not found["records"] and not found["notices"]
    assert len(found["errors"]) == len(STUDIES["search"]["strings"]["pubmed"]) + len(
        STUDIES["search"]["strings"]["clinicaltrials"]) + len(CITED)


def test_the_issue_is_opened_updated_and_closed(monkeypatch, tmp_path):
    def run(folder, open_issues, get):
        folder.mkdir()
        env, log = fake_gh(folder, open_issues)
        monkeypatch.setenv("PATH", env["PATH"])
        monkeypatch.setattr(watch, "fetch", get)
        assert watch.main(["evidence_watch.py"]) == 0
        return log.read_text().splitlines() if log.exists() else []

    calls = run(tmp_path / "new", [], responses("esearch.json"))
    assert calls[-1].startswith(f"issue create --title {watch.TITLE} --body-file ")
    calls = run(tmp_path / "again", [{"number": 4, "title": watch.TITLE}], responses("esearch.json"))
    assert calls[-1].startswith("issue edit 4 --body-file ")
    calls = run(tmp_path / "quiet", [{"number": 4, "title": watch.TITLE}], responses())
    assert calls[-1].startswith("issue close 4 --comment ")


def test_the_workflow_runs_weekly_with_only_what_it_needs():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "evidence-watch.yml").read_text(encoding="utf-8"))
    assert "schedule" in workflow[True] and "workflow_dispatch" in workflow[True]
    job = workflow["jobs"]["evidence-watch"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert ".github/scripts/evidence_watch.py" in " ".join(step.get("run", "") for step in job["steps"])


def test_the_search_date_is_a_date():
    assert isinstance(STUDIES["search"]["date"], datetime.date)
