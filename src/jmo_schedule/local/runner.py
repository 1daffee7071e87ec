"""`jmo-schedule run`: one scheduled run on this machine, as a Kubernetes CronJob controller
would start it.

cron (or a systemd timer) calls `jmo-schedule run NAME` at every minute the installed
lines name. Those lines are a superset of the real fire times (cron has no time zone),
so the decision is made here, with the one time semantics of cron.py:

1. the nominal time is the latest fire time not after now (`cron.previous_run`);
   when that time was already handled (run or skipped) or comes before the schedule
   existed / was installed, there is nothing to do: exit 0 quietly;
2. suspended -> skipped (recorded); more than startingDeadlineSeconds after the nominal
   time -> skipped (recorded); like the CronJob controller, a run that starts late but
   within the deadline (cron catching up after a suspend, a systemd Persistent timer)
   still runs for its nominal time;
3. concurrencyPolicy, through runlock's per-run slots: Forbid skips while a run is
   active, Replace stops the active run's process group and starts, Allow just starts;
4. the scan and report command lines come from scan_command.build_plan, run in their
   own process group, output appended to `<results.dir>/<name>/<UTC stamp>/run.log`,
   both within options.timeout seconds (the process group is killed at the limit);
5. status (lastScheduleTime, lastSuccessfulTime, active, succeeded, failed, a LastRun
   condition, nextScheduleTime) goes to the local store, history to run_history;
6. run folders beyond the history limits are pruned, oldest first; then notify.

`jmo-schedule trigger` starts a manual run (`manual=True`): for no fire time, so steps 1
and the deadline do not apply, while suspend and concurrencyPolicy do; its record says
`"trigger": "manual"` and it leaves lastScheduleTime alone, as a Job made by hand from a
CronJob (`kubectl create job --from=cronjob/...`) does.
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, TextIO

from . import history as rh
from . import runlock
from ..core import policy
from ..core.cron import previous_run
from ..core.files import fix_mode, jmo_home, read_text
from ..core.model import ScanSchedule, ScheduleStatus
from ..core.scan_command import build_plan
from ..core.timefmt import compact_duration, parse_timestamp, rfc3339, run_stamp
from ..errors import JmoError, NotFoundError
from ..pipeline.findings import FindingsError, load_summary
from ..pipeline.notify import notify_schedule
from .manager import ScheduleManager, next_schedule_time
from .resolve import schedules

UTC = timezone.utc
Clock = Callable[[], datetime]

# Seconds between SIGTERM and SIGKILL when a run is stopped (timeout, Replace).
KILL_GRACE = 10.0
GRACE_ENV = "JMO_RUN_KILL_GRACE"
SCANNER_ENV = "JMO_SCANNER"
LOG_NAME = "run.log"
# Exit codes when the tool, not the scanner, ended the run (as timeout(1) and shells do).
EXIT_TIMEOUT = 124
EXIT_TERMINATED = 143
EXIT_INTERRUPTED = 130
# Conditions `run` maintains: the outcome of the latest run, and the latest skip.
RUN_CONDITION = "LastRun"
SKIP_CONDITION = "LastSkip"
# The `trigger` of a run record that no fire time started (`jmo-schedule trigger`).
MANUAL = "manual"


@dataclass(frozen=True)
class RunOutcome:
    """What `run_schedule` did. `action`: "ran", "skipped" (recorded) or "idle" (nothing due)."""

    action: str
    exit_code: int
    reason: str
    message: str
    run_id: str | None = None
    results_dir: str | None = None

    def line(self, name: str) -> str:
        if self.action == "ran":
            return f"{name}: {self.reason}: {self.message}"
        return f"{name}: {'skipped' if self.action == 'skipped' else 'nothing to do'}: {self.message}"


class _Stopped(Exception):
    """The runner itself got SIGTERM/SIGINT: stop the child and record it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def make_clock(now: datetime | None) -> Clock:
    """A clock that starts at `now` (default: the real time) and advances with real time."""
    if now is None:
        return lambda: datetime.now(UTC)
    base = now.astimezone(UTC)
    start = time.monotonic()
    return lambda: base + timedelta(seconds=time.monotonic() - start)


