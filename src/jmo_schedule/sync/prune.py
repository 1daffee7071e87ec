"""History limits on GitHub Actions and GitLab CI: delete each schedule's old runs.

`spec.successfulJobsHistoryLimit` (default 30) and `spec.failedJobsHistoryLimit` (default
10) mean what they mean for a Kubernetes CronJob: keep that many of the newest finished
runs that succeeded, and that many that failed; delete the older ones. Kubernetes does it
natively and the local backend's `run` prunes its result folders. On GitHub and GitLab the
sync job calls `jmo-schedule prune`, which deletes through the REST APIs:

- GitHub: the runs of the generated workflow `.github/workflows/jmo-<name>.yml`
  (`GET /repos/{owner}/{repo}/actions/workflows/jmo-<name>.yml/runs?status=completed`,
  `DELETE /repos/{owner}/{repo}/actions/runs/{run_id}`: the token needs actions: write).
- GitLab: the pipelines started by the schedule's pipeline schedule, found by the
  description prefix gitlab_schedules manages (`GET /projects/:id/pipeline_schedules/
  :sid/pipelines`, `DELETE /projects/:id/pipelines/:pipeline_id`: only a project Owner
  may delete pipelines).

How a run counts (`github_kind`, `gitlab_kind`):
- succeeded: GitHub conclusion success, neutral or skipped; GitLab status success or
  skipped. A run the guard skipped ends in success, so it counts as a successful run.
- failed: GitHub failure, timed_out, startup_failure or cancelled; GitLab failed or
  canceled. A cancelled run did not do its work: it is kept like a failure, to see why.
- never touched and not counted: every run that has not finished (queued, in_progress,
  waiting, pending, running, canceling, manual, scheduled, ...) and any conclusion not
  listed above (action_required, stale): deleting one could hide work still going on.

`plan()` is pure; the platform clients (platforms/github.py, platforms/gitlab.py) speak
HTTP; `prune_github()` and `prune_gitlab()` carry the plans out. Tokens travel only in request headers and never
appear in output or in an error message.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.gitlab_names import DESCRIPTION_PREFIX, managed_name
from ..core.model import ScanSchedule
from ..core.plural import counted
from ..core.timefmt import parse_timestamp, rfc3339
from ..errors import JmoError
from ..generators.github_actions import path_for
from ..platforms.github import GitHub
from ..platforms.gitlab import GitLab

SUCCEEDED = "succeeded"
FAILED = "failed"
BACKENDS = ("github-actions", "gitlab-ci")
MAX_PAGES = 100  # GitHub answers at most 1,000 runs when filtering by status anyway

GITHUB_SUCCEEDED = frozenset({"success", "neutral", "skipped"})
GITHUB_FAILED = frozenset({"failure", "timed_out", "startup_failure", "cancelled"})
GITLAB_SUCCEEDED = frozenset({"success", "skipped"})
GITLAB_FAILED = frozenset({"failed", "canceled"})

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Run:
    """One run (GitHub) or pipeline (GitLab) as prune sees it."""

    id: str
    created: str  # as the API gave it
    state: str  # the platform's own word: GitHub conclusion, GitLab status
    kind: str | None  # SUCCEEDED, FAILED, or None: not finished or unknown, never touched


@dataclass(frozen=True)
class Plan:
    """What to do with one schedule's runs."""

    name: str
    keep: tuple[Run, ...]
    delete: tuple[Run, ...]
    untouched: tuple[Run, ...]


@dataclass
class Summary:
    """Totals over every schedule pruned, for the last line of output."""

    schedules: int = 0  # looked at, including the missing ones
    deleted: int = 0
    kept: int = 0
    untouched: int = 0
    already_gone: int = 0
    missing: list[str] = field(default_factory=list)  # schedules with nothing on the platform yet

    def line(self, noun: str, dry_run: bool) -> str:
        """e.g. `prune: 3 runs deleted, 40 kept, 1 left alone (2 schedules)`; runs left alone
        are those not finished (or with an outcome that is neither success nor failure)."""
        head = "prune (dry run):" if dry_run else "prune:"
        verb = "would be deleted" if dry_run else "deleted"
        where = counted(self.schedules, "schedule") + (f", {len(self.missing)} not set up yet" if self.missing else "")
        return f"{head} {counted(self.deleted, noun)} {verb}, {self.kept} kept, {self.untouched} left alone ({where})"


