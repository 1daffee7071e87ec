"""Read a scan's results folder into one normalized finding list and a severity summary.

Sources, in order of preference, inside `<results>/summaries/` (JMo's `jmo report` layout):
- `findings.json`: JMo's CommonFinding list. Its `severity` is authoritative (JMo's SARIF
  writer folds CRITICAL and HIGH into the one SARIF level `error`, so SARIF alone cannot
  tell them apart) and it keeps the real tool name of every finding.
- `findings.sarif`: SARIF 2.1.0 from JMo or any scanner, any number of runs. Severity comes
  from `properties.security-severity` (result, then rule) when present, else from the
  SARIF `level` (result, then the rule's `defaultConfiguration`, then `warning`).

Nothing here talks to Slack or the terminal: the GitLab report converters build on
`load_findings` too.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard
from urllib.parse import unquote, urlsplit

from ..errors import FindingsError, JmoError

# The same five names as model.SEVERITIES (a test holds them equal); not imported from
# there because notify, which runs in every pipeline, should not pay for loading the model.
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")

# Largest results file we parse; json.loads needs several times the file size in memory.
DEFAULT_MAX_BYTES = 128 * 1024 * 1024
TOP_RULES = 5

JSON_NAME = "findings.json"
SARIF_NAME = "findings.sarif"

_LEVEL_TO_SEVERITY = {"error": "HIGH", "warning": "MEDIUM", "note": "LOW", "none": "INFO"}
# Mirrors JMo's own normalize_severity() for values outside the five names.
_SEVERITY_ALIASES = {"ERROR": "HIGH", "WARN": "MEDIUM", "WARNING": "MEDIUM", "CRIT": "CRITICAL", "MED": "MEDIUM"}
# SARIF result kinds that record a check that passed or did not apply: not findings.
_NOT_FINDING_KINDS = {"pass", "notApplicable"}


class Finding(NamedTuple):
    """One finding, normalized across JMo JSON and SARIF producers. A named tuple, not a
    frozen dataclass: a run of thousands is built in a third of the time (notify's budget)."""

    rule_id: str
    severity: str  # one of model.SEVERITIES
    message: str
    path: str | None
    start_line: int | None
    tool: str
    end_line: int | None = None
    fingerprint: str | None = None
    # What identifies the finding across runs (pipeline/compare.py): ("sarif:<kind>:<names>",
    # values) from SARIF fingerprints, or ("jmo", id) from JMo's findings.json; None without.
    identity: tuple[str, str] | None = None
    snippet: str | None = None  # the flagged code (SARIF region.snippet), when the tool gives it


@dataclass(frozen=True)
class RuleCount:
    rule_id: str
    count: int
    severity: str  # the highest severity seen for this rule


@dataclass(frozen=True)
class FindingsSummary:
    """Counts by severity (all five keys, in SEVERITIES order), total and the top rules."""

    counts: Mapping[str, int]
    total: int
    top_rules: tuple[RuleCount, ...] = ()
    source: str | None = None  # the file the findings came from
    tools: tuple[str, ...] = field(default=())

    @classmethod
    def from_findings(cls, findings: Iterable[Finding], *, top: int = TOP_RULES, source: str | None = None) -> FindingsSummary:
        findings = list(findings)
        counts = {sev: 0 for sev in SEVERITIES}
        per_rule: Counter[str] = Counter()
        worst: dict[str, int] = {}
        for f in findings:
            counts[f.severity] += 1
            per_rule[f.rule_id] += 1
            rank = SEVERITIES.index(f.severity)
            worst[f.rule_id] = min(rank, worst.get(f.rule_id, rank))
        # Most frequent first; ties by worse severity, then by id, so the order is stable.
        ranked = sorted(per_rule.items(), key=lambda kv: (-kv[1], worst[kv[0]], kv[0]))
        top_rules = tuple(RuleCount(rule, n, SEVERITIES[worst[rule]]) for rule, n in ranked[: max(top, 0)])
        tools = tuple(sorted({f.tool for f in findings}))
        return cls(counts=counts, total=len(findings), top_rules=top_rules, source=source, tools=tools)

    def at_or_above(self, severity: str) -> int:
        """How many findings are at `severity` or worse."""
        idx = SEVERITIES.index(_check_threshold(severity))
        return sum(self.counts.get(s, 0) for s in SEVERITIES[: idx + 1])

    def threshold_crossed(self, fail_on: str | None) -> bool:
        """True when any finding is at `fail_on` or worse (as `jmo report --fail-on`); False for no threshold."""
        if not fail_on:
            return False
        return self.at_or_above(fail_on) > 0


def _check_threshold(value: str) -> str:
    sev = str(value).strip().upper()
    if sev not in SEVERITIES:
        raise JmoError(f"unknown severity {value!r}: expected one of {', '.join(SEVERITIES)}")
    return sev


def severity_from_score(score: Any) -> str | None:
    """Map a CVSS-like `security-severity` (number or numeric string, 0-10) to a severity.

    >= 9.0 CRITICAL, >= 7.0 HIGH, >= 4.0 MEDIUM, > 0 LOW, 0 INFO. None when not a usable number.
    """
    if isinstance(score, bool):
        return None
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    if math.isnan(value) or value < 0:
        return None
    if value >= 9.0:
        return "CRITICAL"
    if value >= 7.0:
        return "HIGH"
    if value >= 4.0:
        return "MEDIUM"
    if value > 0:
        return "LOW"
    return "INFO"


def severity_from_level(level: Any) -> str | None:
    """Map a SARIF level (error, warning, note, none) to a severity; None for anything else."""
    if not isinstance(level, str):
        return None
    return _LEVEL_TO_SEVERITY.get(level)


def normalize_severity(value: Any) -> str:
    """A JMo severity string as JMo itself reads it: the five names, a few aliases, else INFO."""
    if not isinstance(value, str):
        return "INFO"
    v = value.strip().upper()
    if v in SEVERITIES:
        return v
    return _SEVERITY_ALIASES.get(v, "INFO")


# --- files ---------------------------------------------------------------------------


def find_results_file(results: str | Path) -> Path | None:
    """The findings file for a results folder: `summaries/findings.json`, else `.sarif`.

    `results` may also be the `summaries` folder itself or one findings file.
    """
    p = Path(results)
    if p.is_file():
        return p
    for folder in (p / "summaries", p):
        for name in (JSON_NAME, SARIF_NAME):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def load_findings(results_dir: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Finding]:
    """All findings of a results folder (see `find_results_file`), normalized.

    Raises FindingsError when there is no findings file or it cannot be read.
    """
    path = find_results_file(results_dir)
    if path is None:
        raise FindingsError(
            f"{results_dir}: no findings: expected summaries/{JSON_NAME} or summaries/{SARIF_NAME} (written by `jmo report`)"
        )
    return load_findings_file(path, max_bytes=max_bytes)


def load_findings_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Finding]:
    """Findings from one file: SARIF when it is a SARIF log, else a JMo findings.json."""
    doc = _read_json(Path(path), max_bytes)
    if isinstance(doc, dict) and "runs" in doc:
        return parse_sarif(doc, source=str(path))
    return parse_jmo_json(doc, source=str(path))


