"""`jmo-schedule calendar`: every run of every schedule in a window, as a table, JSON or iCalendar."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta, timezone

from .._version import __version__
from ..core import calendar_view
from ..core.model import ScanSchedule
from ..core.repo_identity import identify
from ..errors import NotFoundError, UsageError
from ..local.resolve import schedules
from .options import DEFAULT_FILE, iso_time

DEFAULT_DAYS = 7
MAX_DAYS = 366

DESCRIPTION = f"""\
Every run in the window, across all schedules (or the NAMEs given), in UTC and in each
schedule's own zone, by the same time semantics as next, guard and run. A run that a
daylight-saving change moved says so and names the rule: spring-forward (its wall time
does not exist that day: it runs once, at the first instant after the gap) or fall-back
(its wall time occurs twice: it runs once, at the first). Runs of two schedules of one
backend in the same minute are marked as collisions (the platform starts them together).
An H cron shows what it resolved to. Suspended schedules have no runs.

Schedules come from -f FILE; else ./{DEFAULT_FILE} when it exists; else the local store.
The window is (--from, --to]: by default the next {DEFAULT_DAYS} days from now, at most {MAX_DAYS} days.

-o ics writes an RFC 5545 calendar (one event per run, UIDs stable per repository,
schedule and fire time) that a team can subscribe to, e.g. published by the sync job.

examples:
  jmo-schedule calendar                                  the coming week
  jmo-schedule calendar nightly weekly -f schedules.yaml
  jmo-schedule calendar --from 2026-03-01T00:00:00Z --to 2026-04-01T00:00:00Z -o json
  jmo-schedule calendar -o ics > scans.ics
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", metavar="NAME", nargs="*", help="only these schedules (default: all)")
    parser.add_argument("-f", "--file", metavar="FILE",
                        help=f"schedules file (default: ./{DEFAULT_FILE} when it exists, else the local store)")
    parser.add_argument("--from", dest="start", type=iso_time, metavar="TIME",
                        help="start of the window, ISO 8601 (default: now)")
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--to", dest="end", type=iso_time, metavar="TIME",
                        help=f"end of the window, ISO 8601 (default: {DEFAULT_DAYS} days after --from)")
    window.add_argument("--days", type=_days, metavar="N",
                        help=f"the window is N days from --from (1-{MAX_DAYS}; what a CI job publishes)")
    parser.add_argument("-o", "--output", choices=("text", "json", "ics"), default="text",
                        help="output format (default text)")
    parser.add_argument("--now", type=iso_time, metavar="ISO8601",
                        help="the clock: default --from, and the calendar's DTSTAMP (default: now)")


def load(names: list[str], path: str | None) -> tuple[list[ScanSchedule], str]:
    """The schedules to show, and the file (or store) they came from."""
    if path is None and os.path.isfile(DEFAULT_FILE):
        path = DEFAULT_FILE
    manager = schedules(path, existing=True)
    found, source = manager.items(), manager.path
    if names:
        by_name = {s.name: s for s in found}
        missing = [n for n in dict.fromkeys(names) if n not in by_name]
        if missing:
            raise NotFoundError(f"schedule {', '.join(repr(n) for n in missing)} not found in {source}")
        found = [by_name[n] for n in dict.fromkeys(names)]
    return found, source


def _days(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected a whole number of days from 1 to {MAX_DAYS}, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    now = args.now or datetime.now(timezone.utc)
    start = args.start or now
    end = args.end or start + timedelta(days=args.days or DEFAULT_DAYS)
    if end <= start:
        raise UsageError("--to must be later than --from")
    if end - start > timedelta(days=MAX_DAYS):
        raise UsageError(f"the window is longer than {MAX_DAYS} days; ask for less (--from/--to)")
    found_schedules, source = load(args.names, args.file)
    found = calendar_view.runs(found_schedules, start, end)
    if args.output == "json":
        text = calendar_view.render_json(found)
    elif args.output == "ics":
        text = calendar_view.render_ics(found, identify(source), now, __version__)
    else:
        text = calendar_view.render_text(found, found_schedules, start, end)
    # ICS lines end in CRLF: write bytes so no platform newline translation touches them.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0
