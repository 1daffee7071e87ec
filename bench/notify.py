"""Wall time of one `jmo-schedule notify` process (start to exit) against a local webhook,
compared with `python -c "import requests"` (the floor for any tool that posts with requests).

Usage: python bench/notify.py [-n RUNS]     (prints medians; target: notify within 1.5x)

The cases: a plain message; one read from schedules.yaml; and one compared with a previous
run of 5,000 findings (a run of 5,000: 100 new, 100 fixed, 400 moved, the rest unchanged).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TARGET = 1.5

SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: bench-scan
spec:
  schedule: "0 2 * * *"
  timezone: Europe/London
  jobTemplate:
    targets:
      repo: .
    results:
      dir: results
    options:
      fail_on: HIGH
    notifications:
      enabled: true
      channels:
        - type: slack
          url: ${BENCH_HOOK}
"""


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Hook.count += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def jmo_finding(i: int, line: int) -> dict[str, object]:
    """A finding as JMo's findings.json holds it; its id hashes the line, as JMo's does."""
    import hashlib

    path, rule, message = f"src/module_{i % 250}.py", f"rule-{i % 37}", f"finding number {i}"
    fid = hashlib.sha256(f"semgrep|{rule}|{path}|{line}|{message}".encode()).hexdigest()[:16]
    return {"id": fid, "ruleId": rule, "severity": ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")[i % 5],
            "message": message, "tool": {"name": "semgrep"}, "location": {"path": path, "startLine": line}}


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one process. The CPU time is the
    steadier figure on a shared machine, where waiting for a core inflates the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {proc.returncode}: {proc.stderr.decode()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=15, help="runs per command (default 15)")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/services/TBENCH/BBENCH/secret"

    bindir = Path(sys.executable).parent
    exe = str(bindir / "jmo-schedule")
    work = tempfile.mkdtemp(prefix="jmo-bench-")
    (Path(work) / "schedules.yaml").write_text(SCHEDULES)
    summaries = Path(work) / "results" / "summaries"
    summaries.mkdir(parents=True)
    findings = [
        {"ruleId": f"rule-{i % 7}", "severity": ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")[i % 5],
         "message": "m", "tool": {"name": "semgrep"}, "location": {"path": f"f{i}.py", "startLine": i}}
        for i in range(200)
    ]
    (summaries / "findings.json").write_text(json.dumps(findings))
    big = Path(work) / "big"
    previous = Path(work) / "previous"
    (big / "summaries").mkdir(parents=True)
    (previous / "summaries").mkdir(parents=True)
    (previous / "summaries" / "findings.json").write_text(json.dumps([jmo_finding(i, i) for i in range(5000)]))
    # 100 fixed (0-99 gone), 100 new (5000-5099), 400 moved down ten lines, the rest as they were.
    (big / "summaries" / "findings.json").write_text(json.dumps(
        [jmo_finding(i, i + 10 if i < 500 else i) for i in range(100, 5100)]))
    env = {**os.environ, "BENCH_HOOK": hook}
    for var in ("GITHUB_ACTIONS", "GITLAB_CI", "SLACK_WEBHOOK_URL"):
        env.pop(var, None)
    # Some machines set PYTHONDONTWRITEBYTECODE=1, which recompiles every module of the
    # package on every start; a pip-installed package has its bytecode cached, as here.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    commands = {
        "python -c 'import requests'": [sys.executable, "-c", "import requests"],
        "notify --webhook --results": [exe, "notify", "--status", "success", "--webhook", "${BENCH_HOOK}", "--results", "results"],
        "notify --schedule (reads schedules.yaml)": [exe, "notify", "--status", "success", "--schedule", "bench-scan"],
        "notify --baseline (5,000 findings each)": [exe, "notify", "--status", "success", "--schedule", "bench-scan",
                                                    "--results", "big", "--baseline", "previous"],
    }
    for argv in commands.values():  # warm the file cache
        timed(argv, env, work)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved, so load changes hit every command alike
        for name, argv in commands.items():
            wall, used = timed(argv, env, work)
            times[name].append(wall)
            cpu[name].append(used)
    server.shutdown()

    base = statistics.median(times["python -c 'import requests'"])
    base_cpu = statistics.median(cpu["python -c 'import requests'"])
    print(f"median of {args.runs} runs each (process start to exit); {Hook.count} messages received")
    print(f"  {'command':<42} {'wall s':>7}  {'ratio':>6}  {'cpu s':>6}  {'ratio':>6}")
    worst = worst_cpu = 0.0
    for name, values in times.items():
        med, med_cpu = statistics.median(values), statistics.median(cpu[name])
        ratio, ratio_cpu = med / base, med_cpu / base_cpu
        if name.startswith("notify"):
            worst, worst_cpu = max(worst, ratio), max(worst_cpu, ratio_cpu)
        print(f"  {name:<42} {med:7.3f}  {ratio:5.2f}x  {med_cpu:6.3f}  {ratio_cpu:5.2f}x")
    verdict = "met" if worst <= TARGET else "NOT met"
    print(f"target: notify within {TARGET}x of importing requests: {verdict} on wall time ({worst:.2f}x); "
          f"{worst_cpu:.2f}x on CPU time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
