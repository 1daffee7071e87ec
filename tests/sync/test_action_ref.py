"""action_ref.py: generated workflows name this action at the ref the sync job runs (a SHA
stays a SHA), keep the ref already on disk elsewhere, and fall back to the release tag;
with `jmo-schedule sync`, and with act running the action's sync mode at a SHA."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from act_helpers import PASSING_SCHEDULE, action_stubs, checkout_stub, copy_action
from conftest import tool

from jmo_schedule import cli
from jmo_schedule.sync.action_ref import choose, from_files, from_job, retarget
from jmo_schedule.core.loader import load_text
from jmo_schedule.generators.action_pins import PINS
from jmo_schedule.generators.github_actions import RELEASE_ACTION, OwnAction, render

SHA = "0123456789abcdef0123456789abcdef01234567"
NEW_SHA = "fedcba9876543210fedcba9876543210fedcba98"
SCHEDULES = PASSING_SCHEDULE + """\
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata: {name: pinned}
spec:
  schedule: "23 3 * * *"
  backend: {type: github-actions, config: {action: "acme/fork@main"}}
  jobTemplate:
    targets: {repo: .}
"""


def job_env(ref: str, repository: str = "jmo/schedule-action") -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "JMO_ACTION_REPOSITORY": repository, "JMO_ACTION_REF": ref}


def test_the_job_ref_a_sha_stays_a_sha_with_its_version() -> None:
    assert from_job(job_env(SHA)) == OwnAction(f"jmo/schedule-action@{SHA}", "v1.0.0")
    assert from_job(job_env("v1", "acme/schedule-fork")) == OwnAction(
        "acme/schedule-fork@v1", "zizmor: ignore[unpinned-uses] the ref the sync job runs this action at")


@pytest.mark.parametrize("env", [
    {}, job_env(""), {"JMO_ACTION_REF": SHA}, job_env("v1\nuses: evil/x@main"), job_env("v1", "not a repo"),
])
def test_no_usable_job_ref(env: dict[str, str]) -> None:
    assert from_job(env) is None


def test_the_ref_on_disk_is_read_from_the_guard_step() -> None:
    (schedule,) = [s for s in load_text(SCHEDULES, "schedules.yaml") if s.name == "nightly"]
    text = render(schedule, "schedules.yaml", OwnAction(f"jmo/schedule-action@{SHA}", "v1.0.0"))
    assert f"uses: jmo/schedule-action@{SHA}  # v1.0.0\n" in text
    assert from_files(["no guard here\n", text]) == OwnAction(f"jmo/schedule-action@{SHA}", "v1.0.0")
    assert from_files([render(schedule, "schedules.yaml")]) == RELEASE_ACTION


def test_choose_job_then_disk_then_release_tag() -> None:
    on_disk = [render(load_text(SCHEDULES, "s.yaml")[0], "s.yaml", OwnAction(f"jmo/schedule-action@{SHA}", "v1.0.0"))]
    disk = OwnAction(f"jmo/schedule-action@{SHA}", "v1.0.0")
    job = OwnAction(f"jmo/schedule-action@{NEW_SHA}", "v1.0.0")
    assert choose(job_env(NEW_SHA), on_disk) == (job, disk, None)
    assert choose({"GITHUB_ACTIONS": "true"}, on_disk) == (disk, disk, None)
    assert choose({}, []) == (RELEASE_ACTION, None, None)  # a local first sync: the release tag, quietly
    assert choose({"GITHUB_ACTIONS": "true"}, [], used=False) == (RELEASE_ACTION, None, None)
    action, current, note = choose({"GITHUB_ACTIONS": "true"}, [])
    assert (action, current) == (RELEASE_ACTION, None)
    assert note == ("generated workflows name jmo/schedule-action@v1.0.0, this release's tag: the action's own ref "
                    "is not known here (not run by the action, or used as ./); a repository that requires SHA-pinned "
                    "actions needs backend.config.action or a sync run by the action pinned to a SHA")


def test_retarget_moves_only_the_named_action() -> None:
    text = (f"        uses: jmo/schedule-action@{SHA}  # v1.0.0\n"
            f"        uses: {PINS['actions/checkout'].uses}  # v7.0.1\n")
    assert retarget(text, OwnAction(f"jmo/schedule-action@{SHA}", "v1.0.0"), RELEASE_ACTION) == (
        "        uses: jmo/schedule-action@v1.0.0  # zizmor: ignore[unpinned-uses] this tool's own release tag, "
        "updated by sync\n"
        f"        uses: {PINS['actions/checkout'].uses}  # v7.0.1\n")


# --- jmo-schedule sync ------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    monkeypatch.chdir(tmp_path)
    for var in ("JMO_ACTION_REPOSITORY", "JMO_ACTION_REF"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def guard_uses(repo: Path, name: str) -> str:
    text = (repo / ".github" / "workflows" / f"jmo-{name}.yml").read_text()
    return next(line.strip() for line in text.splitlines() if "uses: " in line and "schedule-action" in line
                or "uses: acme/fork" in line)


def test_sync_in_the_action_names_its_ref_and_local_runs_keep_it(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in job_env(SHA).items():
        monkeypatch.setenv(key, value)
    assert cli.main(["sync"]) == 0
    assert guard_uses(repo, "nightly") == f"uses: jmo/schedule-action@{SHA}  # v1.0.0"
    assert guard_uses(repo, "pinned") == "uses: acme/fork@main"  # backend.config.action still wins
    capsys.readouterr()
    # On a laptop, in the pre-commit hook and in the pull request's check: the ref on disk stays.
    for key in ("GITHUB_ACTIONS", "JMO_ACTION_REPOSITORY", "JMO_ACTION_REF"):
        monkeypatch.delenv(key)
    assert cli.main(["sync", "--check"]) == 0
    assert cli.main(["sync"]) == 0
    assert capsys.readouterr().out.endswith("0 created, 0 updated, 0 deleted, 2 unchanged\n")
    # The sync job moves to a new SHA: the files follow, and the reason says why.
    for key, value in job_env(NEW_SHA).items():
        monkeypatch.setenv(key, value)
    assert cli.main(["sync", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"would update .github/workflows/jmo-nightly.yml (this action's ref changed "
                          f"(jmo/schedule-action@{SHA} -> jmo/schedule-action@{NEW_SHA}, the ref this sync runs))\n")


def test_sync_in_the_action_without_a_ref_says_so(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["sync"]) == 0
    err = capsys.readouterr().err
    assert err == ("jmo-schedule: note: generated workflows name jmo/schedule-action@v1.0.0, this release's tag: the "
                   "action's own ref is not known here (not run by the action, or used as ./); a repository that "
                   "requires SHA-pinned actions needs backend.config.action or a sync run by the action pinned to a "
                   "SHA\n")
    assert guard_uses(repo, "nightly").startswith("uses: jmo/schedule-action@v1.0.0  # zizmor: ignore")


def test_zizmor_accepts_the_sha_pinned_workflow(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in job_env(SHA).items():
        monkeypatch.setenv(key, value)
    assert cli.main(["sync"]) == 0
    (repo / ".github" / "workflows" / "jmo-pinned.yml").unlink()  # its ref is the user's `@main`
    proc = subprocess.run([tool("zizmor"), "--offline", "--format", "json", "--min-severity", "medium",
                           str(repo / ".github" / "workflows")], capture_output=True, text=True)
    assert json.loads(proc.stdout or "[]") == [], proc.stdout


# --- act: the action's sync mode, called at a SHA --------------------------------------------

WORKFLOW = f"""\
name: sync at a sha
on: push
permissions: {{}}
jobs:
  sync:
    runs-on: ubuntu-latest
    permissions: {{contents: write, pull-requests: write}}
    steps:
      - uses: {PINS['actions/checkout'].uses} # {PINS['actions/checkout'].version}
        with:
          persist-credentials: false
      - uses: jmo/schedule-action@{SHA} # v1.0.0
        with:
          command: sync
          token: ${{{{ secrets.BOT_TOKEN }}}}
          prune: "false"
      - run: cp .github/workflows/jmo-nightly.yml "$JMO_TEST_EXPORT/"
