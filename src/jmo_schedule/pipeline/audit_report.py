"""How the audit is told: a table for people, JSON for programs, one Slack message per
channel that lists only what is wrong. The only module of the audit that formats."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..core.timefmt import compact_duration, rfc3339
from ..platforms.slack import post_webhook
from . import audit
from .audit import Audit
from .notify import resolve_channels
from .slack_message import MAX_SECTION_TEXT, escape, truncate
from .workflow_commands import command

MAX_SCHEDULES_PER_MESSAGE = 40  # Block Kit allows 50 blocks: a header, a context, one per schedule

# Which channel event each state that is not Healthy is (docs/notifications.md, "Events"):
# a schedule that did not, will not or may not have run is `missed`; failing runs are a
# failure, which reaches every channel (their own messages may never have gone out).
EVENT_OF_STATE = {
    audit.MISSED_STATE: "missed",
    audit.DISABLED: "missed",
    audit.UNKNOWN: "missed",
    audit.LATE: "missed",
    audit.FAILING: "failure",
}


def as_json(audits: Sequence[Audit]) -> str:
    return json.dumps([a.as_dict() for a in audits], indent=2) + "\n"


def _cell_last(a: Audit) -> str:
    judged = [f for f in a.fire_times if f.kind in (audit.RAN, audit.SKIP)]
    if not judged:
        return "-"
    last = judged[-1]
    delay = last.delay.total_seconds() if last.delay is not None else 0.0
    what = "skipped" if last.kind == audit.SKIP else (last.run.outcome if last.run else "ran")
    return f"{rfc3339(last.at)} {what} +{compact_duration(max(0.0, delay))}"


def table(audits: Sequence[Audit]) -> str:
    """One row per schedule, then what is wrong, what --fix did and notes, indented."""
    head = ("NAME", "BACKEND", "STATE", "RAN", "SKIPPED", "MISSED", "PENDING", "LAST FIRE TIME")
    rows = [head]
    for a in audits:
        rows.append((a.name, a.backend, a.state, str(len(a.of(audit.RAN))), str(len(a.of(audit.SKIP))),
                     str(len(a.of(audit.MISSED))), str(len(a.of(audit.PENDING))), _cell_last(a)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows]
    for a in audits:
        details = [f"{p.kind}: {p.message}" for p in a.problems]
        details += [f"skipped {rfc3339(f.at)}: {f.run.reason or 'reason not recorded'}"
                    for f in a.of(audit.SKIP) if f.run is not None]
        details += [f"fixed: {line}" for line in a.fixed] + [f"note: {line}" for line in a.notes]
        if details:
            lines.append("")
            lines.append(f"{a.name} ({a.state}):")
            lines += [f"  {d}" for d in details]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def warnings(audits: Sequence[Audit]) -> list[str]:
    """One GitHub `::warning` per schedule that is not Healthy, with its first problem."""
    return [command("warning", f"{a.name}: {a.state}: {a.problems[0].message}" if a.problems else
                    f"{a.name}: {a.state}", title="jmo-schedule audit") for a in audits if not a.healthy]


def slack_payload(audits: Sequence[Audit], where: str | None = None) -> dict[str, Any]:
    """A Block Kit message listing each schedule that is not Healthy and what is wrong."""
    wrong = [a for a in audits if not a.healthy]
    title = (f"jmo-schedule audit: {len(wrong)} schedules need attention" if len(wrong) != 1 else
             "jmo-schedule audit: 1 schedule needs attention")
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    for a in wrong[:MAX_SCHEDULES_PER_MESSAGE]:
        lines = [f"*{escape(a.name)}* ({escape(a.backend)}): *{a.state}*"]
        lines += [f"• {escape(p.message)}" for p in a.problems]
        lines += [f"• fixed: {escape(f)}" for f in a.fixed]
        text = truncate("\n".join(lines), MAX_SECTION_TEXT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if len(wrong) > MAX_SCHEDULES_PER_MESSAGE:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"and {len(wrong) - MAX_SCHEDULES_PER_MESSAGE} more: run jmo-schedule audit"}]})
    if where:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(where)}]})
    fallback = title + ": " + "; ".join(f"{a.name} {a.state}" for a in wrong)
    return {"text": fallback[:3000], "blocks": blocks}


Sender = Callable[[str, Mapping[str, Any]], Any]


def notify(audits: Sequence[Audit], schedules: Mapping[str, Any], env: Mapping[str, str], *,
           where: str | None = None, send: Sender | None = None) -> list[str]:
    """Post one message to each channel of the schedules that are not Healthy, listing
    only those schedules and only what the channel's events take (EVENT_OF_STATE: `missed`,
    or a failure, which every channel takes); nothing when all are Healthy. Returns one line
    per channel (never a URL)."""
    if send is None:
        send = post_webhook
    groups: dict[str, tuple[str, list[Audit]]] = {}
    lines: list[str] = []
    for a in audits:
        if a.healthy:
            continue
        channels, note = resolve_channels(schedules.get(a.name), env=env)
        if not channels and note:
            lines.append(f"notify: {note}")
        event = EVENT_OF_STATE.get(a.state, "missed")
        for ch in channels:
            if event != "failure" and event not in ch.events:
                lines.append(f"notify: {ch.label}: not told that {a.name} is {a.state}: its events "
                             f"({', '.join(sorted(ch.events))}) do not include {event}")
                continue
            if ch.url is None:
                lines.append(f"notify: {ch.label}: {ch.problem}")
                continue
            groups.setdefault(ch.url, (ch.label, []))[1].append(a)
    for url, (label, members) in groups.items():
        result = send(url, slack_payload(members, where))
        ok = bool(getattr(result, "ok", False))
        names = ", ".join(a.name for a in members)
        lines.append(f"notify: sent to {label} ({names})" if ok else
                     f"notify: {label}: {getattr(result, 'error', None) or 'not sent'}")
    return list(dict.fromkeys(lines))
