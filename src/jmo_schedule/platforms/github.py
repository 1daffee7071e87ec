"""The one GitHub REST client: the API root and token from the environment, the headers
GitHub documents, and every endpoint this package calls, on the one HTTP layer (http.py).

- repository: `GET /repos/{owner}/{repo}` (default branch; a classic PAT's scopes in
  `X-OAuth-Scopes`);
- workflow runs: `GET .../actions/workflows/{workflow}/runs?status=S` (every page),
  `GET .../actions/runs/{run_id}`, `POST .../actions/runs/{run_id}/cancel` (202; 409 when it
  has finished), `DELETE .../actions/runs/{run_id}` (204; 404 when gone);
- dispatch: `POST .../actions/workflows/{workflow}/dispatches` (204, or 200 with the run
  when `return_run_details` is set);
- the audit: `GET .../actions/workflows/{workflow}` (state, created_at), `PUT
  .../actions/workflows/{workflow}/enable` (204), `GET .../actions/runs/{run_id}/jobs` (the
  steps and their conclusions), `GET .../check-runs/{job_id}/annotations` (the guard's notice).

The token only ever travels in the Authorization header, to the API's own host.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..core.policy import OtherRun, run_order
from ..errors import GitHubError, JmoError
from .http import Api, TIMEOUT

GITHUB_API = "https://api.github.com"
# The variables a token is read from, in this order (GH_TOKEN is the gh CLI's).
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
API_VERSION = "2022-11-28"
PER_PAGE = 100
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# Every status of a run that has not finished (docs.github.com/rest/actions/workflow-runs:
# the `status` filter takes one value; `waiting`, `pending` and `requested` only GitHub sets).
ACTIVE_STATUSES = ("requested", "queued", "pending", "waiting", "in_progress")


def api_url(env: Mapping[str, str]) -> str:
    """`$GITHUB_API_URL` (GitHub Enterprise Server, tests) else https://api.github.com, no trailing /."""
    return (env.get("GITHUB_API_URL") or GITHUB_API).rstrip("/")


def token_from(env: Mapping[str, str], variables: tuple[str, ...] = TOKEN_VARIABLES) -> tuple[str, str]:
    """(variable, token) of the first of `variables` that is set; ("", "") when none is."""
    for name in variables:
        token = (env.get(name) or "").strip()
        if token:
            return name, token
    return "", ""


