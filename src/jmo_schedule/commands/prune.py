"""`jmo-schedule prune`: apply the history limits to old runs on GitHub Actions / GitLab CI."""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping

from ..core.loader import check_file
from ..errors import JmoError, ValidationError
from ..pipeline.workflow_commands import command
from ..platforms.github import GitHub, api_url
from ..platforms.gitlab import GitLab
from ..sync import prune
from .options import PROG


DESCRIPTION = """\
Delete the old runs of each schedule on GitHub Actions or GitLab CI, as a Kubernetes
CronJob does: keep the newest spec.successfulJobsHistoryLimit runs that succeeded
(default 30) and the newest spec.failedJobsHistoryLimit runs that failed (default 10).
Runs still queued or running are never touched. Skipped runs count as successful,
cancelled and timed-out runs as failed. Prints one line per deleted run and a summary.

GitHub: the runs of .github/workflows/jmo-<name>.yml in $GITHUB_REPOSITORY, through
$GITHUB_API_URL, with the token in $GITHUB_TOKEN; deleting needs actions: write.
GitLab: the pipelines started by the pipeline schedule 'jmo-schedule: <name>' (made by
gitlab-schedules) in $CI_PROJECT_ID, through $CI_API_V4_URL, with the token in
$JMO_GITLAB_TOKEN (PRIVATE-TOKEN); only a project Owner may delete pipelines.
Tokens are read from the environment only, and never printed.

examples:
  jmo-schedule prune --dry-run                   what would be deleted, nothing deleted
  jmo-schedule prune -f ci/schedules.yaml        inside GitHub Actions or GitLab CI
  GITHUB_TOKEN=... jmo-schedule prune --backend github-actions --repository acme/app
  JMO_GITLAB_TOKEN=... jmo-schedule prune --backend gitlab-ci \\
      --api-url https://gitlab.example.com/api/v4 --project group/app
  jmo-schedule prune --warn-on-error             in a sync job: a failure only warns

exit codes: 0 done (or nothing to do; also any failure under --warn-on-error), 1 an error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", default="schedules.yaml",
                        help="the schedules file (default schedules.yaml)")
    parser.add_argument("--backend", choices=("github-actions", "gitlab-ci"),
                        help="which platform to prune (default: the CI system this runs in, "
                        "else the one of the two the file uses)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    parser.add_argument("--api-url", metavar="URL",
                        help="API root (default $GITHUB_API_URL or https://api.github.com; GitLab $CI_API_V4_URL)")
    parser.add_argument("--repository", metavar="OWNER/NAME", help="GitHub repository (default $GITHUB_REPOSITORY)")
    parser.add_argument("--project", metavar="ID", help="GitLab project id or full path (default $CI_PROJECT_ID)")
    parser.add_argument("--token-env", "--token-variable", dest="token_env", metavar="NAME",
                        help="environment variable holding the token (default GITHUB_TOKEN on GitHub, "
                        "JMO_GITLAB_TOKEN on GitLab); a token is never accepted as an argument")
    parser.add_argument("--warn-on-error", action="store_true",
                        help="report a failure as a warning and exit 0 (sync jobs: pruning never fails the "
                        "sync); inside GitHub Actions as a ::warning annotation")


def run(args: argparse.Namespace) -> int:
    try:
        return _prune(args, os.environ)
    except JmoError as exc:
        if not args.warn_on_error:
            raise
        _warn(str(exc), os.environ)
        return 0


def _prune(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    result = check_file(args.file, committed=True)
    if result.errors:
        raise ValidationError(result.problems)
    backend = prune.pick_backend(args.backend, env, result.schedules)
    schedules = [s for s in result.schedules if s.spec.backend.type == backend]
    if not schedules:
        sys.stdout.write(f"prune: no {backend} schedules in {args.file}; nothing to prune\n")
        return 0
    variable = args.token_env or ("GITHUB_TOKEN" if backend == "github-actions" else "JMO_GITLAB_TOKEN")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise JmoError(f"--token-env {variable!r} is not an environment variable name")
    token = env.get(variable, "").strip()

    def log(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    if backend == "github-actions":
        if not token:
            raise JmoError(f"no GitHub token in ${variable}: set it to a token with actions: write "
                           "(or name another variable with --token-env)")
        github = GitHub(args.api_url or api_url(env), args.repository or env.get("GITHUB_REPOSITORY", ""), token,
                        token_variable=variable, hints={429: prune.RATE_LIMITED})
        summary = prune.prune_github(schedules, github, dry_run=args.dry_run, log=log)
        noun = "run"
    else:
        if not token:
            raise JmoError(f"no GitLab token in ${variable}: set it as a masked CI/CD variable holding a "
                           "project access token with the api scope and the Owner role (or name another "
                           "variable with --token-env)")
        gitlab = GitLab(args.api_url or env.get("CI_API_V4_URL", ""), args.project or env.get("CI_PROJECT_ID", ""),
                        token, token_variable=variable)
        summary = prune.prune_gitlab(schedules, gitlab, dry_run=args.dry_run, log=log)
        noun = "pipeline"
    log(summary.line(noun, args.dry_run))
    return 0


def _warn(message: str, env: Mapping[str, str]) -> None:
    if env.get("GITHUB_ACTIONS") == "true":
        sys.stdout.write(command("warning", message, title="jmo-schedule prune") + "\n")
    else:
        sys.stderr.write(f"{PROG}: warning: {message}\n")
