"""The GitLab bot merge request: regenerate (sync/core.py), commit the changed files on one fixed branch,
and push it with GitLab's merge request push options, which open the merge request or,
when one is already open for the branch, update it.

Run by the GitLab component's sync job as `jmo-schedule gitlab-mr` (commands/gitlab_mr.py).
The push authenticates with a project access token (write_repository) read from a masked
CI/CD variable through GIT_ASKPASS, so the token is never on a command line, in a URL,
in .git/config or in the log. Nothing is pushed when the branch on the remote already
holds exactly these files, so reruns create nothing new.

Push options cannot hold a newline, so after the push the merge request's description is set
to the full body sync's plan gives (a table of each file and why it changed) through the
REST API, with the same token (it needs the api scope; without it the description stays one
line and a warning says so). When sync finds nothing to change but a merge request from the
bot branch is still open, it is closed with a note and the branch deleted, as
peter-evans/create-pull-request does on GitHub.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..core.plural import counted
from ..errors import GitLabError, JmoError
from ..platforms.gitlab import GitLab
from .core import summary, sync
from .git_remote import BOT_EMAIL, BOT_NAME, COMMIT_MESSAGE, Git, one_line, remote_url, token_env
from .plan import change_line, pr_body

DEFAULT_BRANCH = "jmo-schedule/sync"
DEFAULT_TITLE = COMMIT_MESSAGE
DESCRIPTION_LIMIT = 1_048_576  # characters GitLab keeps of a merge request description
TRUNCATED = "\n\n_(truncated: the list is longer than GitLab keeps)_\n"


def push_options(target: str, title: str, labels: Sequence[str], description: str) -> list[str]:
    """`-o` options that make GitLab open (or update) the merge request for the pushed branch.
    Push options cannot hold a newline, so the description is one line."""
    opts = ["merge_request.create", f"merge_request.target={target}", f"merge_request.title={one_line(title)}",
            f"merge_request.description={one_line(description)}", "merge_request.remove_source_branch"]
    opts += [f"merge_request.label={one_line(label)}" for label in labels if label.strip()]
    out: list[str] = []
    for o in opts:
        out += ["-o", o]
    return out


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


def bot_merge_request(merge_requests: Sequence[Mapping[str, Any]], branch: str, target: str) -> Mapping[str, Any] | None:
    """The open merge request from the bot `branch` of this project into `target`, if any.
    Anything else the API answers (another branch, a fork's branch of the same name, a
    closed one) is never chosen, so it is never touched."""
    ours = [m for m in merge_requests
            if m.get("state") == "opened" and m.get("source_branch") == branch and m.get("target_branch") == target
            and m.get("source_project_id") == m.get("target_project_id") and isinstance(m.get("iid"), int)]
    return min(ours, key=lambda m: int(m["iid"])) if ours else None


def full_description(body: str) -> str:
    """The --pr-body text as GitLab can keep it (cut at its description limit)."""
    if len(body) <= DESCRIPTION_LIMIT:
        return body
    return body[:DESCRIPTION_LIMIT - len(TRUNCATED)] + TRUNCATED


def same_text(current: object, wanted: str) -> bool:
    """Equal as GitLab shows them: line endings and surrounding blank space do not count."""
    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    return isinstance(current, str) and norm(current) == norm(wanted)


def stale_note(target: str, source: str, branch: str) -> str:
    return (f"The default branch `{target}` already holds the pipeline files generated from `{source}`: "
            f"it is in sync, so this merge request is no longer needed. Closing it and deleting the branch `{branch}`.\n\n"
            "_Closed by `jmo-schedule sync`._\n")


def api_client(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[GitLab | None, str]:
    """A client for the project's API, or None and what is missing (outside GitLab CI)."""
    api_url = args.api_url or env.get("CI_API_V4_URL", "")
    project = args.project or env.get("CI_PROJECT_ID", "")
    token = env.get(args.token_variable or "", "")
    missing = [what for what, value in (("$CI_API_V4_URL", api_url), ("$CI_PROJECT_ID", project),
                                        (f"${args.token_variable}", token)) if not value]
    if missing:
        fix = (f": set ${args.token_variable} to a project access token with the api scope" if not token else "")
        return None, f"no GitLab API access ({' and '.join(missing)} not set{fix})"
    return GitLab(api_url, project, token, token_variable=args.token_variable), ""


def set_description(client: GitLab, args: argparse.Namespace, body: str,
                    log: Callable[[str], None]) -> str:
    """Give the open bot merge request the full description. Returns `updated`,
    `unchanged` (already equal: no PUT) or `missing` (no open merge request)."""
    mr = bot_merge_request(client.open_merge_requests(args.branch, args.target), args.branch, args.target)
    if mr is None:
        log(f"jmo-schedule: no open merge request from {args.branch} into {args.target}; description not set")
        return "missing"
    iid = int(mr["iid"])
    wanted = full_description(body)
    if same_text(mr.get("description"), wanted):
        log(f"jmo-schedule: merge request !{iid} already has this description")
        return "unchanged"
    client.edit_merge_request(iid, {"description": wanted})
    log(f"jmo-schedule: merge request !{iid}: description set to the list of changed files")
    return "updated"


def close_stale(client: GitLab, args: argparse.Namespace, source: str, delete_branch: Callable[[], bool],
                log: Callable[[str], None]) -> int | None:
    """Close the open bot merge request, if any, with a note saying why, and delete its
    branch. Returns the closed merge request's iid."""
    mr = bot_merge_request(client.open_merge_requests(args.branch, args.target), args.branch, args.target)
    if mr is None:
        return None
    iid = int(mr["iid"])
    client.add_note(iid, stale_note(args.target, source, args.branch))
    client.edit_merge_request(iid, {"state_event": "close"})
    deleted = delete_branch()
    log(f"jmo-schedule: {args.target} is in sync; closed merge request !{iid}"
        + (f" and deleted branch {args.branch}" if deleted else ""))
    return iid


