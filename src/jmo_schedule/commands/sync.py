"""`jmo-schedule sync`: regenerate every pipeline file from the schedules file.

Exit codes: 0 written or in sync, 1 drift under --check / --on-drift fail or an error, 2 usage.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ..core.loader import LoadResult
    from ..core.model import ScanSchedule
    from ..sync.plan import DiskFile, Generation, SyncPlan
    from ..generators.github_actions import OwnAction

DEFAULT_FILE = "schedules.yaml"

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


class Planned(NamedTuple):
    """One schedules file planned: where its root is, its path there, the disk and the plan."""

    root: str
    source: str
    disk: Mapping[str, DiskFile]
    plan: SyncPlan


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
    import os
    import sys

    from ..sync import drift, plan as sync
    from ..generators import regenerate_command

    policy = args.on_drift or (drift.FAIL if args.check else None)
    if policy == drift.IGNORE:
        check_schedules(args.file)
        sys.stdout.write("generated files not checked (check-sync: ignore)\n")
        return 0
    planned = plan_file(args.file, args.root)
    plan = planned.plan
    command = regenerate_command(planned.source)
    out = sys.stdout

    def replan(tree: str) -> tuple[SyncPlan, Mapping[str, DiskFile]]:
        """The same plan in a work tree of the pull / merge request's branch."""
        again = plan_file(os.path.join(tree, *planned.source.split("/")), tree)
        return again.plan, again.disk

    if policy is not None:
        code = drift.check(plan, drift.Settings(
            policy=policy, root=planned.root, source=planned.source, command=command,
            bot_branch=args.bot_branch, token_env=args.token_env, remote=args.remote), replan)
    elif args.dry_run:
        for change in plan.changes:
            out.write(sync.change_line(change, dry=True) + "\n")
            out.write(sync.unified_diff(change))
        out.write(_summary(plan, dry=True) + "\n")
        code = 0
    else:
        sync.apply_plan(plan, planned.root, planned.disk)
        for change in plan.changes:
            out.write(sync.change_line(change) + "\n")
        out.write(_summary(plan) + "\n")
        code = 0

    _github_output(plan)
    if args.pr_body:
        from ..errors import JmoError
        from ..core.files import atomic_write

        try:
            atomic_write(args.pr_body, sync.pr_body(plan, command), sync.NEW_FILE_MODE)
        except OSError as exc:
            raise JmoError(f"{args.pr_body}: cannot write: {exc.strerror}") from None
    return code


def check_schedules(file: str) -> LoadResult:
    """`file` loaded and validated; its warnings go to stderr, its errors raise ValidationError."""
    import sys

    from ..errors import ValidationError
    from ..core.loader import check_file

    result = check_file(file, committed=True)
    for problem in result.warnings:
        sys.stderr.write(f"{problem}\n")
    if result.errors:
        raise ValidationError(result.problems)
    return result


def plan_file(file: str, given_root: str | None) -> Planned:
    """What sync would do for `file`: its root, its path there, what is on disk and the plan."""
    import os
    import sys

    from ..sync import plan as sync
    from ..errors import JmoError
    from ..core.loader import read_text
    from ..generators import generate_all

    result = check_schedules(file)
    schedules = result.schedules
    root, in_git = _root(file, given_root)
    source = _source(file, root)
    _check_gitlab_stages(result, file, root)
    action, current, note = _own_action(schedules, root)
    if note:
        sys.stderr.write(f"jmo-schedule: note: {note}\n")

    def generate(schedules: Iterable[ScanSchedule], source: str) -> dict[str, str]:
        return generate_all(list(schedules), source, github_action=action)

    try:
        files = generate(schedules, source)
    except ValueError as exc:
        raise JmoError(str(exc)) from None
    desired = sync.Generation("working tree", {s.name: s for s in schedules}, files)
    disk = sync.scan_disk(root, files)

    def history(names: set[str]) -> Iterable[Generation] | None:
        if not in_git:
            return None
        versions = sync.git_versions(root, source, skip=read_text(file))
        return sync.history_generations(versions, source, generate, names)

    plan = sync.plan_sync(desired, disk, source, history,
                          source_exists=lambda rel: os.path.exists(os.path.join(root, *rel.split("/"))))
    if current is not None and current != action:
        plan = _explain_action_change(plan, current, action)
    return Planned(root, source, disk, plan)


