"""notify.py and `jmo-schedule notify`: channels, payloads, exit codes and secrecy, against a
local server that answers like a Slack incoming webhook."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.slack import FakeSlack, NO_SERVICE, SERVER_ERROR, SLACK_OK, rate_limited
from jmo_fixtures import MIXED, make_results
from jmo_schedule import cli
from jmo_schedule.platforms import slack
from jmo_schedule.pipeline import slack_message
from jmo_schedule.errors import JmoError
from jmo_schedule.core.model import JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.pipeline.notify import Channel, NotifyError, add_mask_commands, notify_schedule, resolve_channels

HOOK_PATH_A = "/services/T000A/B000A/aaaaaaaaaaaaaaaaaaaaaaaa"
HOOK_PATH_B = "/services/T000B/B000B/bbbbbbbbbbbbbbbbbbbbbbbb"

SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly-scan
spec:
  schedule: "0 2 * * *"
  timezone: America/New_York
  backend:
    type: github-actions
  jobTemplate:
    profile: balanced
    targets:
      repo: .
    results:
      dir: results
    options:
      fail_on: HIGH
    notifications:
      enabled: true
      channels:
        - type: slack
          url: ${SLACK_HOOK_A}
        - type: slack
          url: ${SLACK_HOOK_B}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: quiet-scan
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    targets:
      repo: .
    notifications:
      enabled: false
      channels:
        - type: slack
          url: ${SLACK_HOOK_A}
"""


@pytest.fixture
def server():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def hooks(server, monkeypatch) -> tuple[str, str]:
    a, b = server.base + HOOK_PATH_A, server.base + HOOK_PATH_B
    monkeypatch.setenv("SLACK_HOOK_A", a)
    monkeypatch.setenv("SLACK_HOOK_B", b)
    return a, b


@pytest.fixture
def no_sleep(monkeypatch) -> list[float]:
    sleeps: list[float] = []
    monkeypatch.setattr(slack, "_sleep", sleeps.append)
    return sleeps


def schedule_with(channels: list[dict], enabled: bool = True, fail_on: str | None = "HIGH") -> ScanSchedule:
    return ScanSchedule(
        ScheduleMetadata(name="s1"),
        ScheduleSpec(
            schedule="0 2 * * *",
            jobTemplate=JobTemplateSpec(
                targets={"repo": "."},
                options={"fail_on": fail_on} if fail_on else {},
                notifications={"enabled": enabled, "channels": channels},
            ),
        ),
    )


