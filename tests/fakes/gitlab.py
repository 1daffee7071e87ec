"""A local stand-in for GitLab's pipeline schedules, merge requests and notes APIs (REST v4),
as their docs describe them.

Speaks: GET/POST /api/v4/projects/:id/pipeline_schedules (list paginated with per_page/page,
X-Next-Page, X-Total and Link headers), GET/PUT/DELETE .../:sid, POST .../:sid/take_ownership,
POST .../:sid/variables, PUT/DELETE .../:sid/variables/:key. Requests need the PRIVATE-TOKEN
header; bodies are form-encoded or JSON, as GitLab accepts both. Short refs are stored as
refs/heads/<ref>, as GitLab answers. Only a schedule's owner may edit or delete it (403).

Merge requests: GET /projects/:id/merge_requests (state, source_branch, target_branch; paginated),
GET/PUT /projects/:id/merge_requests/:iid (PUT: title, description, state_event close|reopen,
labels, target_branch; at least one), POST /projects/:id/merge_requests/:iid/notes (body).
A token's scopes decide what it may do: `api` everything, `read_api` only GET, anything else
(write_repository) no API at all: 403 insufficient_scope, as GitLab answers.

Play: POST /projects/:id/pipeline_schedules/:sid/play runs the schedule's pipeline now (201
{"message": "201 Created"}); it needs at least the Developer role (403 below it) and allows
one play per user and schedule a minute (429 with Retry-After, GitLab's rate-limit message).

Pipelines: GET /projects/:id/pipeline_schedules/:sid/pipelines (the pipelines a schedule started,
oldest first as GitLab's default sort=asc, newest first with sort=desc, `status` filters;
paginated), DELETE /projects/:id/pipelines/:pid (204 with no body; 404 when gone; 403 unless
the token's user has the Owner role, `role`) and POST /projects/:id/pipelines/:pid/cancel
(200 with the pipeline whatever its state, as documented; active ones become `canceled`;
needs the api scope and at least the Developer role).

Jobs and artifacts (the audit): GET /projects/:id/pipelines/:pid/jobs (the pipeline's jobs,
paginated) and GET /projects/:id/jobs/:job_id/artifacts/*artifact_path (one file of the job's
artifacts archive, extracted by GitLab and answered as is; 404 "404 Not Found" for a job
without artifacts or a path not in them; 403 for a Guest, who may not read jobs).

Artifacts archives (baselines): GET /projects/:id/jobs/:job_id/artifacts (the job's archive, a
zip of its artifact files) and GET /projects/:id/jobs/artifacts/:ref_name/download?job=NAME
(the archive of job NAME in the latest SUCCESSFUL pipeline of the ref: GitLab takes that
pipeline first, so 404 when it has no such job). Both take PRIVATE-TOKEN, or JOB-TOKEN with the
running job's token where the tier accepts it (`job_token_artifacts`: Premium and Ultimate).

Tokens: elsewhere only PRIVATE-TOKEN authenticates here. GitLab lets CI_JOB_TOKEN call a short list of
endpoints (docs: ci/jobs/ci_job_token.md, "Job token access"), and pipeline schedules, their
pipelines and cancel are not on it: a JOB-TOKEN header is ignored, the request is anonymous,
and the API's `authenticate!` answers 401, as this fake does.

Pushes: GitLab opens or updates a merge request from `-o merge_request.*` push options after
the push. `post_receive_hook()` is a git post-receive hook that hands each push and its options
to this server (POST /-/fake/post-receive), which does the same to its merge requests.
"""
from __future__ import annotations

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


# Pipeline statuses of a pipeline that has finished (GitLab's Ci::HasStatus COMPLETED_STATUSES).
FINISHED = frozenset({"success", "failed", "canceled", "skipped"})


class RawText(str):
    """An answer sent as it is (an artifact file), not as JSON."""


