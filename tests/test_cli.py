"""cli.py: every core command through main(argv), a few through the real executable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jmo_schedule import __version__
from jmo_schedule.cli import CORE_COMMANDS, build_parser, main
from jmo_schedule.core.yamltext import parse_documents

NOW = "2026-03-07T12:00:00Z"  # the day before New York springs forward
SECRET = "https://hooks.slack.com/services/T0000/B0000/SECRETSECRET"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), err


@pytest.fixture
def stored(capsys: pytest.CaptureFixture[str], example_file: Path) -> None:
    assert main(["apply", "-f", str(example_file)]) == 0
    capsys.readouterr()


def write(tmp_path: Path, text: str, name: str = "schedules.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


BAD = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
spec:
  schedule: "0 25 * * *"
  timezone: Mars/Base
"""


# --------------------------------------------------------------------------------------
# validate


def test_validate_ok(capsys: pytest.CaptureFixture[str], example_file: Path) -> None:
    code, out, err = run(capsys, "validate", "-f", str(example_file))
    # Clean, the schedule lint included: a new user's first command prints no warning.
    assert (code, out, err) == (0, f"{example_file}: 4 schedules, valid\n", "")


def test_validate_default_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               example_file: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schedules.yaml").write_text(example_file.read_text())
    assert run(capsys, "validate")[0] == 0


def test_validate_reports_every_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, BAD)
    code, out, err = run(capsys, "validate", "-f", "schedules.yaml")
    assert code == 1
    assert err == (
        "schedules.yaml:6:16: spec.schedule: hour 25 is outside 0-23\n"
        "schedules.yaml:7:13: spec.timezone: unknown time zone 'Mars/Base' (use an IANA name such as Europe/London)\n"
    )
    assert out == "schedules.yaml: 2 errors\n"


def test_validate_quiet_and_several_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, example_file: Path) -> None:
    bad = write(tmp_path, BAD)
    code, out, err = run(capsys, "validate", "-q", "-f", str(example_file), "-f", bad)
    assert code == 1 and out == "" and len(err.splitlines()) == 2


def test_validate_warning_only_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, BAD.replace('"0 25 * * *"', '"* * * * *"').replace("Mars/Base", "UTC")
                 + "  backend: {type: github-actions}\n")
    code, out, err = run(capsys, "validate", "-f", path)
    assert code == 0
    assert err == (f"{path}:6:13: warning: spec.schedule: fires more often than every 5 minutes; GitHub Actions "
                   "runs schedules at most every 5 minutes\n")


def test_validate_never_echoes_a_webhook(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, BAD.replace('"0 25 * * *"', '"0 2 * * *"').replace("Mars/Base", "UTC") + textwrap.indent(
        f"jobTemplate:\n  notifications:\n    channels: [{{type: slack, url: '{SECRET}'}}]\n", "  "))
    code, out, err = run(capsys, "validate", "-f", path)
    assert code == 1 and "SECRET" not in out + err and "hooks.slack.com" not in out + err
    assert "write url: ${SLACK_WEBHOOK_URL}" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "schedules.yaml: not a text file (it contains NUL bytes)"),
        (b"a: \xff\n", "schedules.yaml:1: not UTF-8 text (invalid byte 0xff)"),
    ],
)
def test_unreadable_files_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      content: bytes, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schedules.yaml").write_bytes(content)
    for command in (["validate", "-f", "schedules.yaml"], ["apply", "-f", "schedules.yaml"],
                    ["next", "-f", "schedules.yaml"], ["list", "-f", "schedules.yaml"]):
        code, out, err = run(capsys, *command)
        assert (code, out, err) == (1, "", f"jmo-schedule: error: {message}\n"), command


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "schedules.yaml: file is empty; expected a ScanSchedule object"),
        ("a: [\n", "schedules.yaml:2:1: invalid YAML: did not find expected node content"),
        ("[" * 3000 + "]" * 3000, "schedules.yaml:1:1001: invalid YAML: exceeded maximum nesting depth"),
    ],
)
def test_malformed_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         content: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schedules.yaml").write_text(content)
    code, out, err = run(capsys, "validate", "-f", "schedules.yaml")
    assert (code, err) == (1, message + "\n")
    code, out, err = run(capsys, "apply", "-f", "schedules.yaml")
    assert (code, out, err) == (1, "", message + "\n")


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "validate", "-f", str(tmp_path / "nope.yaml"))
    assert (code, out, err) == (1, "", f"jmo-schedule: error: {tmp_path / 'nope.yaml'}: no such file\n")


