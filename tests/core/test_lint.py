"""lint.py and `validate --strict`: round minutes on GitHub and GitLab, kubernetes without a
deadline, same-minute collisions per backend, and scans that take longer than the gap
between their runs (local run history)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jmo_schedule.core import lint
from jmo_schedule.cli import main
from jmo_schedule.commands.validate import recorded_runs
from jmo_schedule.core.check import check_file

UTC = timezone.utc
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def doc(name: str, cron: str, backend: str, *extra: str, zone: str = "UTC") -> str:
    lines = ["apiVersion: jmo.security/v1alpha1", "kind: ScanSchedule", "metadata:", f"  name: {name}", "spec:",
             f'  schedule: "{cron}"', f"  timezone: {zone}", f"  backend: {{type: {backend}}}", *extra]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, *docs: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text("---\n".join(docs))
    return path


def linted(path: Path, now: datetime = NOW) -> list[str]:
    result = check_file(path)
    assert result.errors == []
    return [str(p) for p in lint.lint(result, now, runs=recorded_runs)]


def test_round_minutes_on_github_and_gitlab(tmp_path: Path) -> None:
    path = write(tmp_path, doc("a", "30 2 * * *", "github-actions"), doc("b", "0 3 * * *", "gitlab-ci"),
                 doc("c", "30 4 * * 1", "gitlab-ci"), doc("d", "0 5 * * *", "github-actions"),
                 doc("e", "0 6 * * *", "local-cron"), doc("f", "H 7 * * *", "gitlab-ci"))
    assert linted(path) == [
        f"{path}:6:13: warning: spec.schedule: fires at minute 30, a round minute where schedules pile up too; write "
        "the minute as H (H 2 * * *) to spread it, or pick another minute such as 17",
        f"{path}:15:13: warning: spec.schedule: fires at minute 0, when GitLab's pipeline schedules pile up: GitLab "
        "names top-of-the-hour schedules its biggest source of queue congestion; write the minute as H (H 3 * * *) to "
        "spread it, or pick another minute such as 17",
        f"{path}:24:13: warning: spec.schedule: fires at minute 30, a round minute where schedules pile up too; write "
        "the minute as H (H 4 * * 1) to spread it, or pick another minute such as 17",
    ]
    # d (GitHub, minute 0) is warned about by loading already, so the lint does not repeat it.
    assert [str(p) for p in check_file(path).warnings] == [
        f"{path}:33:13: warning: spec.schedule: fires at minute 0, when GitHub Actions is busiest: scheduled runs start "
        "late or are dropped most then; write the minute as H (H 5 * * *) to spread it, or pick another minute such "
        "as 17"]


def test_kubernetes_without_starting_deadline(tmp_path: Path) -> None:
    path = write(tmp_path, doc("k", "17 2 * * *", "kubernetes"),
                 doc("ok", "19 2 * * *", "kubernetes", "  startingDeadlineSeconds: 3600"))
    assert linted(path) == [
        f"{path}:5:1: warning: spec: no startingDeadlineSeconds: a run the CronJob controller missed starts however "
        "late, and after more than 100 missed schedules it starts none; set one, such as 3600"]


def test_same_minute_on_one_backend_across_zones_and_dst(tmp_path: Path) -> None:
    path = write(tmp_path,
                 doc("berlin", "15 2 * * *", "gitlab-ci", zone="Europe/Berlin"),
                 doc("weekly", "15 1 * * 1", "gitlab-ci"),
                 doc("gap", "45 2 * * *", "gitlab-ci", zone="Europe/Berlin"),
                 doc("other-backend", "15 1 * * *", "github-actions"),
                 doc("paused", "15 1 * * *", "gitlab-ci", "  suspend: true"))
    assert linted(path) == [
        f"{path}:15:13: warning: spec.schedule: fires in the same minute as berlin on gitlab-ci, first at "
        "2026-01-05T01:15Z; write the minute as H so each schedule gets its own",
        # 02:15 and 02:45 do not exist in Berlin on 2026-03-29: both run at 03:00 CEST.
        f"{path}:24:13: warning: spec.schedule: fires in the same minute as berlin on gitlab-ci, first at "
        "2026-03-29T01:00Z; write the minute as H so each schedule gets its own",
    ]


def test_two_hashed_minutes_that_meet_get_ranges_as_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jmo_schedule.core import hcron

    monkeypatch.setenv("JMO_SCHEDULE_REPOSITORY", "github.com/acme/app")
    # Find two names whose H minute is the same (1 in 60): a fact of the hash, not of the code.
    minutes: dict[str, str] = {}
    for i in range(200):
        minute = hcron.resolve("H 2 * * *", "github.com/acme/app", f"s{i}").split()[0]
        if minute in minutes:
            first, second = minutes[minute], f"s{i}"
            break
        minutes[minute] = f"s{i}"
    path = write(tmp_path, doc(first, "H 2 * * *", "kubernetes", "  startingDeadlineSeconds: 600"),
                 doc(second, "H 2 * * *", "kubernetes", "  startingDeadlineSeconds: 600"))
    assert linted(path) == [
        f"{path}:16:13: warning: spec.schedule: fires in the same minute as {first} on kubernetes, first at "
        f"2026-01-01T02:{int(minute):02d}Z; their minutes hashed alike: give them H(a-b) ranges that do not overlap, "
        "such as H(0-29) and H(30-59)"]


def runs_file(home: Path, name: str, durations_min: list[int], skipped: int = 0) -> None:
    runs = []
    for i, minutes in enumerate(durations_min):
        start = datetime(2025, 12, 1, i % 24, 0, tzinfo=UTC)
        end = start.timestamp() + minutes * 60
        runs.append({"id": f"r{i}", "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "endTime": datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "result": "Succeeded" if i % 3 else "Failed"})
    runs += [{"id": f"s{i}", "startTime": "2025-12-02T00:00:00Z", "endTime": "2025-12-02T00:00:00Z",
              "result": "Skipped"} for i in range(skipped)]
    (home / "runs").mkdir(parents=True, exist_ok=True)
    (home / "runs" / f"{name}.json").write_text(json.dumps({"runs": runs}))


def test_recorded_scans_longer_than_the_gap_between_runs(tmp_path: Path, jmo_home: Path) -> None:
    path = write(tmp_path, doc("hourly", "17 * * * *", "local-cron"), doc("quick", "19 * * * *", "local-cron"),
                 doc("daily", "21 2 * * *", "local-cron"))
    runs_file(jmo_home, "hourly", [50, 70, 75, 80, 95], skipped=3)
    runs_file(jmo_home, "quick", [5, 10, 65])
    runs_file(jmo_home, "daily", [70, 80])
    assert linted(path) == [
        f"{path}:6:13: warning: spec.schedule: fires every 1h 00m 00s at the shortest, but its recorded scans take "
        "1h 15m 00s (median of 5, longest 1h 35m 00s): with concurrencyPolicy Forbid runs that are due while one is "
        "still going are skipped; fire less often"]


def test_without_run_history_nothing_is_read(tmp_path: Path, jmo_home: Path) -> None:
    path = write(tmp_path, doc("hourly", "17 * * * *", "local-cron"))
    assert not jmo_home.exists()
    assert linted(path) == []


def test_validate_strict_makes_every_warning_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, doc("k", "17 2 * * *", "kubernetes"))
    assert main(["validate", "-f", str(path), "--now", "2026-01-01T00:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert (out, err.startswith(f"{path}:5:1: warning: spec: no startingDeadlineSeconds")) == (
        f"{path}: 1 schedule, valid\n", True)
    assert main(["validate", "-f", str(path), "--strict", "--now", "2026-01-01T00:00:00Z"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == (
        f"{path}: 1 error\n",
        f"{path}:5:1: spec: no startingDeadlineSeconds: a run the CronJob controller missed starts however late, and "
        "after more than 100 missed schedules it starts none; set one, such as 3600\n")


def test_strict_turns_github_annotations_into_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, doc("a", "30 2 * * *", "github-actions"))
    assert main(["validate", "-f", str(path), "--strict", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        f"::error file={path},line=6,col=13,title=jmo-schedule%3A spec.schedule::fires at minute 30, a round minute "
        "where schedules pile up too; write the minute as H (H 2 * * *) to spread it, or pick another minute such as 17")


def test_a_collision_reads_the_same_all_year(tmp_path: Path) -> None:
    # The message is a Code Quality fingerprint on GitLab: it must not move from day to day.
    path = write(tmp_path, doc("a", "17 2 * * 1", "gitlab-ci"), doc("b", "17 2 1 * *", "gitlab-ci"))
    said = {tuple(linted(path, now)) for now in (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 30, 12, tzinfo=UTC),
                                                  datetime(2026, 12, 31, 23, 59, tzinfo=UTC))}
    assert said == {(f"{path}:15:13: warning: spec.schedule: fires in the same minute as a on gitlab-ci, first at "
                     "2026-06-01T02:17Z; write the minute as H so each schedule gets its own",)}
