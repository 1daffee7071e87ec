"""The schedule lint `validate` adds to a file's own checks: warnings about valid schedules
that will hurt once they run. `--strict` turns them (and every other warning) into errors.

- The platform warnings (validate.platform_warnings) with the lint's wider tables: a
  github-actions or gitlab-ci cron at minute 0 or 30 (write H), a kubernetes schedule
  without startingDeadlineSeconds. Every load already warns about GitHub's minute 0.
- Two schedules of the file on the same backend that fire in the same minute (over the
  calendar year of `now`, DST changes included): the platform starts both at once. A year
  from 1 January, not from `now`, so the message (and GitLab's Code Quality fingerprint,
  made from it) stays the same from one day's pipeline to the next.
- A schedule that fires more often than its own recorded local scans take (the runs the
  caller's `runs` gives, `validate` reads $JMO_HOME/runs/NAME.json when present): with
  concurrencyPolicy Forbid runs are then skipped, with Allow they pile up.

Pure and light (on `validate`'s path): it reads the checked file's plain data, no model.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..errors import Problem
from . import cron, hcron
from .check import CheckedFile, CheckedItem, read_text
from .rules import DEFAULT_BACKEND, LINT_DEADLINE_BACKENDS, LINT_ROUND_MINUTES, SPEC_DEFAULTS
from .timefmt import format_duration, parse_timestamp
from .validate import Checker, path_text, platform_warnings
from .yamltext import parse_documents

TYPE_CHECKING = False  # typing is not imported at run time: `validate` start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    # A schedule's name -> its recorded runs (history JSON "runs"), None when there are none.
    Runs = Callable[[str], "Sequence[dict] | None"]

COLLISION_DAYS = 366
# Enough runs to find the shortest gap of any cron; fewer when the year ends first.
INTERVAL_RUNS = 2000
# How many recent finished runs the duration rule reads.
HISTORY_RUNS = 20


def spec(item: CheckedItem) -> dict[str, Any]:
    """The item's spec with the model's defaults filled in (timezone, suspend, policy)."""
    return {**SPEC_DEFAULTS, **item.data["spec"]}


def backend(item: CheckedItem) -> str:
    return str((item.data["spec"].get("backend") or {}).get("type") or DEFAULT_BACKEND)


def lint(result: CheckedFile, now: datetime, *, runs: Runs | None = None) -> list[Problem]:
    """The lint warnings for a checked file that checking did not already give, at the
    fields they are about; `runs` gives each schedule's recorded local runs."""
    positions = _Positions(result)
    problems = platform_problems(result.items, positions)
    year = now.astimezone(timezone.utc).year
    problems += collision_problems(result.items, datetime(year, 1, 1, tzinfo=timezone.utc), positions)
    if runs is not None:
        problems += history_problems(result.items, now, positions, runs)
    known = set(result.problems)
    return [p for p in problems if p not in known]


def platform_problems(items: Sequence[CheckedItem], positions: _Positions) -> list[Problem]:
    """validate.platform_warnings with the lint's tables (round minutes on GitHub and GitLab,
    kubernetes without a deadline), on each schedule as written in the file."""
    problems = []
    for item in items:
        written = dict(item.data["spec"])
        if item.hashed is not None:
            written["schedule"] = item.hashed.template
        # First without the document: the file is read again for positions only when a warning needs them.
        if not _platform_warnings(item, Checker(item.file, None, True), written).problems:
            continue
        checker, as_written = positions.checker(item)
        if checker is not None:
            problems += _platform_warnings(item, checker, as_written).problems
    return problems


def _platform_warnings(item: CheckedItem, checker: Checker, written: object) -> Checker:
    platform_warnings(checker, written, item.path + ("spec",), backend(item), resolved=spec(item)["schedule"],
                      round_minutes=LINT_ROUND_MINUTES, deadline_required=LINT_DEADLINE_BACKENDS)
    return checker


def strict(problems: Sequence[Problem]) -> list[Problem]:
    """`problems` with every warning made an error (`validate --strict`)."""
    return [p if p.severity == "error" else Problem(p.file, p.line, p.column, p.path, p.message) for p in problems]


def explanations(result: CheckedFile) -> list[str]:
    """`FILE:LINE:COL: spec.schedule: 'H 2 * * *' -> '37 2 * * *' (minute H -> 37 (0-59); hashed for ...)`,
    one line per H schedule (`validate --explain`)."""
    positions = _Positions(result)
    out = []
    for item in result.items:
        hashed = item.hashed
        if hashed is None:
            continue
        detail = hcron.explain(hashed.template, hashed.identity, item.name)
        out.append(str(positions.problem(item, f"{hashed.template!r} -> {hashed.concrete!r} ({detail}; hashed for "
                                               f"{hashed.identity} and {item.name})", "info")))
    return out


