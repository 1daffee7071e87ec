"""Exceptions a user can cause. The CLI catches JmoError once and prints one line."""
from __future__ import annotations



class JmoError(Exception):
    """An error caused by input or environment, printed as one line without a traceback."""


class NotFoundError(JmoError):
    """A named schedule does not exist."""


class AlreadyExistsError(JmoError):
    """create() of a name that is already taken."""


class ConflictError(JmoError):
    """update() of a stale copy: the stored resourceVersion moved on."""


class Problem:
    """One finding about an input file: where it is, which field, what is wrong.

    Immutable and compared by value. A plain class, not a frozen dataclass: building one of
    those at import costs `jmo-schedule validate` start-up time."""

    __slots__ = ("file", "line", "column", "path", "message", "severity")
    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    severity: str  # "error" | "warning"

    def __init__(self, file: str, line: int | None, column: int | None, path: str, message: str,
                 severity: str = "error") -> None:
        for name, value in zip(self.__slots__, (file, line, column, path, message, severity)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Problem is immutable; cannot set {name!r}")

    def _key(self) -> tuple[object, ...]:
        return (self.file, self.line, self.column, self.path, self.message, self.severity)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "Problem(" + ", ".join(f"{n}={v!r}" for n, v in zip(self.__slots__, self._key())) + ")"

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
