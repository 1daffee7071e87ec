"""gitlab_stages.py and sync's stage check: a scan job's stage must be in the pipeline's stages."""
from __future__ import annotations

from pathlib import Path

import pytest

from jmo_schedule.cli import main
from jmo_schedule.sync.gitlab_stages import DEFAULT_STAGES, pipeline_stages

SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
spec:
  schedule: "0 2 * * 1"
  backend:
    type: gitlab-ci
  jobTemplate:
    targets: {repo: .}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 1 * * *"
  backend:
    type: gitlab-ci
    config:
      stage: security
  jobTemplate:
    targets: {repo: .}
"""


@pytest.mark.parametrize(("text", "stages"), [
    ("stages: [build, test]\n", (".pre", "build", "test", ".post")),
    ("stages: [.pre, build, .post]\n", (".pre", "build", ".post")),
    ("stages:\n  - build\n  - [security, test]\n", (".pre", "build", "security", "test", ".post")),
    ("build:\n  script: [make]\n", DEFAULT_STAGES),
    ("", DEFAULT_STAGES),
    ("include:\n  - local: ci/stages.yml\n", None),  # the include may declare them: cannot tell
    ("stages: [lint]\ninclude: [ci.yml]\njob:\n  script: !reference [.x, script]\n", (".pre", "lint", ".post")),
])
def test_pipeline_stages(text: str, stages: tuple[str, ...] | None) -> None:
    assert pipeline_stages(text) == stages


@pytest.mark.parametrize(("text", "error"), [
    ("stages: build\n", "stages: is not a list of stage names"),
    ("stages: [build, {a: b}]\n", "stages: is not a list of stage names"),
    ("stages: [build\n", "line 2: not valid YAML (expected ',' or ']', but got '<stream end>')"),
])
def test_pipeline_stages_refuses_what_is_not_a_list(text: str, error: str) -> None:
    with pytest.raises(ValueError) as exc:
        pipeline_stages(text)
    assert str(exc.value) == error


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sync(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sync", "-f", "schedules.yaml", "--root", ".", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("check", [False, True])
def test_sync_refuses_a_stage_the_pipeline_does_not_have(project: Path, capsys: pytest.CaptureFixture[str],
                                                         check: bool) -> None:
    (project / ".gitlab-ci.yml").write_text("stages: [build, deploy]\n")
    code, out, err = sync(capsys, *(["--check"] if check else []))
    assert (code, out) == (1, "")
    assert err == (
        "schedules.yaml:7:3: spec.backend: the scan job's stage 'test' (the default) is not in "
        "the stages: of .gitlab-ci.yml (.pre, build, deploy, .post), so GitLab would refuse the pipeline; add test to "
        "that list or set backend.config.stage to one of them\n"
        "schedules.yaml:21:14: spec.backend.config.stage: stage 'security' is not in the stages: of .gitlab-ci.yml "
        "(.pre, build, deploy, .post), so GitLab would refuse the pipeline; add security to that list or set "
        "backend.config.stage to one of them\n")
    assert not (project / ".gitlab").exists()


def test_sync_passes_when_the_stages_are_there(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".gitlab-ci.yml").write_text("stages: [build, test, security]\n")
    code, out, err = sync(capsys)
    assert (code, err) == (0, "")
    assert (project / ".gitlab" / "jmo-schedules.gitlab-ci.yml").is_file()


def test_default_stages_have_test_but_not_a_custom_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".gitlab-ci.yml").write_text("lint:\n  script: [make lint]\n")
    code, _, err = sync(capsys)
    assert code == 1
    assert err.splitlines() == [
        "schedules.yaml:21:14: spec.backend.config.stage: stage 'security' is not in the stages: "
        "of .gitlab-ci.yml (.pre, build, test, deploy, .post), so GitLab would refuse the pipeline; add security to "
        "that list or set backend.config.stage to one of them"]


@pytest.mark.parametrize("ci", [None, "include:\n  - local: ci/stages.yml\n"])
def test_nothing_to_check_without_the_file_or_with_stages_in_an_include(project: Path, capsys: pytest.CaptureFixture[str],
                                                                        ci: str | None) -> None:
    if ci is not None:
        (project / ".gitlab-ci.yml").write_text(ci)
    code, _, err = sync(capsys)
    assert (code, err) == (0, "")


def test_an_unreadable_ci_file_warns_and_syncs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".gitlab-ci.yml").write_text("stages: build\n")
    code, _, err = sync(capsys)
    assert code == 0
    assert err == ("jmo-schedule: warning: .gitlab-ci.yml: cannot read its stages (stages: is not a list of stage "
                   "names); the scan jobs' stages are not checked\n")
