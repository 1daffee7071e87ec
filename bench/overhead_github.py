"""What the GitHub backend costs around a scan: jobs, image starts and action installs per
scheduled run and per pull-request check, and the wall time act adds around a scanner stub.

For a checkout of this repository (`--repo DIR`, default this one) it
1. generates the scan workflow of one schedule with that checkout's own generator and
   counts its jobs, container image starts and jobs that install the action;
2. runs it with act (host executor, `workflow_dispatch`, the `container:` key dropped as
   act needs Docker for it) with the checkout's real action.yml and install step, the stub
   scanner of tests/stub_scanner and a local Slack webhook; reports the whole run, the
   scanner's steps (Scan, Report) and the difference: what the pipeline adds;
3. runs a pull-request check (checkout, then the action in validate mode, with sync
   --check against files the checkout generated) twice: cold (empty HOME, no cache
   entry) and warm (the cache entry the cold run saved, restored as actions/cache would),
   and reports the install step's time in each.

Remote actions are local stand-ins (tests/act_helpers.py); setup-uv's stand-in hands over
.venv/bin/uv, as the runner's tool cache would; uv and pip fetch packages from the index.
To compare, check out `main` elsewhere and pass it:
    git worktree add --detach /tmp/before-gh main
    .venv/bin/python bench/overhead_github.py --repo /tmp/before-gh
    .venv/bin/python bench/overhead_github.py
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from act_helpers import (  # noqa: E402
    PASSING_SCHEDULE as SCHEDULES,
    STUB_CACHE,
    STUB_CPR,
    STUB_SETUP_PYTHON,
    STUB_SETUP_UV,
    checkout_stub,
    stub,
)
from fakes.slack import FakeSlack  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
STUB_SCANNER = ROOT / "tests" / "stub_scanner"
OWN = "jmo/schedule-action"

UPLOAD_STUB = """\
name: upload stand-in
description: accepts an upload
inputs:
  sarif_file: {description: s}
  category: {description: c}
  name: {description: n}
  path: {description: p}
  if-no-files-found: {description: i}
runs:
  using: composite
  steps:
    - shell: bash
      run: "true"
"""

PR_CHECK = """\
name: jmo-schedule validate
on: push
permissions: {{}}
jobs:
  validate:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
      - name: Validate schedules.yaml
        uses: {own}@v1
        with:
          command: validate
          schedules-file: schedules.yaml
      # actions/cache saves its entry after the job; its stand-in cannot, so this step does.
      - name: Save the cache
        if: always()
        run: |
          while read -r key path; do
            if [ -d "$path" ] && [ ! -e "$JMO_TEST_CACHE/$key" ]; then cp -a "$path" "$JMO_TEST_CACHE/$key"; fi
          done < "$JMO_TEST_EXPORT/cache.txt"
"""

_STEP = re.compile(r"(?:Success|Failure) - Main (?P<name>.+?) \[(?P<value>[\d.]+)(?P<unit>µs|ms|s|m)\]")
_UNIT = {"µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def step_times(log: str) -> dict[str, list[float]]:
    """Seconds per step name, in the order act reports them (a name may repeat)."""
    out: dict[str, list[float]] = {}
    for m in _STEP.finditer(log):
        out.setdefault(m.group("name"), []).append(float(m.group("value")) * _UNIT[m.group("unit")])
    return out


def _python_env(repo: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(repo / "src")}


def generate(repo: Path, schedules: Path) -> str:
    """The scan workflow of the schedule, written by `repo`'s own generator."""
    # The public paths: the same in every version the checkout may hold.
    code = ("import sys, jmo_schedule; from jmo_schedule import load_file; "
            "from jmo_schedule.workflow_generators.github_actions import render; "
            "assert jmo_schedule.__file__.startswith(sys.argv[2]), jmo_schedule.__file__; "
            "(s,) = load_file(sys.argv[1]); sys.stdout.write(render(s, 'schedules.yaml'))")
    return subprocess.run([sys.executable, "-c", code, str(schedules), str(repo / "src")], env=_python_env(repo),
                          capture_output=True, text=True, check=True).stdout


