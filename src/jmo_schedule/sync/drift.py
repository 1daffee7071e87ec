"""What the pull / merge request check does when the generated files drift from the
schedules file (`jmo-schedule sync --on-drift POLICY`, the action's and the component's
input `check-sync`).

- `fail`: exit 1 with an error per file and the diff (the check is red).
- `warn`: exit 0 with a warning per file, the diff in the log (and on GitHub in the job
  summary) and a note that the sync bot opens its pull / merge request after merge.
- `commit` (the default): regenerate the files on the request's own branch, commit only
  them and push, so the request carries its generated files and the next run of the check
  is green. When that cannot be done it falls back to `warn` and says why in one line:
  not a pull / merge request, the bot's own branch, a fork, no token or one that cannot
  push (GitHub's own GITHUB_TOKEN never can: its pushes start no workflow and it may not
  write `.github/workflows/`), a refused push.
- `ignore`: do not look at the generated files.

A schema or validation error fails before any of this, whatever the policy.

It never loops: the bot's branch is never committed to; a commit is pushed only when the
branch it lands on is then in sync (so the check of the new commit pushes nothing), never
on top of a commit of jmo-schedule's own, and never with force.

`decide()` is pure; `review_from_env()` reads the CI environment; `push_regenerated()`
commits and pushes with git; `check()` ties them together and writes the report.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TextIO

from ..errors import JmoError, NotPushed
from ..pipeline.ci_env import provider
from ..pipeline.workflow_commands import command
from ..platforms.github import api_url
from .git_remote import (BOT_EMAIL, BOT_NAME, COMMIT_MESSAGE, Git, remote_url, reset_extraheader, token_env,
                         without_credentials)
from .github_pr import check_token
from .gitlab_mr import default_remote as gitlab_remote
from .plan import (
    CREATE,
    DELETE,
    DiskFile,
    FileChange,
    SyncPlan,
    UPDATE,
    apply_plan,
    changes_table,
    md_code,
    md_text,
    unified_diff,
)


FAIL = "fail"
WARN = "warn"
COMMIT = "commit"
IGNORE = "ignore"
POLICIES = (COMMIT, WARN, FAIL, IGNORE)
DEFAULT_POLICY = COMMIT
# An empty input means the default; "true" / "false" are the action's check-sync values of 1.0.
_ALIASES = {"": DEFAULT_POLICY, "true": FAIL, "false": IGNORE}

GITHUB = "github"  # the values of ci_env.provider()
GITLAB = "gitlab"
LOCAL = "local"

GITHUB_SECRET = "JMO_SCHEDULE_TOKEN"  # the secret the docs and examples store the token in
GITHUB_TOKEN_ENV = "JMO_TOKEN"  # where the action hands its `token` input to the CLI
GITLAB_TOKEN_ENV = "JMO_GITLAB_TOKEN"
# Username git sends with the token: what each platform documents for token logins.
_USERNAMES = {GITHUB: "x-access-token", GITLAB: "oauth2"}
SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub keeps of one step's $GITHUB_STEP_SUMMARY


def parse_policy(text: str) -> str:
    """A policy from an input value: fail, warn, commit or ignore (any case); empty is the default."""
    value = (text or "").strip().lower()
    value = _ALIASES.get(value, value)
    if value not in POLICIES:
        raise ValueError(f"{text!r} is not a drift policy: use commit, warn, fail or ignore")
    return value


@dataclass(frozen=True)
class Review:
    """The pull / merge request a check runs for, as the CI environment describes it."""

    platform: str  # github | gitlab | local
    branch: str | None = None  # the request's head / source branch; None: no request
    head_sha: str = ""  # the branch's commit this run checks ("" when unknown)
    not_a_request: str = ""  # why this run is not for a pull / merge request
    fork: str | None = None  # where the request comes from when that is another repository
    token_name: str = ""  # the secret / variable a user sets, for messages
    token_env: str = ""  # the environment variable the token is read from
    has_token: bool = False
    default_token: bool = False  # GitHub: the job's own GITHUB_TOKEN
    source_protected: bool | None = None  # GitLab: whether the source branch is protected
    repository: str = ""  # GitHub owner/name, GitLab project path

    @property
    def request(self) -> str:
        return {GITHUB: "pull request", GITLAB: "merge request"}.get(self.platform, "pull / merge request")

    @property
    def sync_bot(self) -> str:
        """Who brings the generated files once this request is merged."""
        if self.platform == GITLAB:
            return "the sync job opens its merge request with them after merge"
        return "the sync workflow opens its pull request with them after merge"


class Decision(NamedTuple):
    policy: str  # what is done: fail, warn or commit
    reason: str = ""  # why commit became warn


def review_from_env(env: Mapping[str, str], token_env: str | None = None) -> Review:
    """The request this run is for, read from GitHub Actions' or GitLab CI's variables
    (on GitHub also the event payload at $GITHUB_EVENT_PATH). Never fails: what cannot be
    read leaves the run looking like no request, which never commits."""
    where = provider(env)
    if where == GITHUB:
        return _github_review(env, token_env or GITHUB_TOKEN_ENV)
    if where == GITLAB:
        return _gitlab_review(env, token_env or GITLAB_TOKEN_ENV)
    return Review(LOCAL, not_a_request="this run is not in GitHub Actions or GitLab CI")


def _github_review(env: Mapping[str, str], token_env: str) -> Review:
    token: dict[str, Any] = dict(
        token_name=GITHUB_SECRET, token_env=token_env, has_token=bool((env.get(token_env) or "").strip()),
        default_token=(env.get("JMO_TOKEN_IS_DEFAULT") or "").strip().lower() == "true",
        repository=env.get("GITHUB_REPOSITORY") or "")
    event_name = env.get("GITHUB_EVENT_NAME") or "an unknown event"
    if event_name != "pull_request":
        # pull_request_target is refused on purpose: it would run the request's code with write access.
        return Review(GITHUB, not_a_request=f"this workflow runs on {event_name}, not pull_request", **token)
    try:
        with open(env.get("GITHUB_EVENT_PATH") or "", encoding="utf-8") as fh:
            event = json.load(fh)
        pr = event["pull_request"]
        head = pr["head"]
        branch = str(head["ref"])
    except (OSError, ValueError, KeyError, TypeError):
        return Review(GITHUB, not_a_request="the pull_request event payload ($GITHUB_EVENT_PATH) cannot be read",
                      **token)
    base_repo = env.get("GITHUB_REPOSITORY") or str((event.get("repository") or {}).get("full_name") or "")
    head_repo = (head.get("repo") or {}).get("full_name") if isinstance(head.get("repo"), dict) else None
    fork = None
    if not head_repo:
        fork = "a deleted fork"
    elif str(head_repo).lower() != base_repo.lower():
        fork = str(head_repo)
    return Review(GITHUB, branch=branch, head_sha=str(head.get("sha") or ""), fork=fork, **token)


def _gitlab_review(env: Mapping[str, str], token_env: str) -> Review:
    token: dict[str, Any] = dict(token_name=token_env, token_env=token_env,
                                 has_token=bool((env.get(token_env) or "").strip()),
                                 repository=env.get("CI_PROJECT_PATH") or "")
    source = env.get("CI_PIPELINE_SOURCE") or "unknown"
    branch = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or ""
    if source != "merge_request_event" or not branch:
        return Review(GITLAB, not_a_request=f"this is a {source} pipeline, not a merge request pipeline", **token)
    source_project, project = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), env.get("CI_PROJECT_ID")
    fork = None
    if source_project and project and source_project != project:
        fork = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH") or f"project {source_project}"
    protected = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_PROTECTED")
    # Merged results pipelines check a merge commit; the branch's own commit is then SOURCE_BRANCH_SHA.
    head_sha = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA") or ""
    return Review(GITLAB, branch=branch, head_sha=head_sha, fork=fork,
                  source_protected=None if protected is None else protected == "true", **token)


def decide(policy: str, review: Review, bot_branch: str) -> Decision:
    """What the check does. Only `commit` depends on the run: it becomes `warn`, with the
    reason in one line, wherever a push to the request's branch cannot or must not happen."""
    if policy != COMMIT:
        return Decision(policy)
    why = _why_not(review, bot_branch)
    return Decision(WARN, why) if why else Decision(COMMIT)


