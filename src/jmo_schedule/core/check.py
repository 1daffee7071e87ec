"""Checking a schedules file: bytes -> text -> YAML documents -> every problem, with
file:line:column, and the objects without errors as plain data.

This is all `jmo-schedule validate` needs, so it stays light: no model classes (see
loader.py for ScanSchedule objects), no typing, no json.
"""
from __future__ import annotations

import gc
import os

from ..errors import JmoError, Problem
from . import hcron
from .rules import LIST_KIND
from .validate import Checker, check_document, check_duplicates, path_text
from .yamltext import YamlSyntaxError, parse_documents

MAX_FILE_BYTES = 16 * 1024 * 1024
DEFAULT_FILE = "schedules.yaml"  # the schedules file a repository commits, where commands look by default


# Plain classes, not dataclasses: the dataclasses module costs `validate` start-up time.
class CheckedItem:
    """One valid object of a file (a ScanSchedule as plain data, its H cron made concrete)
    and where it sits; `hashed` is what an H cron was resolved from (hcron.HashedCron)."""

    __slots__ = ("data", "file", "line", "column", "doc_index", "path", "hashed")

    def __init__(self, data: dict, file: str, line: int | None, column: int | None, doc_index: int,
                 path: tuple, hashed: hcron.HashedCron | None = None) -> None:
        self.data = data
        self.hashed = hashed
        self.file = file
        self.line = line
        self.column = column
        self.doc_index = doc_index
        self.path = path

    @property
    def name(self) -> str:
        return str(self.data["metadata"]["name"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.file!r}, line={self.line}, column={self.column})"


class CheckedFile:
    """Everything found in one file: the objects without errors, and every problem."""

    __slots__ = ("file", "items", "problems")

    def __init__(self, file: str, items: list | None = None, problems: list[Problem] | None = None) -> None:
        self.file = file
        self.items: list = [] if items is None else items
        self.problems: list[Problem] = [] if problems is None else problems

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.file!r}, items={len(self.items)}, problems={len(self.problems)})"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a schedules file as UTF-8 text, refusing what cannot be one."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise JmoError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise JmoError(f"{name}: is a directory, expected a YAML file") from None
    except PermissionError:
        raise JmoError(f"{name}: permission denied") from None
    except OSError as exc:
        raise JmoError(f"{name}: cannot read: {exc.strerror}") from None
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise JmoError(f"{name}: file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a schedules file is far smaller")
    if b"\x00" in data:
        raise JmoError(f"{name}: not a text file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise JmoError(f"{name}:{line}: not UTF-8 text (invalid byte 0x{data[exc.start]:02x})") from None
    return text


def check_file(path: str | os.PathLike[str], committed: bool = True) -> CheckedFile:
    """Read and check a whole file, collecting every problem."""
    return check_text(read_text(path), os.fspath(path), committed)


def check_text(text: str, filename: str, committed: bool = True) -> CheckedFile:
    """Parse and validate a whole file, collecting every problem; never raises for bad input."""
    # Loading allocates many small objects and frees none: the cyclic collector would scan
    # the growing heap again and again (time growing faster than the file). Nothing here
    # makes reference cycles, so pause it.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _check_text(text, filename, committed)
    finally:
        if paused:
            gc.enable()


def _check_text(text: str, filename: str, committed: bool) -> CheckedFile:
    result = CheckedFile(filename)
    try:
        docs = parse_documents(text)
    except YamlSyntaxError as exc:
        result.problems.append(Problem(filename, exc.line, exc.column, "", exc.message))
        return result
    lines = text.splitlines()
    docs_with_values = [(i, d) for i, d in enumerate(docs) if d.value is not None]
    if not docs_with_values:
        result.problems.append(Problem(filename, None, None, "", "file is empty; expected a ScanSchedule object"))
        return result
    found: list[tuple[str, int | None, int | None, str, str]] = []
    resolver = hcron.Resolver(filename)  # hook (issue 16): H crons hash this file's repository
    for index, doc in docs_with_values:
        c = Checker(filename, doc, committed, lines)
        c.resolver = resolver  # hook (issue 16)
        good = check_document(c, doc.value)
        result.problems.extend(c.problems)
        # Duplicates are judged on every object that has a usable name, valid or not.
        for path, obj in _named_objects(doc.value):
            line, column = doc.where(path + ("metadata", "name"))
            found.append((filename, line, column, path_text(path + ("metadata", "name")), obj["metadata"]["name"]))
        for path, obj in good:
            line, column = doc.where(path)
            if committed and "status" in obj:
                # Ignored, as the warning says: whatever it holds, nothing reads it.
                obj = {key: value for key, value in obj.items() if key != "status"}
            result.items.append(CheckedItem(obj, filename, line, column, index, path))
    check_duplicates(found, result.problems)
    seen: dict[str, int] = {}
    for entry in found:
        seen[entry[4]] = seen.get(entry[4], 0) + 1
    result.items = [i for i in result.items if seen.get(i.name, 0) < 2]
    for item in result.items:  # hook (issue 16): H crons become concrete here, once
        item.data, item.hashed = hcron.resolve_data(item.data, resolver)
    result.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return result


def _named_objects(value: object) -> list[tuple[tuple, dict]]:
    def named(obj: object) -> bool:
        return isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) and isinstance(obj["metadata"].get("name"), str)

    if isinstance(value, dict) and value.get("kind") == LIST_KIND and isinstance(value.get("items"), list):
        return [(("items", i), obj) for i, obj in enumerate(value["items"]) if named(obj)]
    return [((), value)] if named(value) else []  # type: ignore[list-item]