class GitHub(Api):
    """One repository's REST API with one token. `token_variable` names where the token came
    from, so a refusal says which one to replace; `hints` add or override what to do per
    HTTP status (429 stands for every rate limit and may say `{wait}`)."""

    def __init__(self, api: str, repository: str, token: str, *, token_variable: str = "GITHUB_TOKEN",
                 hints: Mapping[int, str] | None = None, timeout: float = TIMEOUT) -> None:
        super().__init__(
            api, service="GitHub API", error=GitHubError, timeout=timeout,
            credential={"Authorization": f"Bearer {token}"},
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
            hints={401: f"the token in ${token_variable} is missing, expired or revoked",
                   429: "the API rate limit is used up; try again {wait}", **(hints or {})})
        self.repository = repository
        self.token_variable = token_variable

    @property
    def repo_url(self) -> str:
        if not _REPOSITORY.fullmatch(self.repository or ""):
            raise JmoError("no GitHub repository: pass --repository OWNER/NAME or run inside GitHub Actions "
                           "($GITHUB_REPOSITORY)")
        return f"{self.base_url}/repos/{self.repository}"

    # -- the repository -------------------------------------------------------------
    def default_branch(self) -> str:
        """The repository's default branch, where scheduled workflows run."""
        what = f"read repository {self.repository}"
        data = self.object("GET", self.repo_url, what, hints={
            403: f"the token in ${self.token_variable} cannot read {self.repository} (it needs metadata: read)",
            404: f"no repository {self.repository}, or the token in ${self.token_variable} cannot see it"})
        branch = data.get("default_branch")
        if not isinstance(branch, str) or not branch:
            raise GitHubError(f"GitHub API: {what}: no default_branch in the answer; pass --ref BRANCH")
        return branch

    def oauth_scopes(self) -> set[str] | None:
        """The classic-PAT scopes GitHub reports for the token (`X-OAuth-Scopes` of any
        answer: the repository's, or /rate_limit without one), or None when it reports none
        (App installation tokens, fine-grained PATs) or cannot be asked."""
        url = self.repo_url if self.repository else f"{self.base_url}/rate_limit"
        try:
            answer = self.send("GET", url, "read the token's scopes", allow=range(400, 600))
        except GitHubError:
            return None  # the push itself will tell
        header = answer.headers.get("X-OAuth-Scopes")
        if header is None:
            return None
        return {s.strip() for s in header.split(",") if s.strip()}

    # -- workflow runs --------------------------------------------------------------
    def workflow_runs(self, workflow: str, *, status: str | None, what: str, hints: Mapping[int, str] | None = None,
                      missing_ok: bool = False, max_pages: int = 100, **params: str) -> list[dict[str, Any]] | None:
        """Every run of `workflow` (file name or id) with `status` (None: any), across all
        pages; `params` are further filters (event, created). With `missing_ok`, None when
        GitHub has no such workflow (404 on the first page)."""
        url = f"{self.repo_url}/actions/workflows/{quote(workflow)}/runs"
        out: list[dict[str, Any]] = []
        query: dict[str, Any] = {"per_page": PER_PAGE, **params, **({"status": status} if status else {})}
        allow_missing = {404: ""} if missing_ok else {}
        try:
            for _, data in self.pages(url, what, query, hints={**(hints or {}), **allow_missing}, max_pages=max_pages):
                runs = data.get("workflow_runs") if isinstance(data, dict) else None
                if not isinstance(runs, list):
                    raise GitHubError(f"GitHub API: {what}: no workflow_runs in the answer")
                out.extend(r for r in runs if isinstance(r, dict) and r.get("id") is not None)
        except GitHubError as exc:
            if missing_ok and exc.status == 404 and not out:
                return None
            raise
        return out

    def run(self, run_id: str, what: str) -> dict[str, Any]:
        return self.object("GET", f"{self.repo_url}/actions/runs/{quote(run_id)}", what)

    def cancel_run(self, run_id: str, hints: Mapping[int, str] | None = None) -> bool:
        """Cancel a run (needs actions: write): True when GitHub accepted (202), False when
        the run had already finished (409)."""
        answer = self.send("POST", f"{self.repo_url}/actions/runs/{quote(run_id)}/cancel", f"cancel run {run_id}",
                           hints=hints, allow=(409,))
        return answer.status != 409

    def delete_run(self, run_id: str, what: str, hints: Mapping[int, str] | None = None) -> bool:
        """Delete a finished run (204; needs actions: write). False when it is already gone (404)."""
        answer = self.send("DELETE", f"{self.repo_url}/actions/runs/{quote(run_id)}", what, hints=hints, allow=(404,))
        return answer.status != 404

    def dispatch(self, workflow: str, ref: str, hints: Mapping[int, str] | None = None) -> str | None:
        """Start a workflow_dispatch run of `workflow` on `ref`; the run's web URL when GitHub
        returns it (200), None for a plain 204."""
        what = f"dispatch {workflow} on {ref}"
        url = f"{self.repo_url}/actions/workflows/{quote(workflow)}/dispatches"
        answer = self.send("POST", url, what, json_body={"ref": ref, "return_run_details": True}, allow=(422,),
                           hints=hints)
        if answer.status == 422:
            detail = answer.message()
            extra = dict(hints or {})
            if "workflow_dispatch" in detail:
                extra[422] = ("the workflow file on that ref has no workflow_dispatch trigger: regenerate it with "
                              "jmo-schedule sync and merge the change")
            elif detail.startswith("No ref found"):
                extra[422] = f"{ref} is neither a branch nor a tag of {self.repository}; pass --ref BRANCH"
            raise GitHubError(self.refusal(answer, what, extra), 422)
        if answer.status != 200:
            return None
        try:
            data = answer.data()
        except ValueError:
            return None
        link = data.get("html_url") if isinstance(data, dict) else None
        return link if isinstance(link, str) and link.startswith("https://") else None

    # -- the audit ------------------------------------------------------------------
    def workflow(self, workflow: str, what: str, hints: Mapping[int, str] | None = None) -> dict[str, Any] | None:
        """The workflow (`id`, `state`, `created_at`, ...) by file name or id; None when
        GitHub has none (404: never pushed to the default branch, or deleted)."""
        answer = self.send("GET", f"{self.repo_url}/actions/workflows/{quote(workflow)}", what, hints=hints,
                           allow=(404,))
        if answer.status == 404:
            return None
        data = self.parse(answer, what)
        return data if isinstance(data, dict) else None

    def enable_workflow(self, workflow: str, hints: Mapping[int, str] | None = None) -> None:
        """Set the workflow's state to active (204; needs actions: write)."""
        self.send("PUT", f"{self.repo_url}/actions/workflows/{quote(workflow)}/enable", f"enable {workflow}",
                  hints=hints)

    def run_jobs(self, run_id: str, hints: Mapping[int, str] | None = None) -> list[dict[str, Any]]:
        """The jobs of a run's latest attempt, with their `steps` (first page: 100 jobs)."""
        what = f"list the jobs of run {run_id}"
        data = self.json("GET", f"{self.repo_url}/actions/runs/{quote(run_id)}/jobs", what,
                         params={"filter": "latest", "per_page": PER_PAGE}, hints=hints)
        jobs = data.get("jobs") if isinstance(data, dict) else None
        return [j for j in jobs if isinstance(j, dict)] if isinstance(jobs, list) else []

    def annotations(self, check_run_id: str, hints: Mapping[int, str] | None = None) -> list[dict[str, Any]]:
        """The annotations of a check run (a job's id is its check run's; first page)."""
        what = f"list the annotations of check run {check_run_id}"
        data = self.json("GET", f"{self.repo_url}/check-runs/{quote(check_run_id)}/annotations", what,
                         params={"per_page": PER_PAGE}, hints=hints)
        return [a for a in data if isinstance(a, dict)] if isinstance(data, list) else []


