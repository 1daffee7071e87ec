from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import EXAMPLE, ROOT, STUB_SCANNER_DIR, VENV_BIN, Dists, tool
from fakes.slack import FakeSlack
from fakes.gitlab import FakeGitLab
from jmo_fixtures import finding
from jmo_schedule import __version__
from jmo_schedule.core.loader import load_file
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.core.scan_command import build_plan
from jmo_schedule.generators import generate_all
from jmo_schedule.generators.gitlab_ci import (
    PATH,
    GitLabCIGenerator,
    duration_seconds,
    generate_files,
    install_line,
    jobs,
    legacy_rule_if,
    pipeline,
    rule_if,
    script_timeout,
)

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


RULES = [
    {"if": '$CI_PIPELINE_SOURCE == "schedule" && $CI_PIPELINE_SCHEDULE_DESCRIPTION =~ /^jmo-schedule: weekly-scan( \\(.*\\))?$/'},
    {"if": '$CI_PIPELINE_SOURCE == "schedule" && $JMO_SCHEDULE == "weekly-scan"'},
]
INSTALL = install_line("${CI_PROJECT_DIR}/.jmo-schedule-lib", "${JMO_SCHEDULE_PIP_SPEC}")
TOOL = 'PYTHONPATH="${CI_PROJECT_DIR}/.jmo-schedule-lib" python3 -m jmo_schedule'


def test_weekly_example_is_one_scan_job_plus_a_failure_fallback() -> None:
    (weekly,) = [s for s in load_file(EXAMPLE) if s.name == "weekly-scan"]
    doc = yaml.safe_load(GitLabCIGenerator().generate(weekly))
    assert list(doc) == ["variables", "jmo-scan-weekly-scan", "jmo-notify-weekly-scan"]
    assert doc["variables"] == {"JMO_SCHEDULE_PIP_SPEC": f"jmo-schedule=={__version__}"}
    scan, fallback = doc["jmo-scan-weekly-scan"], doc["jmo-notify-weekly-scan"]
    assert scan["stage"] == "test" and fallback["stage"] == ".post"
    assert scan["rules"] == RULES
    assert fallback["rules"] == [{**rule, "when": "on_failure"} for rule in RULES]
    assert scan["image"] == {"name": "ghcr.io/jimmy058910/jmo-security:1.1.1-full", "entrypoint": [""]}
    assert scan["needs"] == []  # the user's other jobs never hold the scan back
    assert fallback["needs"] == [{"job": "jmo-scan-weekly-scan", "artifacts": True}]
    assert scan["resource_group"] == "jmo-weekly-scan" and scan["interruptible"] is False
    assert scan["variables"] == {
        "JMO_SCHEDULES_FILE": {"value": "schedules.yaml", "expand": False},
        "JMO_REPOS_DIR": {"value": "/repos", "expand": False},
        "JMO_RESULTS_DIR": {"value": "/results", "expand": False},
        "JMO_PROFILE": {"value": "balanced", "expand": False},
        "JMO_FAIL_ON": {"value": "HIGH", "expand": False},
    }
    assert scan["cache"] == {"key": f"jmo-schedule-lib-{__version__}", "paths": [".jmo-schedule-lib/"], "when": "always"}
    assert fallback["cache"] == {**scan["cache"], "policy": "pull"}
    # Installed once, then the guard decides; a skip ends the job green and says so.
    assert scan["script"][:5] == [
        "rm -rf jmo-weekly-scan && mkdir jmo-weekly-scan",
        INSTALL,
        f'{TOOL} guard weekly-scan -f "${{JMO_SCHEDULES_FILE}}" --dotenv jmo-weekly-scan/guard.env',
        "unset JMO_GITLAB_TOKEN",
        "if ! grep -qx 'JMO_GUARD_RUN=true' jmo-weekly-scan/guard.env; then echo \"jmo-schedule: scan skipped\"; exit 0; fi",
    ]
    assert 'jmo scan --repos-dir "${JMO_REPOS_DIR}" --results-dir "${JMO_RESULTS_DIR}" --profile-name "${JMO_PROFILE}"' in scan["script"]
    assert sum(INSTALL == line for line in scan["script"]) == 1
    # after_script (GitLab runs it for failed and canceled jobs too) sends the message.
    assert scan["after_script"] == [
        f'{TOOL} notify --status "${{CI_JOB_STATUS}}" --schedule weekly-scan -f "${{JMO_SCHEDULES_FILE}}" '
        "--results jmo-weekly-scan --guard jmo-weekly-scan/guard.env --once jmo-weekly-scan/notified --fetch-baseline"]
    assert fallback["script"] == [INSTALL, (
        f'{TOOL} notify --status failure --schedule weekly-scan -f "${{JMO_SCHEDULES_FILE}}" --results jmo-weekly-scan '
        "--guard jmo-weekly-scan/guard.env --once jmo-weekly-scan/notified "
        '--message "the scan job ended before it could report: see its log"')]
    assert scan["artifacts"] == {
        "when": "always",
        "paths": ["jmo-weekly-scan/"],
        "reports": {
            "dotenv": "jmo-weekly-scan/guard.env",
            "sast": "jmo-weekly-scan/gl-sast-report.json",
            "codequality": "jmo-weekly-scan/gl-code-quality-report.json",
        },
    }


