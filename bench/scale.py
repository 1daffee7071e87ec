"""Validation at scale: time to validate files of 1,000 and 10,000 generated schedules.

Targets: under 1 s for 1,000 and under 10 s for 10,000, growing linearly.
Run: .venv/bin/python bench/scale.py [--sizes 1000 10000]

Structured as functions so other sections (e.g. sync timing) can reuse `generate_text`
and add their own `bench_*` function to `main`.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Sequence

ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata")
BACKENDS = ("github-actions", "gitlab-ci", "kubernetes", "local-cron")
CRONS = ("0 2 * * 1", "*/15 * * * *", "30 1 1,15 * *", "0 9 * * MON-FRI", "@daily", "5 4 * JAN-MAR SUN")


def generate_text(count: int) -> str:
    """A `---` stream of `count` valid, varied ScanSchedule objects."""
    docs = []
    for i in range(count):
        docs.append(
            "apiVersion: jmo.security/v1alpha1\n"
            "kind: ScanSchedule\n"
            "metadata:\n"
            f"  name: scan-{i:05d}\n"
            "  labels:\n"
            f"    team: team-{i % 17}\n"
            f"    environment: {'production' if i % 3 else 'staging'}\n"
            "spec:\n"
            f"  schedule: \"{CRONS[i % len(CRONS)]}\"\n"
            f"  timezone: {ZONES[i % len(ZONES)]}\n"
            "  concurrencyPolicy: Forbid\n"
            "  backend:\n"
            f"    type: {BACKENDS[i % len(BACKENDS)]}\n"
            "  jobTemplate:\n"
            "    profile: balanced\n"
            "    targets:\n"
            f"      repo: services/svc-{i}\n"
            "      images: [nginx:1.27, postgres:15]\n"
            "    options:\n"
            "      fail_on: HIGH\n"
            "    notifications:\n"
            "      channels:\n"
            "        - type: slack\n"
            "          url: ${SLACK_WEBHOOK_URL}\n"
        )
    return "---\n" + "---\n".join(docs)


def bench_validate(count: int) -> tuple[float, int]:
    """Seconds to read and validate a file of `count` schedules (best of 3), and how many
    schedules were valid."""
    from jmo_schedule.loader import check_file

    text = generate_text(count)
    fd, path = tempfile.mkstemp(suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        best = float("inf")
        valid = 0
        for _ in range(3):
            started = time.perf_counter()
            result = check_file(path)
            best = min(best, time.perf_counter() - started)
            if result.errors:
                raise SystemExit(f"generated file is invalid: {result.errors[0]}")
            valid = len(result.schedules)
        return best, valid
    finally:
        os.unlink(path)


def validate_section(sizes: Sequence[int]) -> bool:
    """Print validate times for each size; True when every target is met and growth is linear."""
    targets = {1000: 1.0, 10000: 10.0}
    ok = True
    times = {}
    print(f"{'schedules':>10} {'validate':>10} {'per 1,000':>10} {'target':>8}")
    for n in sizes:
        seconds, valid = bench_validate(n)
        assert valid == n
        times[n] = seconds
        target = targets.get(n)
        verdict = ""
        if target is not None:
            met = seconds < target
            ok = ok and met
            verdict = f"<{target:g}s {'ok' if met else 'MISSED'}"
        print(f"{n:>10,} {seconds:>9.3f}s {seconds / n * 1000:>9.3f}s {verdict:>8}")
    if len(times) >= 2:
        small, large = min(times), max(times)
        growth = (times[large] / times[small]) / (large / small)
        linear = growth < 1.5
        ok = ok and linear
        print(f"growth {small:,} -> {large:,}: {times[large] / times[small]:.1f}x time for {large / small:.0f}x "
              f"schedules ({'linear' if linear else 'NOT linear'})")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args(argv)
    ok = validate_section(args.sizes)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
