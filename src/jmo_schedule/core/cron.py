"""Cron expressions and the one time semantics every part of jmo-schedule shares.

A schedule fires at each wall-clock minute in its time zone that matches all five fields;
when both day-of-month and day-of-week are restricted (not exactly `*`), a day matches if
EITHER does. Across daylight-saving changes:
- a wall time that does not exist (spring forward) fires once, at the first instant after
  the gap; several such times in one gap, or one in the gap plus the instant after it,
  make ONE run;
- a wall time that occurs twice (fall back) fires once, at its first occurrence.

Syntax is checked here, field by field, so errors can say exactly what is wrong and where
("hour 25 is outside 0-23") and expanded here into value sets (croniter.expand mis-expands some
ranges such as "1-1"). Iteration is our own, day by day in the schedule's zone.
"""
from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta, timezone

from ..errors import CronError

TYPE_CHECKING = False
if TYPE_CHECKING:  # zoneinfo is imported when a zone is loaded: `validate` only checks names
    from zoneinfo import ZoneInfo

TYPE_CHECKING = False  # typing is not imported at run time: CLI start-up time
if TYPE_CHECKING:
    from typing import Iterator

UTC = timezone.utc

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# (name, low, high, names) per field, in order.
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))}),
    ("day-of-week", 0, 7, {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}),
)
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # leap-year maximum
_WEEKDAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ATOM_RE = re.compile(r"^[A-Za-z0-9]+$")
_DIGITS_RE = re.compile(r"^[0-9]+$")  # ASCII only: str.isdigit and int() also take '²' and '٣'
# Cron separates fields with spaces and tabs only (str.split would take U+00A0, U+3000...).
_BLANKS = " \t\r\n\f\v"
_FIELD_RE = re.compile(f"[^{_BLANKS}]+")
# A number longer than this is out of every field's range (int() of thousands of digits is
# slow, and refused past 4300).
_MAX_DIGITS = 9
# Searching further than this for a run means the schedule can never fire again.
_MAX_DAYS = 366 * 30


class CronSpec:
    """A parsed, checked cron expression: the value set of each field. Immutable (a plain
    class rather than a frozen dataclass, which would cost start-up time)."""

    __slots__ = ("expression", "fields", "minutes", "hours", "days", "months", "weekdays",
                 "dom_restricted", "dow_restricted")
    expression: str  # as given (macros kept)
    fields: str  # the five fields, macros expanded
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday
    dom_restricted: bool
    dow_restricted: bool

    def __init__(self, expression: str, fields: str, minutes: tuple[int, ...], hours: tuple[int, ...],
                 days: frozenset[int], months: frozenset[int], weekdays: frozenset[int],
                 dom_restricted: bool, dow_restricted: bool) -> None:
        values = (expression, fields, minutes, hours, days, months, weekdays, dom_restricted, dow_restricted)
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CronSpec is immutable; cannot set {name!r}")

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CronSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "CronSpec(" + ", ".join(f"{n}={v!r}" for n, v in zip(self.__slots__, self._key())) + ")"

    def matches_day(self, day: date) -> bool:
        """Whether `day` (a calendar date in the schedule's zone) is a firing day."""
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.dom_restricted and self.dow_restricted:
            return dom or dow
        return dom and dow

    def can_fire(self) -> bool:
        if self.dow_restricted:
            return True
        return any(d <= _MONTH_DAYS[m - 1] for m in self.months for d in self.days)


def _shown(token: str) -> str:
    """Text as an error message shows it: a very long number or item shortened, so the
    message stays one readable line."""
    return token if len(token) <= 24 else f"{token[:12]}... ({len(token)} characters)"


def _number(token: str) -> int | None:
    """The value of an ASCII digit string, or None when it is too long for any field."""
    digits = token.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else None


def _split(expr: str) -> tuple[list[str], list[int]]:
    """Fields of `expr` and the offset of each in the text."""
    parts, offsets = [], []
    for m in _FIELD_RE.finditer(expr):
        parts.append(m.group())
        offsets.append(m.start())
    return parts, offsets


def _check_field(index: int, text: str, offset: int) -> None:
    name, low, high, names = FIELDS[index]
    for char, what in (("?", "'?'"), ("L", "'L'"), ("W", "'W'"), ("#", "'#'")):
        if char == "?" and "?" in text:
            raise CronError(f"{name}: {what} is Quartz syntax, not cron; write * instead", offset + text.index("?"))
        if char != "?" and char in text.upper() and not _names_only(text, names):
            raise CronError(
                f"{name}: {what} (Quartz 'last'/'weekday'/'nth') is not supported by standard cron",
                offset + text.upper().index(char),
            )
    pos = offset
    for item in text.split(","):
        if item == "":
            raise CronError(f"{name}: empty list item in {_shown(text)!r}", pos)
        _check_item(index, item, pos)
        pos += len(item) + 1


