"""git with a token from the environment: the askpass program, git's one-line errors,
URLs in messages and the reset of a stored Authorization header."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jmo_schedule.sync import git_remote
from jmo_schedule.errors import JmoError


def test_askpass_answers_from_the_environment_and_holds_no_token(tmp_path: Path) -> None:
    path = git_remote.write_askpass(str(tmp_path), "JMO_GITLAB_TOKEN")
    assert "glpat" not in Path(path).read_text()
    out = subprocess.run([path, "Password for 'https://oauth2@gitlab.example.com': "], capture_output=True, text=True,
                         env={"JMO_GITLAB_TOKEN": "glpat-secret"})
    assert out.stdout == "glpat-secret\n"
    with pytest.raises(JmoError, match=r"^'X; rm -rf /' is not a variable name$"):
        git_remote.write_askpass(str(tmp_path), "X; rm -rf /")


def test_askpass_answers_a_username_prompt_with_the_username(tmp_path: Path) -> None:
    path = git_remote.write_askpass(str(tmp_path), "JMO_TOKEN", "x-access-token")
    env = {"JMO_TOKEN": "github_pat_secret"}
    ask = [subprocess.run([path, prompt], capture_output=True, text=True, env=env).stdout
           for prompt in ("Username for 'https://github.com': ", "Password for 'https://x-access-token@github.com': ")]
    assert ask == ["x-access-token\n", "github_pat_secret\n"]
    assert "github_pat_secret" not in Path(path).read_text()
    with pytest.raises(JmoError, match=r"^\"a'b\" is not a user name git can be given$"):
        git_remote.write_askpass(str(tmp_path), "JMO_TOKEN", "a'b")


def test_token_env_sets_askpass_only_when_the_variable_is_set(tmp_path: Path) -> None:
    with_token = git_remote.token_env({"T": "secret", "PATH": "/bin"}, str(tmp_path), "T", "oauth2")
    assert with_token["GIT_TERMINAL_PROMPT"] == "0" and with_token["GIT_ASKPASS"] == str(tmp_path / "askpass.sh")
    assert "GIT_ASKPASS" not in git_remote.token_env({"PATH": "/bin"}, str(tmp_path), "T")


@pytest.mark.parametrize("output, line", [
    ("To /srv/remote.git\n ! [remote rejected] HEAD -> main (pre-receive hook declined)\n"
     "error: failed to push some refs to '/srv/remote.git'\n",
     "! [remote rejected] HEAD -> main (pre-receive hook declined)"),
    ("remote: \nremote: You are not allowed to push code to this project.\nremote: \nTo https://gitlab.example.com/a/b.git\n"
     " ! [remote rejected] HEAD -> x (pre-receive hook declined)\nerror: failed to push some refs\n",
     "! [remote rejected] HEAD -> x (pre-receive hook declined) (remote: You are not allowed to push code to this "
     "project.)"),
    ("remote: HTTP Basic: Access denied.\nfatal: Authentication failed for 'https://gitlab.example.com/a/b.git/'\n",
     "Authentication failed for 'https://gitlab.example.com/a/b.git/'"),
    ("fatal: '../x.git' does not appear to be a git repository\n", "'../x.git' does not appear to be a git repository"),
    ("", ""),
])
def test_git_error_is_the_line_that_says_what_went_wrong(output: str, line: str) -> None:
    assert git_remote.git_error(output) == line


def test_failed_git_command_names_the_command_not_its_options(tmp_path: Path) -> None:
    git = git_remote.Git(str(tmp_path), {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    with pytest.raises(JmoError, match=r"^git log failed: not a git repository"):
        git.run("-c", "core.pager=cat", "log")


@pytest.mark.parametrize("url, shown", [
    ("https://oauth2:glpat-x@gitlab.example.com/a/b.git", "https://gitlab.example.com/a/b.git"),
    ("https://github.com/acme/app", "https://github.com/acme/app"),
    ("/srv/remote.git", "/srv/remote.git"),
])
def test_without_credentials(url: str, shown: str) -> None:
    assert git_remote.without_credentials(url) == shown


def test_reset_extraheader_targets_the_remote_host() -> None:
    assert git_remote.reset_extraheader("https://github.com/acme/app") == ["-c", "http.https://github.com/.extraheader="]
    assert git_remote.reset_extraheader("http://127.0.0.1:8080/a.git") == ["-c", "http.http://127.0.0.1:8080/.extraheader="]
    assert git_remote.reset_extraheader("/srv/remote.git") == []
