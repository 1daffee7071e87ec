from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conftest import EXAMPLE, STUB_SCANNER_DIR, VENV_BIN, tool
from fakes.slack import FakeSlack
from platform_expansion import k8s_expand
from jmo_schedule.core.loader import load_file
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.core.scan_command import build_plan
from jmo_schedule.generators.kubernetes import (
    KubernetesCronJobGenerator,
    cronjob,
    escape_dollars,
    generate_files,
    results_mount,
)

HOSTILE = "a'b\"c $(touch {canary}) ; `touch {canary}2` ${{{{ x }}}} $(HOME) $$ $HOME"
NOTIFY = {"enabled": True, "channels": [{"type": "slack", "url": "${SLACK_WEBHOOK_URL}"}]}


def _schedule(name: str = "weekly-scan", config: dict[str, Any] | None = None, **spec: Any) -> ScanSchedule:
    job = spec.pop("job", {})
    job.setdefault("targets", {"repo": "."})
    return ScanSchedule(
        ScheduleMetadata(name),
        ScheduleSpec("0 2 * * 1", backend=BackendConfig("kubernetes", config or {}), jobTemplate=JobTemplateSpec(**job), **spec),
    )


def test_k8s_expand_oracle() -> None:
    assert k8s_expand("$$(A) $(A) $(B) $x $", {"A": "1"}) == "$(A) 1 $(B) $x $"


def test_fields_map_one_to_one() -> None:
    (example,) = [s for s in load_file(EXAMPLE) if s.name == "comprehensive-scan"]
    example.spec.startingDeadlineSeconds = 120
    example.spec.suspend = True
    doc = yaml.safe_load(KubernetesCronJobGenerator().generate(example))
    assert doc["apiVersion"] == "batch/v1" and doc["kind"] == "CronJob"
    assert doc["metadata"]["name"] == "jmo-comprehensive-scan"
    assert doc["metadata"]["namespace"] == "security"
    spec = doc["spec"]
    assert {k: spec[k] for k in list(spec)[:7]} == {
        "schedule": "0 3 * * 1",
        "timeZone": "Europe/London",
        "suspend": True,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 120,
        "successfulJobsHistoryLimit": 30,
        "failedJobsHistoryLimit": 10,
    }
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/jimmy058910/jmo-security:1.1.1-full"
    assert container["command"][:2] == ["/bin/sh", "-c"]
    assert container["volumeMounts"] == [{"name": "results", "mountPath": "/results/weekly"}]
    assert pod["volumes"] == [{"name": "results", "emptyDir": {}}]
    assert "initContainers" not in pod  # no notifications, nothing to install


@pytest.mark.parametrize("policy", ["Forbid", "Allow", "Replace"])
def test_concurrency_policy_is_native(policy: str) -> None:
    assert cronjob(_schedule(concurrencyPolicy=policy))["spec"]["concurrencyPolicy"] == policy


