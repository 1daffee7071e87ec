"""The bot pull request's token messages: each names the secret to set (JMO_SCHEDULE_TOKEN)
and the permission the token lacks. (The token check against GitHub's API is exercised in
test_action.py, where the action runs it.)"""
from __future__ import annotations

from jmo_schedule.sync import github_pr


def test_default_token_message_names_the_secret_and_the_permission() -> None:
    result = github_pr.check_token([".github/workflows/jmo-nightly.yml"], is_default_token=True, token="ghs_x",
                                   api_url="http://127.0.0.1:9", repository="acme/app")
    assert result.message == (
        "generated workflow files changed (.github/workflows/jmo-nightly.yml), and the default GITHUB_TOKEN cannot "
        "create or update files under .github/workflows/: pass `token:` a GitHub App installation token with "
        "`workflows: write` (actions/create-github-app-token) or a fine-grained PAT with Workflows: read and write "
        "(a classic PAT needs the workflow scope), stored as the secret JMO_SCHEDULE_TOKEN")


def test_failed_pull_request_messages_name_the_secret() -> None:
    assert github_pr.explain_push_failure([".github/workflows/jmo-nightly.yml"]) == (
        "::error title=jmo-schedule sync::creating the pull request failed. Generated workflow files changed "
        "(.github/workflows/jmo-nightly.yml); GitHub refuses such a push unless the token has the workflows "
        "permission (\"refusing to allow ... to create or update workflow ... without `workflows` permission\"): "
        "pass `token:` a GitHub App installation token with `workflows: write` (actions/create-github-app-token) or "
        "a fine-grained PAT with Workflows: read and write (a classic PAT needs the workflow scope), stored as the "
        "secret JMO_SCHEDULE_TOKEN. Also check: contents: write and pull-requests: write, and Settings > Actions > "
        "General > \"Allow GitHub Actions to create and approve pull requests\".")
    assert github_pr.explain_push_failure(["deploy/kubernetes/jmo-weekly.yaml"]) == (
        "::error title=jmo-schedule sync::creating the pull request failed: the token (the secret JMO_SCHEDULE_TOKEN) "
        "needs Contents and Pull requests: read and write (a workflow token: contents: write and pull-requests: "
        "write), and with the default GITHUB_TOKEN the repository setting \"Allow GitHub Actions to create and "
        "approve pull requests\" (Settings > Actions > General).")
