"""GitLab pipeline schedules: the pure plan, and the client against a local fake of the API."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from fakes.gitlab import FakeGitLab

from jmo_schedule.core import gitlab_names
from jmo_schedule.sync import gitlab_schedules as gs
from jmo_schedule.cli import main
from jmo_schedule.core.loader import load_text
from jmo_schedule.core.model import ScanSchedule, ScheduleMetadata, ScheduleSpec

TOKEN = "glpat-SECRET-do-not-print"

FILE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
  annotations:
    description: Weekly repo scan
spec:
  schedule: "0 2 * * 1"
  timezone: Europe/Berlin
  backend: {type: gitlab-ci}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: paused-scan
spec:
  schedule: "30 4 * * *"
  suspend: true
  backend: {type: gitlab-ci, config: {ref: release}}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: gh-only
spec:
  schedule: "0 5 * * *"
  backend: {type: github-actions}
"""


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def env(gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("CI_API_V4_URL", gitlab.url)
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("CI_DEFAULT_BRANCH", "main")
    monkeypatch.setenv("JMO_GITLAB_TOKEN", TOKEN)
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    return path


def wanted() -> list[gs.WantedSchedule]:
    return gs.wanted_schedules(load_text(FILE, "s.yaml"), "main")


# -- pure parts ------------------------------------------------------------------------


def test_wanted_schedules_only_gitlab_ci() -> None:
    w = wanted()
    assert [x.name for x in w] == ["weekly-scan", "paused-scan"]
    # No schedule variable: new GitLab.com groups refuse pipelines that carry one.
    assert w[0] == gs.WantedSchedule(
        "weekly-scan", "jmo-schedule: weekly-scan (Weekly repo scan)", "0 2 * * 1", "Europe/Berlin", "main", True, {},
    )
    assert (w[1].ref, w[1].active, w[1].description, w[1].variables) == ("release", False, "jmo-schedule: paused-scan", {})


def test_legacy_variable_for_gitlab_before_17_8() -> None:
    w = gs.wanted_schedules(load_text(FILE, "s.yaml"), "main", legacy_variable=True)
    assert [x.variables for x in w] == [{"JMO_SCHEDULE": "weekly-scan"}, {"JMO_SCHEDULE": "paused-scan"}]


@pytest.mark.parametrize("description, matches", [
    ("jmo-schedule: weekly", True),
    ("jmo-schedule: weekly (Weekly repo scan)", True),
    ("jmo-schedule: weekly (a (nested) note)", True),
    ("jmo-schedule: weekly-scan", False),  # a name that starts with this one
    ("jmo-schedule: weekly-scan (Weekly)", False),
    ("jmo-schedule: weekly2", False),
    ("jmo-schedule: weekly (no closing parenthesis", False),
    ("jmo-schedule: weeklyx (y)", False),
    ("xjmo-schedule: weekly", False),
    ("jmo-schedule: weekly ", False),
    ("Nightly build", False),
])
def test_description_pattern_matches_exactly_one_schedule(description: str, matches: bool) -> None:
    pattern = gitlab_names.description_pattern("weekly")
    assert pattern == "/^jmo-schedule: weekly( \\(.*\\))?$/"
    # RE2 and Python agree on this subset (anchors, a group, an escaped parenthesis, `.*`).
    assert (re.search(pattern[1:-1], description) is not None) is matches


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True),
       st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True),
       st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30))
def test_description_pattern_against_every_description_we_write(name: str, other: str, note: str) -> None:
    annotations = {"description": note} if note.strip() else {}
    description = gitlab_names.description_for(ScanSchedule(ScheduleMetadata(other, annotations=annotations), ScheduleSpec("0 1 * * *")))
    assert (re.search(gitlab_names.description_pattern(name)[1:-1], description) is not None) is (name == other)


