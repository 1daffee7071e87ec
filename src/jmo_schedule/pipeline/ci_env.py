"""Where a run happens, read from CI environment variables: GitHub Actions, GitLab CI or local.

`RunContext.from_env(env, now)` never fails: a variable that is missing or malformed just
leaves its field empty, because a notification with less detail beats none.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# The CI system is core's question too (the repository an H cron is hashed for); kept here by name.
from ..core.ci_provider import GITHUB as GITHUB, GITLAB as GITLAB, LOCAL as LOCAL, provider as provider
from ..core.timefmt import parse_timestamp

# Optional, any provider: when the scan started (ISO 8601 or Unix seconds). GitHub has no
# start-time variable, so a generated workflow records one here in its first step.
STARTED_AT_VAR = "JMO_SCAN_STARTED_AT"

PROVIDER_NAMES = {GITHUB: "GitHub Actions", GITLAB: "GitLab CI", LOCAL: "local run"}


@dataclass(frozen=True)
class RunContext:
    """One CI run: links, commit, author, names and how long it has taken so far."""

    provider: str  # github | gitlab | local
    run_url: str | None = None
    run_id: str | None = None
    run_number: str | None = None
    run_attempt: str | None = None
    commit_sha: str | None = None  # short form
    commit_url: str | None = None
    author: str | None = None
    repository: str | None = None
    workflow: str | None = None  # GitHub workflow name / GitLab pipeline name
    job: str | None = None
    job_url: str | None = None
    started_at: datetime | None = None
    duration: timedelta | None = None
    code_url: str | None = None  # the tree at this commit: code_url + "/" + path shows a file

    def file_url(self, path: str | None, line: int | None = None) -> str | None:
        """A link to `path` (relative to the repository) at this commit, at `line`; None when
        the run has no code link or the path is not a plain relative one."""
        from urllib.parse import quote

        if not self.code_url or not path:
            return None
        clean = path.replace("\\", "/")
        if clean.startswith("/") or ":" in clean or ".." in clean.split("/"):
            return None  # absolute, a URL (DAST), or outside the repository
        return f"{self.code_url}/{quote(clean)}" + (f"#L{line}" if line else "")

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)

    @property
    def logs_url(self) -> str | None:
        """Where to read the logs: the job page on GitLab; the run page on GitHub (no job id in env)."""
        return self.job_url or self.run_url

    @property
    def run_label(self) -> str | None:
        """`#42` (GitHub run number, `#42 (attempt 2)` on a re-run) or `#1234` (GitLab pipeline id)."""
        number = self.run_number or self.run_id
        if not number:
            return None
        label = f"#{number}"
        if self.run_attempt and self.run_attempt not in ("0", "1"):
            label += f" (attempt {self.run_attempt})"
        return label

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, now: datetime | None = None) -> RunContext:
        """Read the run from `env` (default os.environ); `now` (default: the clock) sets `duration`."""
        env = os.environ if env is None else env
        where = provider(env)
        if where == GITHUB:
            ctx = _github(env)
        elif where == GITLAB:
            ctx = _gitlab(env)
        else:
            ctx = {"provider": LOCAL, "author": _get(env, "USER") or _get(env, "USERNAME")}
        provider_start = ctx.pop("started_at", None)
        started = parse_timestamp(_get(env, STARTED_AT_VAR)) or provider_start
        duration = None
        if started is not None:
            now = now or datetime.now(timezone.utc)
            if now.tzinfo is None:
                now = now.replace(tzinfo=timezone.utc)
            if now >= started:
                duration = now - started
        return cls(started_at=started, duration=duration, **ctx)


def _get(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _github(env: Mapping[str, str]) -> dict:
    server = (_get(env, "GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo = _get(env, "GITHUB_REPOSITORY")
    run_id = _get(env, "GITHUB_RUN_ID")
    attempt = _get(env, "GITHUB_RUN_ATTEMPT")
    sha = _get(env, "GITHUB_SHA")
    run_url = None
    if repo and run_id:
        run_url = f"{server}/{repo}/actions/runs/{run_id}"
        if attempt and attempt not in ("0", "1"):
            run_url += f"/attempts/{attempt}"
    return {
        "provider": GITHUB,
        "run_url": run_url,
        "run_id": run_id,
        "run_number": _get(env, "GITHUB_RUN_NUMBER"),
        "run_attempt": attempt,
        "commit_sha": sha[:7] if sha else None,
        "commit_url": f"{server}/{repo}/commit/{sha}" if repo and sha else None,
        "code_url": f"{server}/{repo}/blob/{sha}" if repo and sha else None,
        "author": _get(env, "GITHUB_ACTOR"),
        "repository": repo,
        "workflow": _get(env, "GITHUB_WORKFLOW"),
        "job": _get(env, "GITHUB_JOB"),
        "job_url": None,
    }


def _gitlab(env: Mapping[str, str]) -> dict:
    project_url = (_get(env, "CI_PROJECT_URL") or "").rstrip("/")
    sha = _get(env, "CI_COMMIT_SHA")
    short = _get(env, "CI_COMMIT_SHORT_SHA") or (sha[:8] if sha else None)
    # A separate notify job's own start says nothing about the scan: prefer the pipeline's.
    started = parse_timestamp(_get(env, "CI_PIPELINE_CREATED_AT")) or parse_timestamp(_get(env, "CI_JOB_STARTED_AT"))
    return {
        "provider": GITLAB,
        "run_url": _get(env, "CI_PIPELINE_URL"),
        "run_id": _get(env, "CI_PIPELINE_ID"),
        "run_number": None,  # GitLab links and labels pipelines by id
        "run_attempt": None,
        "commit_sha": short,
        "commit_url": f"{project_url}/-/commit/{sha}" if project_url and sha else None,
        "code_url": f"{project_url}/-/blob/{sha}" if project_url and sha else None,
        "author": _get(env, "CI_COMMIT_AUTHOR"),
        "repository": _get(env, "CI_PROJECT_PATH"),
        "workflow": _get(env, "CI_PIPELINE_NAME"),
        "job": _get(env, "CI_JOB_NAME"),
        "job_url": _get(env, "CI_JOB_URL"),
        "started_at": started,
    }
