"""ScheduleManager: create / get / list / update / delete ScanSchedule objects.

Two kinds of storage behind one API, and the caller says which:
- the private local store (`ScheduleManager()`, `~/.jmo/schedules.json`, `$JMO_HOME`
  overrides the folder; `ScheduleManager(store=PATH)` for another store file): owner-only
  permissions, status kept, literal webhook URLs allowed (store.py);
- a committed file (`ScheduleManager("schedules.yaml")`, YAML or JSON): edited in place,
  keeping the user's comments, ordering and permissions; status is never written
  (committed.py).
Every write holds a cross-process lock and replaces the file atomically. Optimistic
concurrency: `update` of a copy whose resourceVersion is stale raises ConflictError.
"""
from __future__ import annotations

import copy
import os
import uuid
from datetime import datetime, timezone
from typing import Callable, ContextManager, Mapping, Protocol

from ..core.cron import next_runs
from ..core.model import ScanSchedule, schedule_problems
from ..core.selector import matches, parse_selector
from ..core.timefmt import rfc3339
from ..errors import AlreadyExistsError, ConflictError, NotFoundError, Problem, ValidationError
from .committed import CommittedFile
from .store import Store, default_path

Clock = Callable[[], datetime]
Items = list[ScanSchedule]  # in the class body `list` is the method


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def next_schedule_time(schedule: ScanSchedule, now: datetime) -> str | None:
    """RFC 3339 time of the next run after `now`, or None when suspended."""
    if schedule.spec.suspend:
        return None
    runs = next_runs(schedule.spec.schedule, schedule.spec.timezone, now, 1)
    return rfc3339(runs[0]) if runs else None


class Backend(Protocol):
    """Where schedules are kept: the local store or a committed file."""

    path: str

    def lock(self) -> ContextManager[None]: ...
    def read(self) -> list[ScanSchedule]: ...
    def write_create(self, items: list[ScanSchedule], new: ScanSchedule) -> None: ...
    def write_update(self, items: list[ScanSchedule], changed: ScanSchedule) -> None: ...
    def write_delete(self, items: list[ScanSchedule], name: str) -> None: ...