@pytest.mark.parametrize("env, name", [
    ({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: weekly-scan (Weekly)"}, "weekly-scan"),
    ({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: a", "JMO_SCHEDULE": "b"}, "a"),
    ({"CI_PIPELINE_SOURCE": "schedule", "JMO_SCHEDULE": "b"}, "b"),  # GitLab before 17.8
    ({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "Nightly build"}, None),
    ({"CI_PIPELINE_SOURCE": "push", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: a"}, None),
])
def test_schedule_name_from_env(env: dict[str, str], name: str | None) -> None:
    assert gitlab_names.schedule_name_from_env(env) == name


@pytest.mark.parametrize("given, stored", [("@daily", "0 0 * * *"), ("@HOURLY", "0 * * * *"), (" 0  2 * * 1 ", "0 2 * * 1")])
def test_gitlab_cron_is_five_fields(given: str, stored: str) -> None:
    assert gs.gitlab_cron(given) == stored


def test_wanted_schedules_needs_a_ref() -> None:
    with pytest.raises(gs.JmoError, match=r"^weekly-scan: no ref to run on; pass --ref or set backend.config.ref$"):
        gs.wanted_schedules(load_text(FILE, "s.yaml"), "")


@pytest.mark.parametrize("description, name", [
    ("jmo-schedule: weekly-scan", "weekly-scan"),
    ("jmo-schedule: weekly-scan (Weekly)", "weekly-scan"),
    ("jmo-schedule:weekly-scan", None),
    ("Nightly build", None),
    ("my jmo-schedule: x", None),
    ("jmo-schedule: Bad_Name", None),
    (None, None),
])
def test_managed_name(description: str | None, name: str | None) -> None:
    assert gitlab_names.managed_name(description) == name


def test_plan_creates_updates_deletes_and_ignores_others() -> None:
    existing = [
        {"id": 1, "description": "Nightly build", "cron": "0 0 * * *", "ref": "refs/heads/main", "active": True},
        {"id": 2, "description": "jmo-schedule: weekly-scan (Weekly repo scan)", "cron": "0 3 * * 1",
         "cron_timezone": "Europe/Berlin", "ref": "refs/heads/main", "active": True,
         "variables": [{"key": "JMO_SCHEDULE", "value": "weekly-scan"}, {"key": "OTHER", "value": "kept"}]},
        {"id": 3, "description": "jmo-schedule: gone-scan", "cron": "0 0 * * *", "ref": "refs/heads/main", "active": True},
        {"id": 4, "description": "jmo-schedule: weekly-scan", "cron": "0 3 * * 1", "ref": "main", "active": True},
    ]
    actions = gs.plan(existing, wanted())
    summary = [(a.kind, a.name, a.schedule_id, a.changes, a.variable_changes) for a in actions]
    assert summary == [
        # The JMO_SCHEDULE an earlier version set goes (it would stop the pipeline); OTHER stays.
        ("update", "weekly-scan", 2, ["cron"], {"JMO_SCHEDULE": None}),
        ("delete", "weekly-scan", 4, [], {}),  # a duplicate left by an interrupted run
        ("create", "paused-scan", None, [], {}),
        ("delete", "gone-scan", 3, [], {}),
    ]
    assert all(a.schedule_id != 1 for a in actions)


def test_plan_unchanged_when_everything_matches() -> None:
    existing = [{"id": 9, "description": "jmo-schedule: weekly-scan (Weekly repo scan)", "cron": "0 2 * * 1",
                 "cron_timezone": "Europe/Berlin", "ref": "refs/heads/main", "active": True,
                 "variables": [{"key": "OTHER", "value": "someone's"}]}]
    actions = gs.plan(existing, wanted()[:1])
    assert [(a.kind, a.describe()) for a in actions] == [("unchanged", "unchanged weekly-scan (schedule 9)")]


def test_plan_removes_the_old_variable() -> None:
    existing = [{"id": 9, "description": "jmo-schedule: paused-scan", "cron": "30 4 * * *", "cron_timezone": "UTC",
                 "ref": "refs/heads/release", "active": False, "variables": [{"key": "JMO_SCHEDULE", "value": "paused-scan"}]}]
    [action] = gs.plan(existing, wanted()[1:])
    assert action.describe() == "updated paused-scan (schedule 9): variable JMO_SCHEDULE removed"


def test_plan_fixes_a_wrong_legacy_variable() -> None:
    existing = [{"id": 9, "description": "jmo-schedule: paused-scan", "cron": "30 4 * * *", "cron_timezone": "UTC",
                 "ref": "refs/heads/release", "active": False, "variables": [{"key": "JMO_SCHEDULE", "value": "x"}]}]
    [action] = gs.plan(existing, gs.wanted_schedules(load_text(FILE, "s.yaml"), "main", legacy_variable=True)[1:])
    assert action.describe() == "updated paused-scan (schedule 9): variable JMO_SCHEDULE"
    assert action.variables_present == frozenset({"JMO_SCHEDULE"})


# -- the client against the fake API ------------------------------------------------------


def test_sync_end_to_end_and_idempotent(env: Path, gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]) -> None:
    other = gitlab.add("Nightly build (not ours)", owner="alice")
    for i in range(3):  # enough schedules for several pages (the fake serves 2 per page)
        gitlab.add(f"release train {i}", owner="alice")
    stale = gitlab.add("jmo-schedule: removed-scan", variables={"JMO_SCHEDULE": "removed-scan"})
    drifted = gitlab.add("jmo-schedule: weekly-scan (Weekly repo scan)", cron="0 9 * * *", tz="UTC",
                         variables={"JMO_SCHEDULE": "weekly-scan"})
    before_other = dict(gitlab.schedules[other])

    assert main(["gitlab-schedules", "-f", str(env)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "created paused-scan (schedule 7)",
        f"updated weekly-scan (schedule {drifted}): cron, cron_timezone, variable JMO_SCHEDULE removed",
        f"deleted removed-scan (schedule {stale})",
        "pipeline schedules: 1 created, 1 updated, 1 deleted, 0 unchanged",
    ]
    assert TOKEN not in out
    created = gitlab.schedules[7]
    assert (created["description"], created["cron"], created["cron_timezone"], created["ref"], created["active"]) == (
        "jmo-schedule: paused-scan", "30 4 * * *", "UTC", "refs/heads/release", False)
    assert created["variables"] == []
    assert gitlab.schedules[drifted]["variables"] == []  # so the old schedule keeps starting
    assert ("DELETE", f"/api/v4/projects/42/pipeline_schedules/{drifted}/variables/JMO_SCHEDULE", {}) in gitlab.requests
    assert gitlab.schedules[drifted]["cron"] == "0 2 * * 1"
    assert gitlab.schedules[drifted]["cron_timezone"] == "Europe/Berlin"
    assert stale not in gitlab.schedules
    assert gitlab.schedules[other] == before_other  # never touched
    # Several list pages were read.
    pages = [r[2].get("page") for r in gitlab.requests if r[0] == "GET" and r[1].endswith("/pipeline_schedules")]
    assert pages == ["1", "2", "3"]

    # A second run writes nothing.
    gitlab.requests.clear()
    assert main(["gitlab-schedules", "-f", str(env)]) == 0
    assert gitlab.writes() == []
    assert capsys.readouterr().out.splitlines()[-1] == "pipeline schedules: 0 created, 0 updated, 0 deleted, 2 unchanged"


@pytest.mark.parametrize("flag", [["--legacy-variable"], ["--legacy-variable", "true"]])
def test_legacy_variable_flag_sets_it(env: Path, gitlab: FakeGitLab, flag: list[str]) -> None:
    assert main(["gitlab-schedules", "-f", str(env), *flag]) == 0
    assert [s["variables"] for s in gitlab.schedules.values()] == [
        [{"key": "JMO_SCHEDULE", "variable_type": "env_var", "value": name, "raw": False}]
        for name in ("weekly-scan", "paused-scan")]


def test_legacy_variable_false_is_the_default(env: Path, gitlab: FakeGitLab) -> None:
    assert main(["gitlab-schedules", "-f", str(env), "--legacy-variable", "false"]) == 0
    assert [s["variables"] for s in gitlab.schedules.values()] == [[], []]


def test_dry_run_writes_nothing(env: Path, gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gitlab-schedules", "-f", str(env), "--dry-run"]) == 0
    assert gitlab.writes() == []
    assert capsys.readouterr().out.splitlines() == ["would be created weekly-scan", "would be created paused-scan"]


def test_takes_ownership_of_its_own_schedule(env: Path, gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]) -> None:
    # Made by an earlier (since rotated) project token: another bot user owns it.
    sid = gitlab.add("jmo-schedule: weekly-scan (Weekly repo scan)", cron="0 9 * * *", tz="Europe/Berlin",
                     owner="project_42_bot_old", variables={"JMO_SCHEDULE": "weekly-scan"})
    assert main(["gitlab-schedules", "-f", str(env)]) == 0
    assert gitlab.schedules[sid]["cron"] == "0 2 * * 1"
    assert gitlab.schedules[sid]["owner"]["username"] == "project_42_bot"
    assert ("POST", f"/api/v4/projects/42/pipeline_schedules/{sid}/take_ownership", {}) in gitlab.requests


def test_project_path_is_url_encoded(env: Path, gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> None:
    gitlab.project = "group/sub/app"
    assert main(["gitlab-schedules", "-f", str(env), "--project", "group/sub/app"]) == 0
    assert gitlab.requests[0][1] == "/api/v4/projects/group%2Fsub%2Fapp/pipeline_schedules"


def test_bad_token_message_has_no_token(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("JMO_GITLAB_TOKEN", "glpat-wrong-secret")
    assert main(["gitlab-schedules", "-f", str(env)]) == 1
    err = capsys.readouterr().err
    assert err == ("jmo-schedule: error: GitLab API: list pipeline schedules: HTTP 401 (401 Unauthorized); "
                   "the token in $JMO_GITLAB_TOKEN is missing, expired or revoked\n")


def test_unknown_project(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gitlab-schedules", "-f", str(env), "--project", "7"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: GitLab API: list pipeline schedules: HTTP 404 (404 Project Not Found); "
        "no such project or schedule, or the token in $JMO_GITLAB_TOKEN cannot see it\n")


def test_missing_token(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("JMO_GITLAB_TOKEN")
    assert main(["gitlab-schedules", "-f", str(env)]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: no GitLab token: set $JMO_GITLAB_TOKEN (a masked CI/CD variable) to a project access "
        "token with the Maintainer role and the api scope\n")


def test_missing_api_url(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CI_API_V4_URL")
    assert main(["gitlab-schedules", "-f", str(env)]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: no GitLab API URL: pass --api-url or run inside GitLab CI ($CI_API_V4_URL)\n")


def test_bad_token_variable_name(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gitlab-schedules", "-f", str(env), "--token-variable", "glpat-abc"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: --token-variable 'glpat-abc' is not an environment variable name\n")


def test_unreachable_server(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CI_API_V4_URL", "http://127.0.0.1:9/api/v4")
    assert main(["gitlab-schedules", "-f", str(env)]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: GitLab API: list pipeline schedules: ConnectionError: cannot reach 127.0.0.1:9\n")


def test_invalid_file_is_refused_before_any_request(env: Path, gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]) -> None:
    env.write_text(FILE.replace('"0 2 * * 1"', '"0 25 * * 1"'))
    assert main(["gitlab-schedules", "-f", str(env)]) == 1
    assert "hour 25 is outside 0-23" in capsys.readouterr().err
    assert gitlab.requests == []
