"""The schedule lint at scale: `validate`'s extra cost (collisions over 366 days, the
platform tables, run history) on files of 1,000 generated schedules, three mixes: the
plain crons of scale.py, H crons, and frequent ones (every 5 and 10 minutes, hourly).
Also the time to load an H file (git is asked for the identity once) and a week's
calendar. Best of 3, seconds.
Run: .venv/bin/python bench/lint.py [--count 1000]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402  (bench/scale.py: the generated files)

MIXES = {
    "plain": scale.CRONS,
    "hashed": ("H H * * *", "H/15 * * * *", "H H(0-6) * * 1-5", "H 2 * * H"),
    "frequent": ("*/5 * * * *", "H/10 * * * *", "H * * * *"),
}
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def best(fn: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    from jmo_schedule.commands.validate import recorded_runs
    from jmo_schedule.core import calendar_view, lint
    from jmo_schedule.core.loader import check_file

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("JMO_SCHEDULE_REPOSITORY", "github.com/acme/app")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["JMO_HOME"] = os.path.join(folder, "home")
        for mix, crons in MIXES.items():
            scale.CRONS = crons
            path = os.path.join(folder, f"{mix}.yaml")
            with open(path, "w") as fh:
                fh.write(scale.generate_text(args.count))
            result = check_file(path)
            assert not result.errors, result.errors[:3]
            load = best(lambda: check_file(path))
            linted = best(lambda: lint.lint(result, NOW, runs=recorded_runs))
            week = best(lambda: calendar_view.runs(result.schedules, NOW, NOW + timedelta(days=7)))
            warnings = len(lint.lint(result, NOW, runs=recorded_runs))
            print(f"{mix:>9}: {args.count} schedules  load {load:.3f} s  lint {linted:.3f} s ({warnings} warnings)  "
                  f"calendar of a week {week:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