class FakeGitLab:
    def __init__(self, token: str = "glpat-test-token", project: str = "42", page_cap: int = 2, user: str = "project_42_bot",
                 scopes: tuple[str, ...] = ("api", "write_repository")):
        self.token = token
        self.scopes = set(scopes)
        self.project = project
        self.page_cap = page_cap  # largest page served, so tests see several pages
        self.user = user  # the user the token belongs to
        self.schedules: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.next_id = 1
        self.merge_requests: dict[int, dict[str, Any]] = {}  # by iid
        self.notes: dict[int, list[dict[str, Any]]] = {}  # by merge request iid
        self.next_note_id = 100
        self.pipelines: dict[int, dict[str, Any]] = {}  # by id; "schedule" is the pipeline schedule id
        self.role = "owner"  # the token user's role: only an Owner may delete pipelines, a Developer may play
        self.played: set[int] = set()  # schedules played this minute (the play rate limit)
        self.jobs: dict[int, list[dict[str, Any]]] = {}  # pipeline id -> its jobs
        self.artifacts: dict[int, dict[str, str]] = {}  # job id -> {path: text}
        self.job_token = "job-token-of-the-running-job"  # $CI_JOB_TOKEN of the job calling
        self.job_token_artifacts = True  # the tier accepts the job token for artifacts (Premium, Ultimate)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- fixtures -----------------------------------------------------------------
    def add_pipeline(self, schedule_id: int, pipeline_id: int, status: str, created_at: str | None = None,
                     updated_at: str | None = None, scan_job: str | None = None,
                     artifacts: dict[str, str] | None = None) -> None:
        """A pipeline the pipeline schedule started, by default created on day `pipeline_id % 100`
        of November 2026; with `scan_job`, one job of that name whose artifacts hold `artifacts`
        ({path: text})."""
        if scan_job:
            self.jobs[pipeline_id] = [{"id": pipeline_id * 10 + 1, "name": scan_job, "stage": "test", "status": status,
                                       "ref": "main", "tag": False, "allow_failure": False,
                                       "web_url": f"https://gitlab.example.com/acme/app/-/jobs/{pipeline_id * 10 + 1}",
                                       "artifacts": [{"file_type": "archive", "filename": "artifacts.zip"}]
                                       if artifacts else [],
                                       **({"artifacts_file": {"filename": "artifacts.zip", "size": 1}}
                                          if artifacts else {})}]
            self.artifacts[pipeline_id * 10 + 1] = dict(artifacts or {})
        day = pipeline_id % 100
        self.pipelines[pipeline_id] = {
            "id": pipeline_id, "iid": day, "project_id": int(self.project) if self.project.isdigit() else 1,
            "status": status, "source": "schedule", "ref": "main", "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
            "web_url": f"https://gitlab.example.com/acme/app/-/pipelines/{pipeline_id}",
            "created_at": created_at or f"2026-11-{day:02d}T01:00:04.085Z",
            "updated_at": updated_at or f"2026-11-{day:02d}T01:09:56.223Z",
            "schedule": schedule_id,
        }

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

    def add_merge_request(self, source_branch: str, target_branch: str = "main", title: str = "Draft: some change",
                          description: str = "", labels: list[str] | None = None, state: str = "opened",
                          source_project_id: int | None = None, author: str | None = None) -> int:
        iid = max(self.merge_requests, default=0) + 1
        project_id = int(self.project) if self.project.isdigit() else 42
        self.merge_requests[iid] = {
            "id": 1000 + iid, "iid": iid, "project_id": project_id, "title": title, "description": description,
            "state": state, "created_at": "2026-11-20T08:00:00.000Z", "updated_at": "2026-11-20T08:00:00.000Z",
            "merged_by": None, "merge_user": None, "merged_at": None, "closed_by": None, "closed_at": None,
            "target_branch": target_branch, "source_branch": source_branch, "upvotes": 0, "downvotes": 0,
            "author": {"id": 50, "username": author or self.user, "name": author or self.user, "state": "active"},
            "assignees": [], "reviewers": [], "source_project_id": source_project_id or project_id,
            "target_project_id": project_id, "labels": list(labels or []), "draft": False, "work_in_progress": False,
            "milestone": None, "merge_when_pipeline_succeeds": False, "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable", "sha": "0" * 40, "merge_commit_sha": None, "squash_commit_sha": None,
            "user_notes_count": 0, "discussion_locked": None, "should_remove_source_branch": None,
            "force_remove_source_branch": False, "squash": False,
            "web_url": f"https://gitlab.example.com/group/app/-/merge_requests/{iid}",
            "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"group/app!{iid}"},
        }
        self.notes[iid] = []
        return iid

    def receive_push(self, updates: list[dict[str, str]], options: list[str]) -> list[str]:
        """What GitLab does after a push with `-o merge_request.*` options: open a merge request
        for the pushed branch, or update the one already open for it. Returns the messages
        GitLab shows on the push."""
        keys = [o.split("=", 1)[0] for o in options]
        values = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in options if "=" in o}
        labels = [o.split("=", 1)[1] for o in options if o.startswith("merge_request.label=")]
        messages = []
        for update in updates:
            ref, new = update["ref"], update["new"]
            if not ref.startswith("refs/heads/") or set(new) == {"0"}:
                continue
            branch = ref[len("refs/heads/"):]
            with self.lock:
                open_mr = next((m for m in self.merge_requests.values() if m["state"] == "opened"
                                and m["source_branch"] == branch and m["source_project_id"] == m["target_project_id"]), None)
                if open_mr is None and "merge_request.create" in keys:
                    iid = self.add_merge_request(branch, values.get("merge_request.target", "main"),
                                                 values.get("merge_request.title", branch), labels=[])
                    open_mr = self.merge_requests[iid]
                if open_mr is None:
                    continue
                for key, field in (("merge_request.target", "target_branch"), ("merge_request.title", "title"),
                                   ("merge_request.description", "description")):
                    if key in values:
                        open_mr[field] = values[key]
                open_mr["labels"] += [label for label in labels if label not in open_mr["labels"]]
                if "merge_request.remove_source_branch" in keys:
                    open_mr["force_remove_source_branch"] = True
                open_mr["sha"] = new
                messages.append(f"View merge request for {branch}:")
                messages.append(f"  {open_mr['web_url']}")
        return messages

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/v4"

    def writes(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [r for r in self.requests if r[0] != "GET"]

    def deletes(self) -> list[str]:
        """The ids of every DELETE, in order (pipelines, schedules, variables)."""
        return [path.rsplit("/", 1)[1] for method, path, _ in self.requests if method == "DELETE"]

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
                raw = isinstance(data, RawText)
                zipped = isinstance(data, bytes)
                body = data if zipped else b"" if data is None else data.encode() if raw else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/zip" if zipped else
                                 "text/plain; charset=utf-8" if raw else "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                body = self._body() if method in ("POST", "PUT") else {}
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/-/fake/post-receive" and method == "POST":
                    return self._send(200, {"messages": fake.receive_push(body["updates"], body["options"])})
                with fake.lock:
                    fake.requests.append((method, parts.path, body or query))
                    archive = re.fullmatch(r"/api/v4/projects/[^/]+/jobs/(\d+/artifacts|artifacts/.+/download)", parts.path)
                    if (archive and method == "GET" and fake.job_token_artifacts and "PRIVATE-TOKEN" not in self.headers
                            and self.headers.get("JOB-TOKEN") == fake.job_token):
                        status, data, headers = fake.archive(parts.path, query)
                        return self._send(status, data, headers)
                    if self.headers.get("PRIVATE-TOKEN") != fake.token:
                        return self._send(401, {"message": "401 Unauthorized"})
                    needed = {"api", "read_api"} if method == "GET" else {"api"}
                    if not needed & fake.scopes:
                        return self._send(403, {"error": "insufficient_scope", "error_description":
                                                "The request requires higher privileges than provided by the access token.",
                                                "scope": " ".join(sorted(needed, reverse=True))})
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
        jobs = re.fullmatch(r"/api/v4/projects/([^/]+)/pipelines/(\d+)/jobs", path)
        if jobs and unquote(jobs.group(1)) == self.project and method == "GET":
            if self.role == "guest":
                return 403, {"message": "403 Forbidden"}, {}
            if int(jobs.group(2)) not in self.pipelines:
                return 404, {"message": "404 Not found"}, {}
            return self._page(self.jobs.get(int(jobs.group(2)), []), query, f"pipelines/{jobs.group(2)}/jobs")
        if re.fullmatch(r"/api/v4/projects/[^/]+/jobs/(\d+/artifacts|artifacts/.+/download)", path) and method == "GET":
            return self.archive(path, query)
        art = re.fullmatch(r"/api/v4/projects/([^/]+)/jobs/(\d+)/artifacts/(.+)", path)
        if art and unquote(art.group(1)) == self.project and method == "GET":
            if self.role == "guest":
                return 403, {"message": "403 Forbidden"}, {}
            text = self.artifacts.get(int(art.group(2)), {}).get(unquote(art.group(3)))
            if text is None:
                return 404, {"message": "404 Not Found"}, {}
            return 200, RawText(text), {}
        pl = re.fullmatch(r"/api/v4/projects/([^/]+)/(?:pipeline_schedules/(\d+)/pipelines|pipelines/(\d+)(/cancel)?)", path)
        if pl and unquote(pl.group(1)) == self.project:
            if pl.group(4):
                return self._cancel(method, int(pl.group(3)))
            return self._pipelines(method, pl.group(2), pl.group(3), query)
        mr = re.fullmatch(r"/api/v4/projects/([^/]+)/merge_requests(?:/(\d+))?(/notes)?", path)
        if mr:
            if unquote(mr.group(1)) != self.project:
                return 404, {"message": "404 Project Not Found"}, {}
            return self._merge_requests(method, int(mr.group(2)) if mr.group(2) else None, bool(mr.group(3)), body, query)
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/pipeline_schedules(?:/(\d+))?(?:/(take_ownership|variables|play))?(?:/([A-Za-z0-9_]+))?", path)
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
        if sub == "play" and method == "POST":
            return self._play(sid)
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

    def _merge_requests(self, method: str, iid: int | None, notes: bool, body: dict[str, Any],
                        query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if iid is None:
            if method != "GET":
                return 405, {"message": "405 Method Not Allowed"}, {}
            state = query.get("state", "all")
            if state not in ("opened", "closed", "locked", "merged", "all"):
                return 400, {"error": "state does not have a valid value"}, {}
            items = [json.loads(json.dumps(m)) for _, m in sorted(self.merge_requests.items(), reverse=True)]  # newest first
            items = [m for m in items if state == "all" or m["state"] == state]
            for key in ("source_branch", "target_branch"):
                if key in query:
                    items = [m for m in items if m[key] == query[key]]
            return self._page(items, query, "merge_requests")
        if iid not in self.merge_requests:
            return 404, {"message": "404 Not found"}, {}
        mr = self.merge_requests[iid]
        if notes:
            if method != "POST":
                return 405, {"message": "405 Method Not Allowed"}, {}
            if not str(body.get("body") or "").strip():
                return 400, {"error": "body is missing"}, {}
            note = {"id": self.next_note_id, "type": None, "body": body["body"], "attachment": None,
                    "author": {"id": 50, "username": self.user, "name": self.user, "state": "active"},
                    "created_at": "2026-11-25T10:00:00.000Z", "updated_at": "2026-11-25T10:00:00.000Z",
                    "system": False, "noteable_id": mr["id"], "noteable_type": "MergeRequest", "project_id": mr["project_id"],
                    "noteable_iid": iid, "resolvable": False, "confidential": False, "internal": False}
            self.next_note_id += 1
            self.notes[iid].append(note)
            mr["user_notes_count"] += 1
            return 201, note, {}
        if method == "GET":
            return 200, json.loads(json.dumps(mr)), {}
        if method != "PUT":
            return 405, {"message": "405 Method Not Allowed"}, {}
        fields = ("title", "description", "state_event", "labels", "target_branch", "add_labels", "remove_labels",
                  "remove_source_branch", "squash", "discussion_locked", "assignee_id", "milestone_id")
        if not any(k in body for k in fields):
            return 400, {"error": ", ".join(fields) + " are missing, at least one parameter must be provided"}, {}
        event = body.get("state_event")
        if event is not None and event not in ("close", "reopen"):
            return 400, {"error": "state_event does not have a valid value"}, {}
        if "description" in body and len(body["description"]) > 1_048_576:
            return 400, {"message": {"description": ["is too long (maximum is 1048576 characters)"]}}, {}
        for k in ("title", "description", "target_branch"):
            if k in body:
                mr[k] = body[k]
        if "labels" in body:
            mr["labels"] = [x.strip() for x in body["labels"].split(",") if x.strip()]
        if event == "close" and mr["state"] == "opened":
            mr.update(state="closed", closed_at="2026-11-25T10:00:00.000Z",
                      closed_by={"id": 50, "username": self.user, "name": self.user, "state": "active"})
        elif event == "reopen" and mr["state"] == "closed":
            mr.update(state="opened", closed_at=None, closed_by=None)
        mr["updated_at"] = "2026-11-25T10:00:00.000Z"
        return 200, json.loads(json.dumps(mr)), {}

    def archive(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """A job's artifacts archive (zip), by job id or as the latest successful pipeline's of a ref."""
        import io
        import zipfile

        by_id = re.fullmatch(r"/api/v4/projects/[^/]+/jobs/(\d+)/artifacts", path)
        if by_id:
            job_id: int | None = int(by_id.group(1))
        else:
            ref = unquote(path.split("/jobs/artifacts/", 1)[1].rsplit("/download", 1)[0])
            done = [p for _, p in sorted(self.pipelines.items(), reverse=True)
                    if p["ref"] == ref and p["status"] == "success"]
            jobs = self.jobs.get(done[0]["id"], []) if done else []
            job_id = next((j["id"] for j in jobs if j["name"] == query.get("job")), None)
        files = self.artifacts.get(job_id) if job_id is not None else None
        if not files:
            return 404, {"message": "404 Not Found"}, {}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, text in files.items():
                zf.writestr(name, text)
        return 200, buffer.getvalue(), {}

    def _cancel(self, method: str, pid: int) -> tuple[int, Any, dict[str, str]]:
        if method != "POST":
            return 405, {"message": "405 Method Not Allowed"}, {}
        if self.role not in ("owner", "maintainer", "developer"):
            return 403, {"message": "403 Forbidden"}, {}
        if pid not in self.pipelines:
            return 404, {"message": "404 Not found"}, {}
        pipeline = self.pipelines[pid]
        if pipeline["status"] in ("created", "waiting_for_resource", "preparing", "waiting_for_callback",
                                  "pending", "running", "scheduled", "manual"):
            pipeline["status"] = "canceled"
        return 200, {k: v for k, v in pipeline.items() if k != "schedule"}, {}

    def _pipelines(self, method: str, sid: str | None, pid: str | None, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if sid is not None and method == "GET":
            if int(sid) not in self.schedules:
                return 404, {"message": "404 Pipeline Schedule Not Found"}, {}
            items = [{k: v for k, v in p.items() if k != "schedule"}
                     for _, p in sorted(self.pipelines.items(), reverse=query.get("sort") == "desc")
                     if p["schedule"] == int(sid) and query.get("status", p["status"]) == p["status"]]
            per_page = min(int(query.get("per_page", 20)), self.page_cap)
            page = int(query.get("page", 1))
            pages = max(1, -(-len(items) // per_page))
            headers = {"X-Total": str(len(items)), "X-Total-Pages": str(pages), "X-Per-Page": str(per_page),
                       "X-Page": str(page), "X-Next-Page": str(page + 1) if page < pages else ""}
            return 200, items[(page - 1) * per_page: page * per_page], headers
        if pid is not None and method == "DELETE":
            if self.role != "owner":
                return 403, {"message": "403 Forbidden"}, {}
            if int(pid) not in self.pipelines:
                return 404, {"message": "404 Not found"}, {}
            # GitLab deletes a running pipeline too; a tool that prunes history must never ask.
            assert self.pipelines[int(pid)]["status"] in FINISHED, "deleted a pipeline that has not finished"
            del self.pipelines[int(pid)]
            return 204, None, {}
        return 405, {"message": "405 Method Not Allowed"}, {}

    def _play(self, sid: int) -> tuple[int, Any, dict[str, str]]:
        if self.role in ("guest", "reporter"):
            return 403, {"message": "403 Forbidden"}, {}
        if sid in self.played:
            return 429, {"message": "This endpoint has been requested too many times. Try again later."}, {"Retry-After": "60"}
        self.played.add(sid)
        self.add_pipeline(sid, max(self.pipelines, default=500) + 1, "created")
        return 201, {"message": "201 Created"}, {}

    def _list(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        items = [self._public(s, variables=False) for s in sorted(self.schedules)]
        scope = query.get("scope")
        if scope in ("active", "inactive"):
            items = [i for i in items if i["active"] == (scope == "active")]
        return self._page(items, query, "pipeline_schedules")

    def _page(self, items: list[Any], query: dict[str, str], what: str) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 20)), self.page_cap)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        pages = max(1, -(-len(items) // per_page))
        headers = {"X-Total": str(len(items)), "X-Total-Pages": str(pages), "X-Per-Page": str(per_page), "X-Page": str(page)}
        headers["X-Next-Page"] = str(page + 1) if page < pages else ""
        if page < pages:
            headers["Link"] = f'<{self.url}/projects/{self.project}/{what}?page={page + 1}&per_page={per_page}>; rel="next"'
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


POST_RECEIVE = """\
#!{python}
# Plays GitLab's side of a push: hands the pushed refs and the -o push options to the fake
# GitLab whose URL is in <repo>/fake-gitlab-url (no file: no GitLab), which opens or updates
# the merge request, and shows its messages the way GitLab does.
import json, os, sys, urllib.request
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    url = open(os.path.join(repo, "fake-gitlab-url")).read().strip()
except OSError:
    sys.exit(0)
options = [os.environ["GIT_PUSH_OPTION_%d" % i] for i in range(int(os.environ.get("GIT_PUSH_OPTION_COUNT") or 0))]
updates = [dict(zip(("old", "new", "ref"), line.split())) for line in sys.stdin if line.strip()]
request = urllib.request.Request(url + "/-/fake/post-receive", method="POST", headers={{"Content-Type": "application/json"}},
                                 data=json.dumps({{"updates": updates, "options": options}}).encode())
opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
with opener.open(request, timeout=30) as response:
    for line in json.loads(response.read())["messages"]:
        print(line)
"""


def post_receive_hook(python: str = sys.executable) -> str:
    """The text of a post-receive hook that tells a FakeGitLab about each push (see POST_RECEIVE)."""
    return POST_RECEIVE.format(python=python)


def connect(remote: Any, gitlab: FakeGitLab) -> None:
    """Make pushes to the bare repository `remote` (a pathlib.Path) reach `gitlab`."""
    hook = remote / "hooks" / "post-receive"
    hook.write_text(post_receive_hook())
    hook.chmod(0o755)
    (remote / "fake-gitlab-url").write_text(gitlab.url.rsplit("/api/v4", 1)[0] + "\n")
