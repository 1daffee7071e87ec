"""guard.py, concurrency.py and `jmo-schedule guard`: suspend, deadlines across DST with an
injected clock, manual runs, and concurrencyPolicy against local servers playing the
GitHub and GitLab REST APIs."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fakes.slack import FakeSlack
from fakes.github import FakeGitHub
from fakes.gitlab import FakeGitLab
from jmo_schedule import cli
from jmo_schedule.platforms.github import workflow_file_from_ref
from jmo_schedule.pipeline.guard import Apis, Decision, decide, guard, output_lines, read_dotenv
from jmo_schedule.core.model import ScanSchedule, ScheduleMetadata, ScheduleSpec

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sched(cron: str = "0 2 * * *", tz: str = "UTC", *, deadline: int | None = 300, policy: str = "Forbid",
          suspend: bool = False, name: str = "nightly-scan") -> ScanSchedule:
    return ScanSchedule(
        ScheduleMetadata(name=name),
        ScheduleSpec(schedule=cron, timezone=tz, suspend=suspend, concurrencyPolicy=policy, startingDeadlineSeconds=deadline),
    )


def no_api() -> Apis:
    def fail(*a, **k):
        raise AssertionError("no API call expected")

    return Apis(github_runs=fail, gitlab_pipelines=fail, gitlab_cancel=fail)


GH_SCHEDULED = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule"}
GL_SCHEDULED = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "schedule"}


# --- suspend and manual runs ------------------------------------------------------------


@pytest.mark.parametrize("env", [GH_SCHEDULED, {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_dispatch"}, {}])
def test_suspended_always_skips(env):
    d = decide(sched(suspend=True), now=at("2026-11-25T02:00:00Z"), env=env, apis=no_api())
    assert d == Decision(False, "schedule nightly-scan is suspended (spec.suspend: true)")
    assert d.line() == "skip: schedule nightly-scan is suspended (spec.suspend: true)"


@pytest.mark.parametrize(
    ("env", "event"),
    [
        ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_dispatch"}, "workflow_dispatch"),
        ({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "web"}, "web"),
        ({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "api"}, "api"),
    ],
)
def test_manual_runs_always_run_even_late(env, event):
    # 10 hours after the nominal time, far beyond the deadline, with Forbid: still runs.
    d = decide(sched(), now=at("2026-11-25T12:00:00Z"), env=env, apis=no_api())
    assert d == Decision(True, f"manual run ({event}): the deadline and concurrency checks apply to scheduled runs only")


# --- startingDeadlineSeconds --------------------------------------------------------------


def test_within_deadline_runs():
    d = decide(sched(policy="Allow"), now=at("2026-11-25T02:04:59Z"), env=GH_SCHEDULED, apis=no_api())
    assert d == Decision(True, "scheduled run: nominal time 2026-11-25T02:00:00Z (02:00 UTC), started 4m 59s later; "
                               "concurrencyPolicy Allow")


def test_exactly_at_deadline_runs_one_second_later_skips():
    s = sched(policy="Allow")
    assert decide(s, now=at("2026-11-25T02:05:00Z"), env=GH_SCHEDULED, apis=no_api()).run
    d = decide(s, now=at("2026-11-25T02:05:01Z"), env=GH_SCHEDULED, apis=no_api())
    assert d == Decision(False, "started 5m 01s after its nominal time 2026-11-25T02:00:00Z (02:00 UTC), "
                                "more than startingDeadlineSeconds 300")


def test_no_deadline_never_skips_for_lateness():
    d = decide(sched(deadline=None, policy="Allow"), now=at("2026-11-25T23:59:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d.run and "started 21h 59m 00s later" in d.reason


def test_zero_deadline_skips_any_delay():
    s = sched(deadline=0, policy="Allow")
    assert decide(s, now=at("2026-11-25T02:00:00Z"), env=GL_SCHEDULED, apis=no_api()).run
    assert not decide(s, now=at("2026-11-25T02:00:01Z"), env=GL_SCHEDULED, apis=no_api()).run


def test_spring_forward_gap_nominal_is_first_instant_after_the_gap():
    # New York, 2026-03-08: 02:00 EST -> 03:00 EDT. "0 2 * * *" fires at 03:00 EDT = 07:00Z.
    s = sched("0 2 * * *", "America/New_York", policy="Allow")
    d = decide(s, now=at("2026-03-08T07:04:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d.run and "nominal time 2026-03-08T07:00:00Z (03:00 EDT), started 4m 00s later" in d.reason
    d = decide(s, now=at("2026-03-08T07:06:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d == Decision(False, "started 6m 00s after its nominal time 2026-03-08T07:00:00Z (03:00 EDT), "
                                "more than startingDeadlineSeconds 300")
    # A naive reading (02:00 as EST = 07:00Z, or "no run that day") would differ: the day before
    # the nominal time is 07:00Z too (02:00 EST), so check the day after the change as well.
    d = decide(s, now=at("2026-03-09T06:03:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d.run and "nominal time 2026-03-09T06:00:00Z (02:00 EDT)" in d.reason


def test_fall_back_repeated_hour_fires_at_first_occurrence():
    # New York, 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 happens at 05:30Z and at 06:30Z.
    s = sched("30 1 * * *", "America/New_York", policy="Allow")
    d = decide(s, now=at("2026-11-01T05:33:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d.run and "nominal time 2026-11-01T05:30:00Z (01:30 EDT), started 3m 00s later" in d.reason
    # A run that starts at the second 01:30 is an hour late, not on time.
    d = decide(s, now=at("2026-11-01T06:31:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d == Decision(False, "started 1h 01m 00s after its nominal time 2026-11-01T05:30:00Z (01:30 EDT), "
                                "more than startingDeadlineSeconds 300")


def test_deadline_in_europe_london_across_bst_start():
    # London, 2026-03-29: 01:00 GMT -> 02:00 BST. "30 1 * * *" fires at 02:00 BST = 01:00Z.
    s = sched("30 1 * * *", "Europe/London", deadline=120, policy="Allow")
    assert decide(s, now=at("2026-03-29T01:01:59Z"), env=GL_SCHEDULED, apis=no_api()).run
    d = decide(s, now=at("2026-03-29T01:02:01Z"), env=GL_SCHEDULED, apis=no_api())
    assert d.reason == ("started 2m 01s after its nominal time 2026-03-29T01:00:00Z (02:00 BST), "
                        "more than startingDeadlineSeconds 120")


def test_local_runs_are_scheduled_runs():
    d = decide(sched(), now=at("2026-11-25T03:00:00Z"), env={}, apis=no_api())
    assert not d.run and d.reason.startswith("started 1h 00m 00s after")


# --- the cron that fired (github.event.schedule) ---------------------------------------------


def test_event_cron_matching_runs_and_stale_cron_skips():
    s = sched("0 2 * * 1-5", policy="Allow")
    env = {**GH_SCHEDULED, "JMO_EVENT_SCHEDULE": "0  2 * * MON-FRI"}
    assert decide(s, now=at("2026-11-25T02:01:00Z"), env=env, apis=no_api()).run
    env = {**GH_SCHEDULED, "JMO_EVENT_SCHEDULE": "0 2 * * 0-6"}
    assert decide(sched("0 2 * * *", policy="Allow"), now=at("2026-11-25T02:01:00Z"), env=env, apis=no_api()).run
    env = {**GH_SCHEDULED, "JMO_EVENT_SCHEDULE": "0 3 * * 1-5"}
    d = decide(s, now=at("2026-11-25T03:01:00Z"), env=env, apis=no_api())
    assert d == Decision(False, "the workflow fired for cron '0 3 * * 1-5' but schedule nightly-scan is '0 2 * * 1-5': "
                                "the workflow file is stale; regenerate it with jmo-schedule sync")


@pytest.fixture
def api():
    fake = FakeSlack(default=(404, {"message": "Not Found"}, {})).start()
    yield fake
    fake.stop()


# --- concurrencyPolicy on GitHub, against a local server playing the workflow-runs API -------


@pytest.fixture
def gh():
    fake = FakeGitHub("octo/app", "ghs_write", page_cap=100).start()
    yield fake
    fake.stop()


WF = "jmo-nightly-scan.yml"


def add(fake, run_id: int, number: int, status: str = "in_progress", created_at: str = "2026-11-25T02:00:07Z",
        conclusion: str | None = None) -> None:
    fake.add(WF, run_id, conclusion, status=status, run_number=number, created_at=created_at)


def gh_env(fake, run_id: int = 1001, number: int = 42, token: str = "ghs_write", **extra: str) -> dict[str, str]:
    return {
        **GH_SCHEDULED, "GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_RUN_ID": str(run_id), "GITHUB_RUN_NUMBER": str(number), "GITHUB_TOKEN": token,
        "GITHUB_WORKFLOW_REF": f"octo/app/.github/workflows/{WF}@refs/heads/main", **extra,
    }


def states(fake) -> list[tuple[int, str, str | None]]:
    return [(r["id"], r["status"], r["conclusion"]) for r in sorted(fake.runs.values(), key=lambda r: r["id"])]


RUNS = f"/repos/octo/app/actions/workflows/{WF}/runs"
ON_TIME = "scheduled run: nominal time 2026-11-25T02:00:00Z (02:00 UTC), started 1m 00s later; "


def test_forbid_skips_when_an_older_run_is_in_progress(gh):
    add(gh, 998, 41)
    add(gh, 1001, 42)
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh))
    assert d == Decision(False, "concurrencyPolicy Forbid: run #41 (998) of this workflow started before this one "
                                "and is in_progress")
    # One listing per unfinished status, as the API filters by one status at a time.
    assert [(r["method"], r["path"], r["query"]) for r in gh.requests] == [
        ("GET", RUNS, {"status": status, "per_page": "100"})
        for status in ("requested", "queued", "pending", "waiting", "in_progress")]
    headers = gh.requests[0]["headers"]
    assert headers["Authorization"] == "Bearer ghs_write"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"


@pytest.mark.parametrize("status", ["requested", "queued", "pending", "waiting"])
def test_forbid_counts_an_older_run_that_has_not_started_yet(gh, status):
    # A run waiting for a runner (or behind a protection rule) is the older run all the same:
    # Forbid means the later one skips, not that whichever gets a runner first wins.
    add(gh, 998, 41, status)
    add(gh, 1001, 42)
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh))
    assert d == Decision(False, f"concurrencyPolicy Forbid: run #41 (998) of this workflow started before this one "
                                f"and is {status}")


def test_forbid_two_runs_that_start_together_exactly_one_runs(gh):
    # Both are in progress, created the same second, and each sees the other: run_number decides.
    add(gh, 1000, 41)
    add(gh, 1001, 42)
    now = at("2026-11-25T02:01:00Z")
    first = decide(sched(), now=now, env=gh_env(gh, 1000, 41))
    second = decide(sched(), now=now, env=gh_env(gh, 1001, 42))
    assert first == Decision(True, ON_TIME + "no older run of this workflow is unfinished (1 newer run will yield to it)")
    assert second == Decision(False, "concurrencyPolicy Forbid: run #41 (1000) of this workflow started before this one "
                                     "and is in_progress")


def test_forbid_runs_when_only_finished_or_newer_runs_exist(gh):
    add(gh, 990, 40, "completed", conclusion="success")
    add(gh, 1001, 42)
    add(gh, 1005, 43, "queued")
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh))
    assert d == Decision(True, ON_TIME + "no older run of this workflow is unfinished (1 newer run will yield to it)")
    del gh.runs[1005]
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh))
    assert d == Decision(True, ON_TIME + "no older run of this workflow is unfinished")


def test_forbid_reads_every_page(gh):
    # 120 older runs queued behind a stuck one: two pages of 100, the second from the Link header.
    for n in range(1, 121):
        add(gh, 500 + n, n, "queued", created_at=f"2026-11-25T01:{n // 60:02d}:{n % 60:02d}Z")
    add(gh, 1001, 121)
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh, 1001, 121))
    assert d == Decision(False, "concurrencyPolicy Forbid: run #120 (620) and 119 more of this workflow started before "
                                "this one and is queued")
    queued = [r["query"] for r in gh.requests if r["query"].get("status") == "queued"]
    assert queued == [{"status": "queued", "per_page": "100"}, {"status": "queued", "per_page": "100", "page": "2"}]


def test_forbid_finds_the_workflow_id_from_the_run_without_workflow_ref(gh):
    add(gh, 999, 41)
    add(gh, 1001, 42)
    env = gh_env(gh)
    del env["GITHUB_WORKFLOW_REF"]
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=env)
    assert not d.run
    paths = [r["path"] for r in gh.requests]
    assert paths[0] == "/repos/octo/app/actions/runs/1001"
    assert set(paths[1:]) == {"/repos/octo/app/actions/workflows/161335/runs"}


@pytest.mark.parametrize("token, can_read, answer", [
    ("ghs_write", False, "HTTP 403 (Resource not accessible by integration)"),
    ("ghs_revoked", True, "HTTP 401 (Bad credentials)"),
])
def test_forbid_without_actions_read_runs_and_names_the_permission(gh, token, can_read, answer):
    add(gh, 998, 41)
    add(gh, 1001, 42)
    gh.can_read = can_read
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh, token=token))
    assert d == Decision(True, ON_TIME + f"cannot check for other runs: GitHub API: list workflow runs: {answer}: the "
                               "token needs `permissions: actions: read`; running without the concurrencyPolicy check")
    assert len(gh.requests) == 1


def test_forbid_without_token_runs_and_says_why(gh):
    env = gh_env(gh)
    del env["GITHUB_TOKEN"]
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=env)
    assert d == Decision(True, ON_TIME + "cannot check for other runs: GITHUB_TOKEN is not set (pass the job's token); "
                               "running without the concurrencyPolicy check")
    assert gh.requests == []


def test_forbid_api_down_runs(api):
    api.routes[("GET", "/api/v3" + RUNS)] = (502, "bad gateway", {})
    env = {**GH_SCHEDULED, "GITHUB_API_URL": api.base + "/api/v3", "GITHUB_REPOSITORY": "octo/app",
           "GITHUB_RUN_ID": "1001", "GITHUB_RUN_NUMBER": "42", "GITHUB_TOKEN": "t",
           "GITHUB_WORKFLOW_REF": f"octo/app/.github/workflows/{WF}@refs/heads/main"}
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=env)
    assert d == Decision(True, ON_TIME + "cannot check for other runs: GitHub API: list workflow runs: HTTP 502; "
                               "running without the concurrencyPolicy check")


def test_replace_cancels_the_older_runs(gh):
    add(gh, 997, 40, "queued", created_at="2026-11-24T02:00:07Z")
    add(gh, 998, 41, created_at="2026-11-24T02:00:09Z")
    add(gh, 1001, 42)
    add(gh, 1005, 43, "queued", created_at="2026-11-25T02:00:30Z")
    d = decide(sched(policy="Replace"), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh))
    assert d == Decision(True, ON_TIME + "Replace: cancelled run #40 (997), run #41 (998)")
    assert gh.cancels() == ["997", "998"]
    assert states(gh) == [(997, "completed", "cancelled"), (998, "completed", "cancelled"),
                          (1001, "in_progress", None), (1005, "queued", None)]


def test_replace_two_runs_that_start_together_leave_the_newer_one(gh):
    add(gh, 1000, 41)
    add(gh, 1001, 42)
    now = at("2026-11-25T02:01:00Z")
    older = decide(sched(policy="Replace"), now=now, env=gh_env(gh, 1000, 41))
    newer = decide(sched(policy="Replace"), now=now, env=gh_env(gh, 1001, 42))
    assert older.reason.endswith("no older run of this workflow is unfinished (1 newer run will yield to it)")
    assert newer.reason.endswith("Replace: cancelled run #41 (1000)")
    assert states(gh) == [(1000, "completed", "cancelled"), (1001, "in_progress", None)]


def test_replace_older_run_that_finished_meanwhile_is_not_an_error(gh):
    from jmo_schedule.pipeline.guard import default_apis

    github_active_runs, github_cancel = default_apis().github_runs, default_apis().github_cancel
    assert github_active_runs is not None
    add(gh, 998, 41)
    add(gh, 1001, 42)

    def listed_then_finished(env, token):
        found = github_active_runs(env, token)
        gh.runs[998].update(status="completed", conclusion="success")  # between listing and cancel
        return found

    apis = Apis(github_runs=listed_then_finished, github_cancel=github_cancel)
    d = decide(sched(policy="Replace"), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh), apis=apis)
    assert d == Decision(True, ON_TIME + "Replace: run #41 (998) had already finished")
    assert gh.cancels() == ["998"]  # GitHub answered 409 Conflict
    assert states(gh)[0] == (998, "completed", "success")


def test_replace_without_actions_write_runs_and_names_the_permission(gh):
    add(gh, 998, 41)
    add(gh, 1001, 42)
    gh.can_write = False
    d = decide(sched(policy="Replace"), now=at("2026-11-25T02:01:00Z"), env=gh_env(gh))
    assert d == Decision(True, ON_TIME + "Replace: cannot cancel run #41 (998): GitHub API: cancel run 998: HTTP 403 "
                               "(Resource not accessible by integration): the token needs `permissions: actions: write`; "
                               "both runs go on")
    assert states(gh)[0] == (998, "in_progress", None)


def test_allow_on_github_makes_no_calls():
    d = decide(sched(policy="Allow"), now=at("2026-11-25T02:01:00Z"), env=GH_SCHEDULED, apis=no_api())
    assert d.run and d.reason.endswith("concurrencyPolicy Allow")


def test_deadline_is_checked_before_the_api(gh):
    d = decide(sched(), now=at("2026-11-25T03:00:00Z"), env=gh_env(gh))
    assert not d.run and gh.requests == []


def test_workflow_file_from_ref():
    assert workflow_file_from_ref("o/r/.github/workflows/a.yml@refs/heads/main") == "a.yml"
    assert workflow_file_from_ref("o/r/.github/workflows/sub/a.yml@x") is None
    assert workflow_file_from_ref(None) is None


# --- GitLab ---------------------------------------------------------------------------------
# Against the fake GitLab (tests/fakes/gitlab.py): the schedule is found by its description,
# its pipelines through the pipeline schedules API, with JMO_GITLAB_TOKEN only.

GL_TOKEN = "glpat-guard-secret"


@pytest.fixture
def gitlab():
    fake = FakeGitLab(token=GL_TOKEN).start()
    yield fake
    fake.stop()


def gl_env(gitlab: FakeGitLab, **extra: str) -> dict[str, str]:
    return {**GL_SCHEDULED, "CI_API_V4_URL": gitlab.url, "CI_PROJECT_ID": "42", "CI_PIPELINE_ID": "500",
            "CI_PIPELINE_CREATED_AT": "2026-11-25T02:00:05Z", "CI_JOB_TOKEN": "glcbt-job",
            "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: nightly-scan (Nightly)", "JMO_GITLAB_TOKEN": GL_TOKEN,
            **extra}


def schedule_with_pipelines(gitlab: FakeGitLab, *pipelines: tuple[int, str, str, str]) -> int:
    """Our pipeline schedule (and a decoy whose name starts the same) with the given
    (id, status, created_at, updated_at) pipelines, plus this run's own pipeline 500."""
    decoy = gitlab.add("jmo-schedule: nightly-scan-2")
    gitlab.add_pipeline(decoy, 480, "running", "2026-11-25T01:00:00Z", "2026-11-25T02:00:00Z")
    sid = gitlab.add("jmo-schedule: nightly-scan (Nightly)")
    for pid, status, created, updated in pipelines:
        gitlab.add_pipeline(sid, pid, status, created, updated)
    gitlab.add_pipeline(sid, 500, "running", "2026-11-25T02:00:05Z", "2026-11-25T02:00:09Z")
    return sid


