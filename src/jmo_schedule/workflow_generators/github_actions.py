"""Placeholder: being written by H2 (paths and API final, content not yet)."""
from __future__ import annotations

from collections.abc import Sequence

from ..model import ScanSchedule
from .header import schedule_header


def generate_files(schedules: Sequence[ScanSchedule], source: str) -> dict[str, str]:
    return {f".github/workflows/jmo-{s.name}.yml": schedule_header(source, [s]) for s in schedules}


class GitHubActionsGenerator:
    def generate(self, schedule: ScanSchedule, source: str = "schedules.yaml") -> str:
        return schedule_header(source, [schedule])
