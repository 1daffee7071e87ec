"""calendar_view.py: every run of a week that holds a spring-forward or fall-back change, in
New York, London, Sydney and Lord Howe, against test_cron.py's brute-force oracle; the
rule that moved each run, checked from the zone's own clock; collisions; the three outputs
(the ICS read back by the icalendar library)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from jmo_schedule.core import calendar_view
from jmo_schedule.core.hcron import HashedCron
from jmo_schedule.core.model import BackendConfig, ScanSchedule, ScheduleMetadata, ScheduleSpec
from test_cron import _matches, oracle_runs, oracle_spec, transitions

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DST_ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe")
# Crons that land in the gaps and the repeated hours of those zones (which are at 01:00,
# 02:00 or 03:00 local), and some that do not.
CRONS = ("30 2 * * *", "0,15,30,45 2 * * *", "30 1 * * *", "45 1 * * *", "15 2 * * *", "0 3 * * *",
         "*/20 1-3 * * *", "17 * * * *", "0 2 * * 0", "30 2,3 * * *")


def schedule(name: str, cron: str, zone: str, backend: str = "github-actions", *, suspend: bool = False) -> ScanSchedule:
    return ScanSchedule(ScheduleMetadata(name=name), ScheduleSpec(schedule=cron, timezone=zone, suspend=suspend,
                                                                  backend=BackendConfig(type=backend)))


def wall_minute(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return int((local.replace(tzinfo=UTC) - _EPOCH).total_seconds()) // 60


def expected_rule(cron: str, zone_name: str, when: datetime) -> str | None:
    """From the zone's clock alone: did a gap or a repeated hour decide this run?"""
    zone, spec = ZoneInfo(zone_name), oracle_spec(cron)
    now_wall = wall_minute(when, zone)
    before_wall = wall_minute(when - timedelta(minutes=1), zone)
    if now_wall > before_wall + 1 and any(_matches(spec, w) for w in range(before_wall + 1, now_wall)):
        return calendar_view.SPRING_FORWARD
    # Repeated: the same wall minute is shown at another UTC minute within three hours.
    others = (when + timedelta(minutes=m) for m in range(-180, 181) if m)
    if any(wall_minute(t, zone) == now_wall for t in others):
        return calendar_view.FALL_BACK
    return None


@pytest.mark.parametrize("zone", DST_ZONES)
@pytest.mark.parametrize("which", [0, 1], ids=["first-change-of-2026", "second-change-of-2026"])
def test_a_dst_week_agrees_with_the_oracle_and_names_each_rule(zone: str, which: int) -> None:
    change = transitions(zone, 2026)[which]
    start = change - timedelta(days=3, hours=5)
    end = start + timedelta(days=7)
    schedules = [schedule(f"s{i}", cron, zone) for i, cron in enumerate(CRONS)]
    found = calendar_view.runs(schedules, start, end)
    rules_seen = set()
    for s in schedules:
        mine = [r for r in found if r.schedule is s]
        assert [r.when for r in mine] == oracle_runs(s.spec.schedule, zone, start, end), (zone, s.spec.schedule)
        for run in mine:
            assert run.local == run.when.astimezone(ZoneInfo(zone))
            rule = run.dst.rule if run.dst else None
            assert rule == expected_rule(s.spec.schedule, zone, run.when), (zone, s.spec.schedule, run.when)
            rules_seen.add(rule)
    # Every week holds runs that a change moved (and ordinary ones).
    assert None in rules_seen and len(rules_seen) == 2
    assert [r.when for r in found] == sorted(r.when for r in found)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_messages_name_the_rule_and_the_clock_change() -> None:
    ny = [schedule("gap", "30 2 * * *", "America/New_York"), schedule("fold", "30 1 * * *", "America/New_York")]
    spring = calendar_view.runs(ny[:1], at("2026-03-08T00:00:00Z"), at("2026-03-08T12:00:00Z"))
    assert [(r.when, r.dst.rule, r.dst.message) for r in spring if r.dst] == [(
        at("2026-03-08T07:00:00Z"), "spring-forward",
        "02:30 does not exist on 2026-03-08 (clocks go forward 02:00 EST -> 03:00 EDT): runs once at 03:00 EDT, the "
        "first instant after the gap")]
    fall = calendar_view.runs(ny[1:], at("2026-11-01T00:00:00Z"), at("2026-11-01T12:00:00Z"))
    assert [(r.when, r.dst.message if r.dst else None) for r in fall] == [(
        at("2026-11-01T05:30:00Z"),
        "01:30 occurs twice on 2026-11-01 (clocks go back from EDT to EST): runs once, at the first 01:30 (EDT)")]
    # Lord Howe moves by 30 minutes: 02:00 -> 02:30 on 2026-10-04.
    howe = calendar_view.runs([schedule("howe", "0,15 2 * * *", "Australia/Lord_Howe")], at("2026-10-03T14:00:00Z"),
                              at("2026-10-03T17:00:00Z"))
    assert [(r.when, r.dst.message if r.dst else None) for r in howe] == [(
        at("2026-10-03T15:30:00Z"),
        "02:00, 02:15 do not exist on 2026-10-04 (clocks go forward 02:00 +1030 -> 02:30 +11): runs once at 02:30 "
        "+11, the first instant after the gap")]