# --------------------------------------------------------------------------------------
# apply / create / get / list / describe / delete / suspend / resume / next


def test_apply_then_unchanged_then_configured(capsys: pytest.CaptureFixture[str], example_file: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "apply", "-f", str(example_file))
    assert code == 0 and out.splitlines() == [
        "scanschedule/weekly-scan created", "scanschedule/nightly-scan created",
        "scanschedule/comprehensive-scan created", "scanschedule/prod-backend-scan created"]
    assert run(capsys, "apply", "-f", str(example_file))[1].count("unchanged") == 4
    changed = write(tmp_path, example_file.read_text().replace('"23 2 * * 1"', '"23 4 * * 1"'))
    assert run(capsys, "apply", "-f", changed)[1].splitlines()[0] == "scanschedule/weekly-scan configured"


def test_apply_of_an_invalid_file_changes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path, jmo_home: Path) -> None:
    code, out, err = run(capsys, "apply", "-f", write(tmp_path, BAD))
    assert code == 1 and out == "" and len(err.splitlines()) == 2
    assert not (jmo_home / "schedules.json").exists()


def test_create_is_all_or_nothing(capsys: pytest.CaptureFixture[str], example_file: Path, tmp_path: Path, stored: None) -> None:
    code, out, err = run(capsys, "delete", "nightly-scan")
    code, out, err = run(capsys, "create", "-f", str(example_file))
    assert code == 1 and out == ""
    assert err.startswith("jmo-schedule: error: 'weekly-scan', 'comprehensive-scan', 'prod-backend-scan' already exist in ")
    assert err.endswith("; nothing was created (use apply to update)\n")
    assert run(capsys, "get", "nightly-scan")[0] == 1
    one = write(tmp_path, example_file.read_text().split("---\n")[1])
    assert run(capsys, "create", "-f", one)[1] == "scanschedule/nightly-scan created\n"


def test_get_yaml_and_json(capsys: pytest.CaptureFixture[str], stored: None) -> None:
    code, out, _ = run(capsys, "get", "weekly-scan")
    data = parse_documents(out)[0].value
    assert code == 0 and data["spec"]["schedule"] == "23 2 * * 1" and data["metadata"]["generation"] == 1
    assert data["status"]["nextScheduleTime"] is not None
    code, out, _ = run(capsys, "get", "weekly-scan", "-o", "json")
    assert json.loads(out)["metadata"]["labels"] == {"team": "security", "environment": "production"}


def test_get_from_a_file_has_no_status(capsys: pytest.CaptureFixture[str], example_file: Path) -> None:
    code, out, _ = run(capsys, "get", "nightly-scan", "-f", str(example_file), "-o", "json")
    assert code == 0 and "status" not in json.loads(out)


def test_get_missing_is_one_line_exit_1(capsys: pytest.CaptureFixture[str], jmo_home: Path) -> None:
    assert run(capsys, "get", "nope") == (
        1, "", f"jmo-schedule: error: schedule 'nope' not found in {jmo_home / 'schedules.json'}\n")