def scanner_argv(schedule: ScanSchedule, scanner: str | None, env: Mapping[str, str]) -> list[str]:
    """The command that replaces `jmo`: --scanner, else $JMO_SCANNER, else
    backend.config.scanner, else `jmo`. It may carry arguments (split like a shell)."""
    text = scanner or env.get(SCANNER_ENV) or (schedule.spec.backend.config or {}).get("scanner") or "jmo"
    try:
        argv = shlex.split(str(text))
    except ValueError as exc:
        raise JmoError(f"scanner command {text!r} cannot be split into words: {exc}") from None
    if not argv:
        raise JmoError("scanner command is empty")
    return argv


ENV_FILE = "env"


def load_env_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines of a private env file (`#` comments, blank lines, optional quotes).

    cron and systemd start `run` with an almost empty environment, so a webhook named
    `${SLACK_WEBHOOK_URL}` in a schedule is read from `$JMO_HOME/env` instead."""
    out: dict[str, str] = {}
    try:
        lines = read_text(path, "the env file").splitlines()
    except FileNotFoundError:
        return out
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        m = re.match(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", text)
        if not m:
            raise JmoError(f"{path}:{number}: expected KEY=VALUE")
        value = m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[m.group(1)] = value
    return out


def kill_grace(env: Mapping[str, str]) -> float:
    value = env.get(GRACE_ENV)
    if not value:
        return KILL_GRACE
    try:
        grace = float(value)
    except ValueError:
        raise JmoError(f"{GRACE_ENV}={value!r} is not a number of seconds") from None
    if not 0 <= grace <= 3600:
        raise JmoError(f"{GRACE_ENV}={value!r} is outside 0-3600 seconds")
    return grace


# ------------------------------------------------------------------------------------
# Status


class _StatusSink:
    """Where status goes: the local store when the schedule is stored there, else the
    schedule's run-history file (schedules read from a committed file with -f)."""

    def __init__(self, name: str, manager: Any | None):
        self.name = name
        self.manager = manager

    def patch(self, change: Callable[[ScheduleStatus], None]) -> None:
        if self.manager is not None:
            try:
                self.manager.patch_status(self.name, lambda s: change(s.status))
                return
            except NotFoundError:  # deleted while running: keep the status with the history
                pass
        with rh.editing(self.name) as data:
            status = ScheduleStatus.from_dict(data.get("status") or {})
            change(status)
            data["status"] = status.to_dict()


def _next_time(schedule: ScanSchedule, now: datetime) -> str | None:
    return next_schedule_time(schedule, now)


# ------------------------------------------------------------------------------------
# The run


@dataclass
class _Decision:
    action: str  # run | skip | idle
    reason: str = ""
    message: str = ""
    run_id: str | None = None
    slot: runlock.Slot | None = None
    replace: tuple[runlock.SlotInfo, ...] = ()
    crashed: tuple[str, ...] = ()
    run_dir: str | None = None
    nominal: str | None = None


def _load(name: str, file: str | None) -> tuple[ScanSchedule, ScheduleManager | None]:
    """The schedule, and the store its status goes to (None: a committed file's schedule,
    whose status is kept with its history)."""
    manager = schedules(file)
    return manager.require(name), None if file else manager


