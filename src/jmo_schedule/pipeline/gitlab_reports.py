"""Scan findings in GitLab's own report formats.

GitLab reads `artifacts: reports: sast:` only in its security-report schema (not SARIF),
and `reports: codequality:` as a JSON array in the Code Climate subset GitLab documents.
Both are built here from `findings.load_findings` (JMo's findings.json or any SARIF), as
pure functions: the caller passes the scan times, so the same findings give the same bytes.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from .._version import __version__
from ..core.timefmt import naive_utc
from .findings import Finding

SAST_SCHEMA_VERSION = "15.2.1"
SAST_SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SAST_SCHEMA_VERSION}/dist/sast-report-format.json"
)
# uuid5 namespace for vulnerability ids: stable across runs for the same finding.
_ID_NAMESPACE = uuid.UUID("6f1c1a3e-5d0b-4d43-9c57-0a8e2f1b7c21")

_SAST_SEVERITY = {"CRITICAL": "Critical", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low", "INFO": "Info"}
# Code Quality has five levels as well; keep the order one to one.
_CQ_SEVERITY = {"CRITICAL": "blocker", "HIGH": "critical", "MEDIUM": "major", "LOW": "minor", "INFO": "info"}
_CVE_RE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CWE_RE = re.compile(r"^CWE-(\d+)$")
_GHSA_RE = re.compile(r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$")
_NAME_MAX = 255
_DESCRIPTION_MAX = 1_048_576


def _key(f: Finding) -> str:
    return "\x1f".join([f.tool, f.rule_id, f.path or "", str(f.start_line or ""), f.message])


def _unique(keys: Iterable[str]) -> list[str]:
    """Each key, made unique by an occurrence suffix (exact duplicates stay distinct)."""
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(key if n == 0 else f"{key}\x1f#{n}")
    return out


def identifier(f: Finding) -> dict[str, str]:
    """The primary identifier GitLab groups and deduplicates vulnerabilities by."""
    rule = f.rule_id or "unknown"
    if _CVE_RE.match(rule):
        return {"type": "cve", "name": rule, "value": rule, "url": f"https://nvd.nist.gov/vuln/detail/{rule}"}
    m = _CWE_RE.match(rule)
    if m:
        return {"type": "cwe", "name": rule, "value": m.group(1), "url": f"https://cwe.mitre.org/data/definitions/{m.group(1)}.html"}
    if _GHSA_RE.match(rule):
        return {"type": "ghsa", "name": rule, "value": rule, "url": f"https://github.com/advisories/{rule}"}
    tool = re.sub(r"[^a-z0-9_]+", "_", (f.tool or "jmo").lower()).strip("_") or "jmo"
    return {"type": f"{tool}_rule_id", "name": rule, "value": rule}


def to_sast(
    findings: Iterable[Finding],
    *,
    start_time: datetime,
    end_time: datetime,
    scanner_version: str = "unknown",
) -> dict[str, Any]:
    """A GitLab SAST report (security-report schema 15.2.1) for `findings`."""
    findings = list(findings)
    vulns = []
    for f, key in zip(findings, _unique(_key(f) for f in findings)):
        location: dict[str, Any] = {}
        if f.path:
            location["file"] = f.path
            if f.start_line:
                location["start_line"] = f.start_line
                location["end_line"] = f.end_line if f.end_line and f.end_line >= f.start_line else f.start_line
        name = f.rule_id or "unknown"
        vulns.append({
            "id": str(uuid.uuid5(_ID_NAMESPACE, f.fingerprint + "\x1f" + key if f.fingerprint else key)),
            "name": name[:_NAME_MAX],
            "description": (f.message or name)[:_DESCRIPTION_MAX],
            "severity": _SAST_SEVERITY.get(f.severity, "Unknown"),
            "identifiers": [identifier(f)],
            "location": location,
        })
    component = {"vendor": {"name": "JMo Security"}}
    return {
        "version": SAST_SCHEMA_VERSION,
        "schema": SAST_SCHEMA_URL,
        "scan": {
            "analyzer": {"id": "jmo-schedule", "name": "jmo-schedule", "version": __version__, **component},
            "scanner": {"id": "jmo-security", "name": "JMo Security", "version": scanner_version or "unknown", **component},
            "type": "sast",
            "start_time": naive_utc(start_time),
            "end_time": naive_utc(end_time),
            "status": "success",
        },
        "vulnerabilities": vulns,
    }


def to_codequality(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """A GitLab Code Quality report: one entry per finding, with a stable unique fingerprint."""
    findings = list(findings)
    out = []
    for f, key in zip(findings, _unique(_key(f) for f in findings)):
        rule = f.rule_id or "unknown"
        # The widget shows one line per entry.
        first_line = (f.message or rule).strip().splitlines()[0] if (f.message or rule).strip() else rule
        out.append({
            "description": f"{f.severity}: {first_line}"[:_DESCRIPTION_MAX],
            "check_name": rule,
            "fingerprint": hashlib.sha256(((f.fingerprint or "") + "\x1f" + key).encode("utf-8")).hexdigest(),
            "severity": _CQ_SEVERITY.get(f.severity, "info"),
            "location": {"path": f.path or ".", "lines": {"begin": f.start_line if f.start_line and f.start_line > 0 else 1}},
        })
    return out