def test_gitlab_forbid_skips_with_another_running_pipeline(gitlab):
    sid = schedule_with_pipelines(gitlab, (498, "success", "2026-11-24T02:00:05Z", "2026-11-24T02:40:00Z"),
                                  (499, "running", "2026-11-25T01:00:05Z", "2026-11-25T02:00:07Z"))
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gl_env(gitlab))
    assert d == Decision(False, "concurrencyPolicy Forbid: pipeline 499 of this schedule is running")
    assert [(r[0], r[1], r[2].get("sort")) for r in gitlab.requests] == [
        ("GET", "/api/v4/projects/42/pipeline_schedules", None),
        ("GET", f"/api/v4/projects/42/pipeline_schedules/{sid}/pipelines", "desc"),
        ("GET", f"/api/v4/projects/42/pipeline_schedules/{sid}/pipelines", "desc"),  # the fake serves 2 a page
    ]
    assert all(r[2].get("per_page") == "100" for r in gitlab.requests)


def test_gitlab_forbid_skips_a_run_that_waited_for_the_resource_group(gitlab):
    # 499 was running when this pipeline was created; it finished while this job waited
    # on the resource_group. Kubernetes' Forbid skips such a run; so does the guard.
    schedule_with_pipelines(gitlab, (499, "failed", "2026-11-25T01:00:05Z", "2026-11-25T02:30:00Z"))
    d = decide(sched(deadline=None), now=at("2026-11-25T02:31:00Z"), env=gl_env(gitlab))
    assert d == Decision(False, "concurrencyPolicy Forbid: pipeline 499 of this schedule was still running when this "
                                "one was created")


