"""Where a command finds its schedules: the one resolver every command uses.

The caller says which it wants; nothing is guessed from a file's extension:
- `-f FILE`: that committed file (YAML or JSON), read and edited as the user wrote it;
- no `-f`: the local store (`~/.jmo/schedules.json`, `$JMO_HOME` overrides the folder).
Commands that run inside a repository's pipeline or generate from its file (guard, notify,
export, trigger) look up one schedule by name, and without `-f` try `./schedules.yaml`
first when it holds that name (`find(..., repository=True)`).
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Callable, NamedTuple

from ..core.check import DEFAULT_FILE
from ..core.model import ScanSchedule
from ..errors import JmoError, NotFoundError
from .manager import ScheduleManager


class Found(NamedTuple):
    """A schedule, and the committed file it came from (None: the local store)."""

    schedule: ScanSchedule
    file: str | None


def schedules(file: str | None = None, *, existing: bool = False,
              clock: Callable[[], datetime] | None = None) -> ScheduleManager:
    """The schedules a command works on: the committed `file` (`-f FILE`), else the local
    store. With `existing`, a `file` that does not exist is an error (commands that only
    read it); without, it is an empty file yet to be written."""
    if not file:
        return ScheduleManager.store(clock=clock)
    if existing and not os.path.exists(file):
        raise JmoError(f"{file}: no such file")
    return ScheduleManager.file(file, clock=clock)


def find(name: str, file: str | None = None, *, repository: bool = False) -> Found:
    """The schedule `name`: from `file` when given; else, with `repository`, from
    ./schedules.yaml when it holds `name`; else from the local store. Raises NotFoundError
    naming every place looked at."""
    if file is not None:
        return Found(schedules(file, existing=True).require(name), file)
    in_repository = repository and os.path.isfile(DEFAULT_FILE)
    if in_repository:
        found = schedules(DEFAULT_FILE).get(name)
        if found is not None:
            return Found(found, DEFAULT_FILE)
    store = schedules()
    stored = store.get(name)
    if stored is None:
        where = f"./{DEFAULT_FILE} or the local store" if in_repository else (
            "the local store" if repository else store.path)
        raise NotFoundError(f"schedule {name!r} not found in {where}")
    return Found(stored, None)