def _names_only(text: str, names: dict[str, int]) -> bool:
    # 'JUL' contains 'L' and 'WED' contains 'W': those are names, not Quartz.
    words = re.findall(r"[A-Za-z]+", text)
    return bool(words) and all(w.upper() in names for w in words)


def _value(index: int, token: str, offset: int, what: str = "") -> int:
    name, low, high, names = FIELDS[index]
    if token.upper() in names:
        return names[token.upper()]
    if not _DIGITS_RE.match(token):
        if token.isalpha() and names:
            sample = "JAN-DEC" if index == 3 else "SUN-SAT"
            raise CronError(f"{name}: unknown name {_shown(token)!r} (use {sample} or numbers)", offset)
        if token.isalpha():
            raise CronError(f"{name}: {_shown(token)!r} is not a number (names are allowed only for month and day-of-week)", offset)
        raise CronError(f"{name}: {_shown(token)!r} is not a number", offset)
    value = _number(token)
    if value is None or not low <= value <= high:
        label = "day of month" if index == 2 else ("day of week" if index == 4 else name)
        raise CronError(f"{label} {_shown(token) if value is None else value} is outside {low}-{high}", offset)
    return value


def _check_item(index: int, item: str, offset: int) -> None:
    name, low, high, _ = FIELDS[index]
    base, slash, step = item.partition("/")
    if slash:
        where = offset + len(base) + 1
        if not _DIGITS_RE.match(step):
            raise CronError(f"{name}: step {_shown(step)!r} in {_shown(item)!r} is not a positive number", where)
        value = _number(step)
        if value == 0:
            raise CronError(f"{name}: step 0 in {_shown(item)!r} never advances; use a step of 1 or more", where)
        if value is None or value > (7 if index == 4 else high - low + 1):
            what = f"step {value} in {item!r}" if value is not None else f"step {_shown(step)}"
            raise CronError(f"{name}: {what} is larger than the field's range {low}-{high}", where)
    if base == "*":
        return
    if base == "":
        raise CronError(f"{name}: {_shown(item)!r} has nothing before '/'", offset)
    first, dash, last = base.partition("-")
    if not _ATOM_RE.match(first):
        raise CronError(f"{name}: cannot read {_shown(item)!r}", offset)
    a = _value(index, first, offset)
    if dash:
        if not _ATOM_RE.match(last):
            raise CronError(f"{name}: cannot read the range {_shown(base)!r}", offset)
        b = _value(index, last, offset + len(first) + 1)
        if b < a and not (index == 4 and b == 0):
            raise CronError(f"{name}: range {_shown(base)!r} runs backwards; write it low-high", offset)


def _expand(index: int, text: str) -> set[int]:
    """The values of one already checked field. `N/S` means N-max/S; in day-of-week a
    range ending in 0 ends on Sunday (FRI-SUN), and 7 is Sunday."""
    # croniter.expand is not used: it turns "1-1" into "*" and "1-1/3" into 0,3,6.
    _, low, high, _ = FIELDS[index]
    out: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = int(step_text) if slash else 1
        if base == "*":
            first, last = low, high
        else:
            a, dash, b = base.partition("-")
            first = _value(index, a, 0)
            last = _value(index, b, 0) if dash else (high if slash else first)
            if index == 4 and dash and last == 0:
                last = 7
        out.update(range(first, last + 1, step))
    return out


