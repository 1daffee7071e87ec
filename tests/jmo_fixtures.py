"""JMo results folders made by the scanner's own writers (DESIGN.md, "The scanner contract").

`make_results(dir, findings)` runs tests/stub_scanner/jmo `report`, which writes
summaries/findings.json and findings.sarif with jmo-security's `write_json` / `write_sarif`
from a list of CommonFinding dicts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STUB = ROOT / "tests" / "stub_scanner" / "jmo"


def finding(tool: str, rule_id: str, severity: str, path: str, line: int, message: str) -> dict[str, Any]:
    """A CommonFinding dict as the scanner's adapters build it (the fields the writers read)."""
    return {
        "schemaVersion": "1.1.0",
        "id": f"{tool}-{rule_id}-{path}-{line}",
        "ruleId": rule_id,
        "title": rule_id,
        "message": message,
        "description": message,
        "severity": severity,
        "tool": {"name": tool, "version": "test"},
        "location": {"path": path, "startLine": line},
        "remediation": "See rule documentation",
        "tags": [],
    }


MIXED = [
    finding("trivy", "CVE-2023-37920", "CRITICAL", "requirements.txt", 1, "certifi: removal of e-Tugra root"),
    finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 12, "Generic API key detected"),
    finding("gitleaks", "generic-api-key", "HIGH", "deploy/env.sh", 2, "Generic API key detected"),
    finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 40, "subprocess call with shell=True"),
    finding("checkov", "CKV_DOCKER_2", "LOW", "Dockerfile", 0, "Ensure that HEALTHCHECK instructions have been added"),
    finding("trufflehog", "note-only", "INFO", "README.md", 3, "informational"),
]


def make_results(results_dir: Path, findings: list[dict[str, Any]], fail_on: str | None = None) -> int:
    """Write `results_dir/summaries/findings.{json,sarif}` with the scanner's writers; the
    stub's exit code (1 when fail_on is crossed, as `jmo report`)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    spec = results_dir.parent / f"{results_dir.name}-findings.json"
    spec.write_text(json.dumps(findings), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["JMO_STUB_FINDINGS"] = str(spec)
    argv = [sys.executable, str(STUB), "report", str(results_dir)]
    if fail_on:
        argv += ["--fail-on", fail_on]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"stub scanner failed ({proc.returncode}): {proc.stderr}")
    return proc.returncode
