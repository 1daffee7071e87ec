"""validate's CI output formats: GitHub annotations + step summary, GitLab Code Quality, JSON."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jmo_schedule.pipeline import validate_report as vr
from jmo_schedule.cli import main
from jmo_schedule.errors import Problem
from jmo_schedule.core.loader import check_text

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

BAD = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: a
spec:
  schedule: "0 2 * * 8"
  timzone: UTC
"""

GOOD = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "30 2 * * *"
  timezone: Europe/Berlin
  backend: {type: github-actions}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: paused
spec:
  schedule: "0 3 * * 1"
  suspend: true
  backend: {type: gitlab-ci}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- escaping (GitHub's workflow-command rules) ----------------------------------------


def test_escape_data_follows_the_runner() -> None:
    assert vr.escape_data("100% a\r\nb") == "100%25 a%0D%0Ab"
    assert vr.escape_data("a: b, c") == "a: b, c"


def test_escape_property_also_escapes_colon_and_comma() -> None:
    assert vr.escape_property("dir/a:b,c%\n") == "dir/a%3Ab%2Cc%25%0A"


def test_annotation_cannot_be_broken_out_of() -> None:
    p = Problem("we,ird:name.yaml", 3, 5, "spec.x", "bad\n::error::injected %0A")
    line = vr.github_annotation(p)
    assert line == (
        "::error file=we%2Cird%3Aname.yaml,line=3,col=5,title=jmo-schedule%3A spec.x"
        "::bad%0A::error::injected %250A"
    )
    assert "\n" not in line


def test_annotation_without_position_and_warning() -> None:
    assert vr.github_annotation(Problem("f.yaml", None, None, "", "file is empty", "warning")) == (
        "::warning file=f.yaml,title=jmo-schedule::file is empty"
    )


def test_annotation_paths_are_repository_relative(tmp_path: Path) -> None:
    p = Problem(str(tmp_path / "ops" / "s.yaml"), 1, 1, "spec", "x")
    assert "file=ops/s.yaml," in vr.github_annotation(p, str(tmp_path))
    outside = Problem("/elsewhere/s.yaml", 1, 1, "spec", "x")
    assert "file=/elsewhere/s.yaml," in vr.github_annotation(outside, str(tmp_path))


def test_errors_come_before_warnings() -> None:
    report = vr.FileReport("f", None, None, [
        Problem("f", 1, 1, "a", "w", "warning"), Problem("f", 2, 1, "b", "e"),
    ])
    lines = vr.github_annotations([report]).splitlines()
    assert lines[0].startswith("::error ") and lines[1].startswith("::warning ")


# -- step summary ---------------------------------------------------------------------


def test_step_summary_lists_every_schedule_with_next_three_runs() -> None:
    report = vr.FileReport.from_result(check_text(GOOD, "schedules.yaml"))
    md = vr.step_summary([report], NOW)
    assert "| Name | Cron | Zone | Description | Next three runs | Backend | Suspended |" in md
    assert (
        "| `nightly` | `30 2 * * *` | Europe/Berlin | At 02:30 (Europe/Berlin) | "
        "2026-11-26 02:30 CET<br>2026-11-27 02:30 CET<br>2026-11-28 02:30 CET | github-actions | no |"
    ) in md
    assert "| `paused` | `0 3 * * 1` | UTC |" in md
    assert "| suspended | gitlab-ci | yes |" in md
    assert "`schedules.yaml`: 2 schedules, valid." in md
    assert md.endswith("\n")


def test_step_summary_lists_problems_and_escapes_pipes() -> None:
    report = vr.FileReport("s.yaml", None, None, [Problem("s.yaml", 4, 2, "spec.a", "x | y\nz")])
    md = vr.step_summary([report], NOW)
    assert "| `s.yaml:4:2` | spec.a | x \\| y z |" in md
    assert "1 error." in md


# -- code quality / json ----------------------------------------------------------------


def test_codequality_has_gitlab_fields_and_stable_fingerprints() -> None:
    report = vr.FileReport.from_result(check_text(BAD, "schedules.yaml"))
    issues = json.loads(vr.codequality([report]))
    assert [i["location"] for i in issues] == [
        {"path": "schedules.yaml", "lines": {"begin": 6}},
        {"path": "schedules.yaml", "lines": {"begin": 7}},
    ]
    assert issues[1]["description"] == "spec.timzone: unknown field (did you mean timezone?)"
    assert {i["severity"] for i in issues} == {"major"}
    assert {i["check_name"] for i in issues} == {"jmo-schedule-validate"}
    # A line moving (an added comment) keeps the fingerprint, so the MR widget sees no new issue.
    shifted = vr.FileReport.from_result(check_text("# comment\n" + BAD, "schedules.yaml"))
    assert [i["fingerprint"] for i in json.loads(vr.codequality([shifted]))] == [i["fingerprint"] for i in issues]
    assert len({i["fingerprint"] for i in issues}) == 2


def test_codequality_is_an_empty_array_when_valid() -> None:
    report = vr.FileReport.from_result(check_text(GOOD, "s.yaml"))
    assert json.loads(vr.codequality([report])) == []


def test_json_report() -> None:
    good = vr.FileReport.from_result(check_text(GOOD, "g.yaml"))
    bad = vr.FileReport.from_result(check_text(BAD, "b.yaml"))
    data = json.loads(vr.json_report([good, bad]))
    assert data["valid"] is False
    assert data["files"][0] == {"file": "g.yaml", "valid": True, "schedules": ["nightly", "paused"], "problems": []}
    assert data["files"][1]["problems"][0] == {
        "file": "b.yaml", "line": 6, "column": 22, "path": "spec.schedule",
        "message": "day of week 8 is outside 0-7", "severity": "error",
    }


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_github_format(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    bad = write(tmp_path, "bad.yaml", BAD)
    good = write(tmp_path, "good.yaml", GOOD)
    rc = main(["validate", "-f", bad, "-f", good, "--format", "github", "--now", "2026-11-25T12:00:00Z"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "::error file=bad.yaml,line=6,col=22,title=jmo-schedule%3A spec.schedule::day of week 8 is outside 0-7\n" in out
    assert f"{bad}:7:3: spec.timzone: unknown field (did you mean timezone?)" in err
    text = summary.read_text()
    assert text.startswith("earlier step\n## jmo-schedule validate")  # appended, never replaced
    assert "| `nightly` |" in text and "| `bad.yaml:6:22` |" in text


def test_cli_github_format_without_summary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "g.yaml", GOOD)
    assert main(["validate", "-f", path, "--format", "github"]) == 0
    out = capsys.readouterr().out
    # Valid: the only annotations are the schedule lint's warnings (round minutes).
    assert [line.split("::")[1] for line in out.splitlines() if line.startswith("::")] == [
        f"warning file={path},line=6,col=13,title=jmo-schedule%3A spec.schedule",
        f"warning file={path},line=15,col=13,title=jmo-schedule%3A spec.schedule",
    ]
    assert "2 schedules, valid" in out


def test_cli_codequality_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "gl-code-quality.json"
    missing = str(tmp_path / "nope.yaml")
    rc = main(["validate", "-f", missing, "--format", "codequality", "--output", str(report)])
    assert rc == 1
    issues = json.loads(report.read_text())
    assert issues[0]["description"] == "no such file"
    assert issues[0]["location"] == {"path": missing, "lines": {"begin": 1}}
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"{missing}: no such file\n{missing}: 1 error\n"  # the log still shows every problem


def test_cli_codequality_paths_relative_to_project_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path))
    assert main(["validate", "-f", write(tmp_path, "b.yaml", BAD), "--format", "codequality"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["location"]["path"] == "b.yaml"


def test_cli_json_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", write(tmp_path, "g.yaml", GOOD), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_cli_text_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(tmp_path / "x.yaml")]) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {tmp_path / 'x.yaml'}: no such file\n"


def test_cli_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "no-dir" / "r.json"
    assert main(["validate", "-f", write(tmp_path, "g.yaml", GOOD), "--format", "json", "--output", str(out)]) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {out}: cannot write: No such file or directory\n"


def test_cli_bad_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--format", "sarif"])
    assert exc.value.code == 2
    assert "invalid choice: 'sarif'" in capsys.readouterr().err


# -- adversarial text (property-based) ------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _runner_decode_data(text: str) -> str:
    # The runner's unescape order for a command's message (actions/runner ActionCommand).
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _runner_decode_property(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


@given(file=st.text(min_size=1), path=st.text(), message=st.text())
def test_any_text_makes_one_annotation_that_decodes_back(file: str, path: str, message: str) -> None:
    line = vr.github_annotation(Problem(file, 3, 4, path, message))
    assert "\n" not in line and "\r" not in line
    head, _, data = line.partition("::")[2].partition("::")
    assert _runner_decode_data(data) == message
    props = dict(p.split("=", 1) for p in head.removeprefix("error ").split(","))
    assert set(props) == {"file", "line", "col", "title"}
    assert _runner_decode_property(props["file"]) == file


@given(cells=st.lists(st.text(), min_size=1, max_size=4))
def test_summary_cells_never_break_the_table(cells: list[str]) -> None:
    for cell in cells:
        out = vr._cell(cell)
        assert "\n" not in out and "\r" not in out
        assert "|" not in out.replace("\\|", "")


def test_step_summary_stays_inside_githubs_limit() -> None:
    problems = [Problem("s.yaml", i, 1, "spec", "x" * 1000) for i in range(1, 2000)]
    md = vr.step_summary([vr.FileReport("s.yaml", None, None, problems)], NOW)
    assert len(md.encode()) <= vr.SUMMARY_BUDGET + 100 < 1024 * 1024
    assert md.endswith("\n\n(summary truncated; the step log has every problem)\n")
