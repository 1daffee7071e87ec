from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import EXAMPLE, ROOT, STUB_SCANNER_DIR, VENV_BIN, Dists, tool
from jmo_schedule import __version__
from jmo_schedule.loader import load_file
from jmo_schedule.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.scan_command import build_plan
from jmo_schedule.workflow_generators import generate_all
from jmo_schedule.workflow_generators.gitlab_ci import PATH, GitLabCIGenerator, generate_files, jobs, pipeline, rule_if

SAST_SCHEMA = ROOT / "tests" / "data" / "gitlab-sast-report-format-15.2.1.json"
NOTIFY = {"enabled": True, "channels": [{"type": "slack", "url": "${SLACK_WEBHOOK_URL}"}]}


def _schedule(name: str = "weekly-scan", policy: str = "Forbid", config: dict[str, Any] | None = None, **job: Any) -> ScanSchedule:
    job.setdefault("targets", {"repo": "."})
    job.setdefault("results", {"dir": "results"})
    return ScanSchedule(
        ScheduleMetadata(name),
        ScheduleSpec("0 2 * * 1", concurrencyPolicy=policy, backend=BackendConfig("gitlab-ci", config or {}),
                     jobTemplate=JobTemplateSpec(**job)),
    )


def test_weekly_example_jobs() -> None:
    (weekly,) = [s for s in load_file(EXAMPLE) if s.name == "weekly-scan"]
    doc = yaml.safe_load(GitLabCIGenerator().generate(weekly))
    assert list(doc) == [
        "variables", "jmo-guard-weekly-scan", "jmo-scan-weekly-scan",
        "jmo-notify-success-weekly-scan", "jmo-notify-failure-weekly-scan",
    ]
    assert doc["variables"] == {"JMO_SCHEDULE_PIP_SPEC": f"jmo-schedule=={__version__}"}
    rule = '$CI_PIPELINE_SOURCE == "schedule" && $JMO_SCHEDULE == "weekly-scan"'
    guard, scan, ok, failed = (doc[k] for k in list(doc)[1:])
    assert guard["stage"] == ".pre" and scan["stage"] == "test" and ok["stage"] == failed["stage"] == ".post"
    assert guard["rules"] == [{"if": rule}] and scan["rules"] == [{"if": rule}]
    assert ok["rules"] == [{"if": rule, "when": "on_success"}]
    assert failed["rules"] == [{"if": rule, "when": "on_failure"}]
    assert scan["image"] == {"name": "ghcr.io/jimmy058910/jmo-security:1.1.1-full", "entrypoint": [""]}
    assert guard["artifacts"] == {"reports": {"dotenv": "jmo-guard.env"}}
    assert scan["needs"] == [{"job": "jmo-guard-weekly-scan", "artifacts": True}]
    assert scan["resource_group"] == "jmo-weekly-scan" and scan["interruptible"] is False
    assert scan["variables"] == {
        "JMO_REPOS_DIR": {"value": "/repos", "expand": False},
        "JMO_RESULTS_DIR": {"value": "/results", "expand": False},
        "JMO_PROFILE": {"value": "balanced", "expand": False},
        "JMO_FAIL_ON": {"value": "HIGH", "expand": False},
    }
    assert 'jmo scan --repos-dir "${JMO_REPOS_DIR}" --results-dir "${JMO_RESULTS_DIR}" --profile-name "${JMO_PROFILE}"' in scan["script"]
    assert scan["artifacts"] == {
        "when": "always",
        "paths": ["jmo-weekly-scan/"],
        "reports": {
            "sast": "jmo-weekly-scan/gl-sast-report.json",
            "codequality": "jmo-weekly-scan/gl-code-quality-report.json",
        },
    }
    assert any("guard weekly-scan" in line and "--dotenv jmo-guard.env" in line for line in guard["script"])
    assert any("notify --status success --schedule weekly-scan" in line for line in ok["script"])
    assert any("notify --status failure --schedule weekly-scan" in line for line in failed["script"])


def test_backend_config_tags_timeout_retry() -> None:
    s = _schedule(config={"tags": ["docker", "security"], "timeout": "1h 30m", "retry": {"max": 2, "when": ["runner_system_failure"]},
                          "image": "registry.example/jmo:1.2.3"})
    job = jobs(s)
    scan = job["jmo-scan-weekly-scan"]
    assert scan["tags"] == ["docker", "security"] and job["jmo-guard-weekly-scan"]["tags"] == ["docker", "security"]
    assert scan["timeout"] == "1h 30m"
    assert scan["retry"] == {"max": 2, "when": ["runner_system_failure"]}
    assert scan["image"]["name"] == "registry.example/jmo:1.2.3"


