"""sync as one function: load the schedules file, generate every pipeline file, plan
against what is on disk (and in git history, to say why each file changes), and apply
the plan. The CLI (`jmo-schedule sync`, which the GitHub action runs), the drift check
and the GitLab merge request flow all call it; it returns the plan, they report it.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from . import action_ref
from ..core.loader import LoadResult, check_file, read_text
from ..core.model import ScanSchedule
from ..errors import JmoError, ValidationError
from ..generators import generate_all, github_actions, is_generated, regenerate_command
from ..generators.github_actions import OwnAction
from .gitlab_stages import stage_problems
from .plan import (
    CREATE,
    DELETE,
    DiskFile,
    FileChange,
    Generation,
    SyncPlan,
    UNCHANGED,
    UPDATE,
    apply_plan,
    git_toplevel,
    git_versions,
    history_generations,
    plan_sync,
    scan_disk,
)

Warn = Callable[[str], None]


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


class Planned(NamedTuple):
    """One schedules file planned: where its root is, its path there (POSIX, relative), what
    is on disk and the plan."""

    root: str
    source: str
    disk: Mapping[str, DiskFile]
    plan: SyncPlan

    @property
    def command(self) -> str:
        """How to regenerate these files locally (`jmo-schedule sync -f SOURCE`)."""
        return regenerate_command(self.source)


def sync(file: str, root: str | None = None, *, env: Mapping[str, str] | None = None, warn: Warn = _stderr) -> Planned:
    """Load, generate, plan and apply: after it the generated files under `root` (default:
    the git work tree holding `file`, else its folder) match `file`. Returns the plan that
    was carried out; raises ValidationError for an invalid file, JmoError when a path is
    held by a file jmo-schedule did not generate."""
    planned = plan_file(file, root, env=env, warn=warn)
    apply_plan(planned.plan, planned.root, planned.disk)
    return planned


def check_schedules(file: str, warn: Warn = _stderr) -> LoadResult:
    """`file` loaded and validated; its warnings go to `warn`, its errors raise ValidationError."""
    result = check_file(file, committed=True)
    for problem in result.warnings:
        warn(str(problem))
    if result.errors:
        raise ValidationError(result.problems)
    return result


def plan_file(file: str, given_root: str | None = None, *, env: Mapping[str, str] | None = None,
              warn: Warn = _stderr) -> Planned:
    """What sync would do for `file`: its root, its path there, what is on disk and the plan.
    `env` (default the process environment) says which ref of this action the generated
    workflows name."""
    result = check_schedules(file, warn)
    schedules = result.schedules
    root, in_git = _root(file, given_root)
    source = _source(file, root)
    _check_gitlab_stages(result, file, root, warn)
    action, current, note = _own_action(schedules, root, os.environ if env is None else env)
    if note:
        warn(f"jmo-schedule: note: {note}")

    def generate(schedules: Iterable[ScanSchedule], source: str) -> dict[str, str]:
        return generate_all(list(schedules), source, github_action=action)

    try:
        files = generate(schedules, source)
    except ValueError as exc:
        raise JmoError(str(exc)) from None
    desired = Generation("working tree", {s.name: s for s in schedules}, files)
    disk = scan_disk(root, files)

    def history(names: set[str]) -> Iterable[Generation] | None:
        if not in_git:
            return None
        versions = git_versions(root, source, skip=read_text(file))
        return history_generations(versions, source, generate, names)

    plan = plan_sync(desired, disk, source, history,
                          source_exists=lambda rel: os.path.exists(os.path.join(root, *rel.split("/"))))
    if current is not None and current != action:
        plan = _explain_action_change(plan, current, action)
    return Planned(root, source, disk, plan)


def _own_action(schedules: Sequence[ScanSchedule], root: str,
                env: Mapping[str, str]) -> tuple[OwnAction, OwnAction | None, str | None]:
    """This action's ref for the generated workflows (action_ref.choose), from the job's
    environment and the workflows on disk of the schedules that take the default."""
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
    return action_ref.choose(env, texts, used)


def _explain_action_change(plan: SyncPlan, old: OwnAction, new: OwnAction) -> SyncPlan:
    """Name the reason of updates that only move this action to the job's ref."""
    files = []
    for change in plan.files:
        if change.action == UPDATE and change.old is not None and action_ref.retarget(change.old, old, new) == change.new:
            change = FileChange(change.path, change.action, change.old, change.new,
                                f"this action's ref changed ({old.uses} -> {new.uses}, the ref this sync runs)")
        files.append(change)
    return SyncPlan(plan.source, files)


def _check_gitlab_stages(result: LoadResult, file: str, root: str, warn: Warn) -> None:
    """Refuse a gitlab-ci schedule whose stage the repository's .gitlab-ci.yml lacks."""
    problems, warnings = stage_problems(result, read_text(file), root)
    for warning in warnings:
        warn(f"jmo-schedule: warning: {warning}")
    if problems:
        raise ValidationError(problems)


def _root(file: str, given: str | None) -> tuple[str, bool]:
    """(root folder, whether it is inside a git work tree)."""
    if given is not None:
        if not os.path.isdir(given):
            raise JmoError(f"--root {given}: no such directory")
        return given, git_toplevel(given) is not None
    folder = os.path.dirname(os.path.abspath(file))
    top = git_toplevel(folder)
    return (top, True) if top else (folder, False)


def _source(file: str, root: str) -> str:
    """FILE relative to root, POSIX style: what headers and the regenerate command name."""
    real_file = os.path.realpath(file)
    real_root = os.path.realpath(root)
    rel = os.path.relpath(real_file, real_root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        raise JmoError(f"{file} is outside the root {root}; pass --root with a folder that holds it")
    return rel.replace(os.sep, "/")


def counts(plan: SyncPlan) -> dict[str, int]:
    """How many files each action touches (create, update, delete, unchanged)."""
    counts = {CREATE: 0, UPDATE: 0, DELETE: 0, UNCHANGED: 0}
    for change in plan.files:
        counts[change.action] += 1
    return counts


def summary(plan: SyncPlan, dry: bool = False) -> str:
    """The last line sync prints: `1 created, 2 updated, 0 deleted, 5 unchanged`."""
    c = counts(plan)
    if dry:
        if plan.in_sync:
            return f"dry run: in sync with {plan.source}, {c['unchanged']} unchanged; nothing written"
        return (f"dry run: {c['create']} to create, {c['update']} to update, {c['delete']} to delete, "
                f"{c['unchanged']} unchanged; nothing written")
    return f"{c['create']} created, {c['update']} updated, {c['delete']} deleted, {c['unchanged']} unchanged"


