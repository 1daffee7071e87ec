"""platforms/slack.py: posting with retries to a local server that answers like a Slack
incoming webhook, the secret kept out of every message and log line."""
from __future__ import annotations

import json

import pytest

from fakes.slack import ACTION_PROHIBITED, CHANNEL_IS_ARCHIVED, CHANNEL_NOT_FOUND, DROP, FakeSlack, INVALID_PAYLOAD, NO_SERVICE, SERVER_ERROR, SLACK_OK, flood, rate_limited, slow, trickle
from jmo_schedule.platforms import slack
from jmo_schedule.platforms.slack import post_webhook

SECRET_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.fixture
def server():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def url_of(server: FakeSlack) -> str:
    return server.base + SECRET_PATH


# --- sending -------------------------------------------------------------------------


def test_ok_posts_exact_json_once(server):
    payload = {"text": "hi ✅", "blocks": []}
    r = post_webhook(url_of(server), payload, sleep=pytest.fail)
    assert r == slack.SendResult(True, 1, 200, None)
    (req,) = server.requests
    assert req.method == "POST" and req.path == SECRET_PATH
    assert req.headers["Content-Type"] == "application/json; charset=utf-8"
    assert req.json() == payload


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (INVALID_PAYLOAD, "HTTP 400 invalid_payload: Slack could not read the message (a bug in jmo-schedule: please report it)"),
        (ACTION_PROHIBITED, "HTTP 403 action_prohibited: the workspace does not allow this webhook to post here"),
        (CHANNEL_NOT_FOUND, "HTTP 404 channel_not_found: the webhook's channel no longer exists; create a new webhook"),
        (NO_SERVICE, "HTTP 404 no_service: the webhook is disabled, revoked or wrong; create a new one and update the secret"),
        (CHANNEL_IS_ARCHIVED, "HTTP 410 channel_is_archived: the webhook's channel is archived; unarchive it or create a new webhook"),
        ((404, "<html>Not Found</html>", {}), "HTTP 404"),
    ],
)
def test_4xx_is_final_and_explained(server, answer, error):
    server.script = [answer]
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append)
    assert (r.ok, r.attempts, r.error) == (False, 1, error)
    assert sleeps == [] and len(server.requests) == 1


def test_429_waits_retry_after_then_succeeds(server):
    server.script = [rate_limited("3"), SLACK_OK]
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append)
    assert (r.ok, r.attempts) == (True, 2)
    assert sleeps == [3.0]
    assert server.requests[0].body == server.requests[1].body


def test_429_with_too_long_retry_after_gives_up(server):
    server.script = [rate_limited("120")]
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append, max_wait=30)
    assert r.error == "HTTP 429 rate limited: Slack asks to wait 120s, more than the 30s limit"
    assert sleeps == [] and r.attempts == 1


def test_5xx_retries_with_exponential_backoff_then_gives_up(server):
    server.default = SERVER_ERROR
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append, retries=3, backoff=1.0)
    assert sleeps == [1.0, 2.0, 4.0]
    assert (r.ok, r.attempts, r.status) == (False, 4, 500)
    assert r.error == "HTTP 500 rollup_error: Slack failed for its own reasons; try again later (gave up after 4 attempts)"
    assert len(server.requests) == 4


def test_5xx_then_ok(server):
    server.script = [(503, "", {}), SLACK_OK]
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append)
    assert (r.ok, r.attempts, sleeps) == (True, 2, [1.0])


def test_dropped_connection_is_retried(server):
    server.script = [DROP, SLACK_OK]
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append)
    assert (r.ok, r.attempts, sleeps) == (True, 2, [1.0])


def test_dropped_every_time_reports_without_url(server):
    server.default = DROP
    r = post_webhook(url_of(server), {"text": "x"}, sleep=lambda s: None, retries=1)
    assert r.error == "connection failed: the server closed the connection without a response (gave up after 2 attempts)"


