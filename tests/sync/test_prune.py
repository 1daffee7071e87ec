"""History limits on GitHub and GitLab (`jmo-schedule prune`): the pure plan, and the CLI
against local servers on 127.0.0.1 that answer like GitHub's workflow-runs REST API and
GitLab's pipeline schedules / pipelines API, as their documentation describes them; plus
the action's and the component's prune steps, run from their own YAML."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from conftest import ROOT
from fakes.github import FakeGitHub
from fakes.gitlab import FakeGitLab

from jmo_schedule.errors import GitHubError
from jmo_schedule.platforms.github import GitHub
from jmo_schedule.platforms.gitlab import GitLab
from jmo_schedule.sync import prune
from jmo_schedule.cli import main
from jmo_schedule.sync.prune import FAILED, SUCCEEDED, Run

GH_TOKEN = "ghs_SECRET-github-token-do-not-print"
GL_TOKEN = "glpat-SECRET-gitlab-token-do-not-print"
REPO = "acme/app"

FILE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 2 * * *"
  successfulJobsHistoryLimit: 2
  failedJobsHistoryLimit: 1
  backend: {type: github-actions}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly
spec:
  schedule: "0 3 * * 1"
  backend: {type: github-actions}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: cluster-scan
spec:
  schedule: "0 4 * * *"
  backend: {type: kubernetes}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: gl-nightly
spec:
  schedule: "0 1 * * *"
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 1
  backend: {type: gitlab-ci}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: gl-new
spec:
  schedule: "0 5 * * *"
  backend: {type: gitlab-ci}
"""


def run(num: int, kind: str | None, state: str = "x") -> Run:
    return Run(str(num), f"2026-11-{num:02d}T02:00:00Z", state, kind)


# ------------------------------------------------------------------------------------
# The pure part


def test_plan_keeps_the_newest_of_each_kind_and_deletes_the_rest() -> None:
    runs = [run(9, SUCCEEDED), run(8, FAILED), run(7, None), run(6, SUCCEEDED), run(5, SUCCEEDED),
            run(4, FAILED), run(3, FAILED), run(2, SUCCEEDED), run(1, None)]
    p = prune.plan("nightly", runs, 2, 1)
    assert [r.id for r in p.keep] == ["9", "8", "6"]
    assert [r.id for r in p.delete] == ["5", "4", "3", "2"]
    assert [r.id for r in p.untouched] == ["7", "1"]


def test_plan_limit_zero_deletes_every_finished_run_of_that_kind_and_never_an_unfinished_one() -> None:
    runs = [run(3, None), run(2, SUCCEEDED), run(1, FAILED)]
    p = prune.plan("x", runs, 0, 0)
    assert ([r.id for r in p.delete], [r.id for r in p.untouched], p.keep) == (["2", "1"], ["3"], ())


def test_plan_counts_a_run_listed_twice_once() -> None:
    # A new run shifts the pages while they are read: the same run may come twice.
    runs = [run(5, SUCCEEDED), run(4, SUCCEEDED), run(4, SUCCEEDED), run(3, SUCCEEDED)]
    p = prune.plan("x", runs, 2, 2)
    assert [r.id for r in p.keep] == ["5", "4"] and [r.id for r in p.delete] == ["3"]


def test_plan_within_limits_deletes_nothing() -> None:
    runs = [run(n, SUCCEEDED) for n in range(30, 0, -1)] + [run(n, FAILED) for n in range(50, 40, -1)]
    assert prune.plan("x", prune.newest_first(runs), 30, 10).delete == ()


@pytest.mark.parametrize("status, conclusion, kind", [
    ("completed", "success", SUCCEEDED), ("completed", "neutral", SUCCEEDED), ("completed", "skipped", SUCCEEDED),
    ("completed", "failure", FAILED), ("completed", "timed_out", FAILED), ("completed", "startup_failure", FAILED),
    ("completed", "cancelled", FAILED),
    ("completed", "action_required", None), ("completed", "stale", None), ("completed", None, None),
    ("in_progress", None, None), ("queued", None, None), ("waiting", None, None), ("requested", None, None),
    ("pending", None, None), ("in_progress", "cancelled", None),  # being cancelled: still running
])
def test_github_kind(status: str, conclusion: str | None, kind: str | None) -> None:
    assert prune.github_kind(status, conclusion) == kind