@functools.lru_cache(maxsize=8192)
def parse(expression: str) -> CronSpec:
    """Check and expand a 5-field cron expression or macro; raises CronError."""
    if not isinstance(expression, str):
        raise CronError(f"expected a cron expression string, got {type(expression).__name__}")
    text = expression.strip(_BLANKS)
    lead = len(expression) - len(expression.lstrip(_BLANKS))
    if not text:
        raise CronError("cron expression is empty; write 5 fields such as \"0 2 * * 1\"")
    if text.startswith("@"):
        words = _FIELD_RE.findall(text)
        word = words[0].lower()
        if word == "@reboot":
            raise CronError("@reboot has no time to schedule; use 5 fields such as \"0 2 * * *\"", lead)
        if word not in MACROS or len(words) != 1:
            raise CronError(f"unknown macro {_shown(words[0])!r} (use {', '.join(MACROS)})", lead)
        fields = MACROS[word]
        parts, offsets = _split(fields)
        offsets = [lead] * 5
    else:
        if re.search(r"[\x00-\x1f\x7f]", text.replace("\t", " ")):
            raise CronError("cron expression must be one line without control characters")
        foreign = re.search(r"[^\x20-\x7e\t\r\n\f\v]", expression)
        if foreign:
            raise CronError(f"{foreign.group()!r} is not cron syntax: cron takes ASCII digits, names, "
                            "* , - / and spaces", foreign.start())
        parts, offsets = _split(expression)
        fields = " ".join(parts)
        if len(parts) == 6:
            raise CronError(
                "6 fields: seconds (or a year) are not supported; cron has 5 fields: "
                "minute hour day-of-month month day-of-week", lead)
        if len(parts) == 7:
            raise CronError("7 fields look like Quartz (seconds and year); cron has 5 fields: "
                            "minute hour day-of-month month day-of-week", lead)
        if len(parts) != 5:
            raise CronError(
                f"{len(parts)} field{'s' if len(parts) != 1 else ''}; cron has 5: "
                "minute hour day-of-month month day-of-week", lead)
        for i, (part, off) in enumerate(zip(parts, offsets)):
            _check_field(i, part, off)
    sets = [_expand(i, part) for i, part in enumerate(fields.split())]
    spec = CronSpec(
        expression=expression,
        fields=fields,
        minutes=tuple(sorted(sets[0])),
        hours=tuple(sorted(sets[1])),
        days=frozenset(sets[2]),
        months=frozenset(sets[3]),
        weekdays=frozenset(v % 7 for v in sets[4]),
        dom_restricted=parts[2] != "*",
        dow_restricted=parts[4] != "*",
    )
    if not spec.can_fire():
        raise CronError(f"{fields!r} never fires: no month in it has that day", offsets[2])
    return spec


def validate(expression: str) -> str | None:
    """The problem with `expression`, or None when it is a usable cron expression."""
    try:
        parse(expression)
    except CronError as exc:
        return exc.message
    return None


@functools.lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA time zone name, as the tzdata package ships the database: the same list on
    every machine, whatever its own zoneinfo folder holds. Backward-compatible links such as
    US/Eastern are in it (IANA keeps them, and GitHub, Kubernetes and systemd read them);
    `localtime`, `posixrules`, `posix/...` and `right/...` are not (machine files, not zones),
    and neither is `Factory` (a placeholder meaning "no zone set")."""
    import os

    import tzdata

    with open(os.path.join(os.path.dirname(tzdata.__file__), "zones"), encoding="utf-8") as fh:
        return frozenset(fh.read().split()) - {"Factory"}


_EXAMPLE_ZONE = "use an IANA name such as Europe/London"


@functools.lru_cache(maxsize=1024)
def check_zone_name(name: str) -> None:
    """ValueError with a one-line message unless `name` is an IANA zone of the tzdata
    package (see `zone_names`); loads nothing."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("time zone must be an IANA name such as UTC or Europe/London")
    if name not in zone_names():
        raise ValueError(_zone_problem(name))


