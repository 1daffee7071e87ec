"""Sync at scale: `jmo-schedule sync` over 1,000 generated schedules, in a throwaway git repository.

Prints the wall time of each step, run as the CLI (a fresh process, as CI runs it):
the first sync (every file written), a second sync (nothing to write), `--check` in
sync, `--check` / sync after one cron changed, and `--check` after a change only the
git history explains (a target). Target: under 2 s for 1,000.

    .venv/bin/python bench/scale_sync.py [--count N]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

BACKENDS = ("github-actions", "gitlab-ci", "kubernetes", "local-cron")
ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo")
TARGET_SECONDS = 2.0


def schedules_text(count: int) -> str:
    """A schedules file with `count` schedules spread over every backend and a few zones."""
    docs = []
    for i in range(count):
        docs.append(
            "apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\n"
            f"metadata:\n  name: scan-{i:05d}\n  labels:\n    team: team-{i % 7}\n"
            f"spec:\n  schedule: \"{i % 60} {i % 24} * * {i % 7}\"\n  timezone: {ZONES[i % len(ZONES)]}\n"
            f"  backend:\n    type: {BACKENDS[i % len(BACKENDS)]}\n"
            "  jobTemplate:\n    profile: balanced\n    targets:\n"
            f"      repo: services/svc-{i}\n    results:\n      dir: results/{i}\n"
            "    options:\n      fail_on: HIGH\n"
        )
    return "---\n".join(docs)


def _git(root: str, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _timed(argv: Sequence[str], root: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{' '.join(argv)} failed with exit code {proc.returncode}")
    return elapsed, proc.returncode


def time_sync(count: int) -> list[tuple[str, float, int]]:
    """(step, seconds, exit code) for each sync step over `count` schedules."""
    cli = [sys.executable, "-m", "jmo_schedule"]
    steps: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="jmo-sync-bench-") as root:
        _git(root, "init", "-q")
        _git(root, "config", "user.email", "bench@example.com")
        _git(root, "config", "user.name", "bench")
        path = os.path.join(root, "schedules.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(schedules_text(count))
        _git(root, "add", "schedules.yaml")
        _git(root, "commit", "-q", "-m", "schedules")
        steps.append(("first sync (writes every file)", *_timed([*cli, "sync"], root)))
        files = sum(len(f) for d, _, f in os.walk(root) if ".git" not in d.split(os.sep)) - 1
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "generated")
        steps.append(("second sync (nothing to write)", *_timed([*cli, "sync"], root)))
        steps.append(("sync --check, in sync", *_timed([*cli, "sync", "--check"], root)))
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text.replace('schedule: "0 0 * * 0"', 'schedule: "5 0 * * 0"', 1))
        steps.append(("sync --check, one cron changed", *_timed([*cli, "sync", "--check"], root)))
        steps.append(("sync, one cron changed", *_timed([*cli, "sync"], root)))
        _git(root, "commit", "-q", "-a", "-m", "cron")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        with open(path, "w", encoding="utf-8") as fh:
            # A change the headers do not show: sync reads the git history to explain it.
            fh.write(text.replace("repo: services/svc-0\n", "repo: services/svc-zero\n", 1))
        _git(root, "commit", "-q", "-a", "-m", "target")
        steps.append(("sync --check, one target changed", *_timed([*cli, "sync", "--check"], root)))
        steps.append((f"({files} generated files)", 0.0, 0))
    return steps


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="how many schedules (default 1000)")
    args = parser.parse_args(argv)
    print(f"sync, {args.count} schedules (target < {TARGET_SECONDS:.0f} s each):")
    worst = 0.0
    for step, seconds, code in time_sync(args.count):
        if seconds:
            worst = max(worst, seconds)
            print(f"  {step:<34} {seconds:6.2f} s  (exit {code})")
        else:
            print(f"  {step}")
    print(f"  slowest step {worst:.2f} s: {'OK' if worst < TARGET_SECONDS else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
