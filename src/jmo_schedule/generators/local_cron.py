"""Local cron: crontab lines and systemd timer/service pairs that call `jmo-schedule run`.

Pure: schedules (and, for install, the machine's zone and paths) in, text out.

cron has no time zone: it matches its five fields against the machine's wall clock
(Debian's cron has no CRON_TZ). A schedule's fire times in spec.timezone are therefore
translated into the machine's zone as a SUPERSET of crontab lines, and `jmo-schedule run`
re-checks each invocation against the real zone with the shared semantics (cron.py),
quietly doing nothing at a minute that is not a fire time. The lines:

1. one set per UTC-offset difference in effect over the years WINDOW (e.g. +5h and +4h
   for America/New_York on a UTC machine), each a shifted copy of the fields; when the
   shift crosses midnight the day fields move by a day (month ends and the day-of-month /
   day-of-week OR rule kept by widening, never narrowing);
2. the first instant after each spring-forward gap of spec.timezone when a wall time in
   the gap fires there (02:30 on the changeover day fires at 03:00);
3. fire times that land in the second occurrence of the machine's own repeated hour
   (fall back): Debian cron does not rerun fixed-time jobs there, but it does run jobs
   with `*` in the hour field, so those get an hour-wildcard line.

systemd timers take a zone (`OnCalendar=... Europe/London`) and fire once at the first
occurrence of a repeated time, as the shared semantics do, but never at a wall time that
does not exist; the timer gets an extra OnCalendar for each changeover instant where the
shared semantics fire.
"""
from __future__ import annotations

import functools
import posixpath
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone

from ..core.cron import CronSpec, describe, get_zone, parse
from ..core.model import ScanSchedule
from .common import check_name
from .header import header, schedule_line

BACKEND = "local-cron"
CRONTAB_PATH = "deploy/cron/jmo-schedules.crontab"
SYSTEMD_DIR = "deploy/systemd"
DEFAULT_EXECUTABLE = "jmo-schedule"
# Years whose zone rules the translation covers (fixed, so the output is byte-stable).
WINDOW = (2025, 2060)
ENTRY_PREFIX = "# schedule "
SUSPENDED_PREFIX = "# suspended: "
UTC = timezone.utc
_DOW_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


# ------------------------------------------------------------------------------------
# Zone rules over the window


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


def _wall_matches(spec: CronSpec, wall: datetime) -> bool:
    return wall.minute in spec.minutes and wall.hour in spec.hours and spec.matches_day(wall.date())


def _line_matches(fields: Fields, wall: datetime) -> bool:
    return _wall_matches(parse(" ".join(fields)), wall)


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
            if local.fold == 0 and _wall_matches(spec, local.replace(tzinfo=None)):
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