def test_without_notifications_there_is_only_the_scan_job() -> None:
    doc = pipeline([_schedule()])
    assert list(doc) == ["variables", "jmo-scan-weekly-scan"]
    assert "after_script" not in doc["jmo-scan-weekly-scan"]


def test_backend_config_tags_timeout_retry_stage() -> None:
    s = _schedule(config={"tags": ["docker", "security"], "timeout": "1h 30m", "retry": {"max": 2, "when": ["runner_system_failure"]},
                          "image": "registry.example/jmo:1.2.3", "stage": "security"}, notifications=NOTIFY)
    job = jobs(s)
    scan = job["jmo-scan-weekly-scan"]
    assert scan["tags"] == ["docker", "security"] and job["jmo-notify-weekly-scan"]["tags"] == ["docker", "security"]
    assert scan["stage"] == "security"
    assert scan["timeout"] == "1h 30m"
    # The script stops 10 minutes early so after_script still sends the message inside the job's time.
    assert (scan["variables"]["RUNNER_SCRIPT_TIMEOUT"], scan["variables"]["RUNNER_AFTER_SCRIPT_TIMEOUT"]) == ("80m", "5m")
    assert scan["retry"] == {"max": 2, "when": ["runner_system_failure"]}
    assert scan["image"]["name"] == "registry.example/jmo:1.2.3"


@pytest.mark.parametrize(("text", "seconds", "script"), [
    ("1h 30m", 5400, "80m"), ("90 minutes", 5400, "80m"), ("2h", 7200, "110m"), ("1.5h", 5400, "80m"),
    ("3600", 3600, "50m"), ("1 day", 86400, "1430m"), ("20m", 1200, "10m"), ("19m", 1140, None),
    ("soon", None, None), ("", None, None), ("5 fortnights", None, None),
])
def test_gitlab_durations(text: str, seconds: int | None, script: str | None) -> None:
    assert duration_seconds(text) == seconds
    assert script_timeout(text) == script


@pytest.mark.parametrize("reserved", [".pre", ".post"])
def test_a_pre_or_post_stage_is_refused(reserved: str) -> None:
    with pytest.raises(ValueError, match=rf"^weekly-scan: backend.config.stage \{reserved}: GitLab does not run a pipeline "
                                         r"that has only .pre/.post jobs; use a stage from your stages: list \(default test\)$"):
        jobs(_schedule(config={"stage": reserved}))


@pytest.mark.parametrize(
    ("policy", "resource_group"),
    [("Forbid", "jmo-weekly-scan"), ("Replace", None), ("Allow", None)],
)
def test_concurrency_policy(policy: str, resource_group: str | None) -> None:
    scan = jobs(_schedule(policy=policy))["jmo-scan-weekly-scan"]
    # Replace has no resource_group: the newer run's guard must start to cancel the older one.
    assert scan.get("resource_group") == resource_group
    assert scan["interruptible"] is False


def test_all_schedules_in_one_file_and_byte_stable() -> None:
    schedules = [_schedule("a"), _schedule("b", notifications=NOTIFY)]
    first = generate_files(schedules, "schedules.yaml")
    assert list(first) == [PATH]
    assert first == generate_files([s.copy() for s in schedules], "schedules.yaml")
    doc = yaml.safe_load(first[PATH])
    assert [k for k in doc if k.startswith("jmo-scan-")] == ["jmo-scan-a", "jmo-scan-b"]
    assert "jmo-notify-a" not in doc and "jmo-notify-b" in doc
    assert generate_files([], "schedules.yaml") == {}