class _Positions:
    """The file's documents, read again (once, when first asked) for the positions of fields."""

    def __init__(self, result: CheckedFile) -> None:
        self.result = result
        self._docs: list | None = None
        self._lines: list[str] = []

    def _load(self) -> list:
        if self._docs is None:
            try:
                text = read_text(self.result.file)
                self._docs, self._lines = parse_documents(text), text.splitlines()
            except Exception:  # the file changed under us: fall back to each object's line
                self._docs = []
        return self._docs

    def checker(self, item: CheckedItem) -> tuple[Checker | None, object]:
        """A Checker on the item's document, and its spec as written (None, None when gone)."""
        docs = self._load()
        if item.doc_index >= len(docs):
            return None, None
        doc = docs[item.doc_index]
        value = doc.value
        for part in item.path + ("spec",):
            value = value[part] if isinstance(value, (dict, list)) else None
        return Checker(item.file, doc, True, self._lines), value

    def problem(self, item: CheckedItem, message: str, severity: str = "warning") -> Problem:
        docs = self._load()
        if item.doc_index < len(docs):
            line, column = docs[item.doc_index].where(item.path + ("spec", "schedule"))
        else:
            line, column = item.line, item.column
        return Problem(item.file, line, column, path_text(item.path + ("spec", "schedule")), message, severity)


def collision_problems(items: Sequence[CheckedItem], start: datetime, positions: _Positions) -> list[Problem]:
    """One warning per schedule that fires in the same minute as an earlier one of its
    backend, in the COLLISION_DAYS from `start`."""
    by_backend: dict[str, list[CheckedItem]] = {}
    for item in items:
        if not spec(item)["suspend"]:
            by_backend.setdefault(backend(item), []).append(item)
    problems = []
    for on, group in by_backend.items():
        if len(group) < 2:  # alone on its backend: nothing to meet (and a year of fire times not worked out)
            continue
        from . import collisions  # only for schedules that share a backend: `validate` start-up time

        firings = [collisions.Firing(i, spec(i)["schedule"], spec(i)["timezone"], start, COLLISION_DAYS) for i in group]
        for later, earlier, minute in collisions.find(firings):
            this, other = later.key, earlier.key
            assert isinstance(this, CheckedItem) and isinstance(other, CheckedItem)
            both_hashed = all(_minute_hashed(i) for i in (this, other))
            advice = ("their minutes hashed alike: give them H(a-b) ranges that do not overlap, such as H(0-29) and "
                      "H(30-59)") if both_hashed else "write the minute as H so each schedule gets its own"
            problems.append(positions.problem(this, (
                f"fires in the same minute as {other.name} on {on}, first at "
                f"{collisions.as_datetime(minute):%Y-%m-%dT%H:%MZ}; {advice}")))
    return problems


def _minute_hashed(item: CheckedItem) -> bool:
    hashed = item.hashed
    return hashed is not None and hcron.minute_hashed(hashed.template)


def history_problems(items: Sequence[CheckedItem], now: datetime, positions: _Positions,
                     runs: Runs) -> list[Problem]:
    """One warning per schedule whose recorded local scans take longer than its shortest gap."""
    problems = []
    for item in items:
        values = spec(item)
        recorded = None if values["suspend"] else runs(item.name)
        durations = recorded_durations(recorded) if recorded else []
        if not durations:
            continue
        typical = durations[len(durations) // 2]  # the median (upper, for an even count)
        gap = shortest_gap(values["schedule"], values["timezone"], now)
        if gap is None or typical <= gap:
            continue
        policy = values["concurrencyPolicy"]
        effect = {"Forbid": "runs that are due while one is still going are skipped",
                  "Allow": "runs overlap and pile up",
                  "Replace": "each run cancels the one still going, so few finish"}.get(policy, "runs overlap")
        problems.append(positions.problem(item, (
            f"fires every {format_duration(gap)} at the shortest, but its recorded scans take "
            f"{format_duration(typical)} (median of {len(durations)}, longest {format_duration(durations[-1])}): "
            f"with concurrencyPolicy {policy} {effect}; fire less often")))
    return problems


def recorded_durations(runs: Sequence[dict]) -> list[timedelta]:
    """How long the last HISTORY_RUNS finished (not skipped) runs took, shortest first."""
    out = []
    for run in runs:
        if run.get("result") not in ("Succeeded", "Failed"):
            continue
        start = parse_timestamp(run.get("startTime")) if isinstance(run.get("startTime"), str) else None
        end = parse_timestamp(run.get("endTime")) if isinstance(run.get("endTime"), str) else None
        if start is not None and end is not None and end >= start:
            out.append(end - start)
    return sorted(out[-HISTORY_RUNS:])


def shortest_gap(schedule: str, zone: str, now: datetime) -> timedelta | None:
    """The shortest time between two consecutive runs in the coming year (None: under two runs)."""
    end = now + timedelta(days=COLLISION_DAYS)
    previous: datetime | None = None
    best: timedelta | None = None
    for count, run in enumerate(cron.iter_runs(schedule, zone, now)):
        if run > end or count >= INTERVAL_RUNS:
            break
        if previous is not None and (best is None or run - previous < best):
            best = run - previous
        previous = run
    return best