def github_kind(status: Any, conclusion: Any) -> str | None:
    """SUCCEEDED, FAILED or None for a GitHub workflow run's status and conclusion."""
    if status != "completed":
        return None
    if conclusion in GITHUB_SUCCEEDED:
        return SUCCEEDED
    if conclusion in GITHUB_FAILED:
        return FAILED
    return None


def gitlab_kind(status: Any) -> str | None:
    """SUCCEEDED, FAILED or None for a GitLab pipeline status."""
    if status in GITLAB_SUCCEEDED:
        return SUCCEEDED
    if status in GITLAB_FAILED:
        return FAILED
    return None


def github_run(data: Mapping[str, Any]) -> Run:
    """A Run from one item of GitHub's `workflow_runs`."""
    status, conclusion = data.get("status"), data.get("conclusion")
    state = conclusion if status == "completed" else status
    return Run(_clean(data.get("id")), str(data.get("created_at") or data.get("run_started_at") or ""),
               _clean(state), github_kind(status, conclusion))


def gitlab_run(data: Mapping[str, Any]) -> Run:
    """A Run from one pipeline of GitLab's list."""
    status = data.get("status")
    return Run(_clean(data.get("id")), str(data.get("created_at") or ""), _clean(status), gitlab_kind(status))


def newest_first(runs: Iterable[Run]) -> list[Run]:
    """Runs by id, highest first: both platforms hand out ids in creation order."""
    return sorted(runs, key=lambda r: int(r.id) if r.id.isdigit() else -1, reverse=True)


def plan(name: str, runs: Sequence[Run], successful_limit: int, failed_limit: int) -> Plan:
    """Keep the newest `successful_limit` succeeded and `failed_limit` failed runs of
    `runs` (newest first); delete the older ones. Runs with no kind are never deleted and
    do not count. A run listed twice (pages shifting under a new run) counts once. Pure."""
    limits = {SUCCEEDED: max(0, successful_limit), FAILED: max(0, failed_limit)}
    seen: dict[str, int] = {SUCCEEDED: 0, FAILED: 0}
    ids: set[str] = set()
    keep: list[Run] = []
    delete: list[Run] = []
    untouched: list[Run] = []
    for run in runs:
        if run.id in ids:
            continue
        ids.add(run.id)
        if run.kind is None:
            untouched.append(run)
            continue
        seen[run.kind] += 1
        (keep if seen[run.kind] <= limits[run.kind] else delete).append(run)
    return Plan(name, tuple(keep), tuple(delete), tuple(untouched))


def pick_backend(requested: str | None, env: Mapping[str, str], schedules: Sequence[ScanSchedule]) -> str:
    """--backend, else the CI system this runs in, else the one of the two the file uses."""
    if requested:
        return requested
    if env.get("GITHUB_ACTIONS") == "true":
        return "github-actions"
    if env.get("GITLAB_CI") == "true":
        return "gitlab-ci"
    used = sorted({s.spec.backend.type for s in schedules} & set(BACKENDS))
    if len(used) == 1:
        return used[0]
    raise JmoError("pass --backend github-actions or --backend gitlab-ci "
                   "(not inside GitHub Actions or GitLab CI, and the file does not say which)")


# ------------------------------------------------------------------------------------
# GitHub


_READ_HINT = "the token cannot read this repository's Actions runs (it needs actions: read)"
_DELETE_HINT = ("deleting runs needs actions: write: add `permissions: actions: write` to the sync job "
                "(GITHUB_TOKEN), or give the GitHub App / fine-grained PAT Actions: read and write "
                "(a classic PAT needs the repo scope)")
RATE_LIMITED = "the API rate limit is used up; the next sync tries again"


def list_runs(client: GitHub, workflow: str) -> list[dict[str, Any]] | None:
    """Every completed run of `workflow`, across all pages; None when GitHub has no such
    workflow (404: the sync pull request that adds it is not merged yet)."""
    return client.workflow_runs(workflow, status="completed", what=f"list runs of {workflow}", missing_ok=True,
                                hints={403: _READ_HINT, 429: RATE_LIMITED}, max_pages=MAX_PAGES,
                                exclude_pull_requests="true")