def test_collisions_are_per_backend_and_suspended_schedules_have_no_runs() -> None:
    schedules = [schedule("gap", "30 2 * * *", "America/New_York"), schedule("utc", "0 7 * * *", "UTC"),
                 schedule("cluster", "0 7 * * *", "UTC", "kubernetes"),
                 schedule("paused", "0 7 * * *", "UTC", suspend=True)]
    found = calendar_view.runs(schedules, at("2026-03-08T06:00:00Z"), at("2026-03-08T08:00:00Z"))
    assert [(r.schedule.name, r.collisions) for r in found] == [
        ("cluster", ()), ("gap", ("utc",)), ("utc", ("gap",))]


WEEK = [
    schedule("nightly", "2 0 * * *", "Europe/Berlin"),
    schedule("gap", "30 2 * * *", "America/New_York"),
    schedule("utc", "0 7 * * *", "UTC"),
    schedule("paused", "0 7 * * *", "UTC", suspend=True),
]
WEEK[0].spec.hashed_from = HashedCron("H H(0-7) * * *", "2 0 * * *", "github.com/acme/app")
WEEK[1].metadata.annotations["description"] = "Production repos, nightly; see \\\\wiki"


def test_text_output() -> None:
    found = calendar_view.runs(WEEK, at("2026-03-07T12:00:00Z"), at("2026-03-08T12:00:00Z"))
    assert calendar_view.render_text(found, WEEK, at("2026-03-07T12:00:00Z"), at("2026-03-08T12:00:00Z")) == (
        "Runs after 2026-03-07 12:00Z until 2026-03-08 12:00Z: 3 runs of 3 schedules\n"
        "  nightly: cron 'H H(0-7) * * *' -> '2 0 * * *' in Europe/Berlin on github-actions\n"
        "  gap: cron '30 2 * * *' in America/New_York on github-actions\n"
        "  utc: cron '0 7 * * *' in UTC on github-actions\n"
        "  paused: cron '0 7 * * *' in UTC on github-actions [suspended: no runs]\n"
        "\n"
        "UTC                 SCHEDULE   BACKEND          LOCAL                  NOTES\n"
        "2026-03-07 23:02Z   nightly    github-actions   2026-03-08 00:02 CET\n"
        "2026-03-08 07:00Z   gap        github-actions   2026-03-08 03:00 EDT   spring-forward: 02:30 does not exist on "
        "2026-03-08 (clocks go forward 02:00 EST -> 03:00 EDT): runs once at 03:00 EDT, the first instant after the "
        "gap; same minute as utc on github-actions\n"
        "2026-03-08 07:00Z   utc        github-actions   2026-03-08 07:00 UTC   same minute as gap on github-actions\n")


