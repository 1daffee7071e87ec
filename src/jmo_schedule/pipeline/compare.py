"""What changed between two runs of a scan: the findings that are new, fixed and still open.

Pure: two finding lists in, one Comparison out. A finding of this run is matched with one
of the previous run in passes, each taking only the pairs the one before left over:

1. the tool's own identity (SARIF `fingerprints`, else `partialFingerprints` with the rule
   and the file, else `correlationGuid`), when both findings carry one of the same kind.
   Two findings whose identities are of the same kind and differ are different findings,
   and no later pass pairs them;
2. JMo's finding id (`id` in summaries/findings.json). JMo computes it from the tool, rule,
   file, LINE and message, so it pairs unmoved findings only; a moved one has a new id and
   is left to pass 3;
3. the content: the rule id, the file and the flagged code (SARIF `region.snippet`, JMo's
   `context.snippet`) or else the message, with whitespace collapsed and severity words left
   out. Never the line, so a finding that only moved is still the same finding.

Equal keys pair in order (the first unmatched previous finding with the key), so two
identical findings in one file count as two. A matched finding whose severity changed is
open, with its new severity, and is listed in `changed`: it is not new.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from .findings import SEVERITIES, Finding


@dataclass(frozen=True)
class Comparison:
    """This run's findings against the previous run's. `open` are this run's findings that
    were there before (with this run's severity); `changed` pairs (before, now) of open
    findings whose severity changed."""

    new: tuple[Finding, ...]
    fixed: tuple[Finding, ...]
    open: tuple[Finding, ...]
    changed: tuple[tuple[Finding, Finding], ...] = ()

    def new_at_or_above(self, severity: str | None) -> int:
        """How many new findings are at `severity` or worse (all of them for None)."""
        if not severity:
            return len(self.new)
        rank = SEVERITIES.index(severity.upper())
        return sum(1 for f in self.new if SEVERITIES.index(f.severity) <= rank)


# Severity words leave a message before it is compared (Trivy writes "Severity: HIGH" into
# its message): a finding whose severity changed is still the same finding.
_SEVERITY_WORDS = re.compile(r"\b(critical|high|medium|low|info|unknown)\b", re.IGNORECASE)


def _normalized(text: str | None, drop_severity: bool = False) -> str:
    text = text or ""
    if drop_severity:
        text = _SEVERITY_WORDS.sub("", text)
    return " ".join(text.split())


def _path(path: str | None) -> str:
    path = (path or "").replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def content_key(f: Finding) -> tuple[str, str, str]:
    """Rule, file and flagged code (else message): what a finding is, wherever its line."""
    return (f.rule_id, _path(f.path), _normalized(f.snippet) or _normalized(f.message, drop_severity=True))


def _sarif_kind(f: Finding) -> str | None:
    return f.identity[0] if f.identity and f.identity[0].startswith("sarif:") else None


def _identity_key(scheme: Callable[[str], bool]) -> Callable[[Finding], Hashable | None]:
    def key(f: Finding) -> Hashable | None:
        return f.identity if f.identity and scheme(f.identity[0]) else None
    return key


def compare(current: Iterable[Finding], previous: Iterable[Finding]) -> Comparison:
    """Match this run's findings (`current`) with the previous run's (see the module's rule)."""
    now = list(current)
    before = list(previous)
    pair: dict[int, int] = {}  # index in now -> index in before
    taken: set[int] = set()

    def match(key: Callable[[Finding], Hashable | None], allowed: Callable[[Finding, Finding], bool]) -> None:
        waiting: dict[Hashable, list[int]] = {}
        for j, f in enumerate(before):
            if j not in taken:
                k = key(f)
                if k is not None:
                    waiting.setdefault(k, []).append(j)
        for i, f in enumerate(now):
            if i in pair:
                continue
            k = key(f)
            candidates = waiting.get(k) if k is not None else None
            if not candidates:
                continue
            for n, j in enumerate(candidates):
                if allowed(f, before[j]):
                    pair[i] = j
                    taken.add(j)
                    del candidates[n]
                    break

    def anything(a: Finding, b: Finding) -> bool:
        return True

    def not_told_apart(a: Finding, b: Finding) -> bool:
        # The tool identified both the same way and gave different identities: different findings.
        kind = _sarif_kind(a)
        return kind is None or kind != _sarif_kind(b)

    match(_identity_key(lambda s: s.startswith("sarif:")), anything)
    match(_identity_key(lambda s: s == "jmo"), anything)
    match(content_key, not_told_apart)

    new = tuple(sorted((f for i, f in enumerate(now) if i not in pair), key=rank))
    fixed = tuple(sorted((f for j, f in enumerate(before) if j not in taken), key=rank))
    opened = tuple(now[i] for i in sorted(pair))
    changed = tuple((before[pair[i]], now[i]) for i in sorted(pair) if before[pair[i]].severity != now[i].severity)
    return Comparison(new=new, fixed=fixed, open=opened, changed=changed)


def rank(f: Finding) -> tuple[int, str, str, int]:
    """Worst first, then by rule, file and line: the order findings are listed in."""
    return (SEVERITIES.index(f.severity), f.rule_id, f.path or "", f.start_line or 0)
