from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import STUB_SCANNER_DIR
from jmo_schedule.core.model import JobTemplateSpec
from jmo_schedule.core.scan_command import Arg, build_plan, shell_line


def test_full_command_lines() -> None:
    job = JobTemplateSpec(
        profile="deep",
        targets={"repos_dir": "/repos", "images": ["nginx:1.27", "postgres:15"], "urls": ["https://a"],
                 "k8s_context": "prod", "k8s_all_namespaces": True},
        results={"dir": "/results"},
        options={"fail_on": "HIGH", "threads": 8, "timeout": 600, "allow_missing_tools": True,
                 "human_logs": True, "log_level": "DEBUG"},
    )
    plan = build_plan(job)
    assert plan.scan_argv() == [
        "jmo", "scan", "--repos-dir", "/repos", "--k8s-context", "prod", "--images-file",
        "/results/.jmo-inputs/images.txt", "--url", "https://a", "--k8s-all-namespaces", "--results-dir", "/results",
        "--profile-name", "deep", "--timeout", "600", "--threads", "8", "--allow-missing-tools",
        "--log-level", "DEBUG", "--human-logs",
    ]
    # The threshold belongs to `jmo report`; `jmo scan` has no --fail-on.
    assert plan.report_argv() == ["jmo", "report", "--results-dir", "/results", "--fail-on", "HIGH"]
    assert plan.env()["JMO_IMAGES"] == "nginx:1.27\npostgres:15"
    assert plan.env()["JMO_IMAGES_FILE"] == "/results/.jmo-inputs/images.txt"
    assert shell_line(plan.scan, "jmo scan").startswith(
        'jmo scan --repos-dir "${JMO_REPOS_DIR}" --k8s-context "${JMO_K8S_CONTEXT}" --images-file "${JMO_IMAGES_FILE}"'
    )


def test_defaults_and_results_override() -> None:
    plan = build_plan(JobTemplateSpec(targets={"repo": "."}), results_dir="/tmp/run-1")
    assert plan.scan_argv() == ["jmo", "scan", "--repo", ".", "--results-dir", "/tmp/run-1", "--profile-name", "balanced"]
    assert plan.report_argv() == ["jmo", "report", "--results-dir", "/tmp/run-1"]
    assert plan.fail_on is None and plan.list_files == ()


def test_leading_dash_values_use_the_equals_form() -> None:
    arg = Arg("--repo", "-rf", "JMO_REPO")
    assert arg.argv() == ["--repo=-rf"]
    assert arg.shell() == '--repo="${JMO_REPO}"'
    assert Arg("--repo", "x", "JMO_REPO").shell() == '--repo "${JMO_REPO}"'


def test_shell_line_holds_no_value() -> None:
    plan = build_plan(JobTemplateSpec(targets={"repo": "$(touch x)"}))
    assert "touch" not in shell_line(plan.scan, "jmo scan")


# Printable text without control characters: validation rejects those.
VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029\x85"),
    min_size=1, max_size=40,
)


@pytest.fixture(scope="module")
def echo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `jmo` that prints its argv as JSON."""
    d = tmp_path_factory.mktemp("echo")
    script = d / "jmo"
    script.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    script.chmod(0o755)
    return d


# A results dir stays inside the work folder (the list file is written there).
RESULTS = VALUES.filter(lambda v: "/" not in v and v not in (".", ".."))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(repo=VALUES, image=VALUES, image2=VALUES, results=RESULTS)
def test_shell_rendering_gives_exactly_the_argv(echo_dir: Path, repo: str, image: str, image2: str, results: str) -> None:
    """Run through bash with the plan's env, the rendered lines give the scanner exactly
    `scan_argv()`, and the list file holds the values: whatever the values contain."""
    plan = build_plan(JobTemplateSpec(targets={"repo": repo, "images": [image, image2], "url": None},
                                      results={"dir": results}, options={"fail_on": "LOW"}))
    script = "\n".join([
        "set -eu", "cd \"$WORK\"", *plan.write_list_files_shell(),
        shell_line(plan.scan, "jmo scan"), shell_line(plan.report, "jmo report"),
    ])
    work = echo_dir / "work"
    work.mkdir(exist_ok=True)
    env = {"PATH": f"{echo_dir}{os.pathsep}{os.environ['PATH']}", "WORK": str(work), **plan.env()}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    scan, report = (json.loads(line) for line in proc.stdout.splitlines())
    assert scan == plan.scan_argv()[1:]
    assert report == plan.report_argv()[1:]
    (lf,) = plan.list_files
    assert (work / lf.path).read_text() == f"{image}\n{image2}\n"


def test_every_argv_is_accepted_by_the_real_scanner_parser(tmp_path: Path) -> None:
    """The stub scanner checks argv with jmo-security's own parser (exit 2 when rejected)."""
    job = JobTemplateSpec(
        profile="fast",
        targets={"repo": "-weird repo", "images": ["a", "b"], "urls": ["https://x", "https://y"],
                 "api_spec": "openapi.yaml", "k8s_context": "prod", "k8s_namespace": "ns"},
        results={"dir": str(tmp_path / "results")},
        options={"fail_on": "CRITICAL", "threads": 2, "timeout": 60, "allow_missing_tools": True,
                 "human_logs": True, "log_level": "INFO"},
    )
    plan = build_plan(job)
    env = {**os.environ, "JMO_STUB_LOG": str(tmp_path / "log")}
    for lf in plan.list_files:
        Path(lf.path).parent.mkdir(parents=True, exist_ok=True)
        Path(lf.path).write_text("\n".join(lf.lines) + "\n")
    for argv in (plan.scan_argv(), plan.report_argv()):
        proc = subprocess.run([sys.executable, str(STUB_SCANNER_DIR / "jmo"), *argv[1:]], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