def _why_not(review: Review, bot_branch: str) -> str:
    if review.branch is None:
        return review.not_a_request
    if review.branch == bot_branch:
        return f"{review.branch} is the sync bot's own branch, which only the sync {_pipeline(review, 'job')} updates"
    if review.fork:
        return (f"the {review.request} comes from {review.fork}, and this {_pipeline(review)} may not push to "
                "another repository")
    if review.platform == GITHUB:
        if not review.has_token:
            return (f"no token to push with: store a GitHub App token or a fine-grained PAT with Contents and "
                    f"Workflows: read and write as the secret {GITHUB_SECRET} and pass it to the action as `token:`")
        if review.default_token:
            return ("the token is the job's own GITHUB_TOKEN, whose pushes start no workflow run (the pull request "
                    "would wait for its checks) and which may not change .github/workflows/: store a GitHub App token "
                    f"or a fine-grained PAT with Contents and Workflows: read and write as the secret {GITHUB_SECRET} "
                    "and pass it to the action as `token:`")
    if review.platform == GITLAB and not review.has_token:
        where = ""
        if review.source_protected is False:
            where = (f" (a protected CI/CD variable reaches only pipelines of protected branches, and "
                     f"{review.branch} is not protected)")
        return (f"${review.token_name} is not set in this pipeline{where}: to commit here, give the validate job a "
                "project access token with the Developer role and the write_repository scope in a masked variable "
                "that is not protected, named by the component input check-sync-token-variable")
    return ""