@pytest.mark.parametrize("status, kind", [
    ("success", SUCCEEDED), ("skipped", SUCCEEDED), ("failed", FAILED), ("canceled", FAILED),
    ("created", None), ("waiting_for_resource", None), ("preparing", None), ("pending", None), ("running", None),
    ("canceling", None), ("manual", None), ("scheduled", None), (None, None),
])
def test_gitlab_kind(status: str | None, kind: str | None) -> None:
    assert prune.gitlab_kind(status) == kind


def test_runs_from_api_items_and_newest_first() -> None:
    gh = prune.github_run({"id": 7, "status": "in_progress", "conclusion": None, "created_at": "2026-11-20T02:03:11Z"})
    assert gh == Run("7", "2026-11-20T02:03:11Z", "in_progress", None)
    gl = prune.gitlab_run({"id": 12, "status": "failed", "created_at": "2026-11-20T02:03:11.085Z"})
    assert gl == Run("12", "2026-11-20T02:03:11.085Z", "failed", FAILED)
    assert [r.id for r in prune.newest_first([run(2, None), run(10, None), run(9, None)])] == ["10", "9", "2"]


@pytest.mark.parametrize("text, shown", [
    ("2026-11-20T02:03:11Z", "2026-11-20T02:03:11Z"),
    ("2026-11-20T02:03:11.085Z", "2026-11-20T02:03:11Z"),
    ("2026-11-20T03:03:11+01:00", "2026-11-20T02:03:11Z"),
    ("", "no date"),
    ("yesterday\n::error::x", "yesterday ::error::x"),
])
def test_dates_are_shown_in_utc_on_one_line(text: str, shown: str) -> None:
    assert prune._when(text) == shown


def test_pick_backend() -> None:
    from jmo_schedule.core.loader import load_text

    schedules = load_text(FILE, "s.yaml")
    github_only = [s for s in schedules if s.spec.backend.type != "gitlab-ci"]
    assert prune.pick_backend("gitlab-ci", {"GITHUB_ACTIONS": "true"}, schedules) == "gitlab-ci"
    assert prune.pick_backend(None, {"GITHUB_ACTIONS": "true"}, []) == "github-actions"
    assert prune.pick_backend(None, {"GITLAB_CI": "true"}, []) == "gitlab-ci"
    assert prune.pick_backend(None, {}, github_only) == "github-actions"
    with pytest.raises(prune.JmoError) as exc:
        prune.pick_backend(None, {}, schedules)
    assert str(exc.value) == ("pass --backend github-actions or --backend gitlab-ci "
                              "(not inside GitHub Actions or GitLab CI, and the file does not say which)")


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(REPO, GH_TOKEN).start()
    # nightly: keep 2 successes and 1 failure.
    for run_id, conclusion in [(101, "success"), (102, "timed_out"), (103, "action_required"), (104, "skipped"),
                               (105, "success"), (106, "cancelled"), (107, "success"), (108, "failure"),
                               (109, "success")]:
        fake.add("jmo-nightly.yml", run_id, conclusion)
    fake.add("jmo-nightly.yml", 110, None, status="in_progress")
    fake.add("ci.yml", 111, "failure")  # another workflow: never looked at
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    yield fake
    fake.stop()


