"""What each backend shows of a schedule, for the audit (audit.py does the accounting).

- github-actions: the generated workflow (`state`, `created_at`), its runs created in the
  window (events `schedule` and `workflow_dispatch`), and for the newest finished runs that
  succeeded, the jobs' steps: the `Scan` step concluded `skipped` means the guard said skip;
  its reason is the guard's `::notice` annotation on the job (check-run annotations).
- gitlab-ci: the pipeline schedule `jmo-schedule: NAME` (`active`, `owner`, `created_at`,
  `next_run_at`), its pipelines, and for the newest that succeeded the scan job's
  `jmo-NAME/guard.env` artifact (JMO_GUARD_RUN / JMO_GUARD_REASON).
- kubernetes: the CronJob `jmo-NAME` as `kubectl get cronjob -o json` prints it.
- local-cron: the run history, whether the entries are installed, whether cron or the
  user's systemd manager is running.

Every collector returns an `Observed`; a platform's refusal becomes `Observed.unknown`, one
line that names the token variable and the permission, never an exception.
"""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ..core.gitlab_names import managed_name
from ..core.model import ScanSchedule
from ..core.timefmt import parse_timestamp, rfc3339
from ..errors import ApiError, JmoError
from ..generators.github_actions import path_for
from ..generators.gitlab_ci import job_names
from . import audit
from .audit import Observed, Run
from .guard import NOTICE_TITLE, parse_dotenv

# Runs whose skip record is read (1-2 API calls each), newest first; older successful
# runs count as ran.
INSPECT_LIMIT = 30
# GitHub answers a filtered run listing with at most this many runs (REST docs).
GITHUB_SEARCH_CAP = 1000
SCAN_STEP = "Scan"  # the generated workflow's scan step (generators/github_actions.py)

_GITHUB_OUTCOMES = {"success": audit.SUCCESS, "neutral": audit.SUCCESS, "failure": audit.FAILURE,
                    "timed_out": audit.FAILURE, "startup_failure": audit.FAILURE, "stale": audit.FAILURE,
                    "cancelled": audit.CANCELLED, "skipped": audit.SKIPPED}
_GITLAB_OUTCOMES = {"success": audit.SUCCESS, "failed": audit.FAILURE, "canceled": audit.CANCELLED,
                    "canceling": audit.CANCELLED, "skipped": audit.SKIPPED}


