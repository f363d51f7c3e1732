"""Setting up and CI: the system-package check, the dev container, the locked supply chain, the link check.

The system-package check runs in a made-up machine: a PATH of chosen commands, with apt-get and
Graphviz left out, or a fake apt-get that records what it was asked. No root, no network.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "system-packages"
WORKFLOWS = ROOT / ".github" / "workflows"
BUILD = ROOT / os.environ.get("BUILDDIR", "_build")
fast = pytest.mark.fast

# Real commands the script and the Makefile use; everything else is missing from the made-up machine.
REAL = ["sh", "cat", "make", "git", "find", "date", "mkdir", "touch", "rm", "dirname"]


def machine(tmp_path, *, root=False, apt_get=False, python=True):
    """A bin folder for PATH: the REAL commands, a python3 with venv, a fake `id` saying root or not,
    and, if asked, a fake apt-get that appends its arguments to apt.log. No Graphviz, poppler or browser."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in REAL:
        found = shutil.which(name)
        if found:
            (bin_dir / name).symlink_to(found)
    if python:
        (bin_dir / "python3").symlink_to(sys.executable)
    stub(bin_dir / "id", f"echo {0 if root else 1000}")
    if apt_get:
        stub(bin_dir / "apt-get", f'echo "$*" >> {tmp_path / "apt.log"}')
    return {**os.environ, "PATH": str(bin_dir)}


