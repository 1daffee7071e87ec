"""Local cron: crontab lines and systemd timer/service pairs that call `jmo-schedule run`.

Pure: schedules (and, for install, the machine's zone and paths) in, text out.

cron has no time zone: it matches its five fields against the machine's wall clock
(Debian's cron has no CRON_TZ). A schedule's fire times in spec.timezone are therefore
translated into the machine's zone as a SUPERSET of crontab lines (core/cron_translate.py),
and `jmo-schedule run` re-checks each invocation against the real zone with the shared
semantics (cron.py), quietly doing nothing at a minute that is not a fire time.

systemd timers take a zone (`OnCalendar=... Europe/London`) and fire once at the first
occurrence of a repeated time, as the shared semantics do, but never at a wall time that
does not exist; the timer gets an extra OnCalendar for each changeover instant where the
shared semantics fire.
"""
from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterable, Mapping, Sequence

from ..core.cron import describe, get_zone, parse
from ..core.cron_translate import cron_fields, gap_fires, wall_matches
from ..core.model import ScanSchedule
from .common import check_name
from .header import header, schedule_line

BACKEND = "local-cron"
CRONTAB_PATH = "deploy/cron/jmo-schedules.crontab"
SYSTEMD_DIR = "deploy/systemd"
DEFAULT_EXECUTABLE = "jmo-schedule"
# Years whose zone rules the translation covers (fixed, so the output is byte-stable).
ENTRY_PREFIX = "# schedule "
SUSPENDED_PREFIX = "# suspended: "
_DOW_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


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


# The daily audit of the installed schedules (`install --no-audit` leaves it out): a
# minute off the hour, when the machine is likely up and cron least busy.
AUDIT_PREFIX = "# audit: "
AUDIT_TIME = ("17", "9")  # minute, hour: machine time


def audit_entry(executable: str = DEFAULT_EXECUTABLE, log_dir: str | None = None, *, workdir: str | None = None,
                file: str | None = None) -> list[str]:
    """The crontab lines of the daily `jmo-schedule audit` of this machine's schedules: it
    tells their Slack channels about missed nights, and never fails (--exit-zero)."""
    parts = [f"cd {_cron_quote(workdir)} &&"] if workdir else []
    parts += [_cron_quote(executable), "audit", "--backend", "local-cron", "--notify", "--exit-zero"]
    if file:
        parts += ["-f", _cron_quote(file)]
    log = '"$HOME/.jmo/logs/audit.log"' if log_dir is None else _cron_quote(posixpath.join(log_dir, "audit.log"))
    parts += [">>", log, "2>&1"]
    minute, hour = AUDIT_TIME
    return [f"{AUDIT_PREFIX}jmo-schedule audit every day at {hour.zfill(2)}:{minute} (machine time): missed runs "
            "reach the schedules' Slack channels", f"{minute} {hour} * * * {' '.join(parts)}"]


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
        if not wall_matches(spec, wall.replace(tzinfo=None)):  # the regular value covers it
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