def test_gitlab_forbid_runs_when_the_others_finished_before(gitlab):
    schedule_with_pipelines(gitlab, (499, "success", "2026-11-25T01:00:05Z", "2026-11-25T01:40:00Z"),
                            (501, "running", "2026-11-25T02:00:30Z", "2026-11-25T02:00:31Z"))  # newer: not ours to yield to
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gl_env(gitlab))
    assert d == Decision(True, "scheduled run: nominal time 2026-11-25T02:00:00Z (02:00 UTC), started 1m 00s later; "
                               "no other pipeline of this schedule running")


def test_gitlab_finds_the_schedule_by_name_on_gitlab_before_17_8(gitlab):
    schedule_with_pipelines(gitlab, (499, "pending", "2026-11-25T01:00:05Z", "2026-11-25T01:00:05Z"))
    env = gl_env(gitlab, JMO_SCHEDULE="nightly-scan")
    del env["CI_PIPELINE_SCHEDULE_DESCRIPTION"]
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=env)
    assert d == Decision(False, "concurrencyPolicy Forbid: pipeline 499 of this schedule is running")


def test_gitlab_without_a_project_token_makes_no_call(gitlab):
    # The job token may not read pipeline schedules (GitLab's job token allowlist).
    schedule_with_pipelines(gitlab, (499, "running", "2026-11-25T01:00:05Z", "2026-11-25T02:00:07Z"))
    env = gl_env(gitlab)
    del env["JMO_GITLAB_TOKEN"]
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=env)
    assert d.run and d.reason.endswith(
        "cannot check for other pipelines: JMO_GITLAB_TOKEN is not set (CI_JOB_TOKEN may not read pipeline schedules; "
        "set a project access token with read_api); the generated resource_group still runs one scan at a time")
    assert gitlab.requests == []


