"""What every backend generator shares: image, names, channel secrets, timeouts."""
from __future__ import annotations

import math
import re
from typing import Any

from .._version import __version__
from ..core.model import ScanSchedule


# A released scanner image, pinned (zizmor rates `:latest` or an untagged image a high
# finding); `backend.config.image` overrides it. Tags are `<version>-<variant>`.
DEFAULT_IMAGE = "ghcr.io/jimmy058910/jmo-security:1.1.1-full"
# Inside pipelines this tool is installed from here unless the CI overrides the variable.
DEFAULT_PIP_SPEC = f"jmo-schedule=={__version__}"
PIP_SPEC_VAR = "JMO_SCHEDULE_PIP_SPEC"
DEFAULT_SECRET_VAR = "SLACK_WEBHOOK_URL"

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def check_name(schedule: ScanSchedule) -> str:
    """The schedule's name, which generators write into file names, job names and scripts.

    Raises ValueError unless it is a DNS-1123 label (validation guarantees that for loaded
    files; this guards objects built through the Python API).
    """
    name = schedule.metadata.name
    if not isinstance(name, str) or len(name) > 63 or not _NAME_RE.match(name):
        raise ValueError(f"schedule name {name!r} is not a DNS-1123 label (lowercase letters, digits, '-')")
    return name


def backend_config(schedule: ScanSchedule, backend_type: str) -> dict[str, Any]:
    """backend.config when the schedule targets `backend_type`, else {} (export to another backend)."""
    if schedule.spec.backend.type != backend_type:
        return {}
    return dict(schedule.spec.backend.config or {})


def image(schedule: ScanSchedule, backend_type: str) -> str:
    return str(backend_config(schedule, backend_type).get("image") or DEFAULT_IMAGE)


def told_of_skips(schedule: ScanSchedule) -> bool:
    """Whether a channel's events include `skipped` (the guard's skip is then notified)."""
    if not notification_secrets(schedule):
        return False
    channels = (schedule.spec.jobTemplate.notifications or {}).get("channels") or []
    return any(isinstance(c, dict) and "skipped" in (c.get("events") or []) for c in channels)


def notification_secrets(schedule: ScanSchedule) -> list[str]:
    """Names of the CI secrets / env vars holding the webhook URLs, in channel order.

    A channel written as `url: ${NAME}` names its secret. A literal URL (allowed only in
    the private local store) is never copied into a generated file: it maps to
    SLACK_WEBHOOK_URL, which the user sets as a secret instead. Empty when notifications
    are off; [SLACK_WEBHOOK_URL] when they are on without channels (notify's own default).
    """
    notif = schedule.spec.jobTemplate.notifications or {}
    if not notif or notif.get("enabled") is False:
        return []
    if not notif.get("channels"):
        return [DEFAULT_SECRET_VAR] if notif.get("enabled") is True else []
    names: list[str] = []
    for channel in notif.get("channels") or []:
        url = channel.get("url") if isinstance(channel, dict) else None
        match = _ENV_REF_RE.match(url) if isinstance(url, str) else None
        name = match.group(1) if match else DEFAULT_SECRET_VAR
        if name not in names:
            names.append(name)
    return names


def timeout_minutes(schedule: ScanSchedule, headroom: int = 15) -> int | None:
    """Job time limit in minutes: the scan's options.timeout (seconds) rounded up, plus
    headroom for checkout, report and uploads. None when no timeout is set."""
    seconds = (schedule.spec.jobTemplate.options or {}).get("timeout")
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return None
    return math.ceil(seconds / 60) + headroom


DEFAULT_SOURCE = "schedules.yaml"


class ScheduleGenerator:
    """Base of the user guide's generator classes: `Generator().generate(schedule) -> str`
    renders one schedule's file; `path(schedule)` says where sync puts it."""

    def __init__(self, source: str = DEFAULT_SOURCE) -> None:
        self.source = source

    def generate(self, schedule: ScanSchedule) -> str:
        return self._render(schedule, self.source)

    def path(self, schedule: ScanSchedule) -> str:
        return self._path(schedule)

    def _render(self, schedule: ScanSchedule, source: str) -> str:
        raise NotImplementedError

    def _path(self, schedule: ScanSchedule) -> str:
        raise NotImplementedError
