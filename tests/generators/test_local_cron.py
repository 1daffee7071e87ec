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
from zone_cases import CASES
from jmo_schedule.core.cron import iter_runs, previous_run
from jmo_schedule.core.model import BackendConfig, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.generators import generate_all, is_generated
from jmo_schedule.generators import local_cron as lc

UTC = timezone.utc


def schedule(name: str = "weekly-scan", cron: str = "0 2 * * 1", tz: str = "America/New_York", **spec: object) -> ScanSchedule:
    return ScanSchedule(
        metadata=ScheduleMetadata(name=name),
        spec=ScheduleSpec(schedule=cron, timezone=tz, backend=BackendConfig(type="local-cron"), **spec),
    )


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
