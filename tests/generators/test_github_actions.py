from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from act_helpers import checkout_stub
from conftest import EXAMPLE, STUB_SCANNER_DIR, tool
from jmo_schedule.core.loader import load_file
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.core.scan_command import build_plan
from jmo_schedule.generators import generate_all
from jmo_schedule.generators.github_actions import (
    CHECKOUT,
    OWN_ACTION,
    UPLOAD_ARTIFACT,
    UPLOAD_SARIF,
    GitHubActionsGenerator,
    OwnAction,
    env_and_decoders,
    escape_expression,
    generate_files,
    render,
    workflow,
)

HOSTILE = "a'b\"c $(touch CANARY) ; `id` ${{ secrets.GITHUB_TOKEN }} $HOME \\ %"


def _schedule(name: str = "weekly-scan", policy: str = "Forbid", **job: Any) -> ScanSchedule:
    job.setdefault("targets", {"repo": "."})
    job.setdefault("results", {"dir": "results"})
    return ScanSchedule(
        ScheduleMetadata(name),
        ScheduleSpec(
            "0 2 * * 1", timezone="Europe/Berlin", concurrencyPolicy=policy,
            backend=BackendConfig("github-actions"), jobTemplate=JobTemplateSpec(**job),
        ),
    )


def _hostile() -> ScanSchedule:
    return _schedule(
        targets={"repo": "-" + HOSTILE, "images": ["nginx:1.27", HOSTILE], "urls": [HOSTILE]},
        results={"dir": "out ${{ github.token }}"},
        options={"fail_on": "HIGH", "timeout": 1800, "threads": 4},
        notifications={"enabled": True, "channels": [{"type": "slack", "url": "${TEAM_HOOK}"}]},
    )


def _load(text: str) -> dict[str, Any]:
    # `on` is the YAML 1.1 boolean to PyYAML; GitHub reads it as the key "on".
    doc = yaml.safe_load(text)
    doc["on"] = doc.pop(True)
    return doc


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _steps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["jobs"]["scan"]["steps"]}


def test_weekly_example_structure() -> None:
    (nightly,) = [s for s in load_file(EXAMPLE) if s.name == "nightly-scan"]
    doc = _load(GitHubActionsGenerator().generate(nightly))
    assert doc["name"] == "jmo-schedule: nightly-scan"
    assert doc["on"] == {"schedule": [{"cron": "17 2 * * *", "timezone": "America/New_York"}], "workflow_dispatch": {}}
    assert doc["permissions"] == {}
    assert "concurrency" not in doc  # the guard enforces Forbid: a group would queue the later run
    job = doc["jobs"]["scan"]
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    assert job["container"] == {"image": "ghcr.io/jimmy058910/jmo-security:1.1.1-full", "options": "--user 0"}
    assert job["env"] == {"JMO_REPO": ".", "JMO_RESULTS_DIR": "results", "JMO_PROFILE": "balanced", "JMO_FAIL_ON": "HIGH"}
    names = [s["name"] for s in job["steps"]]
    assert names == [
        "Record the start time", "Check out the repository", "Guard (suspend, deadline, concurrency)", "Scan",
        "Report", "Upload SARIF to code scanning", "Explain a failed SARIF upload", "Upload results", "Notify",
    ]
    names = names[1:]
    steps = _steps(doc)
    # notify measures the duration from it (GitHub gives a job no start time).
    assert steps["Record the start time"]["run"] == 'echo "JMO_SCAN_STARTED_AT=$(date -u +%s)" >> "$GITHUB_ENV"\n'
    assert steps["Check out the repository"]["with"] == {"persist-credentials": False}
    guard = steps["Guard (suspend, deadline, concurrency)"]
    assert guard["id"] == "guard"
    assert guard["uses"] == OWN_ACTION
    assert guard["with"]["command"] == "guard" and guard["with"]["schedule"] == "nightly-scan"
    for name in names[2:]:
        assert "steps.guard.outputs.run == 'true'" in steps[name]["if"]
    for name in names[3:]:
        assert steps[name]["if"].startswith("always() && ")
    assert steps["Scan"]["run"] == (
        'jmo scan --repo "${JMO_REPO}" --results-dir "${JMO_RESULTS_DIR}" --profile-name "${JMO_PROFILE}"\n'
    )
    assert steps["Report"]["run"] == 'jmo report --results-dir "${JMO_RESULTS_DIR}" --fail-on "${JMO_FAIL_ON}"\n'
    sarif = steps["Upload SARIF to code scanning"]
    assert sarif["with"]["sarif_file"] == "results/summaries/findings.sarif"
    # The upload never decides the outcome: it continues on error, and the next step says why.
    assert sarif["id"] == "sarif" and sarif["continue-on-error"] is True
    explain = steps["Explain a failed SARIF upload"]
    assert explain["if"] == "always() && steps.guard.outputs.run == 'true' && steps.sarif.outcome == 'failure'"
    assert explain["run"] == (
        "echo '::warning title=jmo-schedule::SARIF was not uploaded to code scanning (private and internal "
        "repositories need GitHub Code Security); the scan'\"'\"'s own result stands and its findings are in the "
        "results artifact. Set backend.config.codeScanning: false to skip the upload.'\n"
    )
    notify = steps["Notify"]
    assert notify["env"] == {"SLACK_WEBHOOK_URL": "${{ secrets.SLACK_WEBHOOK_URL }}"}
    assert notify["if"] == "always() && steps.guard.outputs.run == 'true'"
    assert notify["with"]["status"] == "${{ job.status == 'success' && 'success' || 'failure' }}"
    assert notify["with"]["sarif-upload"] == "${{ steps.sarif.outcome }}"
    # The previous run's artifact, read with the job's token (actions: read).
    assert notify["with"]["fetch-baseline"] is True and "message" not in notify["with"]


