"""The Slack message of one scan run: Block Kit within Slack's limits, built from facts.

Pure: facts in, JSON-ready dict out (`build_payload`). Every user-controlled string is
escaped for mrkdwn; long texts end with "… (truncated)". platforms/slack.py sends it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.plural import counted
from ..core.timefmt import format_duration
from ..errors import JmoError
from .ci_env import RunContext
from .compare import Comparison
from .findings import FindingsSummary

# Slack's documented limits (Block Kit reference, incoming webhooks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 3000
# The top-level `text` is the notification / fallback; Slack truncates messages at 40,000
# characters, but a fallback longer than a section says nothing more.
MAX_FALLBACK_TEXT = 3000
TRUNCATED = "… (truncated)"

SUCCESS = "success"
FAILURE = "failure"
SKIPPED = "skipped"  # the guard decided not to scan (suspended, deadline, concurrency)
STATUSES = (SUCCESS, FAILURE, SKIPPED)
MAX_NEW_LISTED = 20  # new findings listed by name; the rest are "and N more"

SEVERITY_ICONS = {"CRITICAL": "🔴", "HIGH": "🟠", "MEDIUM": "🟡", "LOW": "🔵", "INFO": "⚪"}

# --- building ------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape text for Slack mrkdwn: `&`, `<` and `>` (so `<!channel>` cannot ping anyone)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """`<url|label>` for mrkdwn, or the escaped label alone when there is no usable URL."""
    label = escape(label).replace("|", "¦")
    if not url or not url.startswith(("https://", "http://")) or any(c in url for c in "<>| \n"):
        return label
    return f"<{url}|{label}>"


def code(text: str) -> str:
    """Inline code in mrkdwn; backticks inside would end it early."""
    return "`" + escape(text).replace("`", "'") + "`"


def truncate(text: str, limit: int, note: str = TRUNCATED) -> str:
    """`text` cut to at most `limit` characters, ending with `note` when it was cut."""
    if len(text) <= limit:
        return text
    if limit <= len(note):
        return text[:limit]
    return text[: limit - len(note)].rstrip() + note


def _mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit)}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


@dataclass(frozen=True)
class MessageFacts:
    """Everything a notification says; `build_payload` renders it."""

    schedule: str
    status: str  # success | failure
    run: RunContext
    summary: FindingsSummary | None = None
    fail_on: str | None = None
    message: str | None = None  # the error (failure) or a note (success)
    findings_note: str | None = None  # why there is no summary
    tool_version: str | None = None
    notes: tuple[str, ...] = ()  # what else went wrong without failing the scan (one line each)
    changes: Comparison | None = None  # against the previous run's results
    first_run: str | None = None  # why there is nothing to compare with (then every finding is new)


def build_payload(facts: MessageFacts) -> dict[str, Any]:
    """The webhook JSON body: fallback `text` plus Block Kit `blocks`, within Slack's limits.

    Every user-controlled string is escaped; long texts end with "… (truncated)".
    """
    if facts.status not in STATUSES:
        raise JmoError(f"unknown status {facts.status!r}: expected success, failure or skipped")
    ok = facts.status != FAILURE
    icon, word, state = {SUCCESS: ("✅", "succeeded", "Success"), FAILURE: ("❌", "failed", "Failed"),
                         SKIPPED: ("⏭️", "skipped", "Skipped")}[facts.status]
    title = f"{icon} Security scan {word}: {facts.schedule}"
    run = facts.run

    fields = [f"*Status:*\n{icon} {state}"]
    run_label = run.run_label or "run"
    if run.run_url:
        fields.append(f"*Run:*\n{link(run.run_url, run_label)}")
    commit = None
    if run.commit_sha:
        commit = link(run.commit_url, run.commit_sha)
        if run.author:
            commit += f" by {escape(run.author)}"
    elif run.author:
        commit = f"by {escape(run.author)}"
    if commit:
        fields.append(f"*Commit:*\n{commit}")
    duration = format_duration(run.duration)
    if duration:
        fields.append(f"*Duration:*\n{duration}")

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, MAX_HEADER_TEXT), "emoji": True}},
        {"type": "section", "fields": [_mrkdwn(f, MAX_FIELD_TEXT) for f in fields[:MAX_FIELDS]]},
    ]
    if not ok:
        error = (facts.message or "").strip() or "the scan job failed; see the logs"
        blocks.append(_section(f"*Error:*\n{escape(error)}"))
    elif facts.message and facts.message.strip():
        blocks.append(_section(escape(facts.message.strip())))

    blocks.extend(_findings_blocks(facts))
    blocks.extend(_change_blocks(facts))
    if facts.notes:
        blocks.append(_section("\n".join(f":warning: {escape(n)}" for n in facts.notes)))

    if not ok and run.logs_url:
        blocks.append(_section(f"*Logs:* {link(run.logs_url, 'open the job log' if run.job_url else 'open the run')}"))

    context = [run.provider_name]
    if run.repository:
        context.append(escape(run.repository))
    if run.workflow:
        context.append(escape(run.workflow))
    context.append(f"jmo-schedule {facts.tool_version}" if facts.tool_version else "jmo-schedule")
    blocks.append({"type": "context", "elements": [_mrkdwn(" · ".join(context), MAX_CONTEXT_TEXT)]})

    if len(blocks) > MAX_BLOCKS:  # not reachable with today's layout; kept as the contract
        dropped = len(blocks) - (MAX_BLOCKS - 1)
        blocks = blocks[: MAX_BLOCKS - 2] + [
            {"type": "context", "elements": [_mrkdwn(f"{dropped} more blocks left out (Slack allows {MAX_BLOCKS})")]},
            blocks[-1],
        ]

    return {"text": truncate(_fallback(facts, title), MAX_FALLBACK_TEXT), "blocks": blocks}


def _findings_line(summary: FindingsSummary) -> str:
    return " · ".join(f"{SEVERITY_ICONS[s]} {s.title()} {summary.counts.get(s, 0)}" for s in SEVERITY_ICONS)


def _findings_blocks(facts: MessageFacts) -> list[dict[str, Any]]:
    summary = facts.summary
    if summary is None:
        # A failed scan often has no results at all: only a successful one misses them.
        if facts.findings_note and facts.status == SUCCESS:
            return [_section(f"*Findings:* {escape(facts.findings_note)}")]
        return []
    head = f"*Findings:* {summary.total} total"
    if facts.fail_on:
        threshold = facts.fail_on.upper()
        if summary.threshold_crossed(threshold):
            n = summary.at_or_above(threshold)
            head += f" · :warning: fail_on {threshold} crossed ({n} at {threshold} or above)"
        else:
            head += f" · fail_on {threshold} not crossed"
    out = [_section(f"{head}\n{_findings_line(summary)}")]
    if summary.top_rules:
        lines = [f"• {code(r.rule_id)} {r.severity} × {r.count}" for r in summary.top_rules]
        out.append(_section("*Top rules:*\n" + "\n".join(lines)))
    return out


def _change_blocks(facts: MessageFacts) -> list[dict[str, Any]]:
    """"N new · N fixed · N open" and the worst new findings, linked to the code."""
    changes = facts.changes
    if facts.summary is None or (changes is None and facts.first_run is None):
        return []
    if changes is None:
        reason = f" ({escape(facts.first_run)})" if facts.first_run else ""
        return [_section(f"*Since the previous run:* first run{reason}: nothing to compare with, "
                         "every finding counts as new")]
    head = f"*Since the previous run:* {len(changes.new)} new · {len(changes.fixed)} fixed · {len(changes.open)} open"
    if changes.changed:
        head += f" ({len(changes.changed)} with a new severity)"
    out = [_section(head)]
    if changes.new:
        lines = [_new_line(f, facts.run) for f in changes.new[:MAX_NEW_LISTED]]
        out.append(_section(_fit("*New findings:*", lines, len(changes.new))))
    return out


def _new_line(f: Any, run: RunContext) -> str:
    where = f.path or "(no file)"
    if f.path and f.start_line:
        where += f":{f.start_line}"
    place = link(run.file_url(f.path, f.start_line), where) if f.path else escape(where)
    return f"• {SEVERITY_ICONS[f.severity]} {f.severity} {code(f.rule_id)} {place}"


def _fit(head: str, lines: list[str], total: int) -> str:
    """`head` and as many of `lines` as fit in one section, then "and N more" for the rest of `total`."""
    shown: list[str] = []
    for n, line in enumerate(lines):
        rest = total - n - 1
        tail = f"\n… and {rest} more" if rest else ""
        if len("\n".join([head, *shown, line])) + len(tail) > MAX_SECTION_TEXT:
            break
        shown.append(line)
    rest = total - len(shown)
    return "\n".join([head, *shown] + ([f"… and {rest} more"] if rest else []))


def _fallback(facts: MessageFacts, title: str) -> str:
    parts = [title]
    if facts.summary is not None:
        s = facts.summary
        parts.append(f"{counted(s.total, 'finding')} ({', '.join(f'{k} {s.counts.get(k, 0)}' for k in SEVERITY_ICONS)})")
    if facts.changes is not None:
        c = facts.changes
        parts.append(f"{len(c.new)} new, {len(c.fixed)} fixed, {len(c.open)} open")
    if facts.status != SUCCESS and facts.message:
        parts.append(facts.message.strip().splitlines()[0] if facts.message.strip() else "")
    return escape(" — ".join(p for p in parts if p))


def payload_json(payload: Mapping[str, Any]) -> str:
    """The payload as UTF-8 JSON text (what is sent, and what --dry-run prints)."""
    return json.dumps(payload, ensure_ascii=False, indent=2)