def test_results_volume_claim_and_pod_settings() -> None:
    s = _schedule(config={"resultsVolumeClaim": "jmo-results", "serviceAccountName": "scanner",
                          "imagePullSecrets": ["ghcr"], "webhookSecret": "hooks", "image": "reg/jmo:1"},
                  job={"results": {"dir": "out"}, "notifications": NOTIFY, "options": {"timeout": 600}})
    doc = cronjob(s)
    job = doc["spec"]["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 1500 and job["backoffLimit"] == 0
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == "scanner"
    assert pod["imagePullSecrets"] == [{"name": "ghcr"}]
    assert pod["volumes"][0] == {"name": "results", "persistentVolumeClaim": {"claimName": "jmo-results"}}
    (container,) = pod["containers"]
    assert container["image"] == "reg/jmo:1"
    assert {"name": "results", "mountPath": "/scan/out"} in container["volumeMounts"]
    assert {"name": "SLACK_WEBHOOK_URL", "valueFrom": {"secretKeyRef": {"name": "hooks", "key": "SLACK_WEBHOOK_URL"}}} in container["env"]
    (init,) = pod["initContainers"]
    assert init["command"][-1] == "$(JMO_SCHEDULE_PIP_SPEC)"


def test_results_mount_resolves_relative_dirs() -> None:
    assert results_mount("results") == "/scan/results"
    assert results_mount("/results/x/") == "/results/x"
    assert results_mount("a/../b") == "/scan/b"


def test_escape_dollars() -> None:
    assert escape_dollars("$(A) $$ x") == "$$(A) $$$$ x"
    assert k8s_expand(escape_dollars("$(A) $$ ${B}"), {"A": "no"}) == "$(A) $$ ${B}"


def test_byte_stable_one_file_per_schedule() -> None:
    schedules = [_schedule("a"), _schedule("b", job={"notifications": NOTIFY})]
    first = generate_files(schedules, "schedules.yaml")
    assert sorted(first) == ["deploy/kubernetes/jmo-a.yaml", "deploy/kubernetes/jmo-b.yaml"]
    assert first == generate_files([s.copy() for s in schedules], "schedules.yaml")


def _variants(tmp_path: Path) -> list[ScanSchedule]:
    hostile = HOSTILE.format(canary=tmp_path / "CANARY")
    return [
        _schedule("hostile", config={"namespace": "sec", "resultsVolumeClaim": "pvc"}, startingDeadlineSeconds=30,
                  job={"targets": {"repo": "-" + hostile, "images": [hostile, "nginx:1.27"], "urls": [hostile]},
                       "results": {"dir": "results"}, "options": {"fail_on": "HIGH", "threads": 2},
                       "notifications": NOTIFY}),
        _schedule("plain", concurrencyPolicy="Replace", suspend=True),
        *load_file(EXAMPLE),  # every example, whatever its own backend (as `export --backend kubernetes`)
    ]


def test_kubernetes_validate_accepts_every_manifest(tmp_path: Path) -> None:
    for s in _variants(tmp_path):
        doc = yaml.safe_load(KubernetesCronJobGenerator().generate(s))
        for version in ("1.30.0", "1.37.0"):
            kubernetes_validate.validate(doc, version, strict=True)


def test_kubernetes_validate_rejects_a_broken_manifest() -> None:
    doc = cronjob(_schedule())
    doc["spec"]["concurrencyPolicy"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, "1.37.0", strict=True)


def test_container_script_passes_shellcheck(tmp_path: Path) -> None:
    for s in _variants(tmp_path):
        container = cronjob(s)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        script = tmp_path / f"{s.name}.sh"
        script.write_text("#!/bin/sh\n" + k8s_expand(container["command"][2].text, {}))
        proc = subprocess.run([tool("shellcheck"), "-s", "sh", str(script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout


def test_container_runs_scan_report_notify_with_exact_argv(tmp_path: Path, slack: FakeSlack) -> None:
    """Run the container's command as the kubelet would: env and args expanded Kubernetes'
    way, then /bin/sh -c, with the stub scanner on PATH."""
    hook_url = slack.hook("/hook")
    (s,) = [v for v in _variants(tmp_path) if v.name == "hostile"]
    container = cronjob(s)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for item in container["env"]:
        env[item["name"]] = k8s_expand(item["value"], env) if "value" in item else hook_url
    args = [k8s_expand(a.text if hasattr(a, "text") else a, env) for a in container["command"]]
    work = tmp_path / "scan"
    work.mkdir()
    run_env = {
        **env,
        "PATH": os.pathsep.join([str(STUB_SCANNER_DIR), str(VENV_BIN), os.environ["PATH"]]),
        "JMO_STUB_LOG": str(tmp_path / "stub.log"),
        "JMO_HOME": str(tmp_path / "home"),
    }
    proc = subprocess.run(args, cwd=work, env=run_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the stub's HIGH finding crosses fail_on HIGH
    plan = build_plan(s.spec.jobTemplate)
    calls = [json.loads(line) for line in (tmp_path / "stub.log").read_text().splitlines()]
    assert calls == [plan.scan_argv()[1:], plan.report_argv()[1:]]
    assert list(tmp_path.rglob("CANARY*")) == []
    assert len(slack.received) == 1
    assert hook_url not in proc.stdout + proc.stderr
