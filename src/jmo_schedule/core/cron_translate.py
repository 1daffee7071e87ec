"""A schedule's fire times in its own zone, as crontab fields in the machine's zone.

cron has no time zone: it matches its five fields against the machine's wall clock. The
translation is a SUPERSET of the fire times (`jmo-schedule run` re-checks each invocation
with the shared semantics of cron.py):

1. one set of fields per UTC-offset difference in effect over the years WINDOW (e.g. +5h
   and +4h for America/New_York on a UTC machine), each a shifted copy; when the shift
   crosses midnight the day fields move by a day (month ends and the day-of-month /
   day-of-week OR rule kept by widening, never narrowing);
2. the first instant after each spring-forward gap of the schedule's zone when a wall time
   in the gap fires there (02:30 on the changeover day fires at 03:00);
3. fire times that land in the second occurrence of the machine's own repeated hour
   (fall back): Debian cron does not rerun fixed-time jobs there, but it does run jobs
   with `*` in the hour field, so those get an hour-wildcard line.

Pure (the zones' rules are data); generators/local_cron.py writes the lines.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from .cron import CronSpec, get_zone, parse

WINDOW = (2025, 2060)
UTC = timezone.utc


@functools.lru_cache(maxsize=256)
def transitions(zone_name: str) -> tuple[tuple[datetime, int, int], ...]:
    """(instant, offset before, offset after) of each UTC-offset change of the zone in
    WINDOW, offsets in whole minutes, instants to the second."""
    zone = get_zone(zone_name)

    def offset(t: datetime) -> int:
        delta = t.astimezone(zone).utcoffset() or timedelta(0)
        return int(delta.total_seconds() // 60)

    start = datetime(WINDOW[0], 1, 1, tzinfo=UTC)
    end = datetime(WINDOW[1], 1, 1, tzinfo=UTC)
    out = []
    t, off = start, offset(start)
    # Offsets hold for months at a time; a week is well below any recent rule's shortest.
    step = timedelta(days=7)
    while t < end:
        nxt = t + step
        noff = offset(nxt)
        if noff != off:
            lo, hi = t, nxt  # offset(lo) == off, offset(hi) == noff
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if offset(mid) == off:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, off, noff))
            off = noff
        t = nxt
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def offset_deltas(zone: str, machine_zone: str) -> tuple[int, ...]:
    """Every (machine offset - zone offset), in minutes, in effect at some time in WINDOW."""
    z, m = get_zone(zone), get_zone(machine_zone)
    start = datetime(WINDOW[0], 1, 1, tzinfo=UTC)
    moments = [start] + [t for t, _, _ in transitions(zone)] + [t for t, _, _ in transitions(machine_zone)]
    out = set()
    for t in moments:
        oz = t.astimezone(z).utcoffset() or timedelta(0)
        om = t.astimezone(m).utcoffset() or timedelta(0)
        out.add(int((om - oz).total_seconds() // 60))
    return tuple(sorted(out))


# ------------------------------------------------------------------------------------
# Cron fields


def _fmt(values: Iterable[int], low: int, high: int, star: bool = True) -> str:
    """A cron list for `values`: `*` when it is the whole range (and `star` allowed),
    runs of three or more as ranges."""
    vals = sorted(set(values))
    if star and vals == list(range(low, high + 1)):
        return "*"
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{vals[i]}-{vals[j]}")
        else:
            parts.extend(str(v) for v in vals[i : j + 1])
        i = j + 1
    return ",".join(parts)


def _day_fields(spec: CronSpec, shift: int) -> tuple[str, str, str]:
    """(day-of-month, month, day-of-week) for fire days moved by `shift` days (-1, 0, +1).

    A restricted field stays restricted (written as a list, never `*`), because cron ORs
    day-of-month and day-of-week only when both are restricted."""
    days, months, weekdays = set(spec.days), set(spec.months), set(spec.weekdays)
    if shift == 1:
        days = {d + 1 for d in days if d < 31} | ({1} if max(days) >= 28 else set())
        months |= {m % 12 + 1 for m in months}
        weekdays = {(w + 1) % 7 for w in weekdays}
    elif shift == -1:
        days = {d - 1 for d in days if d > 1} | ({28, 29, 30, 31} if 1 in days else set())
        months |= {(m - 2) % 12 + 1 for m in months}
        weekdays = {(w - 1) % 7 for w in weekdays}
    dom = _fmt(days, 1, 31, star=False) if spec.dom_restricted else "*"
    dow = _fmt(weekdays, 0, 6, star=False) if spec.dow_restricted else "*"
    return dom, _fmt(months, 1, 12), dow


Fields = tuple[str, str, str, str, str]


def shifted_fields(spec: CronSpec, delta: int) -> list[Fields]:
    """The five fields, as cron lines, of `spec`'s wall times moved by `delta` minutes."""
    dh, dm = divmod(delta, 60)
    groups: dict[tuple[str, str, str, str], set[int]] = {}
    for carry in (0, 1):
        minutes = [m for m in spec.minutes if (m + dm >= 60) == bool(carry)]
        if not minutes:
            continue
        minute_text = _fmt([(m + dm) % 60 for m in minutes], 0, 59)
        for h in spec.hours:
            shift, hour = divmod(h + dh + carry, 24)
            dom, month, dow = _day_fields(spec, shift)
            groups.setdefault((minute_text, dom, month, dow), set()).add(hour)
    # Lines that differ only in their hours are one line.
    return [(m, _fmt(hours, 0, 23), dom, month, dow) for (m, dom, month, dow), hours in groups.items()]


