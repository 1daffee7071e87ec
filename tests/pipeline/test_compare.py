"""pipeline/compare.py: new, fixed and open findings between two runs, in real tools' SARIF
shapes (tests/fixtures/sarif/pairs) and JMo's own findings.json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jmo_fixtures import finding, make_results
from jmo_schedule.pipeline.compare import compare
from jmo_schedule.pipeline.findings import load_findings, load_findings_file, parse_sarif

PAIRS = Path(__file__).parents[1] / "fixtures" / "sarif" / "pairs"


def pair(tool: str):
    return load_findings_file(PAIRS / f"{tool}-after.sarif"), load_findings_file(PAIRS / f"{tool}-before.sarif")


def where(findings) -> list[tuple[str, str, int, str]]:
    return [(f.rule_id, f.path, f.start_line, f.severity) for f in findings]


def test_semgrep_match_based_ids_a_moved_finding_is_open_a_second_occurrence_is_new():
    comparison = compare(*pair("semgrep"))
    assert where(comparison.new) == [
        ("python.lang.security.audit.subprocess-shell-true.subprocess-shell-true", "app/jobs.py", 7, "HIGH"),
        ("python.lang.security.audit.formatted-sql-query.formatted-sql-query", "app/db.py", 31, "MEDIUM"),
    ]
    assert where(comparison.fixed) == [
        ("python.flask.security.audit.debug-enabled.debug-enabled", "app/views.py", 12, "MEDIUM"),
    ]
    assert where(comparison.open) == [
        ("python.lang.security.audit.subprocess-shell-true.subprocess-shell-true", "app/run.py", 52, "HIGH"),
        ("python.lang.security.audit.formatted-sql-query.formatted-sql-query", "app/db.py", 20, "MEDIUM"),
    ]
    assert comparison.changed == ()


def test_trivy_without_fingerprints_moved_lines_and_a_rescored_advisory_stay_open():
    comparison = compare(*pair("trivy"))
    assert where(comparison.new) == [("CVE-2024-3651", "requirements.txt", 8, "HIGH")]
    assert where(comparison.fixed) == [("CVE-2023-32681", "requirements.txt", 5, "MEDIUM")]
    assert where(comparison.open) == [
        ("CVE-2023-37920", "requirements.txt", 4, "CRITICAL"),
        ("CVE-2024-35195", "requirements.txt", 6, "HIGH"),
    ]
    assert [(a.rule_id, a.severity, b.severity) for a, b in comparison.changed] == [("CVE-2024-35195", "MEDIUM", "HIGH")]
    assert comparison.new_at_or_above("HIGH") == 1
    assert comparison.new_at_or_above("CRITICAL") == 0


def test_bandit_primary_location_line_hash():
    comparison = compare(*pair("bandit"))
    assert where(comparison.new) == [("B608", "app/db.py", 15, "MEDIUM")]
    assert where(comparison.fixed) == [("B105", "app/settings.py", 3, "LOW")]
    assert where(comparison.open) == [("B602", "app/run.py", 44, "HIGH"), ("B311", "app/token.py", 9, "LOW")]


def test_bandit_before_1_8_without_fingerprints_matches_on_the_flagged_code():
    def stripped(name: str):
        doc = json.loads((PAIRS / name).read_text())
        for result in doc["runs"][0]["results"]:
            del result["partialFingerprints"]
        return parse_sarif(doc)

    comparison = compare(stripped("bandit-after.sarif"), stripped("bandit-before.sarif"))
    assert (len(comparison.new), len(comparison.fixed), len(comparison.open)) == (1, 1, 2)
    assert where(comparison.open) == [("B602", "app/run.py", 44, "HIGH"), ("B311", "app/token.py", 9, "LOW")]


def test_gitleaks_without_git_history_has_empty_partial_fingerprints_and_counts_duplicates():
    comparison = compare(*pair("gitleaks-nogit"))
    assert where(comparison.new) == [("generic-api-key", "scripts/ci.sh", 4, "MEDIUM")]
    # Two keys of one rule in one file, one removed: one fixed, not both, not none.
    assert where(comparison.fixed) == [("generic-api-key", "deploy/env.sh", 9, "MEDIUM")]
    assert where(comparison.open) == [
        ("aws-access-token", "config/settings.py", 15, "MEDIUM"),
        ("generic-api-key", "deploy/env.sh", 2, "MEDIUM"),
    ]


def test_gitleaks_over_git_history_a_secret_added_by_another_commit_is_new():
    comparison = compare(*pair("gitleaks-git"))
    assert where(comparison.new) == [("aws-access-token", "config/settings.py", 15, "MEDIUM")]
    assert comparison.fixed == ()
    assert len(comparison.open) == 2


def sarif(*results: dict) -> dict:
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Semgrep OSS"}}, "results": list(results)}]}


def result(line: int, fingerprint: str | None = None, text: str = "shell=True") -> dict:
    out = {"ruleId": "r", "message": {"text": text}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": line}}}]}
    if fingerprint:
        out["fingerprints"] = {"matchBasedId/v1": fingerprint}
    return out


def test_fingerprints_of_one_kind_that_differ_are_different_findings_even_with_the_same_content():
    comparison = compare(parse_sarif(sarif(result(3, "b"))), parse_sarif(sarif(result(3, "a"))))
    assert (len(comparison.new), len(comparison.fixed), len(comparison.open)) == (1, 1, 0)


def test_a_baseline_without_fingerprints_still_matches_a_run_with_them():
    comparison = compare(parse_sarif(sarif(result(9, "a"))), parse_sarif(sarif(result(3))))
    assert (len(comparison.new), len(comparison.fixed), len(comparison.open)) == (0, 0, 1)


def test_guid_names_one_result_of_one_run_and_is_no_identity():
    before, after = result(3), result(5)
    before["guid"], after["guid"] = "6f1c3c52-0000-4000-8000-000000000001", "6f1c3c52-0000-4000-8000-000000000002"
    comparison = compare(parse_sarif(sarif(after)), parse_sarif(sarif(before)))
    assert (len(comparison.new), len(comparison.fixed), len(comparison.open)) == (0, 0, 1)


def test_a_changed_message_without_snippet_is_a_new_finding():
    comparison = compare(parse_sarif(sarif(result(3, text="shell=False"))), parse_sarif(sarif(result(3))))
    assert (len(comparison.new), len(comparison.fixed), len(comparison.open)) == (1, 1, 0)


@pytest.fixture(scope="module")
def jmo_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("jmo-pair")
    before = [
        finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 40, "subprocess call with shell=True"),
        finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 12, "Generic API key detected"),
        finding("trivy", "CVE-2023-37920", "HIGH", "requirements.txt", 1, "certifi: removal of e-Tugra root"),
    ]
    after = [
        # moved: JMo's id hashes the line, so only the content pass can pair it
        finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 47, "subprocess call with shell=True"),
        finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 12, "Generic API key detected"),
        # re-scored from HIGH to CRITICAL
        finding("trivy", "CVE-2023-37920", "CRITICAL", "requirements.txt", 1, "certifi: removal of e-Tugra root"),
        finding("checkov", "CKV_DOCKER_2", "LOW", "Dockerfile", 1, "Ensure that HEALTHCHECK instructions have been added"),
    ]
    make_results(root / "before", before)
    make_results(root / "after", after)
    return root


def test_jmo_findings_json_ids_pair_unmoved_findings_and_content_pairs_the_moved_one(jmo_pair):
    now, before = load_findings(jmo_pair / "after"), load_findings(jmo_pair / "before")
    assert before[0].identity[0] == "jmo" and now[0].identity != before[0].identity  # the id moved with the line
    comparison = compare(now, before)
    assert where(comparison.new) == [("CKV_DOCKER_2", "Dockerfile", 1, "LOW")]
    assert comparison.fixed == ()
    assert [(f.rule_id, f.start_line) for f in comparison.open] == [
        ("subprocess-shell-true", 47), ("generic-api-key", 12), ("CVE-2023-37920", 1)]
    assert [(a.severity, b.severity) for a, b in comparison.changed] == [("HIGH", "CRITICAL")]


def test_jmo_sarif_baseline_against_findings_json_run(jmo_pair):
    """A baseline that kept only findings.sarif still pairs with a run read from findings.json."""
    now = load_findings(jmo_pair / "after")
    before = load_findings_file(jmo_pair / "before" / "summaries" / "findings.sarif")
    comparison = compare(now, before)
    assert [f.rule_id for f in comparison.new] == ["CKV_DOCKER_2"]
    assert comparison.fixed == ()
