"""core/cron_translate.py: a schedule's fire times in its own zone as crontab fields in
the machine's zone, held against the shared time semantics (cron.py) over years of DST."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from zone_cases import CASES

from jmo_schedule.core.cron import get_zone, iter_runs, parse
from jmo_schedule.core.cron_translate import cron_fields, offset_deltas

UTC = timezone.utc


def second_occurrence(instant: datetime, zone: str) -> bool:
    """Whether `instant` is in the repeated hour of `zone` after it fell back."""
    return instant.astimezone(get_zone(zone)).fold == 1


def cron_runs(fields: tuple[str, ...], wall: datetime, repeated: bool) -> bool:
    """Whether Debian cron runs a line with `fields` at machine wall minute `wall`: in the
    repeated hour only lines with `*` in the minute or hour field run again."""
    spec = parse(" ".join(fields))
    if repeated and fields[0] != "*" and fields[1] != "*":
        return False
    return wall.minute in spec.minutes and wall.hour in spec.hours and spec.matches_day(wall.date())


@pytest.mark.parametrize("cron,tz,machine", CASES)
def test_every_fire_time_has_a_crontab_line(cron: str, tz: str, machine: str) -> None:
    lines = cron_fields(cron, tz, machine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2029, 1, 1, tzinfo=UTC)
    mzone = get_zone(machine)
    checked = 0
    for run in iter_runs(cron, tz, start):
        if run >= end:
            break
        local = run.astimezone(mzone)
        wall = local.replace(tzinfo=None)
        assert any(cron_runs(f, wall, local.fold == 1) for f in lines), (
            f"{run} ({wall} in {machine}) is a fire time of {cron!r} in {tz} but no line runs then: {lines}")
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("cron,tz,machine", [c for c in CASES if c[0] in ("30 2 * * *", "45 23 31 * *")])
def test_spurious_invocations_are_few(cron: str, tz: str, machine: str) -> None:
    """Count the minutes of 2027 at which cron would call `run` and how many are not fire
    times: the superset stays small (one extra line per offset difference)."""
    lines = [parse(" ".join(f)) for f in cron_fields(cron, tz, machine)]
    fires = set()
    for run in iter_runs(cron, tz, datetime(2027, 1, 1, tzinfo=UTC)):
        if run.year > 2027:
            break
        fires.add(run)
    calls = 0
    day = datetime(2027, 1, 1, tzinfo=UTC)
    mzone = get_zone(machine)
    while day.year == 2027:
        wall = day.astimezone(mzone)
        for spec in lines:
            if spec.matches_day(wall.date()) and wall.hour in spec.hours and wall.minute in spec.minutes:
                calls += 1
                break
        day += timedelta(minutes=1)
    assert calls >= len(fires)
    # One extra call per fire time and extra offset difference, plus a few changeover lines.
    assert calls - len(fires) <= len(fires) * (len(offset_deltas(tz, machine)) - 1) + 5


def test_translations_read_like_cron() -> None:
    assert cron_fields("30 2 * * *", "America/New_York", "UTC") == (
        ("30", "6,7", "*", "*", "*"),  # EDT and EST
        ("0", "7", "*", "3", "0"),  # 02:30 on the March changeover Sunday fires at 03:00 EDT
    )
    assert cron_fields("30 6 * * *", "UTC", "America/New_York") == (
        ("30", "1,2", "*", "*", "*"),
        ("30", "*", "*", "11", "0"),  # 01:30 EST, the repeated hour: an hour-wildcard line
    )
    assert cron_fields("45 23 31 1,3 *", "Asia/Kathmandu", "UTC") == (("0", "18", "31", "1,3", "*"),)
    # Crossing midnight backwards moves day-of-week back too, keeping the OR with day-of-month.
    assert cron_fields("0 1 1 * 1", "Europe/Paris", "UTC") == (
        ("0", "23", "28-31", "*", "0"),  # CEST: 23:00 UTC the day before (1st -> 28-31, Monday -> Sunday)
        ("0", "0", "1", "*", "1"),
    )
    assert cron_fields("0 12 * * *", "UTC", "UTC") == (("0", "12", "*", "*", "*"),)
