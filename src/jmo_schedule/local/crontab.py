"""Install schedules into the user's crontab or user systemd timers, and remove them.

Crontab: read with `crontab -l`, written with `crontab -` (the real binary, which checks
every line), the managed lines kept between two marker comments. Everything outside the
markers is the user's and goes back byte for byte; installing twice changes nothing;
uninstalling everything gives back the crontab as it was (removed when it was only ours).

systemd: `jmo-NAME.service` / `jmo-NAME.timer` in ~/.config/systemd/user, then
`systemctl --user daemon-reload` and `enable --now` (suspended schedules: `disable --now`).

Entries only run when something fires them: a cron daemon in the process table (`cron`,
`crond`, `cronie`, `fcron`), or for timers the user's systemd manager, which outlives the
login session only with lingering on (`loginctl enable-linger USER`). `install` checks both.
"""
from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..core.cron import get_zone
from ..core.files import atomic_write
from ..core.model import ScanSchedule
from ..errors import JmoError
from ..generators.header import MARKER, is_generated, schedule_line
from ..generators.local_cron import crontab_entry, systemd_units


BEGIN = "# >>> jmo-schedule: managed by `jmo-schedule install`; change the schedules, not these lines >>>"
END = "# <<< jmo-schedule <<<"
_ENTRY_RE = re.compile(r"^# schedule ([a-z0-9]([-a-z0-9]*[a-z0-9])?): ")
_AUDIT_RE = re.compile(r"^# audit: ")
AUDIT_KEY = "@audit"  # the daily audit's entry: not a schedule name (no DNS label starts with @)
_C_ENV = {"LC_ALL": "C", "LANG": "C"}


# ------------------------------------------------------------------------------------
# This machine


def machine_zone(root: str = "/") -> str:
    """The IANA zone the cron daemon uses: /etc/timezone, else the /etc/localtime link,
    else UTC (glibc's default without /etc/localtime)."""
    candidates = []
    try:
        with open(os.path.join(root, "etc/timezone"), encoding="utf-8") as fh:
            candidates.append(fh.read().strip())
    except OSError:
        pass
    try:
        target = os.readlink(os.path.join(root, "etc/localtime"))
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        try:
            get_zone(name)
            return name
        except ValueError:
            continue
    return "UTC"


def executable() -> str:
    """Absolute path of the installed `jmo-schedule` command."""
    beside = os.path.join(os.path.dirname(sys.executable), "jmo-schedule")
    if os.access(beside, os.X_OK):
        return os.path.abspath(beside)
    found = shutil.which("jmo-schedule")
    if found:
        return os.path.abspath(found)
    raise JmoError("cannot find the jmo-schedule command (is the package installed with pip?)")


def _crontab_binary() -> str:
    found = shutil.which("crontab")
    if not found:
        raise JmoError("crontab is not installed (Debian/Ubuntu: apt-get install cron); or use --systemd")
    return found


# ------------------------------------------------------------------------------------
# What fires the entries

CRON_DAEMONS = frozenset({"cron", "crond", "cronie", "fcron"})
PROC_ROOT = "/proc"
LINGER_DIR = "/var/lib/systemd/linger"
# `systemctl --user is-system-running` states in which the manager runs timers.
_MANAGER_UP = frozenset({"initializing", "starting", "running", "degraded", "maintenance"})


