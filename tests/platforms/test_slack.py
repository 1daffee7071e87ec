"""slack.py: Block Kit payloads within Slack's limits; posting with retries to a local
server that answers like a Slack incoming webhook."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from fakes.slack import ACTION_PROHIBITED, CHANNEL_IS_ARCHIVED, CHANNEL_NOT_FOUND, DROP, FakeSlack, INVALID_PAYLOAD, NO_SERVICE, SERVER_ERROR, SLACK_OK, flood, rate_limited, slow, trickle
from jmo_schedule.platforms import slack
from jmo_schedule.pipeline.ci_env import RunContext
from jmo_schedule.errors import JmoError
from jmo_schedule.pipeline.findings import Finding, FindingsSummary
from jmo_schedule.platforms.slack import MessageFacts, build_payload, post_webhook

SECRET_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.fixture
def server():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def url_of(server: FakeSlack) -> str:
    return server.base + SECRET_PATH


def github_run() -> RunContext:
    return RunContext(
        provider="github",
        run_url="https://github.com/octo/app/actions/runs/99",
        run_id="99",
        run_number="42",
        commit_sha="abc1234",
        commit_url="https://github.com/octo/app/commit/abc1234def",
        author="octocat",
        repository="octo/app",
        workflow="jmo nightly-scan",
        duration=timedelta(minutes=4, seconds=5),
    )


def summary() -> FindingsSummary:
    findings = [
        Finding("generic-api-key", "HIGH", "key", "a.py", 1, "gitleaks"),
        Finding("generic-api-key", "HIGH", "key", "b.py", 2, "gitleaks"),
        Finding("CVE-2024-0001", "CRITICAL", "cve", "req.txt", None, "trivy"),
        Finding("subprocess-shell-true", "MEDIUM", "shell", "run.py", 3, "semgrep"),
    ]
    return FindingsSummary.from_findings(findings, top=2)


def test_success_payload_exact():
    payload = build_payload(MessageFacts("nightly-scan", "success", github_run(), summary(), "HIGH", tool_version="1.0.0"))
    assert payload == {
        "text": "✅ Security scan succeeded: nightly-scan — 4 findings (CRITICAL 1, HIGH 2, MEDIUM 1, LOW 0, INFO 0)",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "✅ Security scan succeeded: nightly-scan", "emoji": True}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*Status:*\n✅ Success"},
                {"type": "mrkdwn", "text": "*Run:*\n<https://github.com/octo/app/actions/runs/99|#42>"},
                {"type": "mrkdwn", "text": "*Commit:*\n<https://github.com/octo/app/commit/abc1234def|abc1234> by octocat"},
                {"type": "mrkdwn", "text": "*Duration:*\n4m 05s"},
            ]},
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "*Findings:* 4 total · :warning: fail_on HIGH crossed (3 at HIGH or above)\n"
                "🔴 Critical 1 · 🟠 High 2 · 🟡 Medium 1 · 🔵 Low 0 · ⚪ Info 0"}},
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "*Top rules:*\n• `generic-api-key` HIGH × 2\n• `CVE-2024-0001` CRITICAL × 1"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "GitHub Actions · octo/app · jmo nightly-scan · jmo-schedule 1.0.0"}]},
        ],
    }


def test_failure_payload_exact_with_gitlab_job_log_link():
    run = RunContext(
        provider="gitlab", run_url="https://gitlab.com/g/p/-/pipelines/1234", run_id="1234",
        commit_sha="abcd1234", author="Jane Doe <jane@example.com>", job_url="https://gitlab.com/g/p/-/jobs/77",
    )
    payload = build_payload(MessageFacts("weekly-scan", "failure", run, message="jmo scan exited 2", tool_version="1.0.0"))
    assert payload == {
        "text": "❌ Security scan failed: weekly-scan — jmo scan exited 2",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "❌ Security scan failed: weekly-scan", "emoji": True}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*Status:*\n❌ Failed"},
                {"type": "mrkdwn", "text": "*Run:*\n<https://gitlab.com/g/p/-/pipelines/1234|#1234>"},
                {"type": "mrkdwn", "text": "*Commit:*\nabcd1234 by Jane Doe &lt;jane@example.com&gt;"},
            ]},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Error:*\njmo scan exited 2"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Logs:* <https://gitlab.com/g/p/-/jobs/77|open the job log>"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "GitLab CI · jmo-schedule 1.0.0"}]},
        ],
    }


def test_failure_without_message_says_see_logs():
    payload = build_payload(MessageFacts("x", "failure", RunContext(provider="local"), findings_note="no findings file"))
    assert payload["blocks"][2]["text"]["text"] == "*Error:*\nthe scan job failed; see the logs"
    assert len(payload["blocks"]) == 4  # a failed scan without results says nothing about findings


def test_threshold_not_crossed_and_no_threshold():
    low = FindingsSummary.from_findings([Finding("r", "LOW", "m", None, None, "t")])
    p = build_payload(MessageFacts("x", "success", RunContext(provider="local"), low, "HIGH"))
    assert p["blocks"][2]["text"]["text"].startswith("*Findings:* 1 total · fail_on HIGH not crossed\n")
    p = build_payload(MessageFacts("x", "success", RunContext(provider="local"), low, None))
    assert p["blocks"][2]["text"]["text"].startswith("*Findings:* 1 total\n")


def test_user_text_is_escaped_so_it_cannot_ping_or_inject_links():
    run = RunContext(provider="local", author="<!channel>")
    p = build_payload(MessageFacts("a&b", "failure", run, message="<!here> <https://evil|click>"))
    text = json.dumps(p)
    assert "<!channel>" not in text and "<!here>" not in text and "<https://evil" not in text
    assert p["blocks"][2]["text"]["text"] == "*Error:*\n&lt;!here&gt; &lt;https://evil|click&gt;"
    assert "a&amp;b" in p["text"]


def test_rule_ids_with_backticks_stay_inline_code():
    s = FindingsSummary.from_findings([Finding("a`b", "LOW", "m", None, None, "t")])
    p = build_payload(MessageFacts("x", "success", RunContext(provider="local"), s))
    assert "• `a'b` LOW × 1" in p["blocks"][3]["text"]["text"]


def test_limits_truncate_with_a_note():
    long_name = "n" * 400
    p = build_payload(MessageFacts(long_name, "failure", RunContext(provider="local"), message="e" * 10000))
    header = p["blocks"][0]["text"]["text"]
    assert len(header) == slack.MAX_HEADER_TEXT and header.endswith("… (truncated)")
    error = p["blocks"][2]["text"]["text"]
    assert len(error) == slack.MAX_SECTION_TEXT and error.endswith("… (truncated)")
    assert len(p["text"]) <= slack.MAX_FALLBACK_TEXT
    assert len(p["blocks"]) <= slack.MAX_BLOCKS
    for block in p["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= slack.MAX_SECTION_TEXT


def test_truncate_edges():
    assert slack.truncate("abc", 3) == "abc"
    assert slack.truncate("abcdef", 3) == "abc"  # no room for the note
    assert slack.truncate("x" * 20, 15) == "xx… (truncated)"


def test_unknown_status_is_an_error():
    with pytest.raises(JmoError, match=r"^unknown status 'ok': expected success or failure$"):
        build_payload(MessageFacts("x", "ok", RunContext(provider="local")))


def test_links_without_safe_urls_fall_back_to_text():
    assert slack.link("javascript:alert(1)", "x") == "x"
    assert slack.link("https://a/b|c", "x") == "x"
    assert slack.link("https://a/b", "a|b") == "<https://a/b|a¦b>"


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


def test_add_mask_commands_mask_url_and_token_path():
    assert slack.add_mask_commands(["https://hooks.slack.com/services/T0/B0/XYZ%41", "https://hooks.slack.com/services/T0/B0/XYZ%41"]) == [
        "::add-mask::https://hooks.slack.com/services/T0/B0/XYZ%2541",
        "::add-mask::/services/T0/B0/XYZ%2541",
    ]


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


from hypothesis import given, settings, strategies as st  # noqa: E402

_texts = st.text(min_size=0, max_size=5000)


@settings(max_examples=150, deadline=None)
@given(name=st.text(min_size=1, max_size=400), message=_texts, author=st.text(max_size=300),
       rules=st.lists(st.text(min_size=1, max_size=3000), min_size=0, max_size=8),
       status=st.sampled_from(["success", "failure"]))
def test_any_text_stays_within_slack_limits_and_escaped(name, message, author, rules, status):
    findings = [Finding(r, "HIGH", "m", None, None, "t") for r in rules]
    s = FindingsSummary.from_findings(findings) if findings else None
    run = RunContext(provider="github", run_url="https://github.com/o/r/actions/runs/1", run_number="1",
                     commit_sha="abc1234", author=author)
    p = build_payload(MessageFacts(name, status, run, s, "HIGH", message=message))
    json.dumps(p)  # serialisable
    assert len(p["blocks"]) <= slack.MAX_BLOCKS
    assert len(p["text"]) <= slack.MAX_FALLBACK_TEXT
    for block in p["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= slack.MAX_HEADER_TEXT
        for obj in [block.get("text")] + block.get("fields", []) + block.get("elements", []):
            if obj and obj["type"] == "mrkdwn":
                limit = slack.MAX_FIELD_TEXT if obj in block.get("fields", []) else slack.MAX_SECTION_TEXT
                assert len(obj["text"]) <= limit
                # Only our own links may open a `<`: nothing from outside can ping or link.
                assert obj["text"].count("<") == obj["text"].count("<https://github.com/")


def test_notes_follow_the_findings_as_warnings():
    low = FindingsSummary.from_findings([Finding("r", "LOW", "m", None, None, "t")])
    p = build_payload(MessageFacts("x", "success", RunContext(provider="local"), low, None,
                                   notes=("SARIF was not uploaded <here>", "second")))
    assert p["blocks"][4] == {"type": "section", "text": {
        "type": "mrkdwn", "text": ":warning: SARIF was not uploaded &lt;here&gt;\n:warning: second"}}
    assert p["text"] == "✅ Security scan succeeded: x — 1 finding (CRITICAL 0, HIGH 0, MEDIUM 0, LOW 1, INFO 0)"
