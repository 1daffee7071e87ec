from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT
from jmo_fixtures import MIXED, make_results
from jmo_schedule.cli import main

SCHEMA = json.loads((ROOT / "tests" / "data" / "gitlab-sast-report-format-15.2.1.json").read_text())


def test_sast_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_results(tmp_path / "results", MIXED)
    out = tmp_path / "gl-sast-report.json"
    assert main(["convert", "--to", "gitlab-sast", "--results", str(tmp_path / "results"), "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert len(report["vulnerabilities"]) == len(MIXED)
    assert report["scan"]["start_time"] <= report["scan"]["end_time"]


def test_codequality_to_stdout_from_a_sarif_file(capsys: pytest.CaptureFixture[str]) -> None:
    sarif = ROOT / "tests" / "fixtures" / "sarif" / "semgrep.sarif"
    assert main(["convert", "--to", "gitlab-codequality", "--results", str(sarif)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert isinstance(entries, list) and entries
    assert all(set(e) == {"description", "check_name", "fingerprint", "severity", "location"} for e in entries)


def test_missing_results_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--to", "gitlab-sast", "--results", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"jmo-schedule: error: {tmp_path / 'nope'}: no findings: expected summaries/findings.json or "
        "summaries/findings.sarif (written by `jmo report`)\n"
    )


def test_unwritable_output_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_results(tmp_path / "results", MIXED)
    target = tmp_path / "missing-dir" / "out.json"
    assert main(["convert", "--to", "gitlab-codequality", "--results", str(tmp_path / "results"), "-o", str(target)]) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {target}: cannot write: No such file or directory\n"


def test_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["convert", "--to", "sarif"])
    assert exc.value.code == 2
    assert "invalid choice: 'sarif'" in capsys.readouterr().err