@pytest.mark.parametrize(
    ("policy", "resource_group", "interruptible"),
    [("Forbid", "jmo-weekly-scan", False), ("Replace", None, True), ("Allow", None, None)],
)
def test_concurrency_policy(policy: str, resource_group: str | None, interruptible: bool | None) -> None:
    scan = jobs(_schedule(policy=policy))["jmo-scan-weekly-scan"]
    assert scan.get("resource_group") == resource_group
    assert scan.get("interruptible") == interruptible


def test_all_schedules_in_one_file_and_byte_stable() -> None:
    schedules = [_schedule("a"), _schedule("b", notifications=NOTIFY)]
    first = generate_files(schedules, "schedules.yaml")
    assert list(first) == [PATH]
    assert first == generate_files([s.copy() for s in schedules], "schedules.yaml")
    doc = yaml.safe_load(first[PATH])
    assert [k for k in doc if k.startswith("jmo-scan-")] == ["jmo-scan-a", "jmo-scan-b"]
    assert "jmo-notify-success-a" not in doc and "jmo-notify-success-b" in doc
    assert generate_files([], "schedules.yaml") == {}


def test_rule_quotes_the_name() -> None:
    assert rule_if("nightly") == '$CI_PIPELINE_SOURCE == "schedule" && $JMO_SCHEDULE == "nightly"'


def test_hostile_values_only_in_unexpanded_variables() -> None:
    hostile = "a'b\"c $(touch X) ; `id` ${{ x }} $HOME"
    s = _schedule(targets={"repo": hostile, "images": [hostile, "b"]})
    doc = pipeline([s])
    scan = doc["jmo-scan-weekly-scan"]
    assert all(hostile not in line for line in scan["script"])
    assert {k: v["value"] for k, v in scan["variables"].items()} == build_plan(s.spec.jobTemplate).env()
    assert all(v["expand"] is False for v in scan["variables"].values())


# --- external tools -------------------------------------------------------------------


def _variants() -> list[ScanSchedule]:
    return [
        _schedule("forbid", notifications=NOTIFY, config={"tags": ["docker"], "timeout": "2h",
                                                          "retry": {"max": 1, "when": "script_failure"}}),
        _schedule("replace", policy="Replace", targets={"repo": "-x $(y)", "urls": ["https://a", "https://b"]}),
        _schedule("allow", policy="Allow", config={"retry": 2}),
        *load_file(EXAMPLE),  # every example, whatever its own backend (as `export --backend gitlab-ci`)
    ]


def test_check_jsonschema_accepts_include_and_standalone(tmp_path: Path) -> None:
    files = []
    for i, text in enumerate([generate_files(_variants(), "schedules.yaml")[PATH],
                              *(GitLabCIGenerator().generate(s) for s in _variants())]):
        path = tmp_path / f"{i}.gitlab-ci.yml"
        path.write_text(text)
        files.append(str(path))
    proc = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *files],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_script_lines_pass_shellcheck(tmp_path: Path) -> None:
    doc = pipeline(_variants())
    for name, job in doc.items():
        if name == "variables":
            continue
        script = tmp_path / f"{name}.sh"
        # GitLab runs the lines in one shell; the dotenv report provides run/reason.
        script.write_text("#!/bin/bash\nrun=${run:-}\nreason=${reason:-}\n" + "\n".join(job["script"]) + "\n")
        proc = subprocess.run([tool("shellcheck"), "-s", "bash", str(script)], capture_output=True, text=True)
        assert proc.returncode == 0, name + "\n" + proc.stdout


# --- end to end: gitlab-ci-local runs the generated pipeline as a scheduled pipeline ----

HOSTILE = "a'b\"c $(touch {canary}1) ; `touch {canary}2` ${{{{ x }}}} $HOME && touch {canary}3 #"


