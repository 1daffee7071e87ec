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
  play per schedule and user a minute.
- kubernetes: `kubectl create job <cronjob>-manual-<time> --from=cronjob/<cronjob>` with the
  CronJob name and namespace the generator writes; printed, or run with `apply`.

A suspended schedule is skipped on every backend (its pipeline's guard would skip it too).
Tokens travel only in request headers and never appear in output or in an error message.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from .errors import JmoError

if TYPE_CHECKING:
    import requests

    from .sync.gitlab_schedules import GitLabClient
    from .core.model import ScanSchedule

TIMEOUT = 30.0


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


class GitHubDispatch:
    """The two GitHub endpoints trigger needs, for one repository and token."""

    def __init__(self, api_url: str, repository: str, token: str, token_variable: str,
                 session: requests.Session | None = None, timeout: float = TIMEOUT):
        import requests

        from .platforms.github import headers

        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository or ""):
            raise JmoError("no GitHub repository: set GITHUB_REPOSITORY=OWNER/NAME or pass --repository")
        self.api = api_url.rstrip("/")
        self.repository = repository
        self.variable = token_variable
        self.session = session or requests.Session()
        self.session.headers.update(headers(token))
        self.timeout = timeout

    def _hints(self, forbidden: str) -> dict[int, str]:
        return {401: f"the token in ${self.variable} is missing, expired or revoked",
                403: forbidden.replace("${var}", f"${self.variable}")}

    def default_branch(self) -> str:
        """The repository's default branch, where scheduled workflows run."""
        from .platforms.github import GitHubError, error_message, send

        what = f"read repository {self.repository}"
        response = send(self.session, "GET", f"{self.api}/repos/{self.repository}", what, self.timeout)
        if response.status_code != 200:
            hints = self._hints(f"the token in ${self.variable} cannot read {self.repository} (it needs metadata: read)")
            hints[404] = f"no repository {self.repository}, or the token in ${self.variable} cannot see it"
            raise GitHubError(error_message(response, what, hints, "the API rate limit is used up; try again later"))
        try:
            branch = response.json().get("default_branch")
        except (ValueError, AttributeError):
            branch = None
        if not isinstance(branch, str) or not branch:
            raise GitHubError(f"GitHub API: {what}: no default_branch in the answer; pass --ref BRANCH")
        return branch

    def dispatch(self, workflow_file: str, ref: str) -> str | None:
        """Start a workflow_dispatch run of `workflow_file` on `ref`; the run's web URL when
        GitHub returns it (200), None for a plain 204."""
        from .platforms.github import GitHubError, error_message, send

        what = f"dispatch {workflow_file} on {ref}"
        url = f"{self.api}/repos/{self.repository}/actions/workflows/{quote(workflow_file)}/dispatches"
        response = send(self.session, "POST", url, what, self.timeout, json={"ref": ref, "return_run_details": True})
        if response.status_code == 204:
            return None
        if response.status_code == 200:
            try:
                link = response.json().get("html_url")
            except (ValueError, AttributeError):
                link = None
            return link if isinstance(link, str) and link.startswith("https://") else None
        hints = self._hints(_DISPATCH_FORBIDDEN)
        hints[404] = (f"GitHub has no workflow .github/workflows/{workflow_file} on the default branch of "
                      f"{self.repository} (merge the sync pull request that adds it), or the token in "
                      f"${self.variable} cannot see the repository")
        from .platforms.github import api_message

        detail = api_message(response)
        if "workflow_dispatch" in detail:
            hints[422] = ("the workflow file on that ref has no workflow_dispatch trigger: regenerate it with "
                          "jmo-schedule sync and merge the change")
        elif detail.startswith("No ref found"):
            hints[422] = f"{ref} is neither a branch nor a tag of {self.repository}; pass --ref BRANCH"
        raise GitHubError(error_message(response, what, hints, "the API rate limit is used up; try again later"))


def trigger_github(schedule: ScanSchedule, client: GitHubDispatch, ref: str | None = None) -> Triggered:
    """Dispatch the schedule's generated workflow on `ref` (default: the default branch)."""
    from .generators.github_actions import path_for

    skipped = skipped_when_suspended(schedule)
    if skipped:
        return skipped
    path = path_for(schedule)
    ref = ref or client.default_branch()
    link = client.dispatch(path.rsplit("/", 1)[-1], ref)
    where = link or f"see the Actions tab of {client.repository}"
    return Triggered(f"{schedule.metadata.name}: dispatched {path} on {ref}: {where}")


# ------------------------------------------------------------------------------------
# GitLab CI


def trigger_gitlab(schedule: ScanSchedule, client: GitLabClient, token_variable: str) -> Triggered:
    """Play the project's pipeline schedule `jmo-schedule: <name>` (the lowest id if several)."""
    from .sync.gitlab_schedules import DESCRIPTION_PREFIX, managed_name, short_ref

    skipped = skipped_when_suspended(schedule)
    if skipped:
        return skipped
    name = schedule.metadata.name
    found = sorted((item for item in client.list() if managed_name(item.get("description")) == name),
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
    from .generators.kubernetes import cronjob

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
    import shutil
    import subprocess

    binary = shutil.which(argv[0])
    if binary is None:
        raise JmoError("kubectl is not on PATH; run the printed command where it is (without --apply)")
    proc = subprocess.run([binary, *argv[1:]], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    text = (proc.stdout if proc.returncode == 0 else proc.stderr or proc.stdout).strip()
    return proc.returncode, text.splitlines()[0] if text else ""