def test_fake_gitlab_refuses_the_job_token_like_gitlab(gitlab):
    import requests

    gitlab.add("jmo-schedule: nightly-scan")
    resp = requests.get(gitlab.url + "/projects/42/pipeline_schedules", headers={"JOB-TOKEN": "glcbt-job"}, timeout=5)
    assert (resp.status_code, resp.json()) == (401, {"message": "401 Unauthorized"})


@pytest.mark.parametrize(("token", "scopes", "reason"), [
    ("glpat-revoked", ("api",), "GitLab API: list pipeline schedules: HTTP 401 (401 Unauthorized)"),
    (GL_TOKEN, ("write_repository",), "GitLab API: list pipeline schedules: HTTP 403 (insufficient_scope)"),
])
def test_gitlab_token_refused_warns_and_falls_back_to_resource_group(gitlab, token, scopes, reason):
    gitlab.scopes = set(scopes)
    schedule_with_pipelines(gitlab, (499, "running", "2026-11-25T01:00:05Z", "2026-11-25T02:00:07Z"))
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gl_env(gitlab, JMO_GITLAB_TOKEN=token))
    assert d.run and d.reason.endswith(
        f"cannot check for other pipelines: {reason}: JMO_GITLAB_TOKEN needs read_api and the Developer role; "
        "the generated resource_group still runs one scan at a time")
    assert len(gitlab.requests) == 1  # one refusal, one warning: no retries


