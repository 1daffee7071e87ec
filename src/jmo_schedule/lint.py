"""The schedule lint `validate` adds to a file's own checks: warnings about valid schedules
that will hurt once they run. `--strict` turns them (and every other warning) into errors.

- The platform warnings (validate.platform_warnings) with the lint's wider tables: a
  github-actions or gitlab-ci cron at minute 0 or 30 (write H), a kubernetes schedule
  without startingDeadlineSeconds. Every load already warns about GitHub's minute 0.
- Two schedules of the file on the same backend that fire in the same minute (over the
  calendar year of `now`, DST changes included): the platform starts both at once. A year
  from 1 January, not from `now`, so the message (and GitLab's Code Quality fingerprint,
  made from it) stays the same from one day's pipeline to the next.
- A schedule that fires more often than its own recorded local scans take
  ($JMO_HOME/runs/NAME.json, when present): with concurrencyPolicy Forbid runs are then
  skipped, with Allow they pile up.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from .errors import Problem
from .loader import LoadResult, Located

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .validate import Checker

COLLISION_DAYS = 366
# Enough runs to find the shortest gap of any cron; fewer when the year ends first.
INTERVAL_RUNS = 2000
# How many recent finished runs the duration rule reads.
HISTORY_RUNS = 20


LINT_DEADLINE_BACKENDS = ("kubernetes",)


def lint(result: LoadResult, now: datetime, *, home: str | None = None) -> list[Problem]:
    """The lint warnings for a loaded file that loading did not already give, at the
    fields they are about."""
    positions = _Positions(result)
    problems = platform_problems(result.items, positions)
    year = now.astimezone(timezone.utc).year
    problems += collision_problems(result.items, datetime(year, 1, 1, tzinfo=timezone.utc), positions)
    problems += history_problems(result.items, now, positions, home)
    known = set(result.problems)
    return [p for p in problems if p not in known]


def platform_problems(items: Sequence[Located], positions: _Positions) -> list[Problem]:
    """validate.platform_warnings with the lint's tables (round minutes on GitHub and GitLab,
    kubernetes without a deadline), on each schedule as written in the file."""
    from .validate import LINT_ROUND_MINUTES, platform_warnings

    problems = []
    for item in items:
        checker, spec = positions.checker(item)
        if checker is None:
            continue
        platform_warnings(checker, spec, item.path + ("spec",), item.schedule.spec.backend.type,
                          resolved=item.schedule.spec.schedule, round_minutes=LINT_ROUND_MINUTES,
                          deadline_required=LINT_DEADLINE_BACKENDS)
        problems += checker.problems
    return problems


def strict(problems: Sequence[Problem]) -> list[Problem]:
    """`problems` with every warning made an error (`validate --strict`)."""
    return [p if p.severity == "error" else Problem(p.file, p.line, p.column, p.path, p.message) for p in problems]


def explanations(result: LoadResult) -> list[str]:
    """`FILE:LINE:COL: spec.schedule: 'H 2 * * *' -> '37 2 * * *' (minute H -> 37 (0-59); hashed for ...)`,
    one line per H schedule (`validate --explain`)."""
    from . import hcron

    positions = _Positions(result)
    out = []
    for item in result.items:
        hashed = hcron.current(item.schedule.spec)
        if hashed is None:
            continue
        detail = hcron.explain(hashed.template, hashed.identity, item.schedule.name)
        out.append(str(positions.problem(item, f"{hashed.template!r} -> {hashed.concrete!r} ({detail}; hashed for "
                                               f"{hashed.identity} and {item.schedule.name})", "info")))
    return out


class _Positions:
    """The file's documents, read again (once, when first asked) for the positions of fields."""

    def __init__(self, result: LoadResult) -> None:
        self.result = result
        self._docs: list | None = None
        self._lines: list[str] = []

    def _load(self) -> list:
        if self._docs is None:
            from .loader import read_text
            from .yamltext import parse_documents

            try:
                text = read_text(self.result.file)
                self._docs, self._lines = parse_documents(text), text.splitlines()
            except Exception:  # the file changed under us: fall back to each object's line
                self._docs = []
        return self._docs

    def checker(self, item: Located) -> tuple[Checker | None, object]:
        """A Checker on the item's document, and its spec as written (None, None when gone)."""
        from .validate import Checker

        docs = self._load()
        if item.doc_index >= len(docs):
            return None, None
        doc = docs[item.doc_index]
        value = doc.value
        for part in item.path + ("spec",):
            value = value[part] if isinstance(value, (dict, list)) else None
        return Checker(item.file, doc, True, self._lines), value

    def problem(self, item: Located, message: str, severity: str = "warning") -> Problem:
        docs = self._load()
        if item.doc_index < len(docs):
            line, column = docs[item.doc_index].where(item.path + ("spec", "schedule"))
        else:
            line, column = item.line, item.column
        from .validate import path_text

        return Problem(item.file, line, column, path_text(item.path + ("spec", "schedule")), message, severity)


