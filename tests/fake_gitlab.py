"""A local stand-in for GitLab's pipeline schedules API (REST v4), as its docs describe it.

Speaks: GET/POST /api/v4/projects/:id/pipeline_schedules (list paginated with per_page/page,
X-Next-Page, X-Total and Link headers), GET/PUT/DELETE .../:sid, POST .../:sid/take_ownership,
POST .../:sid/variables, PUT/DELETE .../:sid/variables/:key. Requests need the PRIVATE-TOKEN
header; bodies are form-encoded or JSON, as GitLab accepts both. Short refs are stored as
refs/heads/<ref>, as GitLab answers. Only a schedule's owner may edit or delete it (403).
"""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class FakeGitLab:
    def __init__(self, token: str = "glpat-test-token", project: str = "42", page_cap: int = 2, user: str = "project_42_bot"):
        self.token = token
        self.project = project
        self.page_cap = page_cap  # largest page served, so tests see several pages
        self.user = user  # the user the token belongs to
        self.schedules: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.next_id = 1
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- fixtures -----------------------------------------------------------------
    def add(self, description: str, cron: str = "0 1 * * *", ref: str = "main", tz: str = "UTC", active: bool = True,
            owner: str | None = None, variables: dict[str, str] | None = None) -> int:
        sid = self.next_id
        self.next_id += 1
        self.schedules[sid] = {
            "id": sid, "description": description, "ref": _full_ref(ref), "cron": cron, "cron_timezone": tz,
            "next_run_at": "2026-11-26T01:00:00.000Z", "active": active,
            "created_at": "2026-11-01T00:00:00.000Z", "updated_at": "2026-11-01T00:00:00.000Z",
            "owner": {"username": owner or self.user, "id": 7, "name": owner or self.user, "state": "active"},
            "variables": [{"key": k, "variable_type": "env_var", "value": v, "raw": False} for k, v in (variables or {}).items()],
        }
        return sid

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/v4"

    def writes(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [r for r in self.requests if r[0] != "GET"]

    def start(self) -> FakeGitLab:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> dict[str, Any]:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n).decode() if n else ""
                if not raw:
                    return {}
                if (self.headers.get("Content-Type") or "").startswith("application/json"):
                    return json.loads(raw)
                return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}

            def _send(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
                body = b"" if data is None else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                body = self._body() if method in ("POST", "PUT") else {}
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake.lock:
                    fake.requests.append((method, parts.path, body or query))
                    if self.headers.get("PRIVATE-TOKEN") != fake.token:
                        return self._send(401, {"message": "401 Unauthorized"})
                    status, data, headers = fake.route(method, parts.path, body, query)
                self._send(status, data, headers)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # -- the API --------------------------------------------------------------------
    def route(self, method: str, path: str, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/pipeline_schedules(?:/(\d+))?(?:/(take_ownership|variables))?(?:/([A-Za-z0-9_]+))?", path)
        if not m or unquote(m.group(1)) != self.project:
            return 404, {"message": "404 Project Not Found"}, {}
        sid = int(m.group(2)) if m.group(2) else None
        sub, key = m.group(3), m.group(4)
        if sid is None:
            if method == "GET":
                return self._list(query)
            if method == "POST":
                missing = [k for k in ("description", "ref", "cron") if not body.get(k)]
                if missing:
                    return 400, {"error": f"{missing[0]} is missing"}, {}
                new = self.add(body["description"], body["cron"], body["ref"], body.get("cron_timezone") or "UTC",
                               _bool(body.get("active", True)))
                return 201, self._public(new, variables=False), {}
            return 405, {"message": "405 Method Not Allowed"}, {}
        if sid not in self.schedules:
            return 404, {"message": "404 Pipeline Schedule Not Found"}, {}
        sched = self.schedules[sid]
        owned = sched["owner"]["username"] == self.user
        if sub is None:
            if method == "GET":
                return 200, self._public(sid), {}
            if not owned:
                return 403, {"message": "403 Forbidden"}, {}
            if method == "PUT":
                for k in ("description", "cron", "cron_timezone"):
                    if k in body:
                        sched[k] = body[k]
                if "ref" in body:
                    sched["ref"] = _full_ref(body["ref"])
                if "active" in body:
                    sched["active"] = _bool(body["active"])
                return 200, self._public(sid, variables=False), {}
            if method == "DELETE":
                data = self._public(sid, variables=False)
                del self.schedules[sid]
                return 200, data, {}
        if sub == "take_ownership" and method == "POST":
            sched["owner"] = {"username": self.user, "id": 50, "name": self.user, "state": "active"}
            return 201, self._public(sid, variables=False), {}
        if sub == "variables":
            if not owned:
                return 403, {"message": "403 Forbidden"}, {}
            variables = sched["variables"]
            existing = next((v for v in variables if v["key"] == key), None)
            if method == "POST" and key is None:
                if not re.fullmatch(r"[A-Za-z0-9_]{1,255}", body.get("key", "")):
                    return 400, {"message": {"key": ["can contain only letters, digits and '_'."]}}, {}
                if any(v["key"] == body["key"] for v in variables):
                    return 400, {"message": {"key": ["(" + body["key"] + ") has already been taken"]}}, {}
                var = {"key": body["key"], "variable_type": body.get("variable_type", "env_var"), "value": body.get("value", ""), "raw": False}
                variables.append(var)
                return 201, var, {}
            if existing is None:
                return 404, {"message": "404 Variable Not Found"}, {}
            if method == "PUT":
                existing["value"] = body.get("value", existing["value"])
                return 200, existing, {}
            if method == "DELETE":
                variables.remove(existing)
                return 202, existing, {}
        return 405, {"message": "405 Method Not Allowed"}, {}

    def _list(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 20)), self.page_cap)
        page = int(query.get("page", 1))
        items = [self._public(s, variables=False) for s in sorted(self.schedules)]
        scope = query.get("scope")
        if scope in ("active", "inactive"):
            items = [i for i in items if i["active"] == (scope == "active")]
        chunk = items[(page - 1) * per_page: page * per_page]
        pages = max(1, -(-len(items) // per_page))
        headers = {"X-Total": str(len(items)), "X-Total-Pages": str(pages), "X-Per-Page": str(per_page), "X-Page": str(page)}
        headers["X-Next-Page"] = str(page + 1) if page < pages else ""
        if page < pages:
            headers["Link"] = f'<{self.url}/projects/{self.project}/pipeline_schedules?page={page + 1}&per_page={per_page}>; rel="next"'
        return 200, chunk, headers

    def _public(self, sid: int, variables: bool = True) -> dict[str, Any]:
        data = json.loads(json.dumps(self.schedules[sid]))
        if not variables:
            data.pop("variables")
        return data


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
