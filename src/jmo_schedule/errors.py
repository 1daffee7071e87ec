"""Exceptions a user can cause. The CLI catches JmoError once and prints one line."""
from __future__ import annotations

from dataclasses import dataclass


class JmoError(Exception):
    """An error caused by input or environment, printed as one line without a traceback."""


class NotFoundError(JmoError):
    """A named schedule does not exist."""


class AlreadyExistsError(JmoError):
    """create() of a name that is already taken."""


class ConflictError(JmoError):
    """update() of a stale copy: the stored resourceVersion moved on."""


@dataclass(frozen=True)
class Problem:
    """One finding about an input file: where it is, which field, what is wrong."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        prefix = "warning: " if self.severity == "warning" else ""
        field = f"{self.path}: " if self.path else ""
        text = f"{where}: {prefix}{field}{self.message}"
        # One problem, one line, whatever the input held.
        return text.replace("\r", "\\r").replace("\n", "\\n")


class ValidationError(JmoError):
    """One or more problems in an input; str() gives every error, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity != "error"]
        super().__init__("\n".join(str(p) for p in self.problems))