def load_summary(results_dir: str | Path, *, top: int = TOP_RULES, max_bytes: int = DEFAULT_MAX_BYTES) -> FindingsSummary:
    """`FindingsSummary` of a results folder; raises FindingsError like `load_findings`."""
    path = find_results_file(results_dir)
    findings = load_findings(results_dir, max_bytes=max_bytes)
    return FindingsSummary.from_findings(findings, top=top, source=str(path))


def _read_json(path: Path, max_bytes: int) -> Any:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FindingsError(f"{path}: {_size(size)} is over the {_size(max_bytes)} limit for a findings file")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise FindingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # grew after stat (a file still being written)
        raise FindingsError(f"{path}: over the {_size(max_bytes)} limit for a findings file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FindingsError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise FindingsError(f"{path}: empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FindingsError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise FindingsError(f"{path}: invalid JSON: nested too deeply") from None


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n} bytes"


# --- JMo findings.json ---------------------------------------------------------------


def parse_jmo_json(doc: Any, *, source: str = "<findings.json>") -> list[Finding]:
    """Findings from JMo's findings.json: a list of CommonFinding objects, or `{"findings": [...]}`."""
    items = doc.get("findings") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise FindingsError(f"{source}: not a JMo findings file: expected a list of findings (or {{\"findings\": [...]}})")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise FindingsError(f"{source}: [{i}]: expected a finding object, got {_type_name(item)}")
        location = _dict(item.get("location"))
        tool = _dict(item.get("tool"))
        out.append(
            Finding(
                rule_id=_text(item.get("ruleId")) or "unknown",
                severity=normalize_severity(item.get("severity")),
                message=_text(item.get("message")) or _text(item.get("title")) or "",
                path=_text(location.get("path")) or None,
                start_line=_line(location.get("startLine")),
                end_line=_line(location.get("endLine")),
                tool=_text(tool.get("name")) or "unknown",
                fingerprint=_text(item.get("id")) or None,
                identity=("jmo", _text(item.get("id"))) if _text(item.get("id")) else None,
                snippet=_text(_dict(item.get("context")).get("snippet")) or None,
            )
        )
    return out


