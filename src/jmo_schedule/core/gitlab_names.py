"""How a GitLab pipeline schedule names the ScanSchedule it runs: its description is
`jmo-schedule: <name>` (plus ` (<description annotation>)`). The generated jobs select on
it ($CI_PIPELINE_SCHEDULE_DESCRIPTION, GitLab 17.8+), sync finds its own schedules by it,
the guard and notify tell from it which schedule a pipeline runs for."""
from __future__ import annotations

import re
from collections.abc import Mapping

from .model import ScanSchedule

DESCRIPTION_PREFIX = "jmo-schedule: "
VARIABLE = "JMO_SCHEDULE"  # the schedule variable of earlier versions (GitLab before 17.8)
_NAME_AFTER_PREFIX = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\s|$)")


def description_for(schedule: ScanSchedule) -> str:
    """`jmo-schedule: <name>` plus, when given, the schedule's description annotation."""
    text = DESCRIPTION_PREFIX + schedule.metadata.name
    extra = " ".join(str(schedule.metadata.annotations.get("description", "")).split())
    return f"{text} ({extra})" if extra else text


def description_pattern(name: str) -> str:
    """The RE2 regex (slashes included, for a `rules:if` `=~`) that matches exactly the
    descriptions `description_for` gives the schedule `name`, bare or annotated, and no
    other schedule's (`weekly` does not match `jmo-schedule: weekly-scan`). Names are
    DNS-1123 labels, so they need no escaping."""
    return f"/^{DESCRIPTION_PREFIX}{name}( \\(.*\\))?$/"


def managed_name(description: str | None) -> str | None:
    """The ScanSchedule name of a schedule this tool manages, or None for any other."""
    if not isinstance(description, str) or not description.startswith(DESCRIPTION_PREFIX):
        return None
    m = _NAME_AFTER_PREFIX.match(description[len(DESCRIPTION_PREFIX):])
    return m.group(1) if m else None


def schedule_name_from_env(env: Mapping[str, str]) -> str | None:
    """The ScanSchedule a scheduled GitLab pipeline runs for: from the pipeline schedule's
    description ($CI_PIPELINE_SCHEDULE_DESCRIPTION, GitLab 17.8+), else $JMO_SCHEDULE."""
    if (env.get("CI_PIPELINE_SOURCE") or "") != "schedule":
        return None
    return managed_name(env.get("CI_PIPELINE_SCHEDULE_DESCRIPTION")) or (env.get(VARIABLE) or "").strip() or None


def short_ref(ref: str) -> str:
    """GitLab answers `refs/heads/main` for a schedule created with `main`."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref
