"""cron.py against DESIGN.md's time semantics.

The oracle below is written from the definition alone and shares no code with cron.py:
it parses the five fields itself and walks every UTC minute of a window, asking zoneinfo
for the wall clock at each one. A minute fires when its wall time matches and has not
been seen before (fall back: first occurrence only), or when the wall clock jumped over
matching wall times (spring forward: ONE run at the first instant after the gap).
"""
from __future__ import annotations

import functools
import itertools
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jmo_schedule.core import cron
from jmo_schedule import describe, next_runs, previous_run

UTC = timezone.utc
ZONES = (
    "America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
)

# --------------------------------------------------------------------------------------
# The oracle


_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def _oracle_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            a, b = low, high
        else:
            first, dash, last = base.partition("-")
            a = names.get(first.upper(), None) if not first.isdigit() else int(first)
            assert a is not None
            if dash:
                b = names[last.upper()] if not last.isdigit() else int(last)
                if b == 0 and high == 7:  # FRI-SUN: Sunday as 7
                    b = 7
            else:
                b = high if step_text else a  # N/step means N-high/step
        out.update(range(a, b + 1, step))
    return out


@functools.lru_cache(maxsize=None)
def oracle_spec(expr: str) -> tuple:
    fields = _MACROS.get(expr.strip().lower(), expr).split()
    minute, hour, dom, month, dow = fields
    dows = {d % 7 for d in _oracle_field(dow, 0, 7, _DAYS)}
    return (
        frozenset(_oracle_field(minute, 0, 59, {})),
        frozenset(_oracle_field(hour, 0, 23, {})),
        frozenset(_oracle_field(dom, 1, 31, {})),
        frozenset(_oracle_field(month, 1, 12, _MONTHS)),
        frozenset(dows),
        dom != "*",
        dow != "*",
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=200_000)
def _day(day_index: int) -> tuple[int, int, int]:
    d = date.fromordinal(_EPOCH_ORDINAL + day_index)
    return d.day, d.month, d.isoweekday() % 7


