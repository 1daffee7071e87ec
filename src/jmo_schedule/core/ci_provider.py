"""Which CI system an environment's variables come from: GitHub Actions, GitLab CI or none.

Read by the run context of a pipeline (pipeline/ci_env.py), the drift policy (sync/drift.py)
and the repository identity an H cron is hashed for (core/repo_identity.py).
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: `validate` start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping

GITHUB = "github"
GITLAB = "gitlab"
LOCAL = "local"


def provider(env: Mapping[str, str]) -> str:
    """GITHUB, GITLAB or LOCAL: the CI system whose variables `env` holds."""
    if env.get("GITHUB_ACTIONS") == "true" or (not env.get("GITLAB_CI") and env.get("GITHUB_RUN_ID")):
        return GITHUB
    if env.get("GITLAB_CI") == "true" or env.get("CI_PIPELINE_ID"):
        return GITLAB
    return LOCAL
