"""Every run of a set of schedules in a window: the data `jmo-schedule calendar` shows.

Runs come from the shared time semantics (cron.iter_runs). A run is marked when a
daylight-saving change moved it, with the rule that did:
- spring-forward: its wall time does not exist that day, so it runs once at the first
  instant after the gap;
- fall-back: its wall time occurs twice that day, so it runs once, at the first.
Runs of two or more schedules of one backend in the same UTC minute are collisions (the
platform starts them together); runs on different backends never collide.
Pure: the schedules, the window and the clock come in; text comes out.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from . import cron, ics
from .collisions import local_days
from .hcron import current

TYPE_CHECKING = False
if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from .model import ScanSchedule

UTC = timezone.utc
SPRING_FORWARD = "spring-forward"
FALL_BACK = "fall-back"
RULES = {
    SPRING_FORWARD: "a wall time that does not exist runs once, at the first instant after the gap",
    FALL_BACK: "a wall time that occurs twice runs once, at its first occurrence",
}


class DstShift:
    """How a daylight-saving change moved one run."""

    __slots__ = ("rule", "message")

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message


class Run:
    """One run: which schedule, when (UTC and the schedule's zone), what moved it, who else."""

    __slots__ = ("schedule", "when", "local", "dst", "same_minute")

    def __init__(self, schedule: ScanSchedule, when: datetime, local: datetime, dst: DstShift | None) -> None:
        self.schedule = schedule
        self.when = when
        self.local = local
        self.dst = dst
        # Names of every schedule of this backend that runs in this minute, this one included:
        # one tuple shared by the whole group (a busy minute would otherwise cost n * n).
        self.same_minute: tuple[str, ...] = ()

    @property
    def collisions(self) -> tuple[str, ...]:
        """The other schedules of this backend that run in the same minute."""
        return tuple(n for n in self.same_minute if n != self.schedule.name)


def runs(schedules: Sequence[ScanSchedule], start: datetime, end: datetime) -> list[Run]:
    """Every run of the not suspended `schedules` in (start, end], by time then name."""
    out: list[Run] = []
    for schedule in schedules:
        spec = schedule.spec
        if spec.suspend:
            continue
        parsed, zone = cron.parse(spec.schedule), cron.get_zone(spec.timezone)
        # Only a day whose UTC offset changes can hold a moved run: ask dst_shift there only.
        first = start.astimezone(zone).date()
        changes = {day for day, offset in local_days(spec.timezone, first, (end - start).days + 2) if offset is None}
        for when in cron.iter_runs(spec.schedule, spec.timezone, start):
            if when > end:
                break
            local = when.astimezone(zone)
            out.append(Run(schedule, when, local, dst_shift(parsed, when, zone) if local.date() in changes else None))
    out.sort(key=lambda r: (r.when, r.schedule.name))
    by_minute: dict[tuple[datetime, str], list[Run]] = {}
    for run in out:
        key = (run.when.replace(second=0, microsecond=0), run.schedule.spec.backend.type)
        by_minute.setdefault(key, []).append(run)
    for together in by_minute.values():
        if len(together) > 1:
            names = tuple(r.schedule.name for r in together)
            for run in together:
                run.same_minute = names
    return out


def dst_shift(spec: cron.CronSpec, when: datetime, zone: ZoneInfo) -> DstShift | None:
    """The DST rule that placed the run at `when` (UTC), or None for an ordinary run."""
    local = when.astimezone(zone)
    before = (when - timedelta(seconds=1)).astimezone(zone)
    if local.utcoffset() > before.utcoffset():  # type: ignore[operator]
        # `when` is a spring-forward instant: which wall times in the gap did it stand for?
        gap_start = (before + timedelta(seconds=1)).replace(tzinfo=None)
        gap_end = local.replace(tzinfo=None)
        wall, skipped = gap_start, []
        while wall < gap_end:
            if wall.hour in spec.hours and wall.minute in spec.minutes and spec.matches_day(wall.date()):
                skipped.append(f"{wall:%H:%M}")
            wall += timedelta(minutes=1)
        if skipped:
            times = ", ".join(skipped)
            verb = "does" if len(skipped) == 1 else "do"
            return DstShift(SPRING_FORWARD, (
                f"{times} {verb} not exist on {local:%Y-%m-%d} (clocks go forward {gap_start:%H:%M} {before:%Z} -> "
                f"{local:%H:%M} {local:%Z}): runs once at {local:%H:%M} {local:%Z}, the first instant after the gap"))
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        first, second = sorted((local, other), key=lambda t: t.astimezone(UTC))
        return DstShift(FALL_BACK, (
            f"{local:%H:%M} occurs twice on {local:%Y-%m-%d} (clocks go back from {first:%Z} to {second:%Z}): "
            f"runs once, at the first {local:%H:%M} ({first:%Z})"))
    return None


# ----------------------------------------------------------------------------------------
# Output


def cron_text(schedule: ScanSchedule) -> str:
    """`'37 2 * * *'`, or `'H 2 * * *' -> '37 2 * * *'` for an H cron."""
    hashed = current(schedule.spec)
    return f"{hashed.template!r} -> {hashed.concrete!r}" if hashed else repr(schedule.spec.schedule)


# A note names at most this many colliding schedules (JSON lists them all).
NAMED_COLLISIONS = 5


def colliding(run: Run) -> str:
    """`a, b` or `a, b, c, d, e and 12 more`: the other schedules of this run's minute."""
    others = run.collisions
    named = ", ".join(others[:NAMED_COLLISIONS])
    return named + (f" and {len(others) - NAMED_COLLISIONS} more" if len(others) > NAMED_COLLISIONS else "")


def notes(run: Run) -> str:
    parts = []
    if run.dst is not None:
        parts.append(f"{run.dst.rule}: {run.dst.message}")
    if run.same_minute:
        parts.append(f"same minute as {colliding(run)} on {run.schedule.spec.backend.type}")
    return "; ".join(parts)


def render_text(found: Sequence[Run], schedules: Sequence[ScanSchedule], start: datetime, end: datetime) -> str:
    """A legend of the schedules, then one table row per run."""
    shown = [s for s in schedules if not s.spec.suspend]
    lines = [f"Runs after {start:%Y-%m-%d %H:%M}Z until {end:%Y-%m-%d %H:%M}Z: {len(found)} "
             f"run{'s' if len(found) != 1 else ''} of {len(shown)} schedule{'s' if len(shown) != 1 else ''}"]
    for s in schedules:
        state = " [suspended: no runs]" if s.spec.suspend else ""
        lines.append(f"  {s.name}: cron {cron_text(s)} in {s.spec.timezone} on {s.spec.backend.type}{state}")
    if not found:
        return "\n".join(lines) + "\n"
    rows = [["UTC", "SCHEDULE", "BACKEND", "LOCAL", "NOTES"]]
    for run in found:
        rows.append([f"{run.when:%Y-%m-%d %H:%M}Z", run.schedule.name, run.schedule.spec.backend.type,
                     f"{run.local:%Y-%m-%d %H:%M} {run.local:%Z}", notes(run)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines.append("")
    lines += ["   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def render_json(found: Sequence[Run]) -> str:
    """A JSON list, one object per run."""
    items = []
    for run in found:
        spec = run.schedule.spec
        hashed = current(spec)
        items.append({
            "schedule": run.schedule.name,
            "backend": spec.backend.type,
            "time": f"{run.when:%Y-%m-%dT%H:%M:%SZ}",
            "timezone": spec.timezone,
            "localTime": run.local.isoformat(),
            "cron": spec.schedule,
            "hashedFrom": hashed.template if hashed else None,
            "dst": {"rule": run.dst.rule, "message": run.dst.message} if run.dst else None,
            "collisions": list(run.collisions),
        })
    return json.dumps(items, indent=2) + "\n"


def render_ics(found: Sequence[Run], identity: str, now: datetime, version: str) -> str:
    """An RFC 5545 VCALENDAR with one VEVENT per run. UIDs are stable per repository,
    schedule and fire time, so a subscribed calendar updates events instead of adding."""
    repo = hashlib.sha256(identity.encode()).hexdigest()[:12]
    stamp = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    events = []
    for run in found:
        s, spec = run.schedule, run.schedule.spec
        start = f"{run.when:%Y%m%dT%H%M%SZ}"
        about = [s.metadata.annotations.get("description", "")] if s.metadata.annotations.get("description") else []
        about += [
            f"Schedule: cron {cron_text(s)} in {spec.timezone}: {cron.describe(spec.schedule, spec.timezone)}",
            f"Backend: {spec.backend.type}",
            f"Local time: {run.local:%Y-%m-%d %H:%M %Z} ({spec.timezone})",
        ]
        if run.dst is not None:
            about.append(f"Daylight saving ({run.dst.rule}): {run.dst.message}")
        if run.same_minute:
            about.append(f"Same minute on {spec.backend.type}: {colliding(run)}")
        events.append(ics.component("VEVENT", [
            ("UID", f"{s.name}-{start}-{repo}@jmo-schedule"),
            ("DTSTAMP", stamp),
            ("DTSTART", start),
            ("SUMMARY", ics.escape_text(f"{s.name} scan ({spec.backend.type})")),
            ("DESCRIPTION", ics.escape_text("\n".join(about))),
            ("CATEGORIES", ics.escape_text(spec.backend.type)),
            ("TRANSP", "TRANSPARENT"),
        ]))
    title = ics.escape_text(f"jmo-schedule scans: {identity}")
    return ics.component("VCALENDAR", [
        ("VERSION", "2.0"),
        ("PRODID", f"-//jmo-schedule//jmo-schedule {version}//EN"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
        ("NAME", title),
        ("X-WR-CALNAME", title),
    ], events)
