"""The user guide's import path: `from jmo_schedule.schedule_manager import *`."""
from .core.model import (
    BackendConfig,
    Condition,
    JobTemplateSpec,
    ScanSchedule,
    ScheduleMetadata,
    ScheduleSpec,
    ScheduleStatus,
)
from .errors import AlreadyExistsError, ConflictError, JmoError, NotFoundError, ValidationError
from .local.manager import ScheduleManager

__all__ = [
    "AlreadyExistsError",
    "BackendConfig",
    "Condition",
    "ConflictError",
    "JmoError",
    "JobTemplateSpec",
    "NotFoundError",
    "ScanSchedule",
    "ScheduleManager",
    "ScheduleMetadata",
    "ScheduleSpec",
    "ScheduleStatus",
    "ValidationError",
]
