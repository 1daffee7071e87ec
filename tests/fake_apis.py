"""Local HTTP servers on 127.0.0.1 that answer like Slack incoming webhooks and the GitHub
and GitLab REST APIs, as their documentation describes. Used by the notify/guard tests."""
from __future__ import annotations

import json
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        return self

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