def test_a_channel_told_of_skips_makes_notify_run_after_a_skip_too() -> None:
    s = _schedule(notifications={"channels": [{"type": "slack", "url": "${TEAM_HOOK}"},
                                              {"type": "slack", "url": "${OPS_HOOK}", "events": ["skipped"]}]})
    notify = _steps(workflow(s))["Notify"]
    assert notify["if"] == "always()"
    assert notify["with"]["status"] == ("${{ steps.guard.outputs.run == 'false' && 'skipped' || "
                                        "(job.status == 'success' && 'success' || 'failure') }}")
    assert notify["with"]["message"] == "${{ steps.guard.outputs.reason }}"


def test_code_scanning_false_drops_the_upload_and_its_permission() -> None:
    s = _schedule(notifications={"enabled": True, "channels": [{"type": "slack", "url": "${TEAM_HOOK}"}]})
    s.spec.backend.config = {"codeScanning": False}
    doc = workflow(s)
    job = doc["jobs"]["scan"]
    assert job["permissions"] == {"contents": "read", "actions": "read"}
    names = [step["name"] for step in job["steps"]]
    assert "Upload SARIF to code scanning" not in names and "Explain a failed SARIF upload" not in names
    assert "sarif-upload" not in _steps(doc)["Notify"]["with"]
    s.spec.backend.config = {"codeScanning": True}
    assert "Upload SARIF to code scanning" in _steps(workflow(s))


def test_third_party_actions_are_pinned_to_full_shas_with_version_comments() -> None:
    text = GitHubActionsGenerator().generate(_hostile())
    uses = re.findall(r"uses: (\S+)(.*)", text)
    third_party = [(u, rest) for u, rest in uses if not u.startswith("jmo/")]
    assert {u.split("@")[0] for u, _ in third_party} == {CHECKOUT.action, UPLOAD_SARIF.action, UPLOAD_ARTIFACT.action}
    for ref, rest in third_party:
        assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"  # v\d+\.\d+\.\d+", rest), rest


