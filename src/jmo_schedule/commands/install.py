"""`jmo-schedule install`: put schedules into the user's crontab or systemd user timers."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import datetime, timezone

from ..core.files import ensure_private_dir, jmo_home
from ..core.plural import counted
from ..core.timefmt import rfc3339
from ..errors import JmoError
from ..local import crontab as ct
from ..local import history as run_history
from ..local.resolve import schedules
from ..local.runner import SCANNER_ENV

DESCRIPTION = """\
Install local-cron schedules so this machine runs them: each entry calls
`jmo-schedule run NAME` by its absolute path, from the current folder (relative
results.dir and targets resolve there), appending to $JMO_HOME/logs/NAME.log.

--crontab (default) writes the entries into your crontab between two marker comments,
through the real `crontab` command: your own lines are kept byte for byte, installing again
changes nothing. cron has no time zone, so each schedule is translated into this machine's
zone (covering daylight-saving changes); `run` re-checks the real zone. A suspended
schedule's lines are written commented out.
--systemd writes jmo-NAME.service / jmo-NAME.timer into ~/.config/systemd/user
(OnCalendar= in the schedule's own zone) and enables the timers.

Entries need something to fire them. With --crontab, install warns when no cron daemon
runs on this machine. With --systemd it needs your systemd user manager: without one it
fails before writing anything (`loginctl enable-linger USER` starts one at boot), and it
warns when lingering is off, since the timers then stop when you log out.

Without NAME every local-cron schedule is installed and entries of schedules that are gone
are removed; with NAMEs only those entries change.

examples:
  jmo-schedule install                       every local-cron schedule of the local store
  jmo-schedule install weekly-scan --dry-run print the crontab it would install
  jmo-schedule install -f schedules.yaml     schedules from a file (runs read that file)
  jmo-schedule install --systemd             systemd user timers instead of cron
  crontab -l                                 check the result
"""


def add_common(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("names", metavar="NAME", nargs="*", help=f"schedules to {verb} (default: all)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--crontab", dest="target", action="store_const", const="crontab",
                       help="the user's crontab (default)")
    where.add_argument("--systemd", dest="target", action="store_const", const="systemd",
                       help="systemd user units in ~/.config/systemd/user")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; change nothing")
    parser.add_argument("--crontab-user", metavar="USER",
                        help="edit USER's crontab (crontab -u USER; needs root)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser, "install")
    parser.add_argument("-f", "--file", metavar="FILE",
                        help="install the schedules of this file (the entries run them with -f FILE)")


def _listed(schedules: list) -> str:
    """`2 schedules (nightly, weekly-scan)`, `0 schedules`."""
    names = ", ".join(s.name for s in schedules)
    return counted(len(schedules), "schedule") + (f" ({names})" if names else "")


def _selected(args: argparse.Namespace) -> tuple[list, str]:
    manager = schedules(args.file)
    source = args.file or manager.path
    if not args.names:
        return [s for s in manager.list() if s.spec.backend.type == "local-cron"], source
    out = []
    for name in dict.fromkeys(args.names):
        schedule = manager.require(name)
        if schedule.spec.backend.type != "local-cron":
            raise JmoError(f"schedule {name!r} uses backend {schedule.spec.backend.type}; only local-cron "
                           "schedules run on this machine (set spec.backend.type: local-cron)")
        out.append(schedule)
    return out, source


def _warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")


def check_systemd(dry_run: bool) -> None:
    """Fail (warn for a dry run) when no user systemd manager would start the timers; warn
    when it would stop them at logout. Runs before anything is written."""
    user = ct.login_name()
    if ct.user_manager_state() is None:
        message = (f"no systemd user manager is running for {user} (systemctl --user cannot reach it), so nothing "
                   f"would start the timers: as root run `loginctl enable-linger {user}` (it starts one at boot and "
                   "keeps it after logout), or log in to a session that starts one; then install again, or use --crontab")
        if not dry_run:
            raise JmoError(message)
        _warn(message)
    elif not ct.lingering(user):
        _warn(f"the timers run only while {user} is logged in: run `loginctl enable-linger {user}` so they keep "
              "running after logout")


def check_cron() -> None:
    """Warn when no cron daemon runs here: the entries would never fire."""
    if ct.cron_daemon() == "":
        other = "; or use --systemd" if ct.user_manager_state() is not None else ""
        _warn("no cron daemon is running on this machine (no cron, crond, cronie or fcron process): the entries "
              f"will not fire until one runs (Debian/Ubuntu: sudo systemctl enable --now cron){other}")


def run(args: argparse.Namespace) -> int:
    schedules, source = _selected(args)
    if args.target == "systemd":
        check_systemd(args.dry_run)
    if not schedules and args.names == []:
        sys.stderr.write(f"no local-cron schedules in {source}\n")
    file = os.path.abspath(args.file) if args.file else None
    scanner = None
    if not os.environ.get(SCANNER_ENV):
        scanner = shutil.which("jmo")
        if scanner is None and any(not (s.spec.backend.config or {}).get("scanner") for s in schedules):
            sys.stderr.write("warning: the scanner `jmo` is not on PATH; the runs will fail until it is installed "
                             "(or set backend.config.scanner)\n")
    else:
        scanner = os.environ[SCANNER_ENV]
    log_dir = os.path.join(jmo_home(), "logs")
    opts = ct.InstallOptions(
        executable=ct.executable(), log_dir=log_dir, workdir=os.getcwd(), scanner=scanner, file=file,
        machine_zone=ct.machine_zone(),
    )
    if not args.dry_run:
        ensure_private_dir(jmo_home())
        ensure_private_dir(log_dir)
    if args.target == "systemd":
        files = ct.install_systemd(schedules, opts, source, dry_run=args.dry_run)
        folder = ct.systemd_user_dir()
        for name, unit in files.items():
            if args.dry_run:
                sys.stdout.write(f"# {os.path.join(folder, name)}\n{unit}\n")
            else:
                sys.stdout.write(f"wrote {os.path.join(folder, name)}\n")
        if not args.dry_run:
            sys.stdout.write(f"installed {_listed(schedules)} as systemd user timers\n")
    else:
        text, changed = ct.install_crontab(schedules, opts, replace_all=not args.names,
                                           user=args.crontab_user, dry_run=args.dry_run)
        if args.dry_run:
            ct.print_table(text)
        else:
            who = f"the crontab of {args.crontab_user}" if args.crontab_user else "your crontab"
            verb = "installed" if changed else "already up to date:"
            sys.stdout.write(f"{verb} {_listed(schedules)} in {who} (cron zone {opts.machine_zone})\n")
        check_cron()
    if not args.dry_run:
        now = rfc3339(datetime.now(timezone.utc))
        for schedule in schedules:
            with run_history.editing(schedule.name) as data:
                data["installedAt"] = data.get("installedAt") or now
    return 0
