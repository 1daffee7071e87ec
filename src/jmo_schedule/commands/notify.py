"""`jmo-schedule notify`: post the Slack success/failure message of a scan run."""
from __future__ import annotations

import argparse

DESCRIPTION = """\
Post the Slack message of one scan run: status, run link, commit and author, duration
and the findings summary of the results folder (summaries/findings.json or .sarif),
or on failure the error message and a link to the logs.

Channels, first that applies:
  --webhook URL-or-${VAR}     one webhook (quote ${VAR} so the shell leaves it alone)
  the schedule's channels      notifications.channels[].url: ${VAR} from the environment
  $SLACK_WEBHOOK_URL           when the schedule names none

Exit codes: 0 when every channel got the message, and also when one did not (a warning
is printed: a Slack outage must not fail a passed scan); with --strict, 1 when any
channel failed. 1 for bad input (unknown schedule, unreadable file); 2 for usage errors.
Webhook URLs are never printed; on GitHub Actions they are masked with ::add-mask::.

examples:
  jmo-schedule notify --status success --schedule nightly-scan -f schedules.yaml
  jmo-schedule notify --status failure --schedule nightly-scan --message "scan step failed"
  jmo-schedule notify --status success --results results --webhook '${SLACK_WEBHOOK_URL}'
  jmo-schedule notify --status success --schedule nightly-scan --dry-run   # print the JSON
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", required=True, choices=("success", "failure"), help="how the scan ended")
    parser.add_argument("--schedule", metavar="NAME", help="the schedule that ran (channels, fail_on, results folder)")
    parser.add_argument(
        "-f", "--file", metavar="FILE",
        help="schedules file to read NAME from (default: schedules.yaml when it exists, else the local store)",
    )
    parser.add_argument(
        "--results", metavar="DIR",
        help="results folder with summaries/findings.json or findings.sarif (default: the schedule's results.dir, else results)",
    )
    parser.add_argument(
        "--webhook", metavar="URL|${VAR}",
        help="post to this webhook instead of the schedule's channels; prefer '${VAR}' over a literal URL",
    )
    parser.add_argument("--message", metavar="TEXT", help="the error (failure) or a note (success) to include")
    parser.add_argument(
        "--sarif-upload", metavar="OUTCOME", default="",
        help="outcome of the run's SARIF upload step (GitHub: steps.<id>.outcome); failure adds a note to the message",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when any channel did not get the message")
    parser.add_argument("--dry-run", action="store_true", help="print the payload JSON and send nothing")


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from ..notify import notify_schedule, resolve_channels, run_notes, secrets_of
    from ..slack import add_mask_commands, payload_json

    env = os.environ
    schedule = load_schedule(args.schedule, args.file) if args.schedule else None
    results = args.results
    if results is None and schedule is None:
        results = "results"

    channels, _ = resolve_channels(schedule, webhook=args.webhook, env=env)
    if env.get("GITHUB_ACTIONS") == "true" and not args.dry_run:  # a dry run prints no URL
        masks = add_mask_commands(secrets_of(channels))
        if masks:
            sys.stdout.write("\n".join(masks) + "\n")
            sys.stdout.flush()

    outcome = notify_schedule(
        schedule, args.status, results_dir=results, message=args.message, env=env,
        webhook=args.webhook, dry_run=args.dry_run, notes=run_notes(args.sarif_upload),
    )
    if args.dry_run:
        sys.stdout.write(payload_json(outcome.payload) + "\n")
        if outcome.channels:
            names = ", ".join(c.label for c in outcome.channels)
            sys.stderr.write(f"dry run: would send to {names}\n")
        for c in outcome.channels:
            if c.url is None:
                sys.stderr.write(f"jmo-schedule: warning: {c.label}: {c.problem}\n")
        if not outcome.channels and outcome.note:
            sys.stderr.write(f"dry run: {outcome.note}\n")
        return 0
    if not outcome.results:
        disabled = bool(outcome.note and "disabled" in outcome.note)
        if disabled:
            sys.stdout.write(f"notify: {outcome.note}; nothing sent\n")
            return 0
        sys.stderr.write(f"jmo-schedule: warning: notify: {outcome.note}\n")
        return 1 if args.strict else 0
    for r in outcome.results:
        if r.ok:
            sys.stdout.write(f"notify: {r}\n")
        else:
            sys.stderr.write(f"jmo-schedule: warning: notify: {r}\n")
    if not outcome.ok:
        failed = len(outcome.failures)
        tail = "exit 1 (--strict)" if args.strict else "not failing the job (use --strict to)"
        sys.stderr.write(
            f"jmo-schedule: warning: notify: {failed} of {len(outcome.results)} channel"
            f"{'s' if len(outcome.results) != 1 else ''} did not get the message; {tail}\n"
        )
    return outcome.exit_code(args.strict)


def load_schedule(name: str, path: str | None):  # -> ScanSchedule
    """The named schedule from `path`, else ./schedules.yaml when present, else the local store."""
    import os

    from ..errors import NotFoundError

    if path is None and os.path.isfile("schedules.yaml"):
        path = "schedules.yaml"
    if path is None:
        from ..manager import ScheduleManager

        return ScheduleManager().require(name)
    from ..loader import load_file

    for schedule in load_file(path):
        if schedule.metadata.name == name:
            return schedule
    raise NotFoundError(f"schedule {name!r} not found in {path}")
