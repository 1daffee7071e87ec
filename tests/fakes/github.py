"""A local GitHub REST API on 127.0.0.1 for one repository, as GitHub documents it: the
repository (with a classic PAT's scopes in X-OAuth-Scopes), workflow runs and workflow
dispatch."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from datetime import datetime, timezone
from urllib.parse import parse_qs, quote, urlsplit

from .server import serve

class FakeGitHub:
    """A stateful GitHub REST API for one repository `repo`, Bearer `token` (and the tokens of
    `scopes`, whose answers carry X-OAuth-Scopes as a classic PAT's do; any other: 401):

    - `GET /repos/{owner}/{repo}`: the repository, with `default_branch`.
    - `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs`, the workflow by file
      name or numeric id (404 when unknown): one `status` filter, a status or a conclusion
      (requested, queued, pending, waiting, in_progress, completed, success, ...), newest
      first, per_page (default 30, max 100, here at most `page_cap`) and page, with a `Link`
      header (first/prev/next/last); 403 without actions: read (`can_read`).
    - `GET /repos/{owner}/{repo}/actions/runs/{run_id}`: the run, with its workflow_id.
    - `POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel`: 202 Accepted; 409 Conflict
      "Cannot cancel a workflow run that is completed."; 403 without actions: write.
    - `DELETE /repos/{owner}/{repo}/actions/runs/{run_id}` (204; 404 when gone; 403
      "Resource not accessible by integration" without actions: write).
    - `POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches` with a JSON body
      {ref, inputs, return_run_details}: 404 for an unknown workflow, 403 without actions:
      write, 422 "No ref found for: REF" for a ref that is neither a branch nor a tag, 422
      "Workflow does not have 'workflow_dispatch' trigger", 422 without `ref`; else a queued
      workflow_dispatch run, answered 200 {workflow_run_id, run_url, html_url} when
      return_run_details is true (GitHub since 2026-02) and 204 otherwise.
    - `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}`: the workflow, with `state`
      (active, disabled_inactivity, disabled_manually, ...) and `created_at`; 404 when unknown.
    - `PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/enable`: 204, the state becomes
      active; 403 without actions: write.
    - The runs list also filters by `event` and by `created` (`>=TIME`, `<=TIME`, `A..B`, a
      date or a date-time), and its `Link` keeps every filter.
    - `GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`: {total_count, jobs}, each job
      with `steps` (name, status, conclusion, number); a run the guard skipped has its `Scan`
      step concluded `skipped`.
    - `GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations`: the job's annotations
      (the guard's `::notice`); 403 without checks: read (`can_read_checks`).
    - `GET /repos/{owner}/{repo}/actions/artifacts?name=NAME`: {total_count, artifacts}, newest
      first, each with id, name, size_in_bytes, archive_download_url, expired, created_at,
      expires_at and workflow_run {id, head_branch, head_sha}; 403 without actions: read.
    - `GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip`: 302 Found to a short-lived URL
      on another host (`storage`, GitHub's blob storage), which serves the zip with no
      Authorization asked for; 410 Gone "Artifact has expired"; 403 without actions: read.
    """

    def __init__(self, repo: str, token: str, page_cap: int = 2, can_write: bool = True, can_read: bool = True,
                 scopes: dict[str, str | None] | None = None):
        self.repo = repo
        self.token = token
        # Every token GitHub accepts here -> the X-OAuth-Scopes header of its answers: a
        # classic PAT's scopes ("repo, workflow"), None for App and fine-grained tokens.
        self.scopes: dict[str, str | None] = {token: None, **(scopes or {})}
        self.page_cap = page_cap
        self.can_write = can_write  # the token has actions: write
        self.can_read = can_read  # the token has actions: read
        self.run_details = True  # answers return_run_details (GitHub since 2026-02; older servers: 204)
        self.honor_status_filter = True
        self.default_branch = "main"
        self.refs: set[str] = {"main"}  # branches and tags
        self.runs: dict[int, dict[str, Any]] = {}
        self.workflows: dict[str, bool] = {}  # file name -> has a workflow_dispatch trigger
        self.workflow_ids: dict[str, int] = {}  # file name -> workflow id
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.can_read_checks = True  # the token has checks: read
        self.workflow_state: dict[str, str] = {}  # file name -> state
        self.workflow_created: dict[str, str] = {}  # file name -> created_at
        self.skips: dict[int, str | None] = {}  # run id -> the guard's reason (its Scan step skipped)
        self.artifacts: dict[int, dict[str, Any]] = {}  # id -> artifact
        self.storage = BlobStorage()  # where artifact downloads redirect to: another host

    def add_artifact(self, name: str, run_id: int, archive: bytes, created_at: str, expired: bool = False) -> int:
        artifact_id = 9000 + len(self.artifacts)
        self.storage.blobs[artifact_id] = archive
        self.artifacts[artifact_id] = {
            "id": artifact_id, "node_id": f"MDg6QXJ0aWZhY3Q{artifact_id}", "name": name, "size_in_bytes": len(archive),
            "url": f"{self.url}/repos/{self.repo}/actions/artifacts/{artifact_id}",
            "archive_download_url": f"{self.url}/repos/{self.repo}/actions/artifacts/{artifact_id}/zip",
            "expired": expired, "created_at": created_at, "updated_at": created_at,
            "expires_at": "2027-02-28T02:10:00Z", "digest": None,
            "workflow_run": {"id": run_id, "repository_id": 1296269, "head_repository_id": 1296269,
                             "head_branch": self.default_branch, "head_sha": "0123456789abcdef0123456789abcdef01234567"},
        }
        return artifact_id

    def add_workflow(self, workflow: str, dispatchable: bool = True, state: str = "active",
                     created_at: str = "2026-01-05T10:00:00.000Z") -> None:
        self.workflows[workflow] = dispatchable
        self.workflow_ids.setdefault(workflow, 161335 + len(self.workflow_ids))
        self.workflow_state[workflow] = state
        self.workflow_created[workflow] = created_at

    def add(self, workflow: str, run_id: int, conclusion: str | None, status: str = "completed",
            event: str = "schedule", run_number: int | None = None, created_at: str | None = None) -> None:
        if workflow not in self.workflows:
            self.add_workflow(workflow)
        self.runs[run_id] = {
            "id": run_id, "name": f"jmo-schedule: {workflow}", "workflow": workflow, "status": status,
            "conclusion": conclusion, "event": event, "run_number": run_id - 100 if run_number is None else run_number,
            "created_at": created_at or f"2026-11-{(run_id - 100) % 100:02d}T02:00:05Z",
            "html_url": f"https://github.com/{self.repo}/actions/runs/{run_id}",
        }

    def skip(self, run_id: int, reason: str | None) -> None:
        """Mark run `run_id` as one whose guard said skip (its notice says `reason`; None: no notice)."""
        self.skips[run_id] = reason

    def enables(self) -> list[str]:
        return [r["path"].split("/")[-2] for r in self.requests if r["method"] == "PUT" and r["path"].endswith("/enable")]

    def cancels(self) -> list[str]:
        return [r["path"].split("/")[-2] for r in self.requests if r["method"] == "POST" and r["path"].endswith("/cancel")]

    def deletes(self) -> list[str]:
        return [r["path"].rsplit("/", 1)[1] for r in self.requests if r["method"] == "DELETE"]

    def dispatches(self) -> list[dict[str, Any]]:
        """The JSON bodies of every dispatch request, in order."""
        return [r["json"] for r in self.requests if r["method"] == "POST" and r["path"].endswith("/dispatches")]

    @property
    def url(self) -> str:
        return "http://%s:%d" % self.server.server_address[:2]

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = "not json"
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                with fake.lock:
                    fake.requests.append({"method": self.command, "path": parts.path, "query": query,
                                          "headers": dict(self.headers.items()), "json": body})
                    if token not in fake.scopes:
                        status, answer, headers = 401, {"message": "Bad credentials",
                                                        "documentation_url": "https://docs.github.com/rest",
                                                        "status": "401"}, {}
                    elif self.command == "POST":
                        status, answer, headers = fake.post(parts.path, body)
                    elif self.command == "PUT":
                        status, answer, headers = fake.put(parts.path)
                    else:
                        status, answer, headers = fake.route(self.command, parts.path, query)
                    if token in fake.scopes and fake.scopes[token] is not None:
                        headers = {**headers, "X-OAuth-Scopes": str(fake.scopes[token])}
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                if answer is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_DELETE = do_POST = do_PUT = _handle

        self.server = serve(Handler)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.storage.stop()

    DENIED = {"message": "Resource not accessible by integration",
              "documentation_url": "https://docs.github.com/rest/actions/workflow-runs", "status": "403"}
    NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}

    def route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        repo = re.escape(self.repo)
        if method == "GET" and path == f"/repos/{self.repo}":
            owner, name = self.repo.split("/")
            return 200, {"id": 1296269, "name": name, "full_name": self.repo, "owner": {"login": owner},
                         "private": True, "default_branch": self.default_branch,
                         "html_url": f"https://github.com/{self.repo}"}, {}
        w = re.fullmatch(rf"/repos/{repo}/actions/workflows/([^/]+)", path)
        if method == "GET" and w:
            names = [x for x, wid in self.workflow_ids.items() if w.group(1) in (x, str(wid))]
            if not names:
                return 404, self.NOT_FOUND, {}
            return (403, self.DENIED, {}) if not self.can_read else (200, self._workflow(names[0]), {})
        j = re.fullmatch(rf"/repos/{repo}/actions/runs/(\d+)/jobs", path)
        if method == "GET" and j:
            run = self.runs.get(int(j.group(1)))
            if run is None:
                return 404, self.NOT_FOUND, {}
            return (403, self.DENIED, {}) if not self.can_read else (200, self._jobs(run), {})
        if method == "GET" and path == f"/repos/{self.repo}/actions/artifacts":
            if not self.can_read:
                return 403, self.DENIED, {}
            found = [a for _, a in sorted(self.artifacts.items(), reverse=True)
                     if "name" not in query or a["name"] == query["name"]]
            return 200, {"total_count": len(found), "artifacts": found[: int(query.get("per_page", 30))]}, {}
        z = re.fullmatch(rf"/repos/{repo}/actions/artifacts/(\d+)/zip", path)
        if method == "GET" and z:
            artifact = self.artifacts.get(int(z.group(1)))
            if artifact is None:
                return 404, self.NOT_FOUND, {}
            if not self.can_read:
                return 403, self.DENIED, {}
            if artifact["expired"]:
                return 410, {"message": "Artifact has expired", "status": "410"}, {}
            return 302, None, {"Location": f"{self.storage.url}/blobs/{artifact['id']}.zip?sig=short-lived"}
        a = re.fullmatch(rf"/repos/{repo}/check-runs/(\d+)/annotations", path)
        if method == "GET" and a:
            run_id = int(a.group(1)) - 1_000_000
            if run_id not in self.runs:
                return 404, self.NOT_FOUND, {}
            if not self.can_read_checks:
                return 403, {"message": "Resource not accessible by integration",
                             "documentation_url": "https://docs.github.com/rest/checks/runs#list-check-run-annotations",
                             "status": "403"}, {}
            reason = self.skips.get(run_id)
            notes = [] if reason is None else [{
                "path": ".github", "start_line": 1, "end_line": 1, "start_column": None, "end_column": None,
                "annotation_level": "notice", "title": "jmo-schedule guard", "message": f"skip: {reason}",
                "raw_details": None, "blob_href": f"https://github.com/{self.repo}/blob/0/.github"}]
            return 200, notes, {}
        m = re.fullmatch(rf"/repos/{repo}/actions/workflows/([^/]+)/runs", path)
        if method == "GET" and m:
            names = [w for w, wid in self.workflow_ids.items() if m.group(1) in (w, str(wid))]
            if not names:
                return 404, self.NOT_FOUND, {}
            return (403, self.DENIED, {}) if not self.can_read else self._list(names[0], query, m.group(1))
        m = re.fullmatch(rf"/repos/{repo}/actions/runs/(\d+)", path)
        if method == "GET" and m:
            run = self.runs.get(int(m.group(1)))
            if run is None:
                return 404, self.NOT_FOUND, {}
            return (403, self.DENIED, {}) if not self.can_read else (200, self._public(run), {})
        if method == "DELETE" and m:
            if not self.can_write:
                return 403, {"message": "Resource not accessible by integration",
                             "documentation_url": "https://docs.github.com/rest/actions/workflow-runs#delete-a-workflow-run",
                             "status": "403"}, {}
            run_id = int(m.group(1))
            if run_id not in self.runs:
                return 404, self.NOT_FOUND, {}
            assert self.runs[run_id]["status"] == "completed", "prune deleted a run that has not finished"
            del self.runs[run_id]
            return 204, None, {}
        return 404, self.NOT_FOUND, {}

    def post(self, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        c = re.fullmatch(rf"/repos/{re.escape(self.repo)}/actions/runs/(\d+)/cancel", path)
        if c:
            run = self.runs.get(int(c.group(1)))
            if run is None:
                return 404, self.NOT_FOUND, {}
            if not self.can_write:
                return 403, self.DENIED, {}
            if run["status"] == "completed":
                return 409, {"message": "Cannot cancel a workflow run that is completed.", "status": "409"}, {}
            run["status"], run["conclusion"] = "completed", "cancelled"
            return 202, {}, {}
        m = re.fullmatch(rf"/repos/{re.escape(self.repo)}/actions/workflows/([^/]+)/dispatches", path)
        if not m or m.group(1) not in self.workflows:
            return 404, self.NOT_FOUND, {}
        docs = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
        if not self.can_write:
            return 403, {"message": "Resource not accessible by integration", "documentation_url": docs,
                         "status": "403"}, {}
        if not isinstance(body, dict) or not isinstance(body.get("ref"), str):
            return 422, {"message": "Invalid request.\n\n\"ref\" wasn't supplied.", "documentation_url": docs,
                         "status": "422"}, {}
        ref = body["ref"]
        if ref.removeprefix("refs/heads/").removeprefix("refs/tags/") not in self.refs:
            return 422, {"message": f"No ref found for: {ref}", "documentation_url": docs, "status": "422"}, {}
        workflow = m.group(1)
        if not self.workflows[workflow]:
            return 422, {"message": "Workflow does not have 'workflow_dispatch' trigger", "documentation_url": docs,
                         "status": "422"}, {}
        run_id = max(self.runs, default=100) + 1
        self.add(workflow, run_id, None, status="queued", event="workflow_dispatch")
        if body.get("return_run_details") is True and self.run_details:
            return 200, {"workflow_run_id": run_id,
                         "run_url": f"https://api.github.com/repos/{self.repo}/actions/runs/{run_id}",
                         "html_url": f"https://github.com/{self.repo}/actions/runs/{run_id}"}, {}
        return 204, None, {}

    def put(self, path: str) -> tuple[int, Any, dict[str, str]]:
        m = re.fullmatch(rf"/repos/{re.escape(self.repo)}/actions/workflows/([^/]+)/enable", path)
        names = [x for x, wid in self.workflow_ids.items() if m and m.group(1) in (x, str(wid))]
        if not names:
            return 404, self.NOT_FOUND, {}
        if not self.can_write:
            return 403, {"message": "Resource not accessible by integration",
                         "documentation_url": "https://docs.github.com/rest/actions/workflows#enable-a-workflow",
                         "status": "403"}, {}
        self.workflow_state[names[0]] = "active"
        return 204, None, {}

    def _workflow(self, workflow: str) -> dict[str, Any]:
        wid = self.workflow_ids[workflow]
        return {"id": wid, "node_id": f"W_{wid}", "name": f"jmo-schedule: {workflow}",
                "path": f".github/workflows/{workflow}", "state": self.workflow_state.get(workflow, "active"),
                "created_at": self.workflow_created.get(workflow, "2026-01-05T10:00:00.000Z"),
                "updated_at": "2026-01-05T10:00:00.000Z",
                "url": f"{self.url}/repos/{self.repo}/actions/workflows/{wid}",
                "html_url": f"https://github.com/{self.repo}/blob/main/.github/workflows/{workflow}",
                "badge_url": f"https://github.com/{self.repo}/workflows/{workflow}/badge.svg"}

    def _jobs(self, run: dict[str, Any]) -> dict[str, Any]:
        done = run["status"] == "completed"
        skipped = run["id"] in self.skips

        def step(number: int, name: str, conclusion: str | None) -> dict[str, Any]:
            return {"name": name, "status": "completed" if done else "in_progress", "conclusion": conclusion,
                    "number": number, "started_at": run["created_at"], "completed_at": run["created_at"]}

        scan = "skipped" if skipped else run["conclusion"]
        steps = [step(1, "Set up job", "success"), step(2, "Guard (suspend, deadline, concurrency)", "success"),
                 step(3, "Scan", scan if done else None), step(4, "Complete job", "success" if done else None)]
        job = {"id": 1_000_000 + run["id"], "run_id": run["id"], "name": "Scan", "status": run["status"],
               "conclusion": run["conclusion"], "started_at": run["created_at"], "completed_at": run["created_at"],
               "check_run_url": f"{self.url}/repos/{self.repo}/check-runs/{1_000_000 + run['id']}", "steps": steps}
        return {"total_count": 1, "jobs": [job]}

    def _public(self, run: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in run.items() if k != "workflow"}
        out.update(workflow_id=self.workflow_ids[run["workflow"]], run_started_at=run["created_at"],
                   path=f".github/workflows/{run['workflow']}@refs/heads/{self.default_branch}")
        return out

    def _list(self, workflow: str, query: dict[str, str], asked: str) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 30)), 100, self.page_cap)
        page = int(query.get("page", 1))
        wanted = query.get("status")
        runs = [r for _, r in sorted(self.runs.items(), reverse=True) if r["workflow"] == workflow]
        if wanted and self.honor_status_filter:
            runs = [r for r in runs if wanted in (r["status"], r["conclusion"])]
        if query.get("event"):
            runs = [r for r in runs if r["event"] == query["event"]]
        if query.get("created"):
            runs = [r for r in runs if _created_matches(r["created_at"], query["created"])]
        chunk = runs[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(runs) // per_page))
        kept = "&".join(f"{k}={quote(v)}" for k, v in query.items() if k not in ("page", "per_page"))
        link = f"{self.url}/repos/{self.repo}/actions/workflows/{asked}/runs?{kept}&per_page={per_page}"
        rels = [(1, "first"), (page - 1, "prev")] if page > 1 else []
        rels += [(page + 1, "next"), (last, "last")] if page < last else []
        headers = {"Link": ", ".join(f'<{link}&page={n}>; rel="{rel}"' for n, rel in rels)} if rels else {}
        return 200, {"total_count": len(runs), "workflow_runs": [self._public(r) for r in chunk]}, headers


def _when(text: str) -> datetime:
    """A date (its midnight, UTC) or a date-time, as GitHub's search syntax takes them."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _created_matches(created: str, query: str) -> bool:
    """GitHub's `created` qualifier: `>=T`, `>T`, `<=T`, `<T`, `A..B` or `T` (docs: "Understanding
    the search syntax", query for dates)."""
    at = _when(created)
    for op in (">=", "<=", ">", "<"):
        if query.startswith(op):
            bound = _when(query[len(op):])
            return {">=": at >= bound, "<=": at <= bound, ">": at > bound, "<": at < bound}[op]
    if ".." in query:
        low, high = query.split("..", 1)
        return _when(low) <= at <= _when(high)
    return _when(query).date() == at.date()


class BlobStorage:
    """Where GitHub's artifact downloads redirect to: another host, which serves a blob to
    anyone with the signed URL and records every request (a token sent here would leak)."""

    def __init__(self) -> None:
        self.blobs: dict[int, bytes] = {}
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                fake.requests.append({"path": parts.path, "query": parts.query, "headers": dict(self.headers.items())})
                m = re.fullmatch(r"/blobs/(\d+)\.zip", parts.path)
                data = fake.blobs.get(int(m.group(1))) if m else None
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

        self.server = serve(Handler)

    @property
    def url(self) -> str:
        return "http://%s:%d" % self.server.server_address[:2]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
