"""Placeholder: being written by H2 (paths and API final, content not yet)."""
from __future__ import annotations

from collections.abc import Sequence

from ..model import ScanSchedule
from .header import schedule_header

PATH = ".gitlab/jmo-schedules.gitlab-ci.yml"


def generate_files(schedules: Sequence[ScanSchedule], source: str) -> dict[str, str]:
    return {PATH: schedule_header(source, list(schedules))} if schedules else {}


class GitLabCIGenerator:
    def generate(self, schedule: ScanSchedule, source: str = "schedules.yaml") -> str:
        return schedule_header(source, [schedule])
