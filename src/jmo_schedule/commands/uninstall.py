"""`jmo-schedule uninstall`: remove installed crontab entries or systemd user timers."""
from __future__ import annotations

import argparse
import os
import re
import sys

from ..core.plural import counted
from ..local import crontab as ct
from ..local import history as run_history
from .install import add_common

DESCRIPTION = """\
Remove what `jmo-schedule install` put in place. From the crontab only the lines between
jmo-schedule's markers go (all of them, or the entries of each NAME); your own lines stay
byte for byte, and a crontab that held nothing else is removed. With --systemd the
jmo-NAME timers are stopped and their unit files (only those this tool wrote) deleted.
Run history and results stay.

examples:
  jmo-schedule uninstall                 every jmo-schedule entry of your crontab
  jmo-schedule uninstall weekly-scan     one schedule's entry
  jmo-schedule uninstall --systemd       the systemd user timers
  jmo-schedule uninstall --dry-run       print the crontab it would leave
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser, "uninstall")


def _forget_install(names: list[str]) -> None:
    """A later install starts afresh: fire times before it are not caught up."""

    for name in names:
        if os.path.exists(run_history.history_path(name)):
            with run_history.editing(name) as data:
                data.pop("installedAt", None)


def run(args: argparse.Namespace) -> int:
    names = list(dict.fromkeys(args.names)) or None
    if args.target == "systemd":
        removed = ct.uninstall_systemd(names, dry_run=args.dry_run)
        verb = "would remove" if args.dry_run else "removed"
        for entry in removed:
            sys.stdout.write(f"{verb} {entry}\n")
        if not args.dry_run:
            _forget_install(sorted({re.sub(r"^jmo-|\.(service|timer)$", "", e) for e in removed}))
        if not removed:
            sys.stdout.write("no jmo-schedule units installed\n")
        return 0
    removed, text = ct.uninstall_crontab(names, user=args.crontab_user, dry_run=args.dry_run)
    if args.dry_run:
        ct.print_table(text)
        return 0
    _forget_install(removed)
    missing = [n for n in names or [] if n not in removed]
    for name in missing:
        sys.stderr.write(f"{name}: not installed in the crontab\n")
    if removed:
        sys.stdout.write(f"removed {counted(len(removed), 'schedule')} ({', '.join(removed)}) from the crontab\n")
    else:
        sys.stdout.write("nothing to remove from the crontab\n")
    return 0
