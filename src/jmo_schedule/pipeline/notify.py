"""Post a scan run's Slack success/failure message to every channel of a schedule.

`notify_schedule` is the Python API (the CLI's `notify` and the local `run` call it):
1. which channels: `--webhook` (a URL or `${VAR}`), else the schedule's enabled
   `notifications.channels` (each `url` a `${VAR}` resolved from the environment), else
   `$SLACK_WEBHOOK_URL`;
2. what to say: the run (ci_env.RunContext), the findings summary of the results folder
   (findings.py) and the schedule's fail_on threshold, rendered by slack_message.build_payload;
3. send to each channel (platforms/slack.post_webhook), collecting one result per channel.

A notification that fails is reported, not raised, unless `strict=True`: a Slack outage
must not turn a passed scan red. Webhook URLs are never in any message: channels are
named by their `${VAR}` reference or by the masked URL.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .._version import __version__
from ..core import rules
from ..core.masking import mask_url
from ..errors import JmoError, NotifyError
from ..platforms.slack import SendResult, check_webhook_url, post_webhook
from .ci_env import RunContext
from .compare import Comparison, compare
from .findings import SEVERITIES, FindingsError, FindingsSummary, find_results_file, load_findings
from .slack_message import MessageFacts, STATUSES, build_payload
from .workflow_commands import command

TYPE_CHECKING = False
if TYPE_CHECKING:  # notify imports no model: a webhook and a results folder need no schedules file
    from ..core.model import ScanSchedule


ENV_VAR = "SLACK_WEBHOOK_URL"
SARIF_NOT_UPLOADED = (
    "SARIF was not uploaded to code scanning: the upload failed (private and internal repositories "
    "need GitHub Code Security); the findings are in the run's results artifact"
)
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

Sender = Callable[[str, Mapping[str, Any]], "SendResult"]


EVENTS = frozenset(rules.EVENTS)
DEFAULT_EVENTS = frozenset(rules.DEFAULT_EVENTS)


@dataclass(frozen=True)
class Channel:
    """A webhook to post to. `label` is safe to print; `url` is the secret (None if unresolved).
    `events` and `min_severity` say which messages it gets (see `reaches`)."""

    label: str
    url: str | None = field(repr=False)  # the secret: kept out of repr() and logs
    problem: str | None = None  # why there is no usable URL
    events: frozenset[str] = DEFAULT_EVENTS
    min_severity: str | None = None

    def routed(self, events: frozenset[str], min_severity: str | None) -> Channel:
        return Channel(self.label, self.url, self.problem, events, min_severity)


@dataclass(frozen=True)
class ChannelResult:
    label: str
    ok: bool
    attempts: int = 0
    error: str | None = None

    def __str__(self) -> str:
        if self.ok:
            extra = f" after {self.attempts} attempts" if self.attempts > 1 else ""
            return f"sent to {self.label}{extra}"
        return f"{self.label}: {self.error}"


@dataclass(frozen=True)
class NotifyOutcome:
    """What `notify_schedule` did: the payload and one result per channel."""

    status: str
    payload: dict[str, Any]
    results: tuple[ChannelResult, ...] = ()
    note: str | None = None  # why nothing was sent (disabled, no channel, dry run)
    channels: tuple[Channel, ...] = field(default=())
    passed_over: tuple[str, ...] = ()  # channels this message is not for, and why (one line each)

    @property
    def ok(self) -> bool:
        """True when every channel got the message (vacuously true when none was asked for)."""
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> tuple[ChannelResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    def exit_code(self, strict: bool = False) -> int:
        """0, or 1 when `strict` and a channel failed."""
        return 1 if strict and not self.ok else 0


def resolve_reference(value: str, env: Mapping[str, str], where: str) -> Channel:
    """A channel from a URL or a whole `${VAR}` reference; a missing variable is a problem
    that names the variable, never a value."""
    value = value.strip()
    m = _ENV_REF.match(value)
    if m:
        var = m.group(1)
        label = f"{where} (${{{var}}})"
        resolved = (env.get(var) or "").strip()
        if not resolved:
            return Channel(label, None, f"environment variable {var} is not set or empty")
        if _ENV_REF.match(resolved):
            return Channel(label, None, f"environment variable {var} holds another ${{...}} reference, not a URL")
        return _checked(Channel(label, resolved))
    if "${" in value or "$" == value[:1]:
        return Channel(f"{where}", None, "write a whole ${VAR} reference such as ${SLACK_WEBHOOK_URL}")
    return _checked(Channel(f"{where} ({mask_url(value)})", value))


def _checked(channel: Channel) -> Channel:
    problem = check_webhook_url(channel.url or "")
    return Channel(channel.label, None, problem) if problem else channel


def resolve_channels(
    schedule: ScanSchedule | None,
    *,
    webhook: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Channel], str | None]:
    """The channels to post to, and a note when there are none on purpose.

    `webhook` (URL or `${VAR}`) wins over the schedule's channels; with neither,
    `$SLACK_WEBHOOK_URL`. Channels that resolve to the same URL are posted to once.
    """
    env = os.environ if env is None else env
    if webhook:  # asked for by name: told of everything
        return [resolve_reference(webhook, env, "--webhook").routed(EVENTS, None)], None
    channels: list[Channel] = []
    if schedule is not None:
        notif = schedule.spec.jobTemplate.notifications or {}
        if notif and notif.get("enabled", True) is False:
            return [], f"notifications are disabled for schedule {schedule.metadata.name} (notifications.enabled: false)"
        for i, ch in enumerate(notif.get("channels") or [], start=1):
            if not isinstance(ch, dict) or ch.get("type", "slack") != "slack":
                continue
            events = ch.get("events")
            severity = ch.get("minSeverity")
            channels.append(resolve_reference(str(ch.get("url") or ""), env, f"channel {i}").routed(
                frozenset(e for e in events if e in EVENTS) if isinstance(events, list) else DEFAULT_EVENTS,
                severity.upper() if isinstance(severity, str) and severity else None))
    if not channels:
        if (env.get(ENV_VAR) or "").strip():
            channels.append(resolve_reference("${" + ENV_VAR + "}", env, "default channel"))
        else:
            where = f"schedule {schedule.metadata.name} has no Slack channel, " if schedule is not None else ""
            return [], f"{where}no --webhook and {ENV_VAR} is not set: no Slack channel to notify"
    unique: list[Channel] = []
    seen: dict[str, int] = {}
    for ch in channels:
        if ch.url is not None:
            if ch.url in seen:  # one message per webhook: what either channel asks for
                n = seen[ch.url]
                first = unique[n]
                unique[n] = first.routed(first.events | ch.events, _lower(first.min_severity, ch.min_severity))
                continue
            seen[ch.url] = len(unique)
        unique.append(ch)
    return unique, None


def _lower(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return None
    return max(a, b, key=SEVERITIES.index)


@dataclass(frozen=True)
class Verdict:
    """What one run amounts to for routing: its status and, per minimum severity, how many
    findings count as new (all of them on a first run)."""

    status: str
    changes: Comparison | None = None
    summary: FindingsSummary | None = None

    def new_findings(self, min_severity: str | None) -> int:
        if self.changes is not None:
            return int(self.changes.new_at_or_above(min_severity))
        if self.summary is not None:
            return int(self.summary.at_or_above(min_severity or "INFO"))
        return 0


def reaches(channel: Channel, verdict: Verdict) -> str | None:
    """The event that takes this run's message to `channel`, or None. A failure reaches every
    channel; a success goes to `success` channels, and to `new-findings` channels when a new
    finding is at or above their `minSeverity`; a skip to `skipped` channels."""
    if verdict.status == "failure":
        return "failure"
    if verdict.status == "skipped":
        return "skipped" if "skipped" in channel.events else None
    if "success" in channel.events:
        return "success"
    if "new-findings" in channel.events and verdict.new_findings(channel.min_severity) > 0:
        return "new-findings"
    return None


def summarize_results(results_dir: str | os.PathLike[str] | None) -> tuple[Any, str | None]:
    """(FindingsSummary or None, a note saying why there is none)."""
    findings, note = read_results(results_dir)
    if findings is None:
        return None, note
    return FindingsSummary.from_findings(findings, source=str(find_results_file(os.fspath(results_dir or "")))), None


def read_results(results_dir: str | os.PathLike[str] | None, what: str = "") -> tuple[list[Any] | None, str | None]:
    """(the findings of a results folder, or None with a note saying why there are none)."""
    if results_dir is None:
        return None, None
    folder = os.fspath(results_dir)
    if find_results_file(folder) is None:
        return None, f"no findings file in {what}{folder} (summaries/findings.json or findings.sarif)"
    try:
        return load_findings(folder), None
    except FindingsError as exc:
        return None, f"could not read {what}: {exc}" if what else f"could not read: {exc}"


def _prepare(
    schedule: ScanSchedule | None, status: str, *, results_dir: str | os.PathLike[str] | None,
    baseline: str | os.PathLike[str] | None, message: str | None, env: Mapping[str, str], now: datetime | None,
    name: str | None, notes: Sequence[str], no_baseline: str | None = None,
) -> tuple[MessageFacts, Verdict]:
    """The message's facts and what the run amounts to for routing."""
    if schedule is not None and results_dir is None:
        results_dir = schedule.spec.jobTemplate.results_dir
    summary = changes = note = None
    first_run = no_baseline
    if status != "skipped":  # a skipped run has no results of its own
        findings, note = read_results(results_dir)
        if findings is not None and results_dir is not None:  # findings come from a folder
            summary = FindingsSummary.from_findings(findings, source=str(find_results_file(os.fspath(results_dir))))
            if baseline is not None:
                previous, first_run = read_results(baseline, "the baseline ")
                if previous is not None:
                    changes = compare(findings, previous)
    title = name or (schedule.metadata.name if schedule is not None else None)
    title = title or (env.get("JMO_SCHEDULE") or env.get("GITHUB_WORKFLOW") or env.get("CI_PROJECT_PATH") or "scan")
    facts = MessageFacts(
        schedule=title,
        status=status,
        run=RunContext.from_env(env, now),
        summary=summary,
        fail_on=schedule.spec.jobTemplate.fail_on if schedule is not None else None,
        message=message,
        findings_note=note,
        tool_version=__version__,
        notes=tuple(notes),
        changes=changes,
        first_run=first_run,
    )
    return facts, Verdict(status, changes, summary)