def _cron_quote(text: str) -> str:
    """Shell-quote `text` for a crontab command (cron turns a bare `%` into a newline)."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"{text!r} cannot go in a crontab line (it holds a newline)")
    return shlex.quote(text).replace("%", "\\%")


def command(
    schedule: ScanSchedule,
    executable: str,
    log_dir: str | None,
    workdir: str | None = None,
    scanner: str | None = None,
    file: str | None = None,
) -> str:
    """The shell command of one crontab entry: `[cd DIR &&] EXE run NAME [-f FILE] >> LOG 2>&1`."""
    name = check_name(schedule)
    parts = []
    if workdir:
        parts.append(f"cd {_cron_quote(workdir)} &&")
    parts += [_cron_quote(executable), "run", name]
    if file:
        parts += ["-f", _cron_quote(file)]
    if scanner and not (schedule.spec.backend.config or {}).get("scanner"):
        parts += ["--scanner", _cron_quote(scanner)]
    log = f'"$HOME/.jmo/logs/{name}.log"' if log_dir is None else _cron_quote(posixpath.join(log_dir, f"{name}.log"))
    parts += [">>", log, "2>&1"]
    return " ".join(parts)


def crontab_entry(
    schedule: ScanSchedule,
    machine_zone: str,
    executable: str = DEFAULT_EXECUTABLE,
    log_dir: str | None = None,
    *,
    workdir: str | None = None,
    scanner: str | None = None,
    file: str | None = None,
) -> list[str]:
    """One schedule's lines: a `# schedule NAME: ...` comment, then its crontab lines
    (commented out when the schedule is suspended)."""
    name = check_name(schedule)
    spec = schedule.spec
    cmd = command(schedule, executable, log_dir, workdir, scanner, file)
    out = [f"{ENTRY_PREFIX}{name}: cron {spec.schedule!r} in {spec.timezone}; lines in {machine_zone}, "
           f"`run` skips minutes that are not fire times"]
    prefix = SUSPENDED_PREFIX if spec.suspend else ""
    for fields in cron_fields(spec.schedule, spec.timezone, machine_zone):
        out.append(f"{prefix}{' '.join(fields)} {cmd}")
    return out


def crontab_lines(
    schedules: Sequence[ScanSchedule],
    machine_zone: str,
    executable: str = DEFAULT_EXECUTABLE,
    log_dir: str | None = None,
    *,
    workdir: str | None = None,
    scanner: str | None = None,
    file: str | None = None,
) -> list[str]:
    """Crontab lines (no trailing newlines) for `schedules`, translated from each
    spec.timezone into `machine_zone`, calling `executable run NAME >> LOG_DIR/NAME.log`
    (`$HOME/.jmo/logs` when log_dir is None), after `cd workdir` when given."""
    out: list[str] = []
    for schedule in schedules:
        out += crontab_entry(schedule, machine_zone, executable, log_dir, workdir=workdir, scanner=scanner, file=file)
    return out


# ------------------------------------------------------------------------------------
# systemd


def _sd_list(values: Iterable[int], low: int, high: int, width: int = 2) -> str:
    vals = sorted(set(values))
    if vals == list(range(low, high + 1)):
        return "*"
    return ",".join(f"{v:0{width}d}" for v in vals)


def on_calendar(schedule: str, tz: str) -> list[str]:
    """OnCalendar= values (with the zone) that fire at every fire time of `schedule` in
    `tz` under the shared semantics (a superset at the spring-forward changeovers)."""
    spec = parse(schedule)
    time_part = f"{_sd_list(spec.hours, 0, 23)}:{_sd_list(spec.minutes, 0, 59)}:00"
    months = _sd_list(spec.months, 1, 12)
    dows = ",".join(_DOW_NAMES[d] for d in sorted(spec.weekdays))
    out = []
    if spec.dom_restricted:
        out.append(f"*-{months}-{_sd_list(spec.days, 1, 31)} {time_part} {tz}")
    if spec.dow_restricted:
        out.append(f"{dows} *-{months}-* {time_part} {tz}")
    if not spec.dom_restricted and not spec.dow_restricted:
        out.append(f"*-{months}-* {time_part} {tz}")
    zone = get_zone(tz)
    extra: dict[tuple[int, int, int], set[int]] = {}
    for instant in gap_fires(schedule, tz):
        wall = instant.astimezone(zone)
        if not _wall_matches(spec, wall.replace(tzinfo=None)):  # the regular value covers it
            extra.setdefault((wall.hour, wall.minute, wall.month), set()).add(wall.isoweekday() % 7)
    for (hour, minute, month), days in sorted(extra.items()):
        names = ",".join(_DOW_NAMES[d] for d in sorted(days))
        value = f"{names} *-{month:02d}-* {hour:02d}:{minute:02d}:00 {tz}"
        if value not in out:
            out.append(value)
    return out


def _sd_quote(text: str, specifiers: bool = False) -> str:
    """One ExecStart= word: `%` doubled (a specifier otherwise) unless `specifiers`,
    quoted when needed."""
    if any(c in text for c in "\n\r"):
        raise ValueError(f"{text!r} cannot go in a systemd unit (it holds a newline)")
    if not specifiers:
        text = text.replace("%", "%%")
    if text and not any(c in text for c in " \t\"'\\;$"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$") + '"'


def unit_name(schedule: ScanSchedule) -> str:
    return f"jmo-{check_name(schedule)}"


def systemd_units(
    schedule: ScanSchedule,
    executable: str = DEFAULT_EXECUTABLE,
    log_dir: str | None = None,
    *,
    workdir: str | None = None,
    scanner: str | None = None,
    file: str | None = None,
    systemd_run: str = "/usr/bin/systemd-run",
) -> dict[str, str]:
    """{"jmo-NAME.service": text, "jmo-NAME.timer": text} for user units.

    systemd starts a timer's service only when it is not already running, which is
    concurrencyPolicy Forbid. For Allow and Replace the service hands each run to its own
    transient unit (systemd-run), so runs can overlap and `run` applies the policy."""
    name = check_name(schedule)
    spec = schedule.spec
    unit = unit_name(schedule)
    log = "%h/.jmo/logs/" + f"{name}.log" if log_dir is None else posixpath.join(log_dir, f"{name}.log").replace("%", "%%")
    argv = [executable, "run", name]
    if file:
        argv += ["-f", file]
    if scanner and not (spec.backend.config or {}).get("scanner"):
        argv += ["--scanner", scanner]

    service = [
        "[Unit]",
        f"Description=jmo-schedule scan {name}",
        "",
        "[Service]",
        "Type=oneshot",
    ]
    if workdir:
        service.append(f"WorkingDirectory={workdir.replace('%', '%%')}")
    if spec.concurrencyPolicy == "Forbid":
        service += [
            "ExecStart=" + " ".join(_sd_quote(a) for a in argv),
            f"StandardOutput=append:{log}",
            "StandardError=inherit",
        ]
    else:
        launcher = [systemd_run, "--user", "--collect", "--quiet"]
        if workdir:
            launcher.append(f"--working-directory={workdir}")
        words = [_sd_quote(a) for a in launcher]
        # `log` is already unit-file text (%h is a specifier systemd expands here).
        words.append(_sd_quote(f"--property=StandardOutput=append:{log}", specifiers=True))
        words.append("--property=StandardError=inherit")
        service.append("ExecStart=" + " ".join(words + [_sd_quote(a) for a in argv]))
    timer = [
        "[Unit]",
        f"Description=jmo-schedule timer for {name}: {describe(spec.schedule, spec.timezone)}",
        "",
        "[Timer]",
    ]
    prefix = "# suspended: " if spec.suspend else ""
    for value in on_calendar(spec.schedule, spec.timezone):
        timer.append(f"{prefix}OnCalendar={value}")
    timer += [
        "AccuracySec=1s",
        "Persistent=true",
        "",
        "[Install]",
        "WantedBy=timers.target",
    ]
    return {f"{unit}.service": "\n".join(service) + "\n", f"{unit}.timer": "\n".join(timer) + "\n"}


# ------------------------------------------------------------------------------------
# Generated files (sync) and the guide's generator API


def _crontab_file(schedules: Sequence[ScanSchedule], source: str) -> str:
    notes = [schedule_line(s) for s in schedules] + [
        "Lines are in UTC (this file assumes a machine whose zone is UTC); `jmo-schedule run`",
        "re-checks each schedule's own zone. On any machine, `jmo-schedule install` writes the",
        "lines for that machine's zone with absolute paths into your crontab.",
    ]
    body = crontab_lines(schedules, "UTC")
    return header(source, [s.name for s in schedules], notes) + "\n".join(body) + "\n"


def generate_files(schedules: Sequence[ScanSchedule], source: str) -> dict[str, str]:
    """`deploy/cron/jmo-schedules.crontab` for all local-cron schedules and
    `deploy/systemd/jmo-NAME.{service,timer}` per schedule."""
    schedules = list(schedules)
    if not schedules:
        return {}
    out = {CRONTAB_PATH: _crontab_file(schedules, source)}
    for schedule in schedules:
        head = header(source, [schedule.name], [schedule_line(schedule),
                      "Install with `jmo-schedule install --systemd` (absolute paths, user units)."])
        for filename, text in systemd_units(schedule).items():
            out[f"{SYSTEMD_DIR}/{filename}"] = head + text
    return dict(sorted(out.items()))


class LocalCronGenerator:
    """The guide's generator API for the local backend."""

    def generate(self, schedule: ScanSchedule) -> str:
        """The crontab text for one schedule (UTC machine), with the generated header."""
        return _crontab_file([schedule], "schedules.yaml")

    def generate_files(self, schedules: Sequence[ScanSchedule], source: str) -> Mapping[str, str]:
        return generate_files(schedules, source)
