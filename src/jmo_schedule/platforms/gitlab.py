"""The one GitLab REST client (API v4) for one project, on the one HTTP layer (http.py):
pipeline schedules (with their variables and pipelines), pipelines (cancel, delete), merge
requests and their notes.

The token (a project access token, or a personal one) travels only in the PRIVATE-TOKEN
header, to the API's own host, and never appears in output or in an error message.
Refusals name the variable the token came from, so the user knows which one to replace.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from ..core.gitlab_names import managed_name
from ..core.policy import OtherRun
from ..core.timefmt import parse_timestamp
from ..errors import GitLabError, JmoError
from .http import Api, TIMEOUT

DEFAULT_TOKEN_VARIABLE = "JMO_GITLAB_TOKEN"
PER_PAGE = 100


class GitLab(Api):
    """One project's REST API with one token. `hints` add or override what to do per HTTP
    status (429 may say `{wait}`: "in 60 seconds" from Retry-After, else "later")."""

    def __init__(self, api: str, project: str, token: str, *, token_variable: str | None = None,
                 hints: Mapping[int, str] | None = None, timeout: float = TIMEOUT, job_token: bool = False) -> None:
        if not api:
            raise JmoError("no GitLab API URL: pass --api-url or run inside GitLab CI ($CI_API_V4_URL)")
        if not project:
            raise JmoError("no GitLab project: pass --project or run inside GitLab CI ($CI_PROJECT_ID)")
        name = token_variable or DEFAULT_TOKEN_VARIABLE
        if not token:
            raise JmoError(f"no GitLab token: set ${name} (a masked CI/CD variable) to a project access token "
                           "with the Maintainer role and the api scope")
        super().__init__(
            api, service="GitLab API", error=GitLabError, timeout=timeout,
            # A CI job's own token travels in JOB-TOKEN; access tokens in PRIVATE-TOKEN.
            credential={"JOB-TOKEN" if job_token else "PRIVATE-TOKEN": token},
            hints={401: f"the token in ${name} is missing, expired or revoked",
                   403: f"the token in ${name} lacks the api scope or the Maintainer role this needs",
                   404: f"no such project or schedule, or the token in ${name} cannot see it",
                   429: "GitLab's rate limit was reached; try again {wait}", **(hints or {})})
        self.token_variable = name
        self.project_url = f"{self.base_url}/projects/{quote(str(project), safe='')}"
        self.schedules_url = f"{self.project_url}/pipeline_schedules"

    def _list(self, url: str, what: str, params: Mapping[str, str] | None = None, key: str = "id") -> Iterator[dict[str, Any]]:
        """Every item of a listing, each an object with an integer `key` (GitLab's ids are)."""
        for _, data in self.pages(url, what, {**(params or {}), "per_page": str(PER_PAGE), "page": "1"}):
            if not isinstance(data, list):
                raise GitLabError(f"GitLab API: {what}: the answer is not a list")
            for item in data:
                if not isinstance(item, dict) or type(item.get(key)) is not int:
                    raise GitLabError(f"GitLab API: {what}: an item of the answer is not an object with an integer {key}")
                yield item

    # -- pipeline schedules -----------------------------------------------------------
    def list_schedules(self) -> list[dict[str, Any]]:
        """Every pipeline schedule of the project, across all pages."""
        return list(self._list(self.schedules_url, "list pipeline schedules"))

    def get_schedule(self, schedule_id: int) -> dict[str, Any]:
        """One schedule, with its `variables` (only this GET has them)."""
        return self.object("GET", f"{self.schedules_url}/{schedule_id}", f"get pipeline schedule {schedule_id}")

    def create_schedule(self, name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.object("POST", self.schedules_url, f"create pipeline schedule {name!r}", data=_form(fields))

    def update_schedule(self, schedule_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.object("PUT", f"{self.schedules_url}/{schedule_id}", f"edit pipeline schedule {schedule_id}",
                           data=_form(fields))

    def take_ownership(self, schedule_id: int) -> None:
        self.send("POST", f"{self.schedules_url}/{schedule_id}/take_ownership",
                  f"take ownership of pipeline schedule {schedule_id}")

    def play(self, schedule_id: int, hints: Mapping[int, str] | None = None) -> None:
        """Run the schedule's pipeline now (201); its next scheduled run stays as it was."""
        self.send("POST", f"{self.schedules_url}/{schedule_id}/play", f"play pipeline schedule {schedule_id}",
                  hints=hints)

    def delete_schedule(self, schedule_id: int) -> None:
        self.send("DELETE", f"{self.schedules_url}/{schedule_id}", f"delete pipeline schedule {schedule_id}")

    def set_variable(self, schedule_id: int, key: str, value: str, exists: bool) -> None:
        url = f"{self.schedules_url}/{schedule_id}/variables"
        if exists:
            self.send("PUT", f"{url}/{key}", f"edit variable {key} of pipeline schedule {schedule_id}",
                      data={"value": value})
        else:
            self.send("POST", url, f"create variable {key} of pipeline schedule {schedule_id}",
                      data={"key": key, "value": value, "variable_type": "env_var"})

    def delete_variable(self, schedule_id: int, key: str) -> None:
        self.send("DELETE", f"{self.schedules_url}/{schedule_id}/variables/{key}",
                  f"delete variable {key} of pipeline schedule {schedule_id}")

    def schedule_pipelines(self, schedule_id: int, newest_first: bool = False) -> Iterator[dict[str, Any]]:
        """The pipelines the pipeline schedule started, page by page (oldest first, GitLab's
        default, or newest first: `sort=desc`, which versions without it ignore)."""
        what = f"list pipelines of pipeline schedule {schedule_id}"
        params = {"sort": "desc"} if newest_first else None
        yield from self._list(f"{self.schedules_url}/{schedule_id}/pipelines", what, params)

    # -- pipelines --------------------------------------------------------------------
    def cancel_pipeline(self, pipeline_id: str) -> None:
        """Cancel a pipeline's jobs (GitLab answers 200 whatever the pipeline's state)."""
        self.send("POST", f"{self.project_url}/pipelines/{quote(pipeline_id)}/cancel", f"cancel pipeline {pipeline_id}")

    def delete_pipeline(self, pipeline_id: str, what: str, hints: Mapping[int, str] | None = None) -> bool:
        """Delete one pipeline with its jobs, logs and artifacts (204). False when already gone (404)."""
        answer = self.send("DELETE", f"{self.project_url}/pipelines/{quote(pipeline_id)}", what, hints=hints,
                           allow=(404,))
        return answer.status != 404

    # -- the audit: what a pipeline's jobs left ---------------------------------------
    def pipeline_jobs(self, pipeline_id: str) -> list[dict[str, Any]]:
        """The jobs of a pipeline (every page)."""
        return list(self._list(f"{self.project_url}/pipelines/{quote(pipeline_id)}/jobs",
                               f"list the jobs of pipeline {pipeline_id}"))

    def artifact_file(self, job_id: str, path: str) -> str | None:
        """One file of a job's artifacts archive as text (GitLab extracts it server-side);
        None when the job has no artifacts or no such file (404)."""
        url = f"{self.project_url}/jobs/{quote(job_id)}/artifacts/{quote(path)}"
        answer = self.send("GET", url, f"read {path} of job {job_id}", allow=(404,))
        return None if answer.status == 404 else answer.body.decode("utf-8", "replace")

    # -- merge requests ---------------------------------------------------------------
    def open_merge_requests(self, source_branch: str, target_branch: str) -> list[dict[str, Any]]:
        """Open merge requests from `source_branch` into `target_branch`, across all pages."""
        return list(self._list(f"{self.project_url}/merge_requests", "list merge requests",
                               {"state": "opened", "source_branch": source_branch, "target_branch": target_branch},
                               key="iid"))

    def edit_merge_request(self, iid: int, fields: Mapping[str, str]) -> dict[str, Any]:
        """PUT only `fields`; everything else (title, labels) stays as it is."""
        return self.object("PUT", f"{self.project_url}/merge_requests/{iid}", f"edit merge request !{iid}",
                           data=dict(fields))

    def add_note(self, iid: int, body: str) -> dict[str, Any]:
        return self.object("POST", f"{self.project_url}/merge_requests/{iid}/notes",
                           f"comment on merge request !{iid}", data={"body": body})


def _form(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Form fields as GitLab reads them: booleans as true / false."""
    return {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in fields.items()}


# --- who else is running (the guard's concurrencyPolicy) ------------------------------

# Pipeline statuses that mean "not finished" (GitLab's Ci::HasStatus); `manual` and
# `scheduled` wait for a person or a timer and are not a run in progress.
ACTIVE = frozenset({"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running"})
# Finished pipelines that did run: one of these that finished after this pipeline was
# created was still running when the schedule fired this one (it may have waited on the
# resource_group since).
RAN = frozenset({"success", "failed", "canceled", "canceling"})


def client_from_env(env: Mapping[str, str], token: str) -> GitLab:
    """This job's project (CI_API_V4_URL, CI_PROJECT_ID), with refusals that name no fix:
    the guard says what its own token needs."""
    api = (env.get("CI_API_V4_URL") or "").strip()
    project = (env.get("CI_PROJECT_ID") or "").strip()
    if not api or not project:
        raise GitLabError("CI_API_V4_URL or CI_PROJECT_ID is not set: not a GitLab CI job")
    return GitLab(api, project, token, hints={401: "", 403: "", 404: ""}, timeout=10.0)


def other_pipelines(client: GitLab, name: str, env: Mapping[str, str]) -> list[OtherRun]:
    """Pipelines of this schedule that were running when this pipeline was created, oldest first.

    The schedule is found by its description ($CI_PIPELINE_SCHEDULE_DESCRIPTION exactly, else
    any `jmo-schedule: <name>` one) and its pipelines read newest first. A pipeline counts
    when it is older than this one (CI_PIPELINE_CREATED_AT, else a lower id) and is still
    active, or finished after this one was created. The token needs read_api: GitLab's job
    token may not call these endpoints.
    """
    own = (env.get("CI_PIPELINE_ID") or "").strip()
    created = parse_timestamp(env.get("CI_PIPELINE_CREATED_AT"))
    description = (env.get("CI_PIPELINE_SCHEDULE_DESCRIPTION") or "").strip()
    schedules = [s for s in client.list_schedules() if managed_name(s.get("description")) == name]
    exact = [s for s in schedules if s.get("description") == description]
    if not (exact or schedules):
        raise GitLabError(f"the project has no pipeline schedule 'jmo-schedule: {name}'")
    out: dict[str, OtherRun] = {}
    for schedule in exact or schedules:
        for p in _older_pipelines(client, int(schedule["id"]), own, created):
            active = p.get("status") in ACTIVE
            finished_since = (p.get("status") in RAN and created is not None
                              and (parse_timestamp(p.get("updated_at")) or created) > created)
            if active or finished_since:
                out[str(p["id"])] = OtherRun(str(p["id"]), p.get("web_url"), p.get("created_at"), active)
    return sorted(out.values(), key=lambda r: int(r.id) if r.id.isdigit() else 0)


def _older_pipelines(client: GitLab, schedule_id: int, own: str, created: Any) -> Iterator[dict[str, Any]]:
    """The schedule's pipelines created before this one. Where GitLab sorts newest first,
    the first page is enough (an older run still going would need 100 fires of the schedule
    during it); where it ignores `sort` (older versions: oldest first), every page."""
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
