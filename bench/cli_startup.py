"""CLI start-up time: `--version` and `validate -f examples/schedules.yaml` next to a bare
`python -c pass`, median wall time of 20 runs each.

Targets (on the commands every pull request runs, as CI runs them: `python -m jmo_schedule`,
which is how the GitHub action, the GitLab component and the generated pipelines call it):
validate within 4x and --version within 1.5x of the bare interpreter. The installed
`jmo-schedule` console script is measured too, without a target: the launcher pip writes
imports `re` before our code runs (several milliseconds no package can save).

What keeps them there is the design, not hidden imports: `--version` is answered before
anything else is imported, and `validate` imports only the small core (core/check.py,
validate.py, rules.py, cron.py, yamltext.py) and its reporter - no HTTP, no generators, no
model classes (tests/test_cli.py holds that list).

Run: .venv/bin/python bench/cli_startup.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"--version": 1.5, "validate": 4.0}


def executable() -> str:
    """The installed console script beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / "jmo-schedule"
    if beside.exists():
        return str(beside)
    found = shutil.which("jmo-schedule")
    if not found:
        raise SystemExit("jmo-schedule is not installed; pip install -e . first")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ, JMO_HOME=tempfile.gettempdir() + "/jmo-bench-home")
    # An installed package has its bytecode compiled (pip does it); let the warm-up run
    # write it here too, or every run would measure compiling the sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(argv: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode()[:300]}")
    return elapsed


def commands() -> dict[str, list[str]]:
    python, exe = sys.executable, executable()
    validate = ["validate", "-f", "examples/schedules.yaml"]
    return {
        "python -c pass": [python, "-c", "pass"],
        "--version": [python, "-m", "jmo_schedule", "--version"],
        "validate": [python, "-m", "jmo_schedule", *validate],
        "script --version": [exe, "--version"],
        "script validate": [exe, *validate],
    }


LABELS = {
    "python -c pass": "python -c pass",
    "--version": "python -m jmo_schedule --version",
    "validate": "python -m jmo_schedule validate -f examples/schedules.yaml",
    "script --version": "jmo-schedule --version (console script)",
    "script validate": "jmo-schedule validate -f ... (console script)",
}


def measure(runs: int = 20) -> dict[str, float]:
    """Median seconds for the bare interpreter and each command. The commands take turns
    within each round, so a busy machine slows all of them alike."""
    env = _env()
    argvs = commands()
    for argv in argvs.values():  # warm-up: caches, bytecode
        _run(argv, env)
    times: dict[str, list[float]] = {key: [] for key in argvs}
    for _ in range(runs):
        for key, argv in argvs.items():
            times[key].append(_run(argv, env))
    return {key: statistics.median(values) for key, values in times.items()}


def report(results: dict[str, float]) -> tuple[str, bool]:
    """A printable table and whether every target is met."""
    base = results["python -c pass"]
    lines = [f"{'command':<60} {'median':>9} {'x bare':>7} {'target':>7}"]
    ok = True
    for key, seconds in results.items():
        ratio = seconds / base
        target = TARGETS.get(key)
        mark = ""
        if target is not None:
            met = ratio <= target
            ok = ok and met
            mark = f"<={target:g}x {'ok' if met else 'MISSED'}"
        lines.append(f"{LABELS.get(key, key):<60} {seconds * 1000:>7.1f}ms {ratio:>6.2f}x {mark:>7}")
    return "\n".join(lines), ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    text, ok = report(measure(args.runs))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
