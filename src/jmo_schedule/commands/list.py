"""`jmo-schedule list`: list schedules, with the next run of each."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from ..core.cron import describe, next_runs
from ..core.masking import masked_schedule_dict
from ..core.model import API_VERSION, LIST_KIND, ScanSchedule
from ..printable import printable
from ..core.timefmt import local_time
from ..local.resolve import schedules
from .get import render
from .options import add_file, add_now

DESCRIPTION = """\
List schedules with their next run in each schedule's own time zone.
Columns: NAME SCHEDULE TIMEZONE BACKEND SUSPENDED NEXT RUN; -o wide adds PROFILE,
CONCURRENCY, LABELS and a description. Exit 0 (also when none match), 1 bad selector.

examples:
  jmo-schedule list
  jmo-schedule list -l 'environment=production,team in (backend,security)'
  jmo-schedule list -f schedules.yaml -o wide
  jmo-schedule list -o json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    parser.add_argument("-l", "--selector", metavar="SELECTOR",
                        help="label selector, e.g. 'env=prod,tier!=web,team in (a,b),!legacy'")
    parser.add_argument("-o", "--output", choices=("table", "wide", "json", "yaml"), default="table",
                        help="output format (default table)")
    add_now(parser)


def run(args: argparse.Namespace) -> int:
    manager = schedules(args.file)
    found = manager.list(selector=args.selector)
    if args.output in ("json", "yaml"):
        items = [masked_schedule_dict(s.to_dict(include_status=not args.file)) for s in found]
        sys.stdout.write(render({"apiVersion": API_VERSION, "kind": LIST_KIND, "items": items}, args.output))
        return 0
    if not found:
        sys.stderr.write(f"no schedules{' match ' + repr(args.selector) if args.selector else ''} in {manager.path}\n")
        return 0
    now = args.now or datetime.now(timezone.utc)
    header = ["NAME", "SCHEDULE", "TIMEZONE", "BACKEND", "SUSPENDED", "NEXT RUN"]
    if args.output == "wide":
        header += ["PROFILE", "CONCURRENCY", "LABELS", "DESCRIPTION"]
    rows = [header]
    for s in found:
        row = [s.metadata.name, s.spec.schedule, s.spec.timezone, s.spec.backend.type,
               "yes" if s.spec.suspend else "no", _next_cell(s, now)]
        if args.output == "wide":
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.metadata.labels.items())) or "<none>"
            row += [s.spec.jobTemplate.profile, s.spec.concurrencyPolicy, labels, describe(s.spec.schedule, s.spec.timezone)]
        rows.append([printable(cell) for cell in row])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        sys.stdout.write("   ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() + "\n")
    return 0


def _next_cell(schedule: ScanSchedule, now: datetime) -> str:
    if schedule.spec.suspend:
        return "-"
    runs = next_runs(schedule.spec.schedule, schedule.spec.timezone, now, 1)
    return local_time(runs[0], schedule.spec.timezone) if runs else "never"
