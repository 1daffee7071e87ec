#!/usr/bin/env python3
"""Write schema/schedules.schema.json (JSON Schema draft 2020-12) from the model and the
validator's tables, so editors complete and check schedules.yaml:

    # yaml-language-server: $schema=https://raw.githubusercontent.com/jmo/schedule-action/v1/schema/schedules.schema.json

Never edit the schema by hand: change model.py / validate.py and run
    python scripts/generate_schema.py          # rewrite the file
    python scripts/generate_schema.py --check  # exit 1 when the file is stale (CI, tests)

The schema is the editor's view: it checks shapes, names, enums, ranges and patterns. Cron
syntax, time zones and cross-field rules are only approximated; `jmo-schedule validate`
has the last word.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jmo_schedule import cron, model  # noqa: E402
from jmo_schedule import validate as v  # noqa: E402

SCHEMA_PATH = ROOT / "schema" / "schedules.schema.json"
SCHEMA_ID = "https://raw.githubusercontent.com/jmo/schedule-action/v1/schema/schedules.schema.json"

# Hover text for editors, keyed by field path. Kept beside the generator because the
# validator's tables hold names and rules, not prose.
DOCS: dict[str, str] = {
    "apiVersion": f"Always {model.API_VERSION}.",
    "kind": f"{model.KIND} (or {model.LIST_KIND} with items).",
    "metadata": "Name, labels and annotations of the schedule.",
    "metadata.name": "DNS-1123 label (lowercase letters, digits, '-'; at most 63): used in file names, job names and CLI arguments.",
    "metadata.uid": "Set by jmo-schedule on create.",
    "metadata.labels": "Kubernetes-style labels, selectable with `jmo-schedule list -l key=value`.",
    "metadata.annotations": "Free-form notes; `description` is shown in CI and GitLab schedule descriptions.",
    "metadata.creationTimestamp": "Set by jmo-schedule on create (RFC 3339 UTC).",
    "metadata.generation": "Set by jmo-schedule; +1 on every spec change.",
    "metadata.resourceVersion": "Set by jmo-schedule; changes on every write.",
    "spec": "What to scan, when, and on which CI system.",
    "spec.schedule": "5-field cron (minute hour day-of-month month day-of-week), names JAN-DEC/SUN-SAT, or @hourly/@daily/@weekly/@monthly/@yearly. H, H(a-b), H/n, H(a-b)/n pick a stable, spread-out value per schedule (Jenkins' hash).",
    "spec.timezone": "IANA time zone the cron is read in, e.g. Europe/Berlin.",
    "spec.suspend": "true stops runs without deleting the schedule.",
    "spec.concurrencyPolicy": "Forbid: skip a run while one is active; Allow: run side by side; Replace: cancel the active run.",
    "spec.startingDeadlineSeconds": "Skip a run that starts more than this many seconds after its scheduled time.",
    "spec.successfulJobsHistoryLimit": "Successful runs to keep.",
    "spec.failedJobsHistoryLimit": "Failed runs to keep.",
    "spec.backend": "Which system runs the scan.",
    "spec.backend.type": "github-actions, gitlab-ci, kubernetes or local-cron.",
    "spec.backend.config": "Backend-specific settings (image, runner tags, namespace, ...).",
    "spec.jobTemplate": "The scan itself: profile, targets, results, options, notifications.",
    "spec.jobTemplate.profile": "Scanner profile: fast, slim, balanced or deep.",
    "spec.jobTemplate.targets": "What to scan; one of repo / repos_dir / targets_file, plus images, urls, api_spec, Kubernetes.",
    "spec.jobTemplate.results": "Where results are written.",
    "spec.jobTemplate.results.dir": "Results directory (default results).",
    "spec.jobTemplate.options": "Scanner options.",
    "spec.jobTemplate.options.fail_on": "Fail the run at findings of this severity or worse (jmo report --fail-on).",
    "spec.jobTemplate.notifications": "Slack messages on success and failure.",
    "spec.jobTemplate.notifications.channels": "Each {type: slack, url: ${SECRET_VARIABLE}}.",
    "status": "Written by jmo-schedule in its local store; ignored in committed files.",
}

CRON_PATTERN = (
    r"^\s*(" + "|".join(re.escape(m) for m in sorted(cron.MACROS)) + r"|\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s*$"
)


def _inner(regex: re.Pattern[str]) -> str:
    """A compiled anchored pattern without its ^...$ (to compose patterns)."""
    return regex.pattern.removeprefix("^").removesuffix("$")


def _ignore_case(pattern: str) -> str:
    """Spell a case-insensitive Python pattern for ECMA-262 (which has no inline flags):
    every letter outside a character class and not after a backslash becomes [xX]."""
    out, in_class, escaped = [], False, False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == "[":
            in_class = True
            out.append(ch)
        elif ch == "]":
            in_class = False
            out.append(ch)
        elif ch.isalpha() and not in_class:
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(ch)
    return "".join(out)


def _doc(schema: dict[str, Any], path: str) -> dict[str, Any]:
    if path in DOCS:
        schema = {"description": DOCS[path], **schema}
    return schema


def _default(cls: Any, name: str) -> Any:
    for f in dataclasses.fields(cls):
        if f.name == name and f.default is not dataclasses.MISSING:
            return f.default
    return None


def _obj(fields: dict[str, Any], path: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    props = {k: _doc(s, f"{path}.{k}" if path else k) for k, s in fields.items()}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


STRING = {"type": "string", "minLength": 1, "pattern": r"^[^\x00-\x1f\x7f]*$"}
STR_LIST = {"type": "array", "items": STRING, "minItems": 1}


def _int(lo: int | None = None, hi: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer"}
    if lo is not None:
        out["minimum"] = lo
    if hi is not None:
        out["maximum"] = hi
    return out


def _config_kind(kind: str) -> dict[str, Any]:
    if kind == "str":
        return STRING
    if kind == "str_list":
        return STR_LIST
    if kind == "str_or_list":
        return {"oneOf": [STRING, STR_LIST]}
    if kind == "action_ref":
        return {"type": "string", "pattern": v.ACTION_REF_RE.pattern}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "duration":
        return {"type": "string", "pattern": _ignore_case(v.GITLAB_DURATION_RE.pattern)}
    if kind == "gitlab_stage":
        return {**STRING, "not": {"enum": list(v.GITLAB_RESERVED_STAGES)}}
    if kind == "gitlab_retry":
        when = {"enum": list(v.GITLAB_RETRY_WHEN)}
        code = _int(0, 255)
        return {"oneOf": [
            _int(0, 2),
            {"type": "object", "additionalProperties": False, "properties": {
                "max": _int(0, 2),
                "when": {"oneOf": [when, {"type": "array", "items": when}]},
                "exit_codes": {"oneOf": [code, {"type": "array", "items": code}]},
            }},
        ]}
    raise ValueError(f"no schema for backend.config kind {kind!r}: teach scripts/generate_schema.py about it")


def _target_kind(kind: str) -> dict[str, Any]:
    return {"str": STRING, "str_list": STR_LIST, "bool": {"type": "boolean"}}[kind]


def _option_kind(kind: Any) -> dict[str, Any]:
    if kind == "bool":
        return {"type": "boolean"}
    if isinstance(kind, tuple) and kind and kind[0] == "int":
        return _int(kind[1], kind[2])
    return {"enum": list(kind)}


def build_schema() -> dict[str, Any]:
    """The whole schema as a dict (deterministic: same code, same bytes)."""
    label_key = (
        rf"^(({_inner(v.DNS_SUBDOMAIN_RE)})/)?{_inner(v.LABEL_NAME_RE)}$"
    )
    metadata_fields = {
        "name": {"type": "string", "maxLength": v.MAX_NAME, "pattern": v.NAME_RE.pattern},
        "uid": {"type": "string", "pattern": v.UID_RE.pattern},
        "labels": {"type": "object", "propertyNames": {"pattern": label_key},
                   "additionalProperties": {"type": "string", "maxLength": 63, "pattern": rf"^({_inner(v.LABEL_NAME_RE)})?$"}},
        "annotations": {"type": "object", "propertyNames": {"pattern": label_key}, "additionalProperties": {"type": "string"}},
        "creationTimestamp": {"type": ["string", "null"], "pattern": v.RFC3339_RE.pattern},
        "generation": {"type": ["integer", "null"], "minimum": 1},
        "resourceVersion": {"type": ["string", "null"]},
    }
    assert tuple(metadata_fields) == v.METADATA_FIELDS

    backend_types = list(model.BACKEND_TYPES)
    configs = {
        t: {"type": ["object", "null"], "additionalProperties": False,
            "properties": {k: _config_kind(kind) for k, kind in v.BACKEND_CONFIG[t].items()}}
        for t in backend_types
    }
    backend = _obj({"type": {"enum": backend_types, "default": model.DEFAULT_BACKEND}, "config": {"type": ["object", "null"]}},
                   "spec.backend")
    backend["allOf"] = [
        {"if": {"required": ["type"], "properties": {"type": {"const": t}}},
         "then": {"properties": {"config": {"$ref": f"#/$defs/config-{t}"}}}}
        for t in backend_types
    ] + [{"if": {"not": {"required": ["type"]}},
          "then": {"properties": {"config": {"$ref": f"#/$defs/config-{model.DEFAULT_BACKEND}"}}}}]

    targets = {"type": "object", "additionalProperties": False,
               "properties": {k: _target_kind(kind) for k, kind in v.TARGET_KINDS.items()}}
    # One repository source at most; images/images_file etc. exclude each other.
    exclusive = [list(v.REPO_SOURCES[i:i + 2]) for i in range(len(v.REPO_SOURCES) - 1)]
    exclusive.append([v.REPO_SOURCES[0], v.REPO_SOURCES[-1]])
    exclusive += [list(pair) for pair in v.EXCLUSIVE_TARGETS]
    targets["allOf"] = [{"not": {"required": pair}} for pair in exclusive]

    channel = _obj({"type": {"enum": ["slack"]},
                    "url": {"type": "string", "pattern": v.ENV_REF_RE.pattern,
                            "description": "A ${VARIABLE} naming a CI secret; a committed file never holds the URL."}},
                   "spec.jobTemplate.notifications.channels[]", required=tuple(v.CHANNEL_FIELDS))
    notifications = _obj({"enabled": {"type": "boolean", "default": True},
                          "channels": {"type": "array", "items": channel}}, "spec.jobTemplate.notifications")
    assert tuple(notifications["properties"]) == v.NOTIFICATION_FIELDS
    job = _obj({
        "profile": {"enum": list(model.PROFILES), "default": _default(model.JobTemplateSpec, "profile")},
        "targets": targets,
        "results": _obj({"dir": STRING}, "spec.jobTemplate.results"),
        "options": {"type": "object", "additionalProperties": False,
                    "properties": {k: _option_kind(kind) for k, kind in v.OPTION_KINDS.items()}},
        "notifications": notifications,
    }, "spec.jobTemplate")
    assert tuple(job["properties"]) == v.JOB_FIELDS

    spec_defaults = {f: _default(model.ScheduleSpec, f) for f in v.SPEC_FIELDS}
    spec = _obj({
        "schedule": {"type": "string", "pattern": CRON_PATTERN, "examples": ["0 2 * * 1", "@daily"]},
        "timezone": {"type": "string", "minLength": 1, "default": spec_defaults["timezone"], "examples": ["UTC", "Europe/Berlin"]},
        "suspend": {"type": "boolean", "default": spec_defaults["suspend"]},
        "concurrencyPolicy": {"enum": list(model.CONCURRENCY_POLICIES), "default": spec_defaults["concurrencyPolicy"]},
        "startingDeadlineSeconds": {"type": ["integer", "null"], "minimum": 0},
        "successfulJobsHistoryLimit": {**_int(0, 10_000), "default": spec_defaults["successfulJobsHistoryLimit"]},
        "failedJobsHistoryLimit": {**_int(0, 10_000), "default": spec_defaults["failedJobsHistoryLimit"]},
        "backend": backend,
        "jobTemplate": job,
    }, "spec", required=("schedule",))
    assert tuple(spec["properties"]) == v.SPEC_FIELDS

    condition = {"type": "object", "additionalProperties": False,
                 "properties": {k: {"type": ["string", "null"]} for k in v.CONDITION_FIELDS}}
    status = {"type": "object", "additionalProperties": False, "properties": {
        "conditions": {"type": "array", "items": condition},
        "nextScheduleTime": {"type": ["string", "null"]},
        "lastScheduleTime": {"type": ["string", "null"]},
        "lastSuccessfulTime": {"type": ["string", "null"]},
        "active": _int(0), "succeeded": _int(0), "failed": _int(0),
    }}
    assert tuple(status["properties"]) == v.STATUS_FIELDS

    def schedule(in_list: bool) -> dict[str, Any]:
        out = _obj({
            "apiVersion": {"const": model.API_VERSION},
            "kind": {"const": model.KIND},
            "metadata": _obj(metadata_fields, "metadata", required=("name",)),
            "spec": spec,
            "status": status,
        }, "", required=("metadata", "spec") if in_list else ("apiVersion", "kind", "metadata", "spec"))
        assert tuple(out["properties"]) == v.TOP_FIELDS
        return out

    schedule_list = _obj({
        "apiVersion": {"const": model.API_VERSION},
        "kind": {"const": model.LIST_KIND},
        "metadata": {"type": "object"},
        "items": {"type": "array", "items": {"$ref": "#/$defs/ScanScheduleListItem"}},
    }, "", required=("apiVersion", "kind", "items"))
    assert tuple(schedule_list["properties"]) == v.LIST_FIELDS

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "jmo-schedule schedules file",
        "description": "One document of schedules.yaml: a ScanSchedule or a ScanScheduleList. "
                       "Generated by scripts/generate_schema.py; do not edit.",
        "oneOf": [{"$ref": "#/$defs/ScanSchedule"}, {"$ref": "#/$defs/ScanScheduleList"}],
        "$defs": {
            "ScanSchedule": schedule(False),
            "ScanScheduleListItem": schedule(True),
            "ScanScheduleList": schedule_list,
            **{f"config-{t}": configs[t] for t in backend_types},
        },
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the checked-in schema is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != text:
            print(f"{SCHEMA_PATH.relative_to(ROOT)} is stale; run: python scripts/generate_schema.py", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