def test_gitlab_schedule_not_found_runs(gitlab):
    gitlab.add("Nightly build (not ours)")
    d = decide(sched(), now=at("2026-11-25T02:01:00Z"), env=gl_env(gitlab))
    assert d.run and d.reason.endswith("cannot check for other pipelines: the project has no pipeline schedule "
                                       "'jmo-schedule: nightly-scan'; the generated resource_group still runs one scan at a time")


def test_gitlab_replace_cancels_older_pipelines(gitlab):
    schedule_with_pipelines(gitlab, (498, "running", "2026-11-25T00:00:05Z", "2026-11-25T02:00:07Z"),
                            (499, "pending", "2026-11-25T01:00:05Z", "2026-11-25T01:00:05Z"))
    d = decide(sched(policy="Replace"), now=at("2026-11-25T02:01:00Z"), env=gl_env(gitlab))
    assert d.run and d.reason.endswith("Replace: cancelled running pipeline 498, 499")
    assert [r[:2] for r in gitlab.writes()] == [("POST", "/api/v4/projects/42/pipelines/498/cancel"),
                                                ("POST", "/api/v4/projects/42/pipelines/499/cancel")]
    assert gitlab.pipelines[498]["status"] == gitlab.pipelines[499]["status"] == "canceled"
    assert gitlab.pipelines[500]["status"] == "running"


