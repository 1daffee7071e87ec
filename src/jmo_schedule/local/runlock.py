"""Per-schedule run slots for `jmo-schedule run`: who is running, surviving crashes.

Each active run holds an exclusive `flock` on its own slot file
(`$JMO_HOME/locks/<name>/<run-id>.lock`) for as long as it lives. The kernel drops a
flock when the last process holding it exits, however it exits, so a slot whose lock can
be taken belongs to a dead run: it is stale and is taken over (removed, and reported to
the caller so the run's record can say it crashed). The scan process inherits the lock,
so a scan that outlives a killed runner still counts as active.

Beside each slot, `<run-id>.json` records the run id, pid, the process group of the
child being run (scan or report; Replace signals it) and the scheduled time. A short
per-schedule mutex (`<name>.mutex`, also a flock) makes "look at the slots, then add
mine" one step, so two runs started at once cannot both see "nothing active".
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..core.files import FILE_MODE, atomic_write, ensure_private_dir, jmo_home
from ..errors import JmoError
from .history import check_name

# How long a run waits for the mutex; it is held only for a few file operations.
MUTEX_TIMEOUT = 30.0


@dataclass(frozen=True)
class SlotInfo:
    """What a slot's sidecar says about the run holding it."""

    run_id: str
    pid: int | None
    pgid: int | None
    scheduled_time: str | None

    @classmethod
    def from_dict(cls, run_id: str, data: dict[str, Any]) -> SlotInfo:
        def num(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

        return cls(run_id, num("pid"), num("pgid"), data.get("scheduledTime"))


def locks_dir(name: str, home: str | None = None) -> str:
    return os.path.join(home or jmo_home(), "locks", check_name(name))


@contextlib.contextmanager
def schedule_mutex(name: str, home: str | None = None, timeout: float = MUTEX_TIMEOUT) -> Iterator[None]:
    """Hold the schedule's short mutex (cross-process)."""
    folder = locks_dir(name, home)
    ensure_private_dir(os.path.dirname(folder))
    ensure_private_dir(folder)
    path = os.path.join(folder, ".mutex")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise JmoError(f"{path}: another jmo-schedule run holds this lock for over {timeout:.0f}s") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # closing drops the flock


class Slot:
    """This process's slot: an open, flock'd file that marks the run as active."""

    def __init__(self, name: str, run_id: str, fd: int, folder: str):
        self.name = name
        self.run_id = run_id
        self.fd = fd
        self.folder = folder
        self.lock_path = os.path.join(folder, f"{run_id}.lock")
        self.info_path = os.path.join(folder, f"{run_id}.json")
        self._info: dict[str, Any] = {}

    def write_info(self, **fields: Any) -> None:
        """Update the sidecar (atomic replace, so readers never see half of it)."""
        self._info.update({k: v for k, v in fields.items()})
        atomic_write(self.info_path, json.dumps(self._info, sort_keys=True) + "\n", FILE_MODE)

    def replaced(self) -> bool:
        """True once another run (concurrencyPolicy Replace) has asked this one to stop."""
        return os.path.exists(os.path.join(self.folder, f"{self.run_id}.replaced"))

    def release(self) -> None:
        """Remove the slot (under the mutex, so a checker never mistakes it for a crash)."""
        if self.fd < 0:
            return
        with schedule_mutex(self.name, os.path.dirname(os.path.dirname(self.folder))):
            for suffix in (".json", ".replaced", ".lock"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.folder, self.run_id + suffix))
            os.close(self.fd)
            self.fd = -1


def _held(path: str) -> bool | None:
    """Whether some live process holds the flock on `path`; None when the file is gone."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return True
            raise
        return False
    finally:
        os.close(fd)


def _read_info(folder: str, run_id: str) -> SlotInfo:
    try:
        with open(os.path.join(folder, f"{run_id}.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        data = {}
    return SlotInfo.from_dict(run_id, data if isinstance(data, dict) else {})


def scan_slots(name: str, home: str | None = None) -> tuple[list[SlotInfo], list[SlotInfo]]:
    """(active, stale) slots of `name`. Stale slot files are removed: call under the mutex."""
    folder = locks_dir(name, home)
    active: list[SlotInfo] = []
    stale: list[SlotInfo] = []
    try:
        entries = sorted(os.listdir(folder))
    except FileNotFoundError:
        return active, stale
    for entry in entries:
        if not entry.endswith(".lock"):
            continue
        run_id = entry[: -len(".lock")]
        held = _held(os.path.join(folder, entry))
        if held is None:
            continue
        info = _read_info(folder, run_id)
        if held:
            active.append(info)
        else:
            stale.append(info)
            for suffix in (".json", ".replaced", ".lock"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, run_id + suffix))
    return active, stale


def count_active(name: str, home: str | None = None) -> int:
    """How many runs of `name` are alive right now (no cleanup; safe without the mutex)."""
    folder = locks_dir(name, home)
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        return 0
    return sum(1 for e in entries if e.endswith(".lock") and _held(os.path.join(folder, e)))


def is_active(name: str, run_id: str, home: str | None = None) -> bool:
    """Whether the run `run_id` of `name` is alive (holds its slot)."""
    return bool(_held(os.path.join(locks_dir(name, home), f"{run_id}.lock")))


def open_slot(name: str, run_id: str, home: str | None = None) -> Slot:
    """Create and lock this run's slot. Call under the mutex."""
    folder = locks_dir(name, home)
    ensure_private_dir(folder)
    path = os.path.join(folder, f"{run_id}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return Slot(name, run_id, fd, folder)


def mark_replaced(name: str, run_id: str, home: str | None = None) -> None:
    """Tell the run `run_id` it is being replaced (it stops after its current step)."""
    path = os.path.join(locks_dir(name, home), f"{run_id}.replaced")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.close(fd)


def terminate_group(pgid: int, grace: float, still_running: Callable[[], bool]) -> bool:
    """SIGTERM the process group `pgid`, then SIGKILL it if `still_running()` after `grace`
    seconds. Returns True when SIGKILL was needed."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        raise JmoError(f"cannot signal process group {pgid}: permission denied") from None
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not still_running():
            return False
        time.sleep(0.02)
    if not still_running():
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return True


def wait_released(name: str, run_id: str, timeout: float, home: str | None = None) -> bool:
    """Wait until the slot `run_id` is no longer held; False on timeout."""
    path = os.path.join(locks_dir(name, home), f"{run_id}.lock")
    deadline = time.monotonic() + timeout
    while True:
        if not _held(path):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` still exists (zombies of our own children aside)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = [
    "Slot",
    "SlotInfo",
    "count_active",
    "is_active",
    "group_alive",
    "locks_dir",
    "mark_replaced",
    "open_slot",
    "scan_slots",
    "schedule_mutex",
    "terminate_group",
    "wait_released",
]
