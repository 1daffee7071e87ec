"""The audit's accounting (pipeline/audit.py): fire times against runs, with an injected
clock. Expected fire times and delays are written out by hand, never computed by the code
under test."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from jmo_schedule.pipeline import audit
from jmo_schedule.pipeline.audit import Observed, Run


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(rid: str, created: str, outcome: str = audit.SUCCESS, scheduled: bool = True, reason: str | None = None,
        nominal: str | None = None) -> Run:
    return Run(rid, t(created), outcome, scheduled, nominal=t(nominal) if nominal else None, reason=reason)


def account(schedule: str, runs: list[Run], now: str, since: str, tz: str = "UTC", **kwargs: object) -> audit.Audit:
    observed = kwargs.pop("observed", None) or Observed(tuple(runs))
    return audit.account(name="s", backend="github-actions", schedule=schedule, tz=tz,
                         suspended=bool(kwargs.pop("suspended", False)), observed=observed,  # type: ignore[arg-type]
                         now=t(now), since=t(since), **kwargs)  # type: ignore[arg-type]


def classes(a: audit.Audit) -> list[tuple[str, str, str | None]]:
    return [(audit.rfc3339(f.at), f.kind, f.run.id if f.run else None) for f in a.fire_times]


def test_every_night_ran_across_the_spring_forward() -> None:
    # Daily 02:30 New York; on 2026-03-08 02:30 does not exist: it fires at 03:00 EDT (07:00Z),
    # and the run created at 03:04 EDT is that fire time's, 4 minutes late.
    runs = [run("1", "2026-03-06T07:35:00Z"), run("2", "2026-03-07T07:33:00Z"), run("3", "2026-03-08T07:04:00Z"),
            run("4", "2026-03-09T06:34:00Z")]
    a = account("30 2 * * *", runs, "2026-03-10T00:00:00Z", "2026-03-06T00:00:00Z", tz="America/New_York")
    assert classes(a) == [("2026-03-06T07:30:00Z", "ran", "1"), ("2026-03-07T07:30:00Z", "ran", "2"),
                          ("2026-03-08T07:00:00Z", "ran", "3"), ("2026-03-09T06:30:00Z", "ran", "4")]
    assert [f.as_dict()["delay_seconds"] for f in a.fire_times] == [300, 180, 240, 240]
    assert a.state == "Healthy" and a.problems == ()


def test_a_late_run_across_the_fall_back_is_late_not_a_second_night() -> None:
    # Daily 01:30 New York fires once on 2026-11-01, at the first 01:30 (EDT, 05:30Z). Its run
    # comes at the second 01:40 (EST, 06:40Z): 70 minutes late, for that one fire time.
    runs = [run("1", "2026-10-31T05:31:00Z"), run("2", "2026-11-01T06:40:00Z")]
    a = account("30 1 * * *", runs, "2026-11-01T12:00:00Z", "2026-10-31T00:00:00Z", tz="America/New_York")
    assert classes(a) == [("2026-10-31T05:30:00Z", "ran", "1"), ("2026-11-01T05:30:00Z", "ran", "2")]
    assert a.state == "Late"
    assert [p.as_dict() for p in a.problems] == [{
        "kind": "late", "message": "the run for 2026-11-01T05:30:00Z started 1h 10m 00s late (more than 15m 00s)",
        "times": ["2026-11-01T05:30:00Z"]}]


def test_a_delay_larger_than_the_gap_is_not_miscounted() -> None:
    # Every 5 minutes; GitHub is backed up: the 10:00 run comes at 10:07 (after the 10:05 fire
    # time), the 10:05 run at 10:09, and 10:10 never comes.
    runs = [run("a", "2026-11-02T10:07:00Z"), run("b", "2026-11-02T10:09:00Z")]
    a = account("*/5 * * * *", runs, "2026-11-02T11:12:00Z", "2026-11-02T10:00:00Z", grace=timedelta(hours=1))
    assert classes(a)[:3] == [("2026-11-02T10:00:00Z", "ran", "a"), ("2026-11-02T10:05:00Z", "ran", "b"),
                              ("2026-11-02T10:10:00Z", "missed", None)]
    assert [f.kind for f in a.fire_times[3:]] == ["pending"] * 12  # 10:15 to 11:10, less than an hour ago
    assert a.state == "Missed"


def test_a_dropped_fire_time_does_not_make_every_later_run_late() -> None:
    # 10:00 dropped; the later runs come 10 seconds after their own fire times.
    runs = [run(str(i), f"2026-11-02T10:{m:02d}:10Z") for i, m in enumerate((5, 10, 15))]
    a = account("*/5 * * * *", runs, "2026-11-02T10:16:00Z", "2026-11-02T10:00:00Z", grace=timedelta(minutes=5))
    assert classes(a) == [("2026-11-02T10:00:00Z", "missed", None), ("2026-11-02T10:05:00Z", "ran", "0"),
                          ("2026-11-02T10:10:00Z", "ran", "1"), ("2026-11-02T10:15:00Z", "ran", "2")]
    assert [f.as_dict().get("delay_seconds") for f in a.fire_times] == [None, 10, 10, 10]


def test_two_runs_for_one_fire_time_and_a_manual_dispatch() -> None:
    # Two scheduled runs for 02:00 on the 2nd (GitHub sometimes starts one twice): one counts,
    # the other is only listed. Nothing ran for the 3rd but a manual dispatch: missed.
    runs = [run("1", "2026-11-02T02:03:00Z"), run("2", "2026-11-02T02:20:00Z"),
            run("m", "2026-11-03T02:05:00Z", scheduled=False)]
    a = account("0 2 * * *", runs, "2026-11-04T00:00:00Z", "2026-11-02T00:00:00Z")
    assert classes(a) == [("2026-11-02T02:00:00Z", "ran", "1"), ("2026-11-03T02:00:00Z", "missed", None)]
    assert [r["id"] for r in a.as_dict()["runs"]] == ["1", "2", "m"]
    assert a.as_dict()["runs"][2]["trigger"] == "manual"
    assert a.as_dict()["missed"] == ["2026-11-03T02:00:00Z"]


def test_a_run_matches_no_fire_time_more_than_six_hours_before_it() -> None:
    a = account("0 2 * * *", [run("1", "2026-11-02T08:01:00Z")], "2026-11-03T00:00:00Z", "2026-11-02T00:00:00Z")
    assert classes(a) == [("2026-11-02T02:00:00Z", "missed", None)]


def test_recent_fire_time_without_a_run_is_pending_and_a_queued_run_is_not_missed() -> None:
    runs = [run("1", "2026-11-02T02:01:00Z", audit.RUNNING)]
    a = account("0 * * * *", runs, "2026-11-02T02:30:00Z", "2026-11-02T01:30:00Z")
    assert classes(a) == [("2026-11-02T02:00:00Z", "ran", "1")]
    a = account("0 * * * *", [], "2026-11-02T02:30:00Z", "2026-11-02T01:30:00Z")
    assert classes(a) == [("2026-11-02T02:00:00Z", "pending", None)]
    assert a.state == "Healthy"


def test_guard_skips_are_accounted_and_the_deadline_one_is_late() -> None:
    runs = [run("1", "2026-11-02T02:01:00Z", audit.SKIPPED, reason="schedule s is suspended (spec.suspend: true)"),
            run("2", "2026-11-03T02:01:00Z", audit.SUCCESS)]
    a = account("0 2 * * *", runs, "2026-11-04T00:00:00Z", "2026-11-02T00:00:00Z")
    assert classes(a) == [("2026-11-02T02:00:00Z", "skipped", "1"), ("2026-11-03T02:00:00Z", "ran", "2")]
    assert a.state == "Healthy"
    assert a.as_dict()["skipped"][0]["reason"] == "schedule s is suspended (spec.suspend: true)"
    late = [run("1", "2026-11-02T04:30:00Z", audit.SKIPPED, reason="started 2h 30m 00s after its nominal time "
                "2026-11-02T02:00:00Z (02:00 UTC), more than startingDeadlineSeconds 3600")]
    a = account("0 2 * * *", late, "2026-11-03T00:00:00Z", "2026-11-02T00:00:00Z")
    assert a.state == "Late"
    assert a.problems[0].message.startswith("the run for 2026-11-02T02:00:00Z started too late and the guard skipped it")


def test_runs_with_their_fire_time_recorded_match_exactly() -> None:
    # Local history records the fire time: a run started 8 hours late still is its fire time's.
    runs = [run("r1", "2026-11-02T10:00:00Z", nominal="2026-11-02T02:00:00Z")]
    a = account("0 2 * * *", runs, "2026-11-04T00:00:00Z", "2026-11-02T00:00:00Z", late=timedelta(days=1))
    assert classes(a) == [("2026-11-02T02:00:00Z", "ran", "r1"), ("2026-11-03T02:00:00Z", "missed", None)]


@pytest.mark.parametrize(("observed", "runs", "state", "kinds"), [
    (Observed(disabled="workflow is disabled_inactivity"), [], "Disabled", ["disabled", "missed"]),
    (Observed(), [("1", "2026-11-02T02:01:00Z", audit.FAILURE)], "Missed", ["missed", "failure"]),
    (Observed(), [("1", "2026-11-02T02:01:00Z", audit.SUCCESS), ("2", "2026-11-03T02:59:00Z", audit.FAILURE)],
     "Failing", ["failure", "late"]),
    (Observed(), [("1", "2026-11-02T02:01:00Z", audit.SUCCESS), ("2", "2026-11-03T02:59:00Z", audit.SUCCESS)],
     "Late", ["late"]),
    (Observed(unknown="GitHub API: read workflow jmo-s.yml: HTTP 403"), [], "Unknown", ["unknown"]),
])
def test_state_precedence(observed: Observed, runs: list[tuple[str, str, str]], state: str, kinds: list[str]) -> None:
    observed = Observed(tuple(run(*r) for r in runs), disabled=observed.disabled, unknown=observed.unknown)
    a = account("0 2 * * *", [], "2026-11-04T00:00:00Z", "2026-11-02T00:00:00Z", observed=observed)
    assert a.state == state
    assert [p.kind for p in a.problems] == kinds


def test_window_starts_when_the_schedule_began_and_suspended_expects_nothing() -> None:
    observed = Observed((), began=t("2026-11-03T01:00:00Z"))
    a = account("0 2 * * *", [], "2026-11-05T00:00:00Z", "2026-11-01T00:00:00Z", observed=observed)
    assert classes(a) == [("2026-11-03T02:00:00Z", "missed", None), ("2026-11-04T02:00:00Z", "missed", None)]
    assert a.as_dict()["window"] == {"from": "2026-11-03T01:00:00Z", "to": "2026-11-05T00:00:00Z"}
    a = account("0 2 * * *", [], "2026-11-05T00:00:00Z", "2026-11-03T00:00:00Z",
                observed=Observed(disabled="workflow is disabled_manually"), suspended=True)
    assert [f.kind for f in a.fire_times] == ["suspended", "suspended"]
    assert a.state == "Healthy"


def test_fire_times_before_what_the_backend_shows_are_not_judged() -> None:
    last = t("2026-11-03T02:00:00Z")
    observed = Observed((Run("cj", last, audit.SUCCESS, nominal=last),), visible_from=last)
    a = account("0 2 * * *", [], "2026-11-04T12:00:00Z", "2026-11-01T00:00:00Z", observed=observed)
    assert classes(a) == [("2026-11-01T02:00:00Z", "unseen", None), ("2026-11-02T02:00:00Z", "unseen", None),
                          ("2026-11-03T02:00:00Z", "ran", "cj"), ("2026-11-04T02:00:00Z", "missed", None)]