@pytest.mark.parametrize(("policy", "actions"), [("Forbid", "read"), ("Replace", "write"), ("Allow", "read")])
def test_no_concurrency_group_and_the_guard_gets_what_the_policy_needs(policy: str, actions: str) -> None:
    # A group queues the later run (Forbid would become "run late"); the guard lists the
    # workflow's runs (actions: read) and, under Replace, cancels the older one (actions: write).
    doc = workflow(_schedule(policy=policy))
    assert "concurrency" not in doc and "concurrency" not in doc["jobs"]["scan"]
    assert doc["jobs"]["scan"]["permissions"] == {"contents": "read", "security-events": "write", "actions": actions}


def test_timeout_minutes_from_options_timeout() -> None:
    assert workflow(_schedule(options={"timeout": 1800}))["jobs"]["scan"]["timeout-minutes"] == 45
    assert "timeout-minutes" not in workflow(_schedule())["jobs"]["scan"]


def test_backend_config_image_runs_on_environment_and_action() -> None:
    s = _schedule()
    s.spec.backend.config = {
        "image": "registry.example/jmo@sha256:" + "a" * 64,
        "runs-on": ["self-hosted", "linux"],
        "environment": "security",
        "action": "jmo/schedule-action@" + "b" * 40,
    }
    doc = _load(GitHubActionsGenerator().generate(s))
    job = doc["jobs"]["scan"]
    assert job["container"]["image"] == "registry.example/jmo@sha256:" + "a" * 64
    assert job["runs-on"] == ["self-hosted", "linux"]
    assert job["environment"] == "security"
    assert _steps(doc)["Guard (suspend, deadline, concurrency)"]["uses"] == "jmo/schedule-action@" + "b" * 40


def test_other_backends_config_is_ignored_on_export() -> None:
    s = _schedule()
    s.spec.backend = BackendConfig("gitlab-ci", {"image": "elsewhere:1"})
    assert workflow(s)["jobs"]["scan"]["container"]["image"] == "ghcr.io/jimmy058910/jmo-security:1.1.1-full"


def test_no_notify_step_without_notifications() -> None:
    assert "Notify" not in _steps(workflow(_schedule()))
    off = _schedule(notifications={"enabled": False, "channels": [{"type": "slack", "url": "${X}"}]})
    assert "Notify" not in _steps(workflow(off))


def test_literal_webhook_url_is_never_written() -> None:
    url = "https://hooks.slack.com/services/T000/B000/SECRETSECRET"
    s = _schedule(notifications={"enabled": True, "channels": [{"type": "slack", "url": url}]})
    text = GitHubActionsGenerator().generate(s)
    assert "SECRETSECRET" not in text and "hooks.slack.com" not in text
    assert _steps(_load(text))["Notify"]["env"] == {"SLACK_WEBHOOK_URL": "${{ secrets.SLACK_WEBHOOK_URL }}"}


def test_hostile_values_reach_env_only() -> None:
    s = _hostile()
    text = GitHubActionsGenerator().generate(s)
    doc = _load(text)
    job = doc["jobs"]["scan"]
    for step in job["steps"]:
        if "run" in step:
            assert "CANARY" not in step["run"] and "secrets" not in step["run"]
    # Every expression in the file is one the generator wrote, never a schedule value.
    expressions = {e for value in _strings(doc) for e in re.findall(r"\$\{\{(.*?)\}\}", value)}
    assert expressions <= {
        " github.workflow ", " github.token ", " '$' ", " secrets.TEAM_HOOK ",
        " job.status == 'success' && 'success' || 'failure' ", " steps.sarif.outcome ",
    }, expressions
    # Values holding `${{` travel base64-encoded; the rest as they are.
    decoded = {k[:-4] if k.endswith("_B64") else k: base64.b64decode(v).decode() if k.endswith("_B64") else v
               for k, v in job["env"].items()}
    assert decoded == build_plan(s.spec.jobTemplate).env()
    assert "JMO_REPO_B64" in job["env"] and "JMO_PROFILE" in job["env"]
    assert not any("${{" in v for v in job["env"].values())
    # A `${{` in a `with:` input is escaped: GitHub evaluates `${{ '$' }}{{` to `${{`.
    upload = _steps(doc)["Upload results"]["with"]["path"]
    assert upload == "out ${{ '$' }}{{ github.token }}/"


