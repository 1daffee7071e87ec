#!/usr/bin/env python3
"""Write schema/schedules.schema.json (JSON Schema draft 2020-12) from the model and the
validator's tables, so editors complete and check schedules.yaml:

    # yaml-language-server: $schema=https://raw.githubusercontent.com/jmo/schedule-action/v1/schema/schedules.schema.json

Never edit the schema by hand: change the rules (src/jmo_schedule/core/rules.py) and run
    python scripts/generate_schema.py          # rewrite the file
    python scripts/generate_schema.py --check  # exit 1 when the file is stale (CI, tests)

The schema is the editor's view: it checks shapes, names, enums, ranges and patterns. Cron
syntax, time zones and cross-field rules are only approximated; `jmo-schedule validate`
has the last word.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jmo_schedule.core import cron  # noqa: E402
from jmo_schedule.core import rules as r  # noqa: E402

SCHEMA_PATH = ROOT / "schema" / "schedules.schema.json"
SCHEMA_ID = "https://raw.githubusercontent.com/jmo/schedule-action/v1/schema/schedules.schema.json"

# Hover text for editors, keyed by field path. Kept beside the generator because the
# rules table holds names and checks, not prose.
DOCS: dict[str, str] = {
    "apiVersion": f"Always {r.API_VERSION}.",
    "kind": f"{r.KIND} (or {r.LIST_KIND} with items).",
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
    "spec.jobTemplate.notifications.channels": "Each {type: slack, url: ${SECRET_VARIABLE}}, with optional "
                                                "events and minSeverity.",
    "spec.jobTemplate.notifications.channels[].events": "What the channel is told of: success, failure, "
        "new-findings, skipped, missed (default: success and failure). A failure reaches every channel.",
    "spec.jobTemplate.notifications.channels[].minSeverity": "A new finding below this severity does not "
        "count as new-findings.",
    "status": "Written by jmo-schedule in its local store; ignored in committed files.",
}

CRON_PATTERN = (
    r"^\s*(" + "|".join(re.escape(m) for m in sorted(cron.MACROS)) + r"|\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s*$"
)


def _inner(regex: re.Pattern[str] | r.LazyPattern) -> str:
    """A compiled anchored pattern without its ^...$ (to compose patterns)."""
    return regex.pattern.removeprefix("^").removesuffix("$")


def _doc(schema: dict[str, Any], path: str) -> dict[str, Any]:
    if path in DOCS:
        schema = {"description": DOCS[path], **schema}
    return schema


def _obj(fields: dict[str, Any], path: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    props = {k: _doc(s, f"{path}.{k}" if path else k) for k, s in fields.items()}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def _kinds(table: dict[str, r.Kind]) -> dict[str, Any]:
    return {name: kind.schema() for name, kind in table.items()}


def build_schema() -> dict[str, Any]:
    """The whole schema as a dict (deterministic: same code, same bytes)."""
    label_key = (
        rf"^(({_inner(r.DNS_SUBDOMAIN_RE)})/)?{_inner(r.LABEL_NAME_RE)}$"
    )
    metadata_fields = {
        "name": {"type": "string", "maxLength": r.MAX_NAME, "pattern": r.NAME_RE.pattern},
        "uid": {"type": "string", "pattern": r.UID_RE.pattern},
        "labels": {"type": "object", "propertyNames": {"pattern": label_key},
                   "additionalProperties": {"type": "string", "maxLength": 63, "pattern": rf"^({_inner(r.LABEL_NAME_RE)})?$"}},
        "annotations": {"type": "object", "propertyNames": {"pattern": label_key}, "additionalProperties": r.ONE_LINE_SCHEMA},
        "creationTimestamp": {"type": ["string", "null"], "pattern": r.RFC3339_RE.pattern},
        "generation": {"type": ["integer", "null"], "minimum": 1},
        "resourceVersion": {"type": ["string", "null"]},
    }
    assert tuple(metadata_fields) == r.METADATA_FIELDS

    backend_types = list(r.BACKEND_TYPES)
    configs = {
        t: {"type": ["object", "null"], "additionalProperties": False, "properties": _kinds(r.BACKEND_CONFIG[t])}
        for t in backend_types
    }
    backend = _obj({"type": {"enum": backend_types, "default": r.DEFAULT_BACKEND}, "config": {"type": ["object", "null"]}},
                   "spec.backend")
    backend["allOf"] = [
        {"if": {"required": ["type"], "properties": {"type": {"const": t}}},
         "then": {"properties": {"config": {"$ref": f"#/$defs/config-{t}"}}}}
        for t in backend_types
    ] + [{"if": {"not": {"required": ["type"]}},
          "then": {"properties": {"config": {"$ref": f"#/$defs/config-{r.DEFAULT_BACKEND}"}}}}]

    targets = {"type": "object", "additionalProperties": False, "properties": _kinds(r.TARGET_KINDS)}
    # One repository source at most; images/images_file etc. exclude each other.
    exclusive = [list(r.REPO_SOURCES[i:i + 2]) for i in range(len(r.REPO_SOURCES) - 1)]
    exclusive.append([r.REPO_SOURCES[0], r.REPO_SOURCES[-1]])
    exclusive += [list(pair) for pair in r.EXCLUSIVE_TARGETS]
    targets["allOf"] = [{"not": {"required": pair}} for pair in exclusive]

    channel = _obj({"type": {"enum": ["slack"]},
                    "url": {"type": "string", "pattern": r.ENV_REF_RE.pattern,
                            "not": {"pattern": r.RESERVED_ENV_REF_RE.pattern},
                            "description": "A ${VARIABLE} naming a CI secret; a committed file never holds the URL. "
                                           "Not a variable the job itself uses (PATH, HOME, JMO_*, CI_*, GITHUB_*, "
                                           "LD_*, proxies...)."},
                    **_kinds(r.CHANNEL_KINDS)},
                   "spec.jobTemplate.notifications.channels[]", required=r.CHANNEL_REQUIRED)
    assert tuple(channel["properties"]) == r.CHANNEL_FIELDS
    notifications = _obj({"enabled": {"type": "boolean", "default": True},
                          "channels": {"type": "array", "items": channel}}, "spec.jobTemplate.notifications")
    assert tuple(notifications["properties"]) == r.NOTIFICATION_FIELDS
    job = _obj({
        "profile": {"enum": list(r.PROFILES), "default": r.DEFAULT_PROFILE},
        "targets": targets,
        "results": _obj({"dir": r.STRING_SCHEMA}, "spec.jobTemplate.results"),
        "options": {"type": "object", "additionalProperties": False, "properties": _kinds(r.OPTION_KINDS)},
        "notifications": notifications,
    }, "spec.jobTemplate")
    assert tuple(job["properties"]) == r.JOB_FIELDS

    plain = {k: {**kind.schema(), **({"default": r.SPEC_DEFAULTS[k]} if k in r.SPEC_DEFAULTS else {})}
             for k, kind in r.SPEC_KINDS.items()}
    spec = _obj({
        "schedule": {"type": "string", "pattern": CRON_PATTERN, "examples": ["0 2 * * 1", "@daily"]},
        "timezone": {"type": "string", "minLength": 1, "default": r.SPEC_DEFAULTS["timezone"],
                     "examples": ["UTC", "Europe/Berlin"]},
        **plain,
        "backend": backend,
        "jobTemplate": job,
    }, "spec", required=("schedule",))
    assert tuple(spec["properties"]) == r.SPEC_FIELDS

    condition = {"type": "object", "additionalProperties": False,
                 "properties": {k: {"type": ["string", "null"]} for k in r.CONDITION_FIELDS}}
    status = {"type": "object", "additionalProperties": False, "properties": {
        "conditions": {"type": "array", "items": condition},
        "nextScheduleTime": {"type": ["string", "null"]},
        "lastScheduleTime": {"type": ["string", "null"]},
        "lastSuccessfulTime": {"type": ["string", "null"]},
        "active": r.int_schema(0), "succeeded": r.int_schema(0), "failed": r.int_schema(0),
    }}
    assert tuple(status["properties"]) == r.STATUS_FIELDS

    def schedule(in_list: bool) -> dict[str, Any]:
        out = _obj({
            "apiVersion": {"const": r.API_VERSION},
            "kind": {"const": r.KIND},
            "metadata": _obj(metadata_fields, "metadata", required=("name",)),
            "spec": spec,
            "status": status,
        }, "", required=("metadata", "spec") if in_list else ("apiVersion", "kind", "metadata", "spec"))
        assert tuple(out["properties"]) == r.TOP_FIELDS
        return out

    schedule_list = _obj({
        "apiVersion": {"const": r.API_VERSION},
        "kind": {"const": r.LIST_KIND},
        "metadata": {"type": "object"},
        "items": {"type": "array", "items": {"$ref": "#/$defs/ScanScheduleListItem"}},
    }, "", required=("apiVersion", "kind", "items"))
    assert tuple(schedule_list["properties"]) == r.LIST_FIELDS

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
