"""GitLab pipeline schedules from `schedules.yaml`, through the REST API.

`.gitlab-ci.yml` cannot hold a schedule: GitLab keeps them in the project
(`/projects/:id/pipeline_schedules`). Every `gitlab-ci` ScanSchedule becomes one pipeline
schedule whose description is `jmo-schedule: <name>` (plus ` (<description annotation>)`),
with cron, cron_timezone, ref and `active` (not suspend). The generated jobs are selected by
that description, which GitLab 17.8 and later hands to the pipeline as
$CI_PIPELINE_SCHEDULE_DESCRIPTION (`description_pattern` is the rule's regex).

No schedule variable is set by default: schedule variables count as pipeline variables, and
a top-level group whose "Minimum role to use pipeline variables" is "No one allowed" (the
default for new groups on GitLab.com) refuses to start a pipeline that has any. The
`JMO_SCHEDULE=<name>` variable earlier versions set is removed from our schedules, unless
`legacy_variable` asks for it (GitLab before 17.8 has no description variable). Schedules are
matched by the description prefix, so a rerun changes nothing, and a schedule without the
prefix (made by someone else) is never touched.

`plan()` is pure (existing schedules + wanted ones -> actions); the one GitLab client
(platforms/gitlab.py) speaks HTTP; `apply()` carries a plan out. The token travels only in the PRIVATE-TOKEN header
and never appears in output or in an error message.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.cron import MACROS
from ..core.gitlab_names import VARIABLE, description_for, managed_name, short_ref
from ..core.model import ScanSchedule
from ..errors import GitLabError, JmoError
from ..platforms.gitlab import GitLab

BACKEND = "gitlab-ci"


@dataclass(frozen=True)
class WantedSchedule:
    """The pipeline schedule one ScanSchedule calls for."""

    name: str
    description: str
    cron: str
    cron_timezone: str
    ref: str
    active: bool
    variables: Mapping[str, str]


@dataclass
class Action:
    """One step of a plan: create, update, delete or nothing, with what differs."""

    kind: str  # create | update | delete | unchanged
    name: str
    wanted: WantedSchedule | None = None
    schedule_id: int | None = None
    changes: list[str] = field(default_factory=list)  # fields to PUT
    variable_changes: dict[str, str | None] = field(default_factory=dict)  # key -> value, None = delete
    variables_present: frozenset[str] = frozenset()

    def describe(self) -> str:
        """One line for the log, e.g. `updated weekly-scan (schedule 14): cron, active`."""
        past = {"create": "created", "update": "updated", "delete": "deleted", "unchanged": "unchanged"}[self.kind]
        where = f" (schedule {self.schedule_id})" if self.schedule_id is not None else ""
        what = self.changes + [f"variable {k}" + (" removed" if v is None else "") for k, v in self.variable_changes.items()]
        return f"{past} {self.name}{where}" + (f": {', '.join(what)}" if what and self.kind == "update" else "")


def gitlab_cron(expression: str) -> str:
    """The 5-field form GitLab stores: `@daily` and friends expanded, spacing normalised."""
    text = " ".join(expression.split())
    return MACROS.get(text.lower(), text)


def wanted_schedules(schedules: Sequence[ScanSchedule], default_ref: str, legacy_variable: bool = False) -> list[WantedSchedule]:
    """A pipeline schedule for each gitlab-ci ScanSchedule (backend.config.ref overrides the ref);
    with `legacy_variable`, each also carries JMO_SCHEDULE=<name> (for GitLab before 17.8)."""
    out = []
    for s in schedules:
        if s.spec.backend.type != BACKEND:
            continue
        ref = str((s.spec.backend.config or {}).get("ref") or default_ref)
        if not ref:
            raise JmoError(f"{s.metadata.name}: no ref to run on; pass --ref or set backend.config.ref")
        out.append(WantedSchedule(
            name=s.metadata.name,
            description=description_for(s),
            cron=gitlab_cron(s.spec.schedule),
            cron_timezone=s.spec.timezone,
            ref=ref,
            active=not s.spec.suspend,
            variables={VARIABLE: s.metadata.name} if legacy_variable else {},
        ))
    return out


def plan(existing: Sequence[Mapping[str, Any]], wanted: Sequence[WantedSchedule]) -> list[Action]:
    """What to do so the project's managed schedules match `wanted`. Pure.

    `existing` are the API's schedule objects, each with `variables` (from the single
    schedule GET) when the caller has them. Unmanaged schedules are ignored; a managed
    schedule whose name is no longer wanted is deleted; of two managed schedules with
    one name (an interrupted earlier run), the lowest id is kept, the others deleted. A
    JMO_SCHEDULE variable on one of ours that `wanted` does not ask for is removed; other
    variables someone added are left alone.
    """
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for item in sorted(existing, key=lambda x: int(x.get("id", 0))):
        name = managed_name(item.get("description"))
        if name is not None:
            by_name.setdefault(name, []).append(item)
    actions: list[Action] = []
    wanted_names = set()
    for w in wanted:
        wanted_names.add(w.name)
        found = by_name.get(w.name, [])
        if not found:
            actions.append(Action("create", w.name, w, variable_changes=dict(w.variables)))
            continue
        current = found[0]
        changes = []
        if current.get("description") != w.description:
            changes.append("description")
        if current.get("cron") != w.cron:
            changes.append("cron")
        if current.get("cron_timezone") != w.cron_timezone:
            changes.append("cron_timezone")
        if short_ref(str(current.get("ref") or "")) != short_ref(w.ref):
            changes.append("ref")
        if bool(current.get("active")) != w.active:
            changes.append("active")
        have = {v.get("key"): v.get("value") for v in current.get("variables") or [] if isinstance(v, dict)}
        var_changes: dict[str, str | None] = {k: v for k, v in w.variables.items() if have.get(k) != v}
        if VARIABLE in have and VARIABLE not in w.variables:
            var_changes[VARIABLE] = None  # ours from an earlier version: it would stop the pipeline
        kind = "update" if changes or var_changes else "unchanged"
        actions.append(Action(kind, w.name, w, int(current["id"]), changes, var_changes, frozenset(k for k in have if k)))
        for extra in found[1:]:
            actions.append(Action("delete", w.name, None, int(extra["id"])))
    for name, items in sorted(by_name.items()):
        if name not in wanted_names:
            actions.extend(Action("delete", name, None, int(item["id"])) for item in items)
    return actions


# ------------------------------------------------------------------------------------
# Carrying out a plan


def read_existing(client: GitLab) -> list[dict[str, Any]]:
    """Every schedule; managed ones are re-read singly because only that GET has variables."""
    out = []
    for item in client.list_schedules():
        if managed_name(item.get("description")) is not None and "variables" not in item:
            item = {**item, **client.get_schedule(int(item["id"]))}
        out.append(item)
    return out


def apply(client: GitLab, actions: Sequence[Action], log: Callable[[str], None] = lambda _: None) -> list[Action]:
    """Carry out `actions` in order (creates first so a failure never leaves a gap);
    returns them with ids filled in for created schedules."""
    order = {"create": 0, "update": 1, "unchanged": 2, "delete": 3}
    done = []
    for action in sorted(actions, key=lambda a: order[a.kind]):
        if action.kind == "create" and action.wanted:
            w = action.wanted
            created = client.create_schedule(w.name, {"description": w.description, "ref": w.ref, "cron": w.cron,
                                                      "cron_timezone": w.cron_timezone, "active": w.active})
            action.schedule_id = int(created["id"])
            for key, value in action.wanted.variables.items():
                client.set_variable(action.schedule_id, key, value, exists=False)
        elif action.kind == "update" and action.wanted and action.schedule_id is not None:
            _with_ownership(client, action.schedule_id, lambda: _update(client, action))
        elif action.kind == "delete" and action.schedule_id is not None:
            _with_ownership(client, action.schedule_id, lambda: client.delete_schedule(action.schedule_id))  # type: ignore[arg-type]
        log(action.describe())
        done.append(action)
    return done


def _update(client: GitLab, action: Action) -> None:
    assert action.wanted is not None and action.schedule_id is not None
    if action.changes:
        client.update_schedule(action.schedule_id, {f: getattr(action.wanted, f) for f in action.changes})
    for key, value in action.variable_changes.items():
        if value is None:
            client.delete_variable(action.schedule_id, key)
        else:
            client.set_variable(action.schedule_id, key, value, exists=key in action.variables_present)


def _with_ownership(client: GitLab, schedule_id: int, step: Callable[[], Any]) -> None:
    # Only a schedule's owner may change it. One of ours made under an earlier token
    # (a rotated project access token is a new bot user) is taken over, then retried.
    try:
        step()
    except GitLabError as exc:
        if exc.status != 403:
            raise
        client.take_ownership(schedule_id)
        step()
