"""`jmo-schedule audit`: every fire time of every schedule accounted for."""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from ..audit_run import Options, audit_all
from ..core.files import jmo_home
from ..core.loader import DEFAULT_FILE
from ..core.timefmt import parse_cli_time, rfc3339
from ..errors import UsageError
from ..local.resolve import schedules as resolve
from ..local.runner import ENV_FILE, load_env_file
from ..pipeline import audit_report
from .options import add_now

DESCRIPTION = """\
For each schedule, the fire times in a window (from the later of --since and when the
schedule began to exist on its backend, up to now) held against the runs that really
happened. Each fire time is ran (with its delay), skipped by the guard (with the reason),
missed, or pending (no run yet, less than --grace ago). Each schedule is Healthy, Late (the
latest run started more than --late after its fire time, or the guard skipped it for
startingDeadlineSeconds), Missed (a fire time without a run), Disabled (the backend will not
fire it), Failing (the latest run failed) or Unknown (the backend could not be read); the
first of Unknown, Disabled, Missed, Failing, Late that holds.

  github-actions  the workflow .github/workflows/jmo-NAME.yml (state, created_at) and its
                  runs, in $GITHUB_REPOSITORY through $GITHUB_API_URL with $GITHUB_TOKEN or
                  $GH_TOKEN (actions: read; checks: read for skip reasons; --fix: actions: write)
  gitlab-ci       the pipeline schedule 'jmo-schedule: NAME' (active, owner) and its
                  pipelines, in $CI_PROJECT_ID through $CI_API_V4_URL with $JMO_GITLAB_TOKEN
                  (read_api; --fix: api, and the token's user must own the schedule)
  kubernetes      the CronJob jmo-NAME: `kubectl get cronjobs -o json`, or --from-json FILE
  local-cron      the run history, the installed entries, and whether cron / systemd runs

--fix enables GitHub workflows disabled after 60 days without activity and activates
inactive GitLab schedules, and says what it did. --notify posts one Slack message to each
channel of the schedules that are not Healthy, listing only what is wrong; nothing when all
are Healthy.

Schedules come from -f FILE, else ./schedules.yaml when it exists, else the local store.

examples:
  jmo-schedule audit                              every schedule, the last 7 days
  jmo-schedule audit nightly-scan --since 30d -o json
  jmo-schedule audit --since 2026-11-01T00:00:00Z --now 2026-11-08T00:00:00Z
  jmo-schedule audit --backend github-actions --fix --notify --exit-zero
                                                  what the GitHub sync job runs
  jmo-schedule audit cluster-scan --from-json cronjobs.json

exit codes: 0 every schedule Healthy (or --exit-zero), 1 any is not (or an error), 2 a usage error.
"""

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> timedelta:
    """argparse type: `90m`, `12h`, `7d`, `2w`, `1d12h` (whole numbers, units s m h d w)."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90m, 12h, 7d or 2w")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def since(text: str) -> timedelta | datetime:
    """argparse type for --since: a duration before --now, or an ISO 8601 time."""
    try:
        return duration(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        return parse_cli_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a duration (7d, 12h) nor an ISO 8601 time") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", metavar="NAME", nargs="*", help="schedules to audit (default: all)")
    parser.add_argument("-f", "--file", metavar="FILE",
                        help="schedules file (default: ./schedules.yaml when it exists, else the local store)")
    parser.add_argument("--since", type=since, default=timedelta(days=7), metavar="DURATION|TIME",
                        help="start of the window: a duration before --now (7d, 12h) or an ISO 8601 time "
                        "(default 7d)")
    add_now(parser, "the end of the window (default: now)")
    parser.add_argument("--grace", type=duration, default=timedelta(hours=1), metavar="DURATION",
                        help="how long a fire time may wait for its run before it counts as missed (default 1h)")
    parser.add_argument("--late", type=duration, default=timedelta(minutes=15), metavar="DURATION",
                        help="a run created later than this after its fire time is late (default 15m)")
    parser.add_argument("--fix", action="store_true",
                        help="enable GitHub workflows disabled for inactivity; activate inactive GitLab schedules")
    parser.add_argument("--notify", action="store_true",
                        help="post what is wrong to the Slack channels of the schedules that are not Healthy")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="table (default) or JSON")
    parser.add_argument("--from-json", metavar="FILE",
                        help="kubernetes: read the CronJobs from this file (kubectl get cronjobs -o json) "
                        "instead of running kubectl")
    parser.add_argument("--backend", action="append", metavar="TYPE",
                        choices=("github-actions", "gitlab-ci", "kubernetes", "local-cron"),
                        help="audit only the schedules of this backend (repeatable; a sync job audits its own)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when a schedule is not Healthy (a sync job: the table, the notification "
                        "and, inside GitHub Actions, a ::warning per schedule report it)")
    parser.add_argument("--token-variable", metavar="NAME",
                        help="gitlab-ci: the variable holding the token (default JMO_GITLAB_TOKEN)")
    parser.add_argument("--repository", metavar="OWNER/NAME", help="github-actions: default $GITHUB_REPOSITORY")
    parser.add_argument("--project", metavar="ID", help="gitlab-ci: project id or path (default $CI_PROJECT_ID)")


def run(args: argparse.Namespace) -> int:
    now = args.now or datetime.now(timezone.utc)
    start = now - args.since if isinstance(args.since, timedelta) else args.since
    if start >= now:
        raise UsageError(f"--since {rfc3339(start)} is not before --now {rfc3339(now)}")
    file = args.file or (DEFAULT_FILE if os.path.isfile(DEFAULT_FILE) else None)
    every = resolve(file, existing=True).list()
    if args.names:
        known = {s.name for s in every}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            where = file or "the local store"
            raise UsageError(f"no schedule {', '.join(repr(n) for n in unknown)} in {where}")
        every = [s for s in every if s.name in args.names]
    if args.backend:
        every = [s for s in every if s.spec.backend.type in args.backend]
    if args.token_variable is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.token_variable):
        raise UsageError(f"--token-variable {args.token_variable!r} is not an environment variable name")
    options = Options(now=now, since=start, grace=args.grace, late=args.late, fix=args.fix,
                      from_json=args.from_json, repository=args.repository, project=args.project,
                      gitlab_token_variable=args.token_variable or "JMO_GITLAB_TOKEN")
    env = _environment()
    audits = audit_all(every, options, env)
    sys.stdout.write(audit_report.as_json(audits) if args.output == "json" else audit_report.table(audits))
    if args.notify:
        by_name = {s.name: s for s in every}
        for line in audit_report.notify(audits, by_name, env, where=_where(env)):
            sys.stderr.write(line + "\n")
    healthy = all(a.healthy for a in audits)
    if args.exit_zero and not healthy and os.environ.get("GITHUB_ACTIONS") == "true":
        for line in audit_report.warnings(audits):
            sys.stdout.write(line + "\n")
    return 0 if healthy or args.exit_zero else 1


def _environment() -> dict[str, str]:
    """The process environment over the KEY=VALUE lines of $JMO_HOME/env, where local
    schedules keep their webhook secrets (as `jmo-schedule run` reads them)."""


    return {**load_env_file(os.path.join(jmo_home(), ENV_FILE)), **os.environ}


def _where(env: Mapping[str, str]) -> str | None:
    """Where this audit ran (a CI run's link), for the message's footer."""
    server, repo, run_id = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    if server and repo and run_id:
        return f"audit run: {server}/{repo}/actions/runs/{run_id}"
    if env.get("CI_JOB_URL"):
        return f"audit job: {env['CI_JOB_URL']}"
    return None
