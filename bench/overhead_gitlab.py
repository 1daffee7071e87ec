"""What a scheduled scan costs on GitLab around the scanner itself: jobs, image starts and
jmo-schedule installs per scheduled pipeline and per merge-request check, and the wall time
gitlab-ci-local (shell executor) spends on a pipeline whose scanner is a stub.

It runs the generated include and the CI/CD component of a checkout (`--repo DIR`, default
this one) inside a user `.gitlab-ci.yml` with its own stages and a job, offline: the jobs
install a wheel built from that checkout's `src/`, `python3` and `uv` shims count installs, and the
tests' stub scanner plays `jmo`. Scheduled pipelines carry what GitLab 17.8+ gives them:
CI_PIPELINE_SOURCE=schedule and the schedule's description; the old JMO_SCHEDULE variable
only where said ("with JMO_SCHEDULE": what earlier syncs set, and what groups with "Minimum
role to use pipeline variables: No one allowed" refuse).

Usage:
  python bench/overhead_gitlab.py                    # this checkout
  python bench/overhead_gitlab.py --repo /tmp/before  # another one (e.g. `git archive main`)

Each job of a real runner starts the job image (the multi-GB scanner image for scan jobs),
so image starts = jobs run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STUB_SCANNER_DIR = HERE / "tests" / "stub_scanner"
GCL = HERE / ".tools" / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"

SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
spec:
  schedule: "0 2 * * 1"
  concurrencyPolicy: Allow
  backend:
    type: gitlab-ci
  jobTemplate:
    targets:
      repo: .
    options:
      fail_on: {fail_on}
    notifications:
      enabled: true
      channels:
        - type: slack
          url: ${{SLACK_WEBHOOK_URL}}
"""

USER_CI = """\
stages: [build, test]

include:
  - local: .gitlab/jmo-schedules.gitlab-ci.yml
  - local: templates/gitlab-component/template.yml
    inputs:
      pip-spec: {spec}
      check-sync: {check_sync}

build:
  stage: build
  script: [echo building]
  rules:
    - if: $CI_PIPELINE_SOURCE == "push"
"""

PYTHON_SHIM = """\
#!/bin/sh
# Counts pip runs, then runs the real python3.
case "$*" in *"-m pip install"*) echo pip >> "{log}";; esac
exec "{python}" "$@"
"""

UV_SHIM = """\
#!/bin/sh
# Counts uv installs (the jobs prefer uv where the image has it), then runs the real uv.
case "$*" in *"pip install"*) echo uv >> "{log}";; esac
exec "{uv}" "$@"
"""

GENERATE = """\
import sys
from pathlib import Path
from jmo_schedule.loader import load_file
from jmo_schedule.workflow_generators import generate_all
import jmo_schedule
assert str(Path(jmo_schedule.__file__).resolve()).startswith(sys.argv[2]), jmo_schedule.__file__
root = Path(sys.argv[1])
for path, text in generate_all(load_file(root / "schedules.yaml"), "schedules.yaml").items():
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)
"""