def get_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ValueError with a one-line message for anything else,
    including names only some machines have (see `zone_names`)."""
    check_zone_name(name)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"time zone {name!r} cannot be loaded (is the tzdata package installed?)") from None


def _zone_problem(name: str) -> str:
    shown = name if len(name) <= 64 else name[:48] + "..."
    if name in ("localtime", "posixrules"):
        return f"time zone {name!r} is a file of this machine's zone database, not a zone: it means different " \
               f"zones on different machines; {_EXAMPLE_ZONE}"
    if name == "Factory":
        return f"time zone 'Factory' is a placeholder meaning no zone was set; {_EXAMPLE_ZONE}"
    folder, _, rest = name.partition("/")
    if folder in ("posix", "right") and rest in zone_names():
        return f"time zone {shown!r} is a copy of {rest} that only some machines have" + \
               (" (counting leap seconds)" if folder == "right" else "") + f"; write {rest}"
    hint = _zone_hint(name)
    return f"unknown time zone {shown!r}" + (f" (did you mean {hint}?)" if hint else f" ({_EXAMPLE_ZONE})")


def _zone_hint(name: str) -> str | None:
    import difflib

    zones = zone_names()
    lowered = {z.lower(): z for z in zones}
    if name.lower() in lowered:
        return lowered[name.lower()]
    if len(name) > 64:
        return None
    close = difflib.get_close_matches(name, sorted(zones), n=1, cutoff=0.75)
    return close[0] if close else None


# ----------------------------------------------------------------------------------------
# Wall time -> instant


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant at which a schedule that names wall time `wall` (naive) fires."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        # Exists; when it exists twice, fold=0 is the earlier occurrence, but compare anyway.
        if second.astimezone(zone).replace(tzinfo=None) == wall:
            return min(first, second)
        return first
    if second.astimezone(zone).replace(tzinfo=None) == wall:
        return second
    # In a gap: the first instant whose wall time is later than `wall`. Both guesses
    # straddle the transition, so bisect between them (whole seconds).
    lo, hi = sorted((first, second))
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(zone).replace(tzinfo=None) > wall:
            hi = mid
        else:
            lo = mid
    return hi


def _day_runs(spec: CronSpec, day: date, zone: ZoneInfo) -> list[datetime]:
    """All fire instants (UTC, sorted, distinct) for the wall-clock day `day`."""
    first = datetime.combine(day, time(0, 0), tzinfo=zone)
    last = datetime.combine(day, time(23, 59), tzinfo=zone)
    offset = first.utcoffset()
    if offset == last.utcoffset() == first.replace(fold=1).utcoffset() == last.replace(fold=1).utcoffset():
        # No transition inside this day (none undoes itself within hours): one offset for all.
        base = datetime.combine(day, time(0, 0), tzinfo=UTC) - offset  # type: ignore[operator]
        return [base + timedelta(hours=h, minutes=m) for h in spec.hours for m in spec.minutes]
    out: set[datetime] = set()
    for hour in spec.hours:
        for minute in spec.minutes:
            out.add(_instant(datetime.combine(day, time(hour, minute)), zone))
    return sorted(out)


# Far enough from datetime's year 1 and 9999 that a day either side, in any zone, exists.
MIN_YEAR, MAX_YEAR = 1900, 9000


def _coerce(moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"{moment.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _days_from(spec: CronSpec, start: date, step: int) -> Iterator[date]:
    day = start
    for _ in range(_MAX_DAYS):
        if spec.matches_day(day):
            yield day
        if not MIN_YEAR - 1 <= day.year <= MAX_YEAR + 1:
            return  # nothing to search beyond the supported years
        day += timedelta(days=step)


def iter_runs(schedule: str, tz: str, after: datetime) -> Iterator[datetime]:
    """Fire instants (aware UTC) strictly after `after`, in order, without end."""
    spec = parse(schedule)
    zone = get_zone(tz)
    after = _coerce(after)
    # A day's runs never start before that day's local midnight minus the largest DST
    # shift, so starting one local day early and filtering is exact.
    start = after.astimezone(zone).date() - timedelta(days=1)
    last: datetime | None = None
    for day in _days_from(spec, start, 1):
        for run in _day_runs(spec, day, zone):
            if run > after and (last is None or run > last):
                last = run
                yield run


def next_runs(schedule: str, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times of `schedule` in `timezone`, strictly after `after`,
    as aware UTC datetimes (a naive `after` is taken as UTC)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    out: list[datetime] = []
    if count == 0:
        return out
    for run in iter_runs(schedule, timezone, after):
        out.append(run)
        if len(out) >= count:
            break
    return out


def previous_run(schedule: str, timezone: str, at: datetime) -> datetime | None:
    """The latest fire time not after `at` (aware UTC), or None if there is none in reach."""
    spec = parse(schedule)
    zone = get_zone(timezone)
    at = _coerce(at)
    start = at.astimezone(zone).date() + timedelta(days=1)
    for day in _days_from(spec, start, -1):
        runs = [r for r in _day_runs(spec, day, zone) if r <= at]
        if runs:
            # Exact: every run of a local day is later than every run of the day before
            # (wall days follow each other; a repeated hour only fires its first time).
            return runs[-1]
    return None


def min_interval_minutes(schedule: str) -> int:
    """Shortest wall-clock gap between two runs on consecutive firing minutes of a day
    (across midnight too), in minutes; 1440 for once a day. For the 5-minute warning."""
    spec = parse(schedule)
    times = sorted(h * 60 + m for h in spec.hours for m in spec.minutes)
    gaps = [b - a for a, b in zip(times, times[1:])]
    gaps.append(24 * 60 - times[-1] + times[0])
    return min(gaps)


# ----------------------------------------------------------------------------------------
# Descriptions


@functools.lru_cache(maxsize=4096)
def describe(schedule: str, timezone: str = "UTC") -> str:
    """A sentence for humans: describe("0 2 * * 1", "UTC") == "At 02:00 on Monday (UTC)"."""
    spec = parse(schedule)
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    options.day_of_week_start_index_zero = True
    try:
        text = ExpressionDescriptor(spec.fields, options).get_description()
    except Exception:  # cron-descriptor cannot phrase it; the fields still say it exactly
        text = f"At {spec.fields}"
    # cron-descriptor writes "At 09:00, Monday through Friday"; say "on" and drop commas.
    text = text.replace(", only on ", " on ").replace(", only in ", " in ").replace(", or on ", " or on ")
    text = text.replace(", on ", " on ").replace(", in ", " in ").replace(", every ", " every ")
    text = re.sub(r", (?=(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)", " on ", text)
    text = text.replace("At 0 minutes past the hour", "At the start of every hour")
    if spec.dom_restricted and spec.dow_restricted and " or on " not in text:
        text += " (day-of-month or day-of-week)"
    return f"{text} ({timezone})"