def assert_secret_free(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text
        assert urlpath(s) not in text


def urlpath(url: str) -> str:
    return url.split("/", 3)[3] if url.count("/") >= 3 else url


# --- channels ------------------------------------------------------------------------


def test_channels_from_schedule_resolve_env_refs():
    s = schedule_with([{"type": "slack", "url": "${A}"}, {"type": "slack", "url": "${B}"}])
    chans, note = resolve_channels(s, env={"A": "https://hooks.slack.com/services/1", "B": "https://hooks.slack.com/services/2"})
    assert note is None
    assert chans == [
        Channel("channel 1 (${A})", "https://hooks.slack.com/services/1"),
        Channel("channel 2 (${B})", "https://hooks.slack.com/services/2"),
    ]


def test_missing_variable_names_the_variable_not_a_value():
    s = schedule_with([{"type": "slack", "url": "${SLACK_SECURITY}"}])
    (chan,), _ = resolve_channels(s, env={})
    assert chan == Channel("channel 1 (${SLACK_SECURITY})", None, "environment variable SLACK_SECURITY is not set or empty")


def test_variable_holding_a_non_webhook_is_a_problem_without_echo():
    s = schedule_with([{"type": "slack", "url": "${A}"}])
    (chan,), _ = resolve_channels(s, env={"A": "http://hooks.slack.com/services/SECRET"})
    assert chan.url is None and "SECRET" not in chan.problem
    assert chan.problem == "the webhook URL must use https:// (plain http would send the secret in clear text)"


def test_webhook_flag_wins_and_literal_urls_are_masked():
    s = schedule_with([{"type": "slack", "url": "${A}"}])
    chans, _ = resolve_channels(s, webhook="https://hooks.slack.com/services/T/B/SECRET", env={"A": "https://x"})
    # Asked for by name: told of every event.
    assert chans == [Channel("--webhook (https://hooks.slack.com/***)", "https://hooks.slack.com/services/T/B/SECRET",
                             events=frozenset({"success", "failure", "new-findings", "skipped", "missed"}))]
    chans, _ = resolve_channels(None, webhook="${MY_HOOK}", env={"MY_HOOK": "https://hooks.slack.com/x"})
    assert chans[0].label == "--webhook (${MY_HOOK})"


def test_partial_reference_is_refused():
    chans, _ = resolve_channels(None, webhook="https://hooks.slack.com/${PART}", env={})
    assert chans == [Channel("--webhook", None, "write a whole ${VAR} reference such as ${SLACK_WEBHOOK_URL}",
                             events=frozenset({"success", "failure", "new-findings", "skipped", "missed"}))]


def test_default_variable_when_no_channels():
    chans, note = resolve_channels(None, env={"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/d"})
    assert (chans, note) == ([Channel("default channel (${SLACK_WEBHOOK_URL})", "https://hooks.slack.com/services/d")], None)
    chans, note = resolve_channels(schedule_with([]), env={})
    assert chans == []
    assert note == "schedule s1 has no Slack channel, no --webhook and SLACK_WEBHOOK_URL is not set: no Slack channel to notify"


def test_disabled_notifications_send_nothing():
    chans, note = resolve_channels(schedule_with([{"type": "slack", "url": "${A}"}], enabled=False), env={"A": "https://x"})
    assert chans == [] and note == "notifications are disabled for schedule s1 (notifications.enabled: false)"


def test_same_webhook_twice_is_posted_once():
    s = schedule_with([{"type": "slack", "url": "${A}"}, {"type": "slack", "url": "${B}"}])
    chans, _ = resolve_channels(s, env={"A": "https://hooks.slack.com/same", "B": "https://hooks.slack.com/same"})
    assert [c.label for c in chans] == ["channel 1 (${A})"]


# --- the API -------------------------------------------------------------------------


def test_notify_schedule_posts_the_payload_to_every_channel(server, tmp_path):
    results = tmp_path / "results"
    make_results(results, MIXED)
    env = {
        "A": server.base + HOOK_PATH_A, "B": server.base + HOOK_PATH_B,
        "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/app", "GITHUB_RUN_ID": "7", "GITHUB_RUN_NUMBER": "3",
        "GITHUB_SHA": "1234567890abcdef", "GITHUB_ACTOR": "octocat",
    }
    s = schedule_with([{"type": "slack", "url": "${A}"}, {"type": "slack", "url": "${B}"}])
    outcome = notify_schedule(s, "success", results_dir=results, env=env)
    assert outcome.ok and outcome.exit_code(strict=True) == 0
    assert [str(r) for r in outcome.results] == ["sent to channel 1 (${A})", "sent to channel 2 (${B})"]
    assert [r.path for r in server.requests] == [HOOK_PATH_A, HOOK_PATH_B]
    for req in server.requests:
        assert req.json() == outcome.payload
    blocks = outcome.payload["blocks"]
    assert blocks[1]["fields"][1]["text"] == "*Run:*\n<https://github.com/octo/app/actions/runs/7|#3>"
    assert blocks[2]["text"]["text"] == (
        "*Findings:* 6 total · :warning: fail_on HIGH crossed (3 at HIGH or above)\n"
        "🔴 Critical 1 · 🟠 High 2 · 🟡 Medium 1 · 🔵 Low 1 · ⚪ Info 1"
    )


def test_one_channel_failing_is_reported_not_raised(server, no_sleep):
    server.routes[("POST", HOOK_PATH_B)] = NO_SERVICE
    env = {"A": server.base + HOOK_PATH_A, "B": server.base + HOOK_PATH_B}
    s = schedule_with([{"type": "slack", "url": "${A}"}, {"type": "slack", "url": "${B}"}])
    outcome = notify_schedule(s, "failure", message="boom", env=env)
    assert not outcome.ok and outcome.exit_code() == 0 and outcome.exit_code(strict=True) == 1
    assert [str(r) for r in outcome.failures] == [
        "channel 2 (${B}): HTTP 404 no_service: the webhook is disabled, revoked or wrong; create a new one and update the secret"
    ]
    with pytest.raises(NotifyError) as exc:
        notify_schedule(s, "failure", message="boom", env=env, strict=True)
    assert str(exc.value) == (
        "channel 2 (${B}): HTTP 404 no_service: the webhook is disabled, revoked or wrong; create a new one and update the secret"
    )


def test_custom_sender_errors_are_scrubbed():
    from jmo_schedule.platforms.slack import SendResult

    url = "https://hooks.slack.com/services/T/B/SECRET"
    outcome = notify_schedule(None, "success", env={}, webhook=url,
                              send=lambda u, p: SendResult(False, 1, None, f"failed posting to {u}"))
    assert outcome.failures[0].error == "failed posting to ***"


def test_unknown_status():
    with pytest.raises(JmoError, match=r"^unknown status 'passed': expected success, failure or skipped$"):
        notify_schedule(None, "passed", env={})


def test_missing_findings_is_a_note_in_the_message(tmp_path):
    outcome = notify_schedule(None, "success", results_dir=tmp_path / "nope", env={}, dry_run=True)
    assert outcome.payload["blocks"][2]["text"]["text"] == (
        f"*Findings:* no findings file in {tmp_path / 'nope'} (summaries/findings.json or findings.sarif)"
    )


def test_unreadable_findings_is_a_note_too(tmp_path):
    (tmp_path / "summaries").mkdir()
    (tmp_path / "summaries" / "findings.json").write_text("{")
    outcome = notify_schedule(None, "success", results_dir=tmp_path, env={}, dry_run=True)
    assert outcome.payload["blocks"][2]["text"]["text"].startswith("*Findings:* could not read: ")


# --- the CLI, in process ----------------------------------------------------------------


def run_cli(capfd, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["notify", *argv])
    out, err = capfd.readouterr()
    return code, out, err


def test_cli_success_to_all_channels(workdir, hooks, server, capfd):
    make_results(workdir / "results", MIXED)
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "nightly-scan")
    assert code == 0
    assert out == "notify: sent to channel 1 (${SLACK_HOOK_A})\nnotify: sent to channel 2 (${SLACK_HOOK_B})\n"
    assert err == ""
    assert len(server.requests) == 2
    assert_secret_free(out + err, *hooks)