def test_secrets_are_masked_in_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = BAD.replace('"0 25 * * *"', '"0 2 * * *"').replace("Mars/Base", "UTC") + textwrap.indent(
        f"jobTemplate:\n  notifications:\n    channels: [{{type: slack, url: '{SECRET}'}}]\n", "  ")
    assert run(capsys, "apply", "-f", write(tmp_path, text))[0] == 0  # the private store may hold it
    outputs = [run(capsys, *argv)[1] for argv in (
        ["get", "weekly-scan"], ["get", "weekly-scan", "-o", "json"], ["list", "-o", "json"], ["list", "-o", "yaml"],
        ["describe", "weekly-scan"], ["list", "-o", "wide"])]
    for out in outputs:
        assert "SECRET" not in out
    assert "https://hooks.slack.com/***" in outputs[0] and "slack https://hooks.slack.com/***" in outputs[4]


def test_list_table_shows_next_run_in_each_zone(capsys: pytest.CaptureFixture[str], stored: None) -> None:
    code, out, err = run(capsys, "list", "--now", NOW)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "NAME                 SCHEDULE     TIMEZONE           BACKEND          SUSPENDED   NEXT RUN",
        "comprehensive-scan   0 3 * * 1    Europe/London      kubernetes       no          2026-03-09 03:00 GMT",
        "nightly-scan         17 2 * * *   America/New_York   github-actions   no          2026-03-08 03:00 EDT",
        "prod-backend-scan    0 1 * * *    UTC                local-cron       no          2026-03-08 01:00 UTC",
        "weekly-scan          23 2 * * 1   UTC                gitlab-ci        no          2026-03-09 02:23 UTC",
    ]


def test_list_wide_and_selector(capsys: pytest.CaptureFixture[str], stored: None) -> None:
    code, out, _ = run(capsys, "list", "-o", "wide", "-l", "environment=production,team in (backend,security)",
                       "--now", NOW)
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "BACKEND", "SUSPENDED", "NEXT", "RUN", "PROFILE",
                                "CONCURRENCY", "LABELS", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == ["prod-backend-scan", "weekly-scan"]
    import re

    assert re.split(r"\s{2,}", lines[2])[-2:] == ["environment=production,team=security", "At 02:23 on Monday (UTC)"]


def test_list_json_yaml_and_empty(capsys: pytest.CaptureFixture[str], stored: None, jmo_home: Path) -> None:
    data = json.loads(run(capsys, "list", "-o", "json")[1])
    assert data["kind"] == "ScanScheduleList" and len(data["items"]) == 4
    data = parse_documents(run(capsys, "list", "-o", "yaml", "-l", "!team")[1])[0].value
    assert [i["metadata"]["name"] for i in data["items"]] == ["comprehensive-scan"]
    assert run(capsys, "list", "-l", "team=nobody") == (
        0, "", f"no schedules match 'team=nobody' in {jmo_home / 'schedules.json'}\n")
    assert run(capsys, "list", "-l", "a in b")[0] == 1


def test_list_of_a_file(capsys: pytest.CaptureFixture[str], example_file: Path) -> None:
    code, out, _ = run(capsys, "list", "-f", str(example_file), "--now", NOW)
    assert code == 0 and len(out.splitlines()) == 5


def test_describe(capsys: pytest.CaptureFixture[str], stored: None) -> None:
    code, out, _ = run(capsys, "describe", "nightly-scan", "--now", NOW)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Name:                 nightly-scan"
    assert "Schedule:             17 2 * * *" in lines
    assert "Description:          At 02:17 (America/New_York)" in lines
    assert "Starting Deadline:    3600s" in lines
    assert lines[-4:] == [
        "Next Runs:",
        "  2026-03-08 03:00 EDT  (2026-03-08T07:00:00Z)",  # 02:00 does not exist that day
        "  2026-03-09 02:17 EDT  (2026-03-09T06:17:00Z)",
        "  2026-03-10 02:17 EDT  (2026-03-10T06:17:00Z)",
    ]
    assert any(line.startswith("  Ready=True  Created: Schedule created successfully") for line in lines)