@pytest.mark.parametrize(("scopes", "role", "error"), [
    (("read_api",), "developer", "HTTP 403 (insufficient_scope)"),
    (("api",), "reporter", "HTTP 403 (403 Forbidden)"),
])
def test_gitlab_replace_cancel_refused_still_runs(gitlab, scopes, role, error):
    gitlab.scopes, gitlab.role = set(scopes), role
    schedule_with_pipelines(gitlab, (499, "running", "2026-11-25T01:00:05Z", "2026-11-25T02:00:07Z"))
    d = decide(sched(policy="Replace"), now=at("2026-11-25T02:01:00Z"), env=gl_env(gitlab))
    assert d.run and d.reason.endswith(
        f"Replace: could not cancel pipeline 499: GitLab API: cancel pipeline 499: {error}; the older pipeline keeps running")
    assert gitlab.pipelines[499]["status"] == "running"


# --- outputs and the CLI -------------------------------------------------------------------


def test_outputs_are_single_lines():
    assert output_lines(Decision(False, "a\nb  c")) == "run=false\nreason=a b c\n"


def test_guard_writes_github_output_and_dotenv(tmp_path):
    out = tmp_path / "gh_output"
    out.write_text("earlier=1\n")
    dotenv = tmp_path / "guard.env"
    d = guard(sched(suspend=True), now=at("2026-11-25T02:00:00Z"), env={"GITHUB_OUTPUT": str(out)}, dotenv=str(dotenv))
    assert not d.run
    assert out.read_text() == "earlier=1\nrun=false\nreason=schedule nightly-scan is suspended (spec.suspend: true)\n"
    # Namespaced only: plain run/reason would reach every later job of the user's pipeline.
    assert dotenv.read_text() == (
        "JMO_GUARD_RUN=false\nJMO_GUARD_REASON=schedule nightly-scan is suspended (spec.suspend: true)\n"
    )
    assert read_dotenv(str(dotenv)) == Decision(False, "schedule nightly-scan is suspended (spec.suspend: true)")
    assert read_dotenv(str(tmp_path / "missing.env")) is None


SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly-scan
spec:
  schedule: "0 2 * * *"
  timezone: America/New_York
  concurrencyPolicy: Allow
  startingDeadlineSeconds: 300
  jobTemplate:
    targets:
      repo: .
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_run_and_skip_both_exit_0(workdir, capfd, monkeypatch):
    out_file = workdir / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out_file))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "schedule")
    assert cli.main(["guard", "nightly-scan", "--now", "2026-03-08T07:04:00Z"]) == 0
    assert capfd.readouterr().out == (
        "run: scheduled run: nominal time 2026-03-08T07:00:00Z (03:00 EDT), started 4m 00s later; concurrencyPolicy Allow\n")
    assert cli.main(["guard", "nightly-scan", "-f", "schedules.yaml", "--now", "2026-03-08T07:10:00Z",
                     "--dotenv", "guard.env"]) == 0
    skip = "started 10m 00s after its nominal time 2026-03-08T07:00:00Z (03:00 EDT), more than startingDeadlineSeconds 300"
    assert capfd.readouterr().out == f"skip: {skip}\n"
    assert out_file.read_text().splitlines()[-2:] == ["run=false", f"reason={skip}"]
    assert (workdir / "guard.env").read_text() == f"JMO_GUARD_RUN=false\nJMO_GUARD_REASON={skip}\n"


