"""core/ci_provider.py: which CI system an environment's variables come from."""
from __future__ import annotations

import pytest

from jmo_schedule.core.ci_provider import provider


@pytest.mark.parametrize(("env", "expected"), [
    ({"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "1"}, "github"),
    ({"GITHUB_RUN_ID": "1"}, "github"),
    ({"GITLAB_CI": "true", "CI_PIPELINE_ID": "7"}, "gitlab"),
    ({"CI_PIPELINE_ID": "7"}, "gitlab"),
    # A GitLab job whose variables include a GitHub run id (a mirrored pipeline) is GitLab's.
    ({"GITLAB_CI": "true", "GITHUB_RUN_ID": "1"}, "gitlab"),
    ({"GITHUB_ACTIONS": "false"}, "local"),
    ({}, "local"),
])
def test_provider(env: dict[str, str], expected: str) -> None:
    assert provider(env) == expected
