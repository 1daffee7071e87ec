"""The pull / merge request check's drift policy (`sync --on-drift`): which policy applies
in which run, the one-line reasons, the push of regenerated files to the request's own
branch (real git repositories: a bare remote whose hook records or refuses each push, a
checkout on a detached merge commit as actions/checkout leaves it) and the reports."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import tool
from pull_request import BRANCH, GENERATED, SCHEDULES, git, make_repository, pushes

from jmo_schedule.sync import drift
from jmo_schedule.cli import main
from jmo_schedule.sync.core import plan_file

# What GitLab's receive side answers a token without write access (as its git over HTTP does).
REFUSE = """#!/bin/sh
echo "You are not allowed to push code to this project." >&2
exit 1
"""


@pytest.fixture
def pr(tmp_path: Path) -> dict[str, Any]:
    """A repository whose feature branch adds schedules.yaml without the generated files,
    checked out like a pull_request run: detached on a merge of the branch into main."""
    repo = make_repository(tmp_path, {"README.md": "# app\n"}, {"schedules.yaml": SCHEDULES})
    remote, seed, head, work = repo["remote"], repo["seed"], repo["head"], tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    git(work, "checkout", "-q", "--detach", "origin/main")
    git(work, "merge", "-q", "--no-ff", "-m", "Merge into main", f"origin/{BRANCH}")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({
        "pull_request": {"number": 7, "head": {"ref": BRANCH, "sha": head, "repo": {"full_name": "acme/app"}},
                         "base": {"ref": "main", "repo": {"full_name": "acme/app"}}},
        "repository": {"full_name": "acme/app"}}))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GITHUB_ACTIONS": "true",
           "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/app",
           "GITHUB_API_URL": "http://127.0.0.1:9", "JMO_TOKEN": "github_pat_secret", "JMO_TOKEN_IS_DEFAULT": "false"}
    return {"remote": remote, "work": work, "seed": seed, "head": head, "event": event, "env": env, "tmp": tmp_path}


def review(pr: dict[str, Any]) -> drift.Review:
    return drift.review_from_env(pr["env"])


def replan(tree: str) -> Any:
    planned = plan_file(os.path.join(tree, "schedules.yaml"), tree)
    return planned.plan, planned.disk


# ------------------------------------------------------------------------------------
# Policies


@pytest.mark.parametrize("text, policy", [
    ("commit", "commit"), ("WARN", "warn"), (" fail ", "fail"), ("ignore", "ignore"),
    ("", "commit"), ("true", "fail"), ("false", "ignore"),
])
def test_parse_policy(text: str, policy: str) -> None:
    assert drift.parse_policy(text) == policy


def test_parse_policy_refuses_anything_else() -> None:
    with pytest.raises(ValueError, match=r"^'push' is not a drift policy: use commit, warn, fail or ignore$"):
        drift.parse_policy("push")


def test_cli_refuses_a_bad_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sync", "--on-drift", "push"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "jmo-schedule sync: error: argument --on-drift: 'push' is not a drift policy: use commit, warn, fail "
        "or ignore (see 'jmo-schedule sync --help')\n")


# ------------------------------------------------------------------------------------
# Reading the run, deciding


def test_github_pull_request_from_the_same_repository(pr: dict[str, Any]) -> None:
    assert review(pr) == drift.Review("github", branch=BRANCH, head_sha=pr["head"], token_name="JMO_SCHEDULE_TOKEN",
                                      token_env="JMO_TOKEN", has_token=True, repository="acme/app")
    assert drift.decide("commit", review(pr), "jmo-schedule/sync") == drift.Decision("commit", "")
    assert drift.decide("warn", review(pr), "jmo-schedule/sync") == drift.Decision("warn", "")
    assert drift.decide("fail", review(pr), "jmo-schedule/sync") == drift.Decision("fail", "")


def edit_event(pr: dict[str, Any], **head: Any) -> None:
    event = json.loads(pr["event"].read_text())
    event["pull_request"]["head"].update(head)
    pr["event"].write_text(json.dumps(event))


@pytest.mark.parametrize("change, reason", [
    ({"repo": {"full_name": "mallory/app"}},
     "the pull request comes from mallory/app, and this workflow may not push to another repository"),
    ({"repo": None}, "the pull request comes from a deleted fork, and this workflow may not push to another repository"),
    ({"ref": "jmo-schedule/sync"},
     "jmo-schedule/sync is the sync bot's own branch, which only the sync workflow updates"),
])
def test_github_runs_that_never_commit(pr: dict[str, Any], change: dict[str, Any], reason: str) -> None:
    edit_event(pr, **change)
    assert drift.decide("commit", review(pr), "jmo-schedule/sync") == drift.Decision("warn", reason)


def test_github_fork_of_the_same_name_in_another_case_is_not_a_fork(pr: dict[str, Any]) -> None:
    edit_event(pr, repo={"full_name": "ACME/App"})
    assert review(pr).fork is None


@pytest.mark.parametrize("env, reason", [
    ({"JMO_TOKEN": ""},
     "no token to push with: store a GitHub App token or a fine-grained PAT with Contents and Workflows: read and "
     "write as the secret JMO_SCHEDULE_TOKEN and pass it to the action as `token:`"),
    ({"JMO_TOKEN_IS_DEFAULT": "true"},
     "the token is the job's own GITHUB_TOKEN, whose pushes start no workflow run (the pull request would wait for "
     "its checks) and which may not change .github/workflows/: store a GitHub App token or a fine-grained PAT with "
     "Contents and Workflows: read and write as the secret JMO_SCHEDULE_TOKEN and pass it to the action as `token:`"),
    ({"GITHUB_EVENT_NAME": "pull_request_target"}, "this workflow runs on pull_request_target, not pull_request"),
    ({"GITHUB_EVENT_NAME": "push"}, "this workflow runs on push, not pull_request"),
    ({"GITHUB_EVENT_PATH": "/nonexistent/event.json"},
     "the pull_request event payload ($GITHUB_EVENT_PATH) cannot be read"),
    ({"GITHUB_ACTIONS": ""}, "this run is not in GitHub Actions or GitLab CI"),
])
def test_github_tokens_and_events_that_cannot_commit(pr: dict[str, Any], env: dict[str, str], reason: str) -> None:
    pr["env"].update(env)
    assert drift.decide("commit", review(pr), "jmo-schedule/sync") == drift.Decision("warn", reason)


GITLAB_MR = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_PROJECT_ID": "42",
             "CI_PROJECT_PATH": "acme/app", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42",
             "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": BRANCH, "CI_MERGE_REQUEST_SOURCE_BRANCH_PROTECTED": "false",
             "CI_COMMIT_SHA": "1" * 40, "JMO_GITLAB_TOKEN": "glpat-secret"}


def test_gitlab_merge_request_pipeline() -> None:
    found = drift.review_from_env(GITLAB_MR)
    assert found == drift.Review("gitlab", branch=BRANCH, head_sha="1" * 40, token_name="JMO_GITLAB_TOKEN",
                                 token_env="JMO_GITLAB_TOKEN", has_token=True, source_protected=False,
                                 repository="acme/app")
    assert drift.decide("commit", found, "jmo-schedule/sync") == drift.Decision("commit", "")
    merged_results = drift.review_from_env({**GITLAB_MR, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "2" * 40})
    assert merged_results.head_sha == "2" * 40


@pytest.mark.parametrize("env, token_env, reason", [
    ({"JMO_GITLAB_TOKEN": ""}, None,
     "$JMO_GITLAB_TOKEN is not set in this pipeline (a protected CI/CD variable reaches only pipelines of protected "
     "branches, and feature/scans is not protected): to commit here, give the validate job a project access token "
     "with the Developer role and the write_repository scope in a masked variable that is not protected, named by "
     "the component input check-sync-token-variable"),
    ({}, "JMO_GITLAB_PUSH_TOKEN",
     "$JMO_GITLAB_PUSH_TOKEN is not set in this pipeline (a protected CI/CD variable reaches only pipelines of "
     "protected branches, and feature/scans is not protected): to commit here, give the validate job a project "
     "access token with the Developer role and the write_repository scope in a masked variable that is not "
     "protected, named by the component input check-sync-token-variable"),
    ({"JMO_GITLAB_TOKEN": "", "CI_MERGE_REQUEST_SOURCE_BRANCH_PROTECTED": "true"}, None,
     "$JMO_GITLAB_TOKEN is not set in this pipeline: to commit here, give the validate job a project access token "
     "with the Developer role and the write_repository scope in a masked variable that is not protected, named by "
     "the component input check-sync-token-variable"),
    ({"CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "77", "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH": "mallory/app"}, None,
     "the merge request comes from mallory/app, and this pipeline may not push to another repository"),
    ({"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "jmo-schedule/sync"}, None,
     "jmo-schedule/sync is the sync bot's own branch, which only the sync job updates"),
    ({"CI_PIPELINE_SOURCE": "push", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": ""}, None,
     "this is a push pipeline, not a merge request pipeline"),
])
def test_gitlab_pipelines_that_cannot_commit(env: dict[str, str], token_env: str | None, reason: str) -> None:
    found = drift.review_from_env({**GITLAB_MR, **env}, token_env)
    assert drift.decide("commit", found, "jmo-schedule/sync") == drift.Decision("warn", reason)


# ------------------------------------------------------------------------------------
# Pushing


def test_push_commits_only_the_generated_files_on_the_branch(pr: dict[str, Any]) -> None:
    pushed = drift.push_regenerated(str(pr["work"]), review(pr), str(pr["remote"]), pr["env"], replan)
    assert pushed.branch == BRANCH and pushed.files == tuple(GENERATED)
    assert pushes(pr["remote"]) == [f"refs/heads/{BRANCH} {pushed.commit}"]
    remote = pr["remote"]
    assert git(remote, "rev-parse", f"{pushed.commit}^") == pr["head"]  # on top of the branch, no force
    assert git(remote, "diff", "--name-status", pr["head"], pushed.commit).splitlines() == [
        f"A\t{GENERATED[0]}", f"A\t{GENERATED[1]}"]
    assert git(remote, "log", "-1", "--format=%an <%ae>|%s", pushed.commit) == (
        "jmo-schedule <jmo-schedule@noreply.invalid>|jmo-schedule: regenerate scheduled scan pipelines")
    # The checkout is left as it was, and no work tree is left behind.
    assert git(pr["work"], "status", "--porcelain") == ""
    assert len(git(pr["work"], "worktree", "list").splitlines()) == 1
    # The branch as pushed is in sync: its own check pushes nothing.
    git(pr["seed"], "pull", "-q", str(remote), BRANCH)
    assert plan_file(str(pr["seed"] / "schedules.yaml"), str(pr["seed"])).plan.in_sync


def test_push_refuses_when_the_branch_moved_on(pr: dict[str, Any]) -> None:
    (pr["seed"] / "README.md").write_text("# app, changed\n")
    git(pr["seed"], "commit", "-qam", "more")
    git(pr["seed"], "push", "-q", str(pr["remote"]), BRANCH)
    moved = git(pr["seed"], "rev-parse", "HEAD")
    (pr["remote"] / "pushes.log").unlink()
    with pytest.raises(drift.NotPushed) as exc:
        drift.push_regenerated(str(pr["work"]), review(pr), str(pr["remote"]), pr["env"], replan)
    assert str(exc.value) == (f"feature/scans has moved on to {moved[:12]} since this check started; the check of "
                              "that commit takes care of it")
    assert pushes(pr["remote"]) == []


def test_push_never_stacks_on_its_own_commit(pr: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # A generator whose output changes with every run would make each check push again.
    pushed = drift.push_regenerated(str(pr["work"]), review(pr), str(pr["remote"]), pr["env"], replan)
    edit_event(pr, sha=pushed.commit)

    def unstable(tree: str) -> Any:
        plan, disk = replan(tree)
        (Path(tree) / "schedules.yaml").write_text(SCHEDULES.replace('"0 3 * * 1"', '"0 4 * * 1"'))
        return replan(tree) if plan.in_sync else (plan, disk)

    with pytest.raises(drift.NotPushed, match=r"^the last commit on feature/scans is already jmo-schedule's and the "
                                              r"files still differ; not pushing again$"):
        drift.push_regenerated(str(pr["work"]), review(pr), str(pr["remote"]), pr["env"], unstable)
    assert len(pushes(pr["remote"])) == 1


def test_push_refuses_a_branch_that_is_in_sync_itself(pr: dict[str, Any]) -> None:
    subprocess.run([tool("jmo-schedule"), "sync"], cwd=pr["seed"], check=True, capture_output=True)
    git(pr["seed"], "add", "-A")
    git(pr["seed"], "commit", "-qm", "generated")
    git(pr["seed"], "push", "-q", str(pr["remote"]), BRANCH)
    edit_event(pr, sha=git(pr["seed"], "rev-parse", "HEAD"))
    with pytest.raises(drift.NotPushed, match=r"^feature/scans itself is in sync; the difference comes from merging it "
                                              r"with its base branch \(bring feature/scans up to date with the base\)$"):
        drift.push_regenerated(str(pr["work"]), review(pr), str(pr["remote"]), pr["env"], replan)


def test_refused_gitlab_push_names_the_variable_and_the_role(pr: dict[str, Any]) -> None:
    (pr["remote"] / "hooks" / "pre-receive").write_text(REFUSE)
    gitlab = drift.review_from_env({**GITLAB_MR, "CI_COMMIT_SHA": pr["head"]})
    with pytest.raises(drift.NotPushed) as exc:
        drift.push_regenerated(str(pr["work"]), gitlab, str(pr["remote"]), {**pr["env"], **GITLAB_MR}, replan)
    # git names the pushed commit by its id, which the test cannot know beforehand.
    assert re.fullmatch(
        re.escape(f"the push to feature/scans on {pr['remote']} was refused (git push failed: ! [remote rejected] ")
        + "[0-9a-f]{40}" + re.escape(
            " -> feature/scans (pre-receive hook declined) (remote: You are not allowed to push code to this "
            "project.)); $JMO_GITLAB_TOKEN needs the write_repository scope and at least the Developer role "
            "(Maintainer when feature/scans is protected)"), str(exc.value)), str(exc.value)


@pytest.mark.parametrize("detail, hint", [
    ("! [remote rejected] HEAD -> x (refusing to allow a Personal Access Token to create or update workflow "
     "`.github/workflows/jmo-nightly.yml` without `workflow` scope)",
     "the token in the secret JMO_SCHEDULE_TOKEN needs Workflows: read and write to change .github/workflows/ "
     "(a classic PAT: the workflow scope)"),
    ("unable to access 'https://github.com/acme/app.git/': The requested URL returned error: 403",
     "the token in the secret JMO_SCHEDULE_TOKEN needs Contents: read and write on acme/app (a classic PAT: the "
     "repo scope)"),
    ("! [rejected] abc -> feature/scans (fetch first)",
     "the branch moved on while this check ran; the check of its new commit tries again"),
])
def test_github_push_hints(pr: dict[str, Any], detail: str, hint: str) -> None:
    assert drift.push_hint(review(pr), detail) == hint


# ------------------------------------------------------------------------------------
# The check end to end (what the action's validate step runs)


def run_check(pr: dict[str, Any], policy: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    summary = pr["tmp"] / "summary.md"
    summary.touch()
    env = {**pr["env"], "GITHUB_STEP_SUMMARY": str(summary)}
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    cwd = os.getcwd()
    os.chdir(pr["work"])
    try:
        code = main(["sync", "--on-drift", policy])
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(old)
    return code, capsys.readouterr().out


def test_check_fail(pr: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(pr, "fail", capsys)
    assert code == 1
    assert ("::error file=.github/workflows/jmo-nightly.yml,title=jmo-schedule sync::"
            ".github/workflows/jmo-nightly.yml: missing (schedule nightly added)\n") in out
    assert out.endswith("2 files out of sync with schedules.yaml; run: jmo-schedule sync -f schedules.yaml\n")
    assert pushes(pr["remote"]) == []
    summary = (pr["tmp"] / "summary.md").read_text()
    assert summary.startswith("## jmo-schedule: generated files out of date\n\n2 files out of sync with schedules.yaml; "
                              "run: jmo-schedule sync -f schedules.yaml\n\n| File | Action | Why |\n")


def test_check_warn(pr: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(pr, "warn", capsys)
    assert code == 0
    assert ("::warning file=deploy/kubernetes/jmo-weekly.yaml,title=jmo-schedule sync::"
            "deploy/kubernetes/jmo-weekly.yaml: missing (schedule weekly added)\n") in out
    assert "::group::diff of deploy/kubernetes/jmo-weekly.yaml\n--- /dev/null\n+++ b/deploy/kubernetes/jmo-weekly.yaml\n" in out
    assert out.endswith(
        "::warning title=jmo-schedule sync::2 files out of sync with schedules.yaml, not committed here: check-sync is "
        "warn. The check passes: the sync workflow opens its pull request with them after merge; to commit them "
        "yourself, run: jmo-schedule sync -f schedules.yaml\n")
    summary = (pr["tmp"] / "summary.md").read_text()
    assert "| `deploy/kubernetes/jmo-weekly.yaml` | added | schedule weekly added |" in summary
    assert "<details><summary>Diff against `schedules.yaml`</summary>\n\n```diff\n--- /dev/null\n" in summary
    assert summary.endswith("```\n\n</details>\n")
    assert pushes(pr["remote"]) == []


def test_check_commit_pushes_and_says_so(pr: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    git(pr["work"], "remote", "set-url", "origin", str(pr["remote"]))
    code, out = run_check(pr, "commit", capsys)
    assert code == 0
    [push] = pushes(pr["remote"])
    commit = push.split()[1]
    assert push == f"refs/heads/{BRANCH} {commit}"
    assert out.endswith(f"::notice title=jmo-schedule sync::pushed 2 files regenerated from schedules.yaml to "
                        f"feature/scans as {commit[:12]}; the check runs again on that commit\n")
    # No warning command (a line GitHub reads as one starts with `::`; the diff may quote
    # a generated workflow's own `echo '::warning ...'`).
    assert not any(line.startswith("::warning") for line in out.splitlines()) and "github_pat_secret" not in out


def test_check_commit_with_the_default_token_warns_and_names_the_secret(pr: dict[str, Any],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    pr["env"]["JMO_TOKEN_IS_DEFAULT"] = "true"
    code, out = run_check(pr, "commit", capsys)
    assert code == 0
    assert out.endswith(
        "::warning title=jmo-schedule sync::2 files out of sync with schedules.yaml, not committed here: the token is "
        "the job's own GITHUB_TOKEN, whose pushes start no workflow run (the pull request would wait for its checks) "
        "and which may not change .github/workflows/: store a GitHub App token or a fine-grained PAT with Contents and "
        "Workflows: read and write as the secret JMO_SCHEDULE_TOKEN and pass it to the action as `token:`. The "
        "check passes: the sync workflow opens its pull request with them after merge; to commit them yourself, run: "
        "jmo-schedule sync -f schedules.yaml\n")
    assert pushes(pr["remote"]) == []


def test_check_in_sync_and_ignore(pr: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(pr, "ignore", capsys)
    assert (code, out) == (0, "generated files not checked (check-sync: ignore)\n")
    subprocess.run([tool("jmo-schedule"), "sync"], cwd=pr["work"], check=True, capture_output=True)
    code, out = run_check(pr, "commit", capsys)
    assert (code, out) == (0, "in sync: 2 generated files match schedules.yaml\n")


def test_validation_error_fails_under_every_policy(pr: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    (pr["work"] / "schedules.yaml").write_text(SCHEDULES.replace('"0 3 * * 1"', '"0 3 * * 9"'))
    for policy in ("commit", "warn"):
        code, _ = run_check(pr, policy, capsys)
        assert code == 1
    assert pushes(pr["remote"]) == []


# ------------------------------------------------------------------------------------
# The job summary stays inside GitHub's limit


def test_summary_cuts_the_diff_to_the_budget(pr: dict[str, Any]) -> None:
    planned = plan_file(str(pr["work"] / "schedules.yaml"), str(pr["work"]))
    settings = drift.Settings("warn", str(pr["work"]), "schedules.yaml", "jmo-schedule sync -f schedules.yaml")
    report = drift.Report(planned.plan, drift.Decision("warn"), None, settings, review(pr))
    whole = report.summary(10_000_000)
    cut = report.summary(3000)
    assert len(cut.encode()) <= 3000 < len(whole.encode())
    assert cut.endswith("... (cut to fit GitHub's job summary; the job log has the whole diff)\n```\n\n</details>\n")
    table_only = report.summary(len(whole.split("<details>")[0].encode()))
    assert table_only == whole.split("<details>")[0]


def test_summary_fence_outlasts_backticks_in_the_diff(pr: dict[str, Any]) -> None:
    planned = plan_file(str(pr["work"] / "schedules.yaml"), str(pr["work"]))
    change = planned.plan.changes[0]
    change = type(change)(change.path, change.action, change.old, "run: echo ````x````\n" + (change.new or ""),
                          change.reason)
    plan = type(planned.plan)(planned.plan.source, [change])
    settings = drift.Settings("warn", str(pr["work"]), "schedules.yaml", "jmo-schedule sync")
    text = drift.Report(plan, drift.Decision("warn"), None, settings, review(pr)).summary(100_000)
    assert "`````diff\n" in text and text.endswith("`````\n\n</details>\n")