def test_cli_failed_channel_warns_and_exits_0_unless_strict(workdir, hooks, server, capfd, no_sleep):
    server.routes[("POST", HOOK_PATH_A)] = NO_SERVICE
    code, out, err = run_cli(capfd, "--status", "failure", "--schedule", "nightly-scan", "--message", "scan failed")
    assert code == 0
    assert out == "notify: sent to channel 2 (${SLACK_HOOK_B})\n"
    assert err == (
        "jmo-schedule: warning: notify: channel 1 (${SLACK_HOOK_A}): HTTP 404 no_service: the webhook is disabled, "
        "revoked or wrong; create a new one and update the secret\n"
        "jmo-schedule: warning: notify: 1 of 2 channels did not get the message; not failing the job (use --strict to)\n"
    )
    code, out, err = run_cli(capfd, "--status", "failure", "--schedule", "nightly-scan", "--strict")
    assert code == 1
    assert err.endswith("1 of 2 channels did not get the message; exit 1 (--strict)\n")
    assert_secret_free(out + err, *hooks)


def test_cli_missing_variable(workdir, hooks, server, capfd, monkeypatch):
    monkeypatch.delenv("SLACK_HOOK_B")
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "nightly-scan", "--results", "none")
    assert code == 0
    assert err.startswith(
        "jmo-schedule: warning: notify: channel 2 (${SLACK_HOOK_B}): environment variable SLACK_HOOK_B is not set or empty\n"
    )
    assert run_cli(capfd, "--status", "success", "--schedule", "nightly-scan", "--strict")[0] == 1


