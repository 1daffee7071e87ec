"""`jmo-schedule calendar`: where schedules come from, the window, the formats and the
one-line errors."""
from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import icalendar
import pytest

from jmo_schedule.cli import main

FILE = textwrap.dedent("""\
    apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: nightly
      annotations:
        description: Nightly scan, all repos
    spec:
      schedule: "H 2 * * *"
      timezone: America/New_York
      startingDeadlineSeconds: 3600
      backend: {type: github-actions}
    ---
    apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: weekly
    spec:
      schedule: "17 3 * * 1"
      timezone: Europe/London
      backend: {type: gitlab-ci}
    """)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JMO_SCHEDULE_REPOSITORY", "github.com/acme/app")
    (tmp_path / "schedules.yaml").write_text(FILE)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["calendar", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_from_the_default_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # H 2 for nightly of github.com/acme/app is minute 2 (sha256, see test_hcron.py).
    code, out, err = run(capsys, "--from", "2026-03-08T00:00:00Z", "--to", "2026-03-10T00:00:00Z")
    assert (code, err) == (0, "")
    assert out == (
        "Runs after 2026-03-08 00:00Z until 2026-03-10 00:00Z: 3 runs of 2 schedules\n"
        "  nightly: cron 'H 2 * * *' -> '2 2 * * *' in America/New_York on github-actions\n"
        "  weekly: cron '17 3 * * 1' in Europe/London on gitlab-ci\n"
        "\n"
        "UTC                 SCHEDULE   BACKEND          LOCAL                  NOTES\n"
        "2026-03-08 07:00Z   nightly    github-actions   2026-03-08 03:00 EDT   spring-forward: 02:02 does not exist on "
        "2026-03-08 (clocks go forward 02:00 EST -> 03:00 EDT): runs once at 03:00 EDT, the first instant after the gap\n"
        "2026-03-09 03:17Z   weekly     gitlab-ci        2026-03-09 03:17 GMT\n"
        "2026-03-09 06:02Z   nightly    github-actions   2026-03-09 02:02 EDT\n")


def test_names_select_and_the_default_window_is_a_week_from_now(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "weekly", "--now", "2026-03-02T00:00:00Z")
    assert code == 0 and out.splitlines()[0] == (
        "Runs after 2026-03-02 00:00Z until 2026-03-09 00:00Z: 1 run of 1 schedule")
    assert out.splitlines()[-1].startswith("2026-03-02 03:17Z   weekly")


def test_ics_is_crlf_and_reads_back(workdir: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code = main(["calendar", "-o", "ics", "--from", "2026-03-08T00:00:00Z", "--to", "2026-03-15T00:00:00Z",
                 "--now", "2026-03-07T00:00:00Z"])
    data = capsysbinary.readouterr().out
    assert code == 0 and data.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert len(events) == 8
    repo = hashlib.sha256(b"github.com/acme/app").hexdigest()[:12]
    assert str(events[0]["UID"]) == f"nightly-20260308T070000Z-{repo}@jmo-schedule"
    assert str(events[0]["DESCRIPTION"]).startswith("Nightly scan, all repos\nSchedule: cron 'H 2 * * *' -> '2 2 * * *'")


def test_json_from_the_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   example_file: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./schedules.yaml: the store
    assert main(["apply", "-f", str(example_file)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "prod-backend-scan", "-o", "json", "--from", "2026-03-08T00:00:00Z", "--to",
                       "2026-03-09T12:00:00Z")
    assert code == 0 and [item["time"] for item in __import__("json").loads(out)] == [
        "2026-03-08T01:00:00Z", "2026-03-09T01:00:00Z"]


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--from", "2026-03-08T00:00:00Z", "--to", "2026-03-08T00:00:00Z"], 2,
     "jmo-schedule calendar: error: --to must be later than --from (see 'jmo-schedule calendar --help')\n"),
    (["--from", "2026-01-01T00:00:00Z", "--to", "2027-01-03T00:00:00Z"], 2,
     "jmo-schedule calendar: error: the window is longer than 366 days; ask for less (--from/--to) "
     "(see 'jmo-schedule calendar --help')\n"),
    (["nightly", "gone", "lost"], 1, "jmo-schedule: error: schedule 'gone', 'lost' not found in schedules.yaml\n"),
    (["--from", "yesterday"], 2, "jmo-schedule calendar: error: argument --from: 'yesterday' is not an ISO 8601 time "
                                 "such as 2026-03-08T07:00:00Z (see 'jmo-schedule calendar --help')\n"),
    (["-f", "missing.yaml"], 1, "jmo-schedule: error: missing.yaml: no such file\n"),
])
def test_errors_are_one_line(workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int,
                             message: str) -> None:
    try:
        got = main(["calendar", *argv])
    except SystemExit as exc:  # argparse's own errors exit from the parser
        got = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert (got, out, err) == (code, "", message)


def test_days_sets_the_window_and_is_checked(tmp_path, capsys) -> None:
    from jmo_schedule.cli import main

    path = tmp_path / "schedules.yaml"
    path.write_text('apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata: {name: nightly}\n'
                    'spec: {schedule: "30 1 * * *", backend: {type: local-cron}, jobTemplate: {targets: {repo: .}}}\n')
    assert main(["calendar", "-f", str(path), "--days", "3", "--now", "2026-03-01T00:00:00Z", "-o", "json"]) == 0
    import json
    runs = json.loads(capsys.readouterr().out)
    assert [r["time"] for r in runs] == ["2026-03-01T01:30:00Z", "2026-03-02T01:30:00Z", "2026-03-03T01:30:00Z"]
    with pytest.raises(SystemExit) as exit_367:
        main(["calendar", "-f", str(path), "--days", "367"])
    assert exit_367.value.code == 2
    assert capsys.readouterr().err == ("jmo-schedule calendar: error: argument --days: expected a whole number of days "
                                       "from 1 to 366, got '367' (see 'jmo-schedule calendar --help')\n")
    with pytest.raises(SystemExit) as exit_both:
        main(["calendar", "-f", str(path), "--days", "2", "--to", "2026-03-05T00:00:00Z"])
    assert exit_both.value.code == 2
    assert "argument --to: not allowed with argument --days" in capsys.readouterr().err
