"""Local HTTP servers on 127.0.0.1 that answer like Slack incoming webhooks and the GitHub
and GitLab REST APIs, as their documentation describes. Used by the notify/guard tests."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Slack's documented answers (api.slack.com/messaging/webhooks, "Handling errors").
SLACK_OK = (200, "ok", {})
INVALID_PAYLOAD = (400, "invalid_payload", {})
ACTION_PROHIBITED = (403, "action_prohibited", {})
CHANNEL_NOT_FOUND = (404, "channel_not_found", {})
NO_SERVICE = (404, "no_service", {})
CHANNEL_IS_ARCHIVED = (410, "channel_is_archived", {})
SERVER_ERROR = (500, "rollup_error", {})
DROP = "drop"  # close the connection without any answer


def rate_limited(seconds: str) -> tuple[int, str, dict[str, str]]:
    return (429, "rate_limited", {"Retry-After": seconds})


def slow(seconds: float, answer: Any = SLACK_OK) -> tuple[str, float, Any]:
    return ("slow", seconds, answer)


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (a free port) answering with `handler` on a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class FakeServer:
    """A scripted server: answers `script` in order, then `default`; records every request."""

    script: list[Any] = field(default_factory=list)
    default: Any = SLACK_OK
    requests: list[Request] = field(default_factory=list)
    routes: dict[tuple[str, str], Any] = field(default_factory=dict)  # (method, path) -> answer

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                fake.requests.append(
                    Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                )
                answer = fake.routes.get((self.command, parts.path))
                if answer is None:
                    answer = fake.script.pop(0) if fake.script else fake.default
                if isinstance(answer, tuple) and answer and answer[0] == "slow":
                    time.sleep(answer[1])
                    answer = answer[2]
                if answer == DROP:
                    self.close_connection = True
                    return
                status, text, headers = answer
                data = text if isinstance(text, bytes) else (
                    json.dumps(text) if not isinstance(text, str) else text
                ).encode("utf-8")
                self.send_response(status)
                ctype = "application/json" if not isinstance(text, str) else "text/html"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout tests)

            do_GET = do_POST = _handle

        self.server = serve(Handler)
        return self

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- GitHub Actions workflow runs ------------------------------------------------------


class FakeGitHubActions:
    """GitHub's workflow-runs REST endpoints for one repository, as
    docs.github.com/rest/actions/workflow-runs documents them:

    - `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs`: the workflow by file
      name or numeric id (404 when unknown); one `status` filter, a status or a conclusion
      (requested, queued, pending, waiting, in_progress, completed, success, ...); newest
      first; per_page (default 30, max 100, here at most `page_cap`) and page, with a `Link`
      header (first/prev/next/last);
    - `GET /repos/{owner}/{repo}/actions/runs/{run_id}` (with its workflow_id);
    - `POST .../actions/runs/{run_id}/cancel`: 202 Accepted, 409 Conflict "Cannot cancel a
      workflow run that is completed.";
    - `DELETE .../actions/runs/{run_id}`: 204, 404 when gone.

    Bearer `token` only (else 401 "Bad credentials"); listing and reading need the Actions
    permission (`can_read`), cancelling and deleting need write (`can_write`), else 403
    "Resource not accessible by integration".
    """

    def __init__(self, repo: str = "acme/app", token: str = "ghs_job_token", page_cap: int = 100,
                 can_write: bool = True, can_read: bool = True):
        self.repo = repo
        self.token = token
        self.page_cap = page_cap
        self.can_write = can_write
        self.can_read = can_read
        self.honor_status_filter = True
        self.runs: dict[int, dict[str, Any]] = {}
        self.workflows: dict[str, int] = {}  # file name -> workflow id
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, workflow: str, run_id: int, conclusion: str | None, status: str = "completed",
            run_number: int | None = None, created_at: str | None = None, event: str = "schedule") -> None:
        self.workflows.setdefault(workflow, 161335 + len(self.workflows))
        self.runs[run_id] = {
            "id": run_id, "name": f"jmo-schedule: {workflow}", "workflow": workflow, "status": status,
            "conclusion": conclusion, "event": event,
            "run_number": run_id - 100 if run_number is None else run_number,
            "created_at": created_at or f"2026-11-{run_id - 100:02d}T02:00:05Z",
            "html_url": f"https://github.com/{self.repo}/actions/runs/{run_id}",
        }

    def deletes(self) -> list[str]:
        return [r["path"].rsplit("/", 1)[1] for r in self.requests if r["method"] == "DELETE"]

    def cancels(self) -> list[str]:
        return [r["path"].split("/")[-2] for r in self.requests if r["method"] == "POST"]

    @property
    def url(self) -> str:
        return "http://%s:%d" % self.server.server_address[:2]

    def start(self) -> FakeGitHubActions:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake.lock:
                    fake.requests.append({"method": self.command, "path": parts.path, "query": query,
                                          "headers": dict(self.headers.items())})
                    if self.headers.get("Authorization") != f"Bearer {fake.token}":
                        status, body, headers = 401, {"message": "Bad credentials", "status": "401"}, {}
                    else:
                        status, body, headers = fake.route(self.command, parts.path, query)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self.server = serve(Handler)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        not_found = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}
        denied = {"message": "Resource not accessible by integration",
                  "documentation_url": "https://docs.github.com/rest/actions/workflow-runs", "status": "403"}
        base = f"/repos/{self.repo}/actions"
        m = re.fullmatch(rf"{base}/workflows/([^/]+)/runs", path)
        if method == "GET" and m:
            names = {name for name, wid in self.workflows.items() if m.group(1) in (name, str(wid))}
            if not names:
                return 404, not_found, {}
            return (403, denied, {}) if not self.can_read else self._list(m.group(1), names.pop(), query)
        m = re.fullmatch(rf"{base}/runs/(\d+)(/cancel)?", path)
        run = self.runs.get(int(m.group(1))) if m else None
        if m is None or run is None:
            return 404, not_found, {}
        if method == "GET" and not m.group(2):
            return (403, denied, {}) if not self.can_read else (200, self._public(run), {})
        if not self.can_write:
            return 403, denied, {}
        if method == "POST" and m.group(2):
            if run["status"] == "completed":
                return 409, {"message": "Cannot cancel a workflow run that is completed.", "status": "409"}, {}
            run["status"], run["conclusion"] = "completed", "cancelled"
            return 202, {}, {}
        if method == "DELETE" and not m.group(2):
            assert run["status"] == "completed", "deleted a run that has not finished"
            del self.runs[run["id"]]
            return 204, None, {}
        return 404, not_found, {}

    def _public(self, run: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in run.items() if k != "workflow"}
        out["workflow_id"] = self.workflows[run["workflow"]]
        out["path"] = f".github/workflows/{run['workflow']}@refs/heads/main"
        out["run_started_at"] = run["created_at"]
        return out

    def _list(self, asked: str, workflow: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 30)), 100, self.page_cap)
        page = int(query.get("page", 1))
        wanted = query.get("status")
        runs = sorted((r for r in self.runs.values() if r["workflow"] == workflow),
                      key=lambda r: (r["created_at"], r["id"]), reverse=True)
        if wanted and self.honor_status_filter:
            runs = [r for r in runs if wanted in (r["status"], r["conclusion"])]
        chunk = runs[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(runs) // per_page))
        link = f"{self.url}/repos/{self.repo}/actions/workflows/{asked}/runs?status={wanted}&per_page={per_page}"
        rels = [(1, "first"), (page - 1, "prev")] if page > 1 else []
        rels += [(page + 1, "next"), (last, "last")] if page < last else []
        headers = {"Link": ", ".join(f'<{link}&page={n}>; rel="{rel}"' for n, rel in rels)} if rels else {}
        return 200, {"total_count": len(runs), "workflow_runs": [self._public(r) for r in chunk]}, headers