def test_cli_bad_input_exits_1_or_2(workdir, capfd):
    assert cli.main(["guard", "nope"]) == 1
    assert capfd.readouterr().err == "jmo-schedule: error: schedule 'nope' not found in ./schedules.yaml or the local store\n"
    assert cli.main(["guard", "nightly-scan", "--dotenv", "no/such/dir/guard.env"]) == 1
    assert capfd.readouterr().err == (
        f"jmo-schedule: error: no/such/dir/guard.env: folder {workdir / 'no/such/dir'} does not exist\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["guard", "nightly-scan", "--now", "yesterday"])
    assert exc.value.code == 2
    assert "'yesterday' is not an ISO 8601 time" in capfd.readouterr().err


def test_unwritable_github_output_is_one_line_error(tmp_path):
    from jmo_schedule.errors import JmoError

    with pytest.raises(JmoError) as exc:
        guard(sched(suspend=True), now=at("2026-11-25T02:00:00Z"), env={"GITHUB_OUTPUT": str(tmp_path)})
    assert str(exc.value) == f"{tmp_path}: cannot append the outputs: Is a directory"


def test_forbid_outside_ci_is_left_to_the_scheduler():
    d = decide(sched(), now=at("2026-11-25T02:00:30Z"), env={}, apis=no_api())
    assert d.reason == ("scheduled run: nominal time 2026-11-25T02:00:00Z (02:00 UTC), started 30s later; "
                        "concurrencyPolicy Forbid is enforced by the scheduler here, not by the guard")


# --- a real runner: act runs guard and notify as workflow steps on the host ------------------

ACT_WORKFLOW = """\
name: jmo-schedule act check
on: [schedule, workflow_dispatch]
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - id: guard
        run: jmo-schedule guard every-minute -f "$JMO_FILE"
        env:
          JMO_EVENT_SCHEDULE: ${{ github.event.schedule }}
      - name: Scan
        if: steps.guard.outputs.run == 'true'
        run: echo "SCAN RAN because $REASON"
        env:
          REASON: ${{ steps.guard.outputs.reason }}
      - name: Notify
        if: always() && steps.guard.outputs.run == 'true'
        run: jmo-schedule notify --status success --schedule every-minute -f "$JMO_FILE" --results "$RUNNER_TEMP/none"
        env:
          SLACK_HOOK: ${{ secrets.SLACK_HOOK }}
"""

ACT_SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: every-minute
spec:
  schedule: "* * * * *"
  startingDeadlineSeconds: 3600
  concurrencyPolicy: Allow
  jobTemplate:
    targets:
      repo: .
    notifications:
      channels:
        - type: slack
          url: ${SLACK_HOOK}
"""


@pytest.mark.slow
def test_act_runs_guard_and_notify_steps(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import tool
    from fakes.slack import FakeSlack

    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "t.yml").write_text(ACT_WORKFLOW)
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(ACT_SCHEDULES)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"schedule": "* * * * *"}))
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)

    slack_server = FakeSlack().start()
    hook = slack_server.base + "/services/TACT/BACT/actsecretactsecret"
    try:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "JMO_FILE": str(schedules)}
        proc = subprocess.run(
            [tool("act"), "schedule", "-W", ".github/workflows/t.yml", "-e", str(event),
             "-P", "ubuntu-latest=-self-hosted", "--no-cache-server", "--env", f"JMO_FILE={schedules}",
             "-s", f"SLACK_HOOK={hook}"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=300,
        )
    finally:
        slack_server.stop()
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "| run: scheduled run: nominal time " in log
    assert "SCAN RAN because scheduled run: nominal time" in log
    assert "| notify: sent to channel 1 (${SLACK_HOOK})" in log
    assert len(slack_server.requests) == 1
    assert slack_server.requests[0].json()["text"].startswith("✅ Security scan succeeded: every-minute")
    assert "actsecretactsecret" not in log  # masked by ::add-mask:: (act prints ***)