def prune_github(schedules: Sequence[ScanSchedule], client: GitHub, *, dry_run: bool = False,
                 log: Callable[[str], None] = lambda _: None) -> Summary:
    """Apply each github-actions schedule's history limits to its workflow's runs."""
    summary = Summary()

    def delete(run_id: str, what: str) -> bool:
        return client.delete_run(run_id, what, hints={403: _DELETE_HINT, 429: RATE_LIMITED})

    for schedule in schedules:
        name = schedule.metadata.name
        path = path_for(schedule)
        found = list_runs(client, path.rsplit("/", 1)[-1])
        if found is None:
            log(f"{name}: GitHub has no workflow {path} yet (the sync pull request adds it); nothing to prune")
            summary.missing.append(name)
            summary.schedules += 1
            continue
        runs = newest_first(github_run(r) for r in found)
        _carry_out(plan(name, runs, schedule.spec.successfulJobsHistoryLimit, schedule.spec.failedJobsHistoryLimit),
                   "run", delete, dry_run, log, summary)
    return summary


# ------------------------------------------------------------------------------------
# GitLab


_OWNER_ONLY = ("only a project Owner may delete pipelines: give the project access token in ${var} the Owner "
               "role (and the api scope), or turn pruning off (component input prune: false, the default)")


def prune_gitlab(schedules: Sequence[ScanSchedule], client: GitLab, *, dry_run: bool = False,
                 log: Callable[[str], None] = lambda _: None) -> Summary:
    """Apply each gitlab-ci schedule's history limits to the pipelines its pipeline schedule started."""
    owner_only = {403: _OWNER_ONLY.replace("${var}", f"${client.token_variable}")}

    def delete(pipeline_id: str, what: str) -> bool:
        return client.delete_pipeline(pipeline_id, what, hints=owner_only)

    ids: dict[str, list[int]] = {}
    for item in client.list_schedules():
        name = managed_name(item.get("description"))
        if name is not None and str(item.get("id", "")).isdigit():
            ids.setdefault(name, []).append(int(item["id"]))
    summary = Summary()
    for schedule in schedules:
        name = schedule.metadata.name
        if name not in ids:
            log(f"{name}: the project has no pipeline schedule '{DESCRIPTION_PREFIX}{name}' yet "
                "(gitlab-schedules creates it); nothing to prune")
            summary.missing.append(name)
            summary.schedules += 1
            continue
        found = [p for sid in sorted(ids[name]) for p in client.schedule_pipelines(sid)]  # every page
        runs = newest_first(gitlab_run(p) for p in found)
        _carry_out(plan(name, runs, schedule.spec.successfulJobsHistoryLimit, schedule.spec.failedJobsHistoryLimit),
                   "pipeline", delete, dry_run, log, summary)
    return summary


# ------------------------------------------------------------------------------------


def _carry_out(p: Plan, noun: str, delete: Callable[[str, str], bool], dry_run: bool,
               log: Callable[[str], None], summary: Summary) -> None:
    summary.schedules += 1
    summary.kept += len(p.keep)
    summary.untouched += len(p.untouched)
    for run in p.delete:
        about = f"{noun} {run.id} of {p.name}"
        detail = f"({_when(run.created)}, {run.state})"
        if dry_run:
            log(f"would delete {about} {detail}")
            summary.deleted += 1
        elif delete(run.id, f"delete {about}"):
            log(f"deleted {about} {detail}")
            summary.deleted += 1
        else:
            log(f"{about} was already gone")
            summary.already_gone += 1


def _when(text: str) -> str:
    """An API timestamp as `2026-11-20T02:03:11Z` (UTC, whole seconds); as given if unparsable."""
    moment = parse_timestamp(text)
    if moment is None:
        return _clean(text) or "no date"
    return rfc3339(moment)


def _clean(value: Any) -> str:
    """An API value safe for one log line: no control characters, at most 40 characters."""
    return _UNSAFE.sub(" ", str(value if value is not None else "unknown")).strip()[:40]
