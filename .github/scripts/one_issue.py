"""One GitHub issue per weekly check: opened or rewritten while the check finds something, closed when it
does not. Shared by linkcheck_issue.py, label_watch.py and evidence_watch.py; talks to GitHub through the
`gh` command (GH_TOKEN and GH_REPO in the environment)."""

import json
import os
import subprocess
import tempfile


def gh(*args):
    return subprocess.run(["gh", *args], check=True, capture_output=True, text=True).stdout


def open_issue_number(title):
    """The oldest open issue with this title, or None."""
    issues = json.loads(gh("issue", "list", "--state", "open", "--limit", "200", "--json", "number,title"))
    numbers = [issue["number"] for issue in issues if issue["title"] == title]
    return min(numbers) if numbers else None


def keep_one_issue(title, body, all_clear):
    """With a body, open the issue or rewrite the open one; without (None), close it with `all_clear`.
    Returns what was done ("opened", "updated", "closed" or None) and the issue's number."""
    number = open_issue_number(title)
    if body is None:
        if number is None:
            return None, None
        gh("issue", "close", str(number), "--comment", all_clear)
        return "closed", number
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as file:
        file.write(body)
    try:
        if number is None:
            gh("issue", "create", "--title", title, "--body-file", file.name)
            return "opened", None
        gh("issue", "edit", str(number), "--body-file", file.name)
        return "updated", number
    finally:
        os.unlink(file.name)