def _pipeline(review: Review, gitlab_word: str = "pipeline") -> str:
    return gitlab_word if review.platform == GITLAB else "workflow"


# ------------------------------------------------------------------------------------
# Committing to the request's branch


class Pushed(NamedTuple):
    branch: str
    commit: str
    files: tuple[str, ...]


Replan = Callable[[str], "tuple[SyncPlan, Mapping[str, DiskFile]]"]


def push_regenerated(root: str, review: Review, remote: str, env: Mapping[str, str], replan: Replan) -> Pushed:
    """Regenerate the files on the tip of the request's branch (in a temporary work tree,
    so the checkout is left as it is), commit only them as jmo-schedule and push them to
    that branch without force. `replan(tree)` plans sync in a work tree. Raises NotPushed
    with the reason when nothing was pushed."""
    branch = review.branch or ""
    where = without_credentials(remote)
    with tempfile.TemporaryDirectory(prefix="jmo-schedule-check-") as tmp:
        url = remote_url(Git(root, env), remote)
        git = Git(root, token_env(env, tmp, review.token_env, _USERNAMES.get(review.platform), url))
        if git.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode != 0:
            raise NotPushed(f"{branch!r} is not a branch name git accepts")
        auth = reset_extraheader(remote)
        shallow = git.run("rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true"
        try:
            git.run(*auth, "fetch", "-q", "--no-tags", *(["--depth=1"] if shallow else []), remote,
                    f"refs/heads/{branch}")
        except JmoError as exc:
            raise NotPushed(f"cannot fetch {branch} from {where} ({exc}); {push_hint(review, str(exc))}") from None
        head = git.run("rev-parse", "FETCH_HEAD").stdout.strip()
        if review.head_sha and head != review.head_sha:
            raise NotPushed(f"{branch} has moved on to {head[:12]} since this check started; the check of that "
                            "commit takes care of it")
        tree = os.path.join(tmp, "tree")
        git.run("worktree", "add", "-q", "--detach", tree, head)
        try:
            plan, disk = replan(tree)
            if plan.in_sync:
                raise NotPushed(f"{branch} itself is in sync; the difference comes from merging it with its base "
                                f"branch (bring {branch} up to date with the base)")
            if git.run("log", "-1", "--format=%ae", head).stdout.strip() == BOT_EMAIL:
                raise NotPushed(f"the last commit on {branch} is already jmo-schedule's and the files still differ; "
                                "not pushing again")
            apply_plan(plan, tree, disk)
            work = Git(tree, git.env)
            paths = [c.path for c in plan.changes]
            work.run("add", "-A", "--", *paths)
            work.run("-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}", "-c", "commit.gpgsign=false",
                     "commit", "-q", "--no-verify", "-m", COMMIT_MESSAGE)
            # The check of the pushed commit must find nothing to do, or it would push again.
            if not replan(tree)[0].in_sync:
                raise NotPushed("regenerating on the committed files changes them again; nothing pushed")
            commit = work.run("rev-parse", "HEAD").stdout.strip()
            try:
                # From the checkout, which shares the work tree's objects: a relative remote means the same.
                git.run(*auth, "push", "-q", remote, f"{commit}:refs/heads/{branch}")
            except JmoError as exc:
                raise NotPushed(f"the push to {branch} on {where} was refused ({exc}); "
                                f"{push_hint(review, str(exc))}") from None
            return Pushed(branch, commit, tuple(paths))
        finally:
            git.run("worktree", "remove", "--force", tree, check=False)


def push_hint(review: Review, detail: str) -> str:
    """What to change so the next push goes through, for git's one-line error `detail`."""
    text = detail.lower()
    if any(w in text for w in ("non-fast-forward", "fetch first", "stale info")):
        return "the branch moved on while this check ran; the check of its new commit tries again"
    if review.platform == GITHUB:
        if "workflow" in text:
            return (f"the token in the secret {GITHUB_SECRET} needs Workflows: read and write to change "
                    ".github/workflows/ (a classic PAT: the workflow scope)")
        return (f"the token in the secret {GITHUB_SECRET} needs Contents: read and write on "
                f"{review.repository or 'this repository'} (a classic PAT: the repo scope)")
    if review.platform == GITLAB:
        return (f"${review.token_name} needs the write_repository scope and at least the Developer role "
                f"(Maintainer when {review.branch} is protected)")
    return "check the remote and the token"


def default_remote(review: Review, env: Mapping[str, str], root: str) -> str:
    """Where the request's branch lives: the checkout's origin on GitHub (what
    actions/checkout fetched from), https://oauth2@<server>/<project>.git on GitLab."""
    if review.platform == GITLAB:
        return gitlab_remote(env)

    origin = Git(root, env).run("remote", "get-url", "origin", check=False)
    if origin.returncode == 0 and origin.stdout.strip():
        return origin.stdout.strip()
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    if not review.repository:
        raise NotPushed("no remote to push to: the checkout has no origin and $GITHUB_REPOSITORY is not set")
    return f"{server}/{review.repository}.git"


# ------------------------------------------------------------------------------------
# The check


@dataclass(frozen=True)
class Settings:
    """How `check` runs: the policy, and for commit where and as what to push."""

    policy: str
    root: str
    source: str  # the schedules file, relative to root
    command: str  # how to regenerate locally
    bot_branch: str = "jmo-schedule/sync"
    token_env: str | None = None
    remote: str | None = None


def check(plan: SyncPlan, settings: Settings, replan: Replan, env: Mapping[str, str] | None = None,
          out: TextIO | None = None) -> int:
    """Report `plan` under the policy and carry it out; the exit code of the check.
    `replan(tree)` plans sync again in a work tree of the request's branch (plan, disk)."""
    env = os.environ if env is None else env
    out = out or sys.stdout
    if plan.in_sync:
        n = len(plan.files)
        out.write(f"in sync: {n} generated file{'s' if n != 1 else ''} match {plan.source}\n")
        return 0
    review = review_from_env(env, settings.token_env)
    decision = decide(settings.policy, review, settings.bot_branch)
    pushed = None
    if decision.policy == COMMIT:
        try:
            _check_github_token(review, plan, env)
            remote = settings.remote or default_remote(review, env, settings.root)
            pushed = push_regenerated(settings.root, review, remote, env, replan)
        except JmoError as exc:
            decision = Decision(WARN, str(exc))
    github = review.platform == GITHUB
    report = Report(plan, decision, pushed, settings, review)
    out.write(report.log(annotate=github))
    if github and env.get("GITHUB_STEP_SUMMARY"):
        _append_summary(env["GITHUB_STEP_SUMMARY"], report)
    return 1 if decision.policy == FAIL else 0


def _check_github_token(review: Review, plan: SyncPlan, env: Mapping[str, str]) -> None:
    """A classic PAT without the workflow scope cannot push workflow files: say so before trying."""
    if review.platform != GITHUB:
        return

    result = check_token([c.path for c in plan.changes], is_default_token=False,
                         token=env.get(review.token_env, ""), api_url=api_url(env), repository=review.repository)
    if not result.ok:
        raise NotPushed(result.message)


# ------------------------------------------------------------------------------------
# Reports


def drift_line(change: FileChange, source: str) -> str:
    """`PATH: missing (schedule x added)`, `PATH: hand-edited; ...`: one file's drift."""
    if change.hand_edited:
        return f"{change.path}: hand-edited; sync would restore the generated text (edit {source} instead)"
    verb = {CREATE: "missing", UPDATE: "out of date", DELETE: "orphaned"}[change.action]
    return f"{change.path}: {verb} ({change.reason})"


@dataclass(frozen=True)
class Report:
    """What the check says, in the log and in GitHub's job summary."""

    plan: SyncPlan
    decision: Decision
    pushed: Pushed | None
    settings: Settings
    review: Review

    @property
    def count(self) -> str:
        n = len(self.plan.changes)
        return f"{n} file{'s' if n != 1 else ''}"

    def conclusion(self) -> str:
        """The last line: what happened and what comes next."""
        s, count = self.settings, self.count
        if self.pushed is not None:
            return (f"pushed {count} regenerated from {s.source} to {self.pushed.branch} as {self.pushed.commit[:12]}; "
                    f"the check runs again on that commit")
        if self.decision.policy == FAIL:
            return f"{count} out of sync with {s.source}; run: {s.command}"
        why = self.decision.reason or "check-sync is warn"
        return (f"{count} out of sync with {s.source}, not committed here: {why}. The check passes: "
                f"{self.review.sync_bot}; to commit them yourself, run: {s.command}")

    def log(self, annotate: bool) -> str:
        """Every drifting file with its diff, then the conclusion; with `annotate`, GitHub
        workflow commands (an error or warning on each file, the conclusion as a notice or warning)."""
        kind = {FAIL: "error", WARN: "warning"}.get(self.decision.policy)
        lines: list[str] = []
        for change in self.plan.changes:
            line = drift_line(change, self.settings.source)
            lines.append(f"drift: {line}\n")
            if annotate and kind:
                lines.append(command(kind, line, file=change.path, title="jmo-schedule sync") + "\n")
            if annotate:  # a folded group per file keeps a long diff out of the way
                lines += [command("group", f"diff of {change.path}") + "\n", unified_diff(change), "::endgroup::\n"]
            else:
                lines.append(unified_diff(change))
        end = self.conclusion()
        if annotate and self.decision.policy != FAIL:
            lines.append(command("notice" if self.pushed else "warning", end, title="jmo-schedule sync") + "\n")
        elif self.decision.policy == WARN:
            lines.append(f"jmo-schedule: warning: {end}\n")
        else:
            lines.append(f"{'jmo-schedule: ' if self.pushed else ''}{end}\n")
        return "".join(lines)

    def summary(self, budget: int) -> str:
        """Markdown for $GITHUB_STEP_SUMMARY in at most `budget` bytes: the conclusion, a
        table of the files and as much of the diff as fits."""
        title = {FAIL: "out of date", WARN: "out of date (not committed)", COMMIT: "regenerated on this branch"}
        head = [f"## jmo-schedule: generated files {title[self.decision.policy]}", "", md_text(self.conclusion()), "",
                *changes_table(self.plan.changes), ""]
        text = "\n".join(head) + "\n"
        if self.pushed is not None or len(text.encode()) > budget:
            return _fit(text, budget)
        diff = "".join(unified_diff(c) for c in self.plan.changes)
        fence = "`" * max(3, _longest_backtick_run(diff) + 1)
        opening = f"<details><summary>Diff against {md_code(self.settings.source)}</summary>\n\n{fence}diff\n"
        closing = f"{fence}\n\n</details>\n"
        cut_note = "... (cut to fit GitHub's job summary; the job log has the whole diff)\n"
        room = budget - len((text + opening + closing + cut_note).encode())
        if room <= 0:
            return text
        data = diff.encode()
        if len(data) > room:
            kept = data[:room].decode("utf-8", "ignore")
            diff = kept[:kept.rfind("\n") + 1] + cut_note
        return text + opening + diff + closing


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _fit(text: str, budget: int) -> str:
    data = text.encode()
    return text if len(data) <= budget else data[:budget].decode("utf-8", "ignore")


def _append_summary(path: str, report: Report) -> None:
    """Append the report to the step summary within what is left of GitHub's 1 MiB."""
    try:
        used = os.path.getsize(path)
    except OSError:
        used = 0
    budget = SUMMARY_LIMIT - used - 1024  # the margin keeps us clear of the limit however GitHub counts
    if budget <= 0:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(report.summary(budget))
    except OSError as exc:
        raise JmoError(f"$GITHUB_STEP_SUMMARY ({path}): cannot append: {exc.strerror}") from None
