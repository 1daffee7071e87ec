"""The GitLab bot merge request: regenerate, commit the changed files on one fixed branch,
and push it with GitLab's merge request push options, which open the merge request or,
when one is already open for the branch, update it.

Run by the GitLab component's sync job as `python -m jmo_schedule.gitlab_mr`; flags below.
The push authenticates with a project access token (write_repository) read from a masked
CI/CD variable through GIT_ASKPASS, so the token is never on a command line, in a URL,
in .git/config or in the log. Nothing is pushed when the branch on the remote already
holds exactly these files, so reruns create nothing new.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .errors import JmoError

DEFAULT_BRANCH = "jmo-schedule/sync"
DEFAULT_TITLE = "jmo-schedule: regenerate scheduled scan pipelines"
BOT_NAME = "jmo-schedule"
BOT_EMAIL = "jmo-schedule@noreply.invalid"


@dataclass(frozen=True)
class SyncResult:
    changed: bool
    files: list[str]


def parse_github_output(text: str) -> SyncResult:
    """Read `changed=` and `files<<DELIM` from what sync wrote to its output file."""
    changed = False
    files: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("changed="):
            changed = line.split("=", 1)[1].strip() == "true"
        elif line.startswith("files<<"):
            delim = line[len("files<<"):]
            i += 1
            while i < len(lines) and lines[i] != delim:
                if lines[i].strip():
                    files.append(lines[i])
                i += 1
        i += 1
    return SyncResult(changed, files)


def push_options(target: str, title: str, labels: Sequence[str], description: str) -> list[str]:
    """`-o` options that make GitLab open (or update) the merge request for the pushed branch.
    Push options cannot hold a newline, so the description is one line."""
    opts = ["merge_request.create", f"merge_request.target={target}", f"merge_request.title={_one_line(title)}",
            f"merge_request.description={_one_line(description)}", "merge_request.remove_source_branch"]
    opts += [f"merge_request.label={_one_line(label)}" for label in labels if label.strip()]
    out: list[str] = []
    for o in opts:
        out += ["-o", o]
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(files: Sequence[str], source: str) -> str:
    n = len(files)
    return (f"Regenerated {n} pipeline file{'s' if n != 1 else ''} from {source} "
            f"({', '.join(files[:5])}{' and more' if n > 5 else ''}). Regenerate locally: jmo-schedule sync -f {source}")


def default_remote(env: Mapping[str, str]) -> str:
    """https://oauth2@<server>/<project>.git from GitLab CI's variables (no secret in it)."""
    server = (env.get("CI_SERVER_URL") or "").rstrip("/")
    project = env.get("CI_PROJECT_PATH") or ""
    if not server or not project:
        raise JmoError("no remote to push to: pass --remote or run inside GitLab CI ($CI_SERVER_URL, $CI_PROJECT_PATH)")
    scheme, _, rest = server.partition("://")
    return f"{scheme}://oauth2@{rest}/{project}.git"


class Git:
    """git in one work tree; failures become one-line JmoErrors without the token."""

    def __init__(self, cwd: str, env: Mapping[str, str]):
        self.cwd = cwd
        self.env = dict(env)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["git", *args], cwd=self.cwd, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            detail = _git_error(proc.stderr or proc.stdout)
            raise JmoError(f"git {args[0]} failed: {detail}" if detail else f"git {args[0]} failed (exit {proc.returncode})")
        return proc


def _git_error(output: str) -> str:
    """The line of git's output that says what went wrong (git's own wording)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return _one_line(line[len(prefix):])
    for line in lines:
        if line.startswith("! [") or line.startswith("remote: "):
            return _one_line(line)
    return _one_line(lines[-1]) if lines else ""


def write_askpass(folder: str, variable: str) -> str:
    """A GIT_ASKPASS program that answers with the value of $variable. It holds the
    variable's name, never the token, so nothing secret is written to disk."""
    if not variable.replace("_", "a").isalnum() or variable[0].isdigit():
        raise JmoError(f"{variable!r} is not a variable name")
    path = os.path.join(folder, "askpass.sh")
    with open(path, "w") as fh:
        fh.write(f'#!/bin/sh\nexec printf "%s\\n" "${variable}"\n')
    os.chmod(path, 0o700)
    return path