@pytest.fixture
def schedules_file(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    return path


NIGHTLY_DELETES = [
    "deleted run 106 of nightly (2026-11-06T02:00:05Z, cancelled)",
    "deleted run 105 of nightly (2026-11-05T02:00:05Z, success)",
    "deleted run 104 of nightly (2026-11-04T02:00:05Z, skipped)",
    "deleted run 102 of nightly (2026-11-02T02:00:05Z, timed_out)",
    "deleted run 101 of nightly (2026-11-01T02:00:05Z, success)",
]
WEEKLY_MISSING = ("weekly: GitHub has no workflow .github/workflows/jmo-weekly.yml yet "
                  "(the sync pull request adds it); nothing to prune")


def test_github_prune_deletes_old_runs_then_nothing(github: FakeGitHub, schedules_file: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == NIGHTLY_DELETES + [
        WEEKLY_MISSING,
        "prune: 5 runs deleted, 3 kept, 1 left alone (2 schedules, 1 not set up yet)",
    ]
    assert err == ""
    assert sorted(github.runs) == [103, 107, 108, 109, 110, 111]  # in progress and the other workflow untouched
    assert github.deletes() == ["106", "105", "104", "102", "101"]
    # The documented request: headers, the status filter, 100 per page, then the Link URLs.
    lists = [r for r in github.requests if r["method"] == "GET" and "jmo-nightly" in r["path"]]
    assert lists[0]["query"] == {"status": "completed", "per_page": "100", "exclude_pull_requests": "true"}
    assert [r["query"].get("page") for r in lists] == [None, "2", "3", "4", "5"]  # 9 completed runs, 2 a page
    for r in github.requests:
        assert r["headers"]["Accept"] == "application/vnd.github+json"
        assert r["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
        assert r["headers"]["Authorization"] == f"Bearer {GH_TOKEN}"
    # Idempotent: a second prune deletes nothing.
    github.requests.clear()
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        WEEKLY_MISSING, "prune: 0 runs deleted, 3 kept, 1 left alone (2 schedules, 1 not set up yet)"]
    assert github.deletes() == []


def test_github_dry_run_deletes_nothing(github: FakeGitHub, schedules_file: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:5] == [line.replace("deleted", "would delete", 1) for line in NIGHTLY_DELETES]
    assert lines[-1] == "prune (dry run): 5 runs would be deleted, 3 kept, 1 left alone (2 schedules, 1 not set up yet)"
    assert github.deletes() == [] and len(github.runs) == 11


def test_github_unfinished_runs_are_left_alone_even_when_listed(github: FakeGitHub, schedules_file: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # A server that ignores the status filter (or a run that started while listing).
    github.honor_status_filter = False
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "prune: 5 runs deleted, 3 kept, 2 left alone (2 schedules, 1 not set up yet)")
    assert 110 in github.runs


def test_github_without_actions_write_stops_with_one_line(github: FakeGitHub, schedules_file: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    github.can_write = False
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "jmo-schedule: error: GitHub API: delete run 106 of nightly: HTTP 403 (Resource not accessible by "
        "integration); deleting runs needs actions: write: add `permissions: actions: write` to the sync job "
        "(GITHUB_TOKEN), or give the GitHub App / fine-grained PAT Actions: read and write (a classic PAT needs "
        "the repo scope)\n")
    assert len(github.runs) == 11


def test_github_warn_on_error_inside_actions_is_a_warning_annotation(
        github: FakeGitHub, schedules_file: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    github.can_write = False
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["prune", "-f", str(schedules_file), "--warn-on-error"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("::warning title=jmo-schedule prune::GitHub API: delete run 106 of nightly: HTTP 403 "
                          "(Resource not accessible by integration); deleting runs needs actions: write")
    assert out.count("\n") == 1 and err == ""


def test_github_bad_token(github: FakeGitHub, schedules_file: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong_token")
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions"]) == 1
    err = capsys.readouterr().err
    assert err == ("jmo-schedule: error: GitHub API: list runs of jmo-nightly.yml: HTTP 401 (Bad credentials); "
                   "the token in $GITHUB_TOKEN is missing, expired or revoked\n")
    assert "ghs_wrong_token" not in err


def test_github_403_on_list_and_rate_limit(github: FakeGitHub) -> None:
    client = GitHub(github.url, REPO, GH_TOKEN)

    def forbid(method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        return 403, {"message": "Resource not accessible by integration"}, {}

    github.route = forbid  # type: ignore[method-assign]
    with pytest.raises(GitHubError) as exc:
        prune.list_runs(client, "jmo-nightly.yml")
    assert str(exc.value) == ("GitHub API: list runs of jmo-nightly.yml: HTTP 403 (Resource not accessible by "
                              "integration); the token cannot read this repository's Actions runs (it needs "
                              "actions: read)")

    def limited(method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        return 403, {"message": "API rate limit exceeded for installation ID 1."}, {"X-RateLimit-Remaining": "0"}

    github.route = limited  # type: ignore[method-assign]
    with pytest.raises(GitHubError) as exc:
        prune.list_runs(client, "jmo-nightly.yml")
    assert str(exc.value) == ("GitHub API: list runs of jmo-nightly.yml: HTTP 403 (API rate limit exceeded for "
                              "installation ID 1.); the API rate limit is used up; the next sync tries again")


def test_github_delete_of_a_run_already_gone(github: FakeGitHub) -> None:
    client = GitHub(github.url, REPO, GH_TOKEN)
    assert client.delete_run("101", "delete run 101 of nightly") is True
    assert client.delete_run("101", "delete run 101 of nightly") is False


def test_github_never_follows_a_next_page_to_another_host(github: FakeGitHub) -> None:
    def elsewhere(method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        return 200, {"total_count": 3, "workflow_runs": []}, {"Link": '<https://evil.example/x?page=2>; rel="next"'}

    github.route = elsewhere  # type: ignore[method-assign]
    with pytest.raises(GitHubError) as exc:
        prune.list_runs(GitHub(github.url, REPO, GH_TOKEN), "jmo-nightly.yml")
    assert str(exc.value) == "GitHub API: list runs of jmo-nightly.yml: the next page is on another host (evil.example)"


def test_github_unreachable(schedules_file: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions",
                 "--api-url", "http://127.0.0.1:9"]) == 1
    assert capsys.readouterr().err == ("jmo-schedule: error: GitHub API: list runs of jmo-nightly.yml: "
                                       "ConnectionError: cannot reach 127.0.0.1:9\n")


@pytest.mark.parametrize("argv, env, message", [
    ([], {}, "no GitHub token in $GITHUB_TOKEN: set it to a token with actions: write "
             "(or name another variable with --token-env)"),
    (["--token-env", "BOT"], {"BOT": GH_TOKEN}, "no GitHub repository: pass --repository OWNER/NAME or run inside "
                                                 "GitHub Actions ($GITHUB_REPOSITORY)"),
    (["--token-env", "1BAD"], {}, "--token-env '1BAD' is not an environment variable name"),
])
def test_github_setup_errors(schedules_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                             argv: list[str], env: dict[str, str], message: str) -> None:
    for var in ("GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["prune", "-f", str(schedules_file), "--backend", "github-actions", *argv]) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {message}\n"


def test_no_schedules_of_that_backend_needs_no_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FILE.split("---\n")[2])  # only the kubernetes one
    assert main(["prune", "-f", str(path), "--backend", "github-actions"]) == 0
    assert capsys.readouterr().out == f"prune: no github-actions schedules in {path}; nothing to prune\n"


def test_invalid_schedules_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FILE.replace('"0 2 * * *"', '"0 2 * * 8"'))
    assert main(["prune", "-f", str(path), "--backend", "github-actions"]) == 1
    assert capsys.readouterr().err == f"{path}:6:22: spec.schedule: day of week 8 is outside 0-7\n"


# ------------------------------------------------------------------------------------
# A local GitLab (fakes/gitlab.py): pipeline schedules and the pipelines they started


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    fake = FakeGitLab(token=GL_TOKEN).start()
    ours = fake.add("jmo-schedule: gl-nightly", variables={"JMO_SCHEDULE": "gl-nightly"})
    theirs = fake.add("Nightly build (someone else's)", owner="alice")
    for pid, status in [(501, "success"), (502, "failed"), (503, "canceled"), (504, "skipped"), (505, "success"),
                        (506, "manual"), (507, "running")]:
        fake.add_pipeline(ours, pid, status)
    fake.add_pipeline(theirs, 508, "success")
    monkeypatch.setenv("CI_API_V4_URL", fake.url)
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("JMO_GITLAB_TOKEN", GL_TOKEN)
    yield fake
    fake.stop()


GL_NEW_MISSING = ("gl-new: the project has no pipeline schedule 'jmo-schedule: gl-new' yet "
                  "(gitlab-schedules creates it); nothing to prune")


def test_gitlab_prune_deletes_old_pipelines_then_nothing(gitlab: FakeGitLab, schedules_file: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "deleted pipeline 504 of gl-nightly (2026-11-04T01:00:04Z, skipped)",
        "deleted pipeline 502 of gl-nightly (2026-11-02T01:00:04Z, failed)",
        "deleted pipeline 501 of gl-nightly (2026-11-01T01:00:04Z, success)",
        GL_NEW_MISSING,
        "prune: 3 pipelines deleted, 2 kept, 2 left alone (2 schedules, 1 not set up yet)",
    ]
    assert err == ""
    assert sorted(gitlab.pipelines) == [503, 505, 506, 507, 508]
    assert gitlab.deletes() == ["504", "502", "501"]
    pages = [q.get("page") for method, path, q in gitlab.requests if path.endswith("/pipelines")]
    assert pages == ["1", "2", "3", "4"]  # 7 pipelines, 2 a page
    gitlab.requests.clear()
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        GL_NEW_MISSING, "prune: 0 pipelines deleted, 2 kept, 2 left alone (2 schedules, 1 not set up yet)"]
    assert gitlab.writes() == []


def test_gitlab_dry_run(gitlab: FakeGitLab, schedules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "would delete pipeline 504 of gl-nightly (2026-11-04T01:00:04Z, skipped)"
    assert lines[-1] == "prune (dry run): 3 pipelines would be deleted, 2 kept, 2 left alone (2 schedules, 1 not set up yet)"
    assert gitlab.writes() == [] and len(gitlab.pipelines) == 8


def test_gitlab_maintainer_token_gets_a_clear_403(gitlab: FakeGitLab, schedules_file: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    gitlab.role = "maintainer"
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci"]) == 1
    out, err = capsys.readouterr()
    assert err == ("jmo-schedule: error: GitLab API: delete pipeline 504 of gl-nightly: HTTP 403 (403 Forbidden); only a project "
                   "Owner may delete pipelines: give the project access token in $JMO_GITLAB_TOKEN the Owner role "
                   "(and the api scope), or turn pruning off (component input prune: false, the default)\n")
    assert GL_TOKEN not in out + err


def test_gitlab_warn_on_error_outside_github_goes_to_stderr(gitlab: FakeGitLab, schedules_file: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    gitlab.role = "maintainer"
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci", "--warn-on-error"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("jmo-schedule: warning: GitLab API: delete pipeline 504 of gl-nightly: HTTP 403 (403 Forbidden); only a "
                          "project Owner may delete pipelines")


def test_gitlab_token_variable_and_missing_token(gitlab: FakeGitLab, schedules_file: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JMO_GITLAB_TOKEN")
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: no GitLab token in $JMO_GITLAB_TOKEN: set it as a masked CI/CD variable holding a "
        "project access token with the api scope and the Owner role (or name another variable with --token-env)\n")
    monkeypatch.setenv("PRUNE_TOKEN", GL_TOKEN)
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci", "--token-variable", "PRUNE_TOKEN"]) == 0
    assert len(gitlab.pipelines) == 5


@pytest.mark.parametrize("unset, message", [
    ("CI_API_V4_URL", "no GitLab API URL: pass --api-url or run inside GitLab CI ($CI_API_V4_URL)"),
    ("CI_PROJECT_ID", "no GitLab project: pass --project or run inside GitLab CI ($CI_PROJECT_ID)"),
])
def test_gitlab_setup_errors(gitlab: FakeGitLab, schedules_file: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch, unset: str, message: str) -> None:
    monkeypatch.delenv(unset)
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci"]) == 1
    assert capsys.readouterr().err == f"jmo-schedule: error: {message}\n"
    assert gitlab.requests == []


def test_gitlab_rejected_token(gitlab: FakeGitLab, schedules_file: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMO_GITLAB_TOKEN", "glpat-revoked")
    assert main(["prune", "-f", str(schedules_file), "--backend", "gitlab-ci"]) == 1
    assert capsys.readouterr().err == ("jmo-schedule: error: GitLab API: list pipeline schedules: HTTP 401 "
                                       "(401 Unauthorized); the token in $JMO_GITLAB_TOKEN is missing, expired or "
                                       "revoked\n")


def test_gitlab_pipeline_already_gone(gitlab: FakeGitLab) -> None:
    client = GitLab(gitlab.url, "42", GL_TOKEN)
    assert client.delete_pipeline("501", "delete pipeline 501 of gl-nightly") is True
    assert client.delete_pipeline("501", "delete pipeline 501 of gl-nightly") is False


# ------------------------------------------------------------------------------------
# Wiring: the action's and the component's prune steps, run from their YAML


def _bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(["bash", "-e", "-c", script], env={**base, **env}, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_action_prune_step(github: FakeGitHub, schedules_file: Path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["inputs"]["prune"]["default"] == "true"
    assert action["inputs"]["prune-token"]["default"] == "${{ github.token }}"
    steps = action["runs"]["steps"]
    [step] = [s for s in steps if s.get("id") == "prune"]
    # After the pull request, also when it failed, only in sync mode with prune on.
    assert steps.index(step) > next(i for i, s in enumerate(steps) if s.get("id") == "cpr")
    assert step["if"] == ("${{ !cancelled() && inputs.command == 'sync' && inputs.prune == 'true' "
                          "&& steps.install.outcome == 'success' }}")
    assert step["env"]["GITHUB_TOKEN"] == "${{ inputs.prune-token }}"
    assert step["env"]["JMO_FILE"] == "${{ inputs.schedules-file }}"
    env = {"JMO_PY": sys.executable, "PYTHONPATH": "", "JMO_FILE": schedules_file.name, "GITHUB_TOKEN": GH_TOKEN,
           "GITHUB_ACTIONS": "true", "GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": REPO}
    done = _bash(step["run"], env, schedules_file.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == NIGHTLY_DELETES[0]
    assert len(github.runs) == 6
    # A failure (no actions: write) warns and the step succeeds.
    github.can_write = False
    github.add("jmo-nightly.yml", 100, "failure")
    warned = _bash(step["run"], env, schedules_file.parent)
    assert warned.returncode == 0
    assert warned.stdout.startswith("::warning title=jmo-schedule prune::GitHub API: delete run 100 of nightly: HTTP 403")
    assert GH_TOKEN not in done.stdout + done.stderr + warned.stdout + warned.stderr


def test_component_prune_line(gitlab: FakeGitLab, schedules_file: Path) -> None:
    header, jobs = yaml.safe_load_all((ROOT / "templates" / "gitlab-component" / "template.yml").read_text())
    spec = header["spec"]["inputs"]["prune"]
    # Off by default: only an Owner may delete pipelines, and the documented token is a Maintainer's.
    assert (spec["type"], spec["default"]) == ("boolean", False)
    job = jobs["jmo-schedule-sync"]
    assert job["variables"]["JMO_PRUNE"] == "$[[ inputs.prune ]]"
    script = job["script"]
    [line] = [s for s in script if "jmo_schedule prune" in s]
    assert script.index(line) > next(i for i, s in enumerate(script) if "gitlab-schedules" in s)  # after it
    env = {"JMO_PRUNE": "true", "JMO_SCHEDULES_FILE": schedules_file.name, "JMO_TOKEN_VARIABLE": "JMO_GITLAB_TOKEN",
           "JMO_GITLAB_TOKEN": GL_TOKEN, "CI_API_V4_URL": gitlab.url, "CI_PROJECT_ID": "42", "GITLAB_CI": "true",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    # The job runs `python3` with the tool on PYTHONPATH; here python3 is the test venv's.
    done = _bash(line.replace("python3 -m", f"{sys.executable} -m"), env, schedules_file.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "prune: 3 pipelines deleted, 2 kept, 2 left alone (2 schedules, 1 not set up yet)")
    off = _bash(line, {**env, "JMO_PRUNE": "false"}, schedules_file.parent)
    assert (off.returncode, off.stdout) == (0, "")
    gitlab.role = "maintainer"
    gitlab.add_pipeline(1, 500, "failed")
    warned = _bash(line.replace("python3 -m", f"{sys.executable} -m"), env, schedules_file.parent)
    assert warned.returncode == 0
    assert "jmo-schedule: warning: GitLab API: delete pipeline 500 of gl-nightly: HTTP 403" in warned.stderr
    assert GL_TOKEN not in done.stdout + done.stderr + warned.stdout + warned.stderr
