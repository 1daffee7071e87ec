"""The user guide's import path: `from jmo_schedule.schedule_manager import *`."""
from .errors import AlreadyExistsError, ConflictError, JmoError, NotFoundError, ValidationError
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