def run_sync(file: str, pr_body: str) -> SyncResult:
    """`jmo-schedule sync -f FILE --pr-body BODY`, reading its changed/files outputs."""
    from .cli import main as cli_main

    with tempfile.TemporaryDirectory(prefix="jmo-schedule-") as tmp:
        out = os.path.join(tmp, "output")
        open(out, "w").close()
        saved = os.environ.get("GITHUB_OUTPUT")
        os.environ["GITHUB_OUTPUT"] = out
        try:
            code = cli_main(["sync", "-f", file, "--pr-body", pr_body])
        finally:
            if saved is None:
                os.environ.pop("GITHUB_OUTPUT", None)
            else:
                os.environ["GITHUB_OUTPUT"] = saved
        if code != 0:
            raise SystemExit(code)
        with open(out, encoding="utf-8") as fh:
            return parse_github_output(fh.read())


def open_merge_request(args: argparse.Namespace, env: Mapping[str, str], log: Callable[[str], None] = print) -> str:
    """Sync, then push the branch with merge request options. Returns what happened:
    `in-sync`, `unchanged` (the remote branch already has these files) or `pushed`."""
    root = Git(os.getcwd(), env).run("rev-parse", "--show-toplevel").stdout.strip()
    with tempfile.TemporaryDirectory(prefix="jmo-schedule-mr-") as tmp:
        body = os.path.join(tmp, "body.md")
        result = run_sync(args.file, body)
        if not result.changed:
            log("jmo-schedule: generated files are in sync; no merge request needed")
            return "in-sync"
        token = env.get(args.token_variable or "", "")
        git_env = {**env, "GIT_TERMINAL_PROMPT": "0"}
        if token:
            git_env["GIT_ASKPASS"] = write_askpass(tmp, args.token_variable)
        git = Git(root, git_env)
        remote = args.remote or default_remote(env)
        identity = ["-c", f"user.name={args.author_name}", "-c", f"user.email={args.author_email}"]
        git.run("checkout", "-q", "-B", args.branch)
        git.run("add", "-A", "--", *result.files)
        git.run(*identity, "commit", "-q", "--no-verify", "-m", args.commit_message)
        # Same files as the branch already on the remote: nothing to push, nothing new.
        fetched = git.run("fetch", "-q", "--no-tags", remote, f"refs/heads/{args.branch}", check=False)
        if fetched.returncode == 0:
            same = git.run("diff", "--quiet", "FETCH_HEAD", "HEAD", check=False).returncode == 0
            if same:
                log(f"jmo-schedule: branch {args.branch} already holds these changes; nothing pushed")
                return "unchanged"
        source = os.path.relpath(os.path.abspath(args.file), root).replace(os.sep, "/")
        options = push_options(args.target, args.title, _labels(args.labels), describe(result.files, source))
        git.run("push", "-q", "--force", *options, remote, f"HEAD:refs/heads/{args.branch}")
        log(f"jmo-schedule: pushed {args.branch} ({len(result.files)} files); merge request into {args.target} opened or updated")
        return "pushed"


def _labels(text: str) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m jmo_schedule.gitlab_mr", description=__doc__.split("\n\n")[0])
    p.add_argument("-f", "--file", default="schedules.yaml")
    p.add_argument("--branch", default=DEFAULT_BRANCH, help=f"the one bot branch (default {DEFAULT_BRANCH})")
    p.add_argument("--target", default=os.environ.get("CI_DEFAULT_BRANCH") or "main", help="target branch (default $CI_DEFAULT_BRANCH)")
    p.add_argument("--title", default=DEFAULT_TITLE)
    p.add_argument("--labels", default="", help="comma-separated merge request labels")
    p.add_argument("--commit-message", default=DEFAULT_TITLE)
    p.add_argument("--remote", help="push URL (default https://oauth2@$CI_SERVER_HOST/$CI_PROJECT_PATH.git)")
    p.add_argument("--token-variable", default="JMO_GITLAB_TOKEN", help="variable holding the project access token")
    p.add_argument("--author-name", default=BOT_NAME)
    p.add_argument("--author-email", default=BOT_EMAIL)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.token_variable and not args.token_variable.replace("_", "a").isalnum():
        sys.stderr.write(f"jmo-schedule: error: --token-variable {args.token_variable!r} is not a variable name\n")
        return 1
    try:
        open_merge_request(args, os.environ)
    except JmoError as exc:
        sys.stderr.write(f"jmo-schedule: error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
