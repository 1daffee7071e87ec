"""`jmo-schedule run NAME`: the scheduled scan due now on this machine (cron and systemd call it)."""
from __future__ import annotations

import argparse
import sys

from ..local.runner import run_schedule
from .options import add_now

DESCRIPTION = """\
What the installed crontab lines / systemd timers call at every minute they fire: the scan
due now, decided the way a Kubernetes CronJob controller decides. To start one run by hand,
use `jmo-schedule trigger NAME` (a manual run, on any backend).

It takes the schedule's latest fire time not after --now (default: the clock) in
spec.timezone. Nothing happens (exit 0) when that time was already handled or predates the
schedule. Otherwise the run is skipped and recorded when the schedule is suspended, when it
starts later than startingDeadlineSeconds, or when concurrencyPolicy is Forbid and a run is
still active; Replace stops the active run first, Allow runs side by side. The scan and the
report write into <results.dir>/NAME/<UTC time>/ (their output in run.log there), within
options.timeout seconds. Status goes to the local store, the run to `jmo-schedule history`.

cron passes almost no environment: variables such as a webhook secret named by
${SLACK_WEBHOOK_URL} can go in $JMO_HOME/env (KEY=VALUE lines, owner-only).

Exit status: the scan's (or the report's, e.g. 1 for findings at or above fail_on); 0 when
skipped; 124 on timeout; 143 when replaced or stopped.

--now is the clock cron gives: the minute the scheduler fired. Another time makes `run`
act as if it fired then (for tests and replays); it does not start a run by hand.

examples:
  jmo-schedule run weekly-scan                                  what cron runs
  jmo-schedule run weekly-scan --now 2026-11-30T07:00:00Z      as if cron fired then
  jmo-schedule run weekly-scan --scanner /opt/jmo/bin/jmo       a scanner not on PATH
  jmo-schedule run nightly-scan -f schedules.yaml               read the schedule from a file
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="schedule to run")
    add_now(parser, "the minute the scheduler fired (default: the clock); decides the fire time it is for")
    parser.add_argument("--scanner", metavar="CMD",
                        help="command that replaces `jmo` (default: $JMO_SCANNER, backend.config.scanner, jmo)")
    parser.add_argument("-f", "--file", metavar="FILE",
                        help="read the schedule from this file instead of the local store (status is kept with its history)")


def run(args: argparse.Namespace) -> int:
    outcome = run_schedule(args.name, file=args.file, now=args.now, scanner=args.scanner)
    sys.stdout.write(outcome.line(args.name) + "\n")
    sys.stdout.flush()
    return outcome.exit_code
