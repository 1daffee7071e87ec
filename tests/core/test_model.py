"""model.py: the guide's constructors, defaults, and lossless dict / JSON / YAML round trips."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jmo_schedule.core.model import (
    BackendConfig,
    Condition,
    JobTemplateSpec,
    ScanSchedule,
    ScheduleMetadata,
    ScheduleSpec,
    ScheduleStatus,
)
from jmo_schedule.core.yamltext import parse_documents


def test_defaults_match_the_design() -> None:
    spec = ScheduleSpec(schedule="0 2 * * *")
    assert (spec.timezone, spec.suspend, spec.concurrencyPolicy, spec.startingDeadlineSeconds) == ("UTC", False, "Forbid", None)
    assert (spec.successfulJobsHistoryLimit, spec.failedJobsHistoryLimit) == (30, 10)
    assert spec.backend == BackendConfig(type="local-cron", config={})
    assert spec.jobTemplate == JobTemplateSpec(profile="balanced", targets={}, results={}, options={}, notifications={})
    s = ScanSchedule(metadata=ScheduleMetadata(name="a"), spec=spec)
    assert (s.apiVersion, s.kind) == ("jmo.security/v1alpha1", "ScanSchedule")
    assert s.status == ScheduleStatus()
    assert s.name == "a"


def test_the_guides_ellipsis_form() -> None:
    # The guide writes `ScheduleSpec(schedule="0 1 * * *", ...)`, which Python rejects
    # (positional argument after a keyword); the positional spelling means "the rest default".
    spec = ScheduleSpec("0 1 * * *", ...)  # type: ignore[arg-type]
    assert spec.timezone == "UTC" and spec.backend == BackendConfig()
    assert ScheduleSpec("0 1 * * *", ..., ..., ...).concurrencyPolicy == "Forbid"  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ScheduleMetadata.name has no default; give it a value"):
        ScheduleMetadata(...)  # type: ignore[arg-type]


def test_nested_dicts_become_objects() -> None:
    spec = ScheduleSpec(schedule="0 1 * * *", backend={"type": "gitlab-ci"}, jobTemplate={"profile": "fast"})  # type: ignore[arg-type]
    assert spec.backend == BackendConfig(type="gitlab-ci") and spec.jobTemplate.profile == "fast"


def test_job_template_helpers() -> None:
    job = JobTemplateSpec(options={"fail_on": "HIGH"}, results={"dir": "/r"})
    assert (job.fail_on, job.results_dir) == ("HIGH", "/r")
    assert (JobTemplateSpec().fail_on, JobTemplateSpec().results_dir) == (None, "results")


def test_set_condition_keeps_transition_time_when_status_is_unchanged() -> None:
    status = ScheduleStatus()
    status.set_condition("Ready", "True", "Created", "ok", "2026-01-01T00:00:00Z")
    status.set_condition("Ready", "True", "Updated", "ok", "2026-01-02T00:00:00Z")
    assert status.conditions == [Condition("Ready", "True", "2026-01-01T00:00:00Z", "Updated", "ok")]
    status.set_condition("Ready", "False", "Broken", "no", "2026-01-03T00:00:00Z")
    assert status.conditions[0].lastTransitionTime == "2026-01-03T00:00:00Z"


def full_example() -> ScanSchedule:
    """The guide's nightly-scan object, status included."""
    return ScanSchedule(
        metadata=ScheduleMetadata(
            name="nightly-scan", uid="550e8400-e29b-41d4-a716-446655440000",
            labels={"team": "security", "environment": "prod"},
            annotations={"description": "Nightly security scan for production repos"},
            creationTimestamp="2025-10-29T02:00:00Z", generation=1, resourceVersion="7",
        ),
        spec=ScheduleSpec(
            schedule="0 2 * * *", timezone="UTC", suspend=False, concurrencyPolicy="Forbid",
            startingDeadlineSeconds=300, successfulJobsHistoryLimit=30, failedJobsHistoryLimit=10,
            backend=BackendConfig(type="gitlab-ci", config={}),
            jobTemplate=JobTemplateSpec(
                profile="balanced", targets={"repos_dir": "/repos"}, results={"dir": "/results"},
                options={"fail_on": "HIGH"},
                notifications={"enabled": True, "channels": [{"type": "slack", "url": "${SLACK_WEBHOOK_URL}"}]},
            ),
        ),
        status=ScheduleStatus(
            conditions=[Condition("Ready", "True", "2025-10-29T02:00:00Z", "Created", "Schedule created successfully")],
            nextScheduleTime="2025-10-30T02:00:00Z",
        ),
    )


def test_to_dict_matches_the_guides_layout() -> None:
    d = full_example().to_dict()
    assert list(d) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert list(d["spec"]) == [
        "schedule", "timezone", "suspend", "concurrencyPolicy", "startingDeadlineSeconds",
        "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "backend", "jobTemplate",
    ]
    assert d["status"] == {
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-10-29T02:00:00Z",
                        "reason": "Created", "message": "Schedule created successfully"}],
        "nextScheduleTime": "2025-10-30T02:00:00Z", "lastScheduleTime": None, "lastSuccessfulTime": None,
        "active": 0, "succeeded": 0, "failed": 0,
    }
    assert "status" not in full_example().to_dict(include_status=False)