def run_schedule(
    name: str,
    *,
    file: str | None = None,
    now: datetime | None = None,
    scanner: str | None = None,
    env: Mapping[str, str] | None = None,
    grace: float | None = None,
    manual: bool = False,
) -> RunOutcome:
    """Run (or skip) the schedule `name` for its latest fire time not after `now`; with
    `manual`, one run now for no fire time (`jmo-schedule trigger`): suspend and
    concurrencyPolicy still apply, the deadline does not, and history records it as manual.

    Reads the schedule from the local store, or from `file`; `env` defaults to the
    process environment over the KEY=VALUE lines of `$JMO_HOME/env`, of which the scanner
    gets only the process environment (the file's secrets go to notify alone). Returns the outcome; its
    exit_code is the scan's (the report's when the scan passed), 0 when skipped or idle,
    124 on timeout, 143 when replaced or terminated. Raises JmoError for a schedule that
    does not exist or a scanner that cannot be started.
    """
    if env is None:
        path = os.path.join(jmo_home(), ENV_FILE)
        fix_mode(path, 0o600)  # it holds secrets
        env = {**load_env_file(path), **os.environ}
        # The scanner (third-party tools over untrusted code) gets the process environment;
        # the file's variables (webhooks) reach only the notification step.
        scan_env = dict(os.environ)
    else:
        scan_env = dict(env)
    env = dict(env)
    schedule, manager = _load(name, file)
    clock = make_clock(now)
    grace = kill_grace(env) if grace is None else grace
    scanner_cmd = scanner_argv(schedule, scanner, env)
    sink = _StatusSink(name, manager)
    started = clock()

    decision = _decide(schedule, started, manual)
    for run_id in decision.crashed:
        sink.patch(lambda s: _count(s, failed=True))
    if decision.action == "idle":
        return RunOutcome("idle", 0, decision.reason, decision.message)
    if decision.action == "skip":
        message = decision.message

        def skipped(status: ScheduleStatus) -> None:
            status.active = runlock.count_active(name)
            status.nextScheduleTime = _next_time(schedule, started)
            status.set_condition(SKIP_CONDITION, "True", decision.reason, message, rfc3339(started))

        sink.patch(skipped)
        _notify(schedule, "skipped", None, message, env, started, None)
        return RunOutcome("skipped", 0, decision.reason, message, decision.run_id)

    assert decision.slot is not None and decision.run_id is not None and decision.run_dir is not None
    return _execute(schedule, decision, clock, started, scan_env, env, scanner_cmd, sink, grace)


def _count(status: ScheduleStatus, *, failed: bool) -> None:
    if failed:
        status.failed += 1
    else:
        status.succeeded += 1


def _decide(schedule: ScanSchedule, now: datetime, manual: bool = False) -> _Decision:
    """Run, skip (recorded) or nothing to do. A scheduled run is for the latest fire time
    (once, within the deadline); a manual one is for no fire time and has no deadline."""
    name, spec = schedule.name, schedule.spec
    nominal: datetime | None = None
    nominal_text: str | None = None
    if not manual:
        nominal = previous_run(spec.schedule, spec.timezone, now)
        if nominal is None:
            return _Decision("idle", "NoFireTime", f"{spec.schedule!r} has no fire time before {rfc3339(now)}")
        nominal_text = rfc3339(nominal)
    what = nominal_text or "the manual run"
    not_run = f"{nominal_text} not run" if nominal_text else "the manual run was not started"
    with runlock.schedule_mutex(name):
        with rh.editing(name) as data:
            active, stale = runlock.scan_slots(name)
            crashed = _mark_crashed(data, stale, now)
            late = 0.0
            if not manual:
                floor = max(
                    (t for t in (parse_timestamp(schedule.metadata.creationTimestamp), parse_timestamp(data.get("installedAt"))) if t),
                    default=None,
                )
                assert nominal is not None
                if floor is not None and nominal < floor:
                    return _Decision("idle", "BeforeCreation",
                                     f"the last fire time {nominal_text} is before the schedule was created or installed",
                                     crashed=crashed)
                if any(r.get("scheduledTime") == nominal_text for r in data["runs"]):
                    return _Decision("idle", "AlreadyHandled",
                                     f"{nominal_text} was already handled; next run {_next_time(schedule, now) or 'none'}",
                                     crashed=crashed)
                late = (now - nominal).total_seconds()
            # The one run policy (core/policy.py); who else is running: this machine's lock slots.
            verdict = policy.decide(spec, now=now, nominal=nominal, who_else=lambda: active)
            reason = message = ""
            if verdict.reason == policy.SUSPENDED:
                message = f"schedule is suspended; {not_run}"
            elif verdict.reason == policy.MISSED_DEADLINE:
                message = (f"started {compact_duration(late)} after {nominal_text}, later than startingDeadlineSeconds "
                           f"({spec.startingDeadlineSeconds}s)")
            elif verdict.reason == policy.FORBIDDEN:
                ids = ", ".join(f"{a.run_id} (pid {a.pid})" for a in verdict.others)
                skipped = f"{nominal_text} skipped" if nominal_text else "the manual run was not started"
                message = f"concurrencyPolicy Forbid: run {ids} still active; {skipped}"
            if not verdict.run:
                reason = verdict.reason
            run_id = f"{run_stamp(now)}-{secrets.token_hex(3)}"
            record: dict[str, Any] = {"id": run_id, "startTime": rfc3339(now)}
            if manual:
                record["trigger"] = MANUAL
            else:
                record["scheduledTime"] = nominal_text
            if reason:
                record.update(result=rh.SKIPPED, reason=reason, message=message, endTime=rfc3339(now), exitCode=0)
                data["runs"].append(record)
                return _Decision("skip", reason, message, run_id, crashed=crashed)
            replace = verdict.others if verdict.reason == policy.REPLACE else ()
            for info in replace:
                runlock.mark_replaced(name, info.run_id)
            run_dir = _make_run_dir(schedule, now)
            slot = runlock.open_slot(name, run_id)
            slot.write_info(runId=run_id, pid=os.getpid(), pgid=None, scheduledTime=nominal_text)
            record.update(result=rh.RUNNING, reason="Running", message=f"running for {what}",
                          resultsDir=run_dir, pid=os.getpid())
            if late >= 60:
                record["message"] += f" (started {compact_duration(late)} late)"
            data["runs"].append(record)
    return _Decision("run", run_id=run_id, slot=slot, replace=replace, crashed=crashed, run_dir=run_dir,
                     nominal=nominal_text)


