"""The guard: the first step of a scheduled scan job decides whether the scan runs.

CI schedulers cannot express everything a ScanSchedule says, so the job asks first:
1. `spec.suspend: true` -> skip (manual runs too: suspended means no scans);
2. a manual run (GitHub workflow_dispatch or any event but `schedule`; GitLab
   CI_PIPELINE_SOURCE other than `schedule`) -> run, no further checks;
3. GitHub only, when the workflow passes `JMO_EVENT_SCHEDULE: ${{ github.event.schedule }}`:
   a cron that is not this schedule's (a stale workflow file) -> skip;
4. `startingDeadlineSeconds`: the nominal time is `cron.previous_run(schedule, tz, now)`
   (the shared, DST-aware time semantics); started more than the deadline after it -> skip;
5. `concurrencyPolicy` (Kubernetes' meaning): Forbid skips this run while another one is
   active; Replace cancels the other one; Allow runs both.
   GitHub: runs of the same workflow are ordered by run_number (then id), a total order,
   so of runs that overlap exactly one goes on: Forbid skips this run when an OLDER run
   of the workflow is unfinished (requested, queued, pending, waiting or in progress; two
   runs that start together do not both skip), Replace cancels every older unfinished
   run (a newer one replaces this one in turn). No `concurrency:` group is generated: it
   would queue the later run instead of skipping it. The token needs actions: read
   (actions: write for Replace).
   GitLab: another pipeline of the same pipeline schedule (found by its description) that
   was running when this one was created -> Forbid skips; Replace cancels the older
   pipelines where JMO_GITLAB_TOKEN may; the generated `resource_group` serialises runs.
   When the API cannot tell (no token, no permission, network), the scan runs and the
   reason says why.

`decide` is pure apart from the injected API calls: the clock comes in as `now`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..core.timefmt import format_duration, utc_and_wall

if TYPE_CHECKING:
    from ..platforms.concurrency import OtherRun
    from ..core.model import ScanSchedule

EVENT_SCHEDULE_VAR = "JMO_EVENT_SCHEDULE"

GitHubLookup = Callable[[Mapping[str, str], str], "list[OtherRun]"]
GitHubCancel = Callable[[Mapping[str, str], str, str], bool]  # (env, token, run id) -> cancelled
GitLabLookup = Callable[[Mapping[str, str], str, str], "list[OtherRun]"]  # (env, token, schedule name)
GitLabCancel = Callable[[Mapping[str, str], str, str], None]  # (env, token, pipeline id)


@dataclass(frozen=True)
class Decision:
    run: bool
    reason: str  # one line

    def line(self) -> str:
        return f"{'run' if self.run else 'skip'}: {self.reason}"


@dataclass(frozen=True)
class Apis:
    """The REST calls the guard makes; tests pass fakes or point these at a local server."""

    github_runs: GitHubLookup | None = None
    github_cancel: GitHubCancel | None = None
    gitlab_pipelines: GitLabLookup | None = None
    gitlab_cancel: GitLabCancel | None = None


def trigger(env: Mapping[str, str]) -> tuple[str, str, bool]:
    """(provider, event, scheduled): who started this run and whether a scheduler did."""
    if env.get("GITHUB_ACTIONS") == "true":
        event = (env.get("GITHUB_EVENT_NAME") or "").strip() or "unknown"
        return "github", event, event == "schedule"
    if env.get("GITLAB_CI") == "true":
        source = (env.get("CI_PIPELINE_SOURCE") or "").strip() or "unknown"
        return "gitlab", source, source == "schedule"
    # Anywhere else a scheduler (cron, systemd, a CronJob) started us.
    return "local", "schedule", True


def _ago(seconds: float) -> str:
    return format_duration(timedelta(seconds=int(seconds))) or "0s"


def decide(
    schedule: ScanSchedule,
    *,
    now: datetime,
    env: Mapping[str, str],
    apis: Apis | None = None,
) -> Decision:
    """Run or skip this job of `schedule`, started at `now`, in the CI run `env` describes."""
    from ..core.cron import previous_run

    apis = apis or default_apis()
    spec = schedule.spec
    name = schedule.metadata.name
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if spec.suspend:
        return Decision(False, f"schedule {name} is suspended (spec.suspend: true)")
    provider, event, scheduled = trigger(env)
    if not scheduled:
        return Decision(True, f"manual run ({event}): the deadline and concurrency checks apply to scheduled runs only")

    fired = (env.get(EVENT_SCHEDULE_VAR) or "").strip()
    if provider == "github" and fired:
        if not _same_cron(fired, spec.schedule):
            return Decision(
                False,
                f"the workflow fired for cron {fired!r} but schedule {name} is {spec.schedule!r}: "
                "the workflow file is stale; regenerate it with jmo-schedule sync",
            )

    notes: list[str] = []
    nominal = previous_run(spec.schedule, spec.timezone, now)
    if nominal is not None:
        late = (now - nominal).total_seconds()
        if spec.startingDeadlineSeconds is not None and late > spec.startingDeadlineSeconds:
            return Decision(
                False,
                f"started {_ago(late)} after its nominal time {utc_and_wall(nominal, spec.timezone)}, "
                f"more than startingDeadlineSeconds {spec.startingDeadlineSeconds}",
            )
        notes.append(f"nominal time {utc_and_wall(nominal, spec.timezone)}, started {_ago(late)} later")
    else:
        notes.append("no earlier fire time in reach")

    policy = spec.concurrencyPolicy
    if policy in ("Forbid", "Replace") and provider == "github":
        verdict = _github_policy(policy, env, apis)
    elif policy in ("Forbid", "Replace") and provider == "gitlab":
        verdict = _gitlab_policy(policy, name, env, apis)
    elif policy == "Allow":
        verdict = Decision(True, "concurrencyPolicy Allow")
    else:
        # Outside CI the scheduler itself enforces it: a CronJob natively, `jmo-schedule run` by its lock.
        verdict = Decision(True, f"concurrencyPolicy {policy} is enforced by the scheduler here, not by the guard")
    if not verdict.run:
        return verdict
    return Decision(True, "scheduled run: " + "; ".join(notes + [verdict.reason]))


def _same_cron(a: str, b: str) -> bool:
    """Whether two cron expressions fire at the same wall times (`MON-FRI` == `1-5`)."""
    from ..core.cron import parse

    def key(expr: str) -> tuple:
        c = parse(expr)
        either = c.dom_restricted and c.dow_restricted  # the classic OR rule for days
        return (c.minutes, c.hours, c.days, c.months, c.weekdays, either)

    try:
        return key(a) == key(b)
    except ValueError:
        return False


def _github_policy(policy: str, env: Mapping[str, str], apis: Apis) -> Decision:
    from ..platforms.concurrency import CheckError, OtherRun, run_order

    token = (env.get("GITHUB_TOKEN") or "").strip()
    unchecked = "running without the concurrencyPolicy check"
    if not token:
        return Decision(True, f"cannot check for other runs: GITHUB_TOKEN is not set (pass the job's token); {unchecked}")
    try:
        others = apis.github_runs(env, token) if apis.github_runs else []
    except CheckError as exc:
        if exc.denied:
            return Decision(True, f"cannot check for other runs: {exc}: the token needs `permissions: actions: read`; "
                                  f"{unchecked}")
        return Decision(True, f"cannot check for other runs: {exc}; {unchecked}")
    number = (env.get("GITHUB_RUN_NUMBER") or "").strip()
    own = run_order(OtherRun((env.get("GITHUB_RUN_ID") or "").strip(), number=int(number) if number.isdigit() else None))
    older = [o for o in others if run_order(o) < own]
    if not older:
        newer = f" ({len(others)} newer run{'s' if len(others) != 1 else ''} will yield to it)" if others else ""
        return Decision(True, f"no older run of this workflow is unfinished{newer}")
    if policy == "Forbid":
        o = older[-1]
        more = f" and {len(older) - 1} more" if len(older) > 1 else ""
        return Decision(False, f"concurrencyPolicy Forbid: {_run_label(o)}{more} of this workflow started before this one "
                               f"and is {o.status or 'unfinished'}")
    cancelled: list[OtherRun] = []
    finished: list[OtherRun] = []
    for o in older:
        try:
            (cancelled if apis.github_cancel and apis.github_cancel(env, token, o.id) else finished).append(o)
        except CheckError as exc:
            need = ": the token needs `permissions: actions: write`" if exc.denied else ""
            return Decision(True, f"Replace: cannot cancel {_run_label(o)}: {exc}{need}; both runs go on")
    parts = [f"cancelled {', '.join(_run_label(o) for o in cancelled)}"] if cancelled else []
    parts += [f"{', '.join(_run_label(o) for o in finished)} had already finished"] if finished else []
    return Decision(True, "Replace: " + "; ".join(parts))


def _run_label(run: OtherRun) -> str:
    return f"run #{run.number} ({run.id})" if run.number is not None else f"run {run.id}"


def _gitlab_policy(policy: str, name: str, env: Mapping[str, str], apis: Apis) -> Decision:
    from ..platforms.concurrency import CheckError

    fallback = ("the generated resource_group still runs one scan at a time" if policy == "Forbid"
                else "the older pipeline keeps running")
    scope = "read_api" if policy == "Forbid" else "api (to cancel)"
    token = (env.get("JMO_GITLAB_TOKEN") or "").strip()
    if not token:
        return Decision(True, f"cannot check for other pipelines: JMO_GITLAB_TOKEN is not set (CI_JOB_TOKEN may not "
                              f"read pipeline schedules; set a project access token with {scope}); {fallback}")
    try:
        others = apis.gitlab_pipelines(env, token, name) if apis.gitlab_pipelines else []
    except CheckError as exc:
        if exc.denied:
            return Decision(True, f"cannot check for other pipelines: {exc}: JMO_GITLAB_TOKEN needs {scope} and the "
                                  f"Developer role; {fallback}")
        return Decision(True, f"cannot check for other pipelines: {exc}; {fallback}")
    if not others:
        return Decision(True, "no other pipeline of this schedule running")
    if policy == "Forbid":
        o = others[-1]
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        state = "is running" if o.active else "was still running when this one was created"
        return Decision(False, f"concurrencyPolicy Forbid: pipeline {o.id}{more} of this schedule {state}")
    cancelled = []
    try:
        for o in others:
            if o.active and apis.gitlab_cancel:
                apis.gitlab_cancel(env, token, o.id)
                cancelled.append(o.id)
    except CheckError as exc:
        return Decision(True, f"Replace: could not cancel pipeline {', '.join(o.id for o in others if o.active)}: "
                              f"{exc}; {fallback}")
    if not cancelled:
        return Decision(True, "no other pipeline of this schedule running")
    return Decision(True, f"Replace: cancelled running pipeline {', '.join(cancelled)}")


def default_apis() -> Apis:
    from ..platforms import concurrency

    return Apis(
        github_runs=lambda env, token: concurrency.github_active_runs(env, token),
        github_cancel=lambda env, token, run_id: concurrency.github_cancel(env, token, run_id),
        gitlab_pipelines=lambda env, token, name: concurrency.gitlab_other_pipelines(env, token, name),
        gitlab_cancel=lambda env, token, pid: concurrency.gitlab_cancel(env, token, pid),
    )


# --- outputs -------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def output_lines(decision: Decision) -> str:
    """`run=true|false` and `reason=...`, newline-terminated ($GITHUB_OUTPUT)."""
    return f"run={'true' if decision.run else 'false'}\nreason={_one_line(decision.reason)}\n"


# GitLab dotenv report variables reach every later job of the pipeline and outrank job
# variables: namespaced, so they never clash with a user's `run` or `reason`.
DOTENV_RUN = "JMO_GUARD_RUN"
DOTENV_REASON = "JMO_GUARD_REASON"


def dotenv_lines(decision: Decision) -> str:
    """`JMO_GUARD_RUN=true|false` and `JMO_GUARD_REASON=...` (a GitLab dotenv report)."""
    return f"{DOTENV_RUN}={'true' if decision.run else 'false'}\n{DOTENV_REASON}={_one_line(decision.reason)}\n"


def read_dotenv(path: str) -> Decision | None:
    """The decision a guard wrote to the dotenv file `path`; None when there is no such file
    or it holds no decision."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if values.get(DOTENV_RUN) not in ("true", "false"):
        return None
    return Decision(values[DOTENV_RUN] == "true", values.get(DOTENV_REASON, ""))


