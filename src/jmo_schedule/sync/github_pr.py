"""The part of the bot pull request that the GitHub action does not delegate to
peter-evans/create-pull-request: making sure the token may write `.github/workflows/`.

GitHub refuses a push that adds or changes a workflow file unless the token has the
workflows permission: the default GITHUB_TOKEN never has it; a classic PAT needs the
`workflow` scope; a GitHub App token or fine-grained PAT needs "Workflows: read and write".
Without this check the push fails deep inside create-pull-request with a terse message.

Run by action.yml as `jmo-schedule github-pr check-token` (before the pull request) and
`jmo-schedule github-pr explain-push-failure` (after a failed one); inputs come from the
environment. Prints `::error` workflow commands; never prints the token.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from ..pipeline.workflow_commands import command
from ..platforms.github import GITHUB_API, GitHub

WORKFLOW_DIR = ".github/workflows/"
TIMEOUT = 15.0

SECRET = "JMO_SCHEDULE_TOKEN"  # the secret the documented workflows pass as `token:`
HOW_TO_FIX = (
    "pass `token:` a GitHub App installation token with `workflows: write` (actions/create-github-app-token) "
    "or a fine-grained PAT with Workflows: read and write (a classic PAT needs the workflow scope), "
    f"stored as the secret {SECRET}"
)


@dataclass(frozen=True)
class TokenCheck:
    """Whether the pull request can go ahead, and if not, why (one line)."""

    ok: bool
    message: str = ""


def workflow_files(files: Sequence[str]) -> list[str]:
    """The changed paths that are GitHub workflow files."""
    out = []
    for f in files:
        path = f.replace("\\", "/")
        while path.startswith("./"):
            path = path[2:]
        if path.startswith(WORKFLOW_DIR):
            out.append(f)
    return out


def check_token(files: Sequence[str], *, is_default_token: bool, token: str, api_url: str, repository: str,
                scopes_of: object = None) -> TokenCheck:
    """Decide whether `token` may push changes to `files`.

    Changes outside .github/workflows/ need nothing special. The job's own GITHUB_TOKEN is
    refused outright. For another token, a classic PAT announces its scopes in the
    X-OAuth-Scopes header of any API answer: without `workflow` it is refused. App tokens
    and fine-grained PATs do not announce permissions; those go ahead, and a failed push
    is explained afterwards (`explain_push_failure`).
    """
    changed = workflow_files(files)
    if not changed:
        return TokenCheck(True)
    listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    if is_default_token:
        return TokenCheck(False, f"generated workflow files changed ({listed}), and the default GITHUB_TOKEN "
                                 f"cannot create or update files under .github/workflows/: {HOW_TO_FIX}")
    lookup = scopes_of if callable(scopes_of) else oauth_scopes
    scopes = lookup(token, api_url, repository)
    if scopes is not None and "workflow" not in scopes:
        held = ", ".join(sorted(scopes)) or "no scopes"
        return TokenCheck(False, f"generated workflow files changed ({listed}), and the token (a classic PAT with "
                                 f"{held}) lacks the workflow scope: {HOW_TO_FIX}")
    return TokenCheck(True)


def oauth_scopes(token: str, api_url: str, repository: str) -> set[str] | None:
    """The classic-PAT scopes GitHub reports for `token`, or None when it reports none
    (App installation tokens, fine-grained PATs) or cannot be asked."""
    return GitHub(api_url or GITHUB_API, repository, token, timeout=TIMEOUT).oauth_scopes()


def explain_push_failure(files: Sequence[str]) -> str:
    """The ::error line for a failed create-pull-request step."""
    changed = workflow_files(files)
    if changed:
        return ("::error title=jmo-schedule sync::creating the pull request failed. Generated workflow files changed "
                f"({', '.join(changed[:3])}); GitHub refuses such a push unless the token has the workflows permission "
                f"(\"refusing to allow ... to create or update workflow ... without `workflows` permission\"): {HOW_TO_FIX}. "
                "Also check: contents: write and pull-requests: write, and Settings > Actions > General > "
                "\"Allow GitHub Actions to create and approve pull requests\".")
    return ("::error title=jmo-schedule sync::creating the pull request failed: the token (the secret "
            f"{SECRET}) needs Contents and Pull requests: read and write (a workflow token: contents: write and "
            "pull-requests: write), and with the default GITHUB_TOKEN the repository setting \"Allow GitHub Actions "
            "to create and approve pull requests\" (Settings > Actions > General).")


def _files(env: Mapping[str, str]) -> list[str]:
    return [line.strip() for line in (env.get("JMO_CHANGED_FILES") or "").splitlines() if line.strip()]


STEPS = ("check-token", "explain-push-failure")


def run_step(step: str, env: Mapping[str, str], out: TextIO) -> int:
    """`check-token` exits 1 with an ::error when the token cannot push the changes;
    `explain-push-failure` prints why a create-pull-request step most likely failed."""
    if step == "check-token":
        result = check_token(
            _files(env),
            is_default_token=(env.get("JMO_TOKEN_IS_DEFAULT") or "").strip().lower() == "true",
            token=env.get("JMO_TOKEN") or "",
            api_url=env.get("GITHUB_API_URL") or GITHUB_API,
            repository=env.get("GITHUB_REPOSITORY") or "",
        )
        if not result.ok:
            out.write(command("error", result.message, title="jmo-schedule sync") + "\n")
            return 1
        return 0
    out.write(explain_push_failure(_files(env)) + "\n")
    return 0