@pytest.fixture(scope="module")
def wheel(dists: Dists) -> Path:
    """The session's one wheel of this package (conftest.dists): the jobs install it offline."""
    return dists.wheel


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append({"path": self.path, "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local stand-in for a Slack incoming webhook: 200 `ok`, bodies recorded."""
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/x", received
    finally:
        server.shutdown()
        server.server_close()


def _repo(tmp_path: Path, fail_on: str) -> tuple[Path, list[ScanSchedule]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    canary = tmp_path / "CANARY"
    hostile = HOSTILE.format(canary=canary)
    text = f"""\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
spec:
  schedule: "0 2 * * 1"
  timezone: Europe/Berlin
  backend:
    type: gitlab-ci
  jobTemplate:
    profile: balanced
    targets:
      repo: {json.dumps("-" + hostile)}
      images: [{json.dumps(hostile)}, "nginx:1.27", {json.dumps("-" + hostile)}]
    results:
      dir: "scan results"
    options:
      fail_on: {fail_on}
      threads: 2
    notifications:
      enabled: true
      channels:
        - type: slack
          url: ${{SLACK_WEBHOOK_URL}}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 1 * * *"
  backend:
    type: gitlab-ci
  jobTemplate:
    targets:
      repo: .
    notifications:
      enabled: true
      channels:
        - type: slack
          url: ${{SLACK_WEBHOOK_URL}}
"""
    (repo / "schedules.yaml").write_text(text)
    schedules = load_file(repo / "schedules.yaml")
    for path, content in generate_all(schedules, "schedules.yaml").items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(content)
    (repo / ".gitlab-ci.yml").write_text("include:\n  - local: .gitlab/jmo-schedules.gitlab-ci.yml\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    return repo, schedules


def _run_pipeline(repo: Path, tmp_path: Path, wheel: Path, hook_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # The stub scanner first, then this venv's python3 (jmo-schedule's dependencies).
    env["PATH"] = os.pathsep.join([str(STUB_SCANNER_DIR), str(VENV_BIN), env.get("PATH", "")])
    env["JMO_STUB_LOG"] = str(tmp_path / "stub.log")
    env["PIP_NO_DEPS"] = "1"  # the wheel only (no index, see conftest): its dependencies are in the venv
    env["GCL_IGNORE_PREDEFINED_VARS"] = "CI_PIPELINE_SOURCE"
    for var in ("PYTHONPATH", "JMO_SCHEDULE", "SLACK_WEBHOOK_URL", "CI", "GITLAB_CI", "GITHUB_ACTIONS"):
        env.pop(var, None)
    return subprocess.run(
        [tool("gitlab-ci-local"), "--force-shell-executor", "--home", str(tmp_path / "gcl-home"),
         "--variable", "CI_PIPELINE_SOURCE=schedule", "--variable", "JMO_SCHEDULE=weekly-scan",
         "--variable", f"JMO_SCHEDULE_PIP_SPEC={wheel}", "--variable", f"SLACK_WEBHOOK_URL={hook_url}"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )


def _job_results(output: str) -> dict[str, str]:
    out = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL") and parts[1].startswith("jmo-"):
            out[parts[1]] = parts[0]
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("fail_on", "scan_result", "notified"), [("HIGH", "FAIL", "failure"), ("CRITICAL", "PASS", "success")])
def test_scheduled_pipeline_runs_exactly_the_schedule(
    tmp_path: Path, wheel: Path, webhook: tuple[str, list[dict[str, Any]]], fail_on: str, scan_result: str, notified: str,
) -> None:
    hook_url, received = webhook
    repo, schedules = _repo(tmp_path, fail_on)
    proc = _run_pipeline(repo, tmp_path, wheel, hook_url)
    output = proc.stdout + proc.stderr
    results = _job_results(output)
    other = "success" if notified == "failure" else "failure"
    # The right jobs ran; the other schedule's did not; only the matching notify job ran.
    assert results == {
        "jmo-guard-weekly-scan": "PASS",
        "jmo-scan-weekly-scan": scan_result,
        f"jmo-notify-{notified}-weekly-scan": "PASS",
    }, output
    assert f"jmo-notify-{other}-weekly-scan" not in results
    assert not any("nightly" in job for job in results)

    # The scanner received exactly the argv the schedule describes, hostile values included.
    (weekly,) = [s for s in schedules if s.name == "weekly-scan"]
    plan = build_plan(weekly.spec.jobTemplate)
    calls = [json.loads(line) for line in (tmp_path / "stub.log").read_text().splitlines()]
    assert calls == [plan.scan_argv()[1:], plan.report_argv()[1:]], output
    hostile = HOSTILE.format(canary=tmp_path / "CANARY")
    assert calls[0][1] == "--repo=-" + hostile
    # ...and nothing else executed: no injected command ran anywhere.
    assert list(tmp_path.rglob("CANARY*")) == []

    # The images list file holds the values verbatim, one a line.
    (images,) = [p for p in repo.rglob("images.txt") if ".jmo-inputs" in p.parts]
    assert images.read_text() == "".join(v + "\n" for v in weekly.spec.jobTemplate.targets["images"])

    # One Slack message, from the notify job that matches the outcome.
    assert len(received) == 1, received
    assert received[0]["path"] == "/services/T0/B0/x"
    assert hook_url not in output

    # GitLab's SAST report (its own schema, not SARIF) and the Code Quality report.
    # (gitlab-ci-local keeps a copy in the build folder and one among the exported artifacts.)
    sast_files = [p for p in repo.rglob("gl-sast-report.json") if "jmo-weekly-scan" in p.parts]
    cq_files = [p for p in repo.rglob("gl-code-quality-report.json") if "jmo-weekly-scan" in p.parts]
    assert sast_files and cq_files
    for sast in sast_files:
        jsonschema.validate(json.loads(sast.read_text()), json.loads(SAST_SCHEMA.read_text()))
    for cq in cq_files:
        entries = json.loads(cq.read_text())
        assert len(entries) == 3 and {e["severity"] for e in entries} == {"critical", "major", "minor"}
    assert [p for p in repo.rglob("findings.sarif") if "jmo-weekly-scan" in p.parts]