class ScheduleManager:
    """Stores ScanSchedule objects in the local store or in a committed file.

    `ScheduleManager()` is the local store, `ScheduleManager(store=PATH)` a store at PATH,
    `ScheduleManager(PATH)` the committed file PATH (YAML or JSON). The same as
    `ScheduleManager.store(PATH)` and `ScheduleManager.file(PATH)`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, store: str | os.PathLike[str] | None = None,
                 clock: Clock | None = None):
        if path is not None and store is not None:
            raise TypeError("name a committed file or a store, not both")
        self.committed = path is not None
        self._clock = clock or _utcnow
        self._backend: Backend
        if path is not None:
            self.path = os.fspath(path)
            self._backend = CommittedFile(self.path)
        else:
            self.path = os.fspath(store) if store is not None else default_path()
            self._backend = Store(self.path, own_dir=store is None)

    @classmethod
    def store(cls, path: str | os.PathLike[str] | None = None, *, clock: Clock | None = None) -> ScheduleManager:
        """The local store (`~/.jmo/schedules.json`), or the store file `path`."""
        return cls(store=path, clock=clock)

    @classmethod
    def file(cls, path: str | os.PathLike[str], *, clock: Clock | None = None) -> ScheduleManager:
        """The committed schedules file `path`, YAML or JSON."""
        return cls(path, clock=clock)

    # -- reads -----------------------------------------------------------------------
    def items(self) -> list[ScanSchedule]:
        """Every schedule, in the order the file or the store holds them."""
        return self._backend.read()

    def get(self, name: str) -> ScanSchedule | None:
        """The named schedule, or None when there is none."""
        for schedule in self._backend.read():
            if schedule.metadata.name == name:
                return schedule
        return None

    def list(self, labels: Mapping[str, str] | str | None = None, selector: str | None = None) -> list[ScanSchedule]:
        """All schedules, by name; `labels` is a dict to match exactly or a selector string
        (`env=prod,tier!=web,team in (a,b),!legacy`)."""
        if isinstance(labels, str):
            parse_selector(labels)  # report a bad selector even when nothing is stored
        if selector:
            parse_selector(selector)
        out = [
            s for s in self._backend.read()
            if matches(labels, s.metadata.labels) and matches(selector, s.metadata.labels)
        ]
        return sorted(out, key=lambda s: s.metadata.name)

    def require(self, name: str) -> ScanSchedule:
        schedule = self.get(name)
        if schedule is None:
            raise NotFoundError(f"schedule {name!r} not found in {self.path}")
        return schedule

    # -- writes ----------------------------------------------------------------------
    def create(self, schedule: ScanSchedule) -> ScanSchedule:
        """Store a new schedule; sets uid, creationTimestamp, generation 1, resourceVersion,
        the Ready condition and nextScheduleTime on `schedule` itself, and returns it."""
        self._validate(schedule)
        now = self._clock()
        with self._backend.lock():
            stored = self._create(self._backend.read(), schedule, now)
        _copy_into(schedule, stored)
        return schedule

    def update(self, schedule: ScanSchedule) -> ScanSchedule:
        """Save changes to an existing schedule. generation moves only when spec changed.
        Raises ConflictError when `schedule` was read before the last write to it."""
        self._validate(schedule)
        now = self._clock()
        with self._backend.lock():
            updated = self._update(self._backend.read(), schedule, now)
        _copy_into(schedule, updated)
        return schedule

    def apply(self, schedule: ScanSchedule) -> str:
        """Create the schedule or bring the stored one in line with it (spec, labels,
        annotations), like `kubectl apply`. Returns "created", "configured" or "unchanged".
        The look-up and the write happen under one lock, so any number of processes may
        apply the same schedule at once: one creates it, the others find it unchanged."""
        self._validate(schedule)
        now = self._clock()
        with self._backend.lock():
            items = self._backend.read()
            current = next((s for s in items if s.metadata.name == schedule.metadata.name), None)
            if current is None:
                result, stored = "created", self._create(items, schedule, now)
            elif (
                current.spec.to_dict() == schedule.spec.to_dict()
                and current.metadata.labels == schedule.metadata.labels
                and current.metadata.annotations == schedule.metadata.annotations
            ):
                result, stored = "unchanged", current
            else:
                mine = copy.deepcopy(schedule)
                mine.metadata.resourceVersion = current.metadata.resourceVersion
                mine.metadata.uid = current.metadata.uid
                mine.metadata.creationTimestamp = current.metadata.creationTimestamp
                result, stored = "configured", self._update(items, mine, now)
        _copy_into(schedule, stored)
        return result

    def _create(self, items: Items, schedule: ScanSchedule, now: datetime) -> ScanSchedule:
        """The stored copy of the new `schedule`, written (the caller holds the lock)."""
        if any(s.metadata.name == schedule.metadata.name for s in items):
            raise AlreadyExistsError(
                f"schedule {schedule.metadata.name!r} already exists in {self.path}; use update or apply"
            )
        stored = copy.deepcopy(schedule)
        meta = stored.metadata
        meta.uid = str(uuid.uuid4())
        meta.creationTimestamp = rfc3339(now)
        meta.generation = 1
        stored.status = copy.deepcopy(stored.status)
        stored.status.conditions = []
        self._refresh_status(stored, now, "Created", "Schedule created successfully")
        self._backend.write_create(items, stored)
        return stored

    def _update(self, items: Items, schedule: ScanSchedule, now: datetime) -> ScanSchedule:
        """The stored schedule brought in line with `schedule`, written (the caller holds the lock)."""
        name = schedule.metadata.name
        current = next((s for s in items if s.metadata.name == name), None)
        if current is None:
            raise NotFoundError(f"schedule {name!r} not found in {self.path}; use create")
        theirs = schedule.metadata.resourceVersion
        if theirs is not None and theirs != current.metadata.resourceVersion:
            raise ConflictError(
                f"schedule {name!r} was changed since this copy was read "
                f"(resourceVersion {theirs}, now {current.metadata.resourceVersion}); "
                "get it again and reapply your change"
            )
        for field in ("uid", "creationTimestamp"):
            mine, stored_value = getattr(schedule.metadata, field), getattr(current.metadata, field)
            if mine is not None and stored_value is not None and mine != stored_value:
                raise ValidationError([Problem(self.path, None, None, f"metadata.{field}", "is immutable")])
        updated = copy.deepcopy(current)
        updated.metadata.labels = copy.deepcopy(schedule.metadata.labels)
        updated.metadata.annotations = copy.deepcopy(schedule.metadata.annotations)
        spec_changed = schedule.spec.to_dict() != current.spec.to_dict()
        if spec_changed:
            updated.spec = copy.deepcopy(schedule.spec)
            updated.metadata.generation = (current.metadata.generation or 1) + 1
        reason = "Updated"
        if schedule.spec.suspend != current.spec.suspend:
            reason = "Suspended" if schedule.spec.suspend else "Resumed"
        self._refresh_status(updated, now, reason, f"Schedule {reason.lower()}")
        self._backend.write_update(items, updated)
        return updated

    def delete(self, name: str) -> bool:
        """Remove the named schedule; False when there was none."""
        with self._backend.lock():
            items = self._backend.read()
            if not any(s.metadata.name == name for s in items):
                return False
            self._backend.write_delete(items, name)
        return True

    def patch_status(self, name: str, change: Callable[[ScanSchedule], None]) -> ScanSchedule:
        """Apply `change` to the stored schedule under the lock (status updates by `run`)."""
        with self._backend.lock():
            items = self._backend.read()
            current = next((s for s in items if s.metadata.name == name), None)
            if current is None:
                raise NotFoundError(f"schedule {name!r} not found in {self.path}")
            change(current)
            self._backend.write_update(items, current)
        return current

    # -- helpers ---------------------------------------------------------------------
    def _validate(self, schedule: ScanSchedule) -> None:
        if not isinstance(schedule, ScanSchedule):
            raise TypeError(f"expected a ScanSchedule, got {type(schedule).__name__}")
        problems = schedule_problems(schedule, committed=self.committed)
        if any(p.severity == "error" for p in problems):
            raise ValidationError(problems)

    def _refresh_status(self, schedule: ScanSchedule, now: datetime, reason: str, message: str) -> None:
        status = schedule.status
        status.nextScheduleTime = next_schedule_time(schedule, now)
        if schedule.spec.suspend:
            reason, message = "Suspended", "Schedule is suspended; no runs are scheduled"
        status.set_condition("Ready", "True", reason, message, rfc3339(now))


def _copy_into(target: ScanSchedule, source: ScanSchedule) -> None:
    fresh = copy.deepcopy(source)
    target.metadata, target.spec, target.status = fresh.metadata, fresh.spec, fresh.status
