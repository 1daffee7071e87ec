"""`jmo-schedule run`: CronJob semantics with the stub scanner, real processes and an injected clock.

Overlap is controlled, not timed: a blocking stub scanner waits for a `release` file, so a
second run starts while the first is provably still inside its scan.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import STUB_SCANNER_DIR
from jmo_fixtures import finding
from fakes.slack import FakeSlack
from jmo_schedule.local import history as run_history, runlock
from jmo_schedule.cli import main
from jmo_schedule.errors import JmoError
from jmo_schedule.local.manager import ScheduleManager
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.local.runner import prune, run_schedule

STUB = str(STUB_SCANNER_DIR / "jmo")
CREATED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def make(tmp_path: Path, name: str = "scan", *, schedule: str = "*/5 * * * *", tz: str = "UTC",
         options: dict[str, Any] | None = None, targets: dict[str, Any] | None = None,
         notifications: dict[str, Any] | None = None, **spec: Any) -> ScanSchedule:
    """Store a schedule (created on CREATED) whose results go under tmp_path/results."""
    s = ScanSchedule(
        metadata=ScheduleMetadata(name=name),
        spec=ScheduleSpec(
            schedule=schedule, timezone=tz, backend=BackendConfig(type="local-cron"),
            jobTemplate=JobTemplateSpec(
                profile="fast", targets=targets or {"repo": str(tmp_path)},
                results={"dir": str(tmp_path / "results")}, options=options or {},
                notifications=notifications or {},
            ),
            **spec,
        ),
    )
    return ScheduleManager(clock=lambda: CREATED).create(s)


def stored(name: str = "scan") -> ScanSchedule:
    return ScheduleManager().require(name)


def stub_calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def stub_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "stub.log"
    monkeypatch.setenv("JMO_STUB_LOG", str(log))
    monkeypatch.delenv("JMO_SCANNER", raising=False)
    return log


BLOCKING_STUB = """#!{python}
import json, os, signal, sys, time
d = os.environ["BLOCK_DIR"]
args = sys.argv[1:]
if args and args[0] == "scan":
    if os.environ.get("BLOCK_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    info = {{"pid": os.getpid(), "pgid": os.getpgrp(), "argv": args}}
    with open(os.path.join(d, "started-%d" % os.getpid()), "w") as fh:
        json.dump(info, fh)
    # Never blocks for ever: a test that forgot to release it (or a runner that lost track
    # of it) gets a failed scan after a minute, not a hung suite.
    give_up = time.monotonic() + 60
    while not os.path.exists(os.path.join(d, "release")):
        if time.monotonic() > give_up:
            sys.exit("blocking stub: never released")
        time.sleep(0.02)
os.execv({stub!r}, [{stub!r}] + args)
"""


@pytest.fixture
def blocking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stub_log: Path) -> Iterator[Path]:
    """A scanner whose `scan` blocks until BLOCK_DIR/release exists; yields BLOCK_DIR.
    Afterwards every scan it started is released and, if a test paused it, resumed."""
    block = tmp_path / "block"
    block.mkdir()
    script = tmp_path / "blocking-jmo"
    script.write_text(BLOCKING_STUB.format(python=sys.executable, stub=STUB))
    script.chmod(0o755)
    monkeypatch.setenv("BLOCK_DIR", str(block))
    monkeypatch.setenv("JMO_SCANNER", str(script))
    yield block
    (block / "release").touch()
    for scan in started(block):
        try:
            if str(script) in Path(f"/proc/{scan['pid']}/cmdline").read_text():
                os.kill(scan["pid"], signal.SIGCONT)
        except (OSError, ProcessLookupError):
            pass  # already gone


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def started(block: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(block.glob("started-*")) if p.read_text()]


def spawn_run(name: str, now: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jmo_schedule", "run", name, "--now", now, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def condition(s: ScanSchedule) -> Any:
    return next(c for c in s.status.conditions if c.type == "LastRun")


# ------------------------------------------------------------------------------------
# One run


def test_on_time_run_records_status_and_history(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path)
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:03Z"), scanner=STUB)
    assert (outcome.action, outcome.exit_code, outcome.reason) == ("ran", 0, "Succeeded")
    run_dir = tmp_path / "results" / "scan" / "20261125T020503Z"
    assert outcome.results_dir == str(run_dir)
    assert stub_calls(stub_log) == [
        ["scan", "--repo", str(tmp_path), "--results-dir", str(run_dir), "--profile-name", "fast"],
        ["report", "--results-dir", str(run_dir)],
    ]
    assert (run_dir / "summaries" / "findings.json").is_file()
    log = (run_dir / "run.log").read_text()
    assert "jmo (stub): wrote 3 findings" in log and "scan exited 0" in log
    st = stored().status
    assert st.lastScheduleTime == "2026-11-25T02:05:00Z"
    assert st.lastSuccessfulTime is not None and st.lastSuccessfulTime.startswith("2026-11-25T02:05:0")
    assert (st.active, st.succeeded, st.failed) == (0, 1, 0)
    assert st.nextScheduleTime == "2026-11-25T02:10:00Z"
    cond = condition(stored())
    assert (cond.status, cond.reason) == ("True", "Succeeded")
    (record,) = run_history.read("scan")["runs"]
    assert record["result"] == "Succeeded" and record["scheduledTime"] == "2026-11-25T02:05:00Z"
    assert record["findings"] == {"total": 3, "counts": {"CRITICAL": 0, "HIGH": 1, "INFO": 0, "LOW": 1, "MEDIUM": 1}}
    assert record["resultsDir"] == str(run_dir)
    assert os.listdir(runlock.locks_dir("scan")) == [".mutex"]  # slot released


def test_fail_on_threshold_fails_the_run_with_the_report_exit(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, options={"fail_on": "HIGH"})
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB)
    assert (outcome.exit_code, outcome.reason) == (1, "FindingsAboveThreshold")
    st = stored().status
    assert (st.succeeded, st.failed, st.lastSuccessfulTime) == (0, 1, None)
    assert (condition(stored()).status, condition(stored()).reason) == ("False", "FindingsAboveThreshold")
    assert stub_calls(stub_log)[1][-2:] == ["--fail-on", "HIGH"]


def test_scan_failure_exit_code_is_the_scans_and_no_report(tmp_path: Path, stub_log: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMO_STUB_SCAN_EXIT", "3")
    make(tmp_path)
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB)
    assert (outcome.exit_code, outcome.reason) == (3, "ScanFailed")
    assert [c[0] for c in stub_calls(stub_log)] == ["scan"]
    assert run_history.read("scan")["runs"][0]["exitCode"] == 3


def test_several_images_go_through_a_list_file(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, targets={"images": ["alpine:3.20", "nginx:1.27"]})
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB)
    assert outcome.exit_code == 0
    scan = stub_calls(stub_log)[0]
    listed = scan[scan.index("--images-file") + 1]
    assert listed == f"{outcome.results_dir}/.jmo-inputs/images.txt"
    assert Path(listed).read_text() == "alpine:3.20\nnginx:1.27\n"


def test_scanner_from_environment_and_backend_config(tmp_path: Path, stub_log: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    s = make(tmp_path)
    s.spec.backend.config = {"scanner": STUB}
    ScheduleManager().update(s)
    assert run_schedule("scan", now=utc("2026-11-25T02:05:00Z")).exit_code == 0
    monkeypatch.setenv("JMO_SCANNER", f"{sys.executable} {STUB}")
    assert run_schedule("scan", now=utc("2026-11-25T02:10:00Z")).exit_code == 0
    assert len(stub_calls(stub_log)) == 4


def test_a_scanner_that_cannot_start_is_a_recorded_failure(tmp_path: Path) -> None:
    make(tmp_path)
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=str(tmp_path / "no-such-jmo"))
    assert (outcome.exit_code, outcome.reason) == (1, "StartFailed")
    assert outcome.message.startswith(f"cannot start the scanner '{tmp_path / 'no-such-jmo'}': No such file or directory")
    assert stored().status.failed == 1


# ------------------------------------------------------------------------------------
# Whether to run


def test_superset_minutes_and_handled_times_are_quiet(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, schedule="0 2 * * *", tz="America/New_York")
    assert run_schedule("scan", now=utc("2026-11-25T07:00:02Z"), scanner=STUB).action == "ran"
    # 06:00 UTC is the EDT translation of 02:00 New York: a superset line, not a fire time.
    idle = run_schedule("scan", now=utc("2026-11-26T06:00:01Z"), scanner=STUB)
    assert (idle.action, idle.exit_code, idle.reason) == ("idle", 0, "AlreadyHandled")
    assert idle.message == "2026-11-25T07:00:00Z was already handled; next run 2026-11-26T07:00:00Z"
    assert len(run_history.read("scan")["runs"]) == 1
    assert len(stub_calls(stub_log)) == 2


def test_fire_times_before_creation_are_not_run(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, schedule="0 2 * * *")
    idle = run_schedule("scan", now=utc("2026-10-31T02:00:00Z"), scanner=STUB)
    assert (idle.action, idle.reason) == ("idle", "BeforeCreation")
    assert run_history.read("scan")["runs"] == []


def test_suspended_is_skipped_and_recorded(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, suspend=True)
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB)
    assert (outcome.action, outcome.exit_code, outcome.reason) == ("skipped", 0, "Suspended")
    assert outcome.message == "schedule is suspended; 2026-11-25T02:05:00Z not run"
    assert stub_calls(stub_log) == []
    (record,) = run_history.read("scan")["runs"]
    assert (record["result"], record["reason"]) == ("Skipped", "Suspended")
    st = stored().status
    skip = next(c for c in stored().status.conditions if c.type == "LastSkip")
    assert (st.nextScheduleTime, st.lastScheduleTime, skip.status, skip.reason) == (None, None, "True", "Suspended")
    assert not any(c.type == "LastRun" for c in stored().status.conditions)
    # The same fire time is not recorded twice.
    assert run_schedule("scan", now=utc("2026-11-25T02:06:00Z"), scanner=STUB).action == "idle"


def test_starting_deadline(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, schedule="0 2 * * *", startingDeadlineSeconds=300)
    late = run_schedule("scan", now=utc("2026-11-25T02:05:01Z"), scanner=STUB)
    assert (late.action, late.reason) == ("skipped", "MissedDeadline")
    assert late.message == ("started 5m01s after 2026-11-25T02:00:00Z, later than startingDeadlineSeconds (300s)")
    # Within the deadline a late start (cron catching up after a suspend) still runs.
    ok = run_schedule("scan", now=utc("2026-11-26T02:04:59Z"), scanner=STUB)
    assert (ok.action, ok.exit_code) == ("ran", 0)
    record = run_history.read("scan")["runs"][-1]
    assert record["scheduledTime"] == "2026-11-26T02:00:00Z"
    assert record["message"].startswith("scan and report passed")
    assert stored().status.lastScheduleTime == "2026-11-26T02:00:00Z"


# ------------------------------------------------------------------------------------
# concurrencyPolicy with two overlapping real runs


def test_forbid_skips_while_a_run_is_active(tmp_path: Path, blocking: Path) -> None:
    make(tmp_path, concurrencyPolicy="Forbid")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    wait_for(lambda: started(blocking), "the first scan to start")
    assert stored().status.active == 1
    second = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"))
    assert (second.action, second.exit_code, second.reason) == ("skipped", 0, "ConcurrencyForbidden")
    first_id = run_history.read("scan")["runs"][0]["id"]
    assert second.message.startswith(f"concurrencyPolicy Forbid: run {first_id} (pid {first.pid}) still active")
    (blocking / "release").touch()
    code, out, err = finish(first)
    assert code == 0, err
    assert out.startswith("scan: Succeeded: scan and report passed")
    assert len(started(blocking)) == 1
    results = [r["result"] for r in run_history.read("scan")["runs"]]
    assert results == ["Succeeded", "Skipped"]
    st = stored().status
    assert (st.active, st.succeeded, st.failed) == (0, 1, 0)


def test_allow_runs_side_by_side(tmp_path: Path, blocking: Path) -> None:
    make(tmp_path, concurrencyPolicy="Allow")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    wait_for(lambda: len(started(blocking)) == 1, "the first scan")
    second = spawn_run("scan", "2026-11-25T02:05:00Z")
    wait_for(lambda: len(started(blocking)) == 2, "the second scan, while the first still runs")
    assert stored().status.active == 2
    (blocking / "release").touch()
    assert finish(first)[0] == 0
    assert finish(second)[0] == 0
    runs = run_history.read("scan")["runs"]
    assert [r["result"] for r in runs] == ["Succeeded", "Succeeded"]
    assert runs[0]["resultsDir"] != runs[1]["resultsDir"]
    st = stored().status
    assert (st.active, st.succeeded) == (0, 2)


def test_replace_terminates_the_active_run_process_group(tmp_path: Path, blocking: Path) -> None:
    make(tmp_path, concurrencyPolicy="Replace")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    (old,) = wait_for(lambda: started(blocking), "the first scan")
    second = spawn_run("scan", "2026-11-25T02:05:00Z")
    code, out, err = finish(first)  # the first run ends because the second replaced it
    assert code == 143, err
    assert out == "scan: Replaced: replaced by a newer run (concurrencyPolicy Replace); results " \
        f"{tmp_path / 'results' / 'scan' / '20261125T020000Z'}\n"
    with pytest.raises(ProcessLookupError):
        os.killpg(old["pgid"], 0)
    wait_for(lambda: len(started(blocking)) == 2, "the replacing scan")
    (blocking / "release").touch()
    assert finish(second)[0] == 0
    runs = run_history.read("scan")["runs"]
    assert [(r["result"], r["reason"]) for r in runs] == [("Failed", "Replaced"), ("Succeeded", "Succeeded")]
    st = stored().status
    assert (st.active, st.succeeded, st.failed) == (0, 1, 1)


def test_replace_kills_a_scan_that_ignores_sigterm(tmp_path: Path, blocking: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMO_RUN_KILL_GRACE", "0.3")
    monkeypatch.setenv("BLOCK_IGNORE_TERM", "1")
    make(tmp_path, concurrencyPolicy="Replace")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    (old,) = wait_for(lambda: started(blocking), "the first scan")
    monkeypatch.delenv("BLOCK_IGNORE_TERM")
    (blocking / "release").touch()  # the second run's scan finishes at once
    # The first scan would also leave its loop now; keep it blocked by pausing it.
    os.kill(old["pid"], signal.SIGSTOP)
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"))
    assert outcome.exit_code == 0
    code, _, _ = finish(first)
    assert code == 143
    with pytest.raises(ProcessLookupError):
        os.kill(old["pid"], 0)


def test_a_crash_leaves_a_stale_lock_that_the_next_run_takes_over(tmp_path: Path, blocking: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    make(tmp_path, concurrencyPolicy="Forbid")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    (scan,) = wait_for(lambda: started(blocking), "the first scan")
    # Kill everything without a chance to clean up: the runner and its scan group.
    os.kill(first.pid, signal.SIGKILL)
    os.killpg(scan["pgid"], signal.SIGKILL)
    first.wait()
    # SIGKILL is asynchronous: wait until the kernel has ended the scan (and dropped its lock).
    wait_for(lambda: runlock.count_active("scan") == 0, "the killed scan to exit")
    assert run_history.read("scan")["runs"][0]["result"] == "Running"  # nobody recorded the end...
    assert main(["history", "scan", "-o", "json"]) == 0  # ...but history tells it crashed
    assert json.loads(capsys.readouterr().out)[0]["reason"] == "Crashed"
    slots = [e for e in os.listdir(runlock.locks_dir("scan")) if e.endswith(".lock")]
    assert len(slots) == 1  # the slot file is left behind, but nobody holds it
    (blocking / "release").touch()
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"))
    assert (outcome.action, outcome.exit_code) == ("ran", 0)
    runs = run_history.read("scan")["runs"]
    assert runs[0]["result"] == "Failed" and runs[0]["reason"] == "Crashed"
    assert runs[0]["message"] == (f"the runner (pid {first.pid}) ended without recording a result; "
                                  "its lock was taken over")
    st = stored().status
    assert (st.active, st.succeeded, st.failed) == (0, 1, 1)
    assert [e for e in os.listdir(runlock.locks_dir("scan")) if e.endswith(".lock")] == []


def test_a_scan_that_outlives_its_runner_still_counts_as_active(tmp_path: Path, blocking: Path) -> None:
    make(tmp_path, concurrencyPolicy="Forbid")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    wait_for(lambda: started(blocking), "the first scan")
    os.kill(first.pid, signal.SIGKILL)  # the runner dies; its scan (holding the lock) goes on
    first.wait()
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"))
    assert outcome.reason == "ConcurrencyForbidden"
    (blocking / "release").touch()
    wait_for(lambda: runlock.count_active("scan") == 0, "the orphaned scan to end")


# ------------------------------------------------------------------------------------
# Timeout, pruning, notifications


def test_timeout_kills_the_scan_process_group(tmp_path: Path, blocking: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCK_IGNORE_TERM", "1")  # only SIGKILL after the grace ends it
    make(tmp_path, options={"timeout": 1})
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), grace=0.2)
    assert (outcome.exit_code, outcome.reason) == (124, "TimedOut")
    assert outcome.message.startswith("stopped after options.timeout (1s)")
    (scan,) = started(blocking)
    with pytest.raises(ProcessLookupError):
        os.killpg(scan["pgid"], 0)
    assert "stopping scan (timeout)" in (Path(outcome.results_dir or "") / "run.log").read_text()
    assert stored().status.failed == 1


def test_pruning_keeps_the_newest_runs_per_result(tmp_path: Path, stub_log: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, successfulJobsHistoryLimit=2, failedJobsHistoryLimit=1)
    dirs = []
    for minute, exit_code in ((0, "0"), (5, "2"), (10, "0"), (15, "2"), (20, "0"), (25, "0")):
        monkeypatch.setenv("JMO_STUB_SCAN_EXIT", exit_code)
        dirs.append(run_schedule("scan", now=utc(f"2026-11-25T03:{minute:02d}:00Z"), scanner=STUB).results_dir)
    kept = sorted(str(p) for p in (tmp_path / "results" / "scan").iterdir())
    assert kept == sorted([dirs[3], dirs[4], dirs[5]])
    runs = run_history.read("scan")["runs"]
    assert [bool(r.get("pruned")) for r in runs] == [True, True, True, False, False, False]


def test_pruning_never_removes_the_run_just_made(tmp_path: Path, stub_log: Path) -> None:
    s = make(tmp_path, successfulJobsHistoryLimit=0)
    first = run_schedule("scan", now=utc("2026-11-25T03:00:00Z"), scanner=STUB)
    assert Path(first.results_dir or "").is_dir()
    second = run_schedule("scan", now=utc("2026-11-25T03:05:00Z"), scanner=STUB)
    assert not Path(first.results_dir or "").exists() and Path(second.results_dir or "").is_dir()
    foreign = tmp_path / "results" / "scan" / "mine"
    foreign.mkdir()
    assert prune(s) == [second.results_dir]
    assert foreign.is_dir()  # never a folder the runner did not record


def test_notifies_through_the_shared_notify_code(tmp_path: Path, stub_log: Path, slack: FakeSlack,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = slack.hook()
    monkeypatch.setenv("LOCAL_HOOK", url)
    make(tmp_path, options={"fail_on": "HIGH"},
         notifications={"enabled": True, "channels": [{"type": "slack", "url": "${LOCAL_HOOK}"}]})
    outcome = run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB)
    assert outcome.exit_code == 1
    (post,) = slack.received
    assert post["path"] == "/services/T0/B0/secret"
    text = json.dumps(post["body"])
    assert "scan" in text and "HIGH" in text
    record = run_history.read("scan")["runs"][0]
    assert record["notification"] == "sent to channel 1 (${LOCAL_HOOK})"
    assert "secret" not in (Path(outcome.results_dir or "") / "run.log").read_text()


def test_the_previous_run_folder_is_the_baseline_and_a_skip_reaches_skipped_channels(
        tmp_path: Path, stub_log: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_HOOK", slack.hook("/all"))
    monkeypatch.setenv("SKIPS_HOOK", slack.hook("/skips"))
    make(tmp_path, notifications={"channels": [
        {"type": "slack", "url": "${LOCAL_HOOK}"},
        {"type": "slack", "url": "${SKIPS_HOOK}", "events": ["skipped", "new-findings"], "minSeverity": "HIGH"}]})
    findings = tmp_path / "findings.json"
    monkeypatch.setenv("JMO_STUB_FINDINGS", str(findings))
    findings.write_text(json.dumps([finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 40, "shell=True")]))
    run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB)
    # moved, and a new HIGH
    findings.write_text(json.dumps([finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 44, "shell=True"),
                                    finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 12, "key")]))
    second = run_schedule("scan", now=utc("2026-11-25T02:10:00Z"), scanner=STUB)
    texts = [(p["path"], json.dumps(p["body"], ensure_ascii=False)) for p in slack.received]
    assert [path for path, _ in texts] == ["/all", "/all", "/skips"]
    assert "first run" in texts[0][1]  # no run before it: nothing to compare with
    assert "*Since the previous run:* 1 new · 0 fixed · 1 open" in texts[1][1] and texts[1][1] == texts[2][1]
    assert run_history.read("scan")["runs"][1]["notification"] == (
        "sent to channel 1 (${LOCAL_HOOK}); sent to channel 2 (${SKIPS_HOOK})")
    assert second.exit_code == 0

    s = stored()
    s.spec.suspend = True
    ScheduleManager().update(s)
    assert run_schedule("scan", now=utc("2026-11-25T02:15:00Z"), scanner=STUB).action == "skipped"
    [skip] = slack.received[3:]
    assert skip["path"] == "/skips"
    assert skip["body"]["text"].startswith("⏭️ Security scan skipped: scan — ")


# ------------------------------------------------------------------------------------
# Manual runs (`jmo-schedule trigger` on local-cron)


def test_manual_run_is_for_no_fire_time_and_ignores_the_deadline(tmp_path: Path, stub_log: Path) -> None:
    # 12:34:56 is no fire time of "0 2 * * *", and far past any deadline: a manual run starts anyway.
    make(tmp_path, schedule="0 2 * * *", startingDeadlineSeconds=60)
    outcome = run_schedule("scan", now=utc("2026-11-25T12:34:56Z"), scanner=STUB, manual=True)
    assert (outcome.action, outcome.exit_code, outcome.reason) == ("ran", 0, "Succeeded")
    run_dir = tmp_path / "results" / "scan" / "20261125T123456Z"
    assert outcome.results_dir == str(run_dir)
    assert [c[0] for c in stub_calls(stub_log)] == ["scan", "report"]
    (record,) = run_history.read("scan")["runs"]
    assert record["trigger"] == "manual" and "scheduledTime" not in record
    assert (record["result"], record["resultsDir"]) == ("Succeeded", str(run_dir))
    st = stored().status
    assert st.lastScheduleTime is None  # as a Job made by hand from a CronJob
    assert (st.active, st.succeeded, st.failed) == (0, 1, 0)
    assert st.nextScheduleTime == "2026-11-26T02:00:00Z"
    # It is no fire time: cron's run for 02:00 the next day still happens.
    nightly = run_schedule("scan", now=utc("2026-11-26T02:00:00Z"), scanner=STUB)
    assert (nightly.action, nightly.reason) == ("ran", "Succeeded")
    assert [r.get("trigger", "schedule") for r in run_history.read("scan")["runs"]] == ["manual", "schedule"]


def test_manual_run_of_a_suspended_schedule_is_skipped_and_recorded(tmp_path: Path, stub_log: Path) -> None:
    make(tmp_path, suspend=True)
    outcome = run_schedule("scan", now=utc("2026-11-25T12:34:56Z"), scanner=STUB, manual=True)
    assert (outcome.action, outcome.exit_code, outcome.reason) == ("skipped", 0, "Suspended")
    assert outcome.line("scan") == "scan: skipped: schedule is suspended; the manual run was not started"
    assert stub_calls(stub_log) == []
    (record,) = run_history.read("scan")["runs"]
    assert (record["trigger"], record["result"], record["reason"]) == ("manual", "Skipped", "Suspended")


def test_manual_run_honours_forbid(tmp_path: Path, blocking: Path) -> None:
    make(tmp_path, concurrencyPolicy="Forbid")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    wait_for(lambda: started(blocking), "the scheduled scan to start")
    manual = run_schedule("scan", now=utc("2026-11-25T02:01:00Z"), manual=True)
    first_id = run_history.read("scan")["runs"][0]["id"]
    assert (manual.action, manual.reason) == ("skipped", "ConcurrencyForbidden")
    assert manual.message == (f"concurrencyPolicy Forbid: run {first_id} (pid {first.pid}) still active; "
                              "the manual run was not started")
    (blocking / "release").touch()
    assert finish(first)[0] == 0
    assert [(r.get("trigger", "schedule"), r["result"]) for r in run_history.read("scan")["runs"]] == [
        ("schedule", "Succeeded"), ("manual", "Skipped")]


def test_manual_run_replaces_an_active_run(tmp_path: Path, blocking: Path) -> None:
    make(tmp_path, concurrencyPolicy="Replace")
    first = spawn_run("scan", "2026-11-25T02:00:00Z")
    wait_for(lambda: started(blocking), "the scheduled scan")
    manual = subprocess.Popen([sys.executable, "-m", "jmo_schedule", "trigger", "scan"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert finish(first)[0] == 143
    wait_for(lambda: len(started(blocking)) == 2, "the manual scan")
    (blocking / "release").touch()
    code, out, err = finish(manual)
    assert code == 0, err
    assert out.startswith("scan: Succeeded: scan and report passed")
    assert [(r.get("trigger", "schedule"), r["reason"]) for r in run_history.read("scan")["runs"]] == [
        ("schedule", "Replaced"), ("manual", "Succeeded")]


# ------------------------------------------------------------------------------------
# CLI


def test_cli_run_and_history(tmp_path: Path, stub_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(tmp_path, options={"fail_on": "HIGH"})
    assert main(["run", "scan", "--now", "2026-11-25T02:05:00Z", "--scanner", STUB]) == 1
    assert main(["run", "scan", "--now", "2026-11-25T02:05:30Z", "--scanner", STUB]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("scan: FindingsAboveThreshold: findings at or above HIGH (jmo report exit 1); results ")
    assert out[1] == "scan: nothing to do: 2026-11-25T02:05:00Z was already handled; next run 2026-11-25T02:10:00Z"
    assert main(["history", "scan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["STARTED", "TRIGGER", "DURATION", "RESULT", "REASON", "FINDINGS", "RESULTS"]
    assert lines[1].startswith("2026-11-25T02:05:00Z   schedule   ")
    assert "Failed   FindingsAboveThreshold   1 high, 1 medium, 1 low   " in lines[1]
    assert main(["history", "scan", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["reason"] == "FindingsAboveThreshold"


def test_cli_run_from_a_file_keeps_status_with_the_history(tmp_path: Path, stub_log: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(
        "apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata:\n  name: filed\n"
        "spec:\n  schedule: '0 2 * * *'\n  jobTemplate:\n    targets:\n      repo: .\n"
        f"    results:\n      dir: {tmp_path / 'results'}\n"
    )
    assert main(["run", "filed", "-f", str(path), "--now", "2026-11-25T02:00:00Z", "--scanner", STUB]) == 0
    data = run_history.read("filed")
    assert data["status"]["succeeded"] == 1 and data["status"]["lastScheduleTime"] == "2026-11-25T02:00:00Z"
    assert "status" not in path.read_text()


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["run", "nope"]) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: schedule 'nope' not found in {os.environ['JMO_HOME']}/schedules.json\n"
    make(tmp_path)
    monkeypatch.setenv("JMO_RUN_KILL_GRACE", "soon")
    assert main(["run", "scan"]) == 1
    assert capsys.readouterr().err == "jmo-schedule: error: JMO_RUN_KILL_GRACE='soon' is not a number of seconds\n"
    monkeypatch.delenv("JMO_RUN_KILL_GRACE")
    assert main(["run", "scan", "--scanner", "'unclosed"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: scanner command \"'unclosed\" cannot be split into words: No closing quotation\n")
    with pytest.raises(SystemExit) as exc:
        main(["run", "scan", "--now", "tomorrow"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith(
        "jmo-schedule run: error: argument --now: 'tomorrow' is not an ISO 8601 time such as 2026-03-08T07:00:00Z")
    assert main(["history", "nothing-yet"]) == 0
    assert capsys.readouterr().err.startswith("no runs recorded for 'nothing-yet'")


def test_history_rejects_a_corrupt_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(run_history.history_path("broken"))
    path.parent.mkdir(parents=True)
    path.write_text("[1, 2")
    assert main(["history", "broken"]) == 1
    err = capsys.readouterr().err
    assert err == (f"jmo-schedule: error: {path}:1:6: the run history is not valid JSON (Expecting ',' delimiter); "
                   "fix it or move it aside\n")


def test_jmo_error_for_missing_schedule_in_api() -> None:
    with pytest.raises(JmoError, match="schedule 'ghost' not found"):
        run_schedule("ghost")


def env_file(content: str | bytes) -> Path:
    """$JMO_HOME/env holding `content`, private as a user keeps it."""
    path = Path(os.environ["JMO_HOME"]) / "env"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(0o600)
    return path


def test_env_file_supplies_variables_cron_does_not_have(tmp_path: Path, stub_log: Path, slack: FakeSlack,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_file(f"# secrets for cron runs\nexport LOCAL_HOOK='{slack.hook('/hook')}'\n\nOTHER=1\n")
    make(tmp_path, notifications={"channels": [{"type": "slack", "url": "${LOCAL_HOOK}"}]})
    assert run_schedule("scan", now=utc("2026-11-25T02:05:00Z"), scanner=STUB).exit_code == 0
    assert [p["path"] for p in slack.received] == ["/hook"]
    env.write_text("not a line\n")
    with pytest.raises(JmoError) as exc:
        run_schedule("scan", now=utc("2026-11-25T02:10:00Z"), scanner=STUB)
    assert str(exc.value) == f"{env}:1: expected KEY=VALUE"


def test_the_env_file_reaches_notify_and_never_the_scanner(tmp_path: Path, stub_log: Path, slack: FakeSlack,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    env_file(f"LOCAL_HOOK={slack.hook('/hook')}\nOTHER_SECRET=s3cr3t\n")
    monkeypatch.setenv("FROM_THE_SHELL", "kept")
    seen = tmp_path / "scanner-env.jsonl"
    scanner = tmp_path / "env-scanner"  # records its environment, then acts as the stub
    scanner.write_text(f"#!/bin/sh\n{sys.executable} -c 'import json, os; print(json.dumps(dict(os.environ)))' "
                       f">> {seen}\nexec {STUB} \"$@\"\n")
    scanner.chmod(0o755)
    make(tmp_path, notifications={"channels": [{"type": "slack", "url": "${LOCAL_HOOK}"}]})
    assert main(["run", "scan", "--now", "2026-11-25T02:05:00Z", "--scanner", str(scanner)]) == 0
    environments = [json.loads(line) for line in seen.read_text().splitlines()]
    assert len(environments) == 2  # scan and report
    for environment in environments:
        assert "LOCAL_HOOK" not in environment and "OTHER_SECRET" not in environment
        assert environment["FROM_THE_SHELL"] == "kept" and environment["JMO_SCHEDULE"] == "scan"
    assert [p["path"] for p in slack.received] == ["/hook"]  # notify had the webhook


def test_an_env_file_that_is_not_utf8_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make(tmp_path)
    env = env_file(b"SLACK_WEBHOOK_URL=https://hooks.example/\xe9t\xe9\n")
    before = env.read_bytes()
    assert main(["run", "scan", "--now", "2026-11-25T02:05:00Z", "--scanner", STUB]) == 1
    assert capsys.readouterr().err == (f"jmo-schedule: error: {env}: the env file is not UTF-8 text (byte 0xe9 "
                                       "at offset 40); fix it or move it aside\n")
    assert env.read_bytes() == before
    assert run_history.read("scan") == {"runs": []}


def test_history_of_a_name_that_is_not_a_schedule_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "../../etc/passwd"]) == 1
    assert capsys.readouterr().err == ("jmo-schedule: error: '../../etc/passwd' is not a schedule name "
                                       "(lowercase letters, digits and '-', at most 63)\n")


@pytest.mark.parametrize("cron,tz,machine,start", [
    ("30 2 * * *", "America/New_York", "UTC", "2027-03-10T00:00:00Z"),  # spring forward on 03-14
    ("30 6 * * *", "UTC", "America/New_York", "2027-11-05T00:00:00Z"),  # fall back on 11-07
    ("0 1 * * 0", "Europe/London", "America/New_York", "2027-03-20T00:00:00Z"),
])
def test_cron_superset_end_to_end(tmp_path: Path, cron: str, tz: str, machine: str, start: str) -> None:
    """Call `run` at every minute the installed crontab lines name (Debian cron, machine
    zone, DST rule for the repeated hour): each fire time runs exactly once, nothing else."""
    from jmo_schedule.core.cron import get_zone, iter_runs, parse
    from jmo_schedule.core.cron_translate import cron_fields

    make(tmp_path, schedule=cron, tz=tz)
    with run_history.editing("scan") as data:
        data["installedAt"] = start  # earlier fire times were handled before the window
    lines = cron_fields(cron, tz, machine)
    mzone = get_zone(machine)
    begin, end = utc(start), utc(start) + timedelta(days=14)
    expected = []
    for run in iter_runs(cron, tz, begin):
        if run >= end:
            break
        expected.append(run.strftime("%Y-%m-%dT%H:%M:%SZ"))
    moment, calls = begin, 0
    while moment < end:
        local = moment.astimezone(mzone)
        wall = local.replace(tzinfo=None)
        for fields in lines:
            spec = parse(" ".join(fields))
            wildcard = fields[0] == "*" or fields[1] == "*"
            if (local.fold == 0 or wildcard) and wall.minute in spec.minutes and wall.hour in spec.hours \
                    and spec.matches_day(wall.date()):
                calls += 1
                assert run_schedule("scan", now=moment + timedelta(seconds=2), scanner="true").exit_code == 0
                break
        moment += timedelta(minutes=1)
    runs = run_history.read("scan")["runs"]
    assert [r["scheduledTime"] for r in runs] == expected
    assert all(r["result"] == "Succeeded" for r in runs)
    assert calls > len(expected)  # the superset did call `run` at minutes that are not fire times