def _matches(spec: tuple, wall: int) -> bool:
    minutes, hours, doms, months, dows, dom_r, dow_r = spec
    if wall % 60 not in minutes or (wall // 60) % 24 not in hours:
        return False
    day, month, weekday = _day(wall // 1440)
    if month not in months:
        return False
    if dom_r and dow_r:
        return day in doms or weekday in dows
    return day in doms and weekday in dows


@functools.lru_cache(maxsize=16384)
def _wall_hour(zone_name: str, hour: int) -> tuple[int, ...]:
    """Wall clock (minutes since 1970-01-01 00:00 local) at each UTC minute of one UTC hour."""
    zone = ZoneInfo(zone_name)
    out = []
    for m in range(hour * 60, hour * 60 + 60):
        offset = (_EPOCH + timedelta(minutes=m)).astimezone(zone).utcoffset()
        out.append(m + int(offset.total_seconds()) // 60)
    return tuple(out)


def oracle_runs(expr: str, zone_name: str, start: datetime, end: datetime) -> list[datetime]:
    """Fire instants in (start, end], brute force over every UTC minute. The walk starts
    3 hours early so the first occurrence of a repeated wall time has been seen."""
    spec = oracle_spec(expr)
    minutes_set = spec[0]
    first_hour = int((start - _EPOCH).total_seconds()) // 3600 - 3
    last_minute = int((end - _EPOCH).total_seconds()) // 60
    start_minute = (start - _EPOCH).total_seconds() / 60
    seen: set[int] = set()
    runs = []
    prev = None
    for hour in range(first_hour, last_minute // 60 + 1):
        for i, wall in enumerate(_wall_hour(zone_name, hour)):
            if prev is not None and wall > prev + 1:  # the clock jumped: a gap
                fire = any(_matches(spec, w) for w in range(prev + 1, wall + 1))
            else:
                fire = wall % 60 in minutes_set and wall not in seen and _matches(spec, wall)
            seen.add(wall)
            prev = wall if prev is None else max(prev, wall)
            minute = hour * 60 + i
            if fire and start_minute < minute <= last_minute:
                runs.append(_EPOCH + timedelta(minutes=minute))
    return runs


def impl_runs(expr: str, zone_name: str, start: datetime, end: datetime) -> list[datetime]:
    return list(itertools.takewhile(lambda r: r <= end, cron.iter_runs(expr, zone_name, start)))


@functools.lru_cache(maxsize=None)
def transitions(zone_name: str, year: int) -> tuple[datetime, ...]:
    """UTC instants (minute precision) where the zone's offset changes in `year`."""
    zone = ZoneInfo(zone_name)
    out = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    step = timedelta(hours=12)  # no zone changes its offset twice in 12 hours
    while t.year == year:
        a, b = t.astimezone(zone).utcoffset(), (t + step).astimezone(zone).utcoffset()
        if a != b:
            lo, hi = t, t + step
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid.astimezone(zone).utcoffset() == a:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        t += step
    return tuple(out)


# --------------------------------------------------------------------------------------
# Generated cron expressions, biased towards the hours DST changes happen in


def _field(values: st.SearchStrategy[int], low: int, high: int, names: list[str] | None = None) -> st.SearchStrategy[str]:
    def rng(pair: tuple[int, int]) -> str:
        a, b = sorted(pair)
        return f"{a}-{b}"

    atom = st.one_of(
        values.map(str),
        st.tuples(values, values).map(rng),
        st.tuples(st.tuples(values, values).map(rng), st.integers(1, max(1, (high - low) // 2))).map(lambda p: f"{p[0]}/{p[1]}"),
        st.integers(1, max(1, (high - low) // 2)).map(lambda s: f"*/{s}"),
        st.tuples(values, st.integers(1, max(1, (high - low) // 2))).map(lambda p: f"{p[0]}/{p[1]}"),
    )
    if names:
        atom = st.one_of(atom, st.sampled_from(names))
    return st.one_of(
        st.just("*"),
        atom,
        st.lists(atom, min_size=2, max_size=3).map(",".join),
    )


MINUTES = _field(st.one_of(st.sampled_from([0, 1, 15, 29, 30, 31, 45, 59]), st.integers(0, 59)), 0, 59)
HOURS = _field(st.one_of(st.integers(0, 4), st.integers(0, 23)), 0, 23)
DOMS = st.one_of(st.just("*"), st.just("*"), _field(st.integers(1, 28), 1, 31))
MONTHS = st.one_of(st.just("*"), st.just("*"), _field(st.integers(1, 12), 1, 12, ["MAR", "APR", "OCT", "NOV", "SEP"]))
DOWS = st.one_of(st.just("*"), _field(st.integers(0, 7), 0, 7, ["SUN", "MON", "SAT", "FRI"]))
CRONS = st.one_of(
    st.tuples(MINUTES, HOURS, DOMS, MONTHS, DOWS).map(" ".join),
    st.sampled_from(["@hourly", "@daily", "@weekly", "@monthly", "30 2 * * *", "*/30 * * * *", "15,45 1-3 * * *"]),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, datetime, datetime]:
    expr = draw(CRONS)
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2005, 2035))
    points = transitions(zone, year) or (datetime(year, 3, 1, tzinfo=UTC),)
    anchor = draw(st.sampled_from(points))
    start = anchor + timedelta(minutes=draw(st.integers(-26 * 60, 2 * 60)), seconds=draw(st.sampled_from([0, 0, 1, 59])))
    return expr, zone, start, anchor


@settings(max_examples=2000, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(cases())
def test_agrees_with_the_brute_force_oracle(case: tuple[str, str, datetime, datetime]) -> None:
    expr, zone, start, anchor = case
    assert cron.validate(expr) is None, expr
    end = anchor + timedelta(hours=28)
    assert impl_runs(expr, zone, start, end) == oracle_runs(expr, zone, start, end)


# Zones that change at midnight (Havana, Santiago at 24:00), by two hours (Troll), or back
# and forth around Ramadan (Casablanca): the same definition must hold there too.
UNUSUAL_ZONES = ("America/Havana", "America/Santiago", "Antarctica/Troll", "Africa/Casablanca", "Pacific/Chatham")


@st.composite
def unusual_cases(draw: st.DrawFn) -> tuple[str, str, datetime, datetime]:
    expr = draw(CRONS)
    zone = draw(st.sampled_from(UNUSUAL_ZONES))
    year = draw(st.integers(2012, 2030))
    points = transitions(zone, year) or (datetime(year, 3, 1, tzinfo=UTC),)
    anchor = draw(st.sampled_from(points))
    start = anchor + timedelta(minutes=draw(st.integers(-26 * 60, 2 * 60)))
    return expr, zone, start, anchor


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(unusual_cases())
def test_agrees_with_the_oracle_in_unusual_zones(case: tuple[str, str, datetime, datetime]) -> None:
    expr, zone, start, anchor = case
    end = anchor + timedelta(hours=28)
    assert impl_runs(expr, zone, start, end) == oracle_runs(expr, zone, start, end)


def test_the_generated_cases_cross_every_kind_of_transition() -> None:
    # The oracle is only worth something if the windows contain gaps and folds.
    for zone in ZONES[:-2]:
        kinds = set()
        for t in transitions(zone, 2026):
            before = (t - timedelta(minutes=1)).astimezone(ZoneInfo(zone)).utcoffset()
            after = t.astimezone(ZoneInfo(zone)).utcoffset()
            kinds.add("gap" if after > before else "fold")
        assert kinds == {"gap", "fold"}, zone
    assert transitions("Asia/Kolkata", 2026) == () and transitions("UTC", 2026) == ()


def test_oracle_itself_on_known_days() -> None:
    # New York 2026-03-08: 02:00 -> 03:00; 2026-11-01: 02:00 -> 01:00.
    got = oracle_runs("30 2 * * *", "America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC),
                      datetime(2026, 3, 9, 12, tzinfo=UTC))
    assert got == [datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 9, 6, 30, tzinfo=UTC)]
    got = oracle_runs("30 1 * * *", "America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC),
                      datetime(2026, 11, 2, 12, tzinfo=UTC))
    assert got == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 2, 6, 30, tzinfo=UTC)]


# --------------------------------------------------------------------------------------
# Explicit DST cases, computed by hand from the zones' rules


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "zone", "after", "expected"),
    [
        # New York spring forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC).
        ("30 2 * * *", "America/New_York", at(2026, 3, 7, 12), [at(2026, 3, 8, 7, 0), at(2026, 3, 9, 6, 30)]),
        # Several wall times in one gap make ONE run, at the end of the gap.
        ("0,15,30,45 2 * * *", "America/New_York", at(2026, 3, 8, 0), [at(2026, 3, 8, 7, 0), at(2026, 3, 9, 6, 0)]),
        # One in the gap plus the instant after it (03:00) make ONE run.
        ("30 2,3 * * *", "America/New_York", at(2026, 3, 8, 0), [at(2026, 3, 8, 7, 0), at(2026, 3, 8, 7, 30)]),
        ("0 3 * * *", "America/New_York", at(2026, 3, 8, 0), [at(2026, 3, 8, 7, 0), at(2026, 3, 9, 7, 0)]),
        # Fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice, fires once.
        ("30 1 * * *", "America/New_York", at(2026, 10, 31, 12), [at(2026, 11, 1, 5, 30), at(2026, 11, 2, 6, 30)]),
        # Every 30 minutes across the fold: the repeated hour is skipped, not run twice.
        ("*/30 * * * *", "America/New_York", at(2026, 11, 1, 4, 45),
         [at(2026, 11, 1, 5, 0), at(2026, 11, 1, 5, 30), at(2026, 11, 1, 7, 0), at(2026, 11, 1, 7, 30)]),
        # London 2026-03-29 01:00 GMT -> 02:00 BST.
        ("30 1 * * *", "Europe/London", at(2026, 3, 28, 12), [at(2026, 3, 29, 1, 0), at(2026, 3, 30, 0, 30)]),
        # London 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 BST first (00:30 UTC).
        ("30 1 * * *", "Europe/London", at(2026, 10, 24, 12), [at(2026, 10, 25, 0, 30), at(2026, 10, 26, 1, 30)]),
        # Sydney 2026-10-04 02:00 AEST -> 03:00 AEDT (16:00 UTC on the 3rd).
        ("30 2 * * *", "Australia/Sydney", at(2026, 10, 3, 0), [at(2026, 10, 3, 16, 0), at(2026, 10, 4, 15, 30)]),
        # Sydney 2026-04-05 03:00 AEDT -> 02:00 AEST: 02:30 AEDT (15:30 UTC on the 4th) first.
        ("30 2 * * *", "Australia/Sydney", at(2026, 4, 4, 0), [at(2026, 4, 4, 15, 30), at(2026, 4, 5, 16, 30)]),
        # Lord Howe: 30-minute DST. 2026-10-04 02:00 -> 02:30 (+10:30 -> +11), 15:30 UTC.
        ("15 2 * * *", "Australia/Lord_Howe", at(2026, 10, 3, 0), [at(2026, 10, 3, 15, 30), at(2026, 10, 4, 15, 15)]),
        ("45 2 * * *", "Australia/Lord_Howe", at(2026, 10, 3, 0), [at(2026, 10, 3, 15, 45), at(2026, 10, 4, 15, 45)]),
        # Lord Howe 2026-04-05 02:00 -> 01:30: 01:45 first at +11 (14:45 UTC on the 4th).
        ("45 1 * * *", "Australia/Lord_Howe", at(2026, 4, 4, 0), [at(2026, 4, 4, 14, 45), at(2026, 4, 5, 15, 15)]),
        # Kolkata: +05:30, no DST.
        ("0 9 * * 1-5", "Asia/Kolkata", at(2026, 11, 27, 0), [at(2026, 11, 27, 3, 30), at(2026, 11, 30, 3, 30)]),
        ("@daily", "UTC", at(2026, 12, 31, 23, 59, 59), [at(2027, 1, 1), at(2027, 1, 2)]),
    ],
)
def test_explicit_dst_cases(expr: str, zone: str, after: datetime, expected: list[datetime]) -> None:
    assert next_runs(expr, zone, after, len(expected)) == expected
    assert oracle_runs(expr, zone, after, expected[-1]) == expected


def test_next_runs_is_strictly_after_and_aware_utc() -> None:
    runs = next_runs("0 2 * * *", "Europe/London", datetime(2026, 7, 1, 1, 0, tzinfo=UTC), 3)
    assert runs[0] == at(2026, 7, 2, 1, 0)  # 02:00 BST on the 1st is exactly `after`: excluded
    assert all(r.tzinfo is UTC for r in runs)
    assert runs == sorted(set(runs))


def test_next_runs_accepts_naive_as_utc_and_other_offsets() -> None:
    naive = next_runs("0 * * * *", "UTC", datetime(2026, 1, 1, 10, 30), 1)
    other = next_runs("0 * * * *", "UTC", datetime(2026, 1, 1, 12, 30, tzinfo=timezone(timedelta(hours=2))), 1)
    assert naive == other == [at(2026, 1, 1, 11)]


def test_next_runs_count_zero_and_negative() -> None:
    assert next_runs("0 * * * *", "UTC", at(2026, 1, 1), 0) == []
    with pytest.raises(ValueError, match="count must be >= 0"):
        next_runs("0 * * * *", "UTC", at(2026, 1, 1), -1)


def test_day_of_month_or_day_of_week_when_both_restricted() -> None:
    # 1st of the month OR a Monday: 2026-06-01 is a Monday, then 8th, 15th...; July 1st is Wednesday.
    runs = next_runs("0 0 1 * 1", "UTC", at(2026, 6, 20), 3)
    assert runs == [at(2026, 6, 22), at(2026, 6, 29), at(2026, 7, 1)]
    # Only dom restricted: days must match dom (weekday unrestricted).
    assert next_runs("0 0 13 * *", "UTC", at(2026, 1, 1), 1) == [at(2026, 1, 13)]
    # `*/1` is restricted, not `*`: so OR applies.
    assert next_runs("0 0 13 * */1", "UTC", at(2026, 1, 1), 1) == [at(2026, 1, 1, 0, 0) + timedelta(days=1)]


def test_sunday_is_0_and_7_and_names() -> None:
    a = next_runs("0 12 * * 0", "UTC", at(2026, 1, 1), 3)
    assert a == next_runs("0 12 * * 7", "UTC", at(2026, 1, 1), 3) == next_runs("0 12 * * SUN", "UTC", at(2026, 1, 1), 3)
    assert all(r.isoweekday() == 7 for r in a)
    assert next_runs("0 0 * * FRI-SUN", "UTC", at(2026, 1, 1), 3) == [at(2026, 1, 2), at(2026, 1, 3), at(2026, 1, 4)]


def test_leap_day_schedule_and_rare_schedules() -> None:
    assert next_runs("0 0 29 2 *", "UTC", at(2026, 1, 1), 2) == [at(2028, 2, 29), at(2032, 2, 29)]


def test_previous_run() -> None:
    assert previous_run("0 2 * * 1", "UTC", at(2026, 11, 25, 12)) == at(2026, 11, 23, 2)
    # `at` itself counts (not after `at`).
    assert previous_run("0 2 * * 1", "UTC", at(2026, 11, 23, 2)) == at(2026, 11, 23, 2)
    # Across the New York gap: 02:30 on 2026-03-08 ran at 03:00 EDT.
    assert previous_run("30 2 * * *", "America/New_York", at(2026, 3, 8, 7, 10)) == at(2026, 3, 8, 7, 0)
    # Across the fold: only the first 01:30.
    assert previous_run("30 1 * * *", "America/New_York", at(2026, 11, 1, 6, 45)) == at(2026, 11, 1, 5, 30)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(cases())
def test_previous_run_is_the_run_before_next(case: tuple[str, str, datetime, datetime]) -> None:
    expr, zone, start, _ = case
    first, second = next_runs(expr, zone, start, 2)
    assert previous_run(expr, zone, second - timedelta(seconds=1)) == first
    assert previous_run(expr, zone, second) == second


# --------------------------------------------------------------------------------------
# Syntax


@pytest.mark.parametrize(
    ("expr", "message", "offset"),
    [
        ("0 25 * * *", "hour 25 is outside 0-23", 2),
        ("60 * * * *", "minute 60 is outside 0-59", 0),
        ("0 0 32 * *", "day of month 32 is outside 1-31", 4),
        ("0 0 0 * *", "day of month 0 is outside 1-31", 4),
        ("0 0 * 13 *", "month 13 is outside 1-12", 6),
        ("0 0 * * 8", "day of week 8 is outside 0-7", 8),
        ("0 0 * FOO *", "month: unknown name 'FOO' (use JAN-DEC or numbers)", 6),
        ("0 0 * * MO", "day-of-week: unknown name 'MO' (use SUN-SAT or numbers)", 8),
        ("x 0 * * *", "minute: 'x' is not a number (names are allowed only for month and day-of-week)", 0),
        ("*/0 * * * *", "minute: step 0 in '*/0' never advances; use a step of 1 or more", 2),
        ("*/a * * * *", "minute: step 'a' in '*/a' is not a positive number", 2),
        ("*/61 * * * *", "minute: step 61 in '*/61' is larger than the field's range 0-59", 2),
        ("5-1 * * * *", "minute: range '5-1' runs backwards; write it low-high", 0),
        ("1,,2 * * * *", "minute: empty list item in '1,,2'", 2),
        ("/5 * * * *", "minute: '/5' has nothing before '/'", 0),
        ("0 0 ? * *", "day-of-month: '?' is Quartz syntax, not cron; write * instead", 4),
        ("0 0 L * *", "day-of-month: 'L' (Quartz 'last'/'weekday'/'nth') is not supported by standard cron", 4),
        ("0 0 15W * *", "day-of-month: 'W' (Quartz 'last'/'weekday'/'nth') is not supported by standard cron", 6),
        ("0 0 * * 1#2", "day-of-week: '#' (Quartz 'last'/'weekday'/'nth') is not supported by standard cron", 9),
        ("0 0 0 * * *", "6 fields: seconds (or a year) are not supported; cron has 5 fields: "
                        "minute hour day-of-month month day-of-week", 0),
        ("0 0 12 * * ? 2026", "7 fields look like Quartz (seconds and year); cron has 5 fields: "
                              "minute hour day-of-month month day-of-week", 0),
        ("0 0 *", "3 fields; cron has 5: minute hour day-of-month month day-of-week", 0),
        ("", "cron expression is empty; write 5 fields such as \"0 2 * * 1\"", 0),
        ("@reboot", "@reboot has no time to schedule; use 5 fields such as \"0 2 * * *\"", 0),
        ("@fortnightly", "unknown macro '@fortnightly' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)", 0),
        ("0 0 31 2 *", "'0 0 31 2 *' never fires: no month in it has that day", 4),
        ("0 0\n* * *", "cron expression must be one line without control characters", 0),
        # ASCII only: str.isdigit() and int() accept these, cron does not.
        ("*/\u00b2 2 * * *", "'\u00b2' is not cron syntax: cron takes ASCII digits, names, * , - / and spaces", 2),
        ("\u0661 2 * * *", "'\u0661' is not cron syntax: cron takes ASCII digits, names, * , - / and spaces", 0),
        ("1 \u0968 * * *", "'\u0968' is not cron syntax: cron takes ASCII digits, names, * , - / and spaces", 2),
        ("1\u00a02 * * *", "'\\xa0' is not cron syntax: cron takes ASCII digits, names, * , - / and spaces", 1),
        ("1 2 * * 1\u3000", "'\\u3000' is not cron syntax: cron takes ASCII digits, names, * , - / and spaces", 9),
        ("@daily\u2028", "unknown macro '@daily\\u2028' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)", 0),
        # Numbers of any length are a located error (int() refuses more than 4300 digits).
        ("1 " + "9" * 5000 + " * * *", "hour 999999999999... (5000 characters) is outside 0-23", 2),
        ("*/" + "9" * 5000 + " * * * *", "minute: step 999999999999... (5000 characters) is larger than the field's range 0-59", 2),
        ("1-" + "7" * 30 + " * * * *", "minute 777777777777... (30 characters) is outside 0-59", 2),
        ("*/" + "0" * 30 + " * * * *", "minute: step 0 in '*/0000000000... (32 characters)' never advances; use a step of 1 or more", 2),
    ],
)
def test_syntax_errors(expr: str, message: str, offset: int) -> None:
    with pytest.raises(cron.CronError) as exc:
        cron.parse(expr)
    assert exc.value.message == message
    assert exc.value.offset == offset
    assert cron.validate(expr) == message


@pytest.mark.parametrize(
    "expr",
    ["0 2 * * 1", "*/15 * * * *", "0 9 * * 1-5", "0 0 1 * *", "0 0 1 jan *", "0 0 * * mon-fri", "0 0 * JUL WED",
     "@daily", "@HOURLY", "  0 2 * * 1  ", "0 0 1,15 * *", "0-30/10 */6 * * *", "5/15 * * * *", "0 0 * * 0,7",
     "0" * 5000 + "7 2 * * *", "0\t2 * * 1"],
)
def test_valid_expressions(expr: str) -> None:
    assert cron.validate(expr) is None


def test_macros_expand_to_five_fields() -> None:
    assert cron.parse("@weekly").fields == "0 0 * * 0"
    assert cron.parse("@yearly").fields == "0 0 1 1 *"


def test_zone_errors() -> None:
    with pytest.raises(ValueError, match=r"^unknown time zone 'europe/london' \(did you mean Europe/London\?\)$"):
        cron.get_zone("europe/london")
    with pytest.raises(ValueError, match=r"^unknown time zone 'Mars/Base' \(use an IANA name such as Europe/London\)$"):
        cron.get_zone("Mars/Base")
    with pytest.raises(ValueError, match="^time zone must be an IANA name such as UTC or Europe/London$"):
        cron.get_zone("")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # Files of the machine's zone database that are not zones, or mean different zones
        # on different machines (every Debian zoneinfo folder has localtime and posixrules).
        ("localtime", "time zone 'localtime' is a file of this machine's zone database, not a zone: it means "
                      "different zones on different machines; use an IANA name such as Europe/London"),
        ("posixrules", "time zone 'posixrules' is a file of this machine's zone database, not a zone: it means "
                       "different zones on different machines; use an IANA name such as Europe/London"),
        ("posix/Europe/London", "time zone 'posix/Europe/London' is a copy of Europe/London that only some machines "
                                "have; write Europe/London"),
        ("right/America/New_York", "time zone 'right/America/New_York' is a copy of America/New_York that only some "
                                   "machines have (counting leap seconds); write America/New_York"),
        ("Factory", "time zone 'Factory' is a placeholder meaning no zone was set; use an IANA name such as "
                    "Europe/London"),
        ("/usr/share/zoneinfo/UTC", "unknown time zone '/usr/share/zoneinfo/UTC' (use an IANA name such as Europe/London)"),
        ("Europe/../UTC", "unknown time zone 'Europe/../UTC' (use an IANA name such as Europe/London)"),
        ("x" * 5000, "unknown time zone '" + "x" * 48 + "...' (use an IANA name such as Europe/London)"),
    ],
)
def test_zones_only_from_the_iana_database(name: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        cron.get_zone(name)
    assert str(exc.value) == message


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "Europe/London", "US/Eastern", "Asia/Calcutta", "EST5EDT",
                                  "Etc/GMT+5", "America/Argentina/Buenos_Aires"])
def test_iana_names_and_backward_links_are_zones(name: str) -> None:
    assert cron.get_zone(name).key == name


def test_min_interval_minutes() -> None:
    assert cron.min_interval_minutes("* * * * *") == 1
    assert cron.min_interval_minutes("*/5 * * * *") == 5
    assert cron.min_interval_minutes("0,58 * * * *") == 2  # 00:58 -> 01:00
    assert cron.min_interval_minutes("0 2 * * *") == 24 * 60
    assert cron.min_interval_minutes("0 */2 * * *") == 120


# --------------------------------------------------------------------------------------
# describe


@pytest.mark.parametrize(
    ("expr", "zone", "text"),
    [
        ("0 2 * * 1", "UTC", "At 02:00 on Monday (UTC)"),
        ("0 2 * * *", "America/New_York", "At 02:00 (America/New_York)"),
        ("*/15 * * * *", "UTC", "Every 15 minutes (UTC)"),
        ("0 9 * * 1-5", "UTC", "At 09:00 on Monday through Friday (UTC)"),
        ("0 0 1 * *", "UTC", "At 00:00 on day 1 of the month (UTC)"),
        ("@weekly", "Europe/London", "At 00:00 on Sunday (Europe/London)"),
    ],
)
def test_describe(expr: str, zone: str, text: str) -> None:
    assert describe(expr, zone) == text


def test_describe_says_or_when_both_days_are_restricted() -> None:
    text = describe("0 0 1 * 1", "UTC")
    assert text == "At 00:00 on day 1 of the month or on Monday (UTC)"


def test_describe_rejects_bad_cron() -> None:
    with pytest.raises(cron.CronError):
        describe("0 25 * * *", "UTC")


def test_times_outside_the_supported_years() -> None:
    with pytest.raises(ValueError, match=r"^9999-12-31T12:00:00\+00:00 is outside the years 1900-9000$"):
        next_runs("0 2 * * *", "UTC", datetime(9999, 12, 31, 12, tzinfo=UTC), 1)
    with pytest.raises(ValueError, match="is outside the years 1900-9000"):
        previous_run("0 2 * * *", "UTC", datetime(1, 1, 1, tzinfo=UTC))
    # A schedule that cannot fire again before the end of the supported years ends.
    assert next_runs("0 0 29 2 *", "Pacific/Kiritimati", datetime(8999, 1, 1, tzinfo=UTC), 5) == []  # 9000: no leap day
    assert previous_run("0 0 1 1 *", "UTC", datetime(1900, 6, 1, tzinfo=UTC)) == at(1900, 1, 1)


def test_cron_spec_is_an_immutable_value() -> None:
    spec = cron.parse("0 2 * * 1")
    named = cron.parse("0 2 * * MON")
    assert spec != named and spec.weekdays == named.weekdays  # same times, different text
    assert (spec.minutes, spec.hours, spec.weekdays, spec.dom_restricted, spec.dow_restricted) == (
        (0,), (2,), frozenset({1}), False, True)
    assert hash(spec) == hash(cron.parse("0 2 * * 1"))
    with pytest.raises(AttributeError, match="CronSpec is immutable"):
        spec.hours = (3,)  # type: ignore[misc]


CRON_ALPHABET = st.sampled_from(list("0123456789*,-/ JANMONSUL?#W@") + ["\u00b2", "\u0663", "\u00a0", "\u2028", "\t"])


@given(st.one_of(st.text(), st.text(CRON_ALPHABET, max_size=40)))
@example("1 " + "9" * 5000 + " * * *")
def test_any_text_parses_or_is_refused_with_a_cron_error(text: str) -> None:
    try:
        spec = cron.parse(text)
    except cron.CronError as exc:
        assert "\n" not in exc.message and len(exc.message) < 200
        return
    # Accepted: ASCII only, and the fields as written.
    assert spec.fields.isascii()
    assert spec.fields == " ".join(text.split()) or text.strip().startswith("@")
