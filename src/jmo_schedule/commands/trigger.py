"""`jmo-schedule trigger NAME`: start one run now, on the schedule's own backend."""
from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timezone

from .. import trigger
from ..errors import JmoError
from ..local.resolve import find
from ..local.runner import run_schedule
from ..platforms.github import GitHub, TOKEN_VARIABLES, api_url, token_from
from ..platforms.gitlab import DEFAULT_TOKEN_VARIABLE, GitLab
from .options import add_now

DESCRIPTION = """\
Start one run of a schedule now, where the schedule runs:

  local-cron      runs it on this machine at once (a manual run: for no fire time, so
                  startingDeadlineSeconds does not apply; suspend and concurrencyPolicy
                  do). `jmo-schedule history NAME` lists it as manual.
  github-actions  dispatches .github/workflows/jmo-NAME.yml on the repository's default
                  branch (or --ref), in $GITHUB_REPOSITORY through $GITHUB_API_URL, with the
                  token in $GITHUB_TOKEN or $GH_TOKEN (it needs actions: write).
  gitlab-ci       plays the pipeline schedule 'jmo-schedule: NAME' in $CI_PROJECT_ID through
                  $CI_API_V4_URL, with the token in $JMO_GITLAB_TOKEN (api scope, at least
                  the Developer role); GitLab allows one play per schedule a minute.
  kubernetes      prints the `kubectl create job ... --from=cronjob/jmo-NAME` command that
                  makes one Job from the CronJob; --apply runs it.

A suspended schedule is not started (exit 0, it says so). NAME is looked up in -f FILE, else
in ./schedules.yaml when it holds NAME, else in the local store. Tokens are read from the
environment only and never printed.

Exit status: local runs as `jmo-schedule run` (the scan's status, 0 when skipped); 0 once the
platform accepted the run; 1 when it refused (the message names the token variable and the
permission it lacks).

examples:
  jmo-schedule trigger weekly-scan                        local-cron: one run now, here
  GITHUB_TOKEN=... jmo-schedule trigger nightly --repository acme/app   (from ./schedules.yaml)
  JMO_GITLAB_TOKEN=... jmo-schedule trigger nightly -f ci/schedules.yaml \\
      --api-url https://gitlab.example.com/api/v4 --project group/app
  jmo-schedule trigger cluster-scan --apply
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="schedule to start")
    parser.add_argument("-f", "--file", metavar="FILE",
                        help="schedules file (default: ./schedules.yaml when it holds NAME, else the local store)")
    parser.add_argument("--ref", metavar="REF",
                        help="github-actions: branch or tag to run the workflow on (default: the default branch)")
    parser.add_argument("--repository", metavar="OWNER/NAME", help="github-actions: default $GITHUB_REPOSITORY")
    parser.add_argument("--api-url", metavar="URL",
                        help="API root (default $GITHUB_API_URL or https://api.github.com; GitLab $CI_API_V4_URL)")
    parser.add_argument("--project", metavar="ID", help="gitlab-ci: project id or full path (default $CI_PROJECT_ID)")
    parser.add_argument("--token-variable", metavar="NAME",
                        help="environment variable holding the token (default GITHUB_TOKEN, then GH_TOKEN; "
                        "GitLab JMO_GITLAB_TOKEN); a token is never accepted as an argument")
    parser.add_argument("--apply", action="store_true", help="kubernetes: run the kubectl command instead of printing it")
    add_now(parser, "gitlab-ci: judge the guard's deadline as of this time; kubernetes: name the Job for it "
                    "(default: now)")
    parser.add_argument("--scanner", metavar="CMD",
                        help="local-cron: command that replaces `jmo` (default: $JMO_SCANNER, backend.config.scanner, jmo)")


def run(args: argparse.Namespace) -> int:
    schedule, file = find(args.name, args.file, repository=True)
    backend = schedule.spec.backend.type
    variable = args.token_variable
    if variable is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise JmoError(f"--token-variable {variable!r} is not an environment variable name")
    env = os.environ
    if backend == "local-cron":
        outcome = run_schedule(args.name, file=file, scanner=args.scanner, manual=True)
        result = trigger.Triggered(outcome.line(args.name), outcome.exit_code)
    elif backend == "github-actions":
        used, token = token_from(env, (variable,) if variable else TOKEN_VARIABLES)
        if not token:
            wanted = f"${variable}" if variable else "$GITHUB_TOKEN (or $GH_TOKEN)"
            raise JmoError(f"no GitHub token in {wanted}: set it to a token with actions: write on the repository")
        github = GitHub(args.api_url or api_url(env), args.repository or env.get("GITHUB_REPOSITORY", ""), token,
                        token_variable=used)
        result = trigger.trigger_github(schedule, github, args.ref)
    elif backend == "gitlab-ci":
        variable = variable or DEFAULT_TOKEN_VARIABLE
        token = (env.get(variable) or "").strip()
        if not token:
            raise JmoError(f"no GitLab token in ${variable}: set it to a token with the api scope whose user has at "
                           "least the Developer role in the project")
        gitlab = GitLab(args.api_url or env.get("CI_API_V4_URL", ""), args.project or env.get("CI_PROJECT_ID", ""),
                        token, token_variable=variable)
        result = trigger.trigger_gitlab(schedule, gitlab, args.now or datetime.now(timezone.utc))
    else:
        result = trigger.trigger_kubernetes(schedule, args.now or datetime.now(timezone.utc), apply=args.apply)
    sys.stdout.write(result.line + "\n")
    return result.exit_code
