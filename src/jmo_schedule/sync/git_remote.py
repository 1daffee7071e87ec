"""git in a work tree, and pushing with a token that never leaves the environment.

Used by the GitLab bot merge request (gitlab_mr.py) and by the pull/merge request check
that commits regenerated files to the request's own branch (drift.py). The token is read
from an environment variable by a GIT_ASKPASS program that holds only the variable's
name, so it is never on a command line, in a URL, in .git/config or in the log. That
program answers only git's prompts for the remote's own host (scheme, host and port), and
git follows no HTTP redirect (http.followRedirects=false): a server that redirects a
push elsewhere gets an error, never the token.
"""
from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from ..errors import JmoError

# Who commits the regenerated files (the bot branch on GitLab, a pull / merge request's branch).
BOT_NAME = "jmo-schedule"
BOT_EMAIL = "jmo-schedule@noreply.invalid"
COMMIT_MESSAGE = "jmo-schedule: regenerate scheduled scan pipelines"

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USERNAME = re.compile(r"[A-Za-z0-9._-]+")
# What git puts in its prompt for an http(s) remote: the scheme and host[:port] (IPv6 in []).
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+")


class Git:
    """git in one work tree; failures become one-line JmoErrors without the token."""

    def __init__(self, cwd: str, env: Mapping[str, str]):
        self.cwd = cwd
        self.env = dict(env)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["git", *args], cwd=self.cwd, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            detail = git_error(proc.stderr or proc.stdout)
            command = next((a for a in args if not a.startswith("-") and "=" not in a), args[0])
            raise JmoError(f"git {command} failed: {detail}" if detail else f"git {command} failed (exit {proc.returncode})")
        return proc


def git_error(output: str) -> str:
    """The line of git's output that says what went wrong (git's own wording): for a
    refused push the `! [remote rejected] ...` line and what the server said."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    rejected = next((line for line in lines if line.startswith("! [")), None)
    if rejected:
        said = [line[len("remote:"):].strip() for line in lines if line.startswith("remote:")]
        said = [s for s in said if s.strip("=- ")]
        return one_line(rejected + (f" (remote: {' '.join(said)})" if said else ""))
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return one_line(line[len(prefix):])
    for line in lines:
        if line.startswith("! [") or line.startswith("remote: "):
            return one_line(line)
    return one_line(lines[-1]) if lines else ""


def one_line(text: str) -> str:
    return " ".join(text.split())


def http_origin(url: str) -> tuple[str, str | None] | None:
    """(`scheme://host[:port]` as git names it in its prompts, the user the URL names or
    None) of an http(s) URL; None for anything else (a remote name, a path, ssh)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    user, at, host = parts.netloc.rpartition("@")
    origin = f"{parts.scheme}://{host}"
    if not _ORIGIN.fullmatch(origin):
        return None
    user = user.partition(":")[0]
    return origin, (user if at and _USERNAME.fullmatch(user) else None)


def write_askpass(folder: str, variable: str, username: str | None = None, origin: str | None = None,
                  url_user: str | None = None) -> str:
    """A GIT_ASKPASS program that answers git's prompts for `origin` (`scheme://host[:port]`)
    only: a password prompt with the value of $variable, a username prompt with `username`
    (else with $variable). A prompt for another host (a redirect) gets no answer; without
    `origin` no prompt does. The password prompt names the user: `username`, the remote
    URL's `url_user`, or $variable itself when it answered the username prompt. The program
    holds the variable's name, never the token, so nothing secret is written to disk."""
    if not _VARIABLE.fullmatch(variable):
        raise JmoError(f"{variable!r} is not a variable name")
    for name in (username, url_user):
        if name is not None and not _USERNAME.fullmatch(name):
            raise JmoError(f"{name!r} is not a user name git can be given")
    if origin is not None and not _ORIGIN.fullmatch(origin):
        raise JmoError(f"{origin!r} is not an http(s) origin")
    path = os.path.join(folder, "askpass.sh")
    with open(path, "w") as fh:
        fh.write(_askpass_script(variable, username, origin, url_user))
    os.chmod(path, 0o700)
    return path


def _askpass_script(variable: str, username: str | None, origin: str | None, url_user: str | None) -> str:
    if origin is None:
        return "#!/bin/sh\nexit 1\n"
    scheme, _, host = origin.partition("://")
    token = f'printf "%s\\n" "${variable}"'
    user = f"printf '%s\\n' '{username}'" if username else token

    def prompt(kind: str, where: str) -> str:
        return f'"{kind} for \'{where}\': "'  # double-quoted: nothing in it is a pattern

    passwords = [prompt("Password", origin)]
    passwords += [prompt("Password", f"{scheme}://{user}@{host}") for user in dict.fromkeys((username, url_user)) if user]
    return "\n".join([
        "#!/bin/sh",
        "# Answers git's prompts for the remote's own host only; nothing for any other.",
        'case "$1" in',
        f"  {prompt('Username', origin)}) {user} ;;",
        f"  {'|'.join(passwords)}) {token} ;;",
        # Without a username git's next prompt names the token it got as the user.
        f"  *) [ \"$1\" = {prompt('Password', f'{scheme}://${variable}@{host}')} ] && {token} ;;",
        "esac",
        "",
    ])


def token_env(base: Mapping[str, str], folder: str, variable: str, username: str | None = None,
              remote: str | None = None) -> dict[str, str]:
    """`base` for git commands that authenticate with $variable through GIT_ASKPASS, never
    prompting on a terminal and never following an HTTP redirect. The token goes only to
    the origin of `remote` (an http(s) URL); without the variable set, or for a remote that
    is not an http(s) URL, git gets no askpass at all."""
    count = base.get("GIT_CONFIG_COUNT") or "0"
    n = int(count) if count.isdigit() else 0
    env = {**base, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": str(n + 1),
           f"GIT_CONFIG_KEY_{n}": "http.followRedirects", f"GIT_CONFIG_VALUE_{n}": "false"}
    found = http_origin(remote) if remote else None
    if base.get(variable) and found:
        env["GIT_ASKPASS"] = write_askpass(folder, variable, username, *found)
    return env


def remote_url(git: Git, remote: str) -> str:
    """The URL of `remote`: itself when it is a URL or a path, else the URL of the named remote."""
    if "://" in remote or os.sep in remote or remote.startswith("."):
        return remote
    proc = git.run("remote", "get-url", remote, check=False)
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else remote


def without_credentials(url: str) -> str:
    """`url` with any user:password part removed, for messages."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def reset_extraheader(url: str) -> list[str]:
    """`-c` options that drop an Authorization header a checkout stored for `url`'s host
    (actions/checkout with persist-credentials), so the askpass token is the one used."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    # An empty value resets the list of extra headers gathered so far (git-config(1)).
    return ["-c", f"http.{parts.scheme}://{host}/.extraheader="]
