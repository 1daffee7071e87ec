"""Generators: pure functions from schedules to {relative path: file text}.

No clock, no environment, no file access: the same schedules give the same bytes.
Each backend module exposes `generate_files(schedules, source) -> dict[str, str]` for the
schedules of its backend type, and a generator class whose `generate(schedule) -> str`
gives one schedule's standalone file (the user guide's API, used by `export`).
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ..core.model import ScanSchedule
from .header import MARKER, header, is_generated, regenerate_command, schedule_header, schedule_line


__all__ = [
    "BACKEND_MODULES",
    "MARKER",
    "backend_module",
    "generate_all",
    "generate_one",
    "generator_for",
    "header",
    "is_generated",
    "regenerate_command",
    "schedule_header",
    "schedule_line",
]

# backend type -> (module, generator class); local_cron is optional until it exists.
BACKEND_MODULES: dict[str, tuple[str, str]] = {
    "github-actions": ("github_actions", "GitHubActionsGenerator"),
    "gitlab-ci": ("gitlab_ci", "GitLabCIGenerator"),
    "kubernetes": ("kubernetes", "KubernetesCronJobGenerator"),
    "local-cron": ("local_cron", "LocalCronGenerator"),
}


def backend_module(backend_type: str) -> ModuleType | None:
    """The generator module for `backend_type`, or None when it is not installed.

    Raises ValueError for a backend type that does not exist.
    """
    if backend_type not in BACKEND_MODULES:
        raise ValueError(f"unknown backend {backend_type!r}; expected one of {', '.join(BACKEND_MODULES)}")
    module = BACKEND_MODULES[backend_type][0]
    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{module}":
            return None
        raise


def generator_for(backend_type: str) -> Any:
    """An instance of the backend's generator class (`.generate(schedule) -> str`).

    Raises ValueError when the backend is unknown or its generator is not available.
    """
    module = backend_module(backend_type)
    if module is None:
        raise ValueError(f"the {backend_type} generator is not available in this version")
    return getattr(module, BACKEND_MODULES[backend_type][1])()


def generate_one(schedule: ScanSchedule, backend_type: str | None = None) -> str:
    """One schedule's standalone pipeline for `backend_type` (default: its own backend)."""
    return generator_for(backend_type or schedule.spec.backend.type).generate(schedule)


def generate_all(schedules: Sequence[ScanSchedule], source: str, *, github_action: Any = None) -> dict[str, str]:
    """Every generated file for every schedule, keyed by POSIX path relative to the repo root.

    `source` is the schedules file path relative to the repo root; it goes in each header
    and regenerate command. `github_action` (a github_actions.OwnAction) is how GitHub
    workflows name this project's action (default: this release's tag). Schedules are
    grouped by backend type (input order kept within a group); the result is sorted by
    path. A backend whose generator is not installed is skipped. Raises ValueError if two
    schedules would write the same path.
    """
    groups: dict[str, list[ScanSchedule]] = {}
    for schedule in schedules:
        groups.setdefault(schedule.spec.backend.type, []).append(schedule)
    out: dict[str, str] = {}
    for backend_type in BACKEND_MODULES:
        if backend_type not in groups:
            continue
        module = backend_module(backend_type)
        if module is None:
            continue
        extra = {"action": github_action} if backend_type == "github-actions" and github_action else {}
        for path, text in module.generate_files(groups[backend_type], source, **extra).items():
            if path in out:
                raise ValueError(f"two schedules generate the same file {path}")
            out[path] = text
    unknown = sorted(set(groups) - set(BACKEND_MODULES))
    if unknown:
        raise ValueError(f"unknown backend {unknown[0]!r}; expected one of {', '.join(BACKEND_MODULES)}")
    return dict(sorted(out.items()))
