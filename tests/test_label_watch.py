"""The weekly label watch (.github/scripts/label_watch.py, .github/workflows/label-watch.yml) notices a newer
version of a label the safety map was checked against, keeps one issue up to date, and never takes a failure
for "no change". Offline: recorded responses in tests/data/label-watch, a fake `gh`.
"""

import datetime
import importlib.util
import json
import sys

import pytest
import yaml
from conftest import DOCS, ROOT
from test_setup import fake_gh

pytestmark = pytest.mark.fast

DATA = ROOT / "tests" / "data" / "label-watch"
SCRIPT = ROOT / ".github" / "scripts" / "label_watch.py"
spec = importlib.util.spec_from_file_location("label_watch", SCRIPT)
label_watch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(label_watch)

HISTORY = (DATA / "dailymed-spravato-history.json").read_text(encoding="utf-8")
EMA_PAGE = (DATA / "ema-spravato.html").read_text(encoding="utf-8")


def recorded(url):
    if "dailymed.nlm.nih.gov" in url:
        return HISTORY
    if "ema.europa.eu" in url:
        return EMA_PAGE
    raise AssertionError(f"the test asked for an unexpected address: {url}")


def the_map():
    return yaml.safe_load((DOCS / "safety-map.yml").read_text(encoding="utf-8"))


def test_the_recorded_responses_are_read():
    assert label_watch.newest_spl_version(HISTORY) == (18, "Mar 13, 2026")
    assert label_watch.ema_last_updated(EMA_PAGE) == datetime.date(2023, 7, 14)


def test_the_map_records_the_versions_it_was_checked_against_so_nothing_is_flagged():
    watched = {key for key, source in the_map()["sources"].items() if source.get("watch")}
    assert {"spravato_label", "ema_spravato"} <= watched
    assert label_watch.changes(the_map(), get=recorded) == []


def test_a_newer_label_version_is_flagged():
    newer = HISTORY.replace('"spl_version": "18"', '"spl_version": "19"').replace("Mar 13, 2026", "Nov 02, 2026")
    found = label_watch.changes(the_map(), get=lambda url: newer if "dailymed" in url else recorded(url))
    assert found == [("spravato_label", "DailyMed has version 19 (published Nov 02, 2026); the map was checked "
                                        "against version 18")]


def test_a_newer_ema_page_is_flagged():
    newer = EMA_PAGE.replace("14/07/2023", "14/11/2026")
    found = label_watch.changes(the_map(), get=lambda url: newer if "ema.europa" in url else recorded(url))
    assert [key for key, _ in found] == ["ema_spravato"]
    assert "14 November 2026" in found[0][1]


@pytest.mark.parametrize("broken", ["not json", '{"data": {"history": []}}', "<html>EMA page without a date</html>"])
def test_a_source_that_cannot_be_read_is_reported_not_taken_for_no_change(broken):
    found = label_watch.changes(the_map(), get=lambda url: broken)
    assert {key for key, _ in found} == {"spravato_label", "ema_spravato"}
    assert all("could not be checked" in what for _, what in found)


def test_a_network_failure_is_reported():
    def offline(url):
        raise OSError("network unreachable")

    found = label_watch.changes(the_map(), get=offline)
    assert all("could not be checked: OSError: network unreachable" in what for _, what in found)


def run_main(monkeypatch, tmp_path, open_issues, responses):
    env, log = fake_gh(tmp_path, open_issues)
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("RUN_URL", "https://run")
    monkeypatch.setattr(label_watch, "fetch", responses)
    assert label_watch.main(["label_watch.py", str(DOCS / "safety-map.yml")]) == 0
    return log.read_text().splitlines() if log.exists() else []


def test_a_change_opens_the_issue_with_what_to_do(monkeypatch, tmp_path):
    newer = HISTORY.replace('"spl_version": "18"', '"spl_version": "19"')
    calls = run_main(monkeypatch, tmp_path, [{"number": 2, "title": "Broken outside links"}],
                     lambda url: newer if "dailymed" in url else recorded(url))
    assert calls[-1].startswith("issue create --title Safety map: a source has changed --body-file ")
    body = (tmp_path / "body.md").read_text()
    assert "`spravato_label`: DailyMed has version 19" in body and "docs/safety-map.yml" in body
    assert "https://run" in body


def test_the_open_issue_is_updated_and_closed_when_the_map_is_current(monkeypatch, tmp_path):
    newer = HISTORY.replace('"spl_version": "18"', '"spl_version": "19"')
    calls = run_main(monkeypatch, tmp_path, [{"number": 9, "title": label_watch.TITLE}],
                     lambda url: newer if "dailymed" in url else recorded(url))
    assert calls[-1].startswith("issue edit 9 --body-file ")
    (tmp_path / "again").mkdir()
    calls = run_main(monkeypatch, tmp_path / "again", [{"number": 9, "title": label_watch.TITLE}], recorded)
    assert calls[-1].startswith("issue close 9 --comment ")


def test_the_workflow_runs_the_watch_weekly_with_only_what_it_needs():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "label-watch.yml").read_text(encoding="utf-8"))
    assert "schedule" in workflow[True] and "workflow_dispatch" in workflow[True]
    job = workflow["jobs"]["label-watch"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "python3-yaml" in runs and ".github/scripts/label_watch.py docs/safety-map.yml" in runs


def test_the_script_runs_as_the_workflow_runs_it(tmp_path):
    """A dry run in a subprocess, with the network closed: each source is reported as not checked."""
    import subprocess

    closed = "http://127.0.0.1:9"
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": closed, "https_proxy": closed, "NO_PROXY": ""}
    result = subprocess.run([sys.executable, str(SCRIPT), str(DOCS / "safety-map.yml"), "--dry-run"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "`spravato_label`: could not be checked" in result.stdout
    json.dumps(result.stdout)  # plain text