def test_json_output() -> None:
    found = calendar_view.runs(WEEK, at("2026-03-07T12:00:00Z"), at("2026-03-08T12:00:00Z"))
    items = json.loads(calendar_view.render_json(found))
    assert items[0] == {"schedule": "nightly", "backend": "github-actions", "time": "2026-03-07T23:02:00Z",
                        "timezone": "Europe/Berlin", "localTime": "2026-03-08T00:02:00+01:00", "cron": "2 0 * * *",
                        "hashedFrom": "H H(0-7) * * *", "dst": None, "collisions": []}
    assert items[1]["dst"] == {"rule": "spring-forward", "message": (
        "02:30 does not exist on 2026-03-08 (clocks go forward 02:00 EST -> 03:00 EDT): runs once at 03:00 EDT, the "
        "first instant after the gap")}
    assert [(i["schedule"], i["collisions"]) for i in items] == [("nightly", []), ("gap", ["utc"]), ("utc", ["gap"])]


def test_ics_output_reads_back_with_icalendar() -> None:
    start, end = at("2026-03-07T12:00:00Z"), at("2026-03-14T12:00:00Z")
    found = calendar_view.runs(WEEK, start, end)
    text = calendar_view.render_ics(found, "github.com/acme/app", at("2026-03-01T09:30:00Z"), "1.0.0")
    lines = text.split("\r\n")
    assert lines[-1] == "" and all(len(line.encode()) <= 75 for line in lines)
    assert "\n" not in text.replace("\r\n", "")
    parsed = icalendar.Calendar.from_ical(text)
    assert (str(parsed["VERSION"]), str(parsed["PRODID"])) == ("2.0", "-//jmo-schedule//jmo-schedule 1.0.0//EN")
    events = parsed.walk("VEVENT")
    assert [(str(e["SUMMARY"]), e.decoded("DTSTART")) for e in events] == [
        (f"{r.schedule.name} scan ({r.schedule.spec.backend.type})", r.when) for r in found]
    assert len(events) == 21 and all(e.decoded("DTSTAMP") == at("2026-03-01T09:30:00Z") for e in events)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    assert uids[:3] == ["nightly-20260307T230200Z-98d9fc12e020@jmo-schedule",
                        "gap-20260308T070000Z-98d9fc12e020@jmo-schedule",
                        "utc-20260308T070000Z-98d9fc12e020@jmo-schedule"]
    assert str(events[1]["DESCRIPTION"]) == (
        "Production repos, nightly; see \\\\wiki\n"
        "Schedule: cron '30 2 * * *' in America/New_York: At 02:30 (America/New_York)\n"
        "Backend: github-actions\n"
        "Local time: 2026-03-08 03:00 EDT (America/New_York)\n"
        "Daylight saving (spring-forward): 02:30 does not exist on 2026-03-08 (clocks go forward 02:00 EST -> 03:00 "
        "EDT): runs once at 03:00 EDT, the first instant after the gap\n"
        "Same minute on github-actions: utc")
    assert [str(c) for c in events[1]["CATEGORIES"].cats] == ["github-actions"]
    # Another day, another window: the same run keeps its UID (a subscribed calendar updates it).
    again = calendar_view.render_ics(calendar_view.runs(WEEK, at("2026-03-08T06:00:00Z"), end), "github.com/acme/app",
                                     at("2026-03-05T00:00:00Z"), "1.0.0")
    assert "UID:gap-20260308T070000Z-98d9fc12e020@jmo-schedule\r\n" in again


def test_a_busy_minute_names_five_others_and_counts_the_rest() -> None:
    crowd = [schedule(f"scan-{i}", "17 3 * * *", "UTC") for i in range(8)]
    found = calendar_view.runs(crowd, at("2026-03-08T03:00:00Z"), at("2026-03-08T04:00:00Z"))
    assert calendar_view.notes(found[0]) == (
        "same minute as scan-1, scan-2, scan-3, scan-4, scan-5 and 2 more on github-actions")
    assert found[7].collisions == ("scan-0", "scan-1", "scan-2", "scan-3", "scan-4", "scan-5", "scan-6")
    assert json.loads(calendar_view.render_json(found))[3]["collisions"] == [
        "scan-0", "scan-1", "scan-2", "scan-4", "scan-5", "scan-6", "scan-7"]
