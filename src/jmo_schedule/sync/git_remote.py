"""git in a work tree, and pushing with a token that never leaves the environment.

Used by the GitLab bot merge request (gitlab_mr.py) and by the pull/merge request check
that commits regenerated files to the request's own branch (drift.py). The token is read
from an environment variable by a GIT_ASKPASS program that holds only the variable's
name, so it is never on a command line, in a URL, in .git/config or in the log.
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


def write_askpass(folder: str, variable: str, username: str | None = None) -> str:
    """A GIT_ASKPASS program that answers a password prompt with the value of $variable and,
    when `username` is given, a username prompt with it. It holds the variable's name, never
    the token, so nothing secret is written to disk."""
    if not _VARIABLE.fullmatch(variable):
        raise JmoError(f"{variable!r} is not a variable name")
    if username is not None and not _USERNAME.fullmatch(username):
        raise JmoError(f"{username!r} is not a user name git can be given")
    path = os.path.join(folder, "askpass.sh")
    user = f"  Username*) echo '{username}' ;;\n" if username else ""
    with open(path, "w") as fh:
        fh.write(f'#!/bin/sh\ncase "$1" in\n{user}  *) printf "%s\\n" "${variable}" ;;\nesac\n')
    os.chmod(path, 0o700)
    return path


def token_env(base: Mapping[str, str], folder: str, variable: str, username: str | None = None) -> dict[str, str]:
    """`base` for git commands that authenticate with $variable through GIT_ASKPASS, never
    prompting on a terminal. Without the variable set, git gets no askpass at all."""
    env = {**base, "GIT_TERMINAL_PROMPT": "0"}
    if base.get(variable):
        env["GIT_ASKPASS"] = write_askpass(folder, variable, username)
    return env


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
