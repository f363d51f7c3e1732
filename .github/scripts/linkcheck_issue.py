#!/usr/bin/env python3
"""Keep one GitHub issue listing the handbook's broken outside links, from Sphinx's linkcheck report.

usage: linkcheck_issue.py BUILDDIR/linkcheck/output.json

Broken links: opens the issue "Broken outside links", or rewrites its list if it is open.
No broken link: closes that issue, if open, with a comment. No report: exits 1 (linkcheck did not run).
Talks to GitHub through the `gh` command (GH_TOKEN and GH_REPO in the environment). RUN_URL, if set,
links the workflow run that made the report.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared one_issue.py beside this script
from one_issue import keep_one_issue  # noqa: E402

TITLE = "Broken outside links"
SOURCEDIR = "docs"  # linkcheck names files relative to Sphinx's source folder
FAILED = ("broken", "timeout")


def broken_links(report):
    """The failed rows of linkcheck's output.json (one JSON object per line), sorted by file and line."""
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line.strip()]
    failed = [row for row in rows if row["status"] in FAILED]
    return sorted(failed, key=lambda row: (row["filename"], row["lineno"] or 0, row["uri"]))


def issue_body(rows, run_url=""):
    """Markdown for the issue: one line per broken link, with where it is and what the server said."""
    lines = [f"The weekly link check found {len(rows)} outside link(s) that did not work.", ""]
    for row in rows:
        path = f"{SOURCEDIR}/{row['filename']}"
        where = f"{path}:{row['lineno']}" if row["lineno"] else path
        info = " ".join(str(row.get("info") or row["status"]).split())
        lines.append(f"- [ ] `{where}`: <{row['uri']}> ({row['status']}: {info})")
    lines += [
        "",
        "A DOI that fails is checked at https://doi.org first; a publisher's site that refuses automated "
        "checks (403) may still work in a browser. Fix the link in the page or in docs/references.bib, or "
        "replace the source if it has gone. This list is rewritten each week and the issue closes itself "
        "when every link works.",
    ]
    if run_url:
        lines += ["", f"Report from {run_url}"]
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    report = Path(argv[1])
    if not report.is_file():
        print(f"{report}: no linkcheck report, so the link check did not run; see the step above.",
              file=sys.stderr)
        return 1
    rows = broken_links(report)
    done, number = keep_one_issue(TITLE, issue_body(rows, os.environ.get("RUN_URL", "")) if rows else None,
                                  "Every outside link works again.")
    if done == "closed":
        print(f"All links work: closed issue #{number}.")
    elif done is None:
        print("All links work.")
    elif done == "opened":
        print(f"{len(rows)} broken link(s): opened the issue \"{TITLE}\".")
    else:
        print(f"{len(rows)} broken link(s): updated issue #{number}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