def _mark_crashed(data: dict[str, Any], stale: list[runlock.SlotInfo], now: datetime) -> tuple[str, ...]:
    out = []
    for info in stale:
        record = rh.find_run(data, info.run_id)
        if record is None or record.get("result") != rh.RUNNING:
            continue
        record.update(result=rh.FAILED, reason="Crashed", endTime=rfc3339(now), exitCode=None,
                      message=f"the runner (pid {record.get('pid')}) ended without recording a result; its lock was taken over")
        out.append(info.run_id)
    return tuple(out)


def _make_run_dir(schedule: ScanSchedule, now: datetime) -> str:
    base = os.path.abspath(os.path.join(schedule.spec.jobTemplate.results_dir, schedule.name))
    try:
        os.makedirs(base, exist_ok=True)
    except OSError as exc:
        raise JmoError(f"{base}: cannot create the results folder: {exc.strerror}") from None
    name = run_stamp(now)
    for n in range(1000):
        path = os.path.join(base, name if n == 0 else f"{name}-{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise JmoError(f"{base}: too many runs named {name}")


def _replace_active(schedule: ScanSchedule, decision: _Decision, grace: float, clock: Clock, log: TextIO) -> None:
    name = schedule.name
    for info in decision.replace:
        log.write(f"jmo-schedule: concurrencyPolicy Replace: stopping run {info.run_id} (pid {info.pid})\n")
        if info.pgid:
            runlock.terminate_group(info.pgid, grace, lambda: runlock.group_alive(info.pgid or 0))
        if not runlock.wait_released(name, info.run_id, grace + 5.0):
            log.write(f"jmo-schedule: run {info.run_id} still holds its lock; starting anyway\n")

        def replaced(record: dict[str, Any]) -> None:
            if record.get("result") == rh.RUNNING:
                record.update(result=rh.FAILED, reason="Replaced", endTime=rfc3339(clock()), exitCode=EXIT_TERMINATED,
                              message=f"replaced by run {decision.run_id} (concurrencyPolicy Replace)")

        rh.update_run(name, info.run_id, replaced)


def _execute(
    schedule: ScanSchedule,
    decision: _Decision,
    clock: Clock,
    started: datetime,
    scan_env: dict[str, str],
    notify_env: dict[str, str],
    scanner_cmd: list[str],
    sink: _StatusSink,
    grace: float,
) -> RunOutcome:
    name = schedule.name
    slot = decision.slot
    run_id = decision.run_id
    run_dir = decision.run_dir
    assert slot is not None and run_id is not None and run_dir is not None
    nominal_text = decision.nominal

    def starting(status: ScheduleStatus) -> None:
        status.active = runlock.count_active(name)
        if nominal_text:  # a manual run is for no fire time (as a Job made from a CronJob)
            status.lastScheduleTime = nominal_text
        status.nextScheduleTime = _next_time(schedule, started)
        started_for = f"started for {nominal_text}" if nominal_text else "started by hand"
        status.set_condition(RUN_CONDITION, "Unknown", "Running", f"run {run_id} {started_for}", rfc3339(started))

    sink.patch(starting)
    log = open(os.path.join(run_dir, LOG_NAME), "a", encoding="utf-8", buffering=1)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum: int, frame: Any) -> None:
        raise _Stopped(signum)

    if threading.current_thread() is not threading.main_thread():
        previous = {}  # only the main thread may set handlers (the Python API in a worker)
    for sig in previous:
        signal.signal(sig, stop)
    exit_code, reason, message = 0, "Succeeded", ""
    try:
        try:
            _replace_active(schedule, decision, grace, clock, log)
            job = schedule.spec.jobTemplate
            plan = build_plan(job, results_dir=run_dir)
            for lf in plan.list_files:
                os.makedirs(os.path.dirname(lf.path), exist_ok=True)
                with open(lf.path, "w", encoding="utf-8") as fh:
                    fh.write("".join(line + "\n" for line in lf.lines))
            timeout = job.options.get("timeout")
            deadline = time.monotonic() + float(timeout) if timeout else None
            child_env = {**scan_env, "JMO_SCHEDULE": name, "JMO_RUN_ID": run_id, "JMO_SCAN_STARTED_AT": rfc3339(started)}
            scan_argv = scanner_cmd + plan.scan_argv("jmo")[1:]
            code, why = _child(scan_argv, "scan", slot, log, child_env, deadline, grace)
            if why is None and code == 0:
                report_argv = scanner_cmd + plan.report_argv("jmo")[1:]
                code, why = _child(report_argv, "report", slot, log, child_env, deadline, grace)
                if why is None and code != 0:
                    reason = "FindingsAboveThreshold" if code == 1 and plan.fail_on else "ReportFailed"
                    message = (f"findings at or above {plan.fail_on} (jmo report exit 1)" if reason == "FindingsAboveThreshold"
                               else f"jmo report exited {code}")
            elif why is None:
                reason, message = "ScanFailed", f"jmo scan exited {code}"
            if why == "timeout":
                reason, message = "TimedOut", f"stopped after options.timeout ({timeout}s)"
                code = EXIT_TIMEOUT
            elif why == "replaced":
                reason, message = "Replaced", "replaced by a newer run (concurrencyPolicy Replace)"
                code = EXIT_TERMINATED
            exit_code = code
        except _Stopped as stopped:
            exit_code = EXIT_INTERRUPTED if stopped.signum == signal.SIGINT else EXIT_TERMINATED
            reason = "Replaced" if slot.replaced() else "Terminated"
            message = f"the runner got {signal.Signals(stopped.signum).name}"
        except JmoError as exc:
            exit_code, reason, message = 1, "StartFailed", str(exc)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        ended = clock()
        duration = (ended - started).total_seconds()
        succeeded = exit_code == 0
        if succeeded:
            message = f"scan and report passed in {compact_duration(duration)}"
        findings = _findings(run_dir)
        log.write(f"jmo-schedule: {reason}: {message} (exit {exit_code})\n")

        def finish(record: dict[str, Any]) -> None:
            if record.get("result") != rh.RUNNING:  # already closed by the run that replaced us
                return
            record.update(result=rh.SUCCEEDED if succeeded else rh.FAILED, reason=reason, message=message,
                          endTime=rfc3339(ended), exitCode=exit_code, findings=findings)

        rh.update_run(name, run_id, finish)
        notified = None if reason == "Replaced" else _notify(
            schedule, "success" if succeeded else "failure", run_dir, None if succeeded else message, notify_env, ended, log,
            rh.previous_results(name, run_id))
        if notified:
            rh.update_run(name, run_id, lambda r: r.update(notification=notified))
    finally:
        log.close()
        slot.release()

    def finished(status: ScheduleStatus) -> None:
        status.active = runlock.count_active(name)
        _count(status, failed=not succeeded)
        if succeeded:
            status.lastSuccessfulTime = rfc3339(ended)
        status.nextScheduleTime = _next_time(schedule, ended)
        status.set_condition(RUN_CONDITION, "True" if succeeded else "False", reason,
                             f"run {run_id}: {message}", rfc3339(ended))

    sink.patch(finished)
    prune(schedule, keep=run_id)
    return RunOutcome("ran", exit_code, reason, f"{message}; results {run_dir}", run_id, run_dir)