def _when(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


# --- GitHub Actions ----------------------------------------------------------------------


def github(schedule: ScanSchedule, client: Any, *, start: datetime, fix: bool = False,
           inspect: int = INSPECT_LIMIT) -> Observed:
    """The workflow `jmo-NAME.yml` and its runs created since `start`, through `client`
    (platforms.github.GitHub); with `fix`, a workflow disabled for inactivity is enabled."""
    workflow = os.path.basename(path_for(schedule))
    variable = client.token_variable
    read = {403: f"the token in ${variable} needs actions: read on {client.repository}"}
    try:
        wf = client.workflow(workflow, f"read workflow {workflow}", hints=read)
        if wf is None:
            return Observed(disabled=f"GitHub has no workflow {workflow} in {client.repository}: merge the sync "
                                     "pull request that adds it to the default branch")
        disabled, fixed = _github_state(client, workflow, str(wf.get("state") or ""), fix)
        began = _when(wf.get("created_at"))
        since = ">=" + rfc3339(max(start, began) if began else start).replace("Z", "+00:00")
        listed: list[dict[str, Any]] = []
        for event in ("schedule", "workflow_dispatch"):
            listed += client.workflow_runs(workflow, status=None, what=f"list {event} runs of {workflow}",
                                           hints=read, event=event, created=since) or []
        runs, notes = _github_runs(client, listed, inspect)
    except ApiError as exc:
        return Observed(unknown=str(exc))
    scheduled = [r for r in runs if r.scheduled]
    visible = None
    if len(scheduled) >= GITHUB_SEARCH_CAP:  # GitHub returned only the newest 1,000
        visible = min(r.created for r in scheduled)
        notes.append(f"GitHub lists at most {GITHUB_SEARCH_CAP} runs per query: fire times before "
                     f"{rfc3339(visible)} are not judged")
    return Observed(tuple(runs), began, visible, disabled, fixed=fixed, notes=tuple(notes))


def _github_state(client: Any, workflow: str, state: str, fix: bool) -> tuple[str | None, tuple[str, ...]]:
    """(why the workflow will not run, what --fix did)."""
    if state == "active":
        return None, ()
    if state == "disabled_inactivity":
        advice = ("GitHub disabled it after 60 days without activity in the repository; "
                  f"enable it in the Actions tab or run jmo-schedule audit --fix")
        if not fix:
            return f"workflow {workflow} is disabled_inactivity: {advice}", ()
        try:
            client.enable_workflow(workflow, hints={
                403: f"the token in ${client.token_variable} needs actions: write to enable it"})
        except ApiError as exc:
            return f"workflow {workflow} is disabled_inactivity; --fix could not enable it: {exc}", ()
        return (f"workflow {workflow} was disabled_inactivity (60 days without activity); re-enabled by --fix",
                (f"enabled workflow {workflow} (was disabled_inactivity)",))
    if state == "disabled_manually":
        return (f"workflow {workflow} is disabled_manually: someone disabled it in the Actions tab; enable it there "
                "(or `gh workflow enable`) if that was not meant, or set spec.suspend: true"), ()
    return f"workflow {workflow} is {state or 'in an unknown state'}: GitHub will not run it", ()


def _github_runs(client: Any, listed: Iterable[dict[str, Any]], inspect: int) -> tuple[list[Run], list[str]]:
    runs: list[Run] = []
    notes: list[str] = []
    seen: set[str] = set()
    for r in sorted(listed, key=lambda x: str(x.get("created_at") or ""), reverse=True):
        rid, created = str(r.get("id")), _when(r.get("created_at"))
        if rid in seen or created is None:
            continue
        seen.add(rid)
        scheduled = r.get("event") == "schedule"
        if r.get("status") != "completed":
            outcome = audit.RUNNING
        else:
            outcome = _GITHUB_OUTCOMES.get(str(r.get("conclusion")), audit.FAILURE)
        reason = None
        if outcome == audit.SUCCESS and scheduled:
            if inspect > 0:
                inspect -= 1
                skipped, reason = _github_skip(client, rid)
                outcome = audit.SKIPPED if skipped else outcome
            elif not notes:
                notes.append(f"only the newest {INSPECT_LIMIT} successful runs were checked for guard skips")
        runs.append(Run(rid, created, outcome, scheduled, reason=reason, url=r.get("html_url")))
    return runs, notes


def _github_skip(client: Any, run_id: str) -> tuple[bool, str | None]:
    """Whether the guard skipped the scan of run `run_id`, and its reason when readable."""
    for job in client.run_jobs(run_id):
        steps = job.get("steps") or []
        if not any(isinstance(s, dict) and s.get("name") == SCAN_STEP and s.get("conclusion") == "skipped"
                   for s in steps):
            continue
        # A job is a check run: its check_run_url ends in the check run's id (the job's own).
        check_run = str(job.get("check_run_url") or "").rstrip("/").rsplit("/", 1)[-1] or str(job.get("id"))
        try:
            notices = client.annotations(check_run, hints={403: ""})
        except ApiError as exc:
            if exc.status == 403:
                return True, f"reason not readable: the token in ${client.token_variable} needs checks: read"
            raise
        for note in notices:
            message = str(note.get("message") or "")
            if note.get("title") == NOTICE_TITLE or message.startswith("skip: "):
                return True, message.removeprefix("skip: ")
        return True, None
    return False, None


# --- GitLab CI -----------------------------------------------------------------------------


def gitlab(schedule: ScanSchedule, client: Any, listed: list[dict[str, Any]], *, start: datetime, fix: bool = False,
           inspect: int = INSPECT_LIMIT) -> Observed:
    """The pipeline schedule of `schedule` among `listed` (every schedule of the project)
    and its pipelines created since `start`; with `fix`, an inactive schedule is activated."""
    name = schedule.name
    found = [s for s in listed if managed_name(s.get("description")) == name]
    if not found:
        return Observed(disabled=f"the project has no pipeline schedule 'jmo-schedule: {name}': run "
                                 "jmo-schedule gitlab-schedules (the sync job does)")
    sched = found[0]
    sid = int(sched["id"])
    began = _when(sched.get("created_at"))
    problems: list[str] = []
    fixed: list[str] = []
    owner: dict[str, Any] = sched["owner"] if isinstance(sched.get("owner"), dict) else {}
    who = f"@{owner.get('username')}" if owner.get("username") else "its owner"
    if owner and owner.get("state", "active") != "active":
        problems.append(f"pipeline schedule {sid}'s owner {who} is {owner.get('state')}: its pipelines no longer "
                        "start; a Maintainer must take ownership (jmo-schedule gitlab-schedules does, with "
                        f"${client.token_variable})")
    if sched.get("active") is False and not schedule.spec.suspend:
        if fix:
            try:
                client.update_schedule(sid, {"active": True})
                fixed.append(f"activated pipeline schedule {sid} 'jmo-schedule: {name}'")
                problems.append(f"pipeline schedule {sid} was inactive; activated by --fix")
            except ApiError as exc:
                problems.append(f"pipeline schedule {sid} is inactive; --fix could not activate it ({exc}); "
                                f"only its owner {who} may edit it: take ownership first")
        else:
            problems.append(f"pipeline schedule {sid} is inactive (active: false): activate it in Build > "
                            "Pipeline schedules or run jmo-schedule audit --fix")
    notes = [f"next run at {sched['next_run_at']}"] if sched.get("next_run_at") and sched.get("active") else []
    try:
        runs = _gitlab_runs(client, schedule, sid, start, inspect, notes)
    except ApiError as exc:
        return Observed(began=began, unknown=str(exc), fixed=tuple(fixed))
    return Observed(tuple(runs), began, None, "; ".join(problems) or None, fixed=tuple(fixed), notes=tuple(notes))


def _gitlab_runs(client: Any, schedule: ScanSchedule, sid: int, start: datetime, inspect: int,
                 notes: list[str]) -> list[Run]:
    runs: list[Run] = []
    pipelines = [p for p in client.schedule_pipelines(sid, newest_first=True)
                 if (_when(p.get("created_at")) or start) >= start]
    for p in sorted(pipelines, key=lambda x: int(x["id"]), reverse=True):
        created = _when(p.get("created_at"))
        if created is None:
            continue
        status = str(p.get("status"))
        outcome = _GITLAB_OUTCOMES.get(status, audit.RUNNING)
        reason = None
        if outcome == audit.SUCCESS:
            if inspect > 0:
                inspect -= 1
                scan = [j for j in client.pipeline_jobs(str(p["id"])) if j.get("name") == job_names(schedule.name)["scan"]]
                text = client.artifact_file(str(scan[0]["id"]), f"jmo-{schedule.name}/guard.env") if scan else None
                decision = parse_dotenv(text) if text else None
                if decision is not None and not decision.run:
                    outcome, reason = audit.SKIPPED, decision.reason
            elif not any(n.startswith("only the newest") for n in notes):
                notes.append(f"only the newest {INSPECT_LIMIT} successful pipelines were checked for guard skips")
        runs.append(Run(str(p["id"]), created, outcome, True, reason=reason, url=p.get("web_url")))
    return runs


# --- Kubernetes ----------------------------------------------------------------------------

Kubectl = Callable[[list[str]], "tuple[int, str, str]"]


def load_cronjobs(text: str, where: str) -> list[dict[str, Any]]:
    """The CronJobs in `kubectl get cronjob(s) -o json` output: a List or one object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JmoError(f"{where}: not JSON ({exc.msg} at line {exc.lineno})") from None
    items = data.get("items") if isinstance(data, dict) and data.get("kind", "").endswith("List") else [data]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise JmoError(f"{where}: not the output of kubectl get cronjob -o json")
    return [i for i in items if i.get("kind", "CronJob") == "CronJob"]


def run_kubectl(argv: list[str]) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    except FileNotFoundError:
        raise JmoError("kubectl is not on PATH: install it, or pass --from-json FILE "
                       "(the output of kubectl get cronjob -o json)") from None
    except subprocess.TimeoutExpired:
        return 1, "", "kubectl did not answer within 60s"
    return proc.returncode, proc.stdout, proc.stderr


def cronjobs_from_kubectl(namespaces: Iterable[str | None], kubectl: Kubectl = run_kubectl) -> list[dict[str, Any]]:
    """Every CronJob of each namespace (None: kubectl's current one)."""
    out: list[dict[str, Any]] = []
    for ns in sorted(set(namespaces), key=lambda n: n or ""):
        argv = ["kubectl", "get", "cronjobs", "-o", "json"] + (["-n", ns] if ns else [])
        code, stdout, stderr = kubectl(argv)
        if code != 0:
            last = (stderr.strip().splitlines() or ["(no message)"])[-1]  # kubectl ends with the error itself
            raise JmoError(f"{' '.join(argv)} failed (exit {code}): {last}")
        out += load_cronjobs(stdout, "kubectl get cronjobs")
    return out


def kubernetes(schedule: ScanSchedule, cronjobs: list[dict[str, Any]]) -> Observed:
    """The CronJob `jmo-NAME` (in backend.config.namespace when set) among `cronjobs`."""
    name = f"jmo-{schedule.name}"
    ns = (schedule.spec.backend.config or {}).get("namespace")
    found = [c for c in cronjobs if (c.get("metadata") or {}).get("name") == name
             and (not ns or (c.get("metadata") or {}).get("namespace") in (ns, None))]
    where = f" in namespace {ns}" if ns else ""
    if not found:
        return Observed(disabled=f"no CronJob {name}{where}: kubectl apply -f deploy/kubernetes/{name}.yaml")
    cj = found[0]
    meta, spec, status = cj.get("metadata") or {}, cj.get("spec") or {}, cj.get("status") or {}
    began = _when(meta.get("creationTimestamp"))
    disabled = None
    if spec.get("suspend") is True and not schedule.spec.suspend:
        disabled = (f"CronJob {name} is suspended in the cluster but not in the schedules file: kubectl patch cronjob "
                    f"{name} -p '{{\"spec\":{{\"suspend\":false}}}}'")
    notes = []
    if spec.get("schedule") and spec.get("schedule") != schedule.spec.schedule:
        notes.append(f"the cluster's schedule {spec.get('schedule')!r} differs from the file's "
                     f"{schedule.spec.schedule!r}: apply deploy/kubernetes/{name}.yaml")
    last = _when(status.get("lastScheduleTime"))
    if last is None:
        return Observed((), began, None, disabled, notes=tuple(notes))
    success = _when(status.get("lastSuccessfulTime"))
    if status.get("active"):
        outcome = audit.RUNNING
    elif success is not None and success >= last:
        outcome = audit.SUCCESS
    else:
        outcome = audit.FAILURE
    run = Run(f"{name}@{rfc3339(last)}", last, outcome, True, nominal=last)
    notes.append("Kubernetes keeps only the last schedule time: earlier fire times are not judged")
    return Observed((run,), began, last, disabled, notes=tuple(notes))


# --- local cron ------------------------------------------------------------------------------

_LOCAL_OUTCOMES = {"Succeeded": audit.SUCCESS, "Failed": audit.FAILURE, "Skipped": audit.SKIPPED,
                   "Running": audit.RUNNING}


def local(schedule: ScanSchedule, history: Mapping[str, Any], *, installed: str | None, runner: str | None) -> Observed:
    """The run history of `schedule`; `installed` says where its entries are ("crontab",
    "systemd", None: nowhere); `runner` why nothing would fire them (None: something does)."""
    runs: list[Run] = []
    for r in history.get("runs") or []:
        created = _when(r.get("startTime"))
        if created is None:
            continue
        nominal = _when(r.get("scheduledTime"))
        outcome = _LOCAL_OUTCOMES.get(str(r.get("result")), audit.FAILURE)
        reason = r.get("message") if outcome == audit.SKIPPED else None
        runs.append(Run(str(r.get("id")), created, outcome, nominal is not None, nominal=nominal, reason=reason,
                        url=r.get("resultsDir")))
    floors = [t for t in (_when(schedule.metadata.creationTimestamp), _when(history.get("installedAt"))) if t]
    began = max(floors) if floors else None
    disabled = None
    if installed is None:
        disabled = "not installed in the crontab or systemd timers: run jmo-schedule install"
    elif runner:
        disabled = runner
    return Observed(tuple(runs), began, None, disabled)