def counts(workflow_text: str) -> dict[str, int]:
    """Jobs, container image starts and jobs that install the action, per run."""
    import yaml

    jobs = yaml.safe_load(workflow_text)["jobs"]
    using = [j for j in jobs.values() if any(str(s.get("uses", "")).startswith((OWN, "./")) for s in j["steps"])]
    return {"jobs": len(jobs), "image_starts": sum("container" in j for j in jobs.values()),
            "action_installs": len(using),
            "action_steps": sum(str(s.get("uses", "")).startswith((OWN, "./")) for j in jobs.values() for s in j["steps"])}


def _copy_action(repo: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy(repo / name, dest / name)
    shutil.copytree(repo / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def _stand_ins(texts: Sequence[str], action: Path, stubs: Path) -> dict[str, Path]:
    """`{uses: folder}` for every remote action the workflow and the action name."""
    by_action = {"actions/setup-python": STUB_SETUP_PYTHON,
                 "actions/cache": STUB_CACHE, "peter-evans/create-pull-request": STUB_CPR,
                 "astral-sh/setup-uv": STUB_SETUP_UV, "actions/upload-artifact": UPLOAD_STUB}
    local: dict[str, Path] = {}
    for text in texts:
        for ref in re.findall(r"uses:\s*([\w.-]+/[\w./-]+@[\w.-]+)", text):
            name, _, version = ref.partition("@")
            if ref in local:
                continue
            if name == OWN:
                local[ref] = action
            elif name == "actions/checkout":
                local[ref] = checkout_stub(stubs / "checkout" / version)
            elif name == "github/codeql-action/upload-sarif":
                local[f"github/codeql-action@{version}"] = stub(stubs / "codeql-action", "upload-sarif", UPLOAD_STUB).parent
            else:
                local[ref] = stub(stubs / name.replace("/", "-"), version, by_action[name])
    return local


def _act(workdir: Path, event: str, local: dict[str, Path], env: dict[str, str], secrets: dict[str, str]) -> tuple[int, str, float]:
    cmd = [str(VENV_BIN / "act"), event, "-W", ".github/workflows/run.yml", "-P", "ubuntu-latest=-self-hosted",
           "--no-cache-server"]
    for k, v in env.items():
        cmd += ["--env", f"{k}={v}"]
    for k, v in secrets.items():
        cmd += ["-s", f"{k}={v}"]
    for ref, path in local.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    # A cold runner: an empty HOME (no pip or uv cache) and no uv on PATH but setup-uv's.
    path = os.pathsep.join([str(STUB_SCANNER)] + [p for p in os.environ["PATH"].split(os.pathsep)
                                                 if not (Path(p) / "uv").exists() and Path(p) != VENV_BIN])
    proc_env = {**os.environ, "HOME": str(home), "PATH": path}
    # A runner's environment has neither (this machine sets PYTHONDONTWRITEBYTECODE, which
    # would make every python process compile the package and its dependencies again).
    for var in ("VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"):
        proc_env.pop(var, None)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir / "repo", env=proc_env, capture_output=True, text=True, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def _repo(workdir: Path, workflow: str) -> Path:
    repo = workdir / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "schedules.yaml").write_text(SCHEDULES)
    (repo / ".github" / "workflows" / "run.yml").write_text(workflow)
    return repo


def scheduled_run(target: Path, workdir: Path) -> dict[str, Any]:
    """One scheduled scan, run by act: counts and times."""
    (workdir / "export").mkdir(parents=True)
    (workdir / "schedules.yaml").write_text(SCHEDULES)
    text = generate(target, workdir / "schedules.yaml")
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("    container:"))
    del lines[start:start + 3]
    repo = _repo(workdir, "".join(lines))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    action = _copy_action(target, workdir / "action")
    local = _stand_ins([text, (action / "action.yml").read_text()], action, workdir / "stubs")
    slack = FakeSlack().start()
    try:
        rc, log, wall = _act(workdir, "workflow_dispatch", local,
                             {"JMO_TEST_EXPORT": str(workdir / "export"), "JMO_TEST_UV": str(VENV_BIN / "uv"),
                              "JMO_STUB_LOG": str(workdir / "export" / "stub.log")},
                             {"TEAM_HOOK": f"{slack.base}/services/T0/B0/bench", "GITHUB_TOKEN": "ghs_bench"})
    finally:
        slack.stop()
    if rc != 0:
        raise SystemExit(f"act failed on the scheduled run ({workdir}):\n{log[-4000:]}")
    times = step_times(log)
    scanner = sum(times.get("Scan", [])) + sum(times.get("Report", []))
    return {**counts(text), "wall_s": wall, "scanner_s": scanner, "overhead_s": wall - scanner,
            "installs_s": times.get("Install jmo-schedule", []), "slack_posts": len(slack.requests)}