def _child(
    argv: list[str], what: str, slot: runlock.Slot, log: TextIO, env: dict[str, str], deadline: float | None, grace: float
) -> tuple[int, str | None]:
    """Run one scanner command in its own process group. Returns (exit code, why it was
    stopped: None, "timeout" or "replaced")."""
    if slot.replaced():
        return EXIT_TERMINATED, "replaced"
    log.write(f"jmo-schedule: {what}: {shlex.join(argv)}\n")
    log.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, pass_fds=(slot.fd,))
    except OSError as exc:
        raise JmoError(f"cannot start the scanner {argv[0]!r}: {exc.strerror or exc}") from None
    slot.write_info(pgid=proc.pid)
    why: str | None = None
    try:
        while True:
            wait = 0.2
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    why = "timeout"
                    break
                wait = min(wait, left)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                if slot.replaced():
                    why = "replaced"
                    break
        if why is not None:
            log.write(f"jmo-schedule: stopping {what} ({why})\n")
            runlock.terminate_group(proc.pid, grace, lambda: proc.poll() is None or runlock.group_alive(proc.pid))
            proc.wait()
    except _Stopped:
        runlock.terminate_group(proc.pid, grace, lambda: proc.poll() is None)
        proc.wait()
        raise
    if why is None and proc.returncode < 0 and slot.replaced():
        why = "replaced"
    code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    log.write(f"jmo-schedule: {what} exited {code}\n")
    return code, why


