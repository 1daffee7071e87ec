"""The coverage watchdog's accounting: every fire time of a schedule in a window, held
against the runs that really happened. Pure: the clock, the runs and what the backend says
come in as arguments (the collectors in `audit_sources.py` ask the platforms).

The rule that ties a run to a fire time (written down in docs/cli.md, "audit"):

1. Only scheduled runs account for fire times. A manual run (workflow_dispatch, a pipeline
   not started by the schedule, `jmo-schedule trigger`) is listed, never counted.
2. When the backend says which fire time a run was for (local history's `scheduledTime`,
   a CronJob's `lastScheduleTime`), that is the match.
3. Otherwise (GitHub, GitLab give only when the run was created) runs are matched in order:
   schedulers start runs in the order of their fire times, late but not out of order, so
   the runs (by creation) are paired with the fire times (in time) in one increasing
   sequence that accounts for as many fire times as possible, each run for a fire time at
   or before its creation and at most `MATCH_LIMIT` before it. Among such pairings each run
   is for the LATEST fire time it can be for. So a run created after the next fire time
   (its delay larger than the gap) still counts for its own, and a second run for one fire
   time is an extra run, never a second fire time.
4. A fire time with no run is `pending` while `grace` has not passed since it, `missed`
   after; a matched run still queued or running is `running`.

States, the first that holds wins (docs/cli.md says why):
Unknown (the backend could not be read) > Disabled > Missed > Failing > Late > Healthy.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.cron import iter_runs
from ..core.timefmt import format_duration, rfc3339

UTC = timezone.utc

# How long after its fire time a run may be created and still be for it.
MATCH_LIMIT = timedelta(hours=6)
DEFAULT_GRACE = timedelta(hours=1)  # no run yet: pending this long, then missed
DEFAULT_LATE = timedelta(minutes=15)  # a run created later than this after its fire time is late
DEFAULT_SINCE = timedelta(days=7)
MAX_FIRE_TIMES = 10_000  # a window holds at most this many fire times (a 5-minute cron: 34 days)

# Run outcomes, as every backend's statuses are mapped to them.
SUCCESS = "success"
FAILURE = "failure"
CANCELLED = "cancelled"  # not a failure: concurrencyPolicy Replace cancels on purpose
SKIPPED = "skipped"  # the guard (or the local runner) decided not to scan
RUNNING = "running"  # queued or in progress

# Fire time classes.
RAN = "ran"
SKIP = "skipped"
MISSED = "missed"
PENDING = "pending"
UNSEEN = "unseen"  # before what the backend shows (Kubernetes keeps only the last schedule time)
SUSPENDED = "suspended"  # spec.suspend: nothing was expected

# Schedule states, in precedence order.
UNKNOWN = "Unknown"
DISABLED = "Disabled"
MISSED_STATE = "Missed"
FAILING = "Failing"
LATE = "Late"
HEALTHY = "Healthy"
PRECEDENCE = (UNKNOWN, DISABLED, MISSED_STATE, FAILING, LATE, HEALTHY)

# The guard's reason code for a run started too late (core/policy.py MISSED_DEADLINE): a
# skip the platform caused, so it makes the schedule Late, not Healthy.
DEADLINE_WORDS = ("MissedDeadline", "startingDeadlineSeconds")


@dataclass(frozen=True)
class Run:
    """One run as the backend reports it. `nominal`: the fire time it was for, when the
    backend records it (local history, Kubernetes); `reason`: why the guard skipped it."""

    id: str
    created: datetime
    outcome: str  # SUCCESS, FAILURE, CANCELLED, SKIPPED or RUNNING
    scheduled: bool = True
    nominal: datetime | None = None
    reason: str | None = None
    url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "created": rfc3339(self.created), "outcome": self.outcome,
                               "trigger": "schedule" if self.scheduled else "manual"}
        if self.reason:
            out["reason"] = self.reason
        if self.url:
            out["url"] = self.url
        return out


@dataclass(frozen=True)
class Observed:
    """What a backend shows of one schedule.

    `began`: when the schedule began to exist there (None: unknown); `visible_from`: fire
    times before it cannot be judged (the backend keeps nothing older); `disabled`: why the
    backend will not fire it (with the fix), None when it will; `unknown`: why it could not
    be read at all; `fixed`: what --fix did; `notes`: anything else worth a line."""

    runs: tuple[Run, ...] = ()
    began: datetime | None = None
    visible_from: datetime | None = None
    disabled: str | None = None
    unknown: str | None = None
    fixed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FireTime:
    at: datetime
    kind: str  # RAN, SKIP, MISSED, PENDING, UNSEEN, SUSPENDED
    run: Run | None = None

    @property
    def delay(self) -> timedelta | None:
        return None if self.run is None else self.run.created - self.at

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": rfc3339(self.at), "class": self.kind}
        if self.run is not None:
            out["run"] = self.run.id
            out["delay_seconds"] = max(0, int((self.run.created - self.at).total_seconds()))
            out["outcome"] = self.run.outcome
            if self.run.reason:
                out["reason"] = self.run.reason
        return out


@dataclass(frozen=True)
class Problem:
    """One thing that is wrong, as data a notifier can filter: `kind` is one of
    "unknown", "disabled", "missed", "failure", "late"; `message` one line."""

    kind: str
    message: str
    times: tuple[datetime, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.times:
            out["times"] = [rfc3339(t) for t in self.times]
        return out


@dataclass(frozen=True)
class Audit:
    """The account of one schedule."""

    name: str
    backend: str
    state: str
    window: tuple[datetime, datetime]
    fire_times: tuple[FireTime, ...]
    runs: tuple[Run, ...]
    problems: tuple[Problem, ...] = ()
    fixed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def of(self, kind: str) -> list[FireTime]:
        return [f for f in self.fire_times if f.kind == kind]

    @property
    def missed(self) -> list[datetime]:
        return [f.at for f in self.of(MISSED)]

    @property
    def healthy(self) -> bool:
        return self.state == HEALTHY

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "backend": self.backend, "state": self.state,
            "window": {"from": rfc3339(self.window[0]), "to": rfc3339(self.window[1])},
            "missed": [rfc3339(t) for t in self.missed],
            "skipped": [f.as_dict() for f in self.of(SKIP)],
            "fire_times": [f.as_dict() for f in self.fire_times],
            "runs": [r.as_dict() for r in self.runs],
            "problems": [p.as_dict() for p in self.problems],
            "fixed": list(self.fixed),
            "notes": list(self.notes),
        }


def fire_times(schedule: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """Fire instants t with start <= t <= end (the one time semantics, core/cron.py)."""
    out: list[datetime] = []
    for t in iter_runs(schedule, tz, start - timedelta(microseconds=1)):
        if t > end:
            break
        out.append(t)
        if len(out) > MAX_FIRE_TIMES:
            raise ValueError(f"more than {MAX_FIRE_TIMES} fire times in the window; shorten --since")
    return out


def match(times: Sequence[datetime], runs: Sequence[Run], limit: timedelta = MATCH_LIMIT) -> dict[int, Run]:
    """{index into `times`: the run for it}, by the module's rule 3 (runs without `nominal`)."""
    ordered = sorted(runs, key=lambda r: (r.created, r.id))
    pairs: list[tuple[int, Run]] = []
    i = 0
    # Earliest eligible fire time first: with every run's window [created - limit, created]
    # moving forward together, this accounts for the most fire times.
    for run in ordered:
        while i < len(times) and times[i] < run.created - limit:
            i += 1
        if i < len(times) and times[i] <= run.created:
            pairs.append((i, run))
            i += 1
    # Then, from the last run back, move each to the latest free fire time it can be for:
    # the same count, each delay the smallest the order allows.
    nxt = len(times)
    for k in range(len(pairs) - 1, -1, -1):
        index, run = pairs[k]
        best = index
        for j in range(index + 1, nxt):
            if times[j] <= run.created:
                best = j
            else:
                break
        pairs[k] = (best, run)
        nxt = best
    return dict(pairs)


