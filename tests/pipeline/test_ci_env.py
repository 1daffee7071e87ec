"""ci_env.py: the run context read from GitHub Actions, GitLab CI or a local environment."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jmo_schedule.pipeline.ci_env import RunContext
from jmo_schedule.core.timefmt import format_duration, parse_timestamp

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "octo/app",
    "GITHUB_RUN_ID": "9876543210",
    "GITHUB_RUN_NUMBER": "42",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_SHA": "abc1234def5678abc1234def5678abc1234def56",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_WORKFLOW": "jmo nightly-scan",
    "GITHUB_JOB": "scan",
}

GITLAB = {
    "GITLAB_CI": "true",
    "CI_PROJECT_URL": "https://gitlab.example.com/group/app",
    "CI_PROJECT_PATH": "group/app",
    "CI_PIPELINE_URL": "https://gitlab.example.com/group/app/-/pipelines/1234",
    "CI_PIPELINE_ID": "1234",
    "CI_JOB_URL": "https://gitlab.example.com/group/app/-/jobs/777",
    "CI_JOB_NAME": "notify-success",
    "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
    "CI_COMMIT_SHORT_SHA": "01234567",
    "CI_COMMIT_AUTHOR": "Jane Doe <jane@example.com>",
    "CI_PIPELINE_CREATED_AT": "2026-11-25T11:50:00Z",
    "CI_JOB_STARTED_AT": "2026-11-25T11:58:00Z",
}


def test_github_context():
    ctx = RunContext.from_env({**GITHUB, "JMO_SCAN_STARTED_AT": "2026-11-25T11:55:30Z"}, NOW)
    assert ctx == RunContext(
        provider="github",
        run_url="https://github.com/octo/app/actions/runs/9876543210",
        run_id="9876543210",
        run_number="42",
        run_attempt="1",
        commit_sha="abc1234",
        commit_url="https://github.com/octo/app/commit/abc1234def5678abc1234def5678abc1234def56",
        code_url="https://github.com/octo/app/blob/abc1234def5678abc1234def5678abc1234def56",
        author="octocat",
        repository="octo/app",
        workflow="jmo nightly-scan",
        job="scan",
        job_url=None,
        started_at=datetime(2026, 11, 25, 11, 55, 30, tzinfo=timezone.utc),
        duration=timedelta(minutes=4, seconds=30),
    )
    assert ctx.run_label == "#42" and ctx.logs_url == ctx.run_url and ctx.provider_name == "GitHub Actions"


def test_github_rerun_links_the_attempt_and_enterprise_server():
    env = {**GITHUB, "GITHUB_RUN_ATTEMPT": "3", "GITHUB_SERVER_URL": "https://ghe.example.com/"}
    ctx = RunContext.from_env(env, NOW)
    assert ctx.run_url == "https://ghe.example.com/octo/app/actions/runs/9876543210/attempts/3"
    assert ctx.run_label == "#42 (attempt 3)"
    assert ctx.duration is None  # GitHub has no start-time variable of its own


def test_gitlab_context_prefers_pipeline_creation_for_duration():
    ctx = RunContext.from_env(GITLAB, NOW)
    assert ctx.provider == "gitlab"
    assert ctx.run_url == "https://gitlab.example.com/group/app/-/pipelines/1234"
    assert ctx.run_label == "#1234"
    assert ctx.commit_sha == "01234567"
    assert ctx.commit_url == "https://gitlab.example.com/group/app/-/commit/0123456789abcdef0123456789abcdef01234567"
    assert ctx.author == "Jane Doe <jane@example.com>"
    assert ctx.logs_url == "https://gitlab.example.com/group/app/-/jobs/777"
    assert ctx.duration == timedelta(minutes=10)
    assert ctx.provider_name == "GitLab CI"


def test_gitlab_job_start_when_no_pipeline_time_and_short_sha_fallback():
    env = {k: v for k, v in GITLAB.items() if k not in ("CI_PIPELINE_CREATED_AT", "CI_COMMIT_SHORT_SHA")}
    ctx = RunContext.from_env(env, NOW)
    assert ctx.duration == timedelta(minutes=2)
    assert ctx.commit_sha == "01234567"


def test_explicit_start_overrides_provider_start():
    ctx = RunContext.from_env({**GITLAB, "JMO_SCAN_STARTED_AT": str(int(NOW.timestamp()) - 90)}, NOW)
    assert ctx.duration == timedelta(seconds=90)


def test_local_context():
    ctx = RunContext.from_env({"USER": "alice", "JMO_SCAN_STARTED_AT": "2026-11-25T11:59:00+00:00"}, NOW)
    assert (ctx.provider, ctx.author, ctx.run_url, ctx.run_label, ctx.logs_url) == ("local", "alice", None, None, None)
    assert ctx.duration == timedelta(minutes=1)
    assert ctx.provider_name == "local run"


def test_missing_and_malformed_values_leave_fields_empty():
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "  ", "GITHUB_SHA": "", "JMO_SCAN_STARTED_AT": "yesterday"}
    ctx = RunContext.from_env(env, NOW)
    assert ctx == RunContext(provider="github")


def test_start_in_the_future_gives_no_duration():
    ctx = RunContext.from_env({"JMO_SCAN_STARTED_AT": "2026-11-25T13:00:00Z"}, NOW)
    assert ctx.started_at is not None and ctx.duration is None


def test_naive_now_is_utc():
    ctx = RunContext.from_env({"JMO_SCAN_STARTED_AT": "2026-11-25T11:00:00Z"}, NOW.replace(tzinfo=None))
    assert ctx.duration == timedelta(hours=1)


def test_gitlab_wins_when_both_look_present():
    ctx = RunContext.from_env({**GITLAB, "GITHUB_RUN_ID": "1"}, NOW)
    assert ctx.provider == "gitlab"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-25T11:00:00Z", datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)),
        ("2026-11-25T12:00:00+01:00", datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)),
        ("2026-11-25T11:00:00", datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)),
        ("1764068400", datetime(2025, 11, 25, 11, 0, tzinfo=timezone.utc)),
        ("1764068400.5", datetime(2025, 11, 25, 11, 0, 0, 500000, tzinfo=timezone.utc)),
        ("", None),
        (None, None),
        ("soon", None),
        ("99999999999999999999", None),
    ],
)
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (12, "12s"), (245, "4m 05s"), (3723, "1h 02m 03s"), (None, None)],
)
def test_format_duration(seconds, text):
    assert format_duration(None if seconds is None else timedelta(seconds=seconds)) == text