def test_rules() -> None:
    assert rule_if("nightly") == ('$CI_PIPELINE_SOURCE == "schedule" && '
                                  '$CI_PIPELINE_SCHEDULE_DESCRIPTION =~ /^jmo-schedule: nightly( \\(.*\\))?$/')
    assert legacy_rule_if("nightly") == '$CI_PIPELINE_SOURCE == "schedule" && $JMO_SCHEDULE == "nightly"'


def test_hostile_values_only_in_unexpanded_variables() -> None:
    hostile = "a'b\"c $(touch X) ; `id` ${{ x }} $HOME"
    s = _schedule(targets={"repo": hostile, "images": [hostile, "b"]}, notifications=NOTIFY)
    doc = pipeline([s], source=hostile)
    for job in doc.values():
        if isinstance(job, dict) and "script" in job:
            assert all(hostile not in str(line) for line in job["script"] + job.get("after_script", []))
    scan = doc["jmo-scan-weekly-scan"]
    assert {k: v["value"] for k, v in scan["variables"].items()} == {"JMO_SCHEDULES_FILE": hostile,
                                                                      **build_plan(s.spec.jobTemplate).env()}
    assert all(v["expand"] is False for v in scan["variables"].values())


def test_install_block_installs_once_and_then_reads_the_cache(tmp_path: Path, wheel: Path) -> None:
    lib = tmp_path / "lib"
    # The test tools' folder, without its uv: this is the pip branch (an image without uv).
    tools = tmp_path / "bin"
    tools.mkdir()
    for entry in VENV_BIN.iterdir():
        if entry.name != "uv":
            (tools / entry.name).symlink_to(entry)
    env = {**os.environ, "PATH": os.pathsep.join([str(tools), os.environ["PATH"]]), "L": str(lib),
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheel.parent), "PIP_NO_DEPS": "1"}
    env.pop("PYTHONPATH", None)

    def install(spec: str) -> str:
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", install_line("${L}", "${S}")], env={**env, "S": spec},
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    pinned = f"jmo-schedule=={__version__}"
    assert install(pinned) == ""  # pip ran
    assert (lib / "jmo_schedule" / "pipeline" / "guard.py").is_file()
    python = subprocess.run([str(VENV_BIN / "python3"), "-V"], capture_output=True, text=True).stdout.strip()
    assert (lib / ".jmo-pip-spec").read_text() == f"{pinned} {python}\n"
    (lib / "jmo_schedule" / "marker").write_text("from the first install")
    assert install(pinned) == f"jmo-schedule: {pinned} from the cache\n"
    assert (lib / "jmo_schedule" / "marker").exists()  # nothing reinstalled
    # Another Python, another version, or a spec that is not pinned (a path, a URL): pip again.
    (lib / ".jmo-pip-spec").write_text(f"{pinned} Python 3.9.0\n")
    assert install(pinned) == "" and not (lib / "jmo_schedule" / "marker").exists()
    (lib / "jmo_schedule" / "marker").write_text("again")
    assert install(str(wheel)) == "" and not (lib / "jmo_schedule" / "marker").exists()
    (lib / "jmo_schedule" / "marker").write_text("again")
    assert install(str(wheel)) == "" and not (lib / "jmo_schedule" / "marker").exists()