def test_delete(capsys: pytest.CaptureFixture[str], stored: None, jmo_home: Path) -> None:
    assert run(capsys, "delete", "weekly-scan") == (0, "scanschedule/weekly-scan deleted\n", "")
    assert run(capsys, "delete", "weekly-scan") == (
        1, "", f"jmo-schedule: error: schedule 'weekly-scan' not found in {jmo_home / 'schedules.json'}\n")


def test_suspend_and_resume(capsys: pytest.CaptureFixture[str], stored: None) -> None:
    assert run(capsys, "suspend", "weekly-scan") == (0, "scanschedule/weekly-scan suspended\n", "")
    assert run(capsys, "suspend", "weekly-scan") == (0, "scanschedule/weekly-scan already suspended\n", "")
    out = run(capsys, "list", "--now", NOW)[1]
    assert [line for line in out.splitlines() if line.startswith("weekly-scan")][0].split()[-2:] == ["yes", "-"]
    assert "Next Runs:            <suspended>" in run(capsys, "describe", "weekly-scan")[1]
    assert run(capsys, "next", "weekly-scan")[1].splitlines()[1] == "  suspended: no runs"
    assert run(capsys, "resume", "weekly-scan") == (0, "scanschedule/weekly-scan resumed\n", "")
    assert run(capsys, "resume", "weekly-scan") == (0, "scanschedule/weekly-scan already active\n", "")
    assert json.loads(run(capsys, "get", "weekly-scan", "-o", "json")[1])["metadata"]["generation"] == 3


def test_suspend_in_a_committed_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, example_file: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(example_file.read_text())
    assert run(capsys, "suspend", "weekly-scan", "-f", str(path))[0] == 0
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema/schedules.schema.json\n")
    # Only `suspend: true` is added, after weekly-scan's timezone (the model's order).
    assert text == example_file.read_text().replace(
        "  schedule: \"23 2 * * 1\"   # every Monday at 02:23\n  timezone: UTC\n",
        "  schedule: \"23 2 * * 1\"   # every Monday at 02:23\n  timezone: UTC\n  suspend: true\n", 1)


def test_next_of_a_stored_schedule(capsys: pytest.CaptureFixture[str], stored: None) -> None:
    code, out, _ = run(capsys, "next", "nightly-scan", "--count", "3", "--now", NOW)
    assert (code, out) == (0, textwrap.dedent("""\
        nightly-scan: 17 2 * * *  At 02:17 (America/New_York)
          2026-03-08 03:00 EDT     2026-03-08T07:00:00Z
          2026-03-09 02:17 EDT     2026-03-09T06:17:00Z
          2026-03-10 02:17 EDT     2026-03-10T06:17:00Z
        """))


def test_next_of_a_file(capsys: pytest.CaptureFixture[str], example_file: Path) -> None:
    code, out, _ = run(capsys, "next", "-f", str(example_file), "-n", "1", "--now", "2026-03-07T12:00:00+00:00")
    assert code == 0 and out.count(":00Z") == 4
    code, out, _ = run(capsys, "next", "comprehensive-scan", "-f", str(example_file), "-n", "1", "--now", NOW)
    assert out == "comprehensive-scan: 0 3 * * 1  At 03:00 on Monday (Europe/London)\n  2026-03-09 03:00 GMT     2026-03-09T03:00:00Z\n"
    assert run(capsys, "next", "nope", "-f", str(example_file))[2] == (
        f"jmo-schedule: error: schedule 'nope' not found in {example_file}\n")


def test_next_without_a_name_or_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "next") == (2, "", "jmo-schedule next: error: name a schedule (jmo-schedule next NAME) or a "
                                          "file (jmo-schedule next -f FILE) (see 'jmo-schedule next --help')\n")


