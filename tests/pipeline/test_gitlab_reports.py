from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT
from jmo_fixtures import MIXED, make_results
from jmo_schedule.pipeline.findings import Finding, load_findings, load_findings_file
from jmo_schedule.pipeline.gitlab_reports import SAST_SCHEMA_URL, SAST_SCHEMA_VERSION, identifier, to_codequality, to_sast

SCHEMA = json.loads((ROOT / "tests" / "data" / "gitlab-sast-report-format-15.2.1.json").read_text())
SARIF_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "sarif").glob("*.sarif"))
START = datetime(2026, 11, 25, 11, 58, 30, tzinfo=timezone.utc)
END = START + timedelta(seconds=90)
CQ_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _f(rule: str = "R1", severity: str = "HIGH", path: str | None = "a.py", line: int | None = 3, **kw: object) -> Finding:
    return Finding(rule_id=rule, severity=severity, message=kw.pop("message", "msg"), path=path, start_line=line,  # type: ignore[arg-type]
                   tool=kw.pop("tool", "semgrep"), **kw)  # type: ignore[arg-type]


def test_vendored_schema_is_gitlabs_15_2_1() -> None:
    assert SCHEMA["self"]["version"] == SAST_SCHEMA_VERSION == "15.2.1"
    assert SCHEMA["title"] == "Report format for GitLab SAST"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_sast_from_scanner_results_validates(tmp_path: Path) -> None:
    make_results(tmp_path / "results", MIXED)
    report = to_sast(load_findings(tmp_path / "results"), start_time=START, end_time=END)
    jsonschema.validate(report, SCHEMA)
    assert report["version"] == "15.2.1" and report["schema"] == SAST_SCHEMA_URL
    assert report["scan"]["start_time"] == "2026-11-25T11:58:30"
    assert report["scan"]["end_time"] == "2026-11-25T12:00:00"
    assert report["scan"]["type"] == "sast" and report["scan"]["status"] == "success"
    by_name = {v["name"]: v for v in report["vulnerabilities"]}
    cve = by_name["CVE-2023-37920"]
    assert cve["severity"] == "Critical"
    assert cve["identifiers"] == [{
        "type": "cve", "name": "CVE-2023-37920", "value": "CVE-2023-37920",
        "url": "https://nvd.nist.gov/vuln/detail/CVE-2023-37920",
    }]
    assert cve["location"] == {"file": "requirements.txt", "start_line": 1, "end_line": 1}
    assert by_name["subprocess-shell-true"]["identifiers"][0]["type"] == "semgrep_rule_id"
    assert sorted(v["severity"] for v in report["vulnerabilities"]) == sorted(
        ["Critical", "High", "High", "Medium", "Low", "Info"])


@pytest.mark.parametrize("sarif", SARIF_FIXTURES, ids=lambda p: p.stem)
def test_sast_from_other_scanners_sarif_validates(sarif: Path) -> None:
    findings = load_findings_file(sarif)
    report = to_sast(findings, start_time=START, end_time=END)
    jsonschema.validate(report, SCHEMA)
    assert len(report["vulnerabilities"]) == len(findings)
    cq = to_codequality(findings)
    assert len({e["fingerprint"] for e in cq}) == len(cq)


def test_schema_rejects_what_gitlab_would_reject() -> None:
    """The schema check is not vacuous: a report with a SARIF-like shape fails it."""
    report = to_sast([_f()], start_time=START, end_time=END)
    report["vulnerabilities"][0]["severity"] = "error"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, SCHEMA)


def test_ids_are_stable_and_unique_even_for_duplicates() -> None:
    findings = [_f(), _f(), _f(rule="R2")]
    first = to_sast(findings, start_time=START, end_time=END)
    second = to_sast(findings, start_time=START, end_time=END)
    assert first == second
    ids = [v["id"] for v in first["vulnerabilities"]]
    assert len(set(ids)) == 3


def test_long_names_and_missing_locations() -> None:
    report = to_sast([_f(rule="x" * 400, path=None, line=None, message="")], start_time=START, end_time=END)
    jsonschema.validate(report, SCHEMA)
    (v,) = report["vulnerabilities"]
    assert len(v["name"]) == 255 and v["location"] == {} and v["description"] == "x" * 400


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("CWE-79", {"type": "cwe", "name": "CWE-79", "value": "79", "url": "https://cwe.mitre.org/data/definitions/79.html"}),
        ("GHSA-xxxx-yyyy-zzzz", {"type": "semgrep_rule_id", "name": "GHSA-xxxx-yyyy-zzzz", "value": "GHSA-xxxx-yyyy-zzzz"}),
        ("GHSA-2222-3333-4444", {"type": "ghsa", "name": "GHSA-2222-3333-4444", "value": "GHSA-2222-3333-4444",
                                 "url": "https://github.com/advisories/GHSA-2222-3333-4444"}),
        ("CVE-24-1", {"type": "semgrep_rule_id", "name": "CVE-24-1", "value": "CVE-24-1"}),
    ],
)
def test_identifier_types(rule: str, expected: dict[str, str]) -> None:
    assert identifier(_f(rule=rule)) == expected


def test_codequality_shape(tmp_path: Path) -> None:
    make_results(tmp_path / "results", MIXED)
    entries = to_codequality(load_findings(tmp_path / "results"))
    assert len(entries) == len(MIXED)
    for e in entries:
        assert set(e) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert e["severity"] in CQ_SEVERITIES
        assert isinstance(e["location"]["path"], str) and e["location"]["lines"]["begin"] >= 1
        assert len(e["fingerprint"]) == 64
    assert len({e["fingerprint"] for e in entries}) == len(entries)
    (cve,) = [e for e in entries if e["check_name"] == "CVE-2023-37920"]
    assert cve == {
        "description": "CRITICAL: certifi: removal of e-Tugra root",
        "check_name": "CVE-2023-37920",
        "fingerprint": cve["fingerprint"],
        "severity": "blocker",
        "location": {"path": "requirements.txt", "lines": {"begin": 1}},
    }


def test_codequality_one_line_description_and_no_path() -> None:
    (e,) = to_codequality([_f(path=None, line=None, severity="LOW", message="first\nsecond")])
    assert e["description"] == "LOW: first"
    assert e["location"] == {"path": ".", "lines": {"begin": 1}}
    assert e["severity"] == "minor"
