"""The GitLab bot merge request: sync, commit on one branch, push with merge request
options to a real bare remote whose hook records them; reruns push nothing. The remote's
post-receive hook hands each push to a fake GitLab (tests/fakes/gitlab.py) that opens the
merge request as GitLab does; the full description and the closing of a stale merge
request go through that fake's REST API."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, tool
from fakes.gitlab import FakeGitLab, connect

from jmo_schedule.cli import build_parser, main
from jmo_schedule.sync import gitlab_mr
from jmo_schedule.errors import JmoError

HOOK = """#!/bin/sh
{ while read -r old new ref; do echo "ref $ref"; done
  i=0; while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do eval "echo \\"option \\$GIT_PUSH_OPTION_$i\\""; i=$((i+1)); done
  echo end; } >> "$(dirname "$0")/../pushes.log"
"""


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    git("config", "receive.advertisePushOptions", "true", cwd=remote)
    (remote / "hooks" / "pre-receive").write_text(HOOK)
    (remote / "hooks" / "pre-receive").chmod(0o755)
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "schedules.yaml").write_text(EXAMPLE.read_text())
    git("add", "-A", cwd=work)
    git("commit", "-qm", "init", cwd=work)
    git("push", "-q", str(remote), "main", cwd=work)
    (remote / "pushes.log").unlink()
    monkeypatch.chdir(work)
    return {"remote": remote, "work": work}


def args(remote: Path, **over: Any) -> Any:
    return build_parser().parse_args(["gitlab-mr", "--remote", str(remote), "--target", "main", "--labels", "a, b", *[
        x for k, v in over.items() for x in (f"--{k.replace('_', '-')}", v)]])


def pushes(remote: Path) -> list[str]:
    log = remote / "pushes.log"
    return log.read_text().splitlines() if log.exists() else []


def test_push_options_are_single_lines() -> None:
    opts = gitlab_mr.push_options("main", "a\ntitle", ["x", " ", "y"], "line one\nline two")
    assert opts == ["-o", "merge_request.create", "-o", "merge_request.target=main", "-o", "merge_request.title=a title",
                    "-o", "merge_request.description=line one line two", "-o", "merge_request.remove_source_branch",
                    "-o", "merge_request.label=x", "-o", "merge_request.label=y"]


def test_default_remote_has_no_secret() -> None:
    env = {"CI_SERVER_URL": "https://gitlab.example.com", "CI_PROJECT_PATH": "g/app", "JMO_GITLAB_TOKEN": "glpat-x"}
    assert gitlab_mr.default_remote(env) == "https://oauth2@gitlab.example.com/g/app.git"
    with pytest.raises(JmoError, match=r"^no remote to push to: pass --remote or run inside GitLab CI"):
        gitlab_mr.default_remote({})


def test_push_then_rerun_pushes_nothing(repo: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    env = {**os.environ, "JMO_GITLAB_TOKEN": "glpat-secret"}
    assert gitlab_mr.open_merge_request(args(repo["remote"]), env) == "pushed"
    log = pushes(repo["remote"])
    assert log[0] == "ref refs/heads/jmo-schedule/sync"
    assert "option merge_request.create" in log and "option merge_request.target=main" in log
    assert "option merge_request.label=a" in log and "option merge_request.label=b" in log
    files = git("ls-tree", "-r", "--name-only", "jmo-schedule/sync", cwd=repo["remote"]).split()
    assert ".github/workflows/jmo-nightly-scan.yml" in files and "schedules.yaml" in files
    # Rerun from main: same files, nothing pushed.
    git("checkout", "-q", "main", cwd=repo["work"])
    git("clean", "-fdq", cwd=repo["work"])
    assert gitlab_mr.open_merge_request(args(repo["remote"]), env) == "unchanged"
    assert len(pushes(repo["remote"])) == len(log)
    assert "glpat-secret" not in capsys.readouterr().out


def test_in_sync_pushes_nothing(repo: dict[str, Path]) -> None:
    subprocess.run([tool("jmo-schedule"), "sync"], cwd=repo["work"], check=True, capture_output=True)
    git("add", "-A", cwd=repo["work"])
    git("commit", "-qm", "generated", cwd=repo["work"])
    assert gitlab_mr.open_merge_request(args(repo["remote"]), dict(os.environ)) == "in-sync"
    assert pushes(repo["remote"]) == []


def test_failed_push_is_one_line(repo: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMO_GITLAB_TOKEN", "glpat-secret")
    code = main(["gitlab-mr", "--remote", str(repo["remote"]) + "-missing", "--target", "main"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("jmo-schedule: error: git ")
    assert err.count("\n") == 1 and "glpat-secret" not in err
    assert "does not appear to be a git repository" in err


# What GitLab's receive side answers a token without write access to the branch.
REFUSE = """#!/bin/sh
echo "You are not allowed to push code to this project." >&2
exit 1
"""


@pytest.mark.parametrize("token, fix", [
    ("glpat-secret", "the project access token in $JMO_GITLAB_TOKEN needs the write_repository scope and the "
                     "Maintainer role"),
    ("", "$JMO_GITLAB_TOKEN is not set in this pipeline: store a project access token with the Maintainer role and "
         "the write_repository and api scopes as the masked CI/CD variable JMO_GITLAB_TOKEN"),
])
def test_refused_push_names_the_variable_and_what_the_token_needs(
        repo: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        token: str, fix: str) -> None:
    (repo["remote"] / "hooks" / "pre-receive").write_text(REFUSE)
    monkeypatch.setenv("JMO_GITLAB_TOKEN", token)
    assert main(["gitlab-mr", "--remote", str(repo["remote"]), "--target", "main"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: git push failed: ! [remote rejected] HEAD -> jmo-schedule/sync (pre-receive hook "
        f"declined) (remote: You are not allowed to push code to this project.); {fix}\n")


# ------------------------------------------------------------------------------------
# The REST API part: full description, stale merge request

TOKEN = "glpat-secret"
BRANCH = "jmo-schedule/sync"


@pytest.fixture
def gitlab(repo: dict[str, Path]) -> Any:
    fake = FakeGitLab(token=TOKEN).start()
    connect(repo["remote"], fake)
    yield fake
    fake.stop()


def ci_env(gitlab: FakeGitLab, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_", "JMO_"))}
    return {**env, "JMO_GITLAB_TOKEN": TOKEN, "CI_API_V4_URL": gitlab.url, "CI_PROJECT_ID": "42", **extra}


def body_of(work: Path) -> str:
    out = subprocess.run([tool("jmo-schedule"), "sync", "--dry-run", "--pr-body", str(work.parent / "body.md")],
                         cwd=work, capture_output=True, text=True, check=True)
    assert out.returncode == 0
    return (work.parent / "body.md").read_text()


def back_to_main(work: Path) -> None:
    git("checkout", "-q", "main", cwd=work)
    git("clean", "-fdq", cwd=work)


def merge_generated_files_into_main(work: Path, remote: Path) -> None:
    """What merging the bot merge request does: main holds the generated files."""
    back_to_main(work)
    subprocess.run([tool("jmo-schedule"), "sync"], cwd=work, check=True, capture_output=True)
    git("add", "-A", cwd=work)
    git("commit", "-qm", "generated", cwd=work)
    git("push", "-q", str(remote), "main", cwd=work)


def test_push_sets_the_full_description_and_a_rerun_changes_nothing(repo: dict[str, Path], gitlab: FakeGitLab,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    body = body_of(repo["work"])
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "pushed"
    [(iid, mr)] = gitlab.merge_requests.items()
    # The push options opened it (title, labels); the API then set the multi-line body only.
    assert (mr["source_branch"], mr["target_branch"], mr["state"]) == (BRANCH, "main", "opened")
    assert mr["title"] == gitlab_mr.DEFAULT_TITLE and mr["labels"] == ["a", "b"]
    assert mr["description"] == body
    assert "| File | Action | Why |" in body and "\n| `.github/workflows/jmo-nightly-scan.yml` | added |" in body
    assert gitlab.writes() == [("PUT", f"/api/v4/projects/42/merge_requests/{iid}", {"description": body})]
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"jmo-schedule: merge request !{iid}: description set to the list of changed files")
    # Rerun from main: nothing pushed, the description is already right: no write at all.
    gitlab.requests.clear()
    back_to_main(repo["work"])
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "unchanged"
    assert gitlab.writes() == []
    assert [r[0] for r in gitlab.requests] == ["GET"]
    out = capsys.readouterr()
    assert out.out.splitlines()[-1] == f"jmo-schedule: merge request !{iid} already has this description"
    assert TOKEN not in out.out + out.err


def test_a_later_push_sets_the_description_again(repo: dict[str, Path], gitlab: FakeGitLab) -> None:
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "pushed"
    back_to_main(repo["work"])
    schedules = repo["work"] / "schedules.yaml"
    schedules.write_text(schedules.read_text().replace("name: nightly-scan", "name: nightly-scan-2", 1))
    git("commit", "-qam", "rename", cwd=repo["work"])
    body = body_of(repo["work"])
    gitlab.requests.clear()
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "pushed"
    [mr] = gitlab.merge_requests.values()  # the push updated the one merge request
    assert mr["description"] == body and "nightly-scan-2" in body
    assert [r[0] for r in gitlab.writes()] == ["PUT"]


@pytest.mark.parametrize("scopes, what", [(("write_repository",), "list merge requests"),
                                           (("write_repository", "read_api"), "edit merge request !1")])
def test_token_without_api_scope_warns_in_one_line_and_goes_on(repo: dict[str, Path], scopes: tuple[str, ...], what: str,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeGitLab(token=TOKEN, scopes=scopes).start()
    try:
        connect(repo["remote"], fake)
        for k, v in ci_env(fake).items():
            monkeypatch.setenv(k, v)
        assert main(["gitlab-mr", "--remote", str(repo["remote"]), "--target", "main"]) == 0
    finally:
        fake.stop()
    assert capsys.readouterr().err == (
        f"jmo-schedule: warning: GitLab API: {what}: HTTP 403 (insufficient_scope); the token in $JMO_GITLAB_TOKEN "
        "lacks the api scope or the Maintainer role this needs; the merge request description stays one line\n")
    [mr] = fake.merge_requests.values()
    assert mr["description"].startswith("Regenerated 6 pipeline files from schedules.yaml") and "\n" not in mr["description"]


def test_outside_gitlab_ci_the_description_stays_one_line(repo: dict[str, Path], gitlab: FakeGitLab,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    env = ci_env(gitlab)
    del env["CI_API_V4_URL"], env["CI_PROJECT_ID"]
    assert gitlab_mr.open_merge_request(args(repo["remote"]), env) == "pushed"
    assert capsys.readouterr().err == ("jmo-schedule: warning: no GitLab API access ($CI_API_V4_URL and $CI_PROJECT_ID "
                                       "not set); the merge request description stays one line\n")
    assert gitlab.requests == []


def test_without_the_token_the_description_warning_says_which_variable(repo: dict[str, Path], gitlab: FakeGitLab,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    env = ci_env(gitlab)
    del env["JMO_GITLAB_TOKEN"]
    assert gitlab_mr.open_merge_request(args(repo["remote"]), env) == "pushed"  # a local remote needs no token
    assert capsys.readouterr().err == (
        "jmo-schedule: warning: no GitLab API access ($JMO_GITLAB_TOKEN not set: set $JMO_GITLAB_TOKEN to a project "
        "access token with the api scope); the merge request description stays one line\n")


def test_other_api_errors_fail_the_job_in_one_line(repo: dict[str, Path], gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    for k, v in ci_env(gitlab, CI_PROJECT_ID="43").items():
        monkeypatch.setenv(k, v)
    assert main(["gitlab-mr", "--remote", str(repo["remote"]), "--target", "main"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: GitLab API: list merge requests: HTTP 404 (404 Project Not Found); "
        "no such project or schedule, or the token in $JMO_GITLAB_TOKEN cannot see it\n")


def test_in_sync_closes_the_stale_bot_merge_request_and_deletes_its_branch(
        repo: dict[str, Path], gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]) -> None:
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "pushed"
    other = gitlab.add_merge_request("feature", title="someone's change")
    fork = gitlab.add_merge_request(BRANCH, title="a fork's branch of the same name", source_project_id=99)
    into_dev = gitlab.add_merge_request(BRANCH, target_branch="develop", state="closed")
    merge_generated_files_into_main(repo["work"], repo["remote"])
    gitlab.requests.clear()
    capsys.readouterr()
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "in-sync"
    note = ("The default branch `main` already holds the pipeline files generated from `schedules.yaml`: it is in sync, "
            "so this merge request is no longer needed. Closing it and deleting the branch `jmo-schedule/sync`.\n\n"
            "_Closed by `jmo-schedule sync`._\n")
    assert gitlab.writes() == [("POST", "/api/v4/projects/42/merge_requests/1/notes", {"body": note}),
                               ("PUT", "/api/v4/projects/42/merge_requests/1", {"state_event": "close"})]
    assert gitlab.merge_requests[1]["state"] == "closed" and gitlab.notes[1][0]["body"] == note
    assert git("branch", "--list", BRANCH, cwd=repo["remote"]) == ""
    assert capsys.readouterr().out.splitlines()[-1] == (
        "jmo-schedule: main is in sync; closed merge request !1 and deleted branch jmo-schedule/sync")
    # Never another branch's, a fork's or another target's merge request.
    for iid in (other, fork):
        assert gitlab.merge_requests[iid]["state"] == "opened" and gitlab.notes[iid] == []
    assert gitlab.merge_requests[into_dev]["state"] == "closed" and gitlab.notes[into_dev] == []
    # Again: nothing open any more, nothing written.
    gitlab.requests.clear()
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "in-sync"
    assert gitlab.writes() == []


def test_in_sync_on_another_branch_leaves_the_merge_request_alone(repo: dict[str, Path], gitlab: FakeGitLab,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab)) == "pushed"
    merge_generated_files_into_main(repo["work"], repo["remote"])
    gitlab.requests.clear()
    assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(gitlab, CI_COMMIT_BRANCH="feature")) == "in-sync"
    assert gitlab.requests == [] and gitlab.merge_requests[1]["state"] == "opened"
    assert capsys.readouterr().out.splitlines()[-1] == (
        "jmo-schedule: running on feature, not main; a bot merge request is left as it is")
    assert git("branch", "--list", BRANCH, cwd=repo["remote"]).strip() == BRANCH


def test_in_sync_with_a_read_only_token_warns_and_goes_on(repo: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeGitLab(token=TOKEN, scopes=("write_repository", "read_api")).start()
    try:
        connect(repo["remote"], fake)
        fake.add_merge_request(BRANCH, title=gitlab_mr.DEFAULT_TITLE)
        merge_generated_files_into_main(repo["work"], repo["remote"])
        capsys.readouterr()
        assert gitlab_mr.open_merge_request(args(repo["remote"]), ci_env(fake)) == "in-sync"
    finally:
        fake.stop()
    assert capsys.readouterr().err == (
        "jmo-schedule: warning: GitLab API: comment on merge request !1: HTTP 403 (insufficient_scope); the token in "
        "$JMO_GITLAB_TOKEN lacks the api scope or the Maintainer role this needs; a stale merge request from "
        "jmo-schedule/sync is not closed\n")
    assert fake.merge_requests[1]["state"] == "opened"


def test_bot_merge_request_picks_only_this_projects_open_branch() -> None:
    def mr(iid: int, **over: Any) -> dict[str, Any]:
        return {"iid": iid, "state": "opened", "source_branch": BRANCH, "target_branch": "main",
                "source_project_id": 42, "target_project_id": 42, **over}

    assert gitlab_mr.bot_merge_request([mr(3), mr(2)], BRANCH, "main") == mr(2)
    for other in (mr(1, source_branch="jmo-schedule/sync-2"), mr(1, target_branch="dev"), mr(1, state="closed"),
                  mr(1, source_project_id=7), mr(1, state="merged")):
        assert gitlab_mr.bot_merge_request([other], BRANCH, "main") is None


def test_description_text_helpers() -> None:
    assert gitlab_mr.same_text("a\r\nb\n", "a\nb") and not gitlab_mr.same_text(None, "") and not gitlab_mr.same_text("a", "b")
    long = "x" * (gitlab_mr.DESCRIPTION_LIMIT + 10)
    cut = gitlab_mr.full_description(long)
    assert len(cut) == gitlab_mr.DESCRIPTION_LIMIT and cut.endswith(gitlab_mr.TRUNCATED)
    assert gitlab_mr.full_description("short") == "short"
