"""The previous run's results, fetched from where the CI platform keeps them, for
`notify --fetch-baseline` to compare with (docs/notifications.md, "Baselines").

"The previous run" is the latest earlier run of the same schedule that finished its scan,
whatever its verdict: a run whose findings crossed `fail_on` failed, and is the one to
compare with all the same.

- GitHub Actions: the newest unexpired artifact `jmo-results-<name>` (what the generated
  workflow uploads) of another run, listed with `GET /repos/{o}/{r}/actions/artifacts?name=`
  and downloaded with `GET .../artifacts/{id}/zip` with the job's token (`actions: read`).
  GitHub answers the download with a redirect to its blob storage, followed without the
  token. Artifacts live for the repository's retention (90 days by default), unlike
  `actions/cache` entries, evicted after 7 days unused.
- GitLab CI: with `$JMO_GITLAB_TOKEN` (read_api, the token the guard uses), the newest
  earlier pipeline of the schedule's pipeline schedule whose `jmo-scan-<name>` job finished
  (success or failed), and that job's artifacts archive. With only `$CI_JOB_TOKEN`
  (GitLab Premium and Ultimate accept it for artifacts), the artifacts of that job in the
  latest SUCCESSFUL pipeline of the ref: a failed scan, or any later successful pipeline of
  the ref without the job, leaves no baseline.
- local runs are the local layer's: `run` and `notify --fetch-baseline` outside CI take the
  previous finished run's folder from the run history (local/history.previous_results).

Only the findings files (`findings.json`, `findings.sarif`) are taken out of an archive,
into `<dest>/summaries/`, whatever folder they were in; members with absolute or `..` paths
are ignored. Fetching never fails a job: every problem is a note, and the run is then
compared with nothing (the first run).
"""
from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ..core.files import atomic_write
from ..core.gitlab_names import managed_name
from ..errors import JmoError
from ..platforms import github, gitlab
from . import ci_env
from .findings import DEFAULT_MAX_BYTES, JSON_NAME, SARIF_NAME

ARTIFACT_PREFIX = "jmo-results-"  # generators/github_actions.py uploads jmo-results-<name>
SCAN_JOB_PREFIX = "jmo-scan-"  # generators/gitlab_ci.py names the scan job jmo-scan-<name>
MAX_ARCHIVE = 256 * 1024 * 1024  # bytes of one downloaded artifacts archive
MAX_PIPELINES = 20  # earlier pipelines of a GitLab schedule looked at for a finished scan
FINISHED_SCANS = ("success", "failed")  # a scan job that ran to its verdict (GitLab job statuses)


@dataclass(frozen=True)
class Baseline:
    """Where the previous results are (`folder`, None when there are none) and what was
    fetched, or why nothing was (`note`, one line, never a token)."""

    folder: str | None
    note: str


def fetch(name: str, dest: str, env: Mapping[str, str]) -> Baseline:
    """The previous results of schedule `name` from this CI run's platform (read from `env`),
    written under `dest`. Never raises for a platform problem."""
    where = ci_env.provider(env)
    try:
        if where == ci_env.GITHUB:
            return _github(name, dest, env)
        if where == ci_env.GITLAB:
            return _gitlab(name, dest, env)
    except JmoError as exc:
        return Baseline(None, str(exc))
    return Baseline(None, "not a GitHub Actions or GitLab CI job")


# --- GitHub ----------------------------------------------------------------------------

GITHUB_HINTS = {
    403: "the job's token needs actions: read (permissions: actions: read)",
    404: "no such repository, or the token cannot see it",
}


def _github(name: str, dest: str, env: Mapping[str, str]) -> Baseline:
    variable, token = github.token_from(env)
    if not token:
        return Baseline(None, "no GITHUB_TOKEN to read the previous run's artifact with")
    client = github.GitHub(github.api_url(env), env.get("GITHUB_REPOSITORY") or "", token,
                           token_variable=variable, hints=GITHUB_HINTS)
    artifact = ARTIFACT_PREFIX + name
    what = f"list the artifacts named {artifact}"
    data = client.json("GET", f"{client.repo_url}/actions/artifacts", what,
                       params={"name": artifact, "per_page": github.PER_PAGE})
    items = data.get("artifacts") if isinstance(data, dict) else None
    this_run = (env.get("GITHUB_RUN_ID") or "").strip()
    usable = [a for a in items or [] if isinstance(a, dict) and a.get("id") is not None and not a.get("expired")
              and str((a.get("workflow_run") or {}).get("id", "")) != this_run]
    if not usable:
        return Baseline(None, f"no earlier artifact {artifact} (expired, or no earlier run uploaded one)")
    newest = max(usable, key=lambda a: (str(a.get("created_at") or ""), int(a["id"])))
    run = (newest.get("workflow_run") or {}).get("id")
    url = f"{client.repo_url}/actions/artifacts/{quote(str(newest['id']))}/zip"
    answer = client.download(url, f"download artifact {artifact} of run {run}", max_bytes=MAX_ARCHIVE)
    return _unpack(answer.body, dest, f"artifact {artifact} of run {run}")