def test_escape_expression() -> None:
    assert escape_expression("a ${{ b }} ${{") == "a ${{ '$' }}{{ b }} ${{ '$' }}{{"
    assert escape_expression("$ { {") == "$ { {"


def test_byte_stable_and_sorted() -> None:
    schedules = [_hostile(), _schedule("another", policy="Replace")]
    first = generate_files(schedules, "ci/schedules.yaml")
    second = generate_files(list(reversed([s.copy() for s in schedules])), "ci/schedules.yaml")
    assert first == second
    assert set(first) == {".github/workflows/jmo-weekly-scan.yml", ".github/workflows/jmo-another.yml"}
    assert "# Regenerate: jmo-schedule sync -f ci/schedules.yaml\n" in first[".github/workflows/jmo-another.yml"]


def test_rejects_a_name_that_is_not_a_dns_label() -> None:
    with pytest.raises(ValueError, match="is not a DNS-1123 label"):
        workflow(_schedule(name="Bad Name"))


# --- external tools -------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every variant the generator can produce, written as a repository's workflows."""
    root = tmp_path_factory.mktemp("gh")
    wf = root / ".github" / "workflows"
    wf.mkdir(parents=True)
    variants = [
        _hostile(),
        _schedule("replace-policy", policy="Replace", options={"timeout": 60}),
        _schedule("allow-policy", policy="Allow", targets={"repos_dir": "/repos", "images": ["a", "b"]}),
        _schedule("notify-literal", notifications={"enabled": True, "channels": [
            {"type": "slack", "url": "${A_HOOK}"}, {"type": "slack", "url": "${B_HOOK}"}]}),
        _schedule("notify-skips", notifications={"channels": [
            {"type": "slack", "url": "${A_HOOK}", "events": ["skipped", "new-findings"], "minSeverity": "HIGH"}]}),
        *[s for s in load_file(EXAMPLE) if s.spec.backend.type == "github-actions"],
    ]
    for path, text in generate_all(variants, "schedules.yaml").items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    # Every example schedule exported to GitHub, whatever its own backend.
    for s in load_file(EXAMPLE):
        (wf / f"export-{s.name}.yml").write_text(GitHubActionsGenerator().generate(s))
    # Without code scanning, and naming this action at a full SHA (as a sync job pinned by SHA writes it).
    no_sarif = _schedule("no-code-scanning", notifications={"enabled": True, "channels": [
        {"type": "slack", "url": "${A_HOOK}"}]})
    no_sarif.spec.backend.config = {"codeScanning": False}
    (wf / "jmo-no-code-scanning.yml").write_text(render(no_sarif, "schedules.yaml"))
    at_sha = OwnAction("jmo/schedule-action@" + "c" * 40, "v1.0.0")
    (wf / "jmo-at-sha.yml").write_text(render(_schedule("at-sha", policy="Replace"), "schedules.yaml", at_sha))
    # A schedules file whose name holds what YAML 1.1 readers (Go's yaml in actionlint) take
    # for line breaks: the header escapes them, the `schedules-file` input quotes them.
    odd = "ci/odd\u2028on: push\x85name\u2029.yaml"
    (wf / "jmo-odd-source.yml").write_text(render(_schedule("odd-source"), odd), encoding="utf-8")
    return wf


def _env_with_tools() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(tool("shellcheck")) + os.pathsep + env.get("PATH", "")
    return env


def test_check_jsonschema_accepts_every_workflow(workflows_dir: Path) -> None:
    files = sorted(str(p) for p in workflows_dir.glob("*.yml"))
    assert len(files) >= 5
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_with_shellcheck_accepts_every_workflow(workflows_dir: Path) -> None:
    files = sorted(str(p) for p in workflows_dir.glob("*.yml"))
    proc = subprocess.run([tool("actionlint"), *files], capture_output=True, text=True, env=_env_with_tools())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_at_medium_or_above(workflows_dir: Path) -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", "--min-severity", "medium", str(workflows_dir)],
        capture_output=True, text=True,
    )
    findings = json.loads(proc.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:3000]
    assert proc.returncode == 0, proc.stderr


