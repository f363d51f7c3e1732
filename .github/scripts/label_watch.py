#!/usr/bin/env python3
"""Notice when a label or regulator's page that the safety map was checked against has a newer version.

usage: label_watch.py [docs/safety-map.yml]

For each source in the safety map with a `watch:` entry:
  dailymed_setid + spl_version   asks DailyMed's web service for the label's version history
                                 (https://dailymed.nlm.nih.gov/dailymed/services/v2/spls/SETID/history.json)
                                 and compares its newest spl_version with the one the map records;
  ema_page + last_updated        reads the EMA page's "last updated on DD/MM/YYYY" and compares the date.
A newer version opens the issue "Safety map: a source has changed" (or rewrites its list if open); when
every source matches the map again, the issue is closed. A source that cannot be read is listed too, so a
silent failure cannot pass for "nothing changed". Talks to GitHub through `gh` (GH_TOKEN, GH_REPO); with
--dry-run it only prints the issue's text. Tests run it offline on recorded responses (tests/data/label-watch).
"""

import datetime
import json
import os
import re
import sys
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared one_issue.py beside this script
from one_issue import keep_one_issue  # noqa: E402

TITLE = "Safety map: a source has changed"
MAP = Path(__file__).resolve().parents[2] / "docs" / "safety-map.yml"
DAILYMED = "https://dailymed.nlm.nih.gov/dailymed/services/v2/spls/{setid}/history.json"
USER_AGENT = "ketamine-anxiety-handbook label watch (+https://github.com/ketamine-handbook/ketamine-anxiety-handbook)"


def fetch(url):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (https only, from the map)
        return response.read().decode("utf-8", "replace")


def newest_spl_version(text):
    """The highest spl_version anywhere in DailyMed's history response (the documented example nests the
    entries under data/history; the search does not depend on the nesting)."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if "spl_version" in value:
                found.append((int(value["spl_version"]), value.get("published_date", "")))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(text))
    if not found:
        raise ValueError("no spl_version in the response")
    return max(found)


def ema_last_updated(text):
    """The date in the EMA page's "This EPAR was last updated on 05/06/2025" (day/month/year)."""
    match = re.search(r"last updated on\s*(\d{1,2})/(\d{1,2})/(\d{4})", re.sub(r"<[^>]+>", " ", text), re.IGNORECASE)
    if not match:
        raise ValueError("no 'last updated on DD/MM/YYYY' on the page")
    day, month, year = (int(g) for g in match.groups())
    return datetime.date(year, month, day)


def changes(safety_map, get=None):
    """[(source key, what changed or could not be read)] for every watched source."""
    get = get or fetch
    found = []
    for key, source in safety_map["sources"].items():
        watch = (source or {}).get("watch") or {}
        try:
            if "dailymed_setid" in watch:
                version, published = newest_spl_version(get(DAILYMED.format(setid=watch["dailymed_setid"])))
                if version > int(watch["spl_version"]):
                    found.append((key, f"DailyMed has version {version} (published {published}); the map was "
                                       f"checked against version {watch['spl_version']}"))
            if "ema_page" in watch:
                updated = ema_last_updated(get(watch["ema_page"]))
                if updated > watch["last_updated"]:
                    found.append((key, f"the EMA page was last updated on {updated:%d %B %Y}; the map was checked "
                                       f"against the version of {watch['last_updated']:%d %B %Y}"))
        except Exception as error:  # noqa: BLE001 (any failure is reported, never taken for "no change")
            found.append((key, f"could not be checked: {type(error).__name__}: {error}"))
    return found


def issue_body(found, run_url=""):
    lines = [f"The weekly label watch found {len(found)} source(s) of the safety map to look at again.", ""]
    lines += [f"- [ ] `{key}`: {what}" for key, what in found]
    lines += [
        "",
        "Read the new version section by section against the rows of `docs/safety-map.yml` for that source: "
        "add a row for each new item a patient needs (with the handbook section that tells it), correct the "
        "pages where the label changed, then record the new version, `checked:` date and `watch:` values. "
        "CONTRIBUTING.md (\"When a label changes\") has the steps. This list is rewritten each week and the "
        "issue closes itself when the map matches every source again.",
    ]
    if run_url:
        lines += ["", f"Report from {run_url}"]
    return "\n".join(lines) + "\n"


def main(argv):
    dry_run = "--dry-run" in argv
    args = [a for a in argv[1:] if a != "--dry-run"]
    path = Path(args[0]) if args else MAP
    found = changes(yaml.safe_load(path.read_text(encoding="utf-8")))
    body = issue_body(found, os.environ.get("RUN_URL", ""))
    if not dry_run:
        keep_one_issue(TITLE, body if found else None, "Every watched source matches the safety map again.")
    print(body if found else "Every watched source matches the safety map.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
