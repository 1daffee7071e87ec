"""`jmo-schedule gitlab-mr`: the GitLab sync job's bot merge request."""
from __future__ import annotations

import argparse
import os

from ..errors import JmoError
from ..sync.git_remote import BOT_EMAIL, BOT_NAME
from ..sync.gitlab_mr import DEFAULT_BRANCH, DEFAULT_TITLE, open_merge_request
from .options import DEFAULT_FILE

DESCRIPTION = """\
Regenerate the pipeline files of the schedules file, commit the changed ones on one fixed
bot branch and push it with GitLab's merge request push options, which open the merge
request or update the one already open; then give it the full description (a table of each
file and why it changed). When nothing changed, a stale bot merge request is closed and its
branch deleted. What the GitLab component's sync job runs.

The token (a project access token with write_repository, and api for the description) is
read from the variable --token-variable names, handed to git through GIT_ASKPASS: never on a
command line, in a URL, in .git/config or in the log.

examples:
  jmo-schedule gitlab-mr -f schedules.yaml
  jmo-schedule gitlab-mr --target main --labels security,automated --token-variable JMO_GITLAB_TOKEN
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", default=DEFAULT_FILE,
                        help=f"the schedules file (default {DEFAULT_FILE})")
    parser.add_argument("--branch", default=DEFAULT_BRANCH, help=f"the one bot branch (default {DEFAULT_BRANCH})")
    parser.add_argument("--target", default=os.environ.get("CI_DEFAULT_BRANCH") or "main",
                        help="target branch (default $CI_DEFAULT_BRANCH)")
    parser.add_argument("--title", default=DEFAULT_TITLE)
    parser.add_argument("--labels", default="", help="comma-separated merge request labels")
    parser.add_argument("--commit-message", default=DEFAULT_TITLE)
    parser.add_argument("--remote", help="push URL (default https://oauth2@$CI_SERVER_HOST/$CI_PROJECT_PATH.git)")
    parser.add_argument("--token-variable", default="JMO_GITLAB_TOKEN",
                        help="variable holding the project access token (write_repository to push, api for the "
                        "description)")
    parser.add_argument("--api-url", help="GitLab REST API v4 URL (default $CI_API_V4_URL)")
    parser.add_argument("--project", help="project id or full path (default $CI_PROJECT_ID)")
    parser.add_argument("--author-name", default=BOT_NAME)
    parser.add_argument("--author-email", default=BOT_EMAIL)


def run(args: argparse.Namespace) -> int:
    if args.token_variable and not args.token_variable.replace("_", "a").isalnum():
        raise JmoError(f"--token-variable {args.token_variable!r} is not a variable name")
    open_merge_request(args, os.environ)
    return 0