def _policy(text: str) -> str:
    from ..sync.drift import parse_policy

    try:
        return parse_policy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _own_action(schedules: Sequence[ScanSchedule], root: str) -> tuple[OwnAction, OwnAction | None, str | None]:
    """This action's ref for the generated workflows (action_ref.choose), from the job's
    environment and the workflows on disk of the schedules that take the default."""
    import os

    from ..sync import action_ref
    from ..generators import github_actions, is_generated

    texts = []
    used = False
    for s in schedules:
        if s.spec.backend.type != github_actions.BACKEND or (s.spec.backend.config or {}).get("action"):
            continue
        used = True
        path = os.path.join(root, *github_actions.path_for(s).split("/"))
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        if is_generated(text):
            texts.append(text)
    return action_ref.choose(os.environ, texts, used)


def _explain_action_change(plan: SyncPlan, old: OwnAction, new: OwnAction) -> SyncPlan:
    """Name the reason of updates that only move this action to the job's ref."""
    from ..sync.action_ref import retarget
    from ..sync.plan import UPDATE, FileChange, SyncPlan

    files = []
    for change in plan.files:
        if change.action == UPDATE and change.old is not None and retarget(change.old, old, new) == change.new:
            change = FileChange(change.path, change.action, change.old, change.new,
                                f"this action's ref changed ({old.uses} -> {new.uses}, the ref this sync runs)")
        files.append(change)
    return SyncPlan(plan.source, files)


def _check_gitlab_stages(result: LoadResult, file: str, root: str) -> None:
    """Refuse a gitlab-ci schedule whose stage the repository's .gitlab-ci.yml lacks."""
    import sys

    from ..errors import ValidationError
    from ..sync.gitlab_stages import stage_problems
    from ..core.loader import read_text

    problems, warnings = stage_problems(result, read_text(file), root)
    for warning in warnings:
        sys.stderr.write(f"jmo-schedule: warning: {warning}\n")
    if problems:
        raise ValidationError(problems)


def _root(file: str, given: str | None) -> tuple[str, bool]:
    """(root folder, whether it is inside a git work tree)."""
    import os

    from ..errors import JmoError
    from ..sync.plan import git_toplevel

    if given is not None:
        if not os.path.isdir(given):
            raise JmoError(f"--root {given}: no such directory")
        return given, git_toplevel(given) is not None
    folder = os.path.dirname(os.path.abspath(file))
    top = git_toplevel(folder)
    return (top, True) if top else (folder, False)


def _source(file: str, root: str) -> str:
    """FILE relative to root, POSIX style: what headers and the regenerate command name."""
    import os

    from ..errors import JmoError

    real_file = os.path.realpath(file)
    real_root = os.path.realpath(root)
    rel = os.path.relpath(real_file, real_root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        raise JmoError(f"{file} is outside the root {root}; pass --root with a folder that holds it")
    return rel.replace(os.sep, "/")


def _counts(plan: SyncPlan) -> dict[str, int]:
    from ..sync.plan import CREATE, DELETE, UNCHANGED, UPDATE

    counts = {CREATE: 0, UPDATE: 0, DELETE: 0, UNCHANGED: 0}
    for change in plan.files:
        counts[change.action] += 1
    return counts


def _summary(plan: SyncPlan, dry: bool = False) -> str:
    c = _counts(plan)
    if dry:
        if plan.in_sync:
            return f"dry run: in sync with {plan.source}, {c['unchanged']} unchanged; nothing written"
        return (f"dry run: {c['create']} to create, {c['update']} to update, {c['delete']} to delete, "
                f"{c['unchanged']} unchanged; nothing written")
    return f"{c['create']} created, {c['update']} updated, {c['delete']} deleted, {c['unchanged']} unchanged"


def _github_output(plan: SyncPlan) -> None:
    """Append changed= and files<<DELIM to $GITHUB_OUTPUT when it is set."""
    import os
    import uuid

    from ..errors import JmoError
    from ..sync.plan import github_output_block

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
