"""local/history.py: a damaged run history is a one-line error that names the file and the
field, for every command that reads it, and stays as it was."""
from __future__ import annotations

import json
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from jmo_schedule.cli import main
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.local import history as run_history
from jmo_schedule.local.manager import ScheduleManager


@pytest.fixture
def history(jmo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The history of `nightly` after one real run (scanner `true`)."""
    ScheduleManager(clock=lambda: datetime(2025, 12, 31, tzinfo=timezone.utc)).create(ScanSchedule(
        metadata=ScheduleMetadata(name="nightly"),
        spec=ScheduleSpec(schedule="0 2 * * *", backend=BackendConfig(type="local-cron"),
                          jobTemplate=JobTemplateSpec(targets={"repo": str(tmp_path)},
                                                      results={"dir": str(tmp_path / "results")}))))
    assert main(["run", "nightly", "--now", "2026-01-01T02:00:30Z", "--scanner", "true"]) == 0
    capsys.readouterr()
    path = Path(run_history.history_path("nightly"))
    data = json.loads(path.read_text())
    assert [sorted(r) for r in data["runs"]] == [["endTime", "exitCode", "findings", "id", "message", "pid", "reason",
                                                   "result", "resultsDir", "scheduledTime", "startTime"]]
    return path


def first(data: dict[str, Any]) -> dict[str, Any]:
    return data["runs"][0]  # type: ignore[no-any-return]


DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "runs-not-a-list": (lambda d: d.update(runs={}), "not a jmo-schedule run history; move it aside"),
    "run-not-a-mapping": (lambda d: d.update(runs=[5]), "runs[0]: expected a mapping, got a number; fix or remove it"),
    "id-missing": (lambda d: first(d).pop("id") and None, "runs[0].id: expected a string, got null; fix or remove it"),
    "start-not-a-time": (lambda d: first(d).update(startTime="yesterday"),
                         "runs[0].startTime: 'yesterday' is not an RFC 3339 time such as 2025-10-29T02:00:00Z; fix or "
                         "remove it"),
    "result-unknown": (lambda d: first(d).update(result="Exploded"),
                       "runs[0].result: 'Exploded' is not one of Running, Succeeded, Failed, Skipped; fix or remove it"),
    "results-dir-number": (lambda d: first(d).update(resultsDir=5),
                           "runs[0].resultsDir: expected a string, got a number; fix or remove it"),
    "pid-text": (lambda d: first(d).update(pid="12"), "runs[0].pid: expected a whole number, got a string; fix or "
                                                      "remove it"),
    "pruned-text": (lambda d: first(d).update(pruned="yes"),
                    "runs[0].pruned: expected true or false, got a string; fix or remove it"),
    "finding-count-text": (lambda d: first(d).update(findings={"total": 3, "counts": {"HIGH": "3"}}),
                           "runs[0].findings.counts.HIGH: expected a whole number, got a string; fix or remove it"),
    "installed-at-number": (lambda d: d.update(installedAt=5),
                            "installedAt: expected a string, got a number; fix or remove it"),
    "status-negative": (lambda d: d.update(status={"failed": -1}), "status.failed: -1 is less than 0; fix or remove it"),
    "nan": (lambda d: json.dumps(d).replace('"exitCode": 0', '"exitCode": NaN'),
            "the run history is not valid JSON (NaN is not a JSON value); fix it or move it aside"),
    "nested-too-deeply": (lambda d: json.dumps(d)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
                          "the run history is nested too deeply to read (jmo-schedule never writes it so); fix it or "
                          "move it aside"),
    "not-utf8": (lambda d: b"\xff" + json.dumps(d).encode(),
                 "the run history is not UTF-8 text (byte 0xff at offset 0); fix it or move it aside"),
}

# Every command that reads the history of a schedule.
COMMANDS = [["history", "nightly"], ["run", "nightly", "--now", "2026-01-02T02:00:30Z", "--scanner", "true"],
            ["trigger", "nightly", "--scanner", "true"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_history_is_one_line_for_every_command_and_stays_as_it_was(
        history: Path, capsys: pytest.CaptureFixture[str], damage: str, command: list[str]) -> None:
    change, message = DAMAGE[damage]
    data = json.loads(history.read_text())
    text = change(data)
    history.write_bytes(text if isinstance(text, bytes) else (text or json.dumps(data)).encode())
    before = history.read_bytes()
    assert main(command) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {history}: {message}\n"
    assert history.read_bytes() == before


def test_a_symlinked_history_is_refused_and_neither_link_nor_target_changes(
        history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere.json"
    history.rename(target)
    target.chmod(0o644)
    history.symlink_to(target)
    before = target.read_bytes()
    for command in COMMANDS:
        assert main(command) == 1
        assert capsys.readouterr().err == (
            f"jmo-schedule: error: {history}: is a symbolic link; the run history must be a regular file (it is kept "
            "at 0600 and replaced on every write): put the file itself there\n")
    assert history.is_symlink() and target.read_bytes() == before and stat.S_IMODE(target.stat().st_mode) == 0o644
