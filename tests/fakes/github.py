"""A local GitHub REST API on 127.0.0.1 for one repository, as GitHub documents it: the
repository (with a classic PAT's scopes in X-OAuth-Scopes), workflow runs and workflow
dispatch."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

    def add_workflow(self, workflow: str, dispatchable: bool = True) -> None:
        self.workflows[workflow] = dispatchable
        self.workflow_ids.setdefault(workflow, 161335 + len(self.workflow_ids))

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

            do_GET = do_DELETE = do_POST = _handle

        self.server = serve(Handler)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

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
        chunk = runs[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(runs) // per_page))
        link = f"{self.url}/repos/{self.repo}/actions/workflows/{asked}/runs?status={wanted}&per_page={per_page}"
        rels = [(1, "first"), (page - 1, "prev")] if page > 1 else []
        rels += [(page + 1, "next"), (last, "last")] if page < last else []
        headers = {"Link": ", ".join(f'<{link}&page={n}>; rel="{rel}"' for n, rel in rels)} if rels else {}
        return 200, {"total_count": len(runs), "workflow_runs": [self._public(r) for r in chunk]}, headers