# --- SARIF 2.1.0 ---------------------------------------------------------------------


def parse_sarif(doc: Any, *, source: str = "<sarif>") -> list[Finding]:
    """Findings from a SARIF 2.1.0 log (every run; `pass`/`notApplicable` and suppressed results skipped)."""
    if not isinstance(doc, dict):
        raise FindingsError(f"{source}: not a SARIF log: expected a JSON object, got {_type_name(doc)}")
    version = doc.get("version")
    if version is not None and version != "2.1.0":
        raise FindingsError(f"{source}: version: SARIF {version!r} is not supported, expected \"2.1.0\"")
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise FindingsError(f"{source}: runs: expected a list of runs, got {_type_name(runs)}")
    out: list[Finding] = []
    for r, run in enumerate(runs):
        if not isinstance(run, dict):
            raise FindingsError(f"{source}: runs[{r}]: expected a run object, got {_type_name(run)}")
        out.extend(_parse_run(run, f"{source}: runs[{r}]"))
    return out


class _Run:
    """The rule tables of one run, for resolving a result's rule."""

    def __init__(self, run: dict[str, Any]):
        tool = _dict(run.get("tool"))
        self.driver = _dict(tool.get("driver"))
        self.extensions = [_dict(e) for e in _list(tool.get("extensions"))]
        self.tool_name = _text(self.driver.get("name")) or "unknown"
        self.artifacts = _list(run.get("artifacts"))
        self.by_id: dict[str, dict[str, Any]] = {}
        for component in (self.driver, *self.extensions):
            for rule in _list(component.get("rules")):
                rule = _dict(rule)
                rule_id = _text(rule.get("id"))
                if rule_id and rule_id not in self.by_id:
                    self.by_id[rule_id] = rule

    def rule(self, result: dict[str, Any], rule_id: str | None) -> dict[str, Any]:
        ref = _dict(result.get("rule"))
        index = ref.get("index", result.get("ruleIndex"))
        component = self.driver
        comp_ref = _dict(ref.get("toolComponent"))
        if "index" in comp_ref:
            ci = comp_ref["index"]
            component = self.extensions[ci] if _valid_index(ci, self.extensions) else {}
        rules = _list(component.get("rules"))
        if _valid_index(index, rules):
            return _dict(rules[index])
        return self.by_id.get(rule_id or "", {})

    def artifact_uri(self, index: Any) -> str | None:
        if _valid_index(index, self.artifacts):
            return _text(_dict(_dict(self.artifacts[index]).get("location")).get("uri")) or None
        return None


def _parse_run(run: dict[str, Any], where: str) -> list[Finding]:
    results = run.get("results")
    if results is None:  # a run that did not produce results (e.g. the tool failed)
        return []
    if not isinstance(results, list):
        raise FindingsError(f"{where}.results: expected a list, got {_type_name(results)}")
    ctx = _Run(run)
    out = []
    for i, result in enumerate(results):
        if not isinstance(result, dict):
            raise FindingsError(f"{where}.results[{i}]: expected a result object, got {_type_name(result)}")
        kind = result.get("kind", "fail")
        if kind in _NOT_FINDING_KINDS or _suppressed(result) or result.get("baselineState") == "absent":
            continue
        ref = _dict(result.get("rule"))
        rule_id = _text(result.get("ruleId")) or _text(ref.get("id")) or None
        rule = ctx.rule(result, rule_id)
        rule_id = rule_id or _text(rule.get("id")) or "unknown"
        path, start, end, snippet = _location(result, ctx)
        out.append(
            Finding(
                rule_id=rule_id,
                severity=_sarif_severity(result, rule, kind),
                message=_message(result, rule) or rule_id,
                path=path,
                start_line=start,
                end_line=end,
                tool=ctx.tool_name,
                fingerprint=_fingerprint(result),
                identity=_identity(result, rule_id, path),
                snippet=snippet,
            )
        )
    return out


