"""`jmo-schedule github-pr`: the GitHub action's bot pull request steps around
peter-evans/create-pull-request."""
from __future__ import annotations

import argparse
import os
import sys

from ..sync.github_pr import STEPS, run_step

DESCRIPTION = """\
The steps of the bot pull request that the GitHub action does not delegate to
peter-evans/create-pull-request. Inputs come from the environment: JMO_CHANGED_FILES (the
sync step's files output), JMO_TOKEN and JMO_TOKEN_IS_DEFAULT. Prints ::error workflow
commands; never prints the token.

  check-token            exit 1 with an ::error when the token cannot push the changed files
                         (the default GITHUB_TOKEN, or a classic PAT without the workflow scope,
                         and files under .github/workflows/ changed)
  explain-push-failure   print why a failed create-pull-request step most likely failed

examples:
  jmo-schedule github-pr check-token
  jmo-schedule github-pr explain-push-failure
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("step", metavar="STEP", choices=STEPS, help=" or ".join(STEPS))


def run(args: argparse.Namespace) -> int:
    return run_step(args.step, os.environ, sys.stdout)
