"""`jmo-schedule history NAME`: the recorded local runs of a schedule."""
from __future__ import annotations

import argparse
import json
import sys

from ..core.model import SEVERITIES
from ..printable import printable
from ..core.timefmt import compact_duration, parse_timestamp
from ..local.history import history_path, read
from ..local.runlock import is_active
from .options import count

DESCRIPTION = """\
List the runs `jmo-schedule run` recorded for a schedule, oldest first: when each started,
what started it (schedule: a fire time; manual: `jmo-schedule trigger`), how long it took,
its result and reason, the findings summary and the results folder ("pruned" once the
history limits removed it). Skipped runs are listed with their reason.

examples:
  jmo-schedule history weekly-scan
  jmo-schedule history weekly-scan -n 5          the last five runs
  jmo-schedule history weekly-scan -o json       machine-readable
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="schedule")
    parser.add_argument("-n", "--last", type=count, metavar="N", help="show only the last N runs")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table", help="output format (default table)")


def _duration(record: dict) -> str:
    start, end = parse_timestamp(record.get("startTime")), parse_timestamp(record.get("endTime"))
    if record.get("result") == "Skipped":
        return "-"
    if start is None or end is None:
        return "running" if record.get("result") == "Running" else "-"
    return compact_duration((end - start).total_seconds())


def _findings(record: dict) -> str:
    findings = record.get("findings")
    if not isinstance(findings, dict):
        return "-"

    counts = findings.get("counts") or {}
    parts = [f"{counts[sev]} {sev.lower()}" for sev in SEVERITIES if counts.get(sev)]
    return ", ".join(parts) if parts else "no findings"


def run(args: argparse.Namespace) -> int:
    # A record that is not a mapping (a hand-edited file) is no run to show.
    runs = [r for r in read(args.name)["runs"] if isinstance(r, dict)]
    for r in runs:
        # A run whose process is gone but that recorded no result crashed; the next run
        # records that, until then say so here.
        if r.get("result") == "Running" and not is_active(args.name, str(r.get("id"))):
            r.update(result="Failed", reason="Crashed", message="the runner ended without recording a result")
    if args.last:
        runs = runs[-args.last:]
    if args.output == "json":
        sys.stdout.write(json.dumps(runs, indent=2) + "\n")
        return 0
    if not runs:
        sys.stderr.write(f"no runs recorded for {args.name!r} ({history_path(args.name)})\n")
        return 0
    rows = [["STARTED", "TRIGGER", "DURATION", "RESULT", "REASON", "FINDINGS", "RESULTS"]]
    for r in runs:
        folder = r.get("resultsDir") or "-"
        if r.get("pruned"):
            folder = f"(pruned) {folder}"
        row = [str(r.get("startTime") or "-"), str(r.get("trigger") or "schedule"), _duration(r),
               str(r.get("result") or "-"), str(r.get("reason") or "-"), _findings(r), str(folder)]
        # A record is a file anyone may edit: no terminal escape sequence reaches the screen.
        rows.append([printable(cell) for cell in row])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        sys.stdout.write("   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
    return 0
