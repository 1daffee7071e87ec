"""`jmo-schedule next`: the next run times of a schedule, or of every schedule of a file."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from ..core.cron import describe, next_runs
from ..core.hcron import note
from ..core.timefmt import local_time, rfc3339
from ..errors import NotFoundError, UsageError
from ..local.resolve import schedules
from .options import add_file, add_now, count

DESCRIPTION = """\
Print the next run times, in the schedule's zone and in UTC, following the DST rules
(a time skipped by spring-forward runs at the end of the gap; a repeated time runs once).
NAME reads the local store; -f FILE reads a file (all its schedules, or NAME).
Exit 0 ok, 1 not found or invalid file, 2 neither NAME nor -f given.

examples:
  jmo-schedule next weekly-scan --count 10
  jmo-schedule next -f schedules.yaml
  jmo-schedule next nightly-scan -f schedules.yaml --now 2026-03-07T12:00:00Z"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", nargs="?", help="schedule name (all schedules of -f FILE when omitted)")
    add_file(parser, "read schedules from this file")
    parser.add_argument("-n", "--count", type=count, default=5, help="how many runs (default 5)")
    add_now(parser)


def run(args: argparse.Namespace) -> int:
    if not args.name and not args.file:
        raise UsageError("name a schedule (jmo-schedule next NAME) or a file (jmo-schedule next -f FILE)")
    manager = schedules(args.file, existing=True)
    found = manager.items()
    if args.name:
        found = [s for s in found if s.metadata.name == args.name]
        if not found:
            raise NotFoundError(f"schedule {args.name!r} not found in {manager.path}")
    now = args.now or datetime.now(timezone.utc)
    blocks = []
    for s in found:
        spec = s.spec
        lines = [f"{s.metadata.name}: {spec.schedule}{note(spec)}  {describe(spec.schedule, spec.timezone)}"]
        if spec.suspend:
            lines.append("  suspended: no runs")
        else:
            for when in next_runs(spec.schedule, spec.timezone, now, args.count):
                lines.append(f"  {local_time(when, spec.timezone):<24} {rfc3339(when)}")
        blocks.append("\n".join(lines))
    sys.stdout.write("\n".join(blocks) + "\n")
    return 0
