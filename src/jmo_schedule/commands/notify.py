"""`jmo-schedule notify`: post the Slack success/failure message of a scan run."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

from ..core.files import atomic_write
from ..errors import JmoError
from ..pipeline.notify import add_mask_commands, notify_schedule, resolve_channels, run_notes, secrets_of
from ..pipeline.slack_message import payload_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..pipeline.baseline import Baseline

# notify runs at the end of every scheduled scan, with a start-up budget (bench/notify.py):
# what only some runs need (a schedules file, a baseline, the guard's dotenv, the local
# history) is imported where it is used.


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

Each channel gets the message when its events take it (notifications.channels[].events:
success, failure, new-findings, skipped; default success and failure): a failure reaches
every channel; a success goes to success channels, and to new-findings channels when a
finding not in --baseline DIR (the previous run's results) is at or above their minSeverity.

Inside a GitLab job's after_script, --status takes $CI_JOB_STATUS as it is (failed,
canceled and timedout are a failure); --guard FILE makes it a skip, told to the channels
with skipped, when the guard's dotenv says it skipped the run; --once FILE sends at most once per FILE (a later job that finds it
sends nothing). --gitlab-schedule names the schedule the pipeline schedule started
(its description 'jmo-schedule: NAME', else $JMO_SCHEDULE).

examples:
  jmo-schedule notify --status success --schedule nightly-scan -f schedules.yaml
  jmo-schedule notify --status failure --schedule nightly-scan --message "scan step failed"
  jmo-schedule notify --status success --results results --webhook '${SLACK_WEBHOOK_URL}'
  jmo-schedule notify --status success --schedule nightly-scan --baseline previous-results
  jmo-schedule notify --status success --schedule nightly-scan --dry-run   # print the JSON
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status", required=True, choices=("success", "failure", "skipped", *GITLAB_FAILURES),
        help="how the scan ended (GitLab's $CI_JOB_STATUS words failed, canceled and timedout mean failure; "
        "skipped: the guard's skip, --message its reason)",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--schedule", metavar="NAME", help="the schedule that ran (channels, fail_on, results folder)")
    who.add_argument(
        "--gitlab-schedule", action="store_true",
        help="the schedule whose GitLab pipeline schedule started this pipeline "
        "($CI_PIPELINE_SCHEDULE_DESCRIPTION 'jmo-schedule: NAME', else $JMO_SCHEDULE)",
    )
    parser.add_argument(
        "-f", "--file", metavar="FILE",
        help="schedules file to read NAME from (default: schedules.yaml when it exists, else the local store)",
    )
    parser.add_argument(
        "--results", metavar="DIR",
        help="results folder with summaries/findings.json or findings.sarif (default: the schedule's results.dir, else results)",
    )
    parser.add_argument(
        "--baseline", metavar="DIR",
        help="the previous run's results folder: the message says what is new, fixed and open "
        "(missing or empty: the first run)",
    )
    parser.add_argument(
        "--fetch-baseline", action="store_true",
        help="compare with the previous run's results, fetched from the CI platform (GitHub: the "
        "jmo-results-NAME artifact, actions: read; GitLab: the jmo-scan-NAME job's artifacts with "
        "$JMO_GITLAB_TOKEN, else $CI_JOB_TOKEN) or the local run history",
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
    parser.add_argument("--guard", metavar="FILE",
                        help="the guard's dotenv file: when it skipped the run, tell only the channels with skipped")
    parser.add_argument("--once", metavar="FILE", help="send nothing when FILE exists; write it after deciding")
    parser.add_argument("--dry-run", action="store_true", help="print the payload JSON and send nothing")


# GitLab's $CI_JOB_STATUS in after_script besides `success`, and what each means in the message.
GITLAB_FAILURES = {
    "failed": None,
    "canceled": "the scan job was canceled",
    "timedout": "the scan job timed out",
}


def run(args: argparse.Namespace) -> int:
    env = os.environ
    if args.once and os.path.exists(args.once):
        sys.stdout.write(f"notify: {args.once} exists: this run's message was already handled; nothing sent\n")
        return 0
    skipped = _guard_skip(args.guard) if args.guard else None
    if skipped is not None:
        args.status, args.message = "skipped", f"the guard skipped this run: {skipped}"
    if args.status in GITLAB_FAILURES:
        args.message = args.message or GITLAB_FAILURES[args.status]
        args.status = "failure"
    name = args.schedule
    if args.gitlab_schedule:
        from ..core.gitlab_names import schedule_name_from_env

        name = schedule_name_from_env(env)
        if name is None:
            raise JmoError("--gitlab-schedule: this pipeline was not started by a jmo-schedule pipeline schedule "
                           "(no $CI_PIPELINE_SCHEDULE_DESCRIPTION 'jmo-schedule: NAME' nor $JMO_SCHEDULE)")
    schedule = None
    if name:
        from ..local.resolve import find

        schedule = find(name, args.file, repository=True).schedule
    results = args.results
    if results is None and schedule is None:
        results = "results"

    channels, _ = resolve_channels(schedule, webhook=args.webhook, env=env)
    if env.get("GITHUB_ACTIONS") == "true" and not args.dry_run:  # a dry run prints no URL
        masks = add_mask_commands(secrets_of(channels))
        if masks:
            sys.stdout.write("\n".join(masks) + "\n")
            sys.stdout.flush()

    with tempfile.TemporaryDirectory(prefix="jmo-baseline-") as fetched_to:
        baseline, no_baseline = args.baseline, None
        if args.fetch_baseline and args.status != "skipped" and not args.baseline and name:
            from ..pipeline.baseline import describe as describe_baseline, fetch as fetch_baseline
            from ..pipeline.ci_env import LOCAL, provider

            fetched = _previous_local_run(name) if provider(env) == LOCAL else fetch_baseline(name, fetched_to, env)
            sys.stdout.write(f"notify: {describe_baseline(fetched)}\n")
            baseline, no_baseline = fetched.folder, None if fetched.folder else fetched.note
        outcome = notify_schedule(
            schedule, args.status, results_dir=results, message=args.message, env=env,
            webhook=args.webhook, dry_run=args.dry_run, notes=run_notes(args.sarif_upload), baseline=baseline,
            no_baseline=no_baseline,
        )
    if skipped is not None and not outcome.channels:
        sys.stdout.write(f"notify: the guard skipped this run ({skipped}); no channel's events include skipped: "
                         "nothing sent\n")
        _record(args.once, f"skipped by the guard: {skipped}")
        return 0
    for line in outcome.passed_over:
        (sys.stderr if args.dry_run else sys.stdout).write(f"notify: {line}\n")
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
    _record(args.once, f"{args.status}: " + ("; ".join(str(r) for r in outcome.results) or outcome.note or "nothing sent"))
    if not outcome.results:
        disabled = bool(outcome.note and "disabled" in outcome.note)
        if outcome.passed_over and not outcome.note:
            sys.stdout.write("notify: no channel takes this message; nothing sent\n")
            return 0
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


def _previous_local_run(name: str) -> Baseline:
    """Outside CI: the folder of the schedule's previous finished run in the local history."""
    from ..local.history import previous_results
    from ..pipeline.baseline import Baseline

    try:
        folder = previous_results(name, "")
    except JmoError as exc:
        return Baseline(None, str(exc))
    return Baseline(folder, f"the previous run's folder {folder}" if folder else "no earlier run in the history")


def _guard_skip(path: str) -> str | None:
    """The guard's reason when its dotenv file says it skipped the run; None when it ran
    or the file is missing (the guard never decided: the job failed before it)."""
    from ..pipeline.guard import read_dotenv

    found = read_dotenv(path)
    if found is None or found.run:
        return None
    return found.reason


def _record(path: str | None, line: str) -> None:
    """Write what notify did to `path` (the --once marker), atomically."""
    if not path:
        return

    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        atomic_write(path, line.replace("\n", " ") + "\n", mode=0o644)
    except OSError as exc:
        raise JmoError(f"{path}: cannot write: {exc.strerror}") from None