"""



@pytest.mark.slow
def test_act_sync_at_a_sha_writes_that_sha(tmp_path: Path) -> None:
    repo, stubs, export = tmp_path / "repo", tmp_path / "stubs", tmp_path / "export"
    (repo / ".github" / "workflows").mkdir(parents=True)
    export.mkdir()
    (repo / "schedules.yaml").write_text(SCHEDULES)
    (repo / ".github" / "workflows" / "sync.yml").write_text(WORKFLOW)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    local = {PINS["actions/checkout"].uses: checkout_stub(stubs),
             f"jmo/schedule-action@{SHA}": copy_action(stubs / "own"), **action_stubs(stubs / "action")}
    cmd = [tool("act"), "push", "-W", ".github/workflows/sync.yml", "-P", "ubuntu-latest=-self-hosted",
           "--no-cache-server", "--env", f"JMO_TEST_EXPORT={export}", "--env", f"JMO_TEST_UV={tool('uv')}",
           "-s", "GITHUB_TOKEN=ghs_x", "-s", "BOT_TOKEN=ghp_bot"]
    for ref, path in local.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent)
    proc = subprocess.run(cmd, cwd=repo, env={**os.environ, "HOME": str(tmp_path / "home"), "PATH": path},
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    (tmp_path / "act.log").write_text(log)
    assert proc.returncode == 0, log[-4000:]
    # The create-pull-request stand-in saw the working tree the sync left.
    calls = [json.loads(line) for line in (export / "cpr.jsonl").read_text().splitlines()]
    assert "?? .github/workflows/jmo-nightly.yml" in calls[0]["status"]
    text = (export / "jmo-nightly.yml").read_text()
    assert f"        uses: jmo/schedule-action@{SHA}  # v1.0.0\n" in text
    steps = yaml.safe_load(text)["jobs"]["scan"]["steps"]
    assert {s["uses"] for s in steps if "schedule-action" in str(s.get("uses"))} == {f"jmo/schedule-action@{SHA}"}