def test_round_trips_of_the_full_example() -> None:
    s = full_example()
    assert ScanSchedule.from_dict(s.to_dict()) == s
    assert ScanSchedule.from_json(s.to_json()) == s
    assert ScanSchedule.from_yaml(s.to_yaml()) == s
    assert json.loads(s.to_json()) == s.to_dict()
    assert parse_documents(s.to_yaml())[0].value == s.to_dict()


def test_round_trip_does_not_share_state() -> None:
    s = full_example()
    d = s.to_dict()
    d["metadata"]["labels"]["team"] = "changed"
    d["spec"]["jobTemplate"]["targets"]["repos_dir"] = "/x"
    assert s.metadata.labels["team"] == "security" and s.spec.jobTemplate.targets["repos_dir"] == "/repos"
    c = s.copy()
    c.spec.jobTemplate.options["fail_on"] = "LOW"
    assert s.spec.jobTemplate.options["fail_on"] == "HIGH"


label_text = st.from_regex(r"[a-z0-9]([a-z0-9._-]{0,20}[a-z0-9])?", fullmatch=True)
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
TIME = st.sampled_from([None, "2026-01-01T00:00:00Z", "2026-03-08T07:00:00Z"])


@st.composite
def schedules(draw: st.DrawFn) -> ScanSchedule:
    metadata = ScheduleMetadata(
        name=draw(st.from_regex(r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)),
        uid=draw(st.sampled_from([None, "550e8400-e29b-41d4-a716-446655440000"])),
        labels=draw(st.dictionaries(label_text, label_text, max_size=3)),
        annotations=draw(st.dictionaries(label_text, free_text, max_size=3)),
        creationTimestamp=draw(TIME),
        generation=draw(st.one_of(st.none(), st.integers(1, 1000))),
        resourceVersion=draw(st.one_of(st.none(), st.integers(1, 99).map(str))),
    )
    targets = draw(st.fixed_dictionaries({}, optional={
        "repo": free_text.filter(str.strip).filter(lambda t: "\n" not in t),
        "images": st.lists(label_text, min_size=1, max_size=3),
        "k8s_all_namespaces": st.booleans(),
    }))
    options = draw(st.fixed_dictionaries({}, optional={
        "fail_on": st.sampled_from(["CRITICAL", "HIGH", "INFO"]), "threads": st.integers(1, 256),
        "human_logs": st.booleans(),
    }))
    spec = ScheduleSpec(
        schedule=draw(st.sampled_from(["0 2 * * 1", "*/15 * * * *", "@daily", "0 0 1,15 * MON-FRI"])),
        timezone=draw(st.sampled_from(["UTC", "America/New_York", "Australia/Lord_Howe"])),
        suspend=draw(st.booleans()),
        concurrencyPolicy=draw(st.sampled_from(["Forbid", "Allow", "Replace"])),
        startingDeadlineSeconds=draw(st.one_of(st.none(), st.integers(0, 10**6))),
        successfulJobsHistoryLimit=draw(st.integers(0, 100)),
        failedJobsHistoryLimit=draw(st.integers(0, 100)),
        backend=BackendConfig(type=draw(st.sampled_from(["github-actions", "gitlab-ci", "local-cron", "kubernetes"]))),
        jobTemplate=JobTemplateSpec(
            profile=draw(st.sampled_from(["fast", "slim", "balanced", "deep"])), targets=targets,
            results=draw(st.sampled_from([{}, {"dir": "results"}])), options=options,
            notifications=draw(st.sampled_from([{}, {"enabled": False, "channels": []},
                                                {"channels": [{"type": "slack", "url": "${HOOK}"}]}])),
        ),
    )
    status = ScheduleStatus(
        conditions=draw(st.lists(st.builds(Condition, st.just("Ready"), st.sampled_from(["True", "False"]), TIME,
                                           free_text, free_text), max_size=1)),
        nextScheduleTime=draw(TIME), lastScheduleTime=draw(TIME), lastSuccessfulTime=draw(TIME),
        active=draw(st.integers(0, 3)), succeeded=draw(st.integers(0, 10**6)), failed=draw(st.integers(0, 10**6)),
    )
    return ScanSchedule(metadata=metadata, spec=spec, status=status)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(schedules())
def test_generated_round_trips_are_lossless(s: ScanSchedule) -> None:
    assert ScanSchedule.from_dict(s.to_dict()) == s
    assert ScanSchedule.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert ScanSchedule.from_json(s.to_json()) == s
    assert ScanSchedule.from_yaml(s.to_yaml()) == s
    assert ScanSchedule.from_yaml(s.to_yaml(include_status=False)).spec == s.spec


def test_from_yaml_wants_exactly_one_valid_object() -> None:
    from jmo_schedule.errors import JmoError, ValidationError

    one = full_example().to_yaml(include_status=False)
    with pytest.raises(JmoError, match=r"^<yaml>: expected one ScanSchedule, found 2$"):
        ScanSchedule.from_yaml(one + "---\n" + one.replace("nightly-scan", "other"))
    with pytest.raises(ValidationError, match=r"^<json>:1:1: expected a ScanSchedule or ScanScheduleList mapping"):
        ScanSchedule.from_json("[]")