def test_failed_install_fails_the_block(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": os.pathsep.join([str(VENV_BIN), os.environ["PATH"]]), "L": str(tmp_path / "lib"),
           "S": "jmo-schedule==0.0.0-does-not-exist", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path)}
    # Without `set -e` too: the block stops the job on its own.
    proc = subprocess.run(["bash", "-c", install_line("${L}", "${S}") + "echo AFTER\n"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "AFTER" not in proc.stdout
    assert not (tmp_path / "lib" / ".jmo-pip-spec").exists()


# --- external tools -------------------------------------------------------------------


def _variants() -> list[ScanSchedule]:
    return [
        _schedule("forbid", notifications=NOTIFY, config={"tags": ["docker"], "timeout": "2h",
                                                          "retry": {"max": 1, "when": "script_failure"}}),
        _schedule("replace", policy="Replace", targets={"repo": "-x $(y)", "urls": ["https://a", "https://b"]}),
        _schedule("allow", policy="Allow", config={"retry": 2, "stage": "security scans"}),
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
    doc = yaml.safe_load(generate_files(_variants(), "schedules.yaml")[PATH])
    for name, job in doc.items():
        if name == "variables":
            continue
        for key in ("script", "after_script"):
            if key not in job:
                continue
            script = tmp_path / f"{name}-{key}.sh"
            # GitLab runs a job's lines in one shell; CI_JOB_STATUS is the runner's.
            script.write_text("#!/bin/bash\nCI_JOB_STATUS=${CI_JOB_STATUS:-}\n" + "\n".join(job[key]) + "\n")
            proc = subprocess.run([tool("shellcheck"), "-s", "bash", str(script)], capture_output=True, text=True)
            assert proc.returncode == 0, name + "\n" + proc.stdout


# --- end to end: gitlab-ci-local runs the generated pipeline as a scheduled pipeline ----

HOSTILE = "a'b\"c $(touch {canary}1) ; `touch {canary}2` ${{{{ x }}}} $HOME && touch {canary}3 #"


@pytest.fixture(scope="module")
def wheel(dists: Dists) -> Path:
    """The session's one wheel of this package (conftest.dists): the jobs install it offline."""
    return dists.wheel


@pytest.fixture
def webhook(slack: FakeSlack) -> tuple[str, list[dict[str, Any]]]:
    """The shared local Slack (conftest): a webhook URL and the messages it received."""
    return slack.hook("/services/T0/B0/x"), slack.received


USER_CI = """\
# The user's own pipeline: its own stages and jobs, and the generated include.
stages: {stages}

include:
  - local: .gitlab/jmo-schedules.gitlab-ci.yml

build:
  stage: build
  script: [echo building]
  rules:
    - if: $CI_PIPELINE_SOURCE == "push"

lint:
  stage: build
  script: [echo linting]
"""


def _repo(tmp_path: Path, fail_on: str, stages: str = "[build, test, deploy]", stage: str | None = None,
          policy: str = "Allow") -> tuple[Path, list[ScanSchedule]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    canary = tmp_path / "CANARY"
    hostile = HOSTILE.format(canary=canary)
    config = f"\n    config:\n      stage: {stage}" if stage else ""
    text = f"""\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
  annotations:
    description: Weekly repo scan
spec:
  schedule: "0 2 * * 1"
  timezone: Europe/Berlin
  concurrencyPolicy: {policy}
  backend:
    type: gitlab-ci{config}
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
  name: weekly
spec:
  schedule: "0 1 * * 1"
  backend:
    type: gitlab-ci{config}
  jobTemplate:
    targets:
      repo: .
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 1 * * *"
  backend:
    type: gitlab-ci{config}
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
    (repo / ".gitlab-ci.yml").write_text(USER_CI.format(stages=stages))
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    return repo, schedules


def _run_pipeline(repo: Path, tmp_path: Path, wheel: Path, hook_url: str, description: str,
                  extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """gitlab-ci-local runs the pipeline as GitLab 17.8+ starts a scheduled one: only
    CI_PIPELINE_SOURCE=schedule and the schedule's description, no pipeline variable."""
    # gitlab-ci-local's shell executor runs in the repo but sets CI_PROJECT_DIR to a shared
    # /builds/... folder: point it back, as a runner does (the install folder lives there).
    variables = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(repo), "CI_PIPELINE_SOURCE": "schedule",
                 "CI_PIPELINE_SCHEDULE_DESCRIPTION": description,
                 "JMO_SCHEDULE_PIP_SPEC": str(wheel), "SLACK_WEBHOOK_URL": hook_url, **(extra or {})}
    env = dict(os.environ)
    # The stub scanner first, then this venv's python3 (jmo-schedule's dependencies).
    env["PATH"] = os.pathsep.join([str(STUB_SCANNER_DIR), str(VENV_BIN), env.get("PATH", "")])
    env["JMO_STUB_LOG"] = str(tmp_path / "stub.log")
    env["PIP_NO_DEPS"] = "1"  # the wheel only (no index, see conftest): its dependencies are in the venv
    env["GCL_IGNORE_PREDEFINED_VARS"] = ",".join(k for k in variables if k.startswith(("CI_", "GITLAB_")))
    for var in ("PYTHONPATH", "JMO_SCHEDULE", "JMO_GITLAB_TOKEN", "SLACK_WEBHOOK_URL", "CI", "GITLAB_CI", "GITHUB_ACTIONS"):
        env.pop(var, None)
    args = [a for k, v in variables.items() for a in ("--variable", f"{k}={v}")]
    return subprocess.run(
        [tool("gitlab-ci-local"), "--force-shell-executor", "--home", str(tmp_path / "gcl-home"), *args],
        cwd=repo, env=env, capture_output=True, text=True, timeout=180,
    )


def _job_results(output: str) -> dict[str, str]:
    out = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL"):
            out[parts[1]] = parts[0]
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("fail_on", "scan_result", "notified", "description"), [
    ("HIGH", "FAIL", "failure", "jmo-schedule: weekly-scan (Weekly repo scan)"),
    ("CRITICAL", "PASS", "success", "jmo-schedule: weekly-scan"),
])
def test_scheduled_pipeline_runs_exactly_the_schedule(
    tmp_path: Path, wheel: Path, webhook: tuple[str, list[dict[str, Any]]], fail_on: str, scan_result: str,
    notified: str, description: str,
) -> None:
    hook_url, received = webhook
    repo, schedules = _repo(tmp_path, fail_on)
    proc = _run_pipeline(repo, tmp_path, wheel, hook_url, description)
    output = proc.stdout + proc.stderr
    results = _job_results(output)
    # One scan job ran: not `weekly` (a name that is a prefix), not `nightly`. The user's
    # lint job runs in every pipeline and its push-only build job did not. On a failure the
    # fallback notify job also runs, and sends nothing: after_script already did.
    expected = {"lint": "PASS", "jmo-scan-weekly-scan": scan_result}
    if scan_result == "FAIL":
        expected["jmo-notify-weekly-scan"] = "PASS"
        assert "already handled; nothing sent" in output
    assert results == expected, output

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

    # One Slack message, from after_script, matching the outcome.
    assert len(received) == 1, received
    assert received[0]["path"] == "/services/T0/B0/x"
    assert ("succeeded" if notified == "success" else "failed") in received[0]["body"]["text"]
    assert hook_url not in output
    assert "from the cache" not in output  # a wheel path is not a pinned version: always installed

    # GitLab's SAST report (its own schema, not SARIF), the Code Quality report and the guard's record.
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
    guard_env = next(p for p in repo.rglob("guard.env") if "jmo-weekly-scan" in p.parts).read_text()
    assert guard_env.startswith("JMO_GUARD_RUN=true\nJMO_GUARD_REASON=scheduled run: nominal time ")
    assert guard_env.endswith("; concurrencyPolicy Allow\n")
    assert "run=" not in guard_env.lower().replace("jmo_guard_run=", "")  # no plain run/reason leak to later jobs


@pytest.mark.slow
def test_a_stage_of_the_users_own_when_stages_has_no_test(
    tmp_path: Path, wheel: Path, webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    hook_url, received = webhook
    repo, _ = _repo(tmp_path, "CRITICAL", stages="[build, security, deploy]", stage="security")
    proc = _run_pipeline(repo, tmp_path, wheel, hook_url, "jmo-schedule: weekly")
    output = proc.stdout + proc.stderr
    assert _job_results(output) == {"lint": "PASS", "jmo-scan-weekly": "PASS"}, output
    assert re.search(r"^jmo-scan-weekly +starting shell \(security\)$", output, re.M), output
    assert received == []  # `weekly` has no notifications


@pytest.mark.slow
def test_forbid_skip_is_visible_end_to_end(
    tmp_path: Path, wheel: Path, webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    hook_url, received = webhook
    repo, _ = _repo(tmp_path, "CRITICAL", policy="Forbid")
    gitlab = FakeGitLab(token="glpat-e2e-secret").start()
    try:
        sid = gitlab.add("jmo-schedule: weekly-scan (Weekly repo scan)", cron="0 2 * * 1", tz="Europe/Berlin")
        gitlab.add_pipeline(sid, 499, "running", "2026-11-23T01:00:04Z", "2026-11-23T01:05:00Z")
        gitlab.add_pipeline(sid, 500, "running", "2026-11-23T01:30:04Z", "2026-11-23T01:30:05Z")
        proc = _run_pipeline(repo, tmp_path, wheel, hook_url, "jmo-schedule: weekly-scan (Weekly repo scan)", {
            "CI_API_V4_URL": gitlab.url, "CI_PROJECT_ID": "42", "CI_PIPELINE_ID": "500",
            "CI_PIPELINE_CREATED_AT": "2026-11-23T01:30:04Z", "JMO_GITLAB_TOKEN": "glpat-e2e-secret"})
    finally:
        gitlab.stop()
    output = proc.stdout + proc.stderr
    assert _job_results(output) == {"lint": "PASS", "jmo-scan-weekly-scan": "PASS"}, output
    assert "skip: concurrencyPolicy Forbid: pipeline 499 of this schedule is running" in output
    assert "jmo-schedule: scan skipped" in output
    assert not (tmp_path / "stub.log").exists()  # the scanner never started
    assert received == []  # a deliberate skip sends no message
    assert "the guard skipped this run" in output
    guard_env = next(p for p in repo.rglob("guard.env") if "jmo-weekly-scan" in p.parts).read_text()
    assert guard_env == ("JMO_GUARD_RUN=false\nJMO_GUARD_REASON=concurrencyPolicy Forbid: pipeline 499 of this "
                         "schedule is running\n")
    assert "glpat-e2e-secret" not in output


@pytest.mark.slow
def test_the_second_run_compares_with_the_first_runs_artifacts(
    tmp_path: Path, wheel: Path, webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    """Run 1 has no earlier pipeline (the first run); its artifacts become pipeline 499's in
    the local GitLab, and run 2 (two findings more) fetches them with $JMO_GITLAB_TOKEN."""
    hook_url, received = webhook
    repo, _ = _repo(tmp_path, "CRITICAL")
    findings = tmp_path / "findings.json"
    findings.write_text(json.dumps([finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 12,
                                            "Generic API key detected")]))
    gitlab = FakeGitLab(token="glpat-e2e-secret").start()
    try:
        sid = gitlab.add("jmo-schedule: weekly-scan", cron="0 2 * * 1", tz="Europe/Berlin")
        env = {"CI_API_V4_URL": gitlab.url, "CI_PROJECT_ID": "42", "CI_PIPELINE_ID": "499",
               "JMO_GITLAB_TOKEN": "glpat-e2e-secret", "JMO_STUB_FINDINGS": str(findings)}
        first = _run_pipeline(repo, tmp_path, wheel, hook_url, "jmo-schedule: weekly-scan", env)
        output = first.stdout + first.stderr
        assert _job_results(output)["jmo-scan-weekly-scan"] == "PASS", output
        assert "notify: no baseline (no earlier pipeline of the schedule whose jmo-scan-weekly-scan job finished " \
               "with artifacts): the first run" in output
        kept = next(p for p in repo.rglob("findings.json") if p.parent.name == "jmo-weekly-scan")
        gitlab.add_pipeline(sid, 499, "success", scan_job="jmo-scan-weekly-scan",
                            artifacts={"jmo-weekly-scan/findings.json": kept.read_text()})

        findings.write_text(json.dumps([
            finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 14, "Generic API key detected"),
            finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 40, "subprocess call with shell=True"),
            finding("trivy", "CVE-2024-0001", "HIGH", "requirements.txt", 3, "Vulnerable dependency")]))
        second = _run_pipeline(repo, tmp_path, wheel, hook_url, "jmo-schedule: weekly-scan",
                               {**env, "CI_PIPELINE_ID": "500"})
    finally:
        gitlab.stop()
    output = second.stdout + second.stderr
    assert "notify: baseline: the artifacts of jmo-scan-weekly-scan (job 4991, success) in pipeline 499" in output
    assert len(received) == 2, output
    assert "first run" in json.dumps(received[0]["body"])
    text = json.dumps(received[1]["body"], ensure_ascii=False)
    assert "*Since the previous run:* 2 new · 0 fixed · 1 open" in text
    assert "glpat-e2e-secret" not in output and hook_url not in output