def write_outputs(decision: Decision, *, github_output: str | None, dotenv: str | None) -> None:
    """Append to $GITHUB_OUTPUT (as GitHub expects) and write the dotenv file atomically."""
    from ..errors import JmoError
    from ..local.files import atomic_write

    text = output_lines(decision)
    if github_output:
        try:
            with open(github_output, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise JmoError(f"{github_output}: cannot append the outputs: {exc.strerror}") from None
    if dotenv:
        folder = os.path.dirname(os.path.abspath(dotenv))
        if not os.path.isdir(folder):
            raise JmoError(f"{dotenv}: folder {folder} does not exist")
        try:
            atomic_write(dotenv, dotenv_lines(decision), mode=0o644)
        except OSError as exc:
            raise JmoError(f"{dotenv}: cannot write: {exc.strerror}") from None


def guard(
    schedule: ScanSchedule,
    *,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    dotenv: str | None = None,
    apis: Apis | None = None,
) -> Decision:
    """`decide` plus writing the outputs ($GITHUB_OUTPUT from `env`, and `dotenv`)."""
    env = os.environ if env is None else env
    decision = decide(schedule, now=now or datetime.now(timezone.utc), env=env, apis=apis)
    write_outputs(decision, github_output=env.get("GITHUB_OUTPUT") or None, dotenv=dotenv)
    return decision

