"""Who else is running: other in-progress runs of this workflow (GitHub) or pipeline (GitLab).

Small REST clients for the guard's concurrencyPolicy checks:
- GitHub: `GET {GITHUB_API_URL}/repos/{owner}/{repo}/actions/runs/{run_id}` (our run's
  workflow_id, when GITHUB_WORKFLOW_REF does not name the file),
  `GET .../actions/workflows/{workflow_id}/runs?status=S` for each unfinished status S,
  every page (`Link: rel="next"`), with the job's token (needs `actions: read`), and
  `POST .../actions/runs/{run_id}/cancel` (Replace; needs `actions: write`).
- GitLab: this schedule's pipeline schedule by description (`GET {CI_API_V4_URL}/projects/:id/
  pipeline_schedules`), its pipelines (`GET .../pipeline_schedules/:id/pipelines`) and
  `POST .../pipelines/:pipeline_id/cancel` (Replace), with a `PRIVATE-TOKEN`
  (JMO_GITLAB_TOKEN): CI_JOB_TOKEN may call none of these endpoints.

Errors are `CheckError` with a one-line message that never contains a token.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..errors import CheckError
from ..core.timefmt import parse_timestamp
from .github import api_url as github_api_url
from .github import headers as github_headers
from .github import next_link

TIMEOUT = 10.0


@dataclass(frozen=True)
class OtherRun:
    id: str
    url: str | None = None
    started: str | None = None
    active: bool = True  # False: finished, but it was running when this run was started
    number: int | None = None  # GitHub's run_number
    status: str | None = None


def _request(session: Any, url: str, headers: Mapping[str, str], params: Mapping[str, Any] | None, what: str) -> Any:
    import requests

    try:
        return session.get(url, headers=dict(headers), params=params, timeout=TIMEOUT, allow_redirects=True)
    except requests.exceptions.Timeout:
        raise CheckError(f"{what}: no answer within {TIMEOUT:g}s") from None
    except requests.exceptions.RequestException as exc:
        raise CheckError(f"{what}: connection failed ({type(exc).__name__})") from None


def _get(session: Any, url: str, headers: Mapping[str, str], params: Mapping[str, Any] | None, what: str) -> Any:
    return _json(_request(session, url, headers, params, what), what)


def _json(resp: Any, what: str) -> Any:
    status = resp.status_code
    if status in (401, 403, 404):
        detail = _api_message(resp)
        raise CheckError(f"{what}: HTTP {status}{': ' + detail if detail else ''}", denied=True)
    if not 200 <= status < 300:
        raise CheckError(f"{what}: HTTP {status}")
    try:
        return resp.json()
    except ValueError:
        raise CheckError(f"{what}: the answer is not JSON") from None


def _api_message(resp: Any) -> str:
    try:
        data = resp.json()
    except ValueError:
        return ""
    msg = data.get("message") if isinstance(data, dict) else None
    if isinstance(msg, dict):  # GitLab sometimes nests messages
        msg = "; ".join(f"{k} {v}" for k, v in msg.items())
    return " ".join(str(msg).split())[:200] if msg else ""


# --- GitHub --------------------------------------------------------------------------


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


# Every status of a run that has not finished (docs.github.com/rest/actions/workflow-runs:
# the `status` filter takes one value; `waiting`, `pending` and `requested` only GitHub sets).
ACTIVE_STATUSES = ("requested", "queued", "pending", "waiting", "in_progress")


def github_active_runs(
    env: Mapping[str, str], token: str, *, session: Any = None
) -> list[OtherRun]:
    """Every run of this run's workflow that has not finished (any of ACTIVE_STATUSES),
    other than this run itself, with its run_number. One listing per status, every page.

    Needs a token with `actions: read`.
    """
    import requests

    session = session or requests
    api = github_api_url(env)
    repo = env.get("GITHUB_REPOSITORY") or ""
    run_id = (env.get("GITHUB_RUN_ID") or "").strip()
    if repo.count("/") != 1 or not run_id:
        raise CheckError("GITHUB_REPOSITORY or GITHUB_RUN_ID is not set: not a GitHub Actions run")
    headers = github_headers(token)
    base = f"{api}/repos/{repo}/actions"
    workflow = workflow_file_from_ref(env.get("GITHUB_WORKFLOW_REF"))
    if workflow is None:
        run = _get(session, f"{base}/runs/{quote(run_id)}", headers, None, "GitHub API get this run")
        workflow = str(run.get("workflow_id", "")) if isinstance(run, dict) else ""
        if not workflow:
            raise CheckError("GitHub API get this run: no workflow_id in the answer")
    found: dict[str, OtherRun] = {}
    for status in ACTIVE_STATUSES:
        url: str | None = f"{base}/workflows/{quote(workflow)}/runs"
        params: dict[str, Any] | None = {"status": status, "per_page": 100}
        while url:
            resp = _request(session, url, headers, params, "GitHub API list workflow runs")
            data = _json(resp, "GitHub API list workflow runs")
            runs = data.get("workflow_runs") if isinstance(data, dict) else None
            if not isinstance(runs, list):
                raise CheckError("GitHub API list workflow runs: no workflow_runs in the answer")
            for r in runs:
                if isinstance(r, dict) and str(r.get("id")) != run_id and r.get("status") in ACTIVE_STATUSES:
                    number = r.get("run_number")
                    found[str(r.get("id"))] = OtherRun(
                        str(r.get("id")), r.get("html_url"), r.get("run_started_at") or r.get("created_at"),
                        number=number if isinstance(number, int) else None, status=r.get("status"),
                    )
            url, params = next_link(resp.headers.get("Link")), None
    return sorted(found.values(), key=run_order)


def run_order(run: OtherRun) -> tuple[int, int]:
    """The total order of a workflow's runs: run_number (GitHub numbers each new run of a
    workflow one higher, a re-run keeps it), then the run id."""
    return (run.number if run.number is not None else -1, int(run.id) if run.id.isdigit() else -1)


def github_cancel(env: Mapping[str, str], token: str, run_id: str, *, session: Any = None) -> bool:
    """Cancel one run (`POST .../actions/runs/{run_id}/cancel`, needs `actions: write`).

    True when GitHub accepted (202); False when the run had already finished (409).
    """
    import requests

    session = session or requests
    what = f"GitHub API cancel run {run_id}"
    url = f"{github_api_url(env)}/repos/{env.get('GITHUB_REPOSITORY') or ''}/actions/runs/{quote(run_id)}/cancel"
    try:
        resp = session.post(url, headers=github_headers(token), timeout=TIMEOUT)
    except requests.exceptions.RequestException as exc:
        raise CheckError(f"{what}: connection failed ({type(exc).__name__})") from None
    if resp.status_code == 409:
        return False
    _json(resp, what)
    return True


# --- GitLab --------------------------------------------------------------------------

# Pipeline statuses that mean "not finished" (GitLab's Ci::HasStatus); `manual` and
# `scheduled` wait for a person or a timer and are not a run in progress.
GITLAB_ACTIVE = frozenset({"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running"})
# Finished pipelines that did run: one of these that finished after this pipeline was
# created was still running when the schedule fired this one (it may have waited on the
# resource_group since).
GITLAB_RAN = frozenset({"success", "failed", "canceled", "canceling"})
# gitlab_schedules' hints speak of sync's token (api, Maintainer); the guard names its own needs.
_NO_HINTS = {401: "", 403: "", 404: ""}


def gitlab_other_pipelines(env: Mapping[str, str], token: str, name: str, *, session: Any = None) -> list[OtherRun]:
    """Pipelines of this schedule that were running when this pipeline was created, oldest first.

    The schedule is found by its description (`GET /projects/:id/pipeline_schedules`:
    $CI_PIPELINE_SCHEDULE_DESCRIPTION exactly, else any `jmo-schedule: <name>` one) and its
    pipelines read with `GET .../pipeline_schedules/:id/pipelines?sort=desc`. A pipeline
    counts when it is older than this one (CI_PIPELINE_CREATED_AT, else a lower id) and is
    still active, or finished after this one was created. `token` is a PRIVATE-TOKEN with
    read_api: GitLab's job token may not call these endpoints.
    """
    from ..sync.gitlab_schedules import GitLabClient, GitLabError, managed_name

    api = (env.get("CI_API_V4_URL") or "").strip()
    project = (env.get("CI_PROJECT_ID") or "").strip()
    own = (env.get("CI_PIPELINE_ID") or "").strip()
    if not api or not project:
        raise CheckError("CI_API_V4_URL or CI_PROJECT_ID is not set: not a GitLab CI job")
    created = parse_timestamp(env.get("CI_PIPELINE_CREATED_AT"))
    description = (env.get("CI_PIPELINE_SCHEDULE_DESCRIPTION") or "").strip()
    try:
        client = GitLabClient(api, project, token, session=session, timeout=TIMEOUT)
        client.hints = _NO_HINTS  # the guard says what its own token needs
        schedules = [s for s in client.list() if managed_name(s.get("description")) == name]
        exact = [s for s in schedules if s.get("description") == description]
        if not (exact or schedules):
            raise CheckError(f"the project has no pipeline schedule 'jmo-schedule: {name}'")
        out: dict[str, OtherRun] = {}
        for schedule in exact or schedules:
            for p in _older_pipelines(client, int(schedule["id"]), own, created):
                active = p.get("status") in GITLAB_ACTIVE
                finished_since = (p.get("status") in GITLAB_RAN and created is not None
                                  and (parse_timestamp(p.get("updated_at")) or created) > created)
                if active or finished_since:
                    out[str(p["id"])] = OtherRun(str(p["id"]), p.get("web_url"), p.get("created_at"), active)
    except GitLabError as exc:
        raise CheckError(str(exc), denied=exc.status in (401, 403, 404)) from None
    return sorted(out.values(), key=lambda r: int(r.id) if r.id.isdigit() else 0)


def _older_pipelines(client: Any, schedule_id: int, own: str, created: Any) -> Iterator[dict[str, Any]]:
    """The schedule's pipelines created before this one. Where GitLab sorts newest first,
    the first page is enough (an older run still going would need 100 fires of the schedule
    during it); where it ignores `sort` (older versions: oldest first), every page."""
    from ..sync.gitlab_schedules import PER_PAGE

    ids: list[int] = []
    for p in client.schedule_pipelines(schedule_id, newest_first=True):
        ids.append(int(p["id"]))
        if len(ids) > PER_PAGE and ids[:PER_PAGE] == sorted(ids[:PER_PAGE], reverse=True):
            return
        when = parse_timestamp(p.get("created_at"))
        if str(p["id"]) == own or (own.isdigit() and int(p["id"]) > int(own)):
            continue  # this pipeline, or a newer one: that one skips or is replaced, not this
        if created is not None and when is not None and when > created:
            continue
        yield p


def gitlab_cancel(env: Mapping[str, str], token: str, pipeline_id: str, *, session: Any = None) -> None:
    """Cancel one pipeline (`POST /projects/:id/pipelines/:pipeline_id/cancel`; the token
    needs the api scope and a role that may cancel, Developer by default)."""
    from ..sync.gitlab_schedules import GitLabClient, GitLabError

    try:
        client = GitLabClient(env.get("CI_API_V4_URL") or "", env.get("CI_PROJECT_ID") or "", token,
                              session=session, timeout=TIMEOUT)
        client.hints = _NO_HINTS
        client.cancel_pipeline(pipeline_id)
    except GitLabError as exc:
        raise CheckError(str(exc), denied=exc.status in (401, 403, 404)) from None
