"""EPUB accessibility: Ace by DAISY, the EPUB accessibility checker, finds no violation in the built EPUB.

Ace runs the axe rules on every document in headless Chromium and checks the EPUB Accessibility 1.1
metadata. It is installed by `make` into tools/node_modules (tools/package.json) and takes about 25 s,
so its report is kept in BUILDDIR/ace/ with the checksum of the EPUB it read, and reused while the EPUB
is unchanged.
"""

import hashlib
import json
import os
import shutil
import subprocess

import pytest
from conftest import BUILD, EPUB, ROOT

ACE = ROOT / "tools" / "node_modules" / ".bin" / "ace-cli"
REPORTS = BUILD / "ace"


def ace_report(epub):
    """Ace's report.json on EPUB, from the cache when it was made for these very bytes."""
    checksum = hashlib.sha256(epub.read_bytes()).hexdigest()
    report, stamp = REPORTS / "report.json", REPORTS / "epub.sha256"
    if report.exists() and stamp.exists() and stamp.read_text() == checksum:
        return json.loads(report.read_text(encoding="utf-8"))
    if not ACE.exists():
        pytest.fail(f"{ACE} is missing: run `make` (its setup installs tools/package.json with npm)")
    shutil.rmtree(REPORTS, ignore_errors=True)
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": shutil.which("chromium") or "/usr/bin/chromium"}
    result = subprocess.run([str(ACE), "--silent", "--force", "--outdir", str(REPORTS), str(epub)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0 and report.exists(), result.stdout + result.stderr
    stamp.write_text(checksum)
    return json.loads(report.read_text(encoding="utf-8"))


def violations(report):
    for document in report["assertions"]:
        for check in document["assertions"]:
            if check["earl:result"]["earl:outcome"] == "fail":
                yield (f"{document['earl:testSubject']['url']}: {check['earl:test']['dct:title']} "
                       f"({check['earl:test']['earl:impact']}) {check['earl:result'].get('dct:description', '')}")


def test_ace_by_daisy_finds_no_violation(built):
    report = ace_report(EPUB)
    found = list(violations(report))
    assert not found, f"{len(found)} violations (report: {REPORTS / 'report.html'}):\n" + "\n".join(found)
    assert report["earl:result"]["earl:outcome"] == "pass"


def test_epub_declares_its_accessibility(built):
    """The EPUB Accessibility 1.1 metadata a reading system shows before a reader opens the book."""
    metadata = ace_report(EPUB)["a11y-metadata"]
    required = {"schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo"}
    assert required <= set(metadata["present"]), metadata
    assert not metadata["empty"], metadata