def build_notification(
    schedule: ScanSchedule | None,
    status: str,
    *,
    results_dir: str | os.PathLike[str] | None = None,
    message: str | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    name: str | None = None,
    notes: Sequence[str] = (),
    baseline: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The Slack payload for one run of `schedule` (or of `name` when there is no schedule).

    `notes` are one-line remarks on what went wrong without failing the scan; `baseline` is
    the previous run's results folder (the message then says what is new, fixed and open)."""
    env = os.environ if env is None else env
    facts, _ = _prepare(schedule, status, results_dir=results_dir, baseline=baseline, message=message, env=env,
                        now=now, name=name, notes=notes)
    return build_payload(facts)


def notify_schedule(
    schedule: ScanSchedule | None,
    status: str,
    *,
    results_dir: str | os.PathLike[str] | None = None,
    message: str | None = None,
    env: Mapping[str, str] | None = None,
    strict: bool = False,
    webhook: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    name: str | None = None,
    send: Sender | None = None,
    notes: Sequence[str] = (),
    baseline: str | os.PathLike[str] | None = None,
    no_baseline: str | None = None,
) -> NotifyOutcome:
    """Build the message for one run and post it to every channel it reaches.

    `status` is "success", "failure" or "skipped" (the guard's skip; `message` its reason).
    `results_dir` defaults to the schedule's results folder; `baseline` is the previous
    run's (a missing or empty one makes this the first run; so does `no_baseline`, which
    says why there is none). Each channel gets the message
    when `reaches` says so (a failure reaches all); the others are listed in `passed_over`.
    Returns a NotifyOutcome with one result per channel sent to; never raises for a
    delivery problem unless `strict`, then NotifyError lists every failed channel.
    `dry_run` resolves channels but sends nothing. `send(url, payload)` replaces the HTTP
    post (tests); by default slack.post_webhook. `notes` go into the message as warnings.
    """
    if status not in STATUSES:
        raise JmoError(f"unknown status {status!r}: expected success, failure or skipped")
    env = os.environ if env is None else env
    facts, verdict = _prepare(schedule, status, results_dir=results_dir, baseline=baseline, message=message,
                              env=env, now=now, name=name, notes=notes, no_baseline=no_baseline)
    payload = build_payload(facts)
    resolved, note = resolve_channels(schedule, webhook=webhook, env=env)
    channels = [c for c in resolved if reaches(c, verdict)]
    passed_over = tuple(f"{c.label}: not sent: its events ({', '.join(sorted(c.events))}) do not take "
                        f"{_event_words(verdict, c)}" for c in resolved if not reaches(c, verdict))
    if dry_run:
        return NotifyOutcome(status, payload, (), note or "dry run: nothing sent", tuple(channels), passed_over)
    if not channels:
        outcome = NotifyOutcome(status, payload, (), note, (), passed_over)
        if strict and note and "disabled" not in note:
            raise NotifyError(note)
        return outcome
    if send is None:
        send = _default_sender()
    results: list[ChannelResult] = []
    for ch in channels:
        if ch.url is None:
            results.append(ChannelResult(ch.label, False, 0, ch.problem))
            continue
        r = send(ch.url, payload)
        results.append(ChannelResult(ch.label, r.ok, r.attempts, None if r.ok else _scrub(r.error or "failed", ch.url)))
    outcome = NotifyOutcome(status, payload, tuple(results), None, tuple(channels), passed_over)
    if strict and not outcome.ok:
        raise NotifyError("; ".join(str(r) for r in outcome.failures))
    return outcome


def _event_words(verdict: Verdict, channel: Channel) -> str:
    if verdict.status == "skipped":
        return "a skipped run"
    new = verdict.new_findings(channel.min_severity)
    if not new:
        return "a success without new findings" + (f" at {channel.min_severity} or above" if channel.min_severity else "")
    return f"a success with {new} new"


def run_notes(sarif_upload: str | None) -> list[str]:
    """The notes a run's other steps call for: `sarif_upload` is the upload step's outcome
    (success, failure, skipped, cancelled, or empty when there was none)."""
    return [SARIF_NOT_UPLOADED] if (sarif_upload or "").strip() == "failure" else []


def _default_sender() -> Sender:
    def send(url: str, payload: Mapping[str, Any]) -> SendResult:
        return post_webhook(url, payload, user_agent=f"jmo-schedule/{__version__}")

    return send


def _scrub(text: str, secret: str) -> str:
    # Belt and braces: no error text ever carries the URL, even from a custom sender.
    return text.replace(secret, "***") if secret else text


def secrets_of(channels: Sequence[Channel]) -> list[str]:
    """The resolved webhook URLs (for `::add-mask::`)."""
    return [c.url for c in channels if c.url]


def add_mask_commands(secrets: Sequence[str]) -> list[str]:
    """GitHub Actions `::add-mask::` lines for each secret (and its path, the token part)."""
    out: list[str] = []
    seen: set[str] = set()
    for secret in secrets:
        values = [secret]
        try:
            path = urlsplit(secret).path
        except ValueError:
            path = ""
        if len(path) > 8:
            values.append(path)
        for value in values:
            if value and value not in seen:
                seen.add(value)
                out.append(command("add-mask", value))
    return out