def test_slow_response_times_out_and_retries(server):
    server.script = [slow(0.5)]
    sleeps: list[float] = []
    r = post_webhook(url_of(server), {"text": "x"}, sleep=sleeps.append, timeout=0.2, retries=1)
    assert r.ok and r.attempts == 2 and sleeps == [1.0]


def test_slow_every_time_gives_up(server):
    server.default = slow(0.5)
    r = post_webhook(url_of(server), {"text": "x"}, sleep=lambda s: None, timeout=0.2, retries=1)
    assert r.error == "no complete response within 0.2s (gave up after 2 attempts)"


def test_connection_refused_without_url():
    r = post_webhook("http://127.0.0.1:9" + SECRET_PATH, {"text": "x"}, sleep=lambda s: None, retries=0)
    assert r.error == "connection failed: the connection was refused"
    assert SECRET_PATH not in r.error


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_to_another_host(server, elsewhere, status):
    server.script = [(status, "", {"Location": elsewhere.base + SECRET_PATH})]
    r = post_webhook(url_of(server), {"text": "x"}, sleep=pytest.fail)
    assert (r.ok, r.attempts, r.error) == (
        False, 1, f"HTTP {status}: the webhook answered with a redirect, which is not followed; check the webhook URL")
    assert elsewhere.requests == []  # neither the message nor the webhook's secret path went there


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\n"


@pytest.mark.parametrize(("raw", "every"), [
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 30\r\n\r\n" + b"o" * 30, 0.5),
    (HEAD + b"ok", 0.05),
], ids=["body", "headers"])
def test_a_trickling_answer_is_cut_at_the_time_limit(server, raw, every):
    import time

    server.script = [trickle(raw, every)]
    started = time.monotonic()
    r = post_webhook(url_of(server), {"text": "x"}, sleep=pytest.fail, timeout=1.0, retries=0)
    assert time.monotonic() - started < 2.5  # the answer would take 15s, or 3.5s for its headers
    assert (r.ok, r.error) == (False, "no complete response within 1s")


@pytest.mark.parametrize("status", [200, 500])
def test_a_huge_answer_costs_only_its_first_bytes(server, status):
    from conftest import peak_memory

    server.script = [flood(500 * 1024 * 1024, status=status)]
    with peak_memory() as peak:
        r = post_webhook(url_of(server), {"text": "x"}, sleep=lambda s: None, retries=0)
    assert peak[0] < 1024 * 1024
    assert (r.ok, r.status) == (status == 200, status)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.slack.com/services/T/B/X", None),
        ("http://127.0.0.1:8080/x", None),
        ("http://hooks.slack.com/services/T/B/X", "the webhook URL must use https:// (plain http would send the secret in clear text)"),
        ("ftp://hooks.slack.com/x", "the webhook URL must start with https://"),
        ("hooks.slack.com/services/T/B/X", "the webhook URL must start with https://"),
        ("https://hooks.slack.com/a b", "the webhook URL is empty or contains whitespace"),
        ("", "the webhook URL is empty or contains whitespace"),
    ],
)
def test_check_webhook_url(url, problem):
    assert slack.check_webhook_url(url) == problem


def test_bad_url_is_not_requested():
    r = post_webhook("http://example.com/services/T/B/X", {"text": "x"})
    assert (r.ok, r.attempts) == (False, 0)


def test_retry_after_forms():
    assert slack._retry_after("2") == 2.0
    assert slack._retry_after("1.5") == 1.5
    assert slack._retry_after("-4") == 0.0
    assert slack._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert slack._retry_after("soon") is None
    assert slack._retry_after(None) is None


def test_debug_logging_of_requests_never_shows_the_url(server, caplog):
    import logging

    server.script = [SERVER_ERROR, SLACK_OK]
    with caplog.at_level(logging.DEBUG):
        r = post_webhook(url_of(server), {"text": "x"}, sleep=lambda s: None)
    assert r.ok
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "POST ***" in text  # urllib3 did log the request line, with the path redacted
    assert SECRET_PATH not in text and "XXXXXXXX" not in text
    assert all(not logging.getLogger(n).filters for n in ("urllib3.connectionpool", "requests"))
