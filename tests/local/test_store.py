"""local/store.py: the private store under faults. A damaged store is a one-line error that
names the file and the field, for every command, and leaves the file as it was; a symbolic
link in its place is refused; a full disk loses nothing; any number of processes may
apply the same file at once."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest

from jmo_schedule.cli import main

FILE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 2 * * *"
  backend: {type: local-cron}
  jobTemplate: {targets: {repo: .}}
"""

# Every command that reads the store, as a user would type it.
COMMANDS = [["list"], ["get", "nightly"], ["describe", "nightly"], ["next", "nightly"], ["suspend", "nightly"],
            ["apply", "-f", "{file}"], ["delete", "nightly"], ["install", "--dry-run"],
            ["run", "nightly", "--now", "2026-01-01T02:00:30Z", "--scanner", "true"]]


@pytest.fixture
def store(jmo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The store holding `nightly`, applied from a file."""
    (tmp_path / "schedules.yaml").write_text(FILE)
    assert main(["apply", "-f", str(tmp_path / "schedules.yaml")]) == 0
    capsys.readouterr()
    return jmo_home / "schedules.json"


def damage(path: Path, change: Callable[[dict[str, Any]], Any]) -> bytes:
    """Rewrite the store through `change` (which edits the data, or returns the new text)."""
    data = json.loads(path.read_text())
    text = change(data)
    path.write_bytes(text if isinstance(text, bytes) else (text or json.dumps(data)).encode())
    return path.read_bytes()


def item(data: dict[str, Any]) -> dict[str, Any]:
    return data["items"][0]  # type: ignore[no-any-return]


CORRUPTIONS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "revision-text": (lambda d: d.update(revision="7"),
                      'revision: expected a whole number of 0 or more, got "7"; fix it or move the store aside'),
    "revision-float": (lambda d: d.update(revision=1.5),
                       "revision: expected a whole number of 0 or more, got 1.5; fix it or move the store aside"),
    "revision-nan": (lambda d: json.dumps(d).replace('"revision": 1', '"revision": NaN'),
                     "the store is not valid JSON (NaN is not a JSON value); fix it or move it aside"),
    "revision-of-5000-digits": (lambda d: json.dumps(d).replace('"revision": 1', '"revision": ' + "9" * 5000),
                                "the store is not valid JSON (a number of 5000 digits); fix it or move it aside"),
    "infinity-in-an-item": (lambda d: json.dumps(d).replace('"failed": 0', '"failed": Infinity'),
                            "the store is not valid JSON (Infinity is not a JSON value); fix it or move it aside"),
    "nested-too-deeply": (lambda d: json.dumps(d)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
                          "the store is nested too deeply to read (jmo-schedule never writes it so); fix it or move "
                          "it aside"),
    "bad-cron": (lambda d: item(d)["spec"].update(schedule="99 * * * *"),
                 "items[0].spec.schedule: minute 99 is outside 0-59; fix or remove it"),
    "bad-zone": (lambda d: item(d)["spec"].update(timezone="Mars/Olympus"),
                 "items[0].spec.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/London); "
                 "fix or remove it"),
    "name-not-text": (lambda d: item(d)["metadata"].update(name=5),
                      "items[0].metadata.name: expected a string, got a number; fix or remove it"),
    "status-count-text": (lambda d: item(d)["status"].update(succeeded="many"),
                          "items[0].status.succeeded: expected a whole number, got a string; fix or remove it"),
    "two-of-one-name": (lambda d: d["items"].append(item(d)),
                        "items[1]: a second schedule named 'nightly'; remove one"),
    "not-utf8": (lambda d: json.dumps(d).encode().replace(b'"nightly"', b'"nightl\xff"', 1),
                 "the store is not UTF-8 text (byte 0xff at offset {offset}); fix it or move it aside"),
}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_store_is_one_line_for_every_command_and_stays_as_it_was(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], corruption: str, command: list[str]) -> None:
    change, message = CORRUPTIONS[corruption]
    before = damage(store, change)
    if "{offset}" in message:
        message = message.format(offset=before.index(b"\xff"))
    argv = [a.format(file=tmp_path / "schedules.yaml") for a in command]
    assert main(argv) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {store}: {message}\n"
    assert store.read_bytes() == before


# --- a symbolic link in the store's place ----------------------------------------------


def test_a_symlinked_store_is_refused_and_neither_link_nor_target_changes(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "dotfiles" / "schedules.json"
    target.parent.mkdir()
    shutil.move(str(store), target)
    os.chmod(target, 0o644)
    store.symlink_to(target)
    before = target.read_bytes()
    for argv in (["list"], ["suspend", "nightly"], ["apply", "-f", str(tmp_path / "schedules.yaml")]):
        assert main(argv) == 1
        assert capsys.readouterr().err == (
            f"jmo-schedule: error: {store}: is a symbolic link; the store must be a regular file (it is kept at 0600 "
            "and replaced on every write): put the file itself there\n")
    assert store.is_symlink() and os.readlink(store) == str(target)
    assert target.read_bytes() == before and stat.S_IMODE(target.stat().st_mode) == 0o644


# --- many processes at once --------------------------------------------------------------


def test_8_processes_applying_one_file_at_once_all_succeed(jmo_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE + "---\n" + FILE.replace("nightly", "weekly").replace('"0 2 * * *"', '"0 3 * * 1"'))
    go = tmp_path / "go"
    # Each process loads, waits for the same moment, then applies. Checking a schedule is
    # made slow (0.3 s) so that every look-up falls inside the others' check-to-write window:
    # a look-up and a write under two locks then always lose the race.
    script = textwrap.dedent(f"""\
        import os, sys, time
        from jmo_schedule.cli import main
        from jmo_schedule.local.manager import ScheduleManager
        check = ScheduleManager._validate
        def slow(self, schedule):
            time.sleep(0.3)
            check(self, schedule)
        ScheduleManager._validate = slow
        while not os.path.exists({str(go)!r}):
            time.sleep(0.001)
        sys.exit(main(["apply", "-f", {str(path)!r}]))
    """)
    env = {**os.environ, "JMO_HOME": str(jmo_home)}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(8)]
    go.touch()
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [(code, err) for code, _, err in results] == [(0, "")] * 8
    lines = sorted(line for _, out, _ in results for line in out.splitlines())
    assert lines == ["scanschedule/nightly created"] + ["scanschedule/nightly unchanged"] * 7 + [
        "scanschedule/weekly created"] + ["scanschedule/weekly unchanged"] * 7
    data = json.loads((jmo_home / "schedules.json").read_text())
    assert [i["metadata"]["name"] for i in data["items"]] in (["nightly", "weekly"], ["weekly", "nightly"])
    assert data["revision"] == 2


# --- a full disk -------------------------------------------------------------------------

FULL_DISK = """\
set -e
mount -t tmpfs -o size=64k,mode=0700 none "$JMO_HOME"
"$PYTHON" -m jmo_schedule apply -f "$FILE" > /dev/null
cp "$JMO_HOME/schedules.json" "$OUT/before.json"
dd if=/dev/zero of="$JMO_HOME/filler" bs=1k count=100 2> /dev/null || true
set +e
"$PYTHON" -m jmo_schedule suspend nightly 2> "$OUT/stderr"
echo $? > "$OUT/code"
cp "$JMO_HOME/schedules.json" "$OUT/after.json"
ls -a "$JMO_HOME" > "$OUT/files"
"""


def _private_mount() -> list[str] | None:
    """How to run a shell in a private mount namespace where tmpfs may be mounted: as root,
    or as root of a new user namespace; None when this machine allows neither."""
    for prefix in (["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"]):
        try:
            probe = subprocess.run([*prefix, "sh", "-c", 'mount -t tmpfs -o size=4k none "$0"', "/tmp"],
                                   capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def _file_size_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), it does not kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "schedules.yaml").write_text(FILE)
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir(mode=0o700)
    out.mkdir()
    env = {**os.environ, "JMO_HOME": str(home), "PYTHON": sys.executable, "FILE": str(tmp_path / "schedules.yaml"),
           "OUT": str(out)}
    prefix = _private_mount()
    if prefix is not None:
        # A real full filesystem: a 64 KiB tmpfs filled to the last byte (ENOSPC).
        proc = subprocess.run([*prefix, "sh", "-c", FULL_DISK], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        code, err, reason = int((out / "code").read_text()), (out / "stderr").read_text(), "No space left on device"
        before, after = (out / "before.json").read_bytes(), (out / "after.json").read_bytes()
        files = (out / "files").read_text().split()
    else:
        # No namespace to mount one in: the kernel refuses the write by a file size limit
        # (EFBIG), a write that really fails, through the same code.
        subprocess.run([sys.executable, "-m", "jmo_schedule", "apply", "-f", env["FILE"]], env=env, check=True,
                       capture_output=True, timeout=120)
        before = (home / "schedules.json").read_bytes()
        proc = subprocess.run([sys.executable, "-m", "jmo_schedule", "suspend", "nightly"], env=env,
                              capture_output=True, text=True, timeout=120, preexec_fn=_file_size_limit)
        code, err, reason = proc.returncode, proc.stderr, "File too large"
        after, files = (home / "schedules.json").read_bytes(), os.listdir(home)
    assert code == 1
    assert err == f"jmo-schedule: error: {home}/schedules.json: cannot write: {reason}\n"
    assert after == before
    assert not [f for f in files if f.endswith(".tmp")]
