"""`jmo-schedule trigger`: one run now on each backend. local-cron with the stub scanner,
GitHub and GitLab against local servers on 127.0.0.1 that answer like their documented
dispatch and play endpoints (refusals included), Kubernetes as printed (and, with a stand-in
kubectl on PATH, applied) commands."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import STUB_SCANNER_DIR
from fakes.github import FakeGitHub
from fakes.gitlab import FakeGitLab

from jmo_schedule.local import history as run_history
from jmo_schedule import trigger
from jmo_schedule.cli import main
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec

GH_TOKEN = "ghs_SECRET-github-token-do-not-print"
GL_TOKEN = "glpat-SECRET-gitlab-token-do-not-print"
REPO = "acme/app"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

FILE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 2 * * *"
  backend: {type: github-actions}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: paused
spec:
  schedule: "0 3 * * *"
  suspend: true
  backend: {type: github-actions}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: gl-nightly
spec:
  schedule: "0 1 * * *"
  backend: {type: gitlab-ci}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: cluster-scan
spec:
  schedule: "0 4 * * *"
  backend:
    type: kubernetes
    config: {namespace: security}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: cluster-paused
spec:
  schedule: "0 4 * * *"
  suspend: true
  backend: {type: kubernetes}
"""


@pytest.fixture
def schedules_file(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    return path


def out_err(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    assert GH_TOKEN not in captured.out + captured.err and GL_TOKEN not in captured.out + captured.err
    return captured.out, captured.err


# ------------------------------------------------------------------------------------
# local-cron


def test_local_trigger_runs_now_and_history_says_manual(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("JMO_STUB_LOG", str(tmp_path / "stub.log"))
    path = tmp_path / "local.yaml"
    path.write_text("apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata:\n  name: here\n"
                    "spec:\n  schedule: '0 2 * * 1'\n  backend: {type: local-cron}\n  jobTemplate:\n"
                    f"    targets: {{repo: {tmp_path}}}\n    results: {{dir: {tmp_path / 'results'}}}\n")
    assert main(["apply", "-f", str(path)]) == 0
    capsys.readouterr()
    assert main(["trigger", "here", "--scanner", str(STUB_SCANNER_DIR / "jmo")]) == 0
    out, _ = out_err(capsys)
    assert re.fullmatch(rf"here: Succeeded: scan and report passed in \d+s; results {tmp_path}/results/here/\d{{8}}T\d{{6}}Z\n",
                        out), out
    assert [json.loads(line)[0] for line in (tmp_path / "stub.log").read_text().splitlines()] == ["scan", "report"]
    assert main(["history", "here"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[1:4] == ["manual", lines[1].split()[2], "Succeeded"]
    assert run_history.read("here")["runs"][0]["trigger"] == "manual"


# ------------------------------------------------------------------------------------
# GitHub Actions: workflow dispatch


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(REPO, GH_TOKEN).start()
    fake.add_workflow("jmo-nightly.yml")
    fake.add_workflow("jmo-paused.yml")
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    yield fake
    fake.stop()


def test_github_dispatches_on_the_default_branch(github: FakeGitHub, schedules_file: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    github.default_branch = "trunk"
    github.refs = {"trunk"}
    assert main(["trigger", "nightly", "-f", str(schedules_file)]) == 0
    out, _ = out_err(capsys)
    assert out == ("nightly: dispatched .github/workflows/jmo-nightly.yml on trunk: "
                   "https://github.com/acme/app/actions/runs/101\n")
    assert [(r["method"], r["path"]) for r in github.requests] == [
        ("GET", "/repos/acme/app"), ("POST", "/repos/acme/app/actions/workflows/jmo-nightly.yml/dispatches")]
    assert github.dispatches() == [{"ref": "trunk", "return_run_details": True}]
    post = github.requests[1]["headers"]
    assert (post["Authorization"], post["Accept"], post["X-GitHub-Api-Version"]) == (
        f"Bearer {GH_TOKEN}", "application/vnd.github+json", "2022-11-28")
    assert github.runs[101]["event"] == "workflow_dispatch"


def test_github_ref_option_and_gh_token(github: FakeGitHub, schedules_file: Path,
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GH_TOKEN", GH_TOKEN)
    github.refs.add("release/1.x")
    github.run_details = False  # a server from before return_run_details: 204 No Content
    assert main(["trigger", "nightly", "-f", str(schedules_file), "--ref", "release/1.x"]) == 0
    out, _ = out_err(capsys)
    assert out == "nightly: dispatched .github/workflows/jmo-nightly.yml on release/1.x: see the Actions tab of acme/app\n"
    assert [r["method"] for r in github.requests] == ["POST"]  # no need for the default branch


def test_github_suspended_schedule_dispatches_nothing(github: FakeGitHub, schedules_file: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "paused", "-f", str(schedules_file)]) == 0
    assert out_err(capsys)[0] == ("paused: skipped: schedule is suspended (spec.suspend: true); nothing was started "
                                  "(jmo-schedule resume paused first)\n")
    assert github.requests == []


@pytest.mark.parametrize("setup, args, message", [
    (lambda g, m: setattr(g, "can_write", False), [],
     "GitHub API: dispatch jmo-nightly.yml on main: HTTP 403 (Resource not accessible by integration); the token in "
     "$GITHUB_TOKEN cannot start workflows: it needs actions: write (a workflow's GITHUB_TOKEN: `permissions: actions: "
     "write`; a fine-grained token: Actions: Read and write; a classic token: the repo scope)"),
    (lambda g, m: m.setenv("GITHUB_TOKEN", "ghs_expired"), [],
     "GitHub API: read repository acme/app: HTTP 401 (Bad credentials); the token in $GITHUB_TOKEN is missing, "
     "expired or revoked"),
    (lambda g, m: g.workflows.pop("jmo-nightly.yml"), [],
     "GitHub API: dispatch jmo-nightly.yml on main: HTTP 404 (Not Found); GitHub has no workflow "
     ".github/workflows/jmo-nightly.yml on the default branch of acme/app (merge the sync pull request that adds "
     "it), or the token in $GITHUB_TOKEN cannot see the repository"),
    (lambda g, m: g.add_workflow("jmo-nightly.yml", dispatchable=False), [],
     "GitHub API: dispatch jmo-nightly.yml on main: HTTP 422 (Workflow does not have 'workflow_dispatch' trigger); "
     "the workflow file on that ref has no workflow_dispatch trigger: regenerate it with jmo-schedule sync and merge "
     "the change"),
    (lambda g, m: None, ["--ref", "no-such-branch"],
     "GitHub API: dispatch jmo-nightly.yml on no-such-branch: HTTP 422 (No ref found for: no-such-branch); "
     "no-such-branch is neither a branch nor a tag of acme/app; pass --ref BRANCH"),
    (lambda g, m: m.setenv("GITHUB_REPOSITORY", "acme/other"), [],
     "GitHub API: read repository acme/other: HTTP 404 (Not Found); no repository acme/other, or the token in "
     "$GITHUB_TOKEN cannot see it"),
    (lambda g, m: m.delenv("GITHUB_TOKEN"), [],
     "no GitHub token in $GITHUB_TOKEN (or $GH_TOKEN): set it to a token with actions: write on the repository"),
    (lambda g, m: None, ["--token-variable", "BOT_TOKEN"],
     "no GitHub token in $BOT_TOKEN: set it to a token with actions: write on the repository"),
    (lambda g, m: m.delenv("GITHUB_REPOSITORY"), [],
     "no GitHub repository: pass --repository OWNER/NAME or run inside GitHub Actions ($GITHUB_REPOSITORY)"),
])
def test_github_refusals_are_one_line_naming_the_token_variable(github: FakeGitHub, schedules_file: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str],
                                                               setup, args, message) -> None:  # type: ignore[no-untyped-def]
    setup(github, monkeypatch)
    assert main(["trigger", "nightly", "-f", str(schedules_file), *args]) == 1
    out, err = out_err(capsys)
    assert (out, err) == ("", f"jmo-schedule: error: {message}\n")


def test_github_rate_limit(github: FakeGitHub, schedules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def limited(path: str, body: object) -> tuple[int, object, dict[str, str]]:
        return 403, {"message": "API rate limit exceeded for installation ID 1."}, {"X-RateLimit-Remaining": "0"}

    github.post = limited  # type: ignore[method-assign]
    assert main(["trigger", "nightly", "-f", str(schedules_file), "--ref", "main"]) == 1
    assert out_err(capsys)[1] == ("jmo-schedule: error: GitHub API: dispatch jmo-nightly.yml on main: HTTP 403 (API "
                                  "rate limit exceeded for installation ID 1.); the API rate limit is used up; try "
                                  "again later\n")


# ------------------------------------------------------------------------------------
# GitLab CI: play the pipeline schedule


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    fake = FakeGitLab(token=GL_TOKEN).start()
    fake.add("someone else's schedule", ref="main")
    fake.add("jmo-schedule: gl-nightly (nightly scan)", ref="develop")
    monkeypatch.setenv("CI_API_V4_URL", fake.url)
    monkeypatch.setenv("CI_PROJECT_ID", fake.project)
    monkeypatch.setenv("JMO_GITLAB_TOKEN", GL_TOKEN)
    yield fake
    fake.stop()


def test_gitlab_plays_the_schedule_then_meets_the_rate_limit(gitlab: FakeGitLab, schedules_file: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "gl-nightly", "-f", str(schedules_file)]) == 0
    assert out_err(capsys)[0] == "gl-nightly: played pipeline schedule 2 on develop: GitLab starts its pipeline now\n"
    assert gitlab.writes() == [("POST", "/api/v4/projects/42/pipeline_schedules/2/play", {})]
    assert [p["schedule"] for p in gitlab.pipelines.values()] == [2]
    assert main(["trigger", "gl-nightly", "-f", str(schedules_file)]) == 1
    assert out_err(capsys)[1] == (
        "jmo-schedule: error: GitLab API: play pipeline schedule 2: HTTP 429 (This endpoint has been requested too many "
        "times. Try again later.); GitLab allows one play of a schedule per user a minute; try again in 60 seconds\n")


@pytest.mark.parametrize("setup, message", [
    (lambda g, m: setattr(g, "role", "reporter"),
     "GitLab API: play pipeline schedule 2: HTTP 403 (403 Forbidden); the token in $JMO_GITLAB_TOKEN needs the api "
     "scope, and its user at least the Developer role and the right to run pipelines on the schedule's ref (on a "
     "protected branch: push or merge rights)"),
    (lambda g, m: setattr(g, "scopes", {"read_api"}),
     "GitLab API: play pipeline schedule 2: HTTP 403 (insufficient_scope); the token in $JMO_GITLAB_TOKEN needs the "
     "api scope, and its user at least the Developer role and the right to run pipelines on the schedule's ref (on a "
     "protected branch: push or merge rights)"),
    (lambda g, m: m.setenv("JMO_GITLAB_TOKEN", "glpat-revoked"),
     "GitLab API: list pipeline schedules: HTTP 401 (401 Unauthorized); the token in $JMO_GITLAB_TOKEN is missing, "
     "expired or revoked"),
    (lambda g, m: m.setenv("CI_PROJECT_ID", "7"),
     "GitLab API: list pipeline schedules: HTTP 404 (404 Project Not Found); no such project or schedule, or the "
     "token in $JMO_GITLAB_TOKEN cannot see it"),
    (lambda g, m: g.schedules.pop(2),
     "the GitLab project has no pipeline schedule 'jmo-schedule: gl-nightly' yet: the sync job creates it "
     "(jmo-schedule gitlab-schedules)"),
    (lambda g, m: m.delenv("JMO_GITLAB_TOKEN"),
     "no GitLab token in $JMO_GITLAB_TOKEN: set it to a token with the api scope whose user has at least the "
     "Developer role in the project"),
])
def test_gitlab_refusals_are_one_line_naming_the_token_variable(gitlab: FakeGitLab, schedules_file: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str],
                                                               setup, message) -> None:  # type: ignore[no-untyped-def]
    setup(gitlab, monkeypatch)
    assert main(["trigger", "gl-nightly", "-f", str(schedules_file)]) == 1
    assert out_err(capsys) == ("", f"jmo-schedule: error: {message}\n")
    assert gitlab.pipelines == {}


# ------------------------------------------------------------------------------------
# Kubernetes: kubectl create job --from=cronjob/...


def test_kubernetes_command_names_the_generated_cronjob() -> None:
    def schedule(name: str, config: dict[str, str]) -> ScanSchedule:
        return ScanSchedule(metadata=ScheduleMetadata(name=name),
                            spec=ScheduleSpec(schedule="0 4 * * *", backend=BackendConfig(type="kubernetes", config=config),
                                              jobTemplate=JobTemplateSpec(targets={"repo": "."})))

    assert trigger.kubernetes_command(schedule("cluster-scan", {"namespace": "security"}), NOW) == [
        "kubectl", "create", "job", "jmo-cluster-scan-manual-1795608000", "--from=cronjob/jmo-cluster-scan",
        "--namespace", "security"]
    # A Job's name is a label value too: at most 63 characters, never ending in '-'.
    long = "a" * 40 + "-" + "b" * 22
    argv = trigger.kubernetes_command(schedule(long, {}), NOW)
    assert argv[3] == "jmo-" + "a" * 40 + "-manual-1795608000" and len(argv[3]) == 62
    assert argv[4:] == [f"--from=cronjob/jmo-{long}"]


def test_kubernetes_prints_the_command(schedules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "cluster-scan", "-f", str(schedules_file)]) == 0
    out = out_err(capsys)[0]
    assert re.fullmatch(r"kubectl create job jmo-cluster-scan-manual-\d{10} --from=cronjob/jmo-cluster-scan "
                        r"--namespace security\n", out), out
    assert main(["trigger", "cluster-paused", "-f", str(schedules_file)]) == 0
    assert out_err(capsys)[0].startswith("cluster-paused: skipped: schedule is suspended")


def test_name_is_found_in_schedules_yaml_then_the_store(schedules_file: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(schedules_file.parent)  # ./schedules.yaml, as in a checkout
    assert main(["trigger", "cluster-scan"]) == 0
    assert out_err(capsys)[0].startswith("kubectl create job jmo-cluster-scan-manual-")
    assert main(["trigger", "missing"]) == 1
    assert out_err(capsys)[1] == "jmo-schedule: error: schedule 'missing' not found in ./schedules.yaml or the local store\n"


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kubectl that records its argv and answers like kubectl create job."""
    log = tmp_path / "kubectl.log"
    script = tmp_path / "bin" / "kubectl"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\necho \"$*\" >> {log}\n"
                      "if [ -n \"$KUBECTL_FAIL\" ]; then\n"
                      "  echo 'error: failed to create job: jobs.batch is forbidden: User \"dev\" cannot create "
                      "resource \"jobs\" in API group \"batch\" in the namespace \"security\"' >&2; exit 1\nfi\n"
                      "echo \"job.batch/$3 created\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:{os.environ['PATH']}")
    return log


def test_kubernetes_apply_runs_kubectl(kubectl: Path, schedules_file: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "cluster-scan", "-f", str(schedules_file), "--apply"]) == 0
    out = out_err(capsys)[0]
    (call,) = kubectl.read_text().splitlines()
    job = call.split()[2]
    assert call == f"create job {job} --from=cronjob/jmo-cluster-scan --namespace security"
    assert out == f"cluster-scan: job.batch/{job} created\n"
    monkeypatch.setenv("KUBECTL_FAIL", "1")
    assert main(["trigger", "cluster-scan", "-f", str(schedules_file), "--apply"]) == 1
    err = out_err(capsys)[1]
    assert re.fullmatch(r"jmo-schedule: error: kubectl create job jmo-cluster-scan-manual-\d+ "
                        r"--from=cronjob/jmo-cluster-scan --namespace security failed: error: failed to create job: "
                        r"jobs\.batch is forbidden: User \"dev\" cannot create resource \"jobs\" in API group \"batch\" "
                        r"in the namespace \"security\"\n", err), err


def test_gitlab_refuses_a_play_its_guard_would_skip_as_too_late(gitlab: FakeGitLab, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """GitLab runs a played schedule's pipeline as a scheduled one: outside the deadline
    window after a fire time the guard would skip it, so nothing is played and the error
    says why; inside the window the play goes ahead."""
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE.replace('schedule: "0 1 * * *"\n  backend: {type: gitlab-ci}',
                                      'schedule: "0 1 * * *"\n  startingDeadlineSeconds: 3600\n'
                                      '  backend: {type: gitlab-ci}'))
    assert main(["trigger", "gl-nightly", "-f", str(path), "--now", "2026-11-02T14:00:00Z"]) == 1
    assert out_err(capsys)[1] == (
        "jmo-schedule: error: gl-nightly: not played: GitLab starts a played schedule's pipeline as a scheduled one, "
        "and its guard skips a run that starts more than startingDeadlineSeconds (3600) after its fire time (the "
        "last: 2026-11-02T01:00:00Z (01:00 UTC)); play it within that window after a fire time, or raise "
        "startingDeadlineSeconds\n")
    assert gitlab.writes() == []
    assert main(["trigger", "gl-nightly", "-f", str(path), "--now", "2026-11-02T01:40:00Z"]) == 0
    assert gitlab.writes() == [("POST", "/api/v4/projects/42/pipeline_schedules/2/play", {})]
