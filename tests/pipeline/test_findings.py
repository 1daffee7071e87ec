"""findings.py: SARIF from several real scanners' shapes, and JMo results written by the
scanner's own writers (tests/jmo_fixtures.py)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from jmo_fixtures import MIXED, finding, make_results
from jmo_schedule.pipeline import findings as fx
from jmo_schedule.errors import JmoError
from jmo_schedule.pipeline.findings import Finding, FindingsError, FindingsSummary

SARIF = ROOT / "tests" / "fixtures" / "sarif"


def counts(summary: FindingsSummary) -> dict[str, int]:
    return dict(summary.counts)


def test_semgrep_levels_from_rule_default_configuration():
    fs = fx.load_findings_file(SARIF / "semgrep.sarif")
    assert [(f.rule_id.split(".")[-1], f.severity) for f in fs] == [
        ("subprocess-shell-true", "HIGH"), ("debug-enabled", "MEDIUM"), ("use-assert", "LOW"),
    ]
    first = fs[0]
    assert (first.path, first.start_line, first.end_line, first.tool) == ("app/run.py", 40, 40, "Semgrep OSS")
    assert first.fingerprint == "7c1e5c0b9f0e4d0a"


def test_trivy_security_severity_wins_over_level():
    fs = fx.load_findings_file(SARIF / "trivy.sarif")
    assert [(f.rule_id, f.severity) for f in fs] == [
        ("CVE-2023-37920", "CRITICAL"), ("CVE-2024-35195", "MEDIUM"), ("CVE-2024-3651", "HIGH"),
    ]
    assert fs[0].message.startswith("Package: certifi") and fs[0].path == "requirements.txt"


def test_gitleaks_without_any_level_is_medium_and_empty_fingerprints_are_none():
    fs = fx.load_findings_file(SARIF / "gitleaks.sarif")
    assert [(f.rule_id, f.severity, f.fingerprint) for f in fs] == [
        ("aws-access-token", "MEDIUM", None), ("generic-api-key", "MEDIUM", None),
    ]


def test_codeql_rules_in_tool_extensions_by_index_suppressed_and_pass_skipped():
    fs = fx.load_findings_file(SARIF / "codeql.sarif")
    assert [(f.rule_id, f.severity, f.path, f.start_line) for f in fs] == [
        ("py/sql-injection", "HIGH", "app/db.py", 10),
        # no ruleId: resolved through rule.index in extensions[0]; path through artifacts[1]
        ("py/weak-sensitive-data-hashing", "CRITICAL", "app/auth.py", 22),
        ("py/unused-import", "LOW", "app/db.py", 1),
    ]
    assert {f.tool for f in fs} == {"CodeQL"}


def test_several_runs_in_one_log(tmp_path):
    runs = []
    for name in ("trivy", "gitleaks", "semgrep", "codeql"):
        runs.extend(json.loads((SARIF / f"{name}.sarif").read_text())["runs"])
    (tmp_path / "summaries").mkdir()
    (tmp_path / "summaries" / "findings.sarif").write_text(json.dumps({"version": "2.1.0", "runs": runs}))
    summary = fx.load_summary(tmp_path)
    assert counts(summary) == {"CRITICAL": 2, "HIGH": 3, "MEDIUM": 4, "LOW": 2, "INFO": 0}
    assert summary.total == 11
    assert summary.tools == ("CodeQL", "Semgrep OSS", "Trivy", "gitleaks")
    assert summary.source == str(tmp_path / "summaries" / "findings.sarif")
    assert summary.threshold_crossed("CRITICAL") and summary.at_or_above("HIGH") == 5


@pytest.fixture(scope="module")
def jmo_results(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("jmo") / "results"
    assert make_results(results, MIXED, fail_on="HIGH") == 1  # the scanner's own verdict
    return results


def test_jmo_findings_json_from_the_scanners_writer(jmo_results):
    summary = fx.load_summary(jmo_results)
    assert summary.source == str(jmo_results / "summaries" / "findings.json")
    assert counts(summary) == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 1, "INFO": 1}
    assert [(r.rule_id, r.count, r.severity) for r in summary.top_rules][:2] == [
        ("generic-api-key", 2, "HIGH"), ("CVE-2023-37920", 1, "CRITICAL"),
    ]
    assert summary.tools == ("checkov", "gitleaks", "semgrep", "trivy", "trufflehog")
    assert summary.threshold_crossed("HIGH") and not summary.threshold_crossed(None)
    low = [f for f in fx.load_findings(jmo_results) if f.severity == "LOW"][0]
    assert low.start_line is None  # JMo writes 0 for "no line"


def test_jmo_sarif_folds_critical_into_high_so_json_is_preferred(jmo_results, tmp_path):
    only_sarif = tmp_path / "r"
    (only_sarif / "summaries").mkdir(parents=True)
    shutil.copy(jmo_results / "summaries" / "findings.sarif", only_sarif / "summaries")
    summary = fx.load_summary(only_sarif)
    # The scanner's SARIF writer: CRITICAL/HIGH -> error, MEDIUM -> warning, LOW/INFO -> note.
    assert counts(summary) == {"CRITICAL": 0, "HIGH": 3, "MEDIUM": 1, "LOW": 2, "INFO": 0}
    assert summary.tools == ("jmo-security",)


def test_jmo_threshold_agrees_with_the_scanner(tmp_path):
    results = tmp_path / "results"
    only_medium = [finding("semgrep", "r1", "MEDIUM", "a.py", 1, "m")]
    scanner_exit = make_results(results, only_medium, fail_on="HIGH")
    summary = fx.load_summary(results)
    assert scanner_exit == 0 and not summary.threshold_crossed("HIGH")
    assert summary.threshold_crossed("medium")


def test_find_results_file_accepts_folder_summaries_or_file(jmo_results):
    summaries = jmo_results / "summaries"
    assert fx.find_results_file(jmo_results) == summaries / "findings.json"
    assert fx.find_results_file(summaries) == summaries / "findings.json"
    assert fx.find_results_file(summaries / "findings.sarif") == summaries / "findings.sarif"


def test_jmo_wrapped_findings_object():
    fs = fx.parse_jmo_json({"findings": [{"ruleId": "r", "severity": "crit", "tool": {"name": "t"}}]})
    assert fs == [Finding("r", "CRITICAL", "", None, None, "t")]


@pytest.mark.parametrize(
    ("value", "severity"),
    [("HIGH", "HIGH"), (" medium ", "MEDIUM"), ("ERROR", "HIGH"), ("warn", "MEDIUM"), ("bogus", "INFO"), (None, "INFO")],
)
def test_normalize_severity(value, severity):
    assert fx.normalize_severity(value) == severity


@pytest.mark.parametrize(
    ("score", "severity"),
    [(9.0, "CRITICAL"), ("9.8", "CRITICAL"), (8.9, "HIGH"), (7, "HIGH"), (4.0, "MEDIUM"), (0.1, "LOW"),
     (0, "INFO"), ("n/a", None), (True, None), (-1, None), (float("nan"), None)],
)
def test_severity_from_score(score, severity):
    assert fx.severity_from_score(score) == severity


def test_result_level_overrides_rule_default_and_non_fail_kinds_are_info():
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "rules": [
        {"id": "r", "defaultConfiguration": {"level": "note"}}]}}, "results": [
        {"ruleId": "r", "level": "error", "message": {"text": "m"}},
        {"ruleId": "r", "kind": "review", "message": {"text": "m"}},
        {"ruleId": "r", "message": {"text": "m"}, "baselineState": "absent"},
        {"ruleId": "r", "message": {"text": "m"}, "suppressions": [{"kind": "inSource", "status": "rejected"}]},
    ]}]}
    assert [f.severity for f in fx.parse_sarif(doc)] == ["HIGH", "INFO", "LOW"]


def test_message_from_rule_message_strings():
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "rules": [
        {"id": "r", "messageStrings": {"default": {"text": "Bad {0} in {1}"}}}]}},
        "results": [{"ruleId": "r", "message": {"id": "default", "arguments": ["x", "y"]}}]}]}
    assert fx.parse_sarif(doc)[0].message == "Bad x in y"


def test_file_uri_is_decoded():
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [
        {"ruleId": "r", "message": {"text": "m"}, "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "file:///src/a%20b.py"}, "region": {"startLine": 2}}}]}]}]}
    assert fx.parse_sarif(doc)[0].path == "/src/a b.py"


def test_run_without_results_counts_nothing():
    assert fx.parse_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}}]}) == []


# --- bad input: one exact line each ---------------------------------------------------


def write(tmp_path: Path, text: str | bytes, name: str = "findings.sarif") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "{p}: empty file"),
        ("{", "{p}:1:2: invalid JSON: Expecting property name enclosed in double quotes"),
        (b"\xff\xfe", "{p}: not UTF-8 text (byte 0)"),
        ('{"version": "2.0.0", "runs": []}', "{p}: version: SARIF '2.0.0' is not supported, expected \"2.1.0\""),
        ('{"version": "2.1.0", "runs": {}}', "{p}: runs: expected a list of runs, got an object"),
        ('{"runs": [1]}', "{p}: runs[0]: expected a run object, got a number"),
        ('{"runs": [{"results": "x"}]}', "{p}: runs[0].results: expected a list, got a string"),
        ('{"runs": [{"results": [null]}]}', "{p}: runs[0].results[0]: expected a result object, got null"),
        ('"text"', "{p}: not a JMo findings file: expected a list of findings (or {{\"findings\": [...]}})"),
        ("[1]", "{p}: [0]: expected a finding object, got a number"),
    ],
)
def test_bad_files(tmp_path, content, message):
    p = write(tmp_path, content)
    with pytest.raises(FindingsError) as exc:
        fx.load_findings_file(p)
    assert str(exc.value) == message.format(p=p)


def test_too_large_file(tmp_path):
    p = write(tmp_path, "[" + " " * 2000 + "]")
    with pytest.raises(FindingsError) as exc:
        fx.load_findings_file(p, max_bytes=1024)
    assert str(exc.value) == f"{p}: 2002 bytes is over the 1024 bytes limit for a findings file"
    big = write(tmp_path, "[" + " " * (3 * 1048576) + "]", "big.json")
    with pytest.raises(FindingsError) as exc:
        fx.load_findings_file(big, max_bytes=2 * 1048576)
    assert str(exc.value) == f"{big}: 3.0 MiB is over the 2.0 MiB limit for a findings file"


def test_deeply_nested_json(tmp_path):
    p = write(tmp_path, "[" * 100000 + "]" * 100000)
    with pytest.raises(FindingsError) as exc:
        fx.load_findings_file(p)
    assert str(exc.value) == f"{p}: invalid JSON: nested too deeply"


def test_no_findings_file(tmp_path):
    with pytest.raises(FindingsError) as exc:
        fx.load_findings(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path}: no findings: expected summaries/findings.json or summaries/findings.sarif (written by `jmo report`)"
    )


def test_unknown_threshold():
    with pytest.raises(JmoError, match=r"^unknown severity 'SEVERE': expected one of CRITICAL, HIGH, MEDIUM, LOW, INFO$"):
        FindingsSummary.from_findings([]).threshold_crossed("SEVERE")


def test_top_rules_order_is_stable():
    fs = [Finding(r, s, "", None, None, "t") for r, s in [("b", "LOW"), ("a", "LOW"), ("c", "HIGH"), ("b", "LOW")]]
    top = FindingsSummary.from_findings(fs, top=3).top_rules
    assert [(r.rule_id, r.count) for r in top] == [("b", 2), ("c", 1), ("a", 1)]
    assert FindingsSummary.from_findings(fs, top=0).top_rules == ()


def test_severities_match_the_model():
    from jmo_schedule.core.model import SEVERITIES

    assert fx.SEVERITIES == SEVERITIES
