"""Sending Slack incoming webhook messages: a timeout and bounded retries (connection
errors, timeouts, 5xx and 429 are retried with exponential backoff, 429 waits
`Retry-After` seconds); any other 4xx is final, since Slack says exactly what is wrong
(`invalid_payload`, `no_service`, ...). What the message says is pipeline/slack_message.py's.

Sending goes through the one HTTP layer (http.exchange: a time limit for each whole
attempt, a bounded answer, no redirect followed).

The webhook URL is a secret: it is never put in a message, an exception or a log line.
Callers name a channel with a `label` that is safe to print.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from .http import Failure, exchange, new_session

# What Slack's error strings mean, and what to do (api.slack.com/messaging/webhooks).
SLACK_ERRORS = {
    "invalid_payload": "Slack could not read the message (a bug in jmo-schedule: please report it)",
    "user_not_found": "the user named in the message does not exist",
    "action_prohibited": "the workspace does not allow this webhook to post here",
    "posting_to_general_channel_denied": "only admins may post to this channel",
    "channel_not_found": "the webhook's channel no longer exists; create a new webhook",
    "channel_is_archived": "the webhook's channel is archived; unarchive it or create a new webhook",
    "no_service": "the webhook is disabled, revoked or wrong; create a new one and update the secret",
    "no_team": "the webhook's workspace no longer exists or the webhook is wrong",
    "no_active_hooks": "the webhook is disabled; re-enable incoming webhooks for the app",
    "invalid_token": "the webhook's token is invalid; create a new webhook",
    "too_many_attachments": "the message has too many attachments",
    "rollup_error": "Slack failed for its own reasons; try again later",
}

Sleep = Callable[[float], None]
DEFAULT_TIMEOUT = 10.0  # seconds for each whole attempt: connecting, the answer's headers and body
MAX_ANSWER = 4096  # bytes of Slack's answer read ("ok" or an error string)


def _sleep(seconds: float) -> None:
    # Looked up at call time so tests can replace it without touching time.sleep itself.
    time.sleep(seconds)


# --- sending -------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What happened to one webhook post. `error` never contains the URL."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def check_webhook_url(url: str) -> str | None:
    """Why `url` cannot be a webhook URL, or None. The message never repeats the URL.

    https only; plain http is accepted for loopback hosts (local test receivers).
    """
    if not url or any(c.isspace() for c in url):
        return "the webhook URL is empty or contains whitespace"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "the webhook URL cannot be parsed"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1"):
        return None
    if parts.scheme == "http":
        return "the webhook URL must use https:// (plain http would send the secret in clear text)"
    return "the webhook URL must start with https://"


def post_webhook(
    url: str,
    payload: Mapping[str, Any],
    *,
    timeout: float | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    max_wait: float = 30.0,
    sleep: Sleep | None = None,
    user_agent: str = "jmo-schedule",
) -> SendResult:
    """POST `payload` to an incoming webhook; never raises for network or HTTP problems.

    Tries up to `1 + retries` times, each within `timeout` seconds from its start to the
    answer's last byte. Retried: connection errors, timeouts, HTTP 5xx and 429. Waits
    `backoff * 2**n` seconds between tries (n = 0, 1, ...), or for a 429 the `Retry-After`
    seconds; a wait longer than `max_wait` ends the tries instead. Redirects are not
    followed (the secret and the message stay with the host they were meant for); at most
    MAX_ANSWER bytes of the answer are read.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    sleep = sleep or _sleep
    problem = check_webhook_url(url)
    if problem:
        return SendResult(False, 0, None, problem)
    with _redacted_logs(url):
        return _post(url, payload, timeout, retries, backoff, max_wait, sleep, user_agent)


class _Redact:
    """A logging filter that rewrites records mentioning a secret (urllib3 logs request
    paths at DEBUG, and URLs in some warnings, should an application turn logging up)."""

    def __init__(self, secrets: Sequence[str]):
        self.secrets = [s for s in secrets if s]

    def filter(self, record: Any) -> bool:
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for s in self.secrets:
                text = text.replace(s, "***")
            record.msg, record.args = text, ()
        return True


