"""git with a token from the environment: the askpass program, git's one-line errors,
URLs in messages and the reset of a stored Authorization header."""
from __future__ import annotations

import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fakes.server import serve

from jmo_schedule.sync import git_remote
from jmo_schedule.errors import JmoError


def test_askpass_answers_from_the_environment_and_holds_no_token(tmp_path: Path) -> None:
    path = git_remote.write_askpass(str(tmp_path), "JMO_GITLAB_TOKEN", origin="https://gitlab.example.com",
                                    url_user="oauth2")
    assert "glpat" not in Path(path).read_text()
    out = subprocess.run([path, "Password for 'https://oauth2@gitlab.example.com': "], capture_output=True, text=True,
                         env={"JMO_GITLAB_TOKEN": "glpat-secret"})
    assert out.stdout == "glpat-secret\n"
    with pytest.raises(JmoError, match=r"^'X; rm -rf /' is not a variable name$"):
        git_remote.write_askpass(str(tmp_path), "X; rm -rf /")


def test_askpass_answers_a_username_prompt_with_the_username(tmp_path: Path) -> None:
    path = git_remote.write_askpass(str(tmp_path), "JMO_TOKEN", "x-access-token", "https://github.com")
    env = {"JMO_TOKEN": "github_pat_secret"}
    ask = [subprocess.run([path, prompt], capture_output=True, text=True, env=env).stdout
           for prompt in ("Username for 'https://github.com': ", "Password for 'https://x-access-token@github.com': ")]
    assert ask == ["x-access-token\n", "github_pat_secret\n"]
    assert "github_pat_secret" not in Path(path).read_text()
    with pytest.raises(JmoError, match=r"^\"a'b\" is not a user name git can be given$"):
        git_remote.write_askpass(str(tmp_path), "JMO_TOKEN", "a'b")


def test_token_env_sets_askpass_only_when_the_variable_is_set(tmp_path: Path) -> None:
    remote = "https://gitlab.example.com/a/b.git"
    with_token = git_remote.token_env({"T": "secret", "PATH": "/bin"}, str(tmp_path), "T", "oauth2", remote)
    assert with_token["GIT_TERMINAL_PROMPT"] == "0" and with_token["GIT_ASKPASS"] == str(tmp_path / "askpass.sh")
    assert "GIT_ASKPASS" not in git_remote.token_env({"PATH": "/bin"}, str(tmp_path), "T", remote=remote)
    # A token only for an http(s) remote whose host is known: not for a name or a path.
    assert "GIT_ASKPASS" not in git_remote.token_env({"T": "secret"}, str(tmp_path), "T", remote="origin")


def test_token_env_makes_git_follow_no_redirect(tmp_path: Path) -> None:
    env = git_remote.token_env({"T": "s"}, str(tmp_path), "T", remote="https://h/x.git")
    assert (env["GIT_CONFIG_COUNT"], env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]) == (
        "1", "http.followRedirects", "false")
    # Configuration the job already passes this way stays.
    env = git_remote.token_env({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.x", "GIT_CONFIG_VALUE_0": "y"},
                               str(tmp_path), "T", remote="https://h/x.git")
    assert (env["GIT_CONFIG_COUNT"], env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_KEY_1"]) == (
        "2", "core.x", "http.followRedirects")


@pytest.mark.parametrize("prompt", [
    "Username for 'https://evil.example.com': ",
    "Password for 'https://oauth2@evil.example.com': ",
    "Password for 'https://oauth2@gitlab.example.com.evil.example.com': ",
    "Password for 'http://oauth2@gitlab.example.com': ",  # the same host, another scheme
    "Password for 'https://oauth2@gitlab.example.com:8443': ",  # the same host, another port
    "Password for 'https://a@evil@gitlab.example.com': ",
    "Enter passphrase for key '/root/.ssh/id_ed25519': ",
])
def test_askpass_answers_no_prompt_for_another_host(tmp_path: Path, prompt: str) -> None:
    path = git_remote.write_askpass(str(tmp_path), "T", "oauth2", "https://gitlab.example.com")
    out = subprocess.run([path, prompt], capture_output=True, text=True, env={"T": "glpat-secret"})
    assert (out.returncode, out.stdout) == (1, "")


def test_askpass_without_a_username_answers_the_prompt_that_names_the_token(tmp_path: Path) -> None:
    # With no user, git takes the first answer as the user and names it in the password prompt.
    path = git_remote.write_askpass(str(tmp_path), "T", origin="https://gitlab.example.com")
    env = {"T": "glpat-secret"}
    ask = [subprocess.run([path, prompt], capture_output=True, text=True, env=env).stdout
           for prompt in ("Username for 'https://gitlab.example.com': ",
                          "Password for 'https://glpat-secret@gitlab.example.com': ",
                          "Password for 'https://glpat-secret@evil.example.com': ")]
    assert ask == ["glpat-secret\n", "glpat-secret\n", ""]


def _git_server(redirect_to: str | None, seen: list[tuple[str, str | None]]) -> ThreadingHTTPServer:
    """A git smart-HTTP endpoint that asks for Basic credentials (recording what it gets), or
    that redirects every request to `redirect_to`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            if redirect_to:
                self.send_response(302)
                self.send_header("Location", redirect_to + self.path)
            else:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="GitLab"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

    return serve(Handler)


@pytest.mark.parametrize("follow", [None, "true"], ids=["git-default", "user-set-followRedirects"])
def test_a_push_redirected_to_another_host_never_sends_the_token_there(tmp_path: Path, follow: str | None) -> None:
    other: list[tuple[str, str | None]] = []
    api: list[tuple[str, str | None]] = []
    elsewhere = _git_server(None, other)
    target = _git_server(f"http://127.0.0.1:{elsewhere.server_address[1]}", api)
    try:
        work = tmp_path / "work"
        subprocess.run(["git", "init", "-q", str(work)], check=True)
        subprocess.run(["git", "-C", str(work), "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q",
                        "--allow-empty", "-m", "x"], check=True)
        remote = f"http://oauth2@127.0.0.1:{target.server_address[1]}/group/app.git"
        base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "JMO_GITLAB_TOKEN": "glpat-SECRET"}
        env = git_remote.token_env(base, str(tmp_path), "JMO_GITLAB_TOKEN", remote=remote)
        git = git_remote.Git(str(work), env)
        options = ["-c", f"http.followRedirects={follow}"] if follow else []
        with pytest.raises(JmoError) as exc:
            git.run(*options, "push", "-q", remote, "HEAD:refs/heads/jmo-schedule/sync")
        assert "glpat-SECRET" not in str(exc.value)
        assert all(auth is None for _, auth in other)  # the other host never got a credential
        assert all(auth is None for _, auth in api)
    finally:
        for server in (target, elsewhere):
            server.shutdown()
            server.server_close()


def test_a_push_to_the_remote_itself_gets_the_token(tmp_path: Path) -> None:
    import base64

    seen: list[tuple[str, str | None]] = []
    server = _git_server(None, seen)
    try:
        work = tmp_path / "work"
        subprocess.run(["git", "init", "-q", str(work)], check=True)
        remote = f"http://oauth2@127.0.0.1:{server.server_address[1]}/group/app.git"
        base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "JMO_GITLAB_TOKEN": "glpat-SECRET"}
        git = git_remote.Git(str(work), git_remote.token_env(base, str(tmp_path), "JMO_GITLAB_TOKEN", remote=remote))
        git.run("ls-remote", remote, check=False)
        assert seen[-1][1] == "Basic " + base64.b64encode(b"oauth2:glpat-SECRET").decode()
    finally:
        server.shutdown()
        server.server_close()


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