def account(
    *,
    name: str,
    backend: str,
    schedule: str,
    tz: str,
    suspended: bool,
    observed: Observed,
    now: datetime,
    since: datetime,
    grace: timedelta = DEFAULT_GRACE,
    late: timedelta = DEFAULT_LATE,
) -> Audit:
    """The account of one schedule: its fire times from the later of `since` and when it
    began on the backend, up to `now`, each classified, and the schedule's state."""
    start = max(since, observed.began) if observed.began else since
    runs = tuple(sorted(observed.runs, key=lambda r: (r.created, r.id)))
    if observed.unknown is not None:
        return Audit(name, backend, UNKNOWN, (start, now), (), runs,
                     (Problem("unknown", observed.unknown),), observed.fixed, observed.notes)
    times = [t for t in fire_times(schedule, tz, start, now) if observed.began is None or t > observed.began]
    scheduled = [r for r in runs if r.scheduled]
    by_nominal = {r.nominal: r for r in scheduled if r.nominal is not None}
    matched = match(times, [r for r in scheduled if r.nominal is None])
    classes: list[FireTime] = []
    for index, t in enumerate(times):
        run = by_nominal.get(t) or matched.get(index)
        if run is not None:
            classes.append(FireTime(t, SKIP if run.outcome == SKIPPED else RAN, run))
        elif observed.visible_from is not None and t < observed.visible_from:
            classes.append(FireTime(t, UNSEEN))
        elif suspended:
            classes.append(FireTime(t, SUSPENDED))
        elif now - t < grace:
            classes.append(FireTime(t, PENDING))
        else:
            classes.append(FireTime(t, MISSED))
    problems = _problems(classes, runs, observed, late, suspended)
    state = HEALTHY
    for candidate in PRECEDENCE:
        if any(_STATE_OF[p.kind] == candidate for p in problems):
            state = candidate
            break
    return Audit(name, backend, state, (start, now), tuple(classes), runs, tuple(problems), observed.fixed,
                 observed.notes)


