"""store.py: atomic writes, the cross-process lock, owner-only permissions."""
from __future__ import annotations

import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from jmo_schedule.errors import JmoError
from jmo_schedule.core.files import DIR_MODE, FILE_MODE, JmoWarning, atomic_write, ensure_private_dir, fix_mode, jmo_home, locked


def test_jmo_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JMO_HOME", str(tmp_path / "h"))
    assert jmo_home() == str(tmp_path / "h")
    monkeypatch.delenv("JMO_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert jmo_home() == str(tmp_path / ".jmo")


def test_atomic_write_replaces_and_sets_mode(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    atomic_write(str(path), "one")
    assert path.read_text() == "one" and stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    atomic_write(str(path), b"two", 0o644)
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["f.json"]


def test_atomic_write_failure_keeps_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.json"
    atomic_write(str(path), "old")

    def fail(src: str, dst: str) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(JmoError) as exc:
        atomic_write(str(path), "new")
    assert str(exc.value) == f"{path}: cannot write: Invalid cross-device link"
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["f.json"]


def test_atomic_write_not_durable_skips_fsync_but_still_replaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.yml"
    target.write_text("old")
    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd))
    atomic_write(str(target), "new", 0o644, durable=False)
    assert calls == []
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yml"]
    atomic_write(str(target), "newer", 0o644)
    assert len(calls) == 2  # the default stays durable: the file and its folder


def test_ensure_private_dir(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    ensure_private_dir(str(target))
    assert stat.S_IMODE(target.stat().st_mode) == DIR_MODE
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JmoError, match=r"file/sub: cannot create directory: Not a directory$"):
        ensure_private_dir(str(blocker / "sub"))


def test_fix_mode_warns_only_when_loose(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    os.chmod(path, 0o600)
    fix_mode(str(path), FILE_MODE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(recwarn) == 0
    os.chmod(path, 0o604)
    with pytest.warns(JmoWarning, match=r"had permissions 0604; changed to 0600$"):
        fix_mode(str(path), FILE_MODE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fix_mode(str(tmp_path / "missing"), FILE_MODE)  # nothing to fix


def test_fix_mode_owner_only_is_left_alone(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    os.chmod(path, 0o400)
    fix_mode(str(path), FILE_MODE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o400 and len(recwarn) == 0


def _hold(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    with locked(path):
        ready.set()
        time.sleep(seconds)


def test_lock_excludes_other_processes_and_times_out(tmp_path: Path) -> None:
    path = str(tmp_path / "store.json")
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(path, 3, ready))
    holder.start()
    assert ready.wait(10)
    with pytest.raises(JmoError) as exc:
        with locked(path, timeout=0.2):
            pass
    assert str(exc.value) == f"{path}: another jmo-schedule process holds the lock ({path}.lock) for over 0.2s"
    holder.terminate()
    holder.join(10)
    assert holder.exitcode == -15  # it held the lock until terminated (SIGTERM)
    with locked(path, timeout=5):
        pass
    assert stat.S_IMODE(os.stat(path + ".lock").st_mode) == FILE_MODE
