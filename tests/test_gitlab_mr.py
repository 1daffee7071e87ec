"""The GitLab bot merge request: sync, commit on one branch, push with merge request
options to a real bare remote whose hook records them; reruns push nothing."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, tool

from jmo_schedule import gitlab_mr
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
    return gitlab_mr.build_parser().parse_args(["--remote", str(remote), "--target", "main", "--labels", "a, b", *[
        x for k, v in over.items() for x in (f"--{k.replace('_', '-')}", v)]])


def pushes(remote: Path) -> list[str]:
    log = remote / "pushes.log"
    return log.read_text().splitlines() if log.exists() else []


def test_parse_github_output() -> None:
    text = "changed=true\nfiles<<EOF_x\na.yml\n.gitlab/b.yml\nEOF_x\n"
    assert gitlab_mr.parse_github_output(text) == gitlab_mr.SyncResult(True, ["a.yml", ".gitlab/b.yml"])
    assert gitlab_mr.parse_github_output("changed=false\nfiles<<D\nD\n") == gitlab_mr.SyncResult(False, [])


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


def test_askpass_answers_from_the_environment_and_holds_no_token(tmp_path: Path) -> None:
    path = gitlab_mr.write_askpass(str(tmp_path), "JMO_GITLAB_TOKEN")
    assert "glpat" not in Path(path).read_text()
    out = subprocess.run([path, "Password for 'https://oauth2@gitlab.example.com': "], capture_output=True, text=True,
                         env={"JMO_GITLAB_TOKEN": "glpat-secret"})
    assert out.stdout == "glpat-secret\n"
    with pytest.raises(JmoError, match=r"^'X; rm -rf /' is not a variable name$"):
        gitlab_mr.write_askpass(str(tmp_path), "X; rm -rf /")


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
    code = gitlab_mr.main(["--remote", str(repo["remote"]) + "-missing", "--target", "main"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("jmo-schedule: error: git ")
    assert err.count("\n") == 1 and "glpat-secret" not in err
    assert "does not appear to be a git repository" in err
