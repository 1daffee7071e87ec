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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..core import policy
from ..core.cron import parse, previous_run
from ..core.files import atomic_write
from ..core.model import ScanSchedule
from ..core.policy import OtherRun, run_order
from ..core.timefmt import format_duration, utc_and_wall
from ..errors import ApiError, JmoError
from ..platforms import github, gitlab

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
    """Run or skip this job of `schedule`, started at `now`, in the CI run `env` describes:
    the run policy (core/policy.py) with who else is running asked of the CI platform."""
    spec = schedule.spec
    name = schedule.metadata.name
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    provider, event, scheduled = trigger(env)
    fired = (env.get(EVENT_SCHEDULE_VAR) or "").strip()
    if scheduled and not spec.suspend and provider == "github" and fired and not _same_cron(fired, spec.schedule):
        return Decision(
            False,
            f"the workflow fired for cron {fired!r} but schedule {name} is {spec.schedule!r}: "
            "the workflow file is stale; regenerate it with jmo-schedule sync",
        )
    nominal = previous_run(spec.schedule, spec.timezone, now) if scheduled else None
    # A manual run is checked for suspend only: nobody is asked who else is running.
    lookup = _Lookup(provider, spec.concurrencyPolicy, name, env, apis or default_apis()) if scheduled else None
    verdict = policy.decide(spec, now=now, nominal=nominal, who_else=lookup.others if lookup else lambda: ())
    if verdict.reason == policy.SUSPENDED:
        return Decision(False, f"schedule {name} is suspended (spec.suspend: true)")
    if lookup is None:
        return Decision(True, f"manual run ({event}): the deadline and concurrency checks apply to scheduled runs only")
    if verdict.reason == policy.MISSED_DEADLINE:
        assert nominal is not None and verdict.late is not None
        return Decision(
            False,
            f"started {_ago(verdict.late)} after its nominal time {utc_and_wall(nominal, spec.timezone)}, "
            f"more than startingDeadlineSeconds {spec.startingDeadlineSeconds}",
        )
    if verdict.reason == policy.FORBIDDEN:
        return Decision(False, lookup.forbidden(verdict.others))
    if nominal is not None and verdict.late is not None:
        when = f"nominal time {utc_and_wall(nominal, spec.timezone)}, started {_ago(verdict.late)} later"
    else:
        when = "no earlier fire time in reach"
    if verdict.reason == policy.ALLOWED:
        outcome = f"concurrencyPolicy {spec.concurrencyPolicy}"
    elif verdict.reason == policy.REPLACE:
        outcome = lookup.replace(verdict.others)
    else:
        outcome = lookup.note
    return Decision(True, f"scheduled run: {when}; {outcome}")


def _same_cron(a: str, b: str) -> bool:
    """Whether two cron expressions fire at the same wall times (`MON-FRI` == `1-5`)."""
    def key(expr: str) -> tuple[object, ...]:
        c = parse(expr)
        either = c.dom_restricted and c.dow_restricted  # the classic OR rule for days
        return (c.minutes, c.hours, c.days, c.months, c.weekdays, either)

    try:
        return key(a) == key(b)
    except ValueError:
        return False


def _run_label(run: OtherRun) -> str:
    return f"run #{run.number} ({run.id})" if run.number is not None else f"run {run.id}"