def stub(path, body):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def run(cmd, env, cwd=ROOT):
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@fast
def test_without_apt_get_one_message_names_the_dev_container_and_the_packages(tmp_path):
    result = run([str(SCRIPT)], machine(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    message = result.stderr
    assert "dev container" in message and ".devcontainer/devcontainer.json" in message
    assert "CONTRIBUTING.md" in message
    for package in ("graphviz", "poppler-utils", "npm"):
        assert re.search(rf"\b{package}\b", message), package
    assert "python3-venv" not in message  # this python3 has venv and ensurepip
    assert "Traceback" not in message and "not found" not in message


@fast
def test_without_python3_the_message_names_python3_and_venv(tmp_path):
    result = run([str(SCRIPT)], machine(tmp_path, python=False))
    assert result.returncode == 1
    assert re.search(r"\bpython3 python3-venv\b", result.stderr)


@fast
def test_on_debian_without_root_it_prints_the_apt_get_command_and_installs_nothing(tmp_path):
    result = run([str(SCRIPT)], machine(tmp_path, apt_get=True))
    assert result.returncode == 1
    command = re.search(r"sudo apt-get install --no-install-recommends( [a-z0-9.+-]+)+", result.stderr)
    assert command and "graphviz" in command.group(0).split()
    assert "dev container" not in result.stderr
    assert not (tmp_path / "apt.log").exists()


@fast
def test_as_root_on_debian_it_installs_the_missing_packages_with_apt_get(tmp_path):
    result = run([str(SCRIPT)], machine(tmp_path, root=True, apt_get=True))
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq"
    install = calls[1].split()
    assert install[:4] == ["install", "-y", "-qq", "--no-install-recommends"]
    assert {"graphviz", "poppler-utils", "npm"} <= set(install[4:])
    assert "make" not in install and "git" not in install  # present on this made-up machine


@fast
def test_make_stops_with_that_message_before_creating_the_venv(tmp_path):
    """`make` on a machine without apt-get: the system check comes first, so the venv step (whose
    errors come from deep inside pip or ensurepip) never runs."""
    venv = tmp_path / "venv"
    env = machine(tmp_path)
    result = run(["make", f"BUILDDIR={tmp_path / 'build'}", f"VENV={venv}"], env)
    assert result.returncode != 0
    assert result.stderr.count("This machine has no apt-get") == 1
    assert "dev container" in result.stderr
    assert not venv.exists()


@fast
def test_make_test_never_runs_the_link_check():
    """The link check needs the network; `make test` must work offline."""
    result = subprocess.run(["make", "-n", "test", "BUILDDIR=/nonexistent-build"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "sphinx-build" in result.stdout  # the dry run did list the build
    assert "linkcheck" not in result.stdout
    dry = subprocess.run(["make", "-n", "linkcheck"], cwd=ROOT, capture_output=True, text=True)
    assert "-M linkcheck" in dry.stdout


def devcontainer():
    return json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8"))


@fast
def test_the_dev_container_is_debian_12_and_installs_what_make_installs():
    config = devcontainer()
    assert config["image"] in ("debian:12", "debian:bookworm")
    steps = config["postCreateCommand"]
    assert "tools/system-packages" in steps and "make setup" in steps


@fast
def test_ci_runs_make_test_in_the_dev_containers_image():
    workflow = yaml.safe_load((WORKFLOWS / "handbook.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["test"]
    assert job["container"]["image"] == devcontainer()["image"]
    runs = [step.get("run", "") for step in job["steps"]]
    uses = [step.get("uses", "") for step in job["steps"]]
    checkout = next(i for i, u in enumerate(uses) if u.startswith("actions/checkout@"))
    assert any("apt-get install" in r and "git" in r.split() for r in runs[:checkout]), \
        "git must be installed before the checkout, or actions/checkout downloads a tarball without history"
    assert ".ci/run" in runs
    assert not any("sudo" in r for r in runs)  # the container job runs as root


@fast
def test_every_action_is_pinned_to_a_commit_sha_with_its_version():
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        for line in workflow.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(- )?uses:", line) and "uses: ./" not in line:
                assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), \
                    f"{workflow.name}: {line.strip()}"


@fast
def test_the_lock_pins_every_package_with_hashes_and_no_local_paths():
    lock = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", lock, re.MULTILINE))
    assert len(pins) > 50
    for block in re.split(r"\n(?=[a-z0-9])", lock)[1:]:  # one block a package, after the header
        assert "--hash=sha256:" in block, block.splitlines()[0]
    assert not re.search(r"file:(?!\s)|/opt/|localhost|127\.0\.0\.1|--find-links|--index-url", lock)
    wanted = re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", (ROOT / "requirements.in").read_text(), re.MULTILINE)
    assert wanted
    for name, version in wanted:
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert pins.get(key) == version, f"requirements.in asks {name}=={version}; the lock has {pins.get(key)}"
    if "textstat" in pins:
        assert pins["textstat"].startswith("0.7."), "textstat after 0.7 downloads NLTK data at first use"


# -- The weekly link check -----------------------------------------------------------------------

LINKCHECK_ISSUE = ROOT / ".github" / "scripts" / "linkcheck_issue.py"


def fake_gh(tmp_path, open_issues):
    """A `gh` that answers `issue list` with OPEN_ISSUES and records every call (and --body-file text)."""
    log = tmp_path / "gh.log"
    listing = tmp_path / "issues.json"
    listing.write_text(json.dumps(open_issues))
    bin_dir = tmp_path / "gh-bin"
    bin_dir.mkdir()
    stub(bin_dir / "gh", f"""echo "$*" >> {log}
case "$*" in
  "issue list"*) cat {listing} ;;
esac
while [ $# -gt 0 ]; do [ "$1" = --body-file ] && cat "$2" > {tmp_path / "body.md"}; shift; done""")
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "RUN_URL": "https://run"}, log


def report(tmp_path, rows):
    path = tmp_path / "output.json"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


BROKEN = {"filename": "references.md", "lineno": 12, "status": "broken", "code": 0,
          "uri": "https://doi.org/10.1000/gone", "info": "404 Client Error: Not Found"}
WORKING = {"filename": "anxiety.md", "lineno": 3, "status": "working", "code": 0,
           "uri": "https://www.who.int/", "info": ""}


@fast
def test_a_broken_link_opens_the_issue_with_its_file_and_line(tmp_path):
    env, log = fake_gh(tmp_path, [{"number": 3, "title": "Something else"}])
    result = run([sys.executable, str(LINKCHECK_ISSUE), str(report(tmp_path, [WORKING, BROKEN]))], env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[-1].startswith("issue create --title Broken outside links --body-file ")
    body = (tmp_path / "body.md").read_text()
    assert "`docs/references.md:12`: <https://doi.org/10.1000/gone> (broken: 404 Client Error: Not Found)" in body
    assert "who.int" not in body
    assert "https://run" in body


@fast
def test_the_open_issue_is_updated_not_duplicated(tmp_path):
    env, log = fake_gh(tmp_path, [{"number": 7, "title": "Broken outside links"}])
    result = run([sys.executable, str(LINKCHECK_ISSUE), str(report(tmp_path, [BROKEN]))], env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert not any(call.startswith("issue create") for call in calls)
    assert calls[-1].startswith("issue edit 7 --body-file ")


@fast
def test_when_every_link_works_the_issue_is_closed(tmp_path):
    env, log = fake_gh(tmp_path, [{"number": 7, "title": "Broken outside links"}])
    result = run([sys.executable, str(LINKCHECK_ISSUE), str(report(tmp_path, [WORKING]))], env)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines()[-1].startswith("issue close 7 --comment ")


@fast
def test_without_a_report_the_step_fails(tmp_path):
    env, log = fake_gh(tmp_path, [])
    result = run([sys.executable, str(LINKCHECK_ISSUE), str(tmp_path / "missing.json")], env)
    assert result.returncode == 1
    assert "did not run" in result.stderr
    assert not log.exists()


def test_the_link_check_sees_every_doi_and_url_of_the_bibliography(tmp_path):
    """Sphinx's linkcheck, run on the built handbook with every link ignored (so nothing is fetched, and
    a proxy on a closed local port catches any request), lists each DOI and URL of references.bib."""
    doctrees = BUILD / "doctrees"
    if not (doctrees / "environment.pickle").exists():
        pytest.fail(f"{doctrees} is missing: run `make` first (make test does)")
    shutil.copytree(doctrees, tmp_path / "doctrees")
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "http_proxy": closed,
           "https_proxy": closed, "NO_PROXY": ""}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "sphinx-build"), "-b", "linkcheck", "-q", "-d",
         str(tmp_path / "doctrees"), "-c", str(ROOT), "-D", "linkcheck_ignore=.*", str(ROOT / "docs"),
         str(tmp_path / "linkcheck")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert (tmp_path / "linkcheck" / "output.json").exists(), result.stderr
    rows = [json.loads(line) for line in (tmp_path / "linkcheck" / "output.json").read_text().splitlines()]
    assert {row["status"] for row in rows} == {"ignored"}
    uris = {row["uri"].lower() for row in rows}
    bib = (ROOT / "docs" / "references.bib").read_text(encoding="utf-8")
    dois = re.findall(r"^\s*doi\s*=\s*[{\"]([^}\"]+)", bib, re.MULTILINE | re.IGNORECASE)
    urls = re.findall(r"^\s*url\s*=\s*[{\"]([^}\"]+)", bib, re.MULTILINE | re.IGNORECASE)
    assert dois and urls
    for doi in dois:
        assert f"https://doi.org/{doi.lower()}" in uris, doi
    for url in urls:
        assert url.lower() in uris, url