def test_cli_retries_429_and_5xx_with_backoff(workdir, hooks, server, capfd, no_sleep):
    server.script = [rate_limited("2"), SLACK_OK, SERVER_ERROR, SERVER_ERROR, SLACK_OK]
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "nightly-scan")
    assert code == 0
    assert out == (
        "notify: sent to channel 1 (${SLACK_HOOK_A}) after 2 attempts\n"
        "notify: sent to channel 2 (${SLACK_HOOK_B}) after 3 attempts\n"
    )
    assert no_sleep == [2.0, 1.0, 2.0]
    assert len(server.requests) == 5
    assert len({r.body for r in server.requests}) == 1  # the same message every time


def test_cli_gives_up_after_bounded_retries(workdir, hooks, server, capfd, no_sleep):
    server.default = SERVER_ERROR
    code, out, err = run_cli(capfd, "--status", "success", "--webhook", "${SLACK_HOOK_A}", "--strict")
    assert code == 1
    assert len(server.requests) == 4 and no_sleep == [1.0, 2.0, 4.0]
    assert "--webhook (${SLACK_HOOK_A}): HTTP 500 rollup_error: Slack failed for its own reasons; try again later (gave up after 4 attempts)" in err


def test_cli_on_github_masks_first(workdir, hooks, server, capfd, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = run_cli(capfd, "--status", "success", "--webhook", hooks[0])
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [f"::add-mask::{hooks[0]}", f"::add-mask::{HOOK_PATH_A}"]
    assert lines[2] == f"notify: sent to --webhook ({server.base}/***)"
    assert_secret_free("\n".join(lines[2:]) + err, hooks[0])


def test_cli_dry_run_prints_payload_and_sends_nothing(workdir, hooks, server, capfd):
    make_results(workdir / "results", MIXED)
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "nightly-scan", "--dry-run")
    assert code == 0 and server.requests == []
    payload = json.loads(out)
    assert payload["text"].startswith("✅ Security scan succeeded: nightly-scan")
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "section", "section", "context"]
    assert err == "dry run: would send to channel 1 (${SLACK_HOOK_A}), channel 2 (${SLACK_HOOK_B})\n"
    assert_secret_free(out + err, *hooks)


def test_cli_disabled_notifications(workdir, hooks, server, capfd):
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "quiet-scan")
    assert (code, out, err) == (0, "notify: notifications are disabled for schedule quiet-scan (notifications.enabled: false); nothing sent\n", "")
    assert server.requests == []


def test_cli_no_channel_at_all(workdir, capfd):
    code, out, err = run_cli(capfd, "--status", "success")
    assert code == 0
    assert err == "jmo-schedule: warning: notify: no --webhook and SLACK_WEBHOOK_URL is not set: no Slack channel to notify\n"
    assert run_cli(capfd, "--status", "success", "--strict")[0] == 1


def test_cli_unknown_schedule_and_file(workdir, capfd):
    assert run_cli(capfd, "--status", "success", "--schedule", "nope") == (
        1, "", "jmo-schedule: error: schedule 'nope' not found in ./schedules.yaml or the local store\n")
    assert run_cli(capfd, "--status", "success", "--schedule", "x", "-f", "missing.yaml") == (
        1, "", "jmo-schedule: error: missing.yaml: no such file\n")


def test_cli_bad_status_is_usage_error(capfd):
    with pytest.raises(SystemExit) as exc:
        cli.main(["notify", "--status", "passed"])
    assert exc.value.code == 2
    assert "argument --status: invalid choice: 'passed' (choose from 'success', 'failure', 'skipped', 'failed', 'canceled', 'timedout')" in capfd.readouterr().err


