"""core/rules.py: one table of fields and checks. Each kind of value gives the validator's
check and the JSON Schema's rule from one place, so the two agree value by value."""
from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from jmo_schedule.core import rules
from jmo_schedule.core.validate import Checker

# Values of every shape a file can hold. Left out on purpose: a string of only spaces
# (the schema checks length and characters, the validator also strips) - the schema is the
# editor's approximation, `jmo-schedule validate` has the last word.
SAMPLES: list[Any] = [
    "x", "", "a\nb", "tab\there", 0, 1, 2, 3, 255, 256, -1, 1.5, True, False, None, [], ["a"], ["a", ""], ["a", 1],
    {}, {"max": 1}, {"max": 3}, {"when": "always"}, {"when": ["always", "nope"]}, {"exit_codes": [1, 300]},
    {"other": 1}, "1h 30m", "30M", "forever", "jmo/schedule-action@abc123", "no ref", "HIGH", "high", "DEBUG",
    ".pre", "test", "Forbid", "forbid",
]

TABLES = [
    *(("spec", key, kind) for key, kind in rules.SPEC_KINDS.items()),
    *(("targets", key, kind) for key, kind in rules.TARGET_KINDS.items()),
    *(("options", key, kind) for key, kind in rules.OPTION_KINDS.items()),
    *((f"config-{backend}", key, kind) for backend, table in rules.BACKEND_CONFIG.items() for key, kind in table.items()),
]


@pytest.mark.parametrize("table, key, kind", TABLES, ids=[f"{t}.{k}" for t, k, _ in TABLES])
def test_the_validator_and_the_schema_agree(table: str, key: str, kind: rules.Kind) -> None:
    schema = Draft202012Validator(kind.schema())
    for value in SAMPLES:
        c = Checker("schedules.yaml", None, committed=True)
        ok = kind.check(c, value, ("spec", key))
        assert ok == (not c.problems), (key, value, c.problems)
        assert ok == schema.is_valid(value), (key, value, [str(p) for p in c.problems])


def test_every_kind_names_the_field_and_the_value_in_one_line() -> None:
    c = Checker("schedules.yaml", None, committed=True)
    rules.BACKEND_CONFIG["gitlab-ci"]["timeout"].check(c, "forever", ("spec", "backend", "config", "timeout"))
    rules.BACKEND_CONFIG["github-actions"]["action"].check(c, "no ref", ("spec", "backend", "config", "action"))
    rules.OPTION_KINDS["threads"].check(c, 300, ("spec", "jobTemplate", "options", "threads"))
    assert [str(p) for p in c.problems] == [
        "schedules.yaml: spec.backend.config.timeout: 'forever' is not a duration such as 1h, 30m or \"1h 30m\"",
        "schedules.yaml: spec.backend.config.action: 'no ref' is not an action reference such as "
        "jmo/schedule-action@<commit sha>",
        "schedules.yaml: spec.jobTemplate.options.threads: 300 is outside 1-256",
    ]


def test_the_model_takes_its_defaults_from_the_table() -> None:
    from jmo_schedule.core.model import JobTemplateSpec, ScheduleSpec

    spec = ScheduleSpec(schedule="0 1 * * *")
    assert {k: getattr(spec, k) for k in rules.SPEC_DEFAULTS} == {
        "timezone": "UTC", "suspend": False, "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 30, "failedJobsHistoryLimit": 10}
    assert JobTemplateSpec().profile == rules.DEFAULT_PROFILE == "balanced"
