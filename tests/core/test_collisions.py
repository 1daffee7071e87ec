"""collisions.py against the brute-force time oracle of test_cron.py: the first minute two
schedules share, across spring-forward and fall-back days, in several zones."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from jmo_schedule.core import collisions, cron
from test_cron import CRONS, ZONES, oracle_runs, transitions

UTC = timezone.utc
DAYS = 6


def coverage(zone: str, first: date) -> tuple[datetime, datetime]:
    """The UTC span of the local days a Firing covers (first .. first + DAYS)."""
    tz = cron.get_zone(zone)
    start = datetime.combine(first, time(0, 0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=DAYS + 1), time(0, 0), tzinfo=tz).astimezone(UTC)
    return start - timedelta(minutes=1), end - timedelta(minutes=1)


def brute_first(a: tuple[str, str], b: tuple[str, str], start: datetime) -> datetime | None:
    runs = []
    for expr, zone in (a, b):
        first = start.astimezone(cron.get_zone(zone)).date()
        runs.append(set(oracle_runs(expr, zone, *coverage(zone, first))))
    common = runs[0] & runs[1]
    return min(common) if common else None


def impl_first(a: tuple[str, str], b: tuple[str, str], start: datetime) -> datetime | None:
    fa = collisions.Firing("a", a[0], a[1], start, DAYS)
    fb = collisions.Firing("b", b[0], b[1], start, DAYS)
    minute = collisions.first_common_minute(fa, fb)
    return None if minute is None else collisions.as_datetime(minute)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[tuple[str, str], tuple[str, str], datetime]:
    zone_a = draw(st.sampled_from(ZONES))
    zone_b = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2024, 2030))
    points = transitions(zone_a, year) + transitions(zone_b, year) or (datetime(year, 3, 1, tzinfo=UTC),)
    anchor = draw(st.sampled_from(points))
    start = anchor - timedelta(hours=draw(st.integers(1, 60)))
    return (draw(CRONS), zone_a), (draw(CRONS), zone_b), start


@settings(max_examples=250, derandomize=True, deadline=None)
@given(pairs())
def test_first_common_minute_agrees_with_the_oracle(case: tuple[tuple[str, str], tuple[str, str], datetime]) -> None:
    a, b, start = case
    assert impl_first(a, b, start) == brute_first(a, b, start)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_spring_forward_gap_makes_a_collision_only_that_day() -> None:
    # Berlin 2026-03-29 02:00 -> 03:00: 02:15 and 02:30 both run at 03:00 CEST (01:00Z).
    start = at("2026-03-26T00:00:00Z")
    assert impl_first(("15 2 * * *", "Europe/Berlin"), ("30 2 * * *", "Europe/Berlin"), start) == at("2026-03-29T01:00:00Z")
    assert impl_first(("15 2 * * *", "Europe/Berlin"), ("0 1 * * *", "UTC"), start) == at("2026-03-29T01:00:00Z")
    assert impl_first(("15 2 * * *", "Europe/Berlin"), ("30 2 * * *", "Europe/Berlin"), at("2026-03-30T00:00:00Z")) is None


def test_fall_back_runs_once_so_the_repeated_hour_meets_only_its_first_pass() -> None:
    # New York 2026-11-01 02:00 EDT -> 01:00 EST: "30 1" runs at 05:30Z only, not at 06:30Z.
    start = at("2026-10-30T00:00:00Z")
    assert impl_first(("30 1 * * *", "America/New_York"), ("30 5 1 11 *", "UTC"), start) == at("2026-11-01T05:30:00Z")
    assert impl_first(("30 1 * * *", "America/New_York"), ("30 6 1 11 *", "UTC"), start) is None


def test_find_reports_each_later_schedule_once_against_the_first_it_meets() -> None:
    start = at("2026-01-01T00:00:00Z")
    firings = [collisions.Firing(name, expr, zone, start, 366) for name, expr, zone in (
        ("a", "0 2 * * *", "UTC"), ("b", "17 3 * * *", "UTC"), ("c", "0 3 * * *", "Europe/London"),
        ("d", "*/30 * * * *", "UTC"), ("e", "5 4 1 1 *", "UTC"))]
    found = [(later.key, earlier.key, collisions.as_datetime(m)) for later, earlier, m in collisions.find(firings)]
    # c: 03:00 in London is 02:00Z once British Summer Time starts (2026-03-29).
    assert found == [
        ("c", "a", at("2026-03-29T02:00:00Z")),
        ("d", "a", at("2026-01-01T02:00:00Z")),
    ]
