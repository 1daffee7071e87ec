"""The one run-or-skip decision for a scheduled scan, as a Kubernetes CronJob controller
makes it: suspend, then startingDeadlineSeconds, then concurrencyPolicy.

`decide` is pure: the caller supplies the clock (`now`), the fire time the run is for
(`nominal`) and "who else is running" as a function that is called only when the answer
matters (concurrencyPolicy Forbid or Replace, the run not already skipped). The guard
asks the CI platform's API; the local runner reads its lock slots. Each caller words the
outcome; the decision and its reason code are the same everywhere.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from .model import ScheduleSpec

T = TypeVar("T")

# Reason codes (the words of a run record and a LastSkip condition).
SUSPENDED = "Suspended"  # skip: spec.suspend
MISSED_DEADLINE = "MissedDeadline"  # skip: started later than startingDeadlineSeconds after its fire time
FORBIDDEN = "ConcurrencyForbidden"  # skip: Forbid, and another run is still going
REPLACE = "Replace"  # run: Replace; `others` are to be stopped first
ALLOWED = "Allowed"  # run: Allow (nobody is asked who else is running)
ALONE = "NoOtherRun"  # run: Forbid or Replace, and nothing else is running
UNKNOWN = "Unchecked"  # run: Forbid or Replace, but who else is running could not be told


@dataclass(frozen=True)
class Verdict(Generic[T]):
    """Run or skip, the reason code, how many seconds after its fire time the run starts
    (None: a run for no fire time) and the other runs that decided it (Forbid: those still
    going; Replace: those to stop)."""

    run: bool
    reason: str
    late: float | None = None
    others: tuple[T, ...] = ()


def decide(spec: ScheduleSpec, *, now: datetime, nominal: datetime | None,
           who_else: Callable[[], Sequence[T] | None]) -> Verdict[T]:
    """Run or skip a run of `spec` starting at `now` for the fire time `nominal` (None: a
    manual run, or no fire time in reach: no deadline applies). `who_else()` lists the other
    runs of the schedule still going that this one must respect (None: unknown)."""
    if spec.suspend:
        return Verdict(False, SUSPENDED)
    late = None if nominal is None else (now - nominal).total_seconds()
    deadline = spec.startingDeadlineSeconds
    if late is not None and deadline is not None and late > deadline:
        return Verdict(False, MISSED_DEADLINE, late)
    if spec.concurrencyPolicy not in ("Forbid", "Replace"):
        return Verdict(True, ALLOWED, late)
    others = who_else()
    if others is None:
        return Verdict(True, UNKNOWN, late)
    if not others:
        return Verdict(True, ALONE, late)
    if spec.concurrencyPolicy == "Forbid":
        return Verdict(False, FORBIDDEN, late, tuple(others))
    return Verdict(True, REPLACE, late, tuple(others))


@dataclass(frozen=True)
class OtherRun:
    """Another run of a schedule on a CI platform, as its API describes it."""

    id: str
    url: str | None = None
    started: str | None = None
    active: bool = True  # False: finished, but it was running when this run was started
    number: int | None = None  # GitHub's run_number
    status: str | None = None


def run_order(run: OtherRun) -> tuple[int, int]:
    """The total order of a workflow's runs: run_number (GitHub numbers each new run of a
    workflow one higher, a re-run keeps it), then the run id."""
    return (run.number if run.number is not None else -1, int(run.id) if run.id.isdigit() else -1)
