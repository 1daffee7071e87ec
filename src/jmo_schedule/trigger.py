"""One run of a schedule now, on the schedule's own backend (`jmo-schedule trigger`).

- local-cron: `runner.run_schedule(manual=True)` runs it on this machine at once: a manual
  run for no fire time that still honours suspend and concurrencyPolicy (not the deadline),
  recorded in the history as manual.
- github-actions: dispatches the generated workflow `.github/workflows/jmo-<name>.yml`
  (`POST /repos/{owner}/{repo}/actions/workflows/{file}/dispatches`, 204, or 200 with the
  run's id and URL when `return_run_details` is set) on the repository's default branch
  (`GET /repos/{owner}/{repo}` -> `default_branch`) or `ref`. The token needs actions: write.
- gitlab-ci: plays the pipeline schedule `jmo-schedule: <name>` that gitlab-schedules made
  (`POST /projects/:id/pipeline_schedules/:id/play`, 201): at least the Developer role, one
  play per schedule and user a minute. GitLab starts a played schedule's pipeline as a
  scheduled one (CI_PIPELINE_SOURCE=schedule), so its guard applies startingDeadlineSeconds:
  when the guard would skip it, nothing is played and the error says why.
- kubernetes: `kubectl create job <cronjob>-manual-<time> --from=cronjob/<cronjob>` with the
  CronJob name and namespace the generator writes; printed, or run with `apply`.

A suspended schedule is skipped on every backend (its pipeline's guard would skip it too).
Tokens travel only in request headers and never appear in output or in an error message.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .core import policy
from .core.cron import previous_run
from .core.gitlab_names import DESCRIPTION_PREFIX, managed_name, short_ref
from .core.model import ScanSchedule
from .core.timefmt import utc_and_wall
from .errors import JmoError
from .generators.github_actions import path_for
from .generators.kubernetes import cronjob
from .platforms.github import GitHub
from .platforms.gitlab import GitLab


@dataclass(frozen=True)
class Triggered:
    """What a trigger did: one line to print, and the exit code."""

    line: str
    exit_code: int = 0


def skipped_when_suspended(schedule: ScanSchedule) -> Triggered | None:
    """The skip of a suspended schedule on a CI backend (local runs record their own)."""
    if not schedule.spec.suspend:
        return None
    name = schedule.metadata.name
    return Triggered(f"{name}: skipped: schedule is suspended (spec.suspend: true); nothing was started "
                     f"(jmo-schedule resume {name} first)")


# ------------------------------------------------------------------------------------
# GitHub Actions


_DISPATCH_FORBIDDEN = ("the token in ${var} cannot start workflows: it needs actions: write (a workflow's "
                       "GITHUB_TOKEN: `permissions: actions: write`; a fine-grained token: Actions: Read and write; "
                       "a classic token: the repo scope)")


def trigger_github(schedule: ScanSchedule, client: GitHub, ref: str | None = None) -> Triggered:
    """Dispatch the schedule's generated workflow on `ref` (default: the default branch)."""
    skipped = skipped_when_suspended(schedule)
    if skipped:
        return skipped
    path = path_for(schedule)
    workflow = path.rsplit("/", 1)[-1]
    ref = ref or client.default_branch()
    variable = client.token_variable
    link = client.dispatch(workflow, ref, hints={
        403: _DISPATCH_FORBIDDEN.replace("${var}", f"${variable}"),
        404: (f"GitHub has no workflow .github/workflows/{workflow} on the default branch of {client.repository} "
              f"(merge the sync pull request that adds it), or the token in ${variable} cannot see the repository"),
    })
    where = link or f"see the Actions tab of {client.repository}"
    return Triggered(f"{schedule.metadata.name}: dispatched {path} on {ref}: {where}")


# ------------------------------------------------------------------------------------
# GitLab CI