def _findings(run_dir: str) -> dict[str, Any] | None:
    try:
        summary = load_summary(run_dir)
    except FindingsError:
        return None
    return {"total": summary.total, "counts": dict(summary.counts)}


def _notify(schedule: ScanSchedule, status: str, run_dir: str | None, message: str | None, env: dict[str, str],
            ended: datetime, log: TextIO | None, baseline: str | None = None) -> str | None:
    """Post the run's message through notify.notify_schedule (`baseline`: the previous run's
    folder, see history.previous_results); never fails the run."""
    notifications = schedule.spec.jobTemplate.notifications or {}
    if not notifications.get("channels") or notifications.get("enabled", True) is False:
        return None
    try:
        outcome = notify_schedule(schedule, status, results_dir=run_dir, message=message, env=env, now=ended,
                                  baseline=baseline, no_baseline=None if baseline else "no earlier run in the history")
    except JmoError as exc:
        if log is not None:
            log.write(f"jmo-schedule: notify: {exc}\n")
        return f"failed: {exc}"
    parts = [str(r) for r in outcome.results] or ([outcome.note] if outcome.note else [])
    text = "; ".join(parts or list(outcome.passed_over)) or "nothing sent"
    if log is not None:
        log.write(f"jmo-schedule: notify: {text}\n")
    return text


def prune(schedule: ScanSchedule, keep: str | None = None) -> list[str]:
    """Delete run folders beyond successfulJobsHistoryLimit / failedJobsHistoryLimit,
    oldest first, never the run `keep`. Only folders this tool recorded are touched.
    Returns the folders removed."""
    name, spec = schedule.name, schedule.spec
    removed: list[str] = []
    with rh.editing(name) as data:
        for result, limit in ((rh.SUCCEEDED, spec.successfulJobsHistoryLimit), (rh.FAILED, spec.failedJobsHistoryLimit)):
            kept = [r for r in data["runs"] if r.get("result") == result and r.get("resultsDir") and not r.get("pruned")]
            excess = len(kept) - max(int(limit), 0)
            for record in kept:  # oldest first: records are appended in start order
                if excess <= 0:
                    break
                if record.get("id") == keep:
                    continue
                folder = record["resultsDir"]
                if os.path.isdir(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
                record["pruned"] = True
                excess -= 1
    return removed


def history(name: str) -> list[dict[str, Any]]:
    """Recorded runs of `name`, oldest first (see run_history)."""
    return list(rh.read(name)["runs"])
