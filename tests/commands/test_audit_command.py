"""`jmo-schedule audit` end to end, with an injected clock (--now), against local servers that
answer like GitHub's workflows / workflow runs / jobs / check-run annotations API, GitLab's
pipeline schedules / pipelines / jobs / job artifacts API and Slack's incoming webhooks; a
kubectl JSON fixture and a fake kubectl; a local run history with a missed night."""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.github import FakeGitHub
from fakes.slack import FakeSlack
from fakes.crontab import install_fake
from fakes.gitlab import FakeGitLab

from jmo_schedule.cli import main
from jmo_schedule.local import crontab as ct

GH_TOKEN = "ghs_SECRET-github-token-do-not-print"
GL_TOKEN = "glpat-SECRET-gitlab-token-do-not-print"
REPO = "acme/app"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "audit"

SCHEDULE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: {name}
spec:
  schedule: "{cron}"
  timezone: {tz}
  backend: {{type: {backend}{config}}}
  jobTemplate:
    targets: {{repo: .}}
    notifications:
      channels:
        - type: slack
          url: ${{{hook}}}
          events: [{events}]
"""


def schedule(name: str, backend: str, cron: str = "0 2 * * *", tz: str = "UTC", config: str = "",
             hook: str = "SLACK_WEBHOOK_URL", events: str = "success, failure, missed") -> str:
    return SCHEDULE.format(name=name, backend=backend, cron=cron, tz=tz, config=config, hook=hook, events=events)


def write(tmp_path: Path, *docs: str) -> str:
    path = tmp_path / "schedules.yaml"
    path.write_text("---\n".join(docs))
    return str(path)


def audit_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["audit", *args, "-o", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.base + "/services/T000/B000/XXXX")
    yield fake
    fake.stop()


# ------------------------------------------------------------------------------------
# GitHub Actions


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(REPO, GH_TOKEN, page_cap=2).start()
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    for var in ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "CI_JOB_URL"):
        monkeypatch.delenv(var, raising=False)
    yield fake
    fake.stop()


def nights(fake: FakeGitHub, workflow: str, days: list[int], first_id: int = 201) -> None:
    """One scheduled run per night of November 2026, created 4 minutes after 02:00."""
    for i, day in enumerate(days):
        fake.add(workflow, first_id + i, "success", created_at=f"2026-11-{day:02d}T02:04:00Z")


def test_github_gap_skip_manual_run_and_pagination(github: FakeGitHub, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("nightly", "github-actions"))
    github.add_workflow("jmo-nightly.yml", created_at="2026-10-01T09:00:00Z")
    nights(github, "jmo-nightly.yml", [1, 2, 3, 5, 6, 7])  # the night of the 4th never ran
    github.add("jmo-nightly.yml", 300, "success", event="workflow_dispatch", created_at="2026-11-04T09:00:00Z")
    github.skip(204, "schedule nightly is suspended (spec.suspend: true)")  # the 5th: the guard said skip
    code, data, err = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z")
    assert code == 1 and err == ""
    [nightly] = data
    assert (nightly["name"], nightly["backend"], nightly["state"]) == ("nightly", "github-actions", "Missed")
    assert nightly["missed"] == ["2026-11-04T02:00:00Z"]
    assert nightly["skipped"] == [{"at": "2026-11-05T02:00:00Z", "class": "skipped", "run": "204", "delay_seconds": 240,
                                   "outcome": "skipped", "reason": "schedule nightly is suspended (spec.suspend: true)"}]
    assert [(f["at"][:10], f["class"]) for f in nightly["fire_times"]] == [
        ("2026-11-01", "ran"), ("2026-11-02", "ran"), ("2026-11-03", "ran"), ("2026-11-04", "missed"),
        ("2026-11-05", "skipped"), ("2026-11-06", "ran"), ("2026-11-07", "ran")]
    assert [(r["id"], r["trigger"]) for r in nightly["runs"]][3:5] == [("300", "manual"), ("204", "schedule")]
    assert nightly["problems"] == [{"kind": "missed", "message": "1 fire time without a run: 2026-11-04T02:00:00Z",
                                    "times": ["2026-11-04T02:00:00Z"]}]
    # Every page was read (2 runs a page), each listing filtered by event and creation time.
    lists = [r for r in github.requests if r["path"].endswith("/runs")]
    assert [r["query"].get("event") for r in lists] == ["schedule"] * 3 + ["workflow_dispatch"]
    assert {r["query"]["created"] for r in lists} == {">=2026-11-01T00:00:00+00:00"}
    assert [r["query"].get("page") for r in lists] == [None, "2", "3", None]
    # Guard skips are read from the newest successful scheduled runs only: one jobs call each.
    assert len([r for r in github.requests if r["path"].endswith("/jobs")]) == 6
    assert all(GH_TOKEN not in line for line in err.splitlines())


def test_github_text_table(github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("nightly", "github-actions"))
    github.add_workflow("jmo-nightly.yml", created_at="2026-11-05T09:00:00Z")
    nights(github, "jmo-nightly.yml", [6, 7])
    assert main(["audit", "-f", path, "--now", "2026-11-08T00:00:00Z"]) == 0
    assert capsys.readouterr().out == (
        "NAME     BACKEND         STATE    RAN  SKIPPED  MISSED  PENDING  LAST FIRE TIME\n"
        "nightly  github-actions  Healthy  2    0        0       0        2026-11-07T02:00:00Z success +4m00s\n")


def test_github_disabled_for_inactivity_fixed_and_notified(github: FakeGitHub, slack: FakeSlack,
                                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("nightly", "github-actions"), schedule("quiet", "github-actions"))
    github.add_workflow("jmo-nightly.yml")
    nights(github, "jmo-nightly.yml", [1, 2, 3, 4, 5, 6, 7])
    github.add_workflow("jmo-quiet.yml", state="disabled_inactivity")
    code, data, err = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z")
    assert [(a["name"], a["state"]) for a in data] == [("nightly", "Healthy"), ("quiet", "Disabled")]
    assert data[1]["problems"][0] == {
        "kind": "disabled", "message": "workflow jmo-quiet.yml is disabled_inactivity: GitHub disabled it after 60 days "
        "without activity in the repository; enable it in the Actions tab or run jmo-schedule audit --fix"}
    assert github.enables() == [] and slack.requests == []

    code, data, err = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z", "--fix", "--notify")
    assert code == 1
    assert github.enables() == ["jmo-quiet.yml"] and github.workflow_state["jmo-quiet.yml"] == "active"
    assert data[1]["fixed"] == ["enabled workflow jmo-quiet.yml (was disabled_inactivity)"]
    assert data[1]["problems"][0]["message"] == (
        "workflow jmo-quiet.yml was disabled_inactivity (60 days without activity); re-enabled by --fix")
    # One message, listing only what is wrong.
    assert err == "notify: sent to channel 1 (${SLACK_WEBHOOK_URL}) (quiet)\n"
    [post] = slack.requests
    payload = post.json()
    assert payload["blocks"][0]["text"]["text"] == "jmo-schedule audit: 1 schedule needs attention"
    text = payload["blocks"][1]["text"]["text"]
    assert text.startswith("*quiet* (github-actions): *Disabled*\n• workflow jmo-quiet.yml was disabled_inactivity")
    assert "nightly" not in json.dumps(payload)
    assert text.endswith("• fixed: enabled workflow jmo-quiet.yml (was disabled_inactivity)")


@pytest.mark.parametrize(("events", "told"), [
    ("success, failure", False),  # the default: audit findings other than failing runs are `missed`
    ("missed", True),
    ("new-findings, skipped", False),
])
def test_audit_messages_go_to_the_channels_whose_events_include_missed(
        github: FakeGitHub, slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        events: str, told: bool) -> None:
    path = write(tmp_path, schedule("quiet", "github-actions", events=events))
    github.add_workflow("jmo-quiet.yml", state="disabled_manually")
    code, data, err = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z", "--notify")
    assert data[0]["state"] == "Disabled"
    if told:
        assert err == "notify: sent to channel 1 (${SLACK_WEBHOOK_URL}) (quiet)\n"
        assert len(slack.requests) == 1
    else:
        assert err == (f"notify: channel 1 (${{SLACK_WEBHOOK_URL}}): not told that quiet is Disabled: its events "
                       f"({', '.join(sorted(e.strip() for e in events.split(',')))}) do not include missed\n")
        assert slack.requests == []


def test_github_refusals_are_one_line_and_the_rest_is_still_audited(github: FakeGitHub, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("nightly", "github-actions"), schedule("quiet", "github-actions"))
    github.add_workflow("jmo-nightly.yml")
    github.add_workflow("jmo-quiet.yml", state="disabled_inactivity")
    nights(github, "jmo-nightly.yml", [7])
    github.skip(201, "nope")
    github.can_read_checks = False
    github.can_write = False
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z", "--since", "1d", "--fix")
    assert [(a["name"], a["state"]) for a in data] == [("nightly", "Healthy"), ("quiet", "Disabled")]
    assert data[0]["skipped"][0]["reason"] == "reason not readable: the token in $GITHUB_TOKEN needs checks: read"
    assert data[1]["problems"][0]["message"] == (
        "workflow jmo-quiet.yml is disabled_inactivity; --fix could not enable it: GitHub API: enable jmo-quiet.yml: "
        "HTTP 403 (Resource not accessible by integration); the token in $GITHUB_TOKEN needs actions: write to "
        "enable it")
    github.can_read = False
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z")
    assert code == 1
    assert data[0]["state"] == "Unknown"
    assert data[0]["problems"] == [{"kind": "unknown", "message": "GitHub API: read workflow jmo-nightly.yml: HTTP 403 "
                                    "(Resource not accessible by integration); the token in $GITHUB_TOKEN needs "
                                    "actions: read on acme/app"}]


def test_github_without_a_token(github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    path = write(tmp_path, schedule("nightly", "github-actions"))
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z")
    assert code == 1 and data[0]["state"] == "Unknown"
    assert data[0]["problems"][0]["message"] == (
        "no GitHub token in $GITHUB_TOKEN (or $GH_TOKEN): set it to a token with actions: read on the repository")
    assert github.requests == []


def test_github_workflow_not_on_the_default_branch(github: FakeGitHub, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("nightly", "github-actions"))
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-08T00:00:00Z")
    assert data[0]["state"] == "Disabled"
    assert data[0]["problems"][0]["message"] == ("GitHub has no workflow jmo-nightly.yml in acme/app: merge the sync "
                                                 "pull request that adds it to the default branch")


# ------------------------------------------------------------------------------------
# GitLab CI


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    fake = FakeGitLab(token=GL_TOKEN).start()
    monkeypatch.setenv("CI_API_V4_URL", fake.url)
    monkeypatch.setenv("CI_PROJECT_ID", fake.project)
    monkeypatch.setenv("JMO_GITLAB_TOKEN", GL_TOKEN)
    yield fake
    fake.stop()


def test_gitlab_inactive_schedule_gap_and_guard_skip(gitlab: FakeGitLab, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("gl-nightly", "gitlab-ci", cron="0 1 * * *"))
    gitlab.add("someone else's schedule")
    sid = gitlab.add("jmo-schedule: gl-nightly (nightly scan)", cron="0 1 * * *", active=False)
    for day in (1, 2, 4, 5, 6):  # the 3rd: no pipeline at all
        skip = day == 5
        guard = f"JMO_GUARD_RUN={'false' if skip else 'true'}\nJMO_GUARD_REASON=" + (
            "concurrencyPolicy Forbid: pipeline 504 is still running\n" if skip else "scheduled run\n")
        gitlab.add_pipeline(sid, 500 + day, "success", created_at=f"2026-11-{day:02d}T01:00:04.085Z",
                            scan_job="jmo-scan-gl-nightly", artifacts={"jmo-gl-nightly/guard.env": guard})
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T00:30:00Z")
    [a] = data
    assert a["state"] == "Disabled"
    assert a["missed"] == ["2026-11-03T01:00:00Z"]
    assert [(f["at"][:10], f["class"]) for f in a["fire_times"]] == [
        ("2026-11-01", "ran"), ("2026-11-02", "ran"), ("2026-11-03", "missed"), ("2026-11-04", "ran"),
        ("2026-11-05", "skipped"), ("2026-11-06", "ran")]
    assert a["skipped"][0]["reason"] == "concurrencyPolicy Forbid: pipeline 504 is still running"
    assert [p["kind"] for p in a["problems"]] == ["disabled", "missed"]
    assert a["problems"][0]["message"] == ("pipeline schedule 2 is inactive (active: false): activate it in Build > "
                                           "Pipeline schedules or run jmo-schedule audit --fix")
    paths = [r[1] for r in gitlab.requests]
    assert "/api/v4/projects/42/jobs/5051/artifacts/jmo-gl-nightly/guard.env" in paths
    assert gitlab.writes() == []

    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T00:30:00Z", "--fix")
    assert gitlab.writes() == [("PUT", f"/api/v4/projects/42/pipeline_schedules/{sid}", {"active": "true"})]
    assert gitlab.schedules[sid]["active"] is True
    assert data[0]["fixed"] == ["activated pipeline schedule 2 'jmo-schedule: gl-nightly'"]


def test_gitlab_owner_left_and_fix_refused(gitlab: FakeGitLab, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("gl-nightly", "gitlab-ci", cron="0 1 * * *"))
    sid = gitlab.add("jmo-schedule: gl-nightly", cron="0 1 * * *", active=False, owner="alice")
    gitlab.schedules[sid]["owner"]["state"] = "blocked"
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-02T12:00:00Z", "--fix")
    assert code == 1 and data[0]["state"] == "Disabled"
    assert data[0]["problems"][0]["message"] == (
        "pipeline schedule 1's owner @alice is blocked: its pipelines no longer start; a Maintainer must take "
        "ownership (jmo-schedule gitlab-schedules does, with $JMO_GITLAB_TOKEN); pipeline schedule 1 is inactive; "
        "--fix could not activate it (GitLab API: edit pipeline schedule 1: HTTP 403 (403 Forbidden); the token in "
        "$JMO_GITLAB_TOKEN needs read_api and at least the Reporter role on the project); only its owner @alice may "
        "edit it: take ownership first")
    assert data[0]["fixed"] == []


def test_gitlab_read_refused(gitlab: FakeGitLab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("gl-nightly", "gitlab-ci", cron="0 1 * * *"))
    gitlab.scopes = {"write_repository"}
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-02T12:00:00Z")
    assert code == 1 and data[0]["state"] == "Unknown"
    assert data[0]["problems"][0]["message"] == (
        "GitLab API: list pipeline schedules: HTTP 403 (insufficient_scope); the token in $JMO_GITLAB_TOKEN needs "
        "read_api and at least the Reporter role on the project")


# ------------------------------------------------------------------------------------
# Kubernetes


def test_kubernetes_from_a_kubectl_json_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("cluster-scan", "kubernetes", cron="0 */6 * * *", config=", config: {namespace: security}"),
                 schedule("paused", "kubernetes", config=", config: {namespace: security}"))
    fixture = str(FIXTURES / "cronjobs.json")
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T13:00:00Z", "--from-json", fixture)
    cluster, paused = data
    # lastScheduleTime 06:00, nothing since: 12:00 is missed; earlier fire times are not judged.
    assert cluster["state"] == "Missed"
    assert cluster["missed"] == ["2026-11-07T12:00:00Z"]
    assert [f["class"] for f in cluster["fire_times"]][-3:] == ["unseen", "ran", "missed"]
    assert cluster["runs"] == [{"id": "jmo-cluster-scan@2026-11-07T06:00:00Z", "created": "2026-11-07T06:00:00Z",
                                "outcome": "success", "trigger": "schedule"}]
    assert paused["state"] == "Disabled"
    assert paused["problems"][0]["message"] == (
        "CronJob jmo-paused is suspended in the cluster but not in the schedules file: kubectl patch cronjob "
        "jmo-paused -p '{\"spec\":{\"suspend\":false}}'")


def test_kubernetes_through_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("cluster-scan", "kubernetes", cron="0 */6 * * *",
                                    config=", config: {namespace: security}"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/argv"\ncat "{FIXTURES / "cronjobs.json"}"\n')
    kubectl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T11:00:00Z")
    assert code == 0 and data[0]["state"] == "Healthy"
    assert (tmp_path / "argv").read_text() == "get cronjobs -o json -n security\n"
    kubectl.write_text('#!/bin/sh\necho "E1202 noise" >&2\necho "error: You must be logged in to the server" >&2\nexit 1\n')
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T11:00:00Z")
    assert data[0]["problems"][0]["message"] == (
        "kubectl get cronjobs -o json -n security failed (exit 1): error: You must be logged in to the server")


def test_kubernetes_bad_fixture_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("cluster-scan", "kubernetes"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T11:00:00Z", "--from-json", str(bad))
    assert data[0]["problems"][0]["message"] == f"{bad}: not JSON (Expecting property name enclosed in double quotes at line 1)"


# ------------------------------------------------------------------------------------
# local cron


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake crontab on PATH, a /proc with a cron daemon, a private systemd folder."""
    monkeypatch.setenv("PATH", f"{install_fake(tmp_path / 'crontab')}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("JMO_FAKE_CRONTAB_DIR", str(tmp_path / "crontab" / "tables"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    (proc / "1" / "comm").write_text("init\n")
    (proc / "2").mkdir()
    (proc / "2" / "comm").write_text("cron\n")
    monkeypatch.setattr(ct, "PROC_ROOT", str(proc))
    return proc


def test_local_history_with_a_missed_night(machine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("laptop", "local-cron", cron="30 2 * * *", tz="Europe/Berlin"))
    runs = []
    for day, result in ((3, "Succeeded"), (4, "Skipped"), (6, "Failed")):  # nothing on the night of the 5th
        runs.append({"id": f"202611{day:02d}T013000Z-abc123", "startTime": f"2026-11-{day:02d}T01:30:01Z",
                     "scheduledTime": f"2026-11-{day:02d}T01:30:00Z", "result": result,
                     "message": "concurrencyPolicy Forbid: run x (pid 9) still active; skipped" if result == "Skipped"
                     else "done"})
    history = Path(os.environ["JMO_HOME"]) / "runs"
    history.mkdir(parents=True, exist_ok=True)
    (history / "laptop.json").write_text(json.dumps({"runs": runs, "installedAt": "2026-11-02T12:00:00Z"}))
    subprocess.run(["crontab", "-"], input=f"{ct.BEGIN}\n# schedule laptop: 30 2 * * * Europe/Berlin\n"
                   f"30 1 * * * jmo-schedule run laptop\n{ct.END}\n", text=True, check=True)
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T00:00:00Z")
    [a] = data
    assert [(f["at"], f["class"]) for f in a["fire_times"]] == [
        ("2026-11-03T01:30:00Z", "ran"), ("2026-11-04T01:30:00Z", "skipped"), ("2026-11-05T01:30:00Z", "missed"),
        ("2026-11-06T01:30:00Z", "ran")]
    assert a["state"] == "Missed" and [p["kind"] for p in a["problems"]] == ["missed", "failure"]

    (machine / "2" / "comm").write_text("bash\n")  # the cron daemon is gone
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T00:00:00Z")
    assert data[0]["state"] == "Disabled"
    assert data[0]["problems"][0]["message"] == (
        "no cron daemon is running on this machine (cron, crond, cronie, fcron): start it (sudo systemctl start "
        "cron) or install with --systemd")
    subprocess.run(["crontab", "-r"], check=True)
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T00:00:00Z")
    assert data[0]["problems"][0]["message"] == "not installed in the crontab or systemd timers: run jmo-schedule install"
    (history / "laptop.json").write_text("{broken")
    code, data, _ = audit_json(capsys, "-f", path, "--now", "2026-11-07T00:00:00Z")
    assert data[0]["state"] == "Unknown"
    assert data[0]["problems"][0]["message"] == (
        f"{history / 'laptop.json'}:1:2: the run history is not valid JSON (Expecting property name enclosed in "
        "double quotes); fix it or move it aside")


# ------------------------------------------------------------------------------------
# the command line


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday"], "argument --since: 'yesterday' is neither a duration (7d, 12h) nor an ISO 8601 time"),
    (["--grace", "1x"], "argument --grace: '1x' is not a duration such as 90m, 12h, 7d or 2w"),
])
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["audit", *args])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"jmo-schedule audit: error: {message} (see 'jmo-schedule audit --help')")


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, schedule("nightly", "github-actions"))
    assert main(["audit", "-f", path, "--now", "2026-11-08T00:00:00Z", "--since", "2026-11-09T00:00:00Z"]) == 2
    assert capsys.readouterr().err == ("jmo-schedule audit: error: --since 2026-11-09T00:00:00Z is not before --now "
                                       "2026-11-08T00:00:00Z (see 'jmo-schedule audit --help')\n")
    assert main(["audit", "nope", "-f", path]) == 2
    assert capsys.readouterr().err == (
        f"jmo-schedule audit: error: no schedule 'nope' in {path} (see 'jmo-schedule audit --help')\n")


def test_a_sync_job_reports_but_does_not_fail(github: FakeGitHub, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # What action.yml runs after the sync: only its own backend, a ::warning per schedule, exit 0.
    path = write(tmp_path, schedule("nightly", "github-actions"), schedule("laptop", "local-cron"))
    github.add_workflow("jmo-nightly.yml", state="disabled_manually")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["audit", "-f", path, "--now", "2026-11-08T00:00:00Z", "--backend", "github-actions",
                 "--exit-zero"]) == 0
    out = capsys.readouterr().out
    assert "laptop" not in out
    assert out.splitlines()[-1] == (
        "::warning title=jmo-schedule audit::nightly: Disabled: workflow jmo-nightly.yml is disabled_manually: someone "
        "disabled it in the Actions tab; enable it there (or `gh workflow enable`) if that was not meant, or set "
        "spec.suspend: true")
    assert github.enables() == []