class _redacted_logs:
    _LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.response", "urllib3.util.retry", "requests")

    def __init__(self, url: str):
        path = urlsplit(url).path
        self.filter = _Redact([url, path] if len(path) > 1 else [url])

    def __enter__(self) -> None:
        for name in self._LOGGERS:
            logging.getLogger(name).addFilter(self.filter)

    def __exit__(self, *exc: object) -> None:
        for name in self._LOGGERS:
            logging.getLogger(name).removeFilter(self.filter)


def _post(
    url: str, payload: Mapping[str, Any], timeout: float, retries: int, backoff: float, max_wait: float,
    sleep: Sleep, user_agent: str,
) -> SendResult:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": user_agent}
    attempts = 0
    last = SendResult(False, 0, None, "not sent")
    with new_session() as session:
        while True:
            attempts += 1
            wait: float | None = None
            try:
                answer = exchange(session, "POST", url, headers=headers, data=body, timeout=timeout,
                                  max_body=MAX_ANSWER, cut=True)
            except Failure as failure:
                last = SendResult(False, attempts, None, _failure(failure, timeout))
            else:
                status = answer.status
                text = " ".join(answer.body[:300].decode("utf-8", "replace").split())[:200]
                if 200 <= status < 300:
                    return SendResult(True, attempts, status, None)
                last = SendResult(False, attempts, status, _http_problem(status, text))
                if status == 429:
                    wait = _retry_after(answer.headers.get("Retry-After"))
                    if wait is None:
                        wait = backoff * 2 ** (attempts - 1)
                    if wait > max_wait:
                        return SendResult(
                            False, attempts, status,
                            f"HTTP 429 rate limited: Slack asks to wait {wait:g}s, more than the {max_wait:g}s limit",
                        )
                elif status < 500:
                    return last  # Slack told us what is wrong; the same request fails again
            if attempts > retries:
                if attempts > 1:
                    last = SendResult(False, attempts, last.status, f"{last.error} (gave up after {attempts} attempts)")
                return last
            if wait is None:
                wait = min(backoff * 2 ** (attempts - 1), max_wait)
            sleep(wait)


def _failure(failure: Failure, timeout: float) -> str:
    """One line for an attempt without a usable answer; never the URL."""
    if failure.kind == "connect-timeout":
        return f"could not connect within {timeout:g}s"
    if failure.kind == "timeout":
        return f"no complete response within {timeout:g}s"
    if failure.kind == "network":
        return _connection_problem(failure.cause)
    return f"the response broke off ({type(failure.cause).__name__})"


def _connection_problem(exc: BaseException | None) -> str:
    text = repr(exc)
    for marker, meaning in (
        ("RemoteDisconnected", "the server closed the connection without a response"),
        ("ConnectionResetError", "the connection was reset"),
        ("ProtocolError", "the connection broke off"),
        ("NameResolutionError", "the host name could not be resolved"),
        ("Failed to resolve", "the host name could not be resolved"),
        ("ConnectionRefusedError", "the connection was refused"),
        ("Connection refused", "the connection was refused"),
        ("SSLError", "TLS handshake failed"),
    ):
        if marker in text:
            return f"connection failed: {meaning}"
    return "connection failed"


def _http_problem(status: int, text: str) -> str:
    if 300 <= status < 400:
        return f"HTTP {status}: the webhook answered with a redirect, which is not followed; check the webhook URL"
    code_word = text.split()[0] if text else ""
    # Slack answers with a bare error string; anything else (an HTML page) is not worth echoing.
    if code_word and all(c.isalnum() or c == "_" for c in code_word) and len(code_word) <= 64:
        meaning = SLACK_ERRORS.get(code_word)
        return f"HTTP {status} {code_word}" + (f": {meaning}" if meaning else "")
    if status == 429:
        return "HTTP 429 rate limited"
    if status >= 500:
        return f"HTTP {status}: Slack had a server error"
    return f"HTTP {status}"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None

        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0
    return seconds
