"""The ScanSchedule data model: metadata / spec / status, with the user guide's field names.

The classes are plain dataclasses so the guide's examples construct as written. They hold
what they are given; `validate.py` decides whether it is acceptable (`schedule_problems`
for an object built in Python). `to_dict` and `from_dict` round-trip losslessly
(`from_dict(x.to_dict()) == x`). Names and defaults come from rules.py, the one table.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import JmoError, Problem, ValidationError
from .check import check_text
from .hcron import HashedCron
from .rules import (
    API_VERSION,
    BACKEND_TYPES,
    CONCURRENCY_POLICIES,
    DEFAULT_BACKEND,
    DEFAULT_PROFILE,
    KIND,
    LIST_KIND,
    PROFILES,
    SEVERITIES,
    SPEC_DEFAULTS,
)
from .validate import Checker, check_schedule, type_name
from .yamltext import dump_yaml

__all__ = [
    "API_VERSION", "BACKEND_TYPES", "CONCURRENCY_POLICIES", "DEFAULT_BACKEND", "KIND", "LIST_KIND", "PROFILES",
    "SEVERITIES", "BackendConfig", "Condition", "JobTemplateSpec", "ScanSchedule", "ScheduleMetadata", "ScheduleSpec",
    "ScheduleStatus", "schedule_problems",
]


def _copy(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, scalars), several times faster than
    copy.deepcopy, which the store pays for every schedule on every read and write."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


def _fill_ellipsis(obj: Any) -> None:
    # The guide writes `ScheduleSpec(schedule="0 1 * * *", ...)`: a literal Ellipsis
    # passed positionally means "the rest as default".
    if not any(v is Ellipsis for v in vars(obj).values()):
        return
    for f in dataclasses.fields(obj):
        if getattr(obj, f.name) is Ellipsis:
            if f.default is not dataclasses.MISSING:
                value = f.default
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{type(obj).__name__}.{f.name} has no default; give it a value")
            setattr(obj, f.name, value)


@dataclass
class Condition:
    type: str = "Ready"
    status: str = "True"
    lastTransitionTime: str | None = None
    reason: str = ""
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Condition:
        return cls(**d)


@dataclass
class ScheduleMetadata:
    name: str
    uid: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    creationTimestamp: str | None = None
    generation: int | None = None
    resourceVersion: str | None = None

    def __post_init__(self) -> None:
        _fill_ellipsis(self)
        # `labels=None` (or `labels: null` in JSON) means no labels.
        if self.labels is None:
            self.labels = {}
        if self.annotations is None:
            self.annotations = {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key in ("uid", "labels", "annotations", "creationTimestamp", "generation", "resourceVersion"):
            value = getattr(self, key)
            if value is not None and value != {}:
                out[key] = _copy(value)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScheduleMetadata:
        return cls(**_copy(d))


@dataclass
class BackendConfig:
    type: str = DEFAULT_BACKEND
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _fill_ellipsis(self)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "config": _copy(self.config)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BackendConfig:
        return cls(**_copy(d))


@dataclass
class JobTemplateSpec:
    profile: str = DEFAULT_PROFILE
    targets: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _fill_ellipsis(self)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "profile": self.profile,
            "targets": _copy(self.targets),
            "results": _copy(self.results),
            "options": _copy(self.options),
        }
        if self.notifications:
            out["notifications"] = _copy(self.notifications)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobTemplateSpec:
        return cls(**_copy(d))

    @property
    def fail_on(self) -> str | None:
        return self.options.get("fail_on")

    @property
    def results_dir(self) -> str:
        return str(self.results.get("dir") or "results")


@dataclass
class ScheduleSpec:
    schedule: str
    timezone: str = SPEC_DEFAULTS["timezone"]
    suspend: bool = SPEC_DEFAULTS["suspend"]
    concurrencyPolicy: str = SPEC_DEFAULTS["concurrencyPolicy"]
    startingDeadlineSeconds: int | None = None
    successfulJobsHistoryLimit: int = SPEC_DEFAULTS["successfulJobsHistoryLimit"]
    failedJobsHistoryLimit: int = SPEC_DEFAULTS["failedJobsHistoryLimit"]
    backend: BackendConfig = field(default_factory=BackendConfig)
    jobTemplate: JobTemplateSpec = field(default_factory=JobTemplateSpec)
    # hook (issue 16): set when loading resolved an H cron into `schedule`; never serialized
    hashed_from: HashedCron | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _fill_ellipsis(self)
        if isinstance(self.backend, dict):
            self.backend = BackendConfig.from_dict(self.backend)
        if isinstance(self.jobTemplate, dict):
            self.jobTemplate = JobTemplateSpec.from_dict(self.jobTemplate)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schedule": self.schedule,
            "timezone": self.timezone,
            "suspend": self.suspend,
            "concurrencyPolicy": self.concurrencyPolicy,
        }
        if self.startingDeadlineSeconds is not None:
            out["startingDeadlineSeconds"] = self.startingDeadlineSeconds
        out["successfulJobsHistoryLimit"] = self.successfulJobsHistoryLimit
        out["failedJobsHistoryLimit"] = self.failedJobsHistoryLimit
        out["backend"] = self.backend.to_dict()
        out["jobTemplate"] = self.jobTemplate.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScheduleSpec:
        d = dict(d)
        if "backend" in d:
            d["backend"] = BackendConfig.from_dict(d["backend"])
        if "jobTemplate" in d:
            d["jobTemplate"] = JobTemplateSpec.from_dict(d["jobTemplate"])
        return cls(**d)


@dataclass
class ScheduleStatus:
    conditions: list[Condition] = field(default_factory=list)
    nextScheduleTime: str | None = None
    lastScheduleTime: str | None = None
    lastSuccessfulTime: str | None = None
    active: int = 0
    succeeded: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "conditions": [c.to_dict() for c in self.conditions],
            "nextScheduleTime": self.nextScheduleTime,
            "lastScheduleTime": self.lastScheduleTime,
            "lastSuccessfulTime": self.lastSuccessfulTime,
            "active": self.active,
            "succeeded": self.succeeded,
            "failed": self.failed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScheduleStatus:
        d = dict(d)
        d["conditions"] = [Condition.from_dict(c) for c in d.get("conditions") or []]
        return cls(**d)

    def set_condition(self, type: str, status: str, reason: str, message: str, now: str) -> None:
        """Set a condition, keeping lastTransitionTime when its status did not change."""
        for cond in self.conditions:
            if cond.type == type:
                if cond.status != status:
                    cond.lastTransitionTime = now
                cond.status, cond.reason, cond.message = status, reason, message
                return
        self.conditions.append(Condition(type, status, now, reason, message))


@dataclass
class ScanSchedule:
    metadata: ScheduleMetadata
    spec: ScheduleSpec
    status: ScheduleStatus = field(default_factory=ScheduleStatus)
    apiVersion: str = API_VERSION
    kind: str = KIND

    def __post_init__(self) -> None:
        _fill_ellipsis(self)

    @property
    def name(self) -> str:
        return self.metadata.name

    def to_dict(self, include_status: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "apiVersion": self.apiVersion,
            "kind": self.kind,
            "metadata": self.metadata.to_dict(),
            "spec": self.spec.to_dict(),
        }
        if include_status:
            out["status"] = self.status.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScanSchedule:
        """Build from a dict already known to be valid (see `validate.schedule_from_dict`)."""
        return cls(
            metadata=ScheduleMetadata.from_dict(d["metadata"]),
            spec=ScheduleSpec.from_dict(d["spec"]),
            status=ScheduleStatus.from_dict(d["status"]) if d.get("status") else ScheduleStatus(),
            apiVersion=d.get("apiVersion", API_VERSION),
            kind=d.get("kind", KIND),
        )

    def to_json(self, include_status: bool = True) -> str:
        return json.dumps(self.to_dict(include_status), indent=2, ensure_ascii=False) + "\n"

    def to_yaml(self, include_status: bool = True) -> str:
        return dump_yaml(self.to_dict(include_status))

    @classmethod
    def from_json(cls, text: str) -> ScanSchedule:
        """Parse and validate one object; raises ValidationError (every problem) or JmoError."""
        return _one(text, "<json>")

    @classmethod
    def from_yaml(cls, text: str) -> ScanSchedule:
        """Parse and validate one object; raises ValidationError (every problem) or JmoError."""
        return _one(text, "<yaml>")

    def copy(self) -> ScanSchedule:
        return copy.deepcopy(self)


def _one(text: str, name: str) -> ScanSchedule:
    result = check_text(text, name, committed=False)
    if result.errors:
        raise ValidationError(result.problems)
    if len(result.items) != 1:
        raise JmoError(f"{name}: expected one ScanSchedule, found {len(result.items)}")
    return ScanSchedule.from_dict(result.items[0].data)


def schedule_problems(schedule: ScanSchedule, committed: bool = False, filename: str | None = None) -> list[Problem]:
    """Validate a model object (built through the Python API)."""
    c = Checker(filename or f"<schedule {getattr(schedule.metadata, 'name', '?')}>", None, committed)
    # The parts must be the model's classes before they can be turned into a dict.
    parts: list[tuple[tuple[str, ...], object, type]] = [
        (("metadata",), schedule.metadata, ScheduleMetadata),
        (("spec",), schedule.spec, ScheduleSpec),
        (("status",), schedule.status, ScheduleStatus),
    ]
    if isinstance(schedule.spec, ScheduleSpec):
        parts += [
            (("spec", "backend"), schedule.spec.backend, BackendConfig),
            (("spec", "jobTemplate"), schedule.spec.jobTemplate, JobTemplateSpec),
        ]
    for path, value, cls in parts:
        if not isinstance(value, cls):
            c.error(path, f"expected a {cls.__name__}, got {type_name(value)}")
    if c.problems:
        return c.problems
    check_schedule(c, schedule.to_dict(include_status=not committed))
    return c.problems