def test_cli_help_documents_every_flag(capfd):
    with pytest.raises(SystemExit):
        cli.main(["notify", "--help"])
    out = capfd.readouterr().out
    for flag in ("--status", "--schedule", "--file", "--results", "--webhook", "--message", "--strict", "--dry-run"):
        assert flag in out


# --- the real process ----------------------------------------------------------------


def test_process_never_prints_the_url(workdir, hooks, server):
    server.script = [SLACK_OK, NO_SERVICE]
    exe = Path(sys.executable).parent / "jmo-schedule"
    env = {**os.environ, "SLACK_HOOK_A": hooks[0], "SLACK_HOOK_B": hooks[1], "PYTHONWARNINGS": "always"}
    proc = subprocess.run(
        [str(exe), "notify", "--status", "success", "--schedule", "nightly-scan"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == "notify: sent to channel 1 (${SLACK_HOOK_A})\n"
    assert "channel 2 (${SLACK_HOOK_B}): HTTP 404 no_service" in proc.stderr
    assert_secret_free(proc.stdout + proc.stderr, *hooks)


def test_cli_dry_run_on_github_stays_plain_json(workdir, hooks, server, capfd, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = run_cli(capfd, "--status", "failure", "--webhook", "${SLACK_HOOK_A}", "--dry-run")
    assert code == 0 and "::add-mask::" not in out
    assert json.loads(out)["text"] == "❌ Security scan failed: scan"
    assert_secret_free(out + err, *hooks)


def test_channel_repr_hides_the_url():
    chan = Channel("channel 1 (${A})", "https://hooks.slack.com/services/T/B/SECRET")
    assert "SECRET" not in repr(chan)
    outcome = notify_schedule(None, "success", env={"A": chan.url}, webhook="${A}", dry_run=True)
    assert "SECRET" not in repr(outcome)


@pytest.mark.parametrize("outcome, noted", [("failure", True), ("success", False), ("skipped", False), ("", False)])
def test_cli_notes_a_failed_sarif_upload(workdir, hooks, server, capfd, outcome, noted):
    make_results(workdir / "results", MIXED)
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "nightly-scan", "--sarif-upload", outcome)
    assert code == 0
    texts = [json.dumps(r.json(), ensure_ascii=False) for r in server.requests]
    note = (":warning: SARIF was not uploaded to code scanning: the upload failed (private and internal "
            "repositories need GitHub Code Security); the findings are in the run's results artifact")
    assert len(texts) == 2 and all((note in t) is noted for t in texts)


# --- inside a GitLab job: after_script, the guard's record, once per run ----------------


@pytest.mark.parametrize(("job_status", "status", "error"), [
    ("success", None, None),
    ("failed", "failure", "the scan job failed; see the logs"),
    ("canceled", "failure", "the scan job was canceled"),
    ("timedout", "failure", "the scan job timed out"),
])
def test_cli_takes_gitlab_job_status(workdir, hooks, server, capfd, job_status, status, error):
    code, out, err = run_cli(capfd, "--status", job_status, "--schedule", "nightly-scan", "--once", "jmo/notified")
    assert code == 0 and err == ""
    text = json.dumps(server.requests[0].json())
    assert ("Security scan failed" if status == "failure" else "Security scan succeeded") in text
    if error:
        assert error in text
    assert (workdir / "jmo" / "notified").read_text().startswith(f"{status or 'success'}: sent to channel 1")


def test_cli_once_sends_nothing_the_second_time(workdir, hooks, server, capfd):
    args = ("--status", "failure", "--schedule", "nightly-scan", "--once", "notified")
    assert run_cli(capfd, *args)[0] == 0
    assert len(server.requests) == 2
    code, out, err = run_cli(capfd, *args)
    assert (code, out, err) == (0, "notify: notified exists: this run's message was already handled; nothing sent\n", "")
    assert len(server.requests) == 2


def test_cli_guard_skip_sends_nothing_without_a_skipped_channel(workdir, hooks, server, capfd):
    (workdir / "guard.env").write_text("JMO_GUARD_RUN=false\nJMO_GUARD_REASON=concurrencyPolicy Forbid: pipeline 9 of "
                                       "this schedule is running\n")
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "nightly-scan", "--guard", "guard.env",
                             "--once", "notified")
    assert (code, err) == (0, "")
    assert out == ("notify: the guard skipped this run (concurrencyPolicy Forbid: pipeline 9 of this schedule is "
                   "running); no channel's events include skipped: nothing sent\n")
    assert server.requests == []
    assert (workdir / "notified").read_text() == ("skipped by the guard: concurrencyPolicy Forbid: pipeline 9 of this "
                                                  "schedule is running\n")


@pytest.mark.parametrize("guard_text", [None, "JMO_GUARD_RUN=true\nJMO_GUARD_REASON=scheduled run\n", "garbage\n"])
def test_cli_guard_that_ran_or_never_decided_still_notifies(workdir, hooks, server, capfd, guard_text):
    if guard_text is not None:
        (workdir / "guard.env").write_text(guard_text)
    code, out, err = run_cli(capfd, "--status", "failed", "--schedule", "nightly-scan", "--guard", "guard.env")
    assert code == 0 and len(server.requests) == 2  # a failure before the guard decided is still reported


def test_cli_gitlab_schedule_from_the_pipeline_schedule(workdir, hooks, server, capfd, monkeypatch):
    monkeypatch.setenv("CI_PIPELINE_SOURCE", "schedule")
    monkeypatch.setenv("CI_PIPELINE_SCHEDULE_DESCRIPTION", "jmo-schedule: nightly-scan (Nightly)")
    code, out, err = run_cli(capfd, "--status", "success", "--gitlab-schedule", "-f", "schedules.yaml")
    assert code == 0 and len(server.requests) == 2
    assert "nightly-scan" in json.dumps(server.requests[0].json())


def test_cli_gitlab_schedule_outside_a_jmo_pipeline_schedule(workdir, hooks, server, capfd, monkeypatch):
    monkeypatch.setenv("CI_PIPELINE_SOURCE", "schedule")
    monkeypatch.setenv("CI_PIPELINE_SCHEDULE_DESCRIPTION", "Nightly build")
    monkeypatch.delenv("JMO_SCHEDULE", raising=False)
    code, out, err = run_cli(capfd, "--status", "success", "--gitlab-schedule")
    assert code == 1
    assert err == ("jmo-schedule: error: --gitlab-schedule: this pipeline was not started by a jmo-schedule pipeline "
                   "schedule (no $CI_PIPELINE_SCHEDULE_DESCRIPTION 'jmo-schedule: NAME' nor $JMO_SCHEDULE)\n")
    assert server.requests == []


# --- events, minSeverity and the baseline ---------------------------------------------

PAIRS = Path(__file__).parents[1] / "fixtures" / "sarif" / "pairs"

ROUTED = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: routed-scan
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    targets:
      repo: .
    results:
      dir: results
    notifications:
      channels:
        - type: slack
          url: ${HOOK_DEFAULT}
        - type: slack
          url: ${HOOK_HIGH}
          events: [new-findings]
          minSeverity: HIGH
        - type: slack
          url: ${HOOK_ANY_NEW}
          events: [new-findings]
        - type: slack
          url: ${HOOK_SKIPS}
          events: [skipped]
"""
ROUTES = ("DEFAULT", "HIGH", "ANY_NEW", "SKIPS")


@pytest.fixture
def routed(tmp_path, monkeypatch, server):
    (tmp_path / "schedules.yaml").write_text(ROUTED)
    monkeypatch.chdir(tmp_path)
    for name in ROUTES:
        monkeypatch.setenv(f"HOOK_{name}", f"{server.base}/services/T0/{name}/{name.lower()}-secret-token")
    return tmp_path


def results_from(folder: Path, fixture: str) -> None:
    (folder / "summaries").mkdir(parents=True, exist_ok=True)
    (folder / "summaries" / "findings.sarif").write_bytes((PAIRS / fixture).read_bytes())


def reached(server) -> list[str]:
    return [r.path.split("/")[3] for r in server.requests]


@pytest.mark.parametrize(("pair", "status", "channels", "counts"), [
    # trivy: one new HIGH (CVE-2024-3651) counts for HIGH and any-severity channels
    ("trivy", "success", ["DEFAULT", "HIGH", "ANY_NEW"], "1 new · 1 fixed · 2 open (1 with a new severity)"),
    # bandit: one new MEDIUM (B608): below the HIGH channel's minSeverity
    ("bandit", "success", ["DEFAULT", "ANY_NEW"], "1 new · 1 fixed · 2 open"),
    # gitleaks over git history: a secret added by another commit, MEDIUM
    ("gitleaks-git", "success", ["DEFAULT", "ANY_NEW"], "1 new · 0 fixed · 2 open"),
    # a failure reaches every channel, whatever its events
    ("semgrep", "failure", ["DEFAULT", "HIGH", "ANY_NEW", "SKIPS"], "2 new · 1 fixed · 2 open"),
])
def test_each_channel_gets_what_its_events_say(routed, server, capfd, pair, status, channels, counts):
    results_from(routed / "results", f"{pair}-after.sarif")
    results_from(routed / "previous", f"{pair}-before.sarif")
    code, out, err = run_cli(capfd, "--status", status, "--schedule", "routed-scan", "--baseline", "previous")
    assert (code, err) == (0, "")
    assert reached(server) == channels
    section = f"*Since the previous run:* {counts}"
    assert all(section in json.dumps(r.json(), ensure_ascii=False) for r in server.requests)
    assert_secret_free(out, *(os.environ[f"HOOK_{n}"] for n in ROUTES))


def test_no_new_finding_tells_only_the_success_channels(routed, server, capfd):
    results_from(routed / "results", "semgrep-after.sarif")
    results_from(routed / "previous", "semgrep-after.sarif")
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "routed-scan", "--baseline", "previous")
    assert reached(server) == ["DEFAULT"]
    assert out == (
        "notify: channel 2 (${HOOK_HIGH}): not sent: its events (new-findings) do not take a success without new "
        "findings at HIGH or above\n"
        "notify: channel 3 (${HOOK_ANY_NEW}): not sent: its events (new-findings) do not take a success without "
        "new findings\n"
        "notify: channel 4 (${HOOK_SKIPS}): not sent: its events (skipped) do not take a success without new "
        "findings\n"
        "notify: sent to channel 1 (${HOOK_DEFAULT})\n"
    )


def test_first_run_without_a_baseline_counts_every_finding_as_new(routed, server, capfd):
    results_from(routed / "results", "bandit-after.sarif")  # B602 HIGH, B311 LOW, B608 MEDIUM
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "routed-scan", "--baseline", "no-such-folder")
    assert reached(server) == ["DEFAULT", "HIGH", "ANY_NEW"]
    text = json.dumps(server.requests[0].json(), ensure_ascii=False)
    assert ("*Since the previous run:* first run (no findings file in the baseline no-such-folder "
            "(summaries/findings.json or findings.sarif)): nothing to compare with, every finding counts as new") in text


def test_a_guard_skip_reaches_only_the_skipped_channels(routed, server, capfd):
    (routed / "guard.env").write_text("JMO_GUARD_RUN=false\nJMO_GUARD_REASON=suspended\n")
    code, out, err = run_cli(capfd, "--status", "success", "--schedule", "routed-scan", "--guard", "guard.env")
    assert (code, err) == (0, "")
    assert reached(server) == ["SKIPS"]
    payload = server.requests[0].json()
    assert payload["text"] == "⏭️ Security scan skipped: routed-scan — the guard skipped this run: suspended"
    assert out.endswith("notify: sent to channel 4 (${HOOK_SKIPS})\n")


def test_two_channels_on_one_webhook_get_one_message_with_both_events(monkeypatch):
    s = schedule_with([{"type": "slack", "url": "${A}", "events": ["skipped"]},
                       {"type": "slack", "url": "${B}", "events": ["new-findings"], "minSeverity": "LOW"}])
    chans, _ = resolve_channels(s, env={"A": "https://hooks.slack.com/services/1", "B": "https://hooks.slack.com/services/1"})
    assert chans == [Channel("channel 1 (${A})", "https://hooks.slack.com/services/1",
                             events=frozenset({"skipped", "new-findings"}), min_severity=None)]


def test_new_findings_are_listed_worst_first_with_links_to_the_code(tmp_path):
    results_from(tmp_path / "results", "trivy-after.sarif")
    results_from(tmp_path / "previous", "trivy-before.sarif")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo/app",
           "GITHUB_RUN_ID": "42", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}
    outcome = notify_schedule(None, "success", results_dir=tmp_path / "results", baseline=tmp_path / "previous",
                              env=env, webhook="https://hooks.slack.com/services/T/B/X", dry_run=True)
    sections = [b["text"]["text"] for b in outcome.payload["blocks"] if b["type"] == "section" and "text" in b]
    assert "*New findings:*\n• 🟠 HIGH `CVE-2024-3651` <https://github.com/octo/app/blob/0123456789abcdef0123456789abcdef01234567/requirements.txt#L8|requirements.txt:8>" in sections
    assert outcome.payload["text"].endswith("3 findings (CRITICAL 1, HIGH 2, MEDIUM 0, LOW 0, INFO 0) — 1 new, 1 fixed, 2 open")


def test_hundreds_of_new_findings_stay_within_slacks_limits(tmp_path):
    results = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Semgrep OSS"}}, "results": [
        {"ruleId": f"rules.r{i % 7}-" + "x" * 60, "level": "error", "message": {"text": f"finding {i}"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"src/module_{i}/" + "deep/" * 10 + "file.py"},
                                             "region": {"startLine": i + 1}}}]} for i in range(500)]}]}
    (tmp_path / "results" / "summaries").mkdir(parents=True)
    (tmp_path / "results" / "summaries" / "findings.sarif").write_text(json.dumps(results))
    (tmp_path / "previous" / "summaries").mkdir(parents=True)
    (tmp_path / "previous" / "summaries" / "findings.sarif").write_text(json.dumps({"version": "2.1.0", "runs": []}))
    env = {"CI_PIPELINE_ID": "7", "CI_PROJECT_URL": "https://gitlab.example.com/g/p",
           "CI_COMMIT_SHA": "89abcdef0123456789abcdef0123456789abcdef"}
    outcome = notify_schedule(None, "success", results_dir=tmp_path / "results", baseline=tmp_path / "previous",
                              env=env, webhook="https://hooks.slack.com/services/T/B/X", dry_run=True)
    blocks = outcome.payload["blocks"]
    assert len(blocks) <= slack_message.MAX_BLOCKS
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(t) <= slack_message.MAX_SECTION_TEXT for t in texts)
    listed = next(t for t in texts if t.startswith("*New findings:*"))
    shown = listed.count("\n• ")
    assert 0 < shown <= slack_message.MAX_NEW_LISTED
    assert listed.endswith(f"\n… and {500 - shown} more")
    assert "https://gitlab.example.com/g/p/-/blob/89abcdef0123456789abcdef0123456789abcdef/src/module_" in listed
    assert "*Since the previous run:* 500 new · 0 fixed · 0 open" in texts
    assert len(outcome.payload["text"]) <= slack_message.MAX_FALLBACK_TEXT
    assert outcome.payload["text"].endswith("— 500 new, 0 fixed, 0 open")


def test_add_mask_commands_mask_url_and_token_path():
    assert add_mask_commands(["https://hooks.slack.com/services/T0/B0/XYZ%41", "https://hooks.slack.com/services/T0/B0/XYZ%41"]) == [
        "::add-mask::https://hooks.slack.com/services/T0/B0/XYZ%2541",
        "::add-mask::/services/T0/B0/XYZ%2541",
    ]
