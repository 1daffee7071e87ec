"""The local store: `~/.jmo/schedules.json` (`$JMO_HOME` overrides the folder), or a store
file the caller names. Private: the file is kept at 0600 and the default folder at 0700, a
looser mode is tightened with a warning; a symbolic link in the store's place is refused.
It keeps status and may hold literal webhook URLs. Items a write does not touch are
written back exactly as they were read.

Every read checks the whole store (its revision, and each item as `validate` checks a
schedule) before anything uses it: a damaged store is a one-line error naming the file and
the field, and nothing is written until it is fixed.
"""
from __future__ import annotations

import json
import os
from typing import Any, ContextManager

from ..core.files import FILE_MODE, atomic_write, ensure_private_dir, fix_mode, jmo_home, locked, read_json, refuse_link
from ..core.model import API_VERSION, LIST_KIND, ScanSchedule
from ..core.validate import Checker, check_schedule
from ..errors import JmoError

STORE_NAME = "schedules.json"


def default_path() -> str:
    """Where the local store lives: `$JMO_HOME/schedules.json`, else ~/.jmo/schedules.json."""
    return os.path.join(jmo_home(), STORE_NAME)


class Store:
    """The private store at `path`: {"apiVersion", "kind": ScanScheduleList, "revision", "items"}.
    Owner-only (0600 in a 0700 folder), status kept, literal webhook URLs allowed."""

    def __init__(self, path: str, own_dir: bool = True):
        self.path = path
        # The default folder (~/.jmo) is ours to keep at 0700; the folder of a store the
        # caller named (maybe their working directory) is created private but never chmod-ed.
        self._own_dir = own_dir
        self._extra: dict[str, Any] = {}
        self._revision = 0
        self._raw: dict[int, tuple[ScanSchedule, dict[str, Any]]] = {}

    def _prepare(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        if self._own_dir or not os.path.isdir(directory):
            ensure_private_dir(directory)
        refuse_link(self.path, "the store")
        fix_mode(self.path, FILE_MODE)

    def lock(self) -> ContextManager[None]:
        """The store's cross-process lock (a `.lock` file beside it)."""
        self._prepare()
        return locked(self.path)

    def read_raw(self) -> dict[str, Any]:
        refuse_link(self.path, "the store")
        fix_mode(self.path, FILE_MODE)
        try:
            data = read_json(self.path, "the store")
        except FileNotFoundError:
            return {"apiVersion": API_VERSION, "kind": LIST_KIND, "revision": 0, "items": []}
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise JmoError(f"{self.path}: not a jmo-schedule store (expected a ScanScheduleList with items)")
        revision = data.get("revision", 0)
        if type(revision) is not int or revision < 0:
            raise JmoError(f"{self.path}: revision: expected a whole number of 0 or more, got {json.dumps(revision)[:40]}; "
                           "fix it or move the store aside")
        return data

    def read(self) -> list[ScanSchedule]:
        data = self.read_raw()
        self._revision = data.get("revision", 0)
        self._extra = {k: v for k, v in data.items() if k not in ("apiVersion", "kind", "revision", "items")}
        out = []
        self._raw = {}
        names: set[str] = set()
        for i, item in enumerate(data["items"]):
            checker = Checker(self.path, None, committed=False)
            if not check_schedule(checker, item, ("items", i), list_item=True):
                problem = next(p for p in checker.problems if p.severity == "error")
                raise JmoError(f"{problem}; fix or remove it")
            try:
                schedule = ScanSchedule.from_dict(item)
            except (TypeError, KeyError, AttributeError, ValueError):
                raise JmoError(f"{self.path}: items[{i}] is not a valid ScanSchedule; fix or remove it") from None
            if schedule.name in names:
                raise JmoError(f"{self.path}: items[{i}]: a second schedule named {schedule.name!r}; remove one")
            names.add(schedule.name)
            out.append(schedule)
            self._raw[id(schedule)] = (schedule, item)
        return out

    def _save(self, items: list[ScanSchedule], touched: ScanSchedule | None) -> None:
        self._revision += 1
        if touched is not None:
            touched.metadata.resourceVersion = str(self._revision)
        head = {"apiVersion": API_VERSION, "kind": LIST_KIND, "revision": self._revision, **self._extra}
        # One schedule per line: json's C encoder (no indent) keeps big stores fast to write,
        # and a line per item still reads and diffs well.
        lines = ",\n".join("  " + json.dumps(self._as_dict(s, touched), ensure_ascii=False) for s in items)
        text = json.dumps(head, ensure_ascii=False)[:-1] + ', "items": [\n' + lines + ("\n" if lines else "") + "]}\n"
        atomic_write(self.path, text, FILE_MODE)

    def _as_dict(self, schedule: ScanSchedule, touched: ScanSchedule | None) -> dict[str, Any]:
        # Items read and not touched by this write are written back as they were read.
        kept = self._raw.get(id(schedule))
        if schedule is not touched and kept is not None and kept[0] is schedule:
            return kept[1]
        return schedule.to_dict()

    def write_create(self, items: list[ScanSchedule], new: ScanSchedule) -> None:
        self._save(items + [new], new)

    def write_update(self, items: list[ScanSchedule], changed: ScanSchedule) -> None:
        self._save([changed if s.metadata.name == changed.metadata.name else s for s in items], changed)

    def write_delete(self, items: list[ScanSchedule], name: str) -> None:
        self._save([s for s in items if s.metadata.name != name], None)