_STATE_OF = {"unknown": UNKNOWN, "disabled": DISABLED, "missed": MISSED_STATE, "failure": FAILING, "late": LATE}


def _problems(classes: Sequence[FireTime], runs: Sequence[Run], observed: Observed, late: timedelta,
              suspended: bool) -> list[Problem]:
    out: list[Problem] = []
    if observed.disabled and not suspended:
        out.append(Problem("disabled", observed.disabled))
    missed = tuple(f.at for f in classes if f.kind == MISSED)
    if missed:
        shown = ", ".join(rfc3339(t) for t in missed[:3]) + (f" and {len(missed) - 3} more" if len(missed) > 3 else "")
        out.append(Problem("missed", f"{len(missed)} fire time{'s' if len(missed) != 1 else ''} without a run: "
                                     f"{shown}", missed))
    finished = [r for r in runs if r.outcome in (SUCCESS, FAILURE, SKIPPED)]
    if finished and finished[-1].outcome == FAILURE:
        last = finished[-1]
        out.append(Problem("failure", f"the latest run failed: {last.id} created {rfc3339(last.created)}"
                                      + (f" ({last.url})" if last.url else ""), (last.created,)))
    judged = [f for f in classes if f.kind in (RAN, SKIP)]
    if judged:
        latest = judged[-1]
        delay = latest.delay or timedelta(0)
        deadline = latest.kind == SKIP and any(w in (latest.run.reason or "") for w in DEADLINE_WORDS)  # type: ignore[union-attr]
        if deadline:
            out.append(Problem("late", f"the run for {rfc3339(latest.at)} started too late and the guard skipped it: "
                                       f"{latest.run.reason}", (latest.at,)))  # type: ignore[union-attr]
        elif delay > late:
            out.append(Problem("late", f"the run for {rfc3339(latest.at)} started {format_duration(delay)} late "
                                       f"(more than {format_duration(late)})", (latest.at,)))
    return out