# --------------------------------------------------------------------------------------
# usage, help, version


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "jmo-schedule: error: the following arguments are required: COMMAND (see 'jmo-schedule --help')"),
        (["bogus"], "jmo-schedule: error: argument COMMAND: invalid choice: 'bogus'"),
        (["get"], "jmo-schedule get: error: the following arguments are required: NAME (see 'jmo-schedule get --help')"),
        (["list", "-o", "xml"], "jmo-schedule list: error: argument -o/--output: invalid choice: 'xml' (choose from "
                                "'table', 'wide', 'json', 'yaml') (see 'jmo-schedule list --help')"),
        (["next", "x", "-n", "0"], "jmo-schedule next: error: argument -n/--count: 0 is outside 1-1000"),
        # ASCII digits only, any length (int() reads '\u0663' and '1_0', and refuses 5000 digits).
        (["next", "x", "-n", "\u0663"], "jmo-schedule next: error: argument -n/--count: '\u0663' is not a whole number"),
        (["next", "x", "-n", "1_0"], "jmo-schedule next: error: argument -n/--count: '1_0' is not a whole number"),
        (["next", "x", "-n", "9" * 5000], "jmo-schedule next: error: argument -n/--count: 999999999999... "
                                          "(5000 characters) is outside 1-1000"),
        (["history", "x", "-n", "0" * 40 + "5000"], "jmo-schedule history: error: argument -n/--last: "
                                                    "000000000000... (44 characters) is outside 1-1000"),
        (["next", "x", "--now", "tomorrow"], "jmo-schedule next: error: argument --now: 'tomorrow' is not an ISO 8601 "
                                             "time such as 2026-03-08T07:00:00Z"),
        (["apply"], "jmo-schedule apply: error: the following arguments are required: -f/--file"),
        (["list", "--now", "9999-12-31T23:59:00Z"], "jmo-schedule list: error: argument --now: "
                                                    "'9999-12-31T23:59:00Z' is outside the years 1970-9000"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, err = usage(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(message)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"jmo-schedule {__version__}\n", "")


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    top = capsys.readouterr().out
    assert exc.value.code == 0
    assert "examples:" in top and "$JMO_HOME" in top
    assert all(f"    {command}" in top for command in CORE_COMMANDS)
    for command in CORE_COMMANDS:
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        text = capsys.readouterr().out
        assert exc.value.code == 0
        assert "example" in text and "jmo-schedule " + command in text, command


def test_lazy_parser_builds_only_the_chosen_command() -> None:
    import argparse

    parser = build_parser(["list"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == ["list"]
    sub = next(a for a in build_parser([])._actions if isinstance(a, argparse._SubParsersAction))
    assert {"validate", "list", "next"} <= set(sub.choices)


def test_no_traceback_for_a_corrupt_store(capsys: pytest.CaptureFixture[str], jmo_home: Path) -> None:
    jmo_home.mkdir(mode=0o700)
    (jmo_home / "schedules.json").write_text("{not json")
    os.chmod(jmo_home / "schedules.json", 0o600)
    code, out, err = run(capsys, "list")
    assert code == 1 and err.startswith("jmo-schedule: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_loose_store_permissions_warn_in_one_line(capsys: pytest.CaptureFixture[str], stored: None, jmo_home: Path) -> None:
    os.chmod(jmo_home / "schedules.json", 0o644)
    code, out, err = run(capsys, "get", "weekly-scan")
    assert code == 0
    assert err == f"jmo-schedule: warning: {jmo_home / 'schedules.json'} had permissions 0644; changed to 0600\n"


# --------------------------------------------------------------------------------------
# The real executable


def exe() -> str:
    return str(Path(sys.executable).parent / "jmo-schedule")


def test_executable_version_and_validate(example_file: Path) -> None:
    result = subprocess.run([exe(), "--version"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"jmo-schedule {__version__}\n", "")
    result = subprocess.run([exe(), "validate", "-f", str(example_file)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")


def test_executable_exit_codes_and_one_line_errors(tmp_path: Path) -> None:
    bad = write(tmp_path, BAD)
    result = subprocess.run([exe(), "validate", "-f", bad], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "hour 25 is outside 0-23" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([exe(), "bogus"], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(os.urandom(4096) + b"\x00")
    result = subprocess.run([exe(), "apply", "-f", str(junk)], capture_output=True, text=True, check=False,
                            env=dict(os.environ, JMO_HOME=str(tmp_path / "home")))
    assert (result.returncode, result.stderr) == (1, f"jmo-schedule: error: {junk}: not a text file (it contains NUL bytes)\n")


def test_executable_list_in_a_fresh_home(tmp_path: Path, example_file: Path) -> None:
    env = dict(os.environ, JMO_HOME=str(tmp_path / "home"))
    subprocess.run([exe(), "apply", "-f", str(example_file)], env=env, check=True, capture_output=True)
    result = subprocess.run([exe(), "list", "--now", NOW], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 5
    assert oct(os.stat(tmp_path / "home").st_mode & 0o777) == "0o700"


# --------------------------------------------------------------------------------------
# Start-up cost (bench/cli_startup.py measures it; these keep heavy imports out)

PROBE = """\
import sys
from jmo_schedule.cli import main
code = main(sys.argv[1:])
heavy = ("argparse", "yaml", "ruamel", "requests", "urllib3", "http.client", "ssl", "typing", "shutil",
         "dataclasses", "croniter", "cron_descriptor", "filelock", "json")
print(code, sorted(m for m in heavy if m in sys.modules), file=sys.stderr)
"""


def _loaded(*argv: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=False)
    return result.stderr.strip().splitlines()[-1]


def test_version_imports_nothing_heavy() -> None:
    assert _loaded("--version") == "0 []"


def test_validate_imports_only_what_it_needs(example_file: Path) -> None:
    # argparse and PyYAML are needed; nothing else on the list (no model classes: dataclasses).
    assert _loaded("validate", "-f", str(example_file)) == "0 ['argparse', 'yaml']"


# --------------------------------------------------------------------------------------
# Terminal output: no value reaches the screen as an escape sequence or a line break


def test_describe_escapes_what_the_store_holds(capsys: pytest.CaptureFixture[str], stored: None,
                                               jmo_home: Path) -> None:
    # The store is a file its owner may edit; status messages are not validated text.
    store = jmo_home / "schedules.json"
    store.write_text(store.read_text().replace("Schedule created successfully", "ok\\u001b[2J\\u009b31m\\u2028x"))
    code, out, _ = run(capsys, "describe", "nightly-scan", "--now", NOW)
    assert code == 0
    assert "  Ready=True  Created: ok\\x1b[2J\\x9b31m\\u2028x (since " in out
    assert not any(ch in out for ch in "\x1b\x9b\u2028")
    code, out, _ = run(capsys, "get", "nightly-scan", "-o", "json")
    assert code == 0 and '"message": "ok\\u001b[2J\\u009b31m\\u2028x"' in out
    assert not any(ch in out for ch in "\x1b\x9b\u2028")


def test_history_escapes_what_a_record_holds(capsys: pytest.CaptureFixture[str], jmo_home: Path) -> None:
    from jmo_schedule.local.history import history_path

    path = Path(history_path("edited"))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"runs": [
        {"id": "1", "startTime": "2026-03-08T07:00:00Z", "result": "Failed", "reason": "a\nb\u0085c\u001b[31m",
         "resultsDir": "/r\u009b2J"},
    ]}))
    code, out, _ = run(capsys, "history", "edited")
    assert code == 0
    assert out.splitlines() == [
        "STARTED                TRIGGER    DURATION   RESULT   REASON              FINDINGS   RESULTS",
        "2026-03-08T07:00:00Z   schedule   -          Failed   a\\nb\\x85c\\x1b[31m   -          /r\\x9b2J",
    ]


def test_errors_escape_file_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    name = str(tmp_path / "x\x1b]0;owned\x07\u2028.yaml")
    assert run(capsys, "validate", "-f", name) == (
        1, "", f"jmo-schedule: error: {tmp_path}/x\\x1b]0;owned\\x07\\u2028.yaml: no such file\n")
