from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE
from jmo_schedule.cli import main
from jmo_schedule.loader import load_file
from jmo_schedule.manager import ScheduleManager
from jmo_schedule.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.workflow_generators.github_actions import GitHubActionsGenerator
from jmo_schedule.workflow_generators.gitlab_ci import GitLabCIGenerator


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "schedules.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _weekly() -> ScanSchedule:
    (s,) = [s for s in load_file(EXAMPLE) if s.name == "weekly-scan"]
    return s


def test_default_backend_and_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "weekly-scan"]) == 0
    out = capsys.readouterr().out
    assert out == GitLabCIGenerator("schedules.yaml").generate(_weekly())
    assert "jmo-scan-weekly-scan" in yaml.safe_load(out)


def test_other_backend(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "weekly-scan", "--backend", "github-actions"]) == 0
    assert capsys.readouterr().out == GitHubActionsGenerator("schedules.yaml").generate(_weekly())


def test_explicit_file_names_itself_in_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ci").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "ci" / "schedules.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["export", "comprehensive-scan", "-f", "ci/schedules.yaml"]) == 0
    out = capsys.readouterr().out
    assert "# Regenerate: jmo-schedule sync -f ci/schedules.yaml\n" in out
    assert yaml.safe_load(out)["kind"] == "CronJob"


def test_falls_back_to_the_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    url = "https://hooks.slack.com/services/T0/B0/SECRETVALUE"
    ScheduleManager().create(ScanSchedule(
        ScheduleMetadata("stored"),
        ScheduleSpec("0 4 * * *", backend=BackendConfig("github-actions"), jobTemplate=JobTemplateSpec(
            targets={"repo": "."}, notifications={"enabled": True, "channels": [{"type": "slack", "url": url}]})),
    ))
    assert main(["export", "stored"]) == 0
    out = capsys.readouterr().out
    assert "name: 'jmo-schedule: stored'" in out
    assert "SECRETVALUE" not in out and "secrets.SLACK_WEBHOOK_URL" in out


def test_not_found_messages(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "nope"]) == 1
    assert capsys.readouterr().err == "jmo-schedule: error: schedule 'nope' not found in ./schedules.yaml or the local store\n"
    assert main(["export", "nope", "-f", "schedules.yaml"]) == 1
    assert capsys.readouterr().err == "jmo-schedule: error: schedule 'nope' not found in schedules.yaml\n"
    (repo / "schedules.yaml").unlink()
    assert main(["export", "nope"]) == 1
    assert capsys.readouterr().err == "jmo-schedule: error: schedule 'nope' not found in the local store\n"


def test_bad_backend_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", "weekly-scan", "--backend", "jenkins"])
    assert exc.value.code == 2
    assert "invalid choice: 'jenkins'" in capsys.readouterr().err


def test_local_cron_backend(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jmo_schedule.workflow_generators import backend_module

    code = main(["export", "prod-backend-scan"])
    captured = capsys.readouterr()
    if backend_module("local-cron") is None:
        assert code == 1
        assert captured.err == "jmo-schedule: error: the local-cron generator is not available in this version\n"
    else:
        assert code == 0 and "jmo-schedule run prod-backend-scan" in captured.out


@pytest.mark.parametrize("backend", ["gitlab-ci", "github-actions", "kubernetes", "local-cron"])
def test_docs_show_the_current_output_for_the_weekly_example(repo: Path, backend: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "pipelines.md"
    assert main(["export", "weekly-scan", "--backend", backend]) == 0
    assert capsys.readouterr().out in docs.read_text(), f"regenerate the {backend} example in docs/pipelines.md"
