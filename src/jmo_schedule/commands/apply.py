"""`jmo-schedule apply`: create or update the schedules of a file in the local store."""
from __future__ import annotations

import argparse
import sys

from ..core.loader import check_file
from ..core.model import ScanSchedule
from ..errors import ValidationError
from ..local.resolve import schedules

DESCRIPTION = """\
Create each schedule of FILE in the local store, or bring the stored one in line with
it (spec, labels, annotations), like kubectl apply. Prints created/configured/unchanged.
A file with any error changes nothing. Exit 0 ok, 1 invalid file, 2 usage.

example:
  jmo-schedule apply -f schedules.yaml"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", required=True, help="YAML or JSON file with ScanSchedule objects")


def load_for_store(path: str) -> list[ScanSchedule]:
    """The schedules of `path`, checked as the store takes them (a literal webhook URL may
    go into the private store); its warnings go to stderr, its errors raise."""
    result = check_file(path, committed=False)
    for problem in result.warnings:
        sys.stderr.write(f"{problem}\n")
    if result.errors:
        raise ValidationError(result.errors)
    return result.schedules


def run(args: argparse.Namespace) -> int:
    store = schedules()
    for schedule in load_for_store(args.file):
        sys.stdout.write(f"scanschedule/{schedule.metadata.name} {store.apply(schedule)}\n")
    return 0