def trigger_gitlab(schedule: ScanSchedule, client: GitLab, now: datetime) -> Triggered:
    """Play the project's pipeline schedule `jmo-schedule: <name>` (the lowest id if several),
    unless the pipeline's guard would skip it as too late (JmoError: nothing is played)."""
    skipped = skipped_when_suspended(schedule)
    if skipped:
        return skipped
    name = schedule.metadata.name
    spec = schedule.spec
    nominal = previous_run(spec.schedule, spec.timezone, now)
    verdict: policy.Verdict[object] = policy.decide(spec, now=now, nominal=nominal, who_else=lambda: ())
    if verdict.reason == policy.MISSED_DEADLINE:
        assert nominal is not None
        raise JmoError(
            f"{name}: not played: GitLab starts a played schedule's pipeline as a scheduled one, and its guard "
            f"skips a run that starts more than startingDeadlineSeconds ({spec.startingDeadlineSeconds}) after its "
            f"fire time (the last: {utc_and_wall(nominal, spec.timezone)}); play it within that window after a fire "
            "time, or raise startingDeadlineSeconds")
    token_variable = client.token_variable
    found = sorted((item for item in client.list_schedules() if managed_name(item.get("description")) == name),
                   key=lambda item: int(item.get("id", 0)))
    if not found:
        raise JmoError(f"the GitLab project has no pipeline schedule '{DESCRIPTION_PREFIX}{name}' yet: the sync job "
                       "creates it (jmo-schedule gitlab-schedules)")
    item = found[0]
    schedule_id = int(item["id"])
    client.play(schedule_id, {
        403: f"the token in ${token_variable} needs the api scope, and its user at least the Developer role and the "
             "right to run pipelines on the schedule's ref (on a protected branch: push or merge rights)",
        429: "GitLab allows one play of a schedule per user a minute; try again {wait}",
    })
    ref = short_ref(str(item.get("ref") or "")) or "its ref"
    return Triggered(f"{name}: played pipeline schedule {schedule_id} on {ref}: GitLab starts its pipeline now")


# ------------------------------------------------------------------------------------
# Kubernetes


def kubernetes_command(schedule: ScanSchedule, now: datetime) -> list[str]:
    """`kubectl create job` making one Job from the schedule's generated CronJob, named
    `<cronjob>-manual-<unix time>` (at most 63 characters, as a Job's name label must be)."""
    metadata = cronjob(schedule)["metadata"]
    name = str(metadata["name"])
    suffix = f"-manual-{int(now.timestamp())}"
    argv = ["kubectl", "create", "job", name[: 63 - len(suffix)].rstrip("-") + suffix, f"--from=cronjob/{name}"]
    if metadata.get("namespace"):
        argv += ["--namespace", str(metadata["namespace"])]
    return argv


def trigger_kubernetes(schedule: ScanSchedule, now: datetime, *, apply: bool = False,
                       run: Callable[[list[str]], tuple[int, str]] | None = None) -> Triggered:
    """The kubectl command line, or with `apply` the outcome of running it."""
    skipped = skipped_when_suspended(schedule)
    if skipped:
        return skipped
    argv = kubernetes_command(schedule, now)
    if not apply:
        return Triggered(shlex.join(argv))
    code, output = (run or _run_kubectl)(argv)
    if code != 0:
        raise JmoError(f"{shlex.join(argv)} failed: {output or f'exit {code}'}")
    return Triggered(f"{schedule.metadata.name}: {output or 'job created'}")


def _run_kubectl(argv: list[str]) -> tuple[int, str]:
    """Run kubectl; (exit code, its first line of output: the error, or `job.batch/... created`)."""
    binary = shutil.which(argv[0])
    if binary is None:
        raise JmoError("kubectl is not on PATH; run the printed command where it is (without --apply)")
    proc = subprocess.run([binary, *argv[1:]], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    text = (proc.stdout if proc.returncode == 0 else proc.stderr or proc.stdout).strip()
    return proc.returncode, text.splitlines()[0] if text else ""