def wall_matches(spec: CronSpec, wall: datetime) -> bool:
    """Whether the naive wall time `wall` is a fire minute of `spec` (before any zone rule)."""
    return wall.minute in spec.minutes and wall.hour in spec.hours and spec.matches_day(wall.date())


def _line_matches(fields: Fields, wall: datetime) -> bool:
    return wall_matches(parse(" ".join(fields)), wall)


@functools.lru_cache(maxsize=256)
def _gaps(tz: str) -> tuple[tuple[datetime, datetime, datetime], ...]:
    """(first missing wall time, first wall time after the gap, instant) per spring-forward."""
    out = []
    for instant, before, after in transitions(tz):
        if after > before:
            start = (instant + timedelta(minutes=before)).replace(tzinfo=None)
            end = (instant + timedelta(minutes=after)).replace(tzinfo=None)
            out.append((start, end, instant))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def gap_fires(schedule: str, tz: str) -> tuple[datetime, ...]:
    """Instants (UTC) in WINDOW where a spring-forward gap of `tz` swallowed a wall time
    the schedule names, so it fires at the first instant after the gap."""
    spec = parse(schedule)
    out = []
    for start, end, instant in _gaps(tz):
        day = start.date()
        found = False
        while day <= end.date() and not found:
            if spec.matches_day(day):
                for hour in spec.hours:
                    for minute in spec.minutes:
                        wall = datetime(day.year, day.month, day.day, hour, minute)
                        if start <= wall < end:
                            found = True
            day += timedelta(days=1)
        if found:
            out.append(instant)
    return tuple(out)


def repeated_hour_fires(schedule: str, tz: str, machine_zone: str) -> list[datetime]:
    """Fire instants (UTC) in WINDOW that fall in the second occurrence of a repeated
    wall hour of `machine_zone` (after it falls back)."""
    spec = parse(schedule)
    zone = get_zone(tz)
    out = []
    for instant, before, after in transitions(machine_zone):
        if after >= before:
            continue
        t = instant.replace(second=0)
        end = instant + timedelta(minutes=before - after)
        while t < end:
            local = t.astimezone(zone)
            # A fire time is the first occurrence of a matching wall time (fold 0).
            if local.fold == 0 and wall_matches(spec, local.replace(tzinfo=None)):
                out.append(t)
            t += timedelta(minutes=1)
    return out


def _grouped(walls: Iterable[datetime], hour_star: bool = False) -> list[Fields]:
    """Lines covering each wall minute: `m h * month dows` (or `m * * month dows`)."""
    groups: dict[tuple[int, int, int], set[int]] = {}
    for w in walls:
        key = (w.minute, -1 if hour_star else w.hour, w.month)
        groups.setdefault(key, set()).add(w.isoweekday() % 7)
    out = []
    for (minute, hour, month), dows in sorted(groups.items()):
        out.append((str(minute), "*" if hour < 0 else str(hour), "*", str(month), _fmt(dows, 0, 6, star=False)))
    return out


@functools.lru_cache(maxsize=4096)
def cron_fields(schedule: str, tz: str, machine_zone: str) -> tuple[Fields, ...]:
    """Crontab field sets (machine zone) covering every fire time of `schedule` in `tz`."""
    spec = parse(schedule)
    machine = get_zone(machine_zone)
    lines: list[Fields] = []
    for delta in offset_deltas(tz, machine_zone):
        for fields in shifted_fields(spec, delta):
            if fields not in lines:
                lines.append(fields)
    gap_walls = []
    for instant in gap_fires(schedule, tz):
        wall = instant.astimezone(machine).replace(tzinfo=None, second=0)
        if not any(_line_matches(f, wall) for f in lines):
            gap_walls.append(wall)
    repeat_walls = []
    for instant in repeated_hour_fires(schedule, tz, machine_zone):
        wall = instant.astimezone(machine).replace(tzinfo=None)
        # Only a line with `*` hours runs in the repeated hour (Debian cron's DST rule).
        if not any(f[1] == "*" and _line_matches(f, wall) for f in lines):
            repeat_walls.append(wall)
    for fields in _grouped(gap_walls) + _grouped(repeat_walls, hour_star=True):
        if fields not in lines:
            lines.append(fields)
    return tuple(_merge(lines))


def _values(text: str, low: int, high: int) -> set[int]:
    if text == "*":
        return set(range(low, high + 1))
    out: set[int] = set()
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def _merge(lines: list[Fields]) -> list[Fields]:
    """Lines equal but for their hours (then their minutes) become one line."""
    for index, (low, high) in ((1, (0, 23)), (0, (0, 59))):
        groups: dict[tuple[str, ...], set[int]] = {}
        for fields in lines:
            key = fields[:index] + fields[index + 1:]
            groups.setdefault(key, set()).update(_values(fields[index], low, high))
        lines = [
            key[:index] + (_fmt(values, low, high),) + key[index:]  # type: ignore[misc]
            for key, values in groups.items()
        ]
    return lines


# ------------------------------------------------------------------------------------
# Crontab
