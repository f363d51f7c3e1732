#!/usr/bin/env python3
"""Keep the evidence current: new records for the documented search, and retractions of cited papers.

usage: evidence_watch.py [--dry-run]

1. Re-runs the documented search (the PubMed strings and ClinicalTrials.gov terms in docs/studies.yml,
   `search.strings`) for records added since the search date, through PubMed's E-utilities (esearch) and
   ClinicalTrials.gov's API (version 2), and lists them for screening.
2. Asks Crossref, for every DOI in docs/references.bib, whether a notice updates it (a retraction, a
   withdrawal, an expression of concern or a correction), and lists those not yet in docs/retracted-dois.txt.
Keeps one GitHub issue, "Evidence watch: records to screen", up to date through `gh` (GH_TOKEN, GH_REPO):
opened or rewritten when there is something to do, closed when there is nothing. A source that cannot be
read is listed too, never taken for "nothing new". Tests run it offline on recorded responses
(tests/data/evidence-watch).
"""

import datetime
import json
import os
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared one_issue.py beside this script
from one_issue import keep_one_issue  # noqa: E402

TITLE = "Evidence watch: records to screen"
ROOT = Path(__file__).resolve().parents[2]
ESEARCH = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi"
CTGOV = "https://clinicaltrials.gov/api/v2/studies"
CROSSREF = "https://api.crossref.org/works"
USER_AGENT = ("ketamine-anxiety-handbook evidence watch "
              "(+https://github.com/ketamine-handbook/ketamine-anxiety-handbook)")
SERIOUS = {"retraction", "withdrawal", "removal", "expression_of_concern", "partial_retraction"}


def fetch(url):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (fixed https addresses)
        return response.read().decode("utf-8", "replace")


def pubmed_url(term, since):
    return ESEARCH + "?" + urllib.parse.urlencode({
        "db": "pubmed", "term": term, "retmode": "json", "retmax": 200, "datetype": "edat",
        "mindate": since.strftime("%Y/%m/%d"), "maxdate": "3000"})


def pubmed_ids(text):
    result = json.loads(text)["esearchresult"]
    return list(result["idlist"])


def ctgov_url(condition, intervention, since):
    return CTGOV + "?" + urllib.parse.urlencode({
        "query.cond": condition, "query.intr": intervention, "pageSize": 100, "format": "json",
        "filter.advanced": f"AREA[LastUpdatePostDate]RANGE[{since:%Y-%m-%d},MAX]"})


def ctgov_ids(text):
    return [(s["protocolSection"]["identificationModule"]["nctId"],
             s["protocolSection"]["identificationModule"].get("briefTitle", ""))
            for s in json.loads(text)["studies"]]


def crossref_url(doi):
    return CROSSREF + "?" + urllib.parse.urlencode({"filter": f"updates:{doi}", "rows": 20})


def notices(text, doi):
    """[(type, notice DOI, date)] of the notices Crossref lists as updating DOI."""
    found = []
    for item in json.loads(text)["message"]["items"]:
        for update in item.get("update-to", []):
            if update.get("DOI", "").lower() == doi.lower():
                parts = (update.get("updated") or {}).get("date-parts", [[None]])[0]
                found.append((update.get("type", "update"), item.get("DOI", ""), "-".join(str(p) for p in parts if p)))
    return found


def cited_dois(bib_text):
    return sorted({m.group(1).strip() for m in re.finditer(r"^\s*doi\s*=\s*\{([^}]*)\}", bib_text, re.MULTILINE)})


def known_retractions(text):
    return {line.split("#")[0].strip().lower() for line in text.splitlines() if line.split("#")[0].strip()}


def findings(studies, bib_text, retracted_text, get=None):
    """{'records': [...], 'notices': [...], 'errors': [...]} -- lines for the issue."""
    get = get or fetch
    search = studies["search"]
    since = search["date"]
    since = since if isinstance(since, datetime.date) else datetime.date.fromisoformat(str(since))
    strings = search.get("strings") or {}
    out = {"records": [], "notices": [], "errors": []}
    for term in strings.get("pubmed", []):
        try:
            ids = pubmed_ids(get(pubmed_url(term, since)))
            out["records"] += [f"PubMed {pmid} (https://pubmed.ncbi.nlm.nih.gov/{pmid}/), from `{term}`"
                               for pmid in ids]
        except Exception as error:  # noqa: BLE001 (reported, never taken for "nothing new")
            out["errors"].append(f"PubMed search `{term}` could not be run: {type(error).__name__}: {error}")
    for query in strings.get("clinicaltrials", []):
        try:
            ids = ctgov_ids(get(ctgov_url(query["condition"], query["intervention"], since)))
            out["records"] += [f"ClinicalTrials.gov {nct}: {title} (https://clinicaltrials.gov/study/{nct})"
                               for nct, title in ids]
        except Exception as error:  # noqa: BLE001
            out["errors"].append(f"ClinicalTrials.gov search {query} could not be run: {type(error).__name__}: {error}")
    known = known_retractions(retracted_text)
    for doi in cited_dois(bib_text):
        try:
            for kind, notice, date in notices(get(crossref_url(doi)), doi):
                if kind in SERIOUS and doi.lower() not in known:
                    out["notices"].append(f"{doi}: {kind.replace('_', ' ')} ({notice}, {date}): remove it and add it "
                                          "to docs/retracted-dois.txt")
                elif kind not in SERIOUS:
                    out["notices"].append(f"{doi}: {kind.replace('_', ' ')} ({notice}, {date}): check whether the "
                                          "handbook's claims still hold")
        except Exception as error:  # noqa: BLE001
            out["errors"].append(f"Crossref could not be asked about {doi}: {type(error).__name__}: {error}")
    return out


def issue_body(found, run_url=""):
    lines = []
    if found["notices"]:
        lines += ["## Cited papers with a notice (Crossref)", "", *[f"- [ ] {n}" for n in found["notices"]], ""]
    if found["records"]:
        lines += ["## New records for the documented search", "",
                  "Screen each against the inclusion rules on the search page (docs/evidence-search.md); add an "
                  "included study to docs/studies.yml and update the flow counts and the search date.", "",
                  *[f"- [ ] {r}" for r in found["records"]], ""]
    if found["errors"]:
        lines += ["## Could not be checked", "", *[f"- {e}" for e in found["errors"]], ""]
    if run_url:
        lines += [f"Report from {run_url}"]
    return "\n".join(lines) + "\n"


def main(argv):
    studies = yaml.safe_load((ROOT / "docs" / "studies.yml").read_text(encoding="utf-8"))
    bib = (ROOT / "docs" / "references.bib").read_text(encoding="utf-8")
    retracted = (ROOT / "docs" / "retracted-dois.txt").read_text(encoding="utf-8")
    found = findings(studies, bib, retracted)
    body = issue_body(found, os.environ.get("RUN_URL", ""))
    something = any(found.values())
    all_clear = "Nothing new to screen, and no notice on any cited paper."
    if "--dry-run" not in argv:
        keep_one_issue(TITLE, body if something else None, all_clear)
    print(body if something else all_clear)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