def test_zizmor_flags_a_user_chosen_unpinned_action_ref(tmp_path: Path) -> None:
    # The inline ignore covers only this tool's own release tag, not whatever a user writes.
    s = _schedule()
    s.spec.backend.config = {"action": "jmo/schedule-action@main"}
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "x.yml").write_text(GitHubActionsGenerator().generate(s))
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", "--min-severity", "medium", str(wf)],
        capture_output=True, text=True,
    )
    assert {f["ident"] for f in json.loads(proc.stdout)} == {"unpinned-uses"}


# --- end to end: act runs the generated workflow on the host --------------------------

# Records its inputs (and the env the workflow gave it) as one JSON line in $JMO_TEST_EXPORT.
STUB_RECORDER = """\
name: {name} stub
description: records its inputs
inputs:
{inputs}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        STUB_INPUTS: ${{{{ toJSON(inputs) }}}}
      run: |
        python3 -c 'import json, os; print(json.dumps({{"stub": "{name}", "inputs": json.loads(os.environ["STUB_INPUTS"]), "hook": os.environ.get("TEAM_HOOK")}}))' >> "$JMO_TEST_EXPORT/calls.jsonl"
        if [ "${{{{ inputs.command }}}}" = guard ]; then echo "run=${{JMO_TEST_GUARD:-true}}" >> "$GITHUB_OUTPUT"; fi
"""


def _recorder(root: Path, name: str, inputs: list[str]) -> Path:
    d = root / name
    d.mkdir(parents=True)
    lines = "\n".join(f"  {i}: {{description: x}}" for i in inputs)
    (d / "action.yml").write_text(STUB_RECORDER.format(name=name, inputs=lines))
    return d


def _act(tmp_path: Path, s: ScanSchedule, guard: str = "true") -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the generated workflow with act on the host, every action replaced by a stub."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "schedules.yaml").write_text("# the schedule; the stub guard does not read it\n")
    doc_text = GitHubActionsGenerator().generate(s)
    # act needs Docker for `container:`; the host runs the steps instead (DESIGN.md).
    lines = doc_text.splitlines(keepends=True)
    start = next(i for i, l in enumerate(lines) if l.startswith("    container:"))
    del lines[start:start + 3]
    (repo / ".github" / "workflows" / "scan.yml").write_text("".join(lines))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    export = tmp_path / "export"
    export.mkdir()
    stubs = tmp_path / "stubs"
    local = {
        CHECKOUT.uses: checkout_stub(stubs),
        # A path inside a repository: act maps the repository, the stub sits at the path.
        f"github/codeql-action@{UPLOAD_SARIF.sha}": _recorder(stubs / "codeql-action", "upload-sarif",
                                                             ["sarif_file", "category"]).parent,
        UPLOAD_ARTIFACT.uses: _recorder(stubs, "upload-artifact", ["name", "path", "if-no-files-found"]),
        OWN_ACTION: _recorder(stubs, "own", ["command", "schedules-file", "schedule", "token", "status", "results"]),
    }
    cmd = [tool("act"), "workflow_dispatch", "-W", ".github/workflows/scan.yml", "-P", "ubuntu-latest=-self-hosted",
           "--no-cache-server", "--env", f"JMO_TEST_EXPORT={export}", "--env", f"JMO_STUB_LOG={export / 'stub.log'}",
           "--env", f"JMO_TEST_GUARD={guard}",
           "-s", "TEAM_HOOK=https://hooks.example/secret-hook", "-s", "GITHUB_TOKEN=ghs_token"]
    for ref, path in local.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    env = {**os.environ, "HOME": str(tmp_path / "home"),
           "PATH": os.pathsep.join([str(STUB_SCANNER_DIR), os.environ["PATH"]])}
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    (tmp_path / "act.log").write_text(proc.stdout + proc.stderr)  # kept for debugging a failure
    return proc, export


