"""pipeline/slack_message.py: the Slack message of a scan run, built from facts: exact
payloads, escaping, Slack's limits."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jmo_schedule.errors import JmoError
from jmo_schedule.pipeline import slack_message as slack
from jmo_schedule.pipeline.ci_env import RunContext
from jmo_schedule.pipeline.findings import Finding, FindingsSummary
from jmo_schedule.pipeline.slack_message import MessageFacts, build_payload


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
    with pytest.raises(JmoError, match=r"^unknown status 'ok': expected success, failure or skipped$"):
        build_payload(MessageFacts("x", "ok", RunContext(provider="local")))


def test_links_without_safe_urls_fall_back_to_text():
    assert slack.link("javascript:alert(1)", "x") == "x"
    assert slack.link("https://a/b|c", "x") == "x"
    assert slack.link("https://a/b", "a|b") == "<https://a/b|a¦b>"


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