def _sarif_severity(result: dict[str, Any], rule: dict[str, Any], kind: Any) -> str:
    for props in (result.get("properties"), rule.get("properties")):
        sev = severity_from_score(_dict(props).get("security-severity"))
        if sev:
            return sev
    if kind != "fail":  # SARIF §3.27.10: any other kind has level "none"
        return "INFO"
    level = result.get("level")
    if level is None:
        level = _dict(rule.get("defaultConfiguration")).get("level", "warning")
    return severity_from_level(level) or "MEDIUM"


def _suppressed(result: dict[str, Any]) -> bool:
    # A suppression counts unless it was rejected or is still under review (SARIF §3.35.3).
    for s in _list(result.get("suppressions")):
        if _dict(s).get("status", "accepted") == "accepted":
            return True
    return False


def _message(result: dict[str, Any], rule: dict[str, Any]) -> str:
    msg = _dict(result.get("message"))
    text = _text(msg.get("text")) or _text(msg.get("markdown"))
    if not text and msg.get("id"):
        template = _dict(_dict(rule.get("messageStrings")).get(msg["id"]))
        text = _text(template.get("text"))
        for n, arg in enumerate(_list(msg.get("arguments"))):
            text = text.replace("{%d}" % n, str(arg))
    if not text:
        text = _text(_dict(rule.get("shortDescription")).get("text"))
    return text


def _location(result: dict[str, Any], ctx: _Run) -> tuple[str | None, int | None, int | None, str | None]:
    for loc in _list(result.get("locations")):
        phys = _dict(_dict(loc).get("physicalLocation"))
        if not phys:
            continue
        art = _dict(phys.get("artifactLocation"))
        uri = _text(art.get("uri")) or ctx.artifact_uri(art.get("index"))
        region = _dict(phys.get("region"))
        snippet = _text(_dict(region.get("snippet")).get("text")) or None
        return _uri_to_path(uri), _line(region.get("startLine")), _line(region.get("endLine")), snippet
    return None, None, None, None


def _uri_to_path(uri: str | None) -> str | None:
    if not uri:
        return None
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return unquote(parts.path) or None
    if parts.scheme:  # e.g. an https URL from a DAST tool: keep as written
        return uri
    return unquote(uri)


def _fingerprint(result: dict[str, Any]) -> str | None:
    for key in ("fingerprints", "partialFingerprints"):
        prints = _dict(result.get(key))
        for name in sorted(prints):
            value = _text(prints[name])
            if value:
                return value
    return _text(result.get("guid")) or None


def _identity(result: dict[str, Any], rule_id: str, path: str | None) -> tuple[str, str] | None:
    """The result's identity across runs from what the tool says: `fingerprints` (each one a
    whole identity, SARIF 3.27.16), else `partialFingerprints` (parts of one, 3.27.17: taken
    with the rule and the file), else `correlationGuid` (3.27.4). Empty values count as absent
    (gitleaks without git history writes its commit fields empty); `guid` names one result of
    one run and is no identity."""
    for key, partial in (("fingerprints", False), ("partialFingerprints", True)):
        prints = {k: _text(v) for k, v in _dict(result.get(key)).items() if _text(v)}
        if prints:
            names = sorted(prints)
            values = [prints[n] for n in names]
            if partial:
                values = [rule_id, path or "", *values]
            return f"sarif:{key}:{','.join(names)}", "\x1f".join(values)
    guid = _text(result.get("correlationGuid"))
    return ("sarif:correlationGuid", guid) if guid else None


# --- small coercions: optional SARIF fields of the wrong type count as absent ---------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _line(value: Any) -> int | None:
    # SARIF lines are 1-based; JMo writes 0 for "no line".
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _valid_index(index: Any, seq: Sequence[Any]) -> TypeGuard[int]:
    return isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(seq)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )
