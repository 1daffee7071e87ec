"""`jmo-schedule delete`: delete a schedule."""
from __future__ import annotations

import argparse
import sys

from ..errors import NotFoundError
from ..local.resolve import schedules
from .options import add_file

DESCRIPTION = """\
Delete one schedule from the local store (or with -f from a file, keeping its comments).
Exit 0 deleted, 1 not found.

example:
  jmo-schedule delete weekly-scan"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    add_file(parser)


def run(args: argparse.Namespace) -> int:
    manager = schedules(args.file)
    if not manager.delete(args.name):
        raise NotFoundError(f"schedule {args.name!r} not found in {manager.path}")
    sys.stdout.write(f"scanschedule/{args.name} deleted\n")
    return 0