class _Lookup:
    """Who else is running, asked of the platform this job runs on, and the words for what
    the policy decides: `note` says why nothing stands in the way (or could not be told)."""

    def __init__(self, provider: str, policy_name: str, name: str, env: Mapping[str, str], apis: Apis) -> None:
        self.provider, self.policy, self.name, self.env, self.apis = provider, policy_name, name, env, apis
        self.note = ""
        self.token = ""
        self.newer = 0  # GitHub: unfinished runs that started after this one (they yield to it)

    def others(self) -> Sequence[OtherRun] | None:
        if self.provider == "github":
            return self._github()
        if self.provider == "gitlab":
            return self._gitlab()
        # Outside CI the scheduler itself enforces it: a CronJob natively, `jmo-schedule run` by its lock.
        self.note = f"concurrencyPolicy {self.policy} is enforced by the scheduler here, not by the guard"
        return None

    # -- GitHub: runs of the same workflow, in run order ---------------------------------
    def _github(self) -> Sequence[OtherRun] | None:
        unchecked = "running without the concurrencyPolicy check"
        self.token = (self.env.get("GITHUB_TOKEN") or "").strip()
        if not self.token:
            self.note = f"cannot check for other runs: GITHUB_TOKEN is not set (pass the job's token); {unchecked}"
            return None
        try:
            found = self.apis.github_runs(self.env, self.token) if self.apis.github_runs else []
        except ApiError as exc:
            need = ": the token needs `permissions: actions: read`" if exc.denied else ""
            self.note = f"cannot check for other runs: {exc}{need}; {unchecked}"
            return None
        number = (self.env.get("GITHUB_RUN_NUMBER") or "").strip()
        own = run_order(OtherRun((self.env.get("GITHUB_RUN_ID") or "").strip(),
                                 number=int(number) if number.isdigit() else None))
        older = [o for o in found if run_order(o) < own]
        self.newer = len(found) - len(older)
        if not older:
            newer = f" ({self.newer} newer run{'s' if self.newer != 1 else ''} will yield to it)" if found else ""
            self.note = f"no older run of this workflow is unfinished{newer}"
        return older

    # -- GitLab: pipelines of the same pipeline schedule --------------------------------
    def _gitlab(self) -> Sequence[OtherRun] | None:
        scope = "read_api" if self.policy == "Forbid" else "api (to cancel)"
        self.token = (self.env.get("JMO_GITLAB_TOKEN") or "").strip()
        if not self.token:
            self.note = (f"cannot check for other pipelines: JMO_GITLAB_TOKEN is not set (CI_JOB_TOKEN may not read "
                         f"pipeline schedules; set a project access token with {scope}); {self._fallback()}")
            return None
        try:
            found = self.apis.gitlab_pipelines(self.env, self.token, self.name) if self.apis.gitlab_pipelines else []
        except ApiError as exc:
            need = f": JMO_GITLAB_TOKEN needs {scope} and the Developer role" if exc.denied else ""
            self.note = f"cannot check for other pipelines: {exc}{need}; {self._fallback()}"
            return None
        if not found:
            self.note = "no other pipeline of this schedule running"
        return found

    def _fallback(self) -> str:
        return ("the generated resource_group still runs one scan at a time" if self.policy == "Forbid"
                else "the older pipeline keeps running")

    # -- the words for Forbid, and carrying out Replace ----------------------------------
    def forbidden(self, others: Sequence[OtherRun]) -> str:
        o = others[-1]
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        if self.provider == "github":
            return (f"concurrencyPolicy Forbid: {_run_label(o)}{more} of this workflow started before this one "
                    f"and is {o.status or 'unfinished'}")
        state = "is running" if o.active else "was still running when this one was created"
        return f"concurrencyPolicy Forbid: pipeline {o.id}{more} of this schedule {state}"

    def replace(self, others: Sequence[OtherRun]) -> str:
        if self.provider == "github":
            return self._replace_github(others)
        return self._replace_gitlab(others)

    def _replace_github(self, older: Sequence[OtherRun]) -> str:
        cancelled: list[OtherRun] = []
        finished: list[OtherRun] = []
        for o in older:
            try:
                done = bool(self.apis.github_cancel and self.apis.github_cancel(self.env, self.token, o.id))
            except ApiError as exc:
                need = ": the token needs `permissions: actions: write`" if exc.denied else ""
                return f"Replace: cannot cancel {_run_label(o)}: {exc}{need}; both runs go on"
            (cancelled if done else finished).append(o)
        parts = [f"cancelled {', '.join(_run_label(o) for o in cancelled)}"] if cancelled else []
        parts += [f"{', '.join(_run_label(o) for o in finished)} had already finished"] if finished else []
        return "Replace: " + "; ".join(parts)

    def _replace_gitlab(self, others: Sequence[OtherRun]) -> str:
        cancelled = []
        try:
            for o in others:
                if o.active and self.apis.gitlab_cancel:
                    self.apis.gitlab_cancel(self.env, self.token, o.id)
                    cancelled.append(o.id)
        except ApiError as exc:
            return (f"Replace: could not cancel pipeline {', '.join(o.id for o in others if o.active)}: "
                    f"{exc}; {self._fallback()}")
        if not cancelled:
            return "no other pipeline of this schedule running"
        return f"Replace: cancelled running pipeline {', '.join(cancelled)}"


def _github_runs(env: Mapping[str, str], token: str) -> list[OtherRun]:
    return github.active_runs(github.client_from_env(env, token, _NO_HINTS), env)


def _github_cancel(env: Mapping[str, str], token: str, run_id: str) -> bool:
    return github.client_from_env(env, token, _NO_HINTS).cancel_run(run_id)


def _gitlab_pipelines(env: Mapping[str, str], token: str, name: str) -> list[OtherRun]:
    return gitlab.other_pipelines(gitlab.client_from_env(env, token), name, env)


def _gitlab_cancel(env: Mapping[str, str], token: str, pipeline_id: str) -> None:
    gitlab.client_from_env(env, token).cancel_pipeline(pipeline_id)


# The guard says itself what its token needs: refusals carry no other hint.
_NO_HINTS = {401: "", 403: "", 404: ""}


def default_apis() -> Apis:
    """The platforms' APIs, where the CI environment points."""
    return Apis(github_runs=_github_runs, github_cancel=_github_cancel,
                gitlab_pipelines=_gitlab_pipelines, gitlab_cancel=_gitlab_cancel)


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
            return parse_dotenv(fh.read())
    except (OSError, UnicodeDecodeError):
        return None


def parse_dotenv(text: str) -> Decision | None:
    """The decision in the text of a guard's dotenv file; None when it holds none."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if values.get(DOTENV_RUN) not in ("true", "false"):
        return None
    return Decision(values[DOTENV_RUN] == "true", values.get(DOTENV_REASON, ""))


def write_outputs(decision: Decision, *, github_output: str | None, dotenv: str | None) -> None:
    """Append to $GITHUB_OUTPUT (as GitHub expects) and write the dotenv file atomically."""
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
        atomic_write(dotenv, dotenv_lines(decision), mode=0o644)


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
    if not decision.run and env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_STEP_SUMMARY"):
        _append(env["GITHUB_STEP_SUMMARY"], f"jmo-schedule: {schedule.metadata.name}: {decision.line()}\n")
    return decision


# The title of the ::notice a skip leaves on a GitHub job: `jmo-schedule audit` reads the
# reason back through the check-run annotations API (the step summary has no API).
NOTICE_TITLE = "jmo-schedule guard"


def skip_notice(decision: Decision, env: Mapping[str, str]) -> str | None:
    """The `::notice` line that records a skip on a GitHub job (None: a run, or not GitHub)."""
    from .workflow_commands import command

    if decision.run or env.get("GITHUB_ACTIONS") != "true":
        return None
    return command("notice", decision.line(), title=NOTICE_TITLE)


def _append(path: str, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise JmoError(f"{path}: cannot append the step summary: {exc.strerror}") from None

