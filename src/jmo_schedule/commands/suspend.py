"""`jmo-schedule suspend`: set spec.suspend: true on one schedule (`resume` sets it false)."""
from __future__ import annotations

import argparse
import sys

from ..local.resolve import schedules
from .options import add_file



def description(verb: str) -> str:
    """The help of `suspend` and `resume`."""
    value = "true" if verb == "suspend" else "false"
    return (f"Set spec.suspend: {value} on one schedule (local store, or -f FILE keeping its\n"
            "comments). A suspended schedule keeps its definition but does not run.\n"
            f"Exit 0 done (or already so), 1 not found.\n\nexample:\n  jmo-schedule {verb} weekly-scan")


DESCRIPTION = description("suspend")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    add_file(parser)


def set_suspend(name: str, file: str | None, suspend: bool) -> int:
    """Set spec.suspend of `name` (in `file`, else the local store) and say what happened."""
    manager = schedules(file)
    schedule = manager.require(name)
    if schedule.spec.suspend == suspend:
        sys.stdout.write(f"scanschedule/{name} already {'suspended' if suspend else 'active'}\n")
        return 0
    schedule.spec.suspend = suspend
    manager.update(schedule)
    sys.stdout.write(f"scanschedule/{name} {'suspended' if suspend else 'resumed'}\n")
    return 0


def run(args: argparse.Namespace) -> int:
    return set_suspend(args.name, args.file, True)
