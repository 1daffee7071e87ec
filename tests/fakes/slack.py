"""A local Slack incoming webhook on 127.0.0.1 that answers as Slack documents
(api.slack.com/messaging/webhooks, "Handling errors"): `ok`, or an error string with its
status; also a scripted server for any HTTP test (slow, dripping, dropped answers)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .server import Request, serve

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


def drip(chunks: list[bytes], every: float, status: int = 200) -> tuple[str, list[bytes], float, int]:
    """An answer whose headers come at once and whose body comes a chunk every `every`
    seconds, with no Content-Length (a server that never quite finishes)."""
    return ("drip", chunks, every, status)


def trickle(raw: bytes, every: float) -> tuple[str, bytes, float]:
    """A whole raw answer (status line, headers, body) sent one byte every `every` seconds:
    a server that keeps the connection busy and never finishes within any sane limit."""
    return ("trickle", raw, every)


def flood(size: int, status: int = 200, declared: bool = False) -> tuple[str, int, int, bool]:
    """An answer with a body of `size` bytes made as it is sent (never held in memory), with
    a Content-Length when `declared`, else ending when the connection does."""
    return ("flood", size, status, declared)


@dataclass
class FakeSlack:
    """A Slack incoming webhook (and any scripted HTTP server): answers `script` in order,
    then `default`; `routes` answer one (method, path); records every request."""

    script: list[Any] = field(default_factory=list)
    default: Any = SLACK_OK
    requests: list[Request] = field(default_factory=list)
    routes: dict[tuple[str, str], Any] = field(default_factory=dict)  # (method, path) -> answer
    # Each message posted: {"path": the webhook's path, "body": the JSON payload}.
    received: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                fake.requests.append(request)
                if self.command == "POST":
                    try:
                        fake.received.append({"path": self.path, "body": request.json()})
                    except ValueError:
                        fake.received.append({"path": self.path, "body": body.decode("utf-8", "replace")})
                answer = fake.routes.get((self.command, parts.path))
                if answer is None:
                    answer = fake.script.pop(0) if fake.script else fake.default
                if isinstance(answer, tuple) and answer and answer[0] == "slow":
                    time.sleep(answer[1])
                    answer = answer[2]
                if answer == DROP:
                    self.close_connection = True
                    return
                if isinstance(answer, tuple) and answer and answer[0] == "drip":
                    self._drip(*answer[1:])
                    return
                if isinstance(answer, tuple) and answer and answer[0] in ("trickle", "flood"):
                    self.close_connection = True
                    try:
                        getattr(self, f"_{answer[0]}")(*answer[1:])
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading, as it should
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

            def _drip(self, chunks: list[bytes], every: float, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")  # the body ends when the connection does
                self.end_headers()
                self.close_connection = True
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        time.sleep(every)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle(self, raw: bytes, every: float) -> None:
                for i in range(len(raw)):
                    self.wfile.write(raw[i:i + 1])
                    self.wfile.flush()
                    time.sleep(every)

            def _flood(self, size: int, status: int, declared: bool) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if declared:
                    self.send_header("Content-Length", str(size))
                self.send_header("Connection", "close")
                self.end_headers()
                block = b" " * 65536
                sent = 0
                while sent < size:
                    part = block[: min(len(block), size - sent)]
                    self.wfile.write(part)
                    sent += len(part)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = serve(Handler)
        return self

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def hook(self, path: str = "/services/T0/B0/secret") -> str:
        """A webhook URL on this server (its path is the secret Slack would hand out)."""
        return self.base + path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