def current_branch(env: Mapping[str, str], git: Git) -> str:
    """The branch this pipeline runs for ($CI_COMMIT_BRANCH; outside CI, HEAD's branch)."""
    if env.get("CI_COMMIT_BRANCH"):
        return env["CI_COMMIT_BRANCH"]
    proc = git.run("symbolic-ref", "--short", "-q", "HEAD", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _warn(line: str) -> None:
    sys.stderr.write(line + "\n")


def open_merge_request(args: argparse.Namespace, env: Mapping[str, str], log: Callable[[str], None] = print,
                       warn: Callable[[str], None] = _warn) -> str:
    """Sync, then push the branch with merge request options and give the merge request the
    full description. Returns what happened: `in-sync` (nothing to change; a stale bot
    merge request is closed), `unchanged` (the remote branch already has these files) or `pushed`."""
    root = Git(os.getcwd(), env).run("rev-parse", "--show-toplevel").stdout.strip()
    planned = sync(args.file, root, env=env, warn=warn)
    plan = planned.plan
    for change in plan.changes:
        log(change_line(change))
    log(summary(plan))
    files = [c.path for c in plan.changes]
    source = planned.source
    with tempfile.TemporaryDirectory(prefix="jmo-schedule-mr-") as tmp:
        known = args.remote or (default_remote(env) if env.get("CI_SERVER_URL") and env.get("CI_PROJECT_PATH") else "")
        git = Git(root, token_env(env, tmp, args.token_variable or "", remote=remote_url(Git(root, env), known)))
        if plan.in_sync:
            log("jmo-schedule: generated files are in sync; no merge request needed")
            _close_stale_merge_request(args, env, git, source, log, warn)
            return "in-sync"
        remote = known or default_remote(env)
        identity = ["-c", f"user.name={args.author_name}", "-c", f"user.email={args.author_email}"]
        git.run("checkout", "-q", "-B", args.branch)
        git.run("add", "-A", "--", *files)
        git.run(*identity, "commit", "-q", "--no-verify", "-m", args.commit_message)
        # Same files as the branch already on the remote: nothing to push, nothing new.
        outcome = "pushed"
        fetched = git.run("fetch", "-q", "--no-tags", remote, f"refs/heads/{args.branch}", check=False)
        if fetched.returncode == 0 and git.run("diff", "--quiet", "FETCH_HEAD", "HEAD", check=False).returncode == 0:
            log(f"jmo-schedule: branch {args.branch} already holds these changes; nothing pushed")
            outcome = "unchanged"
        else:
            options = push_options(args.target, args.title, _labels(args.labels), describe(files, source))
            try:
                git.run("push", "-q", "--force", *options, remote, f"HEAD:refs/heads/{args.branch}")
            except JmoError as exc:
                raise JmoError(f"{exc}; {push_fix(args.token_variable, env)}") from None
            log(f"jmo-schedule: pushed {args.branch} ({counted(len(files), 'file')}); merge request into {args.target} opened or updated")
        _set_description(args, env, pr_body(plan, planned.command), log, warn)
        return outcome


def push_fix(variable: str, env: Mapping[str, str]) -> str:
    """What to change when the bot branch cannot be pushed, naming the token's variable."""
    if not env.get(variable):
        return (f"${variable} is not set in this pipeline: store a project access token with the Maintainer role and "
                "the write_repository and api scopes as the masked CI/CD variable " + variable)
    return f"the project access token in ${variable} needs the write_repository scope and the Maintainer role"


def _set_description(args: argparse.Namespace, env: Mapping[str, str], body: str, log: Callable[[str], None],
                     warn: Callable[[str], None]) -> None:
    client, missing = api_client(args, env)
    if client is None:
        warn(f"jmo-schedule: warning: {missing}; the merge request description stays one line")
        return
    try:
        set_description(client, args, body, log)
    except GitLabError as exc:
        # The push went through; a token without the api scope only costs the long description.
        if exc.status != 403:
            raise
        warn(f"jmo-schedule: warning: {exc}; the merge request description stays one line")


def _close_stale_merge_request(args: argparse.Namespace, env: Mapping[str, str], git: Git, source: str,
                               log: Callable[[str], None], warn: Callable[[str], None]) -> None:
    branch = current_branch(env, git)
    if branch != args.target:
        # In sync here says nothing about the target branch: leave its merge request alone.
        log(f"jmo-schedule: running on {branch or 'a detached HEAD'}, not {args.target}; a bot merge request is left as it is")
        return
    client, missing = api_client(args, env)
    if client is None:
        warn(f"jmo-schedule: warning: {missing}; a stale merge request from {args.branch} is not closed")
        return

    def delete_branch() -> bool:
        remote = args.remote or default_remote(env)
        ref = f"refs/heads/{args.branch}"
        if git.run("ls-remote", "--exit-code", remote, ref, check=False).returncode != 0:
            return False
        git.run("push", "-q", remote, f":{ref}")
        return True

    try:
        close_stale(client, args, source, delete_branch, log)
    except GitLabError as exc:
        if exc.status != 403:
            raise
        warn(f"jmo-schedule: warning: {exc}; a stale merge request from {args.branch} is not closed")


def _labels(text: str) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]
