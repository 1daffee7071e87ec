"""Which schedules fire in the same minute, over a year, without listing every run.

Listing every run of 1,000 schedules for a year is millions of instants when some fire
every few minutes, so this works per day instead. On a day without a DST change a
schedule in zone Z fires at the local minutes M (hours x minutes of its cron) shifted by
Z's one UTC offset that day; two schedules meet on such days exactly when some minute of
one, moved by the difference of their offsets, is a minute of the other and their firing
days line up (bit sets of days, shifted by the day that move crosses into). The few days
with a DST change use the exact runs of the shared time semantics (cron.py), gap and
repeated hour included. A bit mask of the UTC minutes-of-day each can fire at rules out
most pairs with one `&`.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone

from . import cron

UTC = timezone.utc
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class Firing:
    """One schedule's fire times within a window of local days, in the compact form above."""

    __slots__ = ("key", "spec", "zone", "minutes", "minute_set", "normal", "exact", "mask")

    def __init__(self, key: object, schedule: str, zone_name: str, start: datetime, days: int) -> None:
        self.key = key
        self.spec = cron.parse(schedule)
        self.zone = cron.get_zone(zone_name)
        self.minutes = sorted(h * 60 + m for h in self.spec.hours for m in self.spec.minutes)
        self.minute_set = frozenset(self.minutes)
        first = start.astimezone(self.zone).date()
        # UTC offset in minutes -> bit set of firing local days (bit = date ordinal - epoch);
        # the epoch minutes of the runs on days with a DST change.
        self.normal, self.exact = _fire_days(self.spec, zone_name, first, days)
        # Every UTC minute-of-day it can fire at, as bits: two schedules whose masks do not
        # meet never fire together, which rules out most pairs at the cost of one `&`.
        self.mask = 0
        for offset in self.normal:
            for m in self.minutes:
                self.mask |= 1 << (m - offset) % 1440
        for u in self.exact:
            self.mask |= 1 << u % 1440

    def fires_at(self, minute: int) -> bool:
        """Whether this schedule fires at epoch minute `minute` (within its window)."""
        if not self.mask >> minute % 1440 & 1:
            return False
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
        local = moment.astimezone(self.zone)
        day = local.date()
        if _epoch_minute(moment) in self.exact:
            return True
        offset = _offset_minutes(local)
        bits = self.normal.get(offset, 0)
        return bool(bits >> (day.toordinal() - _EPOCH_ORDINAL) & 1) and local.hour * 60 + local.minute in self.minute_set


def _fire_days(spec: cron.CronSpec, zone_name: str, first: date, days: int) -> tuple[dict[int, int], set[int]]:
    days_key = (spec.days, spec.months, spec.weekdays, spec.dom_restricted, spec.dow_restricted)
    normal, changes = _firing_days(days_key, zone_name, first, days)
    exact: set[int] = set()
    for day in changes:
        exact.update(_transition_day_runs(spec.hours, spec.minutes, day, zone_name))
    return dict(normal), exact


@functools.lru_cache(maxsize=1024)
def _firing_days(days_key: tuple, zone_name: str, first: date,
                 days: int) -> tuple[tuple[tuple[int, int], ...], tuple[date, ...]]:
    """The days of the window a cron's day fields pick (many crons share them): as bit sets
    per UTC offset, and the days with a DST change."""
    probe = cron.CronSpec("", "", (0,), (0,), *days_key)
    normal: dict[int, int] = {}
    changes = []
    for day, offset in local_days(zone_name, first, days):
        if not probe.matches_day(day):
            continue
        if offset is None:
            changes.append(day)
        else:
            normal[offset] = normal.get(offset, 0) | 1 << (day.toordinal() - _EPOCH_ORDINAL)
    return tuple(normal.items()), tuple(changes)


@functools.lru_cache(maxsize=4096)
def _transition_day_runs(hours: tuple[int, ...], minutes: tuple[int, ...], day: date, zone_name: str) -> tuple[int, ...]:
    probe = cron.CronSpec("", "", minutes, hours, frozenset(range(1, 32)), frozenset(range(1, 13)),
                          frozenset(range(7)), False, False)
    return tuple(_epoch_minute(run) for run in cron._day_runs(probe, day, cron.get_zone(zone_name)))


@functools.lru_cache(maxsize=256)
def local_days(zone_name: str, first: date, days: int) -> tuple[tuple[date, int | None], ...]:
    """Each local day of the window with its UTC offset in minutes, or None on a day whose
    offset changes (those days are handled run by run)."""
    zone = cron.get_zone(zone_name)
    out = []
    for i in range(days + 1):
        day = first + timedelta(days=i)
        start = datetime.combine(day, time(0, 0), tzinfo=zone)
        end = datetime.combine(day, time(23, 59), tzinfo=zone)
        offsets = {start.utcoffset(), end.utcoffset(), start.replace(fold=1).utcoffset(), end.replace(fold=1).utcoffset()}
        out.append((day, _offset_minutes(start) if len(offsets) == 1 else None))
    return tuple(out)


def _offset_minutes(moment: datetime) -> int:
    return int(moment.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]


def _epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def first_common_minute(a: Firing, b: Firing) -> int | None:
    """The earliest epoch minute at which both fire, or None."""
    best: int | None = None
    for offset_a, bits_a in a.normal.items():
        for offset_b, bits_b in b.normal.items():
            found = _first_normal(a.minutes, offset_a, bits_a, b.minute_set, offset_b, bits_b)
            if found is not None and (best is None or found < best):
                best = found
    for one, other in ((a, b), (b, a)):
        for minute in sorted(one.exact):
            if (best is None or minute < best) and other.fires_at(minute):
                best = minute
                break
    return best


def _first_normal(minutes: Sequence[int], offset_a: int, bits_a: int, minute_set: frozenset[int], offset_b: int,
                  bits_b: int) -> int | None:
    # A at local minute m of day d is UTC d*1440 + m - offset_a; B meets it at local minute
    # (m - offset_a + offset_b) mod 1440 of day d + k, k the days that moves across.
    earliest: dict[int, int] = {}
    for m in minutes:
        shifted = m - offset_a + offset_b
        k, m_b = divmod(shifted, 1440)
        if m_b in minute_set and k not in earliest:
            earliest[k] = m
    best: int | None = None
    for k, m in earliest.items():
        both = bits_a & (bits_b >> k if k >= 0 else bits_b << -k)
        if both:
            day = (both & -both).bit_length() - 1
            found = day * 1440 + m - offset_a
            if best is None or found < best:
                best = found
    return best


def find(firings: Iterable[Firing]) -> list[tuple[Firing, Firing, int]]:
    """(later, earlier, first epoch minute) for each firing that meets one listed before it:
    the first such earlier one in order. Each firing appears at most once as `later`."""
    seen: list[Firing] = []
    out = []
    for firing in firings:
        for other in seen:
            if firing.mask & other.mask:
                minute = first_common_minute(firing, other)
                if minute is not None:
                    out.append((firing, other, minute))
                    break
        seen.append(firing)
    return out


def as_datetime(minute: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