def collision_problems(items: Sequence[Located], start: datetime, positions: _Positions) -> list[Problem]:
    """One warning per schedule that fires in the same minute as an earlier one of its
    backend, in the COLLISION_DAYS from `start`."""
    from . import collisions, hcron

    by_backend: dict[str, list[collisions.Firing]] = {}
    for item in items:
        spec = item.schedule.spec
        if spec.suspend:
            continue
        firing = collisions.Firing(item, spec.schedule, spec.timezone, start, COLLISION_DAYS)
        by_backend.setdefault(spec.backend.type, []).append(firing)
    problems = []
    for backend, firings in by_backend.items():
        for later, earlier, minute in collisions.find(firings):
            this, other = later.key, earlier.key
            assert isinstance(this, Located) and isinstance(other, Located)
            both_hashed = all(_minute_hashed(i) for i in (this, other))
            advice = ("their minutes hashed alike: give them H(a-b) ranges that do not overlap, such as H(0-29) and "
                      "H(30-59)") if both_hashed else "write the minute as H so each schedule gets its own"
            problems.append(positions.problem(this, (
                f"fires in the same minute as {other.schedule.name} on {backend}, first at "
                f"{collisions.as_datetime(minute):%Y-%m-%dT%H:%MZ}; {advice}")))
    return problems


def _minute_hashed(item: Located) -> bool:
    from . import hcron

    hashed = hcron.current(item.schedule.spec)
    return hashed is not None and hcron.minute_hashed(hashed.template)


def history_problems(items: Sequence[Located], now: datetime, positions: _Positions,
                     home: str | None = None) -> list[Problem]:
    """One warning per schedule whose recorded local scans take longer than its shortest gap."""
    import os

    # As store.jmo_home(), without importing the store and its writers: `validate` start-up.
    runs = os.path.join(home or os.environ.get("JMO_HOME") or os.path.join(os.path.expanduser("~"), ".jmo"), "runs")
    present = [i for i in items if not i.schedule.spec.suspend and os.path.isfile(os.path.join(runs, f"{i.schedule.name}.json"))]
    if not present:
        return []
    from . import run_history
    from .ci_env import format_duration
    from .errors import JmoError

    problems = []
    for item in present:
        schedule = item.schedule
        try:
            durations = recorded_durations(run_history.read(schedule.name, home)["runs"])
        except JmoError:
            continue
        if not durations:
            continue
        typical = durations[len(durations) // 2]  # the median (upper, for an even count)
        gap = shortest_gap(schedule.spec.schedule, schedule.spec.timezone, now)
        if gap is None or typical <= gap:
            continue
        policy = schedule.spec.concurrencyPolicy
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
    from .ci_env import parse_timestamp

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
    from .cron import iter_runs

    end = now + timedelta(days=COLLISION_DAYS)
    previous: datetime | None = None
    best: timedelta | None = None
    for count, run in enumerate(iter_runs(schedule, zone, now)):
        if run > end or count >= INTERVAL_RUNS:
            break
        if previous is not None and (best is None or run - previous < best):
            best = run - previous
        previous = run
    return best