# --- GitLab ----------------------------------------------------------------------------


def _gitlab(name: str, dest: str, env: Mapping[str, str]) -> Baseline:
    api = (env.get("CI_API_V4_URL") or "").strip()
    project = (env.get("CI_PROJECT_ID") or "").strip()
    job = SCAN_JOB_PREFIX + name
    token = (env.get(gitlab.DEFAULT_TOKEN_VARIABLE) or "").strip()
    if token:
        client = gitlab.GitLab(api, project, token, hints={403: f"the token in ${gitlab.DEFAULT_TOKEN_VARIABLE} "
                                                                "needs read_api and the Reporter role"})
        return _gitlab_schedule(client, name, job, dest, env)
    job_token = (env.get("CI_JOB_TOKEN") or "").strip()
    ref = (env.get("CI_COMMIT_REF_NAME") or "").strip()
    if not job_token or not ref:
        return Baseline(None, f"no ${gitlab.DEFAULT_TOKEN_VARIABLE} nor $CI_JOB_TOKEN to read the previous scan with")
    client = gitlab.GitLab(api, project, job_token, job_token=True, token_variable="CI_JOB_TOKEN", hints={
        403: "this GitLab does not accept $CI_JOB_TOKEN for artifacts (Premium and Ultimate do); "
             f"set ${gitlab.DEFAULT_TOKEN_VARIABLE} (read_api)",
        404: f"no successful pipeline of {ref} with a {job} job that kept artifacts"})
    url = f"{client.project_url}/jobs/artifacts/{quote(ref, safe='')}/download"
    answer = client.download(f"{url}?job={quote(job, safe='')}", f"download the artifacts of {job} on {ref}",
                             max_bytes=MAX_ARCHIVE, allow=(404,))
    if answer.status == 404:
        return Baseline(None, f"no successful pipeline of {ref} with a {job} job that kept artifacts "
                              f"(with only $CI_JOB_TOKEN the baseline is the latest successful pipeline's)")
    return _unpack(answer.body, dest, f"the artifacts of {job} in the latest successful pipeline of {ref}")


def _gitlab_schedule(client: gitlab.GitLab, name: str, job: str, dest: str, env: Mapping[str, str]) -> Baseline:
    own = (env.get("CI_PIPELINE_ID") or "").strip()
    schedules = [s for s in client.list_schedules() if managed_name(s.get("description")) == name]
    if not schedules:
        return Baseline(None, f"the project has no pipeline schedule 'jmo-schedule: {name}'")
    seen = 0
    for schedule in schedules:
        for pipeline in client.schedule_pipelines(int(schedule["id"]), newest_first=True):
            pid = str(pipeline["id"])
            if pid == own or (own.isdigit() and pid.isdigit() and int(pid) > int(own)):
                continue
            seen += 1
            if seen > MAX_PIPELINES:
                break
            for j in client.pipeline_jobs(pid):
                if j.get("name") == job and j.get("status") in FINISHED_SCANS and j.get("artifacts_file"):
                    # artifacts_file: the job kept an archive (GitLab's job JSON)
                    url = f"{client.project_url}/jobs/{quote(str(j['id']))}/artifacts"
                    answer = client.download(url, f"download the artifacts of job {j['id']}", max_bytes=MAX_ARCHIVE)
                    return _unpack(answer.body, dest, f"the artifacts of {job} (job {j['id']}, {j.get('status')}) "
                                                      f"in pipeline {pid}")
    return Baseline(None, f"no earlier pipeline of the schedule whose {job} job finished with artifacts")


# --- the archive -----------------------------------------------------------------------


def _unpack(archive: bytes, dest: str, what: str) -> Baseline:
    """Write the findings files of a zip archive to `dest/summaries/`: the one nearest the
    archive's root of each name (a results folder's summaries/ before a copy deeper down)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            found: dict[str, zipfile.ZipInfo] = {}
            for info in zf.infolist():
                parts = info.filename.replace("\\", "/").split("/")
                if info.is_dir() or info.filename.startswith("/") or ".." in parts:
                    continue
                if parts[-1] in (JSON_NAME, SARIF_NAME) and info.file_size <= DEFAULT_MAX_BYTES:
                    best = found.get(parts[-1])
                    if best is None or _depth(info) < _depth(best):
                        found[parts[-1]] = info
            if not found:
                return Baseline(None, f"{what} holds no {JSON_NAME} or {SARIF_NAME}")
            folder = os.path.join(dest, "summaries")
            os.makedirs(folder, exist_ok=True)
            for filename, info in found.items():
                atomic_write(os.path.join(folder, filename), zf.read(info), mode=0o644)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return Baseline(None, f"{what}: not a readable zip archive ({type(exc).__name__})")
    return Baseline(dest, what)


def _depth(info: zipfile.ZipInfo) -> tuple[bool, int]:
    parts = info.filename.replace("\\", "/").split("/")
    return ("summaries" not in parts, len(parts))


def describe(baseline: Baseline) -> str:
    """One line for the job log."""
    return f"baseline: {baseline.note}" if baseline.folder else f"no baseline ({baseline.note}): the first run"