@pytest.mark.slow
def test_act_runs_the_workflow_with_exact_argv(tmp_path: Path) -> None:
    """act (a GitHub runner on the host) evaluates the workflow: values holding `${{` reach
    the scanner literally, the argv is exactly the planned one, nothing injected runs."""
    canary = tmp_path / "CANARY"
    hostile = f"a'b\"c $(touch {canary}1) ; `touch {canary}2` ${{{{ secrets.TEAM_HOOK }}}} ${{{{ github.token }}}} $HOME"
    s = _schedule(
        targets={"repo": "-" + hostile, "images": [hostile, "nginx:1.27"]},
        results={"dir": "results"},
        options={"fail_on": "HIGH"},
        notifications={"enabled": True, "channels": [{"type": "slack", "url": "${TEAM_HOOK}"}]},
    )
    proc, export = _act(tmp_path, s)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log  # jmo report exits 1: the stub's HIGH finding crosses fail_on HIGH
    plan = build_plan(s.spec.jobTemplate)
    calls = [json.loads(line) for line in (export / "stub.log").read_text().splitlines()]
    assert calls == [plan.scan_argv()[1:], plan.report_argv()[1:]], log[-4000:]
    assert calls[0][1] == "--repo=-" + hostile
    assert list(tmp_path.rglob("CANARY*")) == []
    steps = [json.loads(line) for line in (export / "calls.jsonl").read_text().splitlines()]
    by_stub = {c["stub"] + ":" + c["inputs"].get("command", ""): c for c in steps}
    assert by_stub["own:guard"]["inputs"]["schedule"] == "weekly-scan"
    assert by_stub["upload-sarif:"]["inputs"]["sarif_file"] == "results/summaries/findings.sarif"
    assert by_stub["upload-artifact:"]["inputs"]["path"] == "results/"
    notify = by_stub["own:notify"]
    assert notify["inputs"]["status"] == "failure"
    assert notify["hook"] == "https://hooks.example/secret-hook"


def test_base64_decoders_restore_values_exactly() -> None:
    values = {"JMO_A": "x ${{ y }}\nz ", "JMO_B": "plain"}
    env, decode = env_and_decoders(values)
    assert set(env) == {"JMO_A_B64", "JMO_B"}
    script = "\n".join([*decode, 'printf "%s|" "$JMO_A" "$JMO_B"'])
    out = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"], **env},
                         capture_output=True, text=True, check=True).stdout
    assert out == "x ${{ y }}\nz |plain|"


def test_validation_rejects_an_expression_in_results_dir() -> None:
    from jmo_schedule.core.loader import check_text

    text = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata: {name: a}
spec:
  schedule: "0 2 * * 1"
  jobTemplate:
    results: {dir: "out ${{ github.token }}"}
"""
    result = check_text(text, "s.yaml")
    assert [str(p) for p in result.problems] == [
        "s.yaml:7:20: spec.jobTemplate.results.dir: must not contain '${{' (CI systems read it as an expression)"
    ]


@pytest.mark.slow
def test_act_guard_skip_runs_nothing_else(tmp_path: Path) -> None:
    s = _schedule(notifications={"enabled": True, "channels": [{"type": "slack", "url": "${TEAM_HOOK}"}]})
    proc, export = _act(tmp_path, s, guard="false")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert not (export / "stub.log").exists()
    calls = [json.loads(line) for line in (export / "calls.jsonl").read_text().splitlines()]
    assert [(c["stub"], c["inputs"].get("command")) for c in calls] == [("own", "guard")]


# --- end to end with the real action: code scanning refused, the scan still passes ----------

STUB_UPLOAD_SARIF_REFUSED = """\
name: upload-sarif stand-in
description: answers as upload-sarif does in a private repository without GitHub Code Security
inputs:
  sarif_file: {description: s}
  category: {description: c}
