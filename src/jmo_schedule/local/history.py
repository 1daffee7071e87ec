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

from ..core.files import FILE_MODE, atomic_write, ensure_private_dir, jmo_home, locked
from ..errors import JmoError

# Older records are dropped beyond this many, so the file stays small.
MAX_RECORDS = 500

RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
SKIPPED = "Skipped"


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
    """The whole record of `name` ({"runs": [...], ...}); empty when there is none."""
    path = history_path(name, home)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return _empty()
    except (OSError, ValueError) as exc:
        raise JmoError(f"{path}: cannot read the run history ({exc}); move it aside") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise JmoError(f"{path}: not a jmo-schedule run history; move it aside")
    return data


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
