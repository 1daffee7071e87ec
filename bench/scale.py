"""Validation at scale: time to validate files of 1,000 and 10,000 generated schedules.

Targets: under 1 s for 1,000 and under 10 s for 10,000, growing linearly; and
`jmo-schedule sync` over 1,000 schedules under 2 s per run.
Run: .venv/bin/python bench/scale.py [--sizes 1000 10000] [--sync-count 1000]

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
    from jmo_schedule.core.loader import check_file

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


def bench_sync(count: int) -> list[tuple[str, float, int]]:
    """(step, seconds, exit code) of `jmo-schedule sync` runs (fresh processes, as CI runs
    them) over `count` schedules in a throwaway git repository."""
    import subprocess
    import sys

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    def timed(step: str, *args: str) -> None:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "jmo_schedule", "sync", *args], cwd=root,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode not in (0, 1):
            raise SystemExit(f"sync {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        steps.append((step, seconds, proc.returncode))

    def edit(old: str, new: str) -> None:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text.replace(old, new, 1))

    steps: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="jmo-sync-bench-") as root:
        path = os.path.join(root, "schedules.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(generate_text(count))
        git("init", "-q")
        git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "--allow-empty", "-m", "0")
        git("add", "schedules.yaml")
        git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "schedules")
        timed("first sync (writes every file)")
        git("add", "-A")
        git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "generated")
        timed("sync, nothing to write")
        timed("sync --check, in sync", "--check")
        edit('schedule: "0 2 * * 1"', 'schedule: "0 3 * * 1"')
        timed("sync --check, one cron changed", "--check")
        timed("sync, one cron changed")
        git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-a", "-m", "cron")
        # A change no header shows: sync reads the git history to explain it.
        edit("repo: services/svc-0\n", "repo: services/svc-zero\n")
        git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-a", "-m", "target")
        timed("sync --check, one target changed", "--check")
        files = sum(len(names) for folder, _, names in os.walk(root) if ".git" not in folder.split(os.sep)) - 1
    steps.append((f"({files} generated files)", 0.0, 0))
    return steps


def sync_section(count: int) -> bool:
    """Print sync times for `count` schedules; True when every step is under 2 s."""
    target = 2.0
    ok = True
    print(f"sync, {count:,} schedules (target <{target:g}s per run):")
    for step, seconds, code in bench_sync(count):
        if not seconds:
            print(f"  {step}")
            continue
        met = seconds < target
        ok = ok and met
        print(f"  {step:<34} {seconds:>6.3f}s  exit {code}  {'ok' if met else 'MISSED'}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--sync-count", type=int, default=1000, help="schedules in the sync timing (0: skip it)")
    args = parser.parse_args(argv)
    ok = validate_section(args.sizes)
    if args.sync_count:
        ok = sync_section(args.sync_count) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