runs:
  using: composite
  steps:
    - shell: bash
      env: {SARIF: "${{ inputs.sarif_file }}"}
      run: |
        test -s "$SARIF"
        echo "::error::Code Security must be enabled for this repository to use code scanning."
        exit 1
"""



def _passing_repo(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(repo, stubs, export): a git repository holding act_helpers.PASSING_SCHEDULE and its
    generated workflow .github/workflows/jmo-nightly.yml, without `container:` (act would
    need Docker for it; the host runs the steps)."""
    from act_helpers import PASSING_SCHEDULE

    from jmo_schedule.core.loader import load_text

    repo, stubs, export = tmp_path / "repo", tmp_path / "stubs", tmp_path / "export"
    (repo / ".github" / "workflows").mkdir(parents=True)
    export.mkdir()
    (repo / "schedules.yaml").write_text(PASSING_SCHEDULE)
    (schedule,) = load_text(PASSING_SCHEDULE, "schedules.yaml")
    lines = GitHubActionsGenerator().generate(schedule).splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("    container:"))
    del lines[start:start + 3]
    (repo / ".github" / "workflows" / "jmo-nightly.yml").write_text("".join(lines))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo, stubs, export


def _act_nightly(tmp_path: Path, local: dict[str, Path], env_vars: list[str],
                 secrets: list[str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """act's workflow_dispatch of _passing_repo's workflow, remote actions replaced by
    `local`, the stub scanner on PATH; (the process, its log, also kept in act.log)."""
    export = tmp_path / "export"
    cmd = [tool("act"), "workflow_dispatch", "-W", ".github/workflows/jmo-nightly.yml",
           "-P", "ubuntu-latest=-self-hosted", "--no-cache-server", "--env", f"JMO_TEST_EXPORT={export}",
           "--env", f"JMO_STUB_LOG={export / 'stub.log'}"]
    for variable in env_vars:
        cmd += ["--env", variable]
    for secret in secrets:
        cmd += ["-s", secret]
    for ref, path in local.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    env = {**os.environ, "HOME": str(tmp_path / "home"),
           "PATH": os.pathsep.join([str(STUB_SCANNER_DIR), os.environ["PATH"]])}
    proc = subprocess.run(cmd, cwd=tmp_path / "repo", env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    (tmp_path / "act.log").write_text(log)  # kept for debugging a failure
    return proc, log


@pytest.mark.slow
def test_act_refused_sarif_upload_leaves_the_scan_green_and_says_so(tmp_path: Path) -> None:
    from act_helpers import action_stubs, copy_action, stub
    from fakes.slack import FakeSlack

    _, stubs, _ = _passing_repo(tmp_path)
    local = {
        **action_stubs(stubs / "action"),  # first: the recorders below stand in for the workflow's own uses
        CHECKOUT.uses: checkout_stub(stubs),
        f"github/codeql-action@{UPLOAD_SARIF.sha}": stub(stubs / "codeql-action", "upload-sarif",
                                                         STUB_UPLOAD_SARIF_REFUSED).parent,
        UPLOAD_ARTIFACT.uses: _recorder(stubs, "upload-artifact", ["name", "path", "if-no-files-found"]),
        OWN_ACTION: copy_action(stubs / "own"),
    }
    slack = FakeSlack().start()
    try:
        proc, log = _act_nightly(tmp_path, local, [], [f"TEAM_HOOK={slack.base}/services/T0/B0/sarif-secret",
                                                      "GITHUB_TOKEN=ghs_token"])
    finally:
        slack.stop()
    assert proc.returncode == 0, log[-6000:]
    assert "Code Security must be enabled for this repository" in log  # the stand-in refused
    assert "::warning title=jmo-schedule::SARIF was not uploaded to code scanning" in log
    posts = [r for r in slack.requests if r.method == "POST"]
    assert len(posts) == 1
    message = posts[0].json()
    assert message["text"].startswith("✅ Security scan succeeded: nightly")
    assert (":warning: SARIF was not uploaded to code scanning: the upload failed (private and internal "
            "repositories need GitHub Code Security); the findings are in the run's results artifact"
            in json.dumps(message, ensure_ascii=False))
    assert "sarif-secret" not in log


# --- end to end with the real action: the second run compares with the previous artifact ---


@pytest.mark.slow
def test_act_second_run_fetches_the_previous_artifact_and_says_what_is_new(tmp_path: Path) -> None:
    """The generated workflow's Notify step (fetch-baseline: true) asks the local GitHub API
    for the newest jmo-results-nightly artifact of another run, follows the download to the
    blob storage host without the token, and the message counts against it."""
    import io
    import zipfile

    from act_helpers import action_stubs, copy_action
    from fakes.github import FakeGitHub
    from fakes.slack import FakeSlack
    from jmo_fixtures import finding

    _, stubs, _ = _passing_repo(tmp_path)

    # The previous run's artifact: what the scanner wrote then (one finding), as a zip of results/.
    before = [finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 12, "Generic API key detected")]
    (tmp_path / "before.json").write_text(json.dumps(before))
    previous = tmp_path / "previous"
    subprocess.run([str(STUB_SCANNER_DIR / "jmo"), "report", str(previous)], check=True, capture_output=True,
                   env={**os.environ, "JMO_STUB_FINDINGS": str(tmp_path / "before.json")})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted((previous / "summaries").iterdir()):
            zf.writestr(f"summaries/{path.name}", path.read_bytes())
    # Now: the same key (moved two lines down) and two new findings.
    (tmp_path / "after.json").write_text(json.dumps([
        finding("gitleaks", "generic-api-key", "HIGH", "config/settings.py", 14, "Generic API key detected"),
        finding("semgrep", "subprocess-shell-true", "MEDIUM", "app/run.py", 40, "subprocess call with shell=True"),
        finding("trivy", "CVE-2024-0001", "HIGH", "requirements.txt", 3, "Vulnerable dependency")]))

    github = FakeGitHub("acme/app", "ghs_act_job_token").start()
    github.add_artifact("jmo-results-nightly", 502, buffer.getvalue(), "2026-11-24T02:19:00Z")
    slack = FakeSlack().start()
    local = {
        **action_stubs(stubs / "action"),  # first: the recorders below stand in for the workflow's own uses
        CHECKOUT.uses: checkout_stub(stubs),
        f"github/codeql-action@{UPLOAD_SARIF.sha}": _recorder(stubs / "codeql-action", "upload-sarif",
                                                              ["sarif_file", "category"]).parent,
        UPLOAD_ARTIFACT.uses: _recorder(stubs, "upload-artifact", ["name", "path", "if-no-files-found"]),
        OWN_ACTION: copy_action(stubs / "own"),
    }
    try:
        proc, log = _act_nightly(
            tmp_path, local,
            [f"JMO_STUB_FINDINGS={tmp_path / 'after.json'}", f"GITHUB_API_URL={github.url}", "GITHUB_REPOSITORY=acme/app"],
            [f"TEAM_HOOK={slack.base}/services/T0/B0/baseline-secret", "GITHUB_TOKEN=ghs_act_job_token"])
    finally:
        slack.stop()
        github.stop()
    assert proc.returncode == 0, log[-6000:]
    assert "baseline: artifact jmo-results-nightly of run 502" in log, log[-6000:]
    downloads = [r["path"] for r in github.requests if "/artifacts" in r["path"]]
    assert downloads == ["/repos/acme/app/actions/artifacts", "/repos/acme/app/actions/artifacts/9000/zip"]
    posts = [r for r in slack.requests if r.method == "POST"]
    assert len(posts) == 1
    text = json.dumps(posts[0].json(), ensure_ascii=False)
    assert "*Since the previous run:* 2 new · 0 fixed · 1 open" in text
    assert "baseline-secret" not in log and "ghs_act_job_token" not in log
