"""The record of local runs: `$JMO_HOME/runs/<name>.json`, one file per schedule.

Holds the runs `jmo-schedule run` started or skipped (newest last), the status of
schedules that are not in the local store (read with `-f FILE`), and when the schedule
was installed into cron/systemd. Every change holds a cross-process lock and replaces the
file atomically, so concurrent runs of one schedule never lose each other's records.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ..core.files import FILE_MODE, atomic_write, ensure_private_dir, jmo_home, locked, read_json, refuse_link
from ..core.model import SEVERITIES
from ..core.validate import Checker, check_status, check_timestamp, type_name
from ..errors import JmoError

# Older records are dropped beyond this many, so the file stays small.
MAX_RECORDS = 500

RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
SKIPPED = "Skipped"
RESULTS = (RUNNING, SUCCEEDED, FAILED, SKIPPED)


_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def check_name(name: str) -> str:
    """`name` when it is a schedule name (DNS-1123 label), which is safe in file names."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise JmoError(f"{name!r} is not a schedule name (lowercase letters, digits and '-', at most 63)")
    return name


def history_path(name: str, home: str | None = None) -> str:
    return os.path.join(home or jmo_home(), "runs", f"{check_name(name)}.json")


def _empty() -> dict[str, Any]:
    return {"runs": []}


def read(name: str, home: str | None = None) -> dict[str, Any]:
    """The whole record of `name` ({"runs": [...], ...}); empty when there is none. A
    damaged record is a one-line JmoError naming the file and the field."""
    path = history_path(name, home)
    refuse_link(path, "the run history")
    try:
        data = read_json(path, "the run history")
    except FileNotFoundError:
        return _empty()
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise JmoError(f"{path}: not a jmo-schedule run history; move it aside")
    _check(path, data)
    return data


def _check(path: str, data: dict[str, Any]) -> None:
    """Raise for the first field jmo-schedule would misread (or crash on) later."""
    c = Checker(path, None, committed=False)
    if "status" in data:
        check_status(c, data["status"], ("status",))
    if data.get("installedAt") is not None:
        check_timestamp(c, data["installedAt"], ("installedAt",))
    for i, run in enumerate(data["runs"]):
        at: tuple[Any, ...] = ("runs", i)
        if not isinstance(run, dict):
            c.error(at, f"expected a mapping, got {type_name(run)}")
            continue
        c.string(run.get("id"), at + ("id",))
        if "result" in run:
            c.enum(run["result"], at + ("result",), RESULTS)
        for key in ("startTime", "endTime", "scheduledTime"):
            if run.get(key) is not None:
                check_timestamp(c, run[key], at + (key,))
        for key in ("reason", "message", "trigger", "resultsDir", "notification"):
            if run.get(key) is not None:
                c.string(run[key], at + (key,), allow_empty=True, safe=False)
        for key in ("pid", "exitCode"):
            if run.get(key) is not None:
                c.integer(run[key], at + (key,))
        if "pruned" in run:
            c.boolean(run["pruned"], at + ("pruned",))
        if run.get("findings") is not None:
            findings = c.mapping(run["findings"], at + ("findings",), ("total", "counts"))
            if findings is not None:
                if "total" in findings:
                    c.integer(findings["total"], at + ("findings", "total"), 0)
                counts = c.mapping(findings.get("counts", {}), at + ("findings", "counts"), SEVERITIES)
                for severity, count in (counts or {}).items():
                    c.integer(count, at + ("findings", "counts", severity), 0)
        if c.problems:
            break
    if c.problems:
        raise JmoError(f"{c.problems[0]}; fix or remove it")


@contextmanager
def editing(name: str, home: str | None = None) -> Iterator[dict[str, Any]]:
    """Lock the history of `name`, yield it for changes, then write it back atomically."""
    path = history_path(name, home)
    ensure_private_dir(os.path.dirname(path))
    with locked(path):
        data = read(name, home)
        yield data
        runs = data["runs"]
        if len(runs) > MAX_RECORDS:
            data["runs"] = runs[-MAX_RECORDS:]
        atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n", FILE_MODE)


def update_run(name: str, run_id: str, change: Callable[[dict[str, Any]], None], home: str | None = None) -> dict[str, Any] | None:
    """Apply `change` to the record `run_id`; returns it, or None when it is gone."""
    with editing(name, home) as data:
        for record in data["runs"]:
            if record.get("id") == run_id:
                change(record)
                return dict(record)
    return None


def find_run(data: dict[str, Any], run_id: str) -> dict[str, Any] | None:
    return next((r for r in data["runs"] if r.get("id") == run_id), None)


def previous_results(name: str, run_id: str, home: str | None = None) -> str | None:
    """The results folder of the last run of `name` that finished before `run_id` (succeeded
    or failed: a run that failed on its findings is the previous scan all the same) and whose
    folder is still there; None when there is none. What `notify --baseline` compares with."""
    runs = read(name, home)["runs"]
    ids = [r.get("id") for r in runs]
    upto = ids.index(run_id) if run_id in ids else len(runs)
    for record in reversed(runs[:upto]):
        folder = record.get("resultsDir")
        if record.get("result") in (SUCCEEDED, FAILED) and folder and not record.get("pruned") and os.path.isdir(folder):
            return str(folder)
    return None
