"""sync/core.py: sync as one function (load, generate, plan, apply -> the plan), the one the
CLI, the drift check and the GitLab merge request flow call."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE

from jmo_schedule.errors import ValidationError
from jmo_schedule.sync.core import plan_file, summary, sync
from jmo_schedule.sync.plan import CREATE

# The example's four schedules: nightly-scan (github-actions), weekly-scan (gitlab-ci),
# comprehensive-scan (kubernetes), prod-backend-scan (local-cron: crontab and systemd).
EXPECTED = [
    ".github/workflows/jmo-nightly-scan.yml",
    ".gitlab/jmo-schedules.gitlab-ci.yml",
    "deploy/cron/jmo-schedules.crontab",
    "deploy/kubernetes/jmo-comprehensive-scan.yaml",
    "deploy/systemd/jmo-prod-backend-scan.service",
    "deploy/systemd/jmo-prod-backend-scan.timer",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "schedules.yaml").write_text(EXAMPLE.read_text())
    return tmp_path


def test_sync_applies_the_plan_and_returns_it(repo: Path) -> None:
    warnings: list[str] = []
    planned = sync(str(repo / "ci" / "schedules.yaml"), env={}, warn=warnings.append)
    assert (planned.root, planned.source, planned.command) == (str(repo), "ci/schedules.yaml",
                                                              "jmo-schedule sync -f ci/schedules.yaml")
    assert [(c.path, c.action) for c in planned.plan.changes] == [(path, CREATE) for path in EXPECTED]
    assert all((repo / path).is_file() for path in EXPECTED)
    assert summary(planned.plan) == "6 created, 0 updated, 0 deleted, 0 unchanged"
    again = plan_file(str(repo / "ci" / "schedules.yaml"), env={}, warn=warnings.append)
    assert again.plan.in_sync and summary(again.plan) == "0 created, 0 updated, 0 deleted, 6 unchanged"


def test_sync_of_an_invalid_file_writes_nothing(repo: Path) -> None:
    (repo / "ci" / "schedules.yaml").write_text(EXAMPLE.read_text().replace('"23 2 * * 1"', '"23 25 * * 1"'))
    with pytest.raises(ValidationError) as exc:
        sync(str(repo / "ci" / "schedules.yaml"), env={}, warn=lambda line: None)
    assert "hour 25 is outside 0-23" in str(exc.value)
    assert sorted(p.name for p in repo.iterdir()) == [".git", "ci"]
