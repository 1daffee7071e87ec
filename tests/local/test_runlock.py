"""Run slots: held while a process lives, stale (and taken over) once it is gone."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys

import pytest

from jmo_schedule.local import runlock
from jmo_schedule.errors import JmoError

HOLDER = """
import os, sys, time
sys.path[:0] = {path!r}
from jmo_schedule.local import runlock
with runlock.schedule_mutex("s"):
    slot = runlock.open_slot("s", "r1")
    slot.write_info(runId="r1", pid=os.getpid(), pgid=os.getpgrp(), scheduledTime="2026-11-25T02:00:00Z")
print("ready", flush=True)
time.sleep(60)
"""


def first_line(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    """The child's first line; a child that never prints fails the test instead of hanging it."""
    assert proc.stdout is not None
    if not select.select([proc.stdout], [], [], timeout)[0]:
        proc.kill()
        raise AssertionError(f"the child printed nothing in {timeout}s")
    return proc.stdout.readline()


def holder() -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(path=sys.path)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert first_line(proc) == "ready\n"
    return proc


def test_a_live_slot_is_active_and_a_dead_one_is_stale_and_removed() -> None:
    proc = holder()
    try:
        with runlock.schedule_mutex("s"):
            active, stale = runlock.scan_slots("s")
        assert [(a.run_id, a.pid, a.pgid, a.scheduled_time) for a in active] == [
            ("r1", proc.pid, proc.pid, "2026-11-25T02:00:00Z")]
        assert stale == []
        assert runlock.count_active("s") == 1
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert runlock.count_active("s") == 0
    with runlock.schedule_mutex("s"):
        active, stale = runlock.scan_slots("s")
    assert active == [] and [s.run_id for s in stale] == ["r1"]
    assert sorted(os.listdir(runlock.locks_dir("s"))) == [".mutex"]


def test_own_slot_lifecycle() -> None:
    with runlock.schedule_mutex("s"):
        slot = runlock.open_slot("s", "mine")
    assert runlock.count_active("s") == 1
    assert not slot.replaced()
    runlock.mark_replaced("s", "mine")
    assert slot.replaced()
    slot.release()
    slot.release()  # twice is harmless
    assert runlock.count_active("s") == 0
    assert os.listdir(runlock.locks_dir("s")) == [".mutex"]


def test_mutex_timeout_message() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c",
         f"import sys, time; sys.path[:0] = {sys.path!r}\nfrom jmo_schedule.local import runlock\n"
         "with runlock.schedule_mutex('s'):\n    print('in', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert first_line(proc) == "in\n"
        path = os.path.join(runlock.locks_dir("s"), ".mutex")
        with pytest.raises(JmoError) as exc:
            with runlock.schedule_mutex("s", timeout=0.1):
                pass
        assert str(exc.value) == f"{path}: another jmo-schedule run holds this lock for over 0s"
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_terminate_group_escalates_to_sigkill() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
         "print('ready', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert first_line(proc) == "ready\n"
    assert runlock.terminate_group(proc.pid, 0.2, lambda: proc.poll() is None) is True
    assert proc.wait(timeout=10) == -signal.SIGKILL
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    assert runlock.terminate_group(polite.pid, 5, lambda: polite.poll() is None) is False
    assert polite.wait(timeout=10) == -signal.SIGTERM
    assert runlock.terminate_group(polite.pid, 1, lambda: False) is False  # already gone


def test_wait_released() -> None:
    with runlock.schedule_mutex("s"):
        slot = runlock.open_slot("s", "x")
    assert runlock.wait_released("s", "x", 0.05) is False
    slot.release()
    assert runlock.wait_released("s", "x", 0.05) is True
