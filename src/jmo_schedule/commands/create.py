"""`jmo-schedule create`: create the schedules of a file in the local store."""
from __future__ import annotations

import argparse
import sys

from ..errors import AlreadyExistsError
from ..local.resolve import schedules
from .apply import load_for_store

DESCRIPTION = """\
Create each schedule of FILE in the local store; a name that is already stored is an
error (use apply to update). Exit 0 ok, 1 invalid file or name taken, 2 usage.

example:
  jmo-schedule create -f schedules.yaml"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", required=True, help="YAML or JSON file with ScanSchedule objects")


def run(args: argparse.Namespace) -> int:
    store = schedules()
    new = load_for_store(args.file)
    # All or nothing: a name already taken stops the command before anything is created.
    taken = [s.metadata.name for s in new if store.get(s.metadata.name) is not None]
    if taken:
        raise AlreadyExistsError(
            f"{', '.join(repr(n) for n in taken)} already exist{'s' if len(taken) == 1 else ''} in "
            f"{store.path}; nothing was created (use apply to update)"
        )
    for schedule in new:
        store.create(schedule)
        sys.stdout.write(f"scanschedule/{schedule.metadata.name} created\n")
    return 0