def build_wheel(src: Path, out_dir: Path) -> tuple[Path, str]:
    """The package under `src/jmo_schedule` as a wheel (as the tests build it); (path, version)."""
    version = (src / "jmo_schedule" / "_version.py").read_text().split('"')[1]
    out = out_dir / f"jmo_schedule-{version}-py3-none-any.whl"
    info = f"jmo_schedule-{version}.dist-info/"
    names = []
    with zipfile.ZipFile(out, "w") as zf:
        for f in sorted((src / "jmo_schedule").rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                name = "jmo_schedule/" + f.relative_to(src / "jmo_schedule").as_posix()
                zf.write(f, name)
                names.append(name)
        zf.writestr(info + "METADATA", f"Metadata-Version: 2.1\nName: jmo-schedule\nVersion: {version}\n")
        zf.writestr(info + "WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        names += [info + "METADATA", info + "WHEEL", info + "RECORD"]
        zf.writestr(info + "RECORD", "".join(f"{n},,\n" for n in names))
    return out, version


def make_project(repo: Path, work: Path, spec: str, fail_on: str) -> Path:
    project = work / f"project-{fail_on.lower()}"
    project.mkdir()
    (project / "schedules.yaml").write_text(SCHEDULES.format(fail_on=fail_on))
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    subprocess.run([sys.executable, "-c", GENERATE, str(project), str((repo / "src").resolve())], env=env, check=True)
    (project / "templates" / "gitlab-component").mkdir(parents=True)
    shutil.copy(repo / "templates" / "gitlab-component" / "template.yml", project / "templates" / "gitlab-component")
    # 1.0's component took a boolean; the drift policy is a string (`ignore` = no check).
    spec_inputs = yaml.safe_load((repo / "templates" / "gitlab-component" / "template.yml").read_text().split("\n---", 1)[0])
    check_sync = "false" if spec_inputs["spec"]["inputs"]["check-sync"]["type"] == "boolean" else "ignore"
    (project / ".gitlab-ci.yml").write_text(USER_CI.format(spec=spec, check_sync=check_sync))
    (project / ".gitignore").write_text(".gitlab-ci-local/\n")
    git = ["git", "-c", "user.email=b@example.com", "-c", "user.name=b", "-C", str(project)]
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return project


def _env(work: Path, wheel: Path, variables: dict[str, str]) -> dict[str, str]:
    shim = work / "shim"
    if not shim.exists():
        shim.mkdir()
        (shim / "python3").write_text(PYTHON_SHIM.format(log=work / "pip.log", python=VENV_BIN / "python3"))
        (shim / "python3").chmod(0o755)
        real_uv = shutil.which("uv", path=str(VENV_BIN))
        if real_uv:
            (shim / "uv").write_text(UV_SHIM.format(log=work / "pip.log", uv=real_uv))
            (shim / "uv").chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "JMO_SCHEDULE", "CI", "GITLAB_CI", "GITHUB_ACTIONS", "SLACK_WEBHOOK_URL")}
    env.update({
        "PATH": os.pathsep.join([str(STUB_SCANNER_DIR), str(shim), str(VENV_BIN), os.environ.get("PATH", "")]),
        "JMO_STUB_LOG": str(work / "stub.log"), "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1",
        "PIP_FIND_LINKS": str(wheel.parent), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "UV_NO_INDEX": "1", "UV_FIND_LINKS": str(wheel.parent), "UV_NO_CONFIG": "1",
        "GCL_IGNORE_PREDEFINED_VARS": ",".join(k for k in variables if k.startswith(("CI_", "GITLAB_"))),
    })
    return env