# --- who else is running (the guard's concurrencyPolicy) ------------------------------


def workflow_file_from_ref(workflow_ref: str | None) -> str | None:
    """`octo/repo/.github/workflows/jmo-x.yml@refs/heads/main` -> `jmo-x.yml`."""
    if not workflow_ref:
        return None
    path = workflow_ref.split("@", 1)[0]
    marker = "/.github/workflows/"
    if marker not in path:
        return None
    name = path.split(marker, 1)[1]
    return name if name and "/" not in name else None


def client_from_env(env: Mapping[str, str], token: str, hints: Mapping[int, str] | None = None) -> GitHub:
    """The client of this workflow run's repository (GITHUB_API_URL, GITHUB_REPOSITORY)."""
    repository = env.get("GITHUB_REPOSITORY") or ""
    if repository.count("/") != 1 or not (env.get("GITHUB_RUN_ID") or "").strip():
        raise GitHubError("GITHUB_REPOSITORY or GITHUB_RUN_ID is not set: not a GitHub Actions run")
    return GitHub(api_url(env), repository, token, hints=hints, timeout=10.0)


def active_runs(client: GitHub, env: Mapping[str, str]) -> list[OtherRun]:
    """Every run of this run's workflow that has not finished (any of ACTIVE_STATUSES), other
    than this run itself, in run order. Needs a token with `actions: read`."""
    run_id = (env.get("GITHUB_RUN_ID") or "").strip()
    workflow = workflow_file_from_ref(env.get("GITHUB_WORKFLOW_REF"))
    if workflow is None:
        run = client.run(run_id, "get this run")
        workflow = str(run.get("workflow_id", ""))
        if not workflow:
            raise GitHubError("GitHub API: get this run: no workflow_id in the answer")
    found: dict[str, OtherRun] = {}
    for status in ACTIVE_STATUSES:
        for r in client.workflow_runs(workflow, status=status, what="list workflow runs") or []:
            if str(r.get("id")) != run_id and r.get("status") in ACTIVE_STATUSES:
                number = r.get("run_number")
                found[str(r.get("id"))] = OtherRun(
                    str(r.get("id")), r.get("html_url"), r.get("run_started_at") or r.get("created_at"),
                    number=number if isinstance(number, int) else None, status=r.get("status"),
                )
    return sorted(found.values(), key=run_order)
