"""Which ref of this project's action the generated GitHub workflows name.

Repositories and organisations can require every action to be pinned to a full commit SHA;
a generated `uses: jmo/schedule-action@v1.0.0` then fails every scan. So the generated
workflows take the ref the sync job itself ran at, first that applies:

1. the sync job's own ref: action.yml passes `github.action_repository` and
   `github.action_ref` as JMO_ACTION_REPOSITORY / JMO_ACTION_REF (in a composite action
   these are set only in a step's `env:`, and empty for `uses: ./`). A full SHA stays a
   full SHA with a `# v<this version>` comment; a tag or branch is kept as written;
2. the ref the generated files already name (a local run, `sync --check`, or the action
   used as `./`): nothing flaps between a laptop and the sync job;
3. this release's tag, and the sync output says so.

`backend.config.action` still overrides it per schedule (the generator applies that).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .._version import __version__
from ..core.rules import ACTION_REF_RE
from ..generators.github_actions import OwnAction, RELEASE_ACTION

REPOSITORY_VAR = "JMO_ACTION_REPOSITORY"
REF_VAR = "JMO_ACTION_REF"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_TAG_NOTE = "zizmor: ignore[unpinned-uses] the ref the sync job runs this action at"
# The guard step of a generated workflow: `id: guard`, then its `uses:` and comment.
_GUARD_USES = re.compile(r"^\s+id: guard\n\s+uses: (?P<uses>\S+)(?:\s+#\s*(?P<comment>.*?))?\s*$", re.M)


def from_job(env: Mapping[str, str]) -> OwnAction | None:
    """The ref the running action was called at, or None outside the action (or for `./`)."""
    repository = (env.get(REPOSITORY_VAR) or "").strip()
    ref = (env.get(REF_VAR) or "").strip()
    uses = f"{repository}@{ref}"
    if not repository or not ref or not ACTION_REF_RE.match(uses):
        return None
    return OwnAction(uses, f"v{__version__}" if _SHA.match(ref) else _TAG_NOTE)


def from_files(texts: Iterable[str]) -> OwnAction | None:
    """The action as the first of these generated workflows names it in its guard step."""
    for text in texts:
        m = _GUARD_USES.search(text)
        if m and ACTION_REF_RE.match(m.group("uses")):
            return OwnAction(m.group("uses"), m.group("comment") or None)
    return None


def choose(env: Mapping[str, str], existing: Iterable[str], used: bool = True
           ) -> tuple[OwnAction, OwnAction | None, str | None]:
    """(the action to generate, the one the files name now, a note for the sync output).

    `existing` are the texts of the generated workflows on disk whose schedules take the
    default (no backend.config.action); `used` says whether any schedule does. The note
    comes only inside GitHub Actions, when the job's ref is unknown and nothing on disk
    names one.
    """
    current = from_files(existing)
    job = from_job(env)
    if job is not None:
        return job, current, None
    if current is not None:
        return current, current, None
    if not used or env.get("GITHUB_ACTIONS") != "true":
        return RELEASE_ACTION, None, None
    note = (f"generated workflows name {RELEASE_ACTION.uses}, this release's tag: the action's own ref is not "
            f"known here (not run by the action, or used as ./); a repository that requires SHA-pinned actions "
            f"needs backend.config.action or a sync run by the action pinned to a SHA")
    return RELEASE_ACTION, None, note


def _line(action: OwnAction) -> str:
    return f"uses: {action.uses}" + (f"  # {action.comment}" if action.comment else "")


def retarget(text: str, old: OwnAction, new: OwnAction) -> str:
    """`text` with every `uses:` line naming `old` naming `new` instead."""
    pattern = re.compile(rf"uses: {re.escape(old.uses)}(?:[ \t]+#[^\n]*)?$", re.M)
    return pattern.sub(lambda m: _line(new), text)