def run_pipeline(project: Path, work: Path, wheel: Path, variables: dict[str, str]) -> dict[str, Any]:
    """One gitlab-ci-local pipeline: the jmo jobs that ran, pip runs, wall seconds."""
    log = work / "pip.log"
    log.unlink(missing_ok=True)
    # gitlab-ci-local's shell executor runs in the project but points CI_PROJECT_DIR at a
    # shared /builds/... folder: point it back, as a runner does, so each project is its own.
    variables = {**variables, "CI_PROJECT_DIR": str(project)}
    args = [a for k, v in variables.items() for a in ("--variable", f"{k}={v}")]
    start = time.perf_counter()
    proc = subprocess.run([str(GCL), "--force-shell-executor", "--home", str(work / "gcl-home"), *args],
                          cwd=project, env=_env(work, wheel, variables), capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    ran = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL") and parts[1].startswith("jmo-"):
            ran[parts[1]] = parts[0]
    pips = len(log.read_text().splitlines()) if log.exists() else 0
    return {"jobs": ran, "installs": pips, "wall_s": round(wall, 2)}


def listed(project: Path, work: Path, wheel: Path, variables: dict[str, str]) -> list[str]:
    """The jmo jobs gitlab-ci-local puts in a pipeline with these variables (rules evaluated)."""
    args = [a for k, v in variables.items() for a in ("--variable", f"{k}={v}")]
    proc = subprocess.run([str(GCL), "--list-json", "--home", str(work / "gcl-home"), *args], cwd=project,
                          env=_env(work, wheel, variables), capture_output=True, text=True, timeout=120, check=True)
    return sorted(j["name"] for j in json.loads(proc.stdout) if j["when"] != "never" and j["name"].startswith("jmo-"))


class _Slack(BaseHTTPRequestHandler):
    """A local incoming webhook that answers `ok` at once."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def measure(repo_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The overhead figures for the GitLab backend of the checkout at `repo_dir`."""
    repo = Path(repo_dir).resolve()
    slack = ThreadingHTTPServer(("127.0.0.1", 0), _Slack)
    threading.Thread(target=slack.serve_forever, daemon=True).start()
    try:
        return _measure(repo, f"http://127.0.0.1:{slack.server_address[1]}/services/T0/B0/bench")
    finally:
        slack.shutdown()
        slack.server_close()


def _measure(repo: Path, hook: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jmo-bench-gl-") as tmp:
        work = Path(tmp)
        wheel, version = build_wheel(repo / "src", work)
        spec = f"jmo-schedule=={version}"  # pinned, as the generated file defaults to
        scheduled = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "schedule",
                     "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: weekly-scan", "JMO_SCHEDULE_PIP_SPEC": spec,
                     "SLACK_WEBHOOK_URL": hook}
        legacy = {**scheduled, "JMO_SCHEDULE": "weekly-scan"}
        ok = make_project(repo, work, spec, "CRITICAL")
        failing = make_project(repo, work, spec, "HIGH")
        out: dict[str, Any] = {"repo": str(repo)}
        out["scheduled_description_only"] = listed(ok, work, wheel, scheduled)
        out["scheduled_with_JMO_SCHEDULE"] = listed(ok, work, wheel, legacy)
        # Pipelines as sync configures them: BEFORE with the variable, AFTER without.
        configured = legacy if "jmo-scan-weekly-scan" not in out["scheduled_description_only"] else scheduled
        out["scan_passes_cold"] = run_pipeline(ok, work, wheel, configured)
        out["scan_passes_warm"] = run_pipeline(ok, work, wheel, configured)
        out["scan_fails"] = run_pipeline(failing, work, wheel, configured)
        push_with_mr = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature",
                        "CI_OPEN_MERGE_REQUESTS": "group/app!7"}
        mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"}
        out["mr_check_jobs"] = listed(ok, work, wheel, push_with_mr) + listed(ok, work, wheel, mr)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(HERE), help="checkout to measure (default: this one)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args(argv)
    m = measure(args.repo)
    if args.json:
        print(json.dumps(m, indent=2))
        return 0
    print(f"GitLab overhead of {m['repo']}")
    print(f"  jobs in a scheduled pipeline with only the description (GitLab 17.8+, no variable): "
          f"{', '.join(m['scheduled_description_only']) or 'none'}")
    print(f"  jobs in a scheduled pipeline that also carries JMO_SCHEDULE: {', '.join(m['scheduled_with_JMO_SCHEDULE'])}")
    for key, label in (("scan_passes_cold", "scan passes, cold cache"), ("scan_passes_warm", "scan passes, warm cache"),
                       ("scan_fails", "scan fails, cold cache")):
        r = m[key]
        print(f"  {label:24} jobs run / image starts: {len(r['jobs'])}   installs: {r['installs']}   "
              f"gitlab-ci-local wall: {r['wall_s']:.2f} s   ({', '.join(r['jobs'])})")
    jobs = m["mr_check_jobs"]
    print(f"  merge-request check (push to a branch with an open MR + the MR pipeline): "
          f"{len(jobs)} jobs, {len(jobs)} installs ({', '.join(jobs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
