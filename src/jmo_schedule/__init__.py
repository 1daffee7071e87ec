"""jmo-schedule: recurring security scans declared once in schedules.yaml.

Public names are imported lazily so `jmo-schedule --version` and the in-pipeline
commands start fast.
"""
from __future__ import annotations

from ._version import __version__

TYPE_CHECKING = False  # typing itself is not imported: start-up time
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "ScheduleManager": "local.manager",
    "ScanSchedule": "core.model",
    "ScheduleMetadata": "core.model",
    "ScheduleSpec": "core.model",
    "ScheduleStatus": "core.model",
    "BackendConfig": "core.model",
    "JobTemplateSpec": "core.model",
    "Condition": "core.model",
    "JmoError": "errors",
    "ValidationError": "errors",
    "ConflictError": "errors",
    "NotFoundError": "errors",
    "AlreadyExistsError": "errors",
    "next_runs": "core.cron",
    "previous_run": "core.cron",
    "describe": "core.cron",
    "load_file": "core.loader",
    "GitHubActionsGenerator": "generators.github_actions",
    "GitLabCIGenerator": "generators.gitlab_ci",
    "KubernetesCronJobGenerator": "generators.kubernetes",
    "LocalCronGenerator": "generators.local_cron",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jmo_schedule' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from .core.cron import describe, next_runs, previous_run
    from .errors import AlreadyExistsError, ConflictError, JmoError, NotFoundError, ValidationError
    from .core.loader import load_file
    from .local.manager import ScheduleManager
    from .core.model import (
        BackendConfig,
        Condition,
        JobTemplateSpec,
        ScanSchedule,
        ScheduleMetadata,
        ScheduleSpec,
        ScheduleStatus,
    )
