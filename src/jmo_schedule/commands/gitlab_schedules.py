"""`jmo-schedule gitlab-schedules`: make the project's GitLab pipeline schedules match schedules.yaml."""
from __future__ import annotations

import argparse
import os
import re
import sys

from ..core.loader import check_file
from ..errors import JmoError, ValidationError
from ..platforms.gitlab import GitLab
from ..sync import gitlab_schedules as gs

DESCRIPTION = """\
Create, update and remove GitLab pipeline schedules so that every ScanSchedule with
backend gitlab-ci has one (description 'jmo-schedule: <name>', cron, cron_timezone, ref,
active = not suspend). The generated jobs are selected by that description
($CI_PIPELINE_SCHEDULE_DESCRIPTION, GitLab 17.8+), so no schedule variable is needed: a
JMO_SCHEDULE variable an earlier version set is removed, because schedule variables count
as pipeline variables and "Minimum role to use pipeline variables: No one allowed" (the
default of new GitLab.com groups) stops such a pipeline from starting. On GitLab before
17.8 pass --legacy-variable to keep setting it. Schedules are matched by the description
prefix: reruns change nothing, and schedules without that prefix are never touched.

The token comes from a masked CI/CD variable (default JMO_GITLAB_TOKEN): a project access
token with the api scope and the Maintainer role. It is sent only as the PRIVATE-TOKEN
header and never printed. Inside GitLab CI the API URL, project and ref default to
$CI_API_V4_URL, $CI_PROJECT_ID and $CI_DEFAULT_BRANCH.

examples:
  jmo-schedule gitlab-schedules --dry-run          # what would change, nothing written
  jmo-schedule gitlab-schedules -f ops/schedules.yaml --ref main
  JMO_GITLAB_TOKEN=glpat-... jmo-schedule gitlab-schedules \\
      --api-url https://gitlab.example.com/api/v4 --project group/app --ref main
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", default="schedules.yaml", help="schedules file (default schedules.yaml)")
    parser.add_argument("--ref", metavar="REF", help="branch or tag the schedules run on (default $CI_DEFAULT_BRANCH; backend.config.ref overrides)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    parser.add_argument(
        "--legacy-variable", nargs="?", const="true", default="false", choices=("true", "false"),
        help="also set JMO_SCHEDULE=<name> on each schedule (only for GitLab before 17.8, which has no "
        "$CI_PIPELINE_SCHEDULE_DESCRIPTION; the project must allow pipeline variables)",
    )
    parser.add_argument("--api-url", metavar="URL", help="GitLab REST API v4 URL (default $CI_API_V4_URL)")
    parser.add_argument("--project", metavar="ID", help="project id or full path (default $CI_PROJECT_ID)")
    parser.add_argument(
        "--token-variable", metavar="NAME", default="JMO_GITLAB_TOKEN",
        help="environment variable holding the token (default JMO_GITLAB_TOKEN); never pass a token as an argument",
    )


def run(args: argparse.Namespace) -> int:
    result = check_file(args.file, committed=True)
    if result.errors:
        raise ValidationError(result.problems)
    ref = args.ref or os.environ.get("CI_DEFAULT_BRANCH") or os.environ.get("CI_COMMIT_REF_NAME") or ""
    wanted = gs.wanted_schedules(result.schedules, ref, legacy_variable=args.legacy_variable == "true")
    if not _valid_name(args.token_variable):
        raise JmoError(f"--token-variable {args.token_variable!r} is not an environment variable name")
    client = GitLab(
        args.api_url or os.environ.get("CI_API_V4_URL", ""),
        args.project or os.environ.get("CI_PROJECT_ID", ""),
        os.environ.get(args.token_variable, ""),
        token_variable=args.token_variable,
    )
    actions = gs.plan(gs.read_existing(client), wanted)

    def log(line: str) -> None:
        sys.stdout.write(line + "\n")

    if args.dry_run:
        for action in actions:
            log("would be " + action.describe())
        return 0
    gs.apply(client, actions, log)
    counts = {k: sum(a.kind == k for a in actions) for k in ("create", "update", "delete", "unchanged")}
    log(f"pipeline schedules: {counts['create']} created, {counts['update']} updated, "
        f"{counts['delete']} deleted, {counts['unchanged']} unchanged")
    return 0


def _valid_name(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
