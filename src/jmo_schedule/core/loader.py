"""Loading schedules files into ScanSchedule objects: check.py reads and checks the file,
this builds the model objects of what is valid."""
from __future__ import annotations

import os

from ..errors import ValidationError
from .check import CheckedFile, CheckedItem, DEFAULT_FILE, MAX_FILE_BYTES, decode, read_text
from .check import check_text as check_documents
from .model import ScanSchedule

__all__ = ["DEFAULT_FILE", "MAX_FILE_BYTES", "LoadResult", "Located", "check_file", "check_text", "decode",
           "load_file", "load_text", "read_text"]


class Located(CheckedItem):
    """A schedule plus where it sits in its file."""

    __slots__ = ("schedule",)

    def __init__(self, item: CheckedItem) -> None:
        super().__init__(item.data, item.file, item.line, item.column, item.doc_index, item.path, item.hashed)
        self.schedule = ScanSchedule.from_dict(item.data)
        self.schedule.spec.hashed_from = item.hashed  # hook (issue 16): what an H cron was written as


class LoadResult(CheckedFile):
    """Everything found in one file: the schedules without errors, and every problem."""

    __slots__ = ()

    items: list[Located]

    @property
    def schedules(self) -> list[ScanSchedule]:
        return [i.schedule for i in self.items]


def check_text(text: str, filename: str, committed: bool = True) -> LoadResult:
    """Parse and validate a whole file, collecting every problem; never raises for bad input."""
    checked = check_documents(text, filename, committed)
    return LoadResult(checked.file, [Located(item) for item in checked.items], checked.problems)


def check_file(path: str | os.PathLike[str], committed: bool = True) -> LoadResult:
    return check_text(read_text(path), os.fspath(path), committed)


def load_text(text: str, filename: str, committed: bool = True) -> list[ScanSchedule]:
    """Parse and validate; return the schedules or raise ValidationError with every problem."""
    result = check_text(text, filename, committed)
    if result.errors:
        raise ValidationError(result.problems)
    return result.schedules


def load_file(path: str | os.PathLike[str], committed: bool = True) -> list[ScanSchedule]:
    """Load a committed schedules file; raises ValidationError (all problems) or JmoError."""
    return load_text(read_text(path), os.fspath(path), committed)
