"""`jmo-schedule guard`: decide whether a scheduled scan job runs, and say why."""
from __future__ import annotations

import argparse
import sys

from ..local.resolve import find
from ..pipeline.guard import guard
from .options import add_now

DESCRIPTION = """\
The first step of a generated scan job. Prints one line, `run: <reason>` or
`skip: <reason>`, writes run=true|false and reason=... to $GITHUB_OUTPUT (when set) and
the decision to --dotenv PATH (GitLab: artifacts:reports:dotenv), and exits 0 either way so later
steps can be conditioned on it. Exit 1 only for bad input (unknown schedule, bad file).

Skips when the schedule is suspended; when a scheduled run starts more than
startingDeadlineSeconds after its nominal time (the latest fire time not after now, in
the schedule's time zone, DST-aware); and for concurrencyPolicy Forbid when an older run
of the same workflow is unfinished (GitHub: runs ordered by run number; needs GITHUB_TOKEN
with actions: read) or another pipeline of the same GitLab pipeline schedule was running
when this one was created (GitLab: found by the schedule's description through the
pipeline schedules API; needs JMO_GITLAB_TOKEN with read_api, since CI_JOB_TOKEN may not
read schedules). Replace cancels the older runs instead (GitHub: actions: write; GitLab:
JMO_GITLAB_TOKEN with api). A manual run (workflow_dispatch, a GitLab pipeline not started
by a schedule) always runs unless suspended. --dotenv writes JMO_GUARD_RUN=true|false and
JMO_GUARD_REASON=... (namespaced: dotenv report variables reach every later job of the
pipeline).

examples:
  jmo-schedule guard nightly-scan -f schedules.yaml
  jmo-schedule guard nightly-scan --now 2026-03-08T07:04:00Z      # as of a given time
  jmo-schedule guard weekly-scan --dotenv guard.env                # GitLab
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the schedule this job runs")
    parser.add_argument(
        "-f", "--file", metavar="FILE",
        help="schedules file (default: schedules.yaml when it exists, else the local store)",
    )
    add_now(parser, "decide as of this time (default: now)")
    parser.add_argument("--dotenv", metavar="PATH", help="also write JMO_GUARD_RUN=/JMO_GUARD_REASON= to this dotenv file (GitLab)")


def run(args: argparse.Namespace) -> int:
    schedule = find(args.name, args.file, repository=True).schedule
    decision = guard(schedule, now=args.now, dotenv=args.dotenv)
    sys.stdout.write(decision.line() + "\n")
    return 0
