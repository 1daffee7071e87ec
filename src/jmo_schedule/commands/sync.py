"""`jmo-schedule sync`: regenerate every pipeline file from the schedules file.

Exit codes: 0 written or in sync, 1 drift under --check / --on-drift fail or an error, 2 usage.
"""
from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Mapping

from ..core.files import atomic_write
from ..errors import JmoError
from ..sync import drift
from ..sync.core import check_schedules, plan_file, summary
from ..sync.plan import (
    DiskFile,
    NEW_FILE_MODE,
    SyncPlan,
    apply_plan,
    change_line,
    github_output_block,
    pr_body,
    unified_diff,
)
from .options import DEFAULT_FILE

DESCRIPTION = """\
Regenerate every pipeline file the schedules file describes (GitHub Actions workflows,
the GitLab CI include, Kubernetes CronJobs, crontab/systemd units) and write only what
changed. Generated files whose schedule is gone are deleted; a file jmo-schedule did not
generate is never touched (if it sits where a generated file belongs, sync stops and names
it). A generated file edited by hand is reported as "hand-edited" and restored.

Paths are relative to --root (default: the git work tree holding FILE, else FILE's folder).

examples:
  jmo-schedule sync                              write what changed, print each file
  jmo-schedule sync --check                      pull-request check: exit 1 and show a diff
                                                 when any generated file is out of date
  jmo-schedule sync --on-drift commit            pull/merge request check: push the regenerated
                                                 files to the request's own branch (warn, and
                                                 say why, where that cannot be done)
  jmo-schedule sync --dry-run                    show what would change, write nothing
  jmo-schedule sync -f ci/schedules.yaml --pr-body body.md
                                                 sync, and write a pull-request body that
                                                 lists each file and why it changed

With $GITHUB_OUTPUT set (inside GitHub Actions) sync also writes the step outputs
changed=true|false and files (one changed path per line).

exit codes: 0 written or in sync (or drift under --on-drift warn/commit), 1 drift under
--check / --on-drift fail or an error, 2 usage.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", default=DEFAULT_FILE,
                        help=f"the schedules file (default {DEFAULT_FILE})")
    parser.add_argument("--root", metavar="DIR",
                        help="repository root the generated paths are relative to "
                        "(default: git top level of FILE's folder, else FILE's folder)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 and show a unified diff when anything would change "
                      "(the same as --on-drift fail)")
    mode.add_argument("--on-drift", metavar="POLICY", type=_policy,
                      help="pull/merge request check: what to do when generated files are out of date: "
                      "fail (exit 1), warn (exit 0 with warnings and the diff), commit (push the regenerated "
                      "files to the request's own branch; warn when that cannot be done) or ignore (do not "
                      "look); empty: commit")
    mode.add_argument("--dry-run", action="store_true",
                      help="print what would change (with diffs) and exit 0; write nothing")
    parser.add_argument("--bot-branch", metavar="BRANCH", default="jmo-schedule/sync",
                        help="--on-drift commit: the sync bot's own branch, never committed to from a check "
                        "(default jmo-schedule/sync)")
    parser.add_argument("--token-env", metavar="NAME",
                        help="--on-drift commit: environment variable holding the token to push with "
                        "(default JMO_TOKEN in GitHub Actions, JMO_GITLAB_TOKEN in GitLab CI)")
    parser.add_argument("--remote", metavar="URL",
                        help="--on-drift commit: where to push (default: the checkout's origin on GitHub, "
                        "https://oauth2@<server>/<project>.git on GitLab)")
    parser.add_argument("--pr-body", metavar="FILE",
                        help="also write a markdown pull/merge request body: each file, its action and why")


def run(args: argparse.Namespace) -> int:
    policy = args.on_drift or (drift.FAIL if args.check else None)
    if policy == drift.IGNORE:
        check_schedules(args.file)
        sys.stdout.write("generated files not checked (check-sync: ignore)\n")
        return 0
    planned = plan_file(args.file, args.root)
    plan = planned.plan
    out = sys.stdout

    def replan(tree: str) -> tuple[SyncPlan, Mapping[str, DiskFile]]:
        """The same plan in a work tree of the pull / merge request's branch."""
        again = plan_file(os.path.join(tree, *planned.source.split("/")), tree)
        return again.plan, again.disk

    if policy is not None:
        code = drift.check(plan, drift.Settings(
            policy=policy, root=planned.root, source=planned.source, command=planned.command,
            bot_branch=args.bot_branch, token_env=args.token_env, remote=args.remote), replan)
    elif args.dry_run:
        for change in plan.changes:
            out.write(change_line(change, dry=True) + "\n")
            out.write(unified_diff(change))
        out.write(summary(plan, dry=True) + "\n")
        code = 0
    else:
        apply_plan(plan, planned.root, planned.disk)
        for change in plan.changes:
            out.write(change_line(change) + "\n")
        out.write(summary(plan) + "\n")
        code = 0

    _github_output(plan)
    if args.pr_body:
        atomic_write(args.pr_body, pr_body(plan, planned.command), NEW_FILE_MODE)
    return code


def _policy(text: str) -> str:
    try:
        return drift.parse_policy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _github_output(plan: SyncPlan) -> None:
    """Append changed= and files<<DELIM to $GITHUB_OUTPUT when it is set."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    block = github_output_block(not plan.in_sync, [c.path for c in plan.changes], f"ghadelimiter_{uuid.uuid4()}")
    try:
        # One write of the whole block: a reader never sees half of it.
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(block)
    except OSError as exc:
        raise JmoError(f"$GITHUB_OUTPUT ({target}): cannot append: {exc.strerror}") from None