def pr_check(target: Path, workdir: Path) -> dict[str, Any]:
    """The pull-request check, cold then warm: counts and times."""
    from jmo_schedule.generators.action_pins import CHECKOUT

    store = workdir / "cache-store"
    store.mkdir(parents=True)
    workflow = PR_CHECK.format(checkout=CHECKOUT.uses, own=OWN)
    result: dict[str, Any] = {**counts(workflow)}
    for label in ("cold", "warm"):
        run_dir = workdir / label
        repo = _repo(run_dir, workflow)
        (run_dir / "export").mkdir()
        # The generated files, written by the checkout itself, so `sync --check` passes.
        subprocess.run([sys.executable, "-m", "jmo_schedule", "sync", "-f", "schedules.yaml"], cwd=repo,
                       env=_python_env(target), check=True, capture_output=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        action = _copy_action(target, run_dir / "action")
        local = _stand_ins([workflow, (action / "action.yml").read_text()], action, run_dir / "stubs")
        local[f"{OWN}@v1"] = action
        rc, log, wall = _act(run_dir, "push", local,
                             {"JMO_TEST_EXPORT": str(run_dir / "export"), "JMO_TEST_CACHE": str(store),
                              "JMO_TEST_UV": str(VENV_BIN / "uv")}, {"GITHUB_TOKEN": "ghs_bench"})
        if rc != 0:
            raise SystemExit(f"act failed on the {label} pull-request check ({run_dir}):\n{log[-4000:]}")
        times = step_times(log)
        result[f"{label}_wall_s"] = wall
        result[f"{label}_install_s"] = sum(times.get("Install jmo-schedule", []))
        result[f"{label}_validate_s"] = sum(times.get("Validate schedules", []))
    return result


def measure(repo_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Counts and act timings of the GitHub backend for the checkout at `repo_dir`."""
    target = Path(repo_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="jmo-overhead-gh-") as tmp:
        return {"repo": str(target), "scheduled_run": scheduled_run(target, Path(tmp) / "scheduled"),
                "pr_check": pr_check(target, Path(tmp) / "pr")}


def report(data: dict[str, Any]) -> str:
    s, p = data["scheduled_run"], data["pr_check"]
    installs = ", ".join(f"{t:.2f}s" for t in s["installs_s"])
    return "\n".join([
        f"GitHub backend overhead ({data['repo']})",
        f"  scheduled run : {s['jobs']} job, {s['image_starts']} image start, {s['action_installs']} action install "
        f"({s['action_steps']} action steps)",
        f"                  act wall {s['wall_s']:.2f}s = scanner stub {s['scanner_s']:.2f}s + pipeline "
        f"{s['overhead_s']:.2f}s; install steps {installs}; {s['slack_posts']} Slack post",
        f"  pull request  : {p['jobs']} job, {p['image_starts']} image start, {p['action_installs']} action install",
        f"                  install {p['cold_install_s']:.2f}s cold, {p['warm_install_s']:.2f}s warm; validate "
        f"{p['cold_validate_s']:.2f}s; act wall {p['cold_wall_s']:.2f}s cold, {p['warm_wall_s']:.2f}s warm",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(ROOT), help="checkout of jmo-schedule to measure (default: this one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    data = measure(args.repo)
    print(json.dumps(data, indent=2) if args.json else report(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