def cron_daemon(proc_root: str | None = None) -> str | None:
    """The name of a running cron daemon (the `comm` of a process in /proc), "" when the
    process table shows none, None when there is no /proc to read (cannot tell)."""
    root = proc_root or PROC_ROOT
    try:
        pids = [e for e in os.listdir(root) if e.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(os.path.join(root, pid, "comm"), encoding="utf-8", errors="replace") as fh:
                name = fh.read().strip()
        except OSError:  # the process ended while we looked
            continue
        if name in CRON_DAEMONS:
            return name
    return ""


def user_manager_state() -> str | None:
    """The state of the user's systemd manager (`systemctl --user is-system-running`:
    running, degraded, ...), or None when there is none to reach (no systemctl, no user bus)."""
    binary = shutil.which("systemctl")
    if not binary:
        return None
    try:
        proc = subprocess.run([binary, "--user", "is-system-running"], capture_output=True, text=True,
                              env={**os.environ, **_C_ENV}, stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    state = proc.stdout.strip()
    return state if state in _MANAGER_UP else None


def lingering(user: str, linger_dir: str | None = None) -> bool:
    """Whether `user`'s systemd manager keeps running after they log out."""
    return os.path.exists(os.path.join(linger_dir or LINGER_DIR, user))


def login_name() -> str:
    """The user running this, for `loginctl enable-linger NAME` advice."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "$USER"


# ------------------------------------------------------------------------------------
# Crontab I/O


def _user_args(user: str | None) -> list[str]:
    return ["-u", user] if user else []


def read_crontab(user: str | None = None) -> str | None:
    """The crontab's text (undecodable bytes kept as surrogates), or None when there is none."""
    proc = subprocess.run([_crontab_binary(), *_user_args(user), "-l"], capture_output=True,
                          env={**os.environ, **_C_ENV})
    if proc.returncode == 0:
        return proc.stdout.decode("utf-8", "surrogateescape")
    err = proc.stderr.decode("utf-8", "replace").strip()
    if "no crontab for" in err:
        return None
    raise JmoError(f"crontab -l failed: {_first_line(err) or f'exit {proc.returncode}'}")


def write_crontab(text: str | None, user: str | None = None) -> None:
    """Install `text` as the crontab (`crontab -`), or remove it when None (`crontab -r`)."""
    binary = _crontab_binary()
    if text is None:
        proc = subprocess.run([binary, *_user_args(user), "-r"], capture_output=True, env={**os.environ, **_C_ENV})
        err = proc.stderr.decode("utf-8", "replace").strip()
        if proc.returncode != 0 and "no crontab for" not in err:
            raise JmoError(f"crontab -r failed: {_first_line(err)}")
        return
    proc = subprocess.run([binary, *_user_args(user), "-"], input=text.encode("utf-8", "surrogateescape"),
                          capture_output=True, env={**os.environ, **_C_ENV})
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise JmoError(f"crontab refused the new table: {' / '.join(err.splitlines()) or f'exit {proc.returncode}'}")


def print_table(text: str | None) -> None:
    """Print crontab text as its bytes (a user's non-UTF-8 bytes included)."""
    data = (text or "").encode("utf-8", "surrogateescape")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8", "replace"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


# ------------------------------------------------------------------------------------
# The managed block


@dataclass
class Crontab:
    """A crontab split around the managed block: the user's text before and after it
    (exact), and our entries by schedule name, in order."""

    before: str
    after: str
    entries: dict[str, list[str]] = field(default_factory=dict)
    has_block: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Crontab:
        text = text or ""
        lines = text.splitlines(keepends=True)
        starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == BEGIN]
        if not starts:
            return cls(text, "")
        if len(starts) > 1:
            raise JmoError("the crontab holds two jmo-schedule blocks; remove one by hand (crontab -e)")
        start = starts[0]
        ends = [i for i in range(start + 1, len(lines)) if lines[i].rstrip("\r\n") == END]
        if not ends:
            raise JmoError(f"the crontab's jmo-schedule block has no end marker {END!r}; fix it by hand (crontab -e)")
        end = ends[0]
        entries: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in lines[start + 1 : end]:
            line = line.rstrip("\r\n")
            m = _ENTRY_RE.match(line)
            if m or _AUDIT_RE.match(line):
                current = entries.setdefault(m.group(1) if m else AUDIT_KEY, [])
            if current is not None:
                current.append(line)
        return cls("".join(lines[:start]), "".join(lines[end + 1 :]), entries, True)

    def render(self) -> str | None:
        """The whole crontab text; None when nothing is left (no user lines, no entries)."""
        if not self.entries:
            text = self.before + self.after
            return text or None
        before = self.before
        if before and not before.endswith("\n"):
            before += "\n"
        block = [BEGIN, *(line for lines in self.entries.values() for line in lines), END]
        return before + "\n".join(block) + "\n" + self.after


# ------------------------------------------------------------------------------------
# Install / uninstall


@dataclass(frozen=True)
class InstallOptions:
    executable: str
    log_dir: str
    workdir: str | None = None
    scanner: str | None = None
    file: str | None = None
    machine_zone: str = "UTC"
    audit: bool = True  # a daily `jmo-schedule audit` entry while any schedule is installed


def crontab_entries(schedules: Sequence[ScanSchedule], opts: InstallOptions) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for schedule in schedules:
        exe = opts.executable
        lines = crontab_entry(schedule, opts.machine_zone, exe, opts.log_dir, workdir=opts.workdir,
                              scanner=opts.scanner, file=opts.file)
        out[schedule.name] = lines
    return out


def install_crontab(schedules: Sequence[ScanSchedule], opts: InstallOptions, *, replace_all: bool,
                    user: str | None = None, dry_run: bool = False) -> tuple[str | None, bool]:
    """Put the entries of `schedules` in the crontab (all other entries dropped when
    `replace_all`). Returns (the new crontab text, whether it changed)."""
    current = read_crontab(user)
    table = Crontab.parse(current)
    new = crontab_entries(schedules, opts)
    table.entries.pop(AUDIT_KEY, None)
    if replace_all:
        table.entries = new
    else:
        table.entries.update(new)
    _place_audit(table, audit_lines(opts) if opts.audit else None)
    text = table.render()
    changed = text != current
    if changed and not dry_run:
        write_crontab(text, user)
    return text, changed


def uninstall_crontab(names: Sequence[str] | None, *, user: str | None = None,
                      dry_run: bool = False) -> tuple[list[str], str | None]:
    """Remove the entries of `names` (all when None). Returns (names removed, new text)."""
    current = read_crontab(user)
    table = Crontab.parse(current)
    if names is None:
        removed = [n for n in table.entries if n != AUDIT_KEY]
        table.entries = {}
    else:
        removed = [n for n in names if n in table.entries and n != AUDIT_KEY]
        for n in removed:
            del table.entries[n]
        _place_audit(table, table.entries.pop(AUDIT_KEY, None))
    text = table.render() if table.has_block else current
    if text != current and not dry_run:
        write_crontab(text, user)
    return removed, text


def audit_lines(opts: InstallOptions) -> list[str]:
    from ..generators.local_cron import audit_entry

    return audit_entry(opts.executable, opts.log_dir, workdir=opts.workdir, file=opts.file)


def _place_audit(table: Crontab, lines: list[str] | None) -> None:
    """The audit entry goes last, and only while a schedule's entry is installed."""
    table.entries.pop(AUDIT_KEY, None)
    if lines and table.entries:
        table.entries[AUDIT_KEY] = lines


# ------------------------------------------------------------------------------------
# systemd


def systemd_user_dir(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "systemd", "user")


def systemd_files(schedules: Sequence[ScanSchedule], opts: InstallOptions, source: str) -> dict[str, str]:
    """{file name: text} of the units for `schedules`, each with the generated header."""
    out: dict[str, str] = {}
    for schedule in schedules:
        head = "".join(f"# {line}\n" for line in (
            MARKER,
            f"Written by `jmo-schedule install --systemd` from {source}; install again to change it.",
            schedule_line(schedule),
        ))
        units = systemd_units(schedule, opts.executable, opts.log_dir, workdir=opts.workdir,
                              scanner=opts.scanner, file=opts.file)
        for name, text in units.items():
            out[name] = head + text
    return out


def systemctl(*args: str) -> None:
    """`systemctl --user ARGS`; JmoError with systemctl's first line when it fails."""
    binary = shutil.which("systemctl")
    if not binary:
        raise JmoError("systemctl not found: this machine does not run systemd; use --crontab")
    proc = subprocess.run([binary, "--user", *args], capture_output=True, text=True, env={**os.environ, **_C_ENV})
    if proc.returncode != 0:
        raise JmoError(f"systemctl --user {' '.join(args)} failed: {_first_line(proc.stderr.strip()) or f'exit {proc.returncode}'}")


def install_systemd(schedules: Sequence[ScanSchedule], opts: InstallOptions, source: str, *,
                    dry_run: bool = False) -> dict[str, str]:
    """Write the unit files, reload, enable the timers (disable suspended ones)."""
    files = systemd_files(schedules, opts, source)
    folder = systemd_user_dir()
    _refuse_foreign_units(folder, sorted(files))
    if dry_run:
        return files
    os.makedirs(folder, exist_ok=True)
    for name, text in files.items():
        atomic_write(os.path.join(folder, name), text, 0o644)
    systemctl("daemon-reload")
    for schedule in schedules:
        timer = f"jmo-{schedule.name}.timer"
        systemctl("disable" if schedule.spec.suspend else "enable", "--now", timer)
    return files


def _ours(path: str) -> bool | None:
    """Whether the unit at `path` carries the generated header (None: there is none)."""
    if not os.path.lexists(path):
        return None
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            return is_generated(fh.read())
    except (OSError, UnicodeDecodeError):
        return False


def _refuse_foreign_units(folder: str, names: Sequence[str]) -> None:
    """A JmoError, before anything is written, when a unit about to be written exists and
    was not written by jmo-schedule (no generated header, a link, not a file): it is the
    user's, as `sync` treats pipeline files."""
    foreign = [os.path.join(folder, n) for n in names if _ours(os.path.join(folder, n)) is False]
    if len(foreign) == 1:
        raise JmoError(f"{foreign[0]} exists and was not written by jmo-schedule; install will not replace it "
                       "(move it away, or rename the schedule)")
    if foreign:
        raise JmoError(f"{len(foreign)} unit files exist and were not written by jmo-schedule; install will not "
                       f"replace them (move them away, or rename the schedules): {', '.join(foreign)}")


def uninstall_systemd(names: Sequence[str] | None, *, dry_run: bool = False) -> list[str]:
    """Stop and remove the units this tool wrote (recognised by their header)."""
    folder = systemd_user_dir()
    try:
        entries = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    ours = []
    for entry in entries:
        m = re.match(r"^jmo-([a-z0-9-]+)\.(service|timer)$", entry)
        if not m or (names is not None and m.group(1) not in names):
            continue
        if _ours(os.path.join(folder, entry)):
            ours.append(entry)
    if dry_run or not ours:
        return ours
    for entry in ours:
        if entry.endswith(".timer"):
            systemctl("disable", "--now", entry)
    for entry in ours:
        os.unlink(os.path.join(folder, entry))
    systemctl("daemon-reload")
    return ours
