"""Every exception a user can cause, under one base: JmoError. The CLI catches it once
and prints one line (exit 1; UsageError exit 2); a traceback means a bug in the tool."""
from __future__ import annotations

from .printable import printable


class JmoError(Exception):
    """An error caused by input or environment, printed as one line without a traceback."""


class JmoWarning(UserWarning):
    """A problem jmo-schedule fixed or tolerated; the CLI prints it as one line."""


class UsageError(JmoError):
    """Arguments that parse but do not make sense together: one line, exit 2."""


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
        # One problem, one line, no terminal escape sequence, whatever the input held.
        return printable(f"{where}: {prefix}{field}{self.message}")


class ValidationError(JmoError):
    """One or more problems in an input; str() gives every error, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity != "error"]
        super().__init__("\n".join(str(p) for p in self.problems))


class CronError(JmoError, ValueError):
    """A cron expression that cannot be used; `offset` is where in the text the problem is."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message = message
        self.offset = offset


class YamlSyntaxError(JmoError):
    """Text that is not YAML; `line` and `column` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class FindingsError(JmoError):
    """A results file is missing, too large or not the expected format."""


class NotifyError(JmoError):
    """A notification that could not be delivered while `strict` was asked for."""


class SyncConflictError(JmoError):
    """A path the generators want is held by a file jmo-schedule did not generate."""


class NotPushed(JmoError):
    """The regenerated files could not be pushed (one line, never the token)."""


class ApiError(JmoError):
    """A platform API (GitHub, GitLab) refused or failed a request. The message is one line
    and never holds a credential; `status` is the HTTP status when the server answered."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def denied(self) -> bool:
        """The token lacks a permission or cannot see the resource (401, 403, 404)."""
        return self.status in (401, 403, 404)


class GitHubError(ApiError):
    """The GitHub API refused or failed a request."""


class GitLabError(ApiError):
    """The GitLab API refused or failed a request."""


class CheckError(ApiError):
    """The guard could not ask who else is running; `denied` when the token lacks the permission."""

    def __init__(self, message: str, *, denied: bool = False, status: int | None = None):
        super().__init__(message, status)
        self._denied = denied

    @property
    def denied(self) -> bool:
        return self._denied or super().denied
