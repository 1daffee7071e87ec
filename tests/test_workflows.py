"""This repository's workflows (.github/workflows), the GitLab example and the pre-commit
hooks: linted by check-jsonschema, actionlint and zizmor, and checked for the rules the
project promises (SHA pins, least privilege, no persisted credentials)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE, ROOT, tool

from jmo_schedule import __version__

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
GITLAB_EXAMPLE = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SHA_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def steps(path: Path) -> list[dict[str, Any]]:
    return [s for job in load(path)["jobs"].values() for s in job.get("steps", [])]


def test_the_three_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "jmo-schedule-sync.yml", "release.yml"]


def test_check_jsonschema_github_workflows() -> None:
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_with_shellcheck() -> None:
    run = subprocess.run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *map(str, WORKFLOWS)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_offline_finds_nothing() -> None:
    run = subprocess.run([tool("zizmor"), "--offline", "--no-progress", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_pins(path: Path) -> None:
    wf = load(path)
    assert wf["permissions"] == {}, "grant per job, nothing at the top"
    for name, job in wf["jobs"].items():
        assert "permissions" in job, f"{name} must say what it needs"
        assert "timeout-minutes" in job, name
    for step in steps(path):
        uses = step.get("uses")
        if uses is None or uses == "./":
            continue
        assert SHA_USES.match(uses), uses
        assert re.search(re.escape(uses) + r" # v\d+\.\d+\.\d+", path.read_text()), f"{uses}: version comment"
        if uses.startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_ci_tests_every_supported_python_and_lints() -> None:
    wf = load(ROOT / ".github" / "workflows" / "ci.yml")
    test = wf["jobs"]["test"]
    assert test["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13"]
    assert any(s.get("run") == "bash .ci/run" for s in test["steps"])
    lint = "\n".join(s.get("run", "") for s in wf["jobs"]["lint"]["steps"])
    for command in ("actionlint", "zizmor --offline", "vendor.github-actions", "vendor.github-workflows",
                    "vendor.gitlab-ci", "generate_schema.py --check"):
        assert command in lint
    assert set(wf["on"]) == {"push", "pull_request", "workflow_dispatch"}


def test_release_builds_once_publishes_then_moves_the_major_tag() -> None:
    wf = load(ROOT / ".github" / "workflows" / "release.yml")
    assert wf["on"] == {"push": {"tags": ["v1.*.*"]}}
    jobs = wf["jobs"]
    # The order: test -> build (once) -> PyPI -> GitHub release assets -> v1.
    assert jobs["build"]["needs"] == "test"
    assert jobs["publish-pypi"]["needs"] == "build"
    assert jobs["github-release"]["needs"] == "publish-pypi"
    assert jobs["move-major-tag"]["needs"] == ["publish-pypi", "github-release"]
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "test": {"contents": "read"}, "build": {"contents": "read"}, "publish-pypi": {"id-token": "write"},
        "github-release": {"contents": "write"}, "move-major-tag": {"contents": "write"}}
    # Only the build job builds; the others take its checked files.
    build = "\n".join(s.get("run", "") for s in jobs["build"]["steps"])
    assert "python -m build --outdir dist ." in build and "twine check --strict dist/*" in build
    assert 'jmo-schedule" --version' in build and "validate -f examples/schedules.yaml" in build
    upload = next(s for s in jobs["build"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "dist"
    for name in ("publish-pypi", "github-release"):
        steps = jobs[name]["steps"]
        assert steps[0]["uses"].startswith("actions/download-artifact@") and steps[0]["with"]["name"] == "dist"
        assert "build" not in "\n".join(s.get("run", "") for s in steps)
    publish = jobs["publish-pypi"]
    assert publish["environment"] == {"name": "pypi", "url": "https://pypi.org/project/jmo-schedule/"}
    assert publish["steps"][1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish["steps"][1]  # trusted publishing: no password, no token
    assert "gh release upload" in jobs["github-release"]["steps"][1]["run"]
    script = jobs["move-major-tag"]["steps"][0]["run"]
    assert "git/refs/tags/v1" in script and "refs/tags/v1" in script
    tag_check = next(s for s in jobs["test"]["steps"] if s.get("name") == "The tag matches the package version")
    assert 'python3 scripts/check_release.py "$TAG"' in tag_check["run"]


def test_sync_workflow_runs_the_action_in_sync_mode() -> None:
    wf = load(ROOT / ".github" / "workflows" / "jmo-schedule-sync.yml")
    assert wf["on"]["schedule"][0]["cron"] == "17 5 * * *"
    assert wf["on"]["push"]["paths"] == ["schedules.yaml"]
    job = wf["jobs"]["sync"]
    # actions: write prunes and lets the audit enable workflows; checks: read gives it skip reasons.
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "actions": "write",
                                  "checks": "read"}
    action = next(s for s in job["steps"] if s.get("uses") == "./")
    assert action["with"]["command"] == "sync"
    assert action["env"] == {"SLACK_WEBHOOK_URL": "${{ secrets.SLACK_WEBHOOK_URL }}"}
    assert "secrets.JMO_SCHEDULE_TOKEN" in action["with"]["token"]


def test_gitlab_example_passes_the_gitlab_ci_schema() -> None:
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB_EXAMPLE)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    data = yaml.safe_load(GITLAB_EXAMPLE.read_text())
    component = data["include"][0]
    assert component["component"] == "$CI_SERVER_FQDN/jmo/schedule-action/gitlab-component@1.0.0"
    spec = yaml.safe_load_all((ROOT / "templates" / "gitlab-component" / "template.yml").read_text())
    inputs = next(spec)["spec"]["inputs"]
    assert set(component["inputs"]) <= set(inputs)


# ------------------------------------------------------------------------------------
# pre-commit hooks


def hooks() -> dict[str, dict[str, Any]]:
    return {h["id"]: h for h in yaml.safe_load(HOOKS.read_text())}


def test_hook_manifest_shape() -> None:
    found = hooks()
    assert set(found) == {"jmo-schedule-validate", "jmo-schedule-sync-check"}
    for hook in found.values():
        assert set(hook) <= {"id", "name", "description", "entry", "language", "files", "types", "pass_filenames",
                             "require_serial", "minimum_pre_commit_version", "args"}
        assert hook["language"] == "python"
        assert hook["entry"].split()[0] == "jmo-schedule"


@pytest.mark.parametrize("path, validate, sync", [
    ("schedules.yaml", True, True),
    ("ops/schedules.yml", True, True),
    ("myschedules.yaml", False, False),
    (".github/workflows/jmo-nightly.yml", False, True),
    (".github/workflows/ci.yml", False, False),
    (".gitlab/jmo-schedules.gitlab-ci.yml", False, True),
    ("deploy/kubernetes/jmo-weekly.yaml", False, True),
])
def test_hook_file_patterns(path: str, validate: bool, sync: bool) -> None:
    found = hooks()
    assert bool(re.search(found["jmo-schedule-validate"]["files"], path)) is validate
    assert bool(re.search(found["jmo-schedule-sync-check"]["files"], path)) is sync


def test_validate_hook_runs_as_pre_commit_calls_it(tmp_path: Path) -> None:
    # pre-commit runs `entry [args] file...`.
    bad = tmp_path / "schedules.yaml"
    bad.write_text(EXAMPLE.read_text().replace('"23 2 * * 1"', '"23 2 * * 8"'))
    entry = hooks()["jmo-schedule-validate"]["entry"].split()
    ok = subprocess.run([tool(entry[0]), *entry[1:], str(EXAMPLE)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run([tool(entry[0]), *entry[1:], str(EXAMPLE), str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "day of week 8 is outside 0-7" in failed.stderr


def test_sync_check_hook_runs_as_pre_commit_calls_it(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "schedules.yaml").write_text(EXAMPLE.read_text())
    entry = hooks()["jmo-schedule-sync-check"]["entry"].split()
    drift = subprocess.run([tool(entry[0]), *entry[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert drift.returncode == 1 and "out of sync" in drift.stdout
    subprocess.run([tool("jmo-schedule"), "sync"], cwd=tmp_path, check=True, capture_output=True)
    clean = subprocess.run([tool(entry[0]), *entry[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout


def test_catalog_project_pipeline() -> None:
    path = ROOT / ".gitlab-ci.yml"
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    data = yaml.safe_load(path.read_text())
    include = data["include"][0]
    assert include["local"] == "templates/gitlab-component/template.yml"
    inputs = next(yaml.safe_load_all((ROOT / include["local"]).read_text()))["spec"]["inputs"]
    assert set(include["inputs"]) <= set(inputs)
    check = data["check-release"]
    assert check["script"][0] == 'python3 scripts/check_release.py "$CI_COMMIT_TAG"'
    assert 'pip download --quiet --no-deps' in check["script"][1] and '"jmo-schedule==$CI_COMMIT_TAG"' in check["script"][1]
    release = data["create-release"]
    assert release["needs"] == ["check-release"] and release["rules"] == check["rules"]
    pattern = release["rules"][0]["if"].split("=~", 1)[1].strip().strip("/")
    assert re.fullmatch(pattern, "1.0.0") and not re.fullmatch(pattern, "v1.0.0")
    assert release["release"]["tag_name"] == "$CI_COMMIT_TAG"


# ------------------------------------------------------------------------------------
# scripts/check_release.py: tag, package version and the component's pip-spec default agree


def check_release(root: Path, tag: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, str(root / "scripts" / "check_release.py"), tag], capture_output=True, text=True)
    return proc.returncode, proc.stderr


def test_check_release_accepts_the_current_version() -> None:
    assert check_release(ROOT, f"v{__version__}") == (0, "")
    assert check_release(ROOT, __version__) == (0, "")


def test_check_release_names_every_disagreement(tmp_path: Path) -> None:
    for rel in ("scripts/check_release.py", "src/jmo_schedule/_version.py", "templates/gitlab-component/template.yml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text((ROOT / rel).read_text())
    (tmp_path / "src/jmo_schedule/_version.py").write_text('__version__ = "1.4.0"\n')
    template = tmp_path / "templates/gitlab-component/template.yml"
    template.write_text(template.read_text().replace(f"default: jmo-schedule=={__version__}\n", "default: jmo-schedule==1.3.9\n"))
    assert check_release(tmp_path, "v1.4.1") == (1, (
        "check_release: tag v1.4.1 but src/jmo_schedule/_version.py says 1.4.0\n"
        "check_release: tag v1.4.1 but the component's pip-spec default is jmo-schedule==1.3.9 (set it to "
        "jmo-schedule==1.4.1 in templates/gitlab-component/template.yml)\n"))
    assert check_release(tmp_path, "1.4") == (1, (
        "check_release: tag 1.4 is not a release tag (1.x.y on GitLab, v1.x.y on GitHub)\n"
        "check_release: tag 1.4 but src/jmo_schedule/_version.py says 1.4.0\n"
        "check_release: tag 1.4 but the component's pip-spec default is jmo-schedule==1.3.9 (set it to "
        "jmo-schedule==1.4 in templates/gitlab-component/template.yml)\n"))
