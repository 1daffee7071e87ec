"""core/policy.py: the one run-or-skip decision (suspend, deadline, concurrency) that the
guard and the local runner share; they supply only who else is running."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jmo_schedule.core import policy
from jmo_schedule.core.model import ScheduleSpec
from jmo_schedule.core.policy import OtherRun, Verdict, decide, run_order

NOW = datetime(2026, 11, 25, 2, 10, tzinfo=timezone.utc)
FIRE = NOW - timedelta(minutes=10)


def spec(**fields: object) -> ScheduleSpec:
    return ScheduleSpec(schedule="0 2 * * *", **fields)  # type: ignore[arg-type]


class Asked:
    """Who else is running, counting how often the policy asked."""

    def __init__(self, others: list[str] | None) -> None:
        self.others, self.calls = others, 0

    def __call__(self) -> list[str] | None:
        self.calls += 1
        return self.others


@pytest.mark.parametrize("fields, nominal, others, expected, asked", [
    # suspend wins over everything, and nobody is asked
    ({"suspend": True, "startingDeadlineSeconds": 60}, FIRE, ["a"], Verdict(False, "Suspended"), 0),
    # the deadline: 600 s late against 599 / 600
    ({"startingDeadlineSeconds": 599}, FIRE, [], Verdict(False, "MissedDeadline", 600.0), 0),
    ({"startingDeadlineSeconds": 600}, FIRE, [], Verdict(True, "NoOtherRun", 600.0), 1),
    # no fire time (a manual run): no deadline
    ({"startingDeadlineSeconds": 0}, None, [], Verdict(True, "NoOtherRun", None), 1),
    # concurrency
    ({"concurrencyPolicy": "Allow"}, FIRE, ["a"], Verdict(True, "Allowed", 600.0), 0),
    ({"concurrencyPolicy": "Forbid"}, FIRE, ["a", "b"], Verdict(False, "ConcurrencyForbidden", 600.0, ("a", "b")), 1),
    ({"concurrencyPolicy": "Replace"}, FIRE, ["a"], Verdict(True, "Replace", 600.0, ("a",)), 1),
    ({"concurrencyPolicy": "Forbid"}, FIRE, None, Verdict(True, "Unchecked", 600.0), 1),
    ({"concurrencyPolicy": "Replace"}, FIRE, [], Verdict(True, "NoOtherRun", 600.0), 1),
])
def test_decide(fields: dict[str, object], nominal: datetime | None, others: list[str] | None,
                expected: Verdict[str], asked: int) -> None:
    who_else = Asked(others)
    assert decide(spec(**fields), now=NOW, nominal=nominal, who_else=who_else) == expected
    assert who_else.calls == asked


def test_reason_codes_are_the_words_of_run_records() -> None:
    assert (policy.SUSPENDED, policy.MISSED_DEADLINE, policy.FORBIDDEN) == (
        "Suspended", "MissedDeadline", "ConcurrencyForbidden")


def test_run_order_is_run_number_then_id() -> None:
    runs = [OtherRun("12", number=3), OtherRun("10", number=4), OtherRun("11", number=3), OtherRun("x")]
    assert [r.id for r in sorted(runs, key=run_order)] == ["x", "11", "12", "10"]
