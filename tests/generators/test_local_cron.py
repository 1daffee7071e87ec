"""The local-cron generator: crontab translation (superset of every fire time, checked
against cron.py's semantics), systemd OnCalendar (checked with the real systemd-analyze),
and the generated files."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import tool
from fakes.crontab import crontab_for_test
from jmo_schedule.core.cron import get_zone, iter_runs, parse, previous_run
from jmo_schedule.core.model import BackendConfig, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.generators import generate_all, is_generated
from jmo_schedule.generators import local_cron as lc

UTC = timezone.utc

# (cron, schedule zone, machine zone): DST both ways, half- and quarter-hour offsets,
# changes at midnight, the southern hemisphere, day-of-month/day-of-week OR, month ends.
CASES = [
    ("30 2 * * *", "America/New_York", "UTC"),
    ("0 2 * * 1", "America/New_York", "Europe/Berlin"),
    ("30 6 * * *", "UTC", "America/New_York"),
    ("15 1 * * *", "Europe/London", "America/Chicago"),
    ("0,30 9-17 * * 1-5", "Asia/Tokyo", "America/Los_Angeles"),
    ("45 23 31 * *", "Asia/Kathmandu", "UTC"),
    ("0 0 1 * 1", "Australia/Lord_Howe", "Europe/London"),
    ("10 0 * * *", "America/Santiago", "America/Sao_Paulo"),
    ("0 0 1 1 *", "Pacific/Chatham", "UTC"),
    ("*/20 1-3 * 3,10,11 0", "Europe/Berlin", "America/New_York"),
    ("5 4 29 2 *", "Australia/Sydney", "Asia/Kolkata"),
    ("0 12 * * *", "UTC", "UTC"),
]


def schedule(name: str = "weekly-scan", cron: str = "0 2 * * 1", tz: str = "America/New_York", **spec: object) -> ScanSchedule:
    return ScanSchedule(
        metadata=ScheduleMetadata(name=name),
        spec=ScheduleSpec(schedule=cron, timezone=tz, backend=BackendConfig(type="local-cron"), **spec),
    )


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
    lines = lc.cron_fields(cron, tz, machine)
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
    lines = [parse(" ".join(f)) for f in lc.cron_fields(cron, tz, machine)]
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
    assert calls - len(fires) <= len(fires) * (len(lc.offset_deltas(tz, machine)) - 1) + 5


def test_translations_read_like_cron() -> None:
    assert lc.cron_fields("30 2 * * *", "America/New_York", "UTC") == (
        ("30", "6,7", "*", "*", "*"),  # EDT and EST
        ("0", "7", "*", "3", "0"),  # 02:30 on the March changeover Sunday fires at 03:00 EDT
    )
    assert lc.cron_fields("30 6 * * *", "UTC", "America/New_York") == (
        ("30", "1,2", "*", "*", "*"),
        ("30", "*", "*", "11", "0"),  # 01:30 EST, the repeated hour: an hour-wildcard line
    )
    assert lc.cron_fields("45 23 31 1,3 *", "Asia/Kathmandu", "UTC") == (("0", "18", "31", "1,3", "*"),)
    # Crossing midnight backwards moves day-of-week back too, keeping the OR with day-of-month.
    assert lc.cron_fields("0 1 1 * 1", "Europe/Paris", "UTC") == (
        ("0", "23", "28-31", "*", "0"),  # CEST: 23:00 UTC the day before (1st -> 28-31, Monday -> Sunday)
        ("0", "0", "1", "*", "1"),
    )
    assert lc.cron_fields("0 12 * * *", "UTC", "UTC") == (("0", "12", "*", "*", "*"),)


def test_crontab_lines_and_command_quoting() -> None:
    s = schedule()
    lines = lc.crontab_lines([s], "UTC", "/opt/my tools/jmo-schedule", "/home/u/.jmo/logs",
                             workdir="/srv/100% repo", scanner="/opt/jmo/bin/jmo", file="/srv/schedules.yaml")
    assert lines == [
        "# schedule weekly-scan: cron '0 2 * * 1' in America/New_York; lines in UTC, `run` skips minutes that are not fire times",
        "0 6,7 * * 1 cd '/srv/100\\% repo' && '/opt/my tools/jmo-schedule' run weekly-scan -f /srv/schedules.yaml "
        "--scanner /opt/jmo/bin/jmo >> /home/u/.jmo/logs/weekly-scan.log 2>&1",
    ]
    s.spec.backend.config = {"scanner": "/usr/bin/jmo"}  # the schedule's own scanner wins
    s.spec.suspend = True
    assert lc.crontab_lines([s], "UTC", "/x/jmo-schedule", None)[1:] == [
        '# suspended: 0 6,7 * * 1 /x/jmo-schedule run weekly-scan >> "$HOME/.jmo/logs/weekly-scan.log" 2>&1']
    with pytest.raises(ValueError) as exc:
        lc.crontab_lines([schedule()], "UTC", "/x/jmo-schedule", "/logs\nrm -rf /")
    assert str(exc.value) == "'/logs\\nrm -rf /weekly-scan.log' cannot go in a crontab line (it holds a newline)"


def test_real_crontab_accepts_every_translation(tmp_path: Path) -> None:
    """Debian's crontab checks each line: the translations are installed into the scratch
    user's crontab (root), else into the fake crontab, which checks crontab(5)'s grammar."""
    lines = []
    for i, (cron, tz, machine) in enumerate(CASES):
        lines += lc.crontab_lines([schedule(f"s{i}", cron, tz)], machine, "/usr/local/bin/jmo-schedule", "/tmp/logs",
                                  workdir="/srv/a b")
    text = "\n".join(lines) + "\n"
    with crontab_for_test(tmp_path / "crontab") as user:
        args = [shutil.which("crontab") or "crontab", *(["-u", user] if user else [])]
        proc = subprocess.run([*args, "-"], input=text.encode(), capture_output=True, timeout=30)
        assert proc.returncode == 0, proc.stderr.decode()
        assert subprocess.run([*args, "-l"], capture_output=True, timeout=30).stdout.decode() == text


# ------------------------------------------------------------------------------------
# systemd


_ELAPSE = re.compile(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


def systemd_elapses(value: str, base: datetime, iterations: int) -> list[datetime]:
    proc = subprocess.run(
        [tool("systemd-analyze"), "calendar", f"--base-time={base:%Y-%m-%d %H:%M:%S} UTC",
         f"--iterations={iterations}", value],
        capture_output=True, text=True, env={**os.environ, "TZ": "UTC", "SYSTEMD_COLORS": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    return [datetime.fromisoformat(m).replace(tzinfo=UTC) for m in _ELAPSE.findall(proc.stdout)]


SYSTEMD_CASES = [
    ("30 2 * * *", "America/New_York"),
    ("0 1 * * *", "Europe/London"),
    ("0 */4 * * *", "Europe/Paris"),
    ("15 1 * * 0", "Europe/Berlin"),
    ("0 2 1,15 * 1", "Australia/Sydney"),
    ("0 0 * * *", "America/Santiago"),
    ("30 2 * 3 *", "America/Chicago"),
]


@pytest.mark.parametrize("cron,tz", SYSTEMD_CASES)
def test_systemd_on_calendar_fires_at_every_fire_time(cron: str, tz: str) -> None:
    values = lc.on_calendar(cron, tz)
    base = datetime(2027, 1, 1, tzinfo=UTC)
    end = datetime(2028, 1, 1, tzinfo=UTC)
    fires = []
    for run in iter_runs(cron, tz, base):
        if run >= end:
            break
        fires.append(run)
    elapses: set[datetime] = set()
    for value in values:
        elapses.update(t for t in systemd_elapses(value, base, len(fires) + 60) if t < end)
    missing = [f for f in fires if f not in elapses]
    assert missing == [], f"systemd never fires {values} at {missing[:5]}"
    # Every extra elapse is one `run` ignores: its latest fire time was already handled.
    for extra in sorted(elapses - set(fires)):
        assert previous_run(cron, tz, extra) in fires


def test_on_calendar_values() -> None:
    assert lc.on_calendar("30 2 * * *", "America/New_York") == [
        "*-*-* 02:30:00 America/New_York", "Sun *-03-* 03:00:00 America/New_York"]
    assert lc.on_calendar("0 2 1,15 * 1", "UTC") == ["*-*-01,15 02:00:00 UTC", "Mon *-*-* 02:00:00 UTC"]
    assert lc.on_calendar("*/15 9-17 * 1-6 1-5", "Asia/Tokyo") == [
        "Mon,Tue,Wed,Thu,Fri *-01,02,03,04,05,06-* 09,10,11,12,13,14,15,16,17:00,15,30,45:00 Asia/Tokyo"]


def test_systemd_units() -> None:
    forbid = lc.systemd_units(schedule(), "/opt/bin/jmo-schedule", "/home/u/.jmo/logs", workdir="/srv/repo 1")
    assert forbid["jmo-weekly-scan.service"] == (
        "[Unit]\nDescription=jmo-schedule scan weekly-scan\n\n[Service]\nType=oneshot\n"
        "WorkingDirectory=/srv/repo 1\nExecStart=/opt/bin/jmo-schedule run weekly-scan\n"
        "StandardOutput=append:/home/u/.jmo/logs/weekly-scan.log\nStandardError=inherit\n")
    assert forbid["jmo-weekly-scan.timer"] == (
        "[Unit]\nDescription=jmo-schedule timer for weekly-scan: At 02:00 on Monday (America/New_York)\n\n"
        "[Timer]\nOnCalendar=Mon *-*-* 02:00:00 America/New_York\nAccuracySec=1s\nPersistent=true\n\n"
        "[Install]\nWantedBy=timers.target\n")
    allow = lc.systemd_units(schedule(concurrencyPolicy="Allow", suspend=True), "/opt/100%/jmo-schedule", None)
    assert allow["jmo-weekly-scan.service"].splitlines()[-1] == (
        "ExecStart=/usr/bin/systemd-run --user --collect --quiet "
        "--property=StandardOutput=append:%h/.jmo/logs/weekly-scan.log --property=StandardError=inherit "
        "/opt/100%%/jmo-schedule run weekly-scan")
    assert "# suspended: OnCalendar=Mon *-*-* 02:00:00 America/New_York" in allow["jmo-weekly-scan.timer"]


# ------------------------------------------------------------------------------------
# Generated files


def test_generate_files_paths_headers_and_stability() -> None:
    schedules = [schedule("weekly-scan"), schedule("nightly", "0 3 * * *", "UTC")]
    files = lc.generate_files(schedules, "schedules.yaml")
    assert sorted(files) == [
        "deploy/cron/jmo-schedules.crontab",
        "deploy/systemd/jmo-nightly.service", "deploy/systemd/jmo-nightly.timer",
        "deploy/systemd/jmo-weekly-scan.service", "deploy/systemd/jmo-weekly-scan.timer",
    ]
    assert all(is_generated(text) for text in files.values())
    assert lc.generate_files(schedules, "schedules.yaml") == files
    crontab = files["deploy/cron/jmo-schedules.crontab"]
    assert crontab.splitlines()[-3:] == [
        "0 6,7 * * 1 jmo-schedule run weekly-scan >> \"$HOME/.jmo/logs/weekly-scan.log\" 2>&1",
        "# schedule nightly: cron '0 3 * * *' in UTC; lines in UTC, `run` skips minutes that are not fire times",
        "0 3 * * * jmo-schedule run nightly >> \"$HOME/.jmo/logs/nightly.log\" 2>&1",
    ]
    assert "# Regenerate: jmo-schedule sync -f schedules.yaml" in crontab
    assert lc.generate_files([], "schedules.yaml") == {}
    assert generate_all(schedules, "schedules.yaml") == files


def test_generator_class() -> None:
    text = lc.LocalCronGenerator().generate(schedule())
    assert text.startswith("# Generated by jmo-schedule. DO NOT EDIT.\n")
    assert text.endswith("0 6,7 * * 1 jmo-schedule run weekly-scan >> \"$HOME/.jmo/logs/weekly-scan.log\" 2>&1\n")


@pytest.mark.parametrize("policy", ["Forbid", "Replace"])
def test_systemd_analyze_verify_accepts_the_units(tmp_path: object, policy: str) -> None:
    """systemd's own unit checker: no warning for either unit, with awkward paths."""
    import sys
    from pathlib import Path

    base = Path(str(tmp_path))
    runtime = base / "runtime"
    runtime.mkdir(mode=0o700)
    work = base / "100% my repo"
    work.mkdir()
    exe = str(Path(sys.executable).parent / "jmo-schedule")
    s = schedule(cron="30 2 * * *", concurrencyPolicy=policy)
    for name, text in lc.systemd_units(s, exe, str(base / "logs"), workdir=str(work), scanner="/opt/jmo's/jmo").items():
        (base / name).write_text(text)
    for unit in ("jmo-weekly-scan.service", "jmo-weekly-scan.timer"):
        proc = subprocess.run([tool("systemd-analyze"), "verify", "--user", str(base / unit)], capture_output=True,
                              text=True, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
        assert (proc.returncode, proc.stderr) == (0, ""), unit
