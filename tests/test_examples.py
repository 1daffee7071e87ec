"""The user's copy-paste setups under examples/: real files, linted by the real tools."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, WHEELHOUSE, Dists, offline_pip_env, tool
from fakes.slack import FakeSlack
from pull_request import BRANCH, GENERATED, SCHEDULES, git, make_repository, pushes

GITHUB_EXAMPLES = sorted((ROOT / "examples" / "github").glob("*.yml"))
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"


def test_every_example_file_is_checked_here() -> None:
    # A new file under examples/ needs its own checks here (schedules.yaml: test_validate and test_sync).
    files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").rglob("*") if p.is_file())
    assert files == ["examples/github/jmo-schedule-sync.yml", "examples/github/jmo-schedule-validate.yml",
                     "examples/gitlab/.gitlab-ci.yml", "examples/schedules.yaml"]


def test_the_github_setup_is_a_validate_and_a_sync_workflow() -> None:
    assert [p.name for p in GITHUB_EXAMPLES] == ["jmo-schedule-sync.yml", "jmo-schedule-validate.yml"]


def test_github_examples_pass_the_workflow_schema() -> None:
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                          *map(str, GITHUB_EXAMPLES)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_github_examples_pass_actionlint() -> None:
    run = subprocess.run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *map(str, GITHUB_EXAMPLES)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_github_examples_pass_zizmor() -> None:
    run = subprocess.run([tool("zizmor"), "--offline", "--no-progress", *map(str, GITHUB_EXAMPLES)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr


def test_docs_link_the_examples_and_show_no_other_copy_of_them() -> None:
    """The setups live in examples/ only: the docs link them; no page shows its own validate
    or sync step, or its own include of the component, in a code block."""
    setup = (ROOT / "docs" / "ci-setup.md").read_text()
    for example in [*GITHUB_EXAMPLES, ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"]:
        assert f"(../{example.relative_to(ROOT).as_posix()})" in setup, example
    fences = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in fences.findall(page.read_text()):
            assert not re.search(r"command: (validate|sync)\b|component: \S*gitlab-component@", block), (
                f"{page.relative_to(ROOT)} shows a setup of its own; link the file in examples/ instead:\n{block}")


def test_github_examples_pin_third_party_actions_as_this_repository_does() -> None:
    def pins(paths: list[Path]) -> dict[str, str]:
        found: dict[str, str] = {}
        for path in paths:
            for m in re.finditer(r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40})", path.read_text()):
                found[m.group(1)] = m.group(2)
        return found

    ours = pins(sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    theirs = pins(GITHUB_EXAMPLES)
    assert theirs and all(ours.get(action) == sha for action, sha in theirs.items()), (theirs, ours)


# ------------------------------------------------------------------------------------
# The validate workflow, run verbatim by act on a pull request whose branch adds
# schedules.yaml without the generated files (the first pull request of a new user).
# `jmo/schedule-action@v1` is this working tree; every other remote action is a local
# stub; the repository's remote is a local bare repository (git's url.insteadOf maps
# https://github.com/acme/app.git to it) whose hook records each push.

VALIDATE = ROOT / "examples" / "github" / "jmo-schedule-validate.yml"
REPO_URL = "https://github.com/acme/app.git"
STUB_CHECKOUT_PR = """\
name: checkout stub
description: what actions/checkout does for a pull_request event, a shallow fetch of the merge ref, detached
inputs:
  persist-credentials: {description: p}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        PR: ${{ github.event.pull_request.number }}
      run: |
        set -e
        cd "$GITHUB_WORKSPACE"
        git init -q
        git remote add origin "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git"
        git fetch -q --no-tags --depth=1 origin "+refs/pull/$PR/merge:refs/remotes/pull/$PR/merge"
        git checkout -q --detach "refs/remotes/pull/$PR/merge"
"""
# The action's own remote actions (setup-python, cache, create-pull-request): validate runs
# only the cache step, and a cache miss does nothing.
STUB_NOTHING = """\
name: stub
description: does nothing, as a cache miss does
runs:
  using: composite
  steps:
    - shell: bash
      run: "true"
"""


def _stub(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "action.yml").write_text(text)
    return folder


def github_project(base: Path, schedules: str = SCHEDULES) -> dict[str, Any]:
    """The user's repository on 'GitHub' (a bare remote) and act's working copy of it."""
    repo = make_repository(base, {".github/workflows/" + VALIDATE.name: VALIDATE.read_text(),  # verbatim
                                  "README.md": "# app\n"}, {"schedules.yaml": schedules})
    remote, seed, head, run, home = repo["remote"], repo["seed"], repo["head"], base / "run", base / "home"
    home.mkdir()
    update_merge_ref(repo)
    (home / ".gitconfig").write_text(f'[url "{remote}"]\n\tinsteadOf = {REPO_URL}\n')
    git(base, "clone", "-q", str(remote), str(run))
    git(run, "remote", "set-url", "origin", REPO_URL)  # act reads the repository from it
    action = base / "action"
    action.mkdir()
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, action / name)
    shutil.copytree(ROOT / "src", action / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return {"base": base, "remote": remote, "seed": seed, "run": run, "home": home, "action": action, "head": head}


def update_merge_ref(p: dict[str, Any]) -> None:
    """refs/pull/7/merge: the branch merged into main, as GitHub keeps it for a pull request."""
    seed = p["seed"]
    git(seed, "fetch", "-q", str(p["remote"]), f"+refs/heads/{BRANCH}:refs/remotes/origin/{BRANCH}")
    git(seed, "checkout", "-q", "--detach", "main")
    git(seed, "merge", "-q", "--no-ff", "-m", f"Merge {BRANCH} into main", f"refs/remotes/origin/{BRANCH}")
    git(seed, "push", "-q", "--force", str(p["remote"]), "HEAD:refs/pull/7/merge")
    git(seed, "checkout", "-q", BRANCH)


def act_validate(p: dict[str, Any], name: str, *, variables: dict[str, str] | None = None,
                 secrets: dict[str, str] | None = None, head_repo: str = "acme/app",
                 head_sha: str | None = None) -> dict[str, Any]:
    """One pull_request run of the example workflow; returns its exit code, log and the pushes."""
    base = p["base"] / name
    event = base / "event.json"
    base.mkdir()
    event.write_text(json.dumps({
        "action": "synchronize",
        "pull_request": {"number": 7, "head": {"ref": BRANCH, "sha": head_sha or p["head"], "repo": {"full_name": head_repo}},
                         "base": {"ref": "main", "repo": {"full_name": "acme/app"}}},
        "repository": {"full_name": "acme/app"}}))
    stubs = {CHECKOUT: _stub(base / "checkout", STUB_CHECKOUT_PR), "jmo/schedule-action@v1": p["action"]}
    for ref in re.findall(r"uses: ([\w.-]+/[\w./-]+@[0-9a-f]{40})", (ROOT / "action.yml").read_text()):
        stubs[ref] = stubs.get(ref) or _stub(base / ref.split("@")[0].replace("/", "-"), STUB_NOTHING)
    # GitHub's answer for a classic PAT names its scopes; jmo-schedule asks before pushing workflow files.
    github = FakeSlack(routes={("GET", "/repos/acme/app"): (200, {"full_name": "acme/app"},
                                                              {"X-OAuth-Scopes": "repo, workflow"})})
    github.start()
    cmd = [tool("act"), "pull_request", "-e", str(event), "-W", f".github/workflows/{VALIDATE.name}",
           "-P", "ubuntu-24.04=-self-hosted", "--no-cache-server", "--no-skip-checkout",
           "--env", f"GITHUB_API_URL={github.base}",
           "-s", "GITHUB_TOKEN=ghs_default_job_token"]
    for key, value in (variables or {}).items():
        cmd += ["--var", f"{key}={value}"]
    for key, value in (secrets or {}).items():
        cmd += ["-s", f"{key}={value}"]
    for ref, path in stubs.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    # act runs on the host: the action finds the host's python3, not this test's venv.
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if Path(d) != Path(sys.executable).parent)
    # The install step's pip reads only the test wheelhouse (offline).
    env = {**offline_pip_env(), "HOME": str(p["home"]), "PATH": path}
    for var in ("VIRTUAL_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS"):
        env.pop(var, None)
    before = set(pushes(p["remote"]))
    try:
        proc = subprocess.run(cmd, cwd=p["run"], env=env, capture_output=True, text=True, timeout=600)
    finally:
        github.stop()
    log = proc.stdout + proc.stderr
    (base / "act.log").write_text(log)  # kept for debugging a failure
    return {"rc": proc.returncode, "log": log,
            "pushes": [x for x in pushes(p["remote"]) if x not in before],
            "api": [(r.method, r.path, r.headers.get("Authorization")) for r in github.requests]}


def _tail(run: dict[str, Any]) -> str:
    return run["log"][-5000:]


def _summary(run: dict[str, Any]) -> str:
    """What the step wrote to $GITHUB_STEP_SUMMARY (act prints it after the step)."""
    return run["log"].split("## jmo-schedule: generated files", 1)[1].split("\n[jmo-schedule validate/", 1)[0]


@pytest.fixture(scope="module")
def github_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every act run of the example, two at a time (each builds its own venv)."""
    from concurrent.futures import ThreadPoolExecutor

    base = tmp_path_factory.mktemp("examples-github")
    token = {"JMO_SCHEDULE_TOKEN": "ghp_user_pat_secret"}
    scenarios = {
        "fail": (SCHEDULES, dict(variables={"JMO_CHECK_SYNC": "fail"}, secrets=token)),
        "warn": (SCHEDULES, dict(variables={"JMO_CHECK_SYNC": "warn"}, secrets=token)),
        "commit": (SCHEDULES, dict(secrets=token)),
        "fork": (SCHEDULES, dict(secrets=token, head_repo="mallory/app")),
        "no-secret": (SCHEDULES, {}),
        "invalid": (SCHEDULES.replace('"0 3 * * 1"', '"0 3 * * 9"'), dict(secrets=token)),
    }
    projects = {name: github_project(base / name, text) for name, (text, _) in scenarios.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(act_validate, projects[name], "first", **kw) for name, (_, kw) in scenarios.items()}
        runs = {name: f.result() for name, f in futures.items()}
    # The check of the commit it pushed: in sync, nothing pushed again.
    project = projects["commit"]
    pushed = runs["commit"]["pushes"][0].split()[1] if runs["commit"]["pushes"] else project["head"]
    update_merge_ref(project)
    runs["rerun"] = act_validate(project, "rerun", secrets=token, head_sha=pushed)
    runs["commit"]["project"] = project
    return runs


@pytest.mark.slow
def test_github_example_fail_is_red_with_an_error_on_each_file(github_runs: dict[str, dict[str, Any]]) -> None:
    run = github_runs["fail"]
    assert run["rc"] != 0
    assert ("::error file=.github/workflows/jmo-nightly.yml,title=jmo-schedule sync::"
            ".github/workflows/jmo-nightly.yml: missing (schedule nightly added)") in run["log"], _tail(run)
    assert "2 files out of sync with schedules.yaml; run: jmo-schedule sync -f schedules.yaml" in run["log"]
    assert run["pushes"] == []


@pytest.mark.slow
def test_github_example_warn_is_green_with_warnings_and_the_diff_in_the_summary(
        github_runs: dict[str, dict[str, Any]]) -> None:
    run = github_runs["warn"]
    assert run["rc"] == 0, _tail(run)
    assert ("::warning file=deploy/kubernetes/jmo-weekly.yaml,title=jmo-schedule sync::"
            "deploy/kubernetes/jmo-weekly.yaml: missing (schedule weekly added)") in run["log"]
    assert ("2 files out of sync with schedules.yaml, not committed here: check-sync is warn. The check passes: the "
            "sync workflow opens its pull request with them after merge") in run["log"]
    summary = _summary(run)
    assert "| `.github/workflows/jmo-nightly.yml` | added | schedule nightly added |" in summary
    assert "+++ b/deploy/kubernetes/jmo-weekly.yaml" in summary
    assert run["pushes"] == []


@pytest.mark.slow
def test_github_example_commit_pushes_exactly_the_generated_files(github_runs: dict[str, dict[str, Any]]) -> None:
    run = github_runs["commit"]
    assert run["rc"] == 0, _tail(run)
    [push] = run["pushes"]
    ref, commit = push.split()
    assert ref == f"refs/heads/{BRANCH}"
    remote, head = run["project"]["remote"], run["project"]["head"]
    assert git(remote, "rev-parse", f"{commit}^") == head
    assert git(remote, "diff", "--name-status", head, commit).splitlines() == [f"A\t{f}" for f in GENERATED]
    assert git(remote, "log", "-1", "--format=%an|%s", commit) == "jmo-schedule|jmo-schedule: regenerate scheduled scan pipelines"
    assert (f"::notice title=jmo-schedule sync::pushed 2 files regenerated from schedules.yaml to {BRANCH} as "
            f"{commit[:12]}; the check runs again on that commit") in run["log"]
    # The token's scopes were asked for (a classic PAT must have `workflow`), and never printed.
    assert run["api"] == [("GET", "/repos/acme/app", "Bearer ghp_user_pat_secret")]
    assert "ghp_user_pat_secret" not in run["log"]


@pytest.mark.slow
def test_github_example_rerun_on_the_pushed_commit_is_green_and_pushes_nothing(
        github_runs: dict[str, dict[str, Any]]) -> None:
    run = github_runs["rerun"]
    assert run["rc"] == 0, _tail(run)
    assert "in sync: 2 generated files match schedules.yaml" in run["log"]
    assert run["pushes"] == []


@pytest.mark.slow
@pytest.mark.parametrize("name, reason", [
    ("fork", "not committed here: the pull request comes from mallory/app, and this workflow may not push to another "
             "repository. The check passes"),
    ("no-secret", "not committed here: no token to push with: store a GitHub App token or a fine-grained PAT with "
                  "Contents and Workflows: read and write as the secret JMO_SCHEDULE_TOKEN and pass it to the action "
                  "as `token:`. The check passes"),
])
def test_github_example_commit_falls_back_to_warn(github_runs: dict[str, dict[str, Any]], name: str, reason: str) -> None:
    run = github_runs[name]
    assert run["rc"] == 0, _tail(run)
    assert f"::warning title=jmo-schedule sync::2 files out of sync with schedules.yaml, {reason}" in run["log"]
    assert run["pushes"] == []


@pytest.mark.slow
def test_github_example_invalid_schedules_fail_whatever_the_policy(github_runs: dict[str, dict[str, Any]]) -> None:
    run = github_runs["invalid"]
    assert run["rc"] != 0
    assert ("::error file=schedules.yaml,line=17,col=22,title=jmo-schedule%3A spec.schedule::"
            "day of week 9 is outside 0-7") in run["log"], _tail(run)
    assert "drift:" not in run["log"]  # the drift check never ran
    assert run["pushes"] == []


# ------------------------------------------------------------------------------------
# The GitLab pipeline, run by gitlab-ci-local as a merge request pipeline of a branch that
# adds schedules.yaml. gitlab-ci-local resolves `include: component:` by fetching from a
# GitLab server, so the test rewrites that one line to `include: local:` of this working
# tree's template (the inputs stay as written). Two values that only a real instance has
# come in as CI/CD variables, which outrank the component's job variables: what pip
# installs (this working tree) and where the job pushes (the bare remote).

GITLAB_EXAMPLE = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
TEMPLATE = ROOT / "templates" / "gitlab-component" / "template.yml"
GITLAB_GENERATED = [".gitlab/jmo-schedules.gitlab-ci.yml", "deploy/kubernetes/jmo-weekly.yaml"]
COMPONENT_LINE = "  - component: $CI_SERVER_FQDN/jmo/schedule-action/gitlab-component@1.0.0\n"


def test_gitlab_example_includes_the_component_and_the_generated_jobs() -> None:
    text = GITLAB_EXAMPLE.read_text()
    assert text.count(COMPONENT_LINE) == 1
    doc = yaml.safe_load(text)
    assert doc["include"][1] == {"local": ".gitlab/jmo-schedules.gitlab-ci.yml",
                                 "rules": [{"exists": [".gitlab/jmo-schedules.gitlab-ci.yml"]}]}
    inputs = doc["include"][0]["inputs"]
    spec = yaml.safe_load(TEMPLATE.read_text().split("\n---\n", 1)[0])["spec"]["inputs"]
    assert set(inputs) <= set(spec), set(inputs) - set(spec)
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB_EXAMPLE)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def gitlab_project(tmp_path_factory: pytest.TempPathFactory, dists: Dists) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("examples-gitlab")
    pipeline = GITLAB_EXAMPLE.read_text().replace(COMPONENT_LINE, "  - local: templates/gitlab-component/template.yml\n")
    repo = make_repository(base, {
        ".gitlab-ci.yml": pipeline, "templates/gitlab-component/template.yml": TEMPLATE.read_text(),
        ".gitignore": ".gitlab-ci-local/\n", "README.md": "# app\n",
    }, {"schedules.yaml": SCHEDULES.replace("type: github-actions", "type: gitlab-ci")})
    work = base / "work"
    git(base, "clone", "-q", "--branch", BRANCH, str(repo["remote"]), str(work))
    return {**repo, "work": work, "wheel": dists.wheel}  # the session's one wheel (conftest)


def merge_request_pipeline(p: dict[str, Any], *variables: str) -> subprocess.CompletedProcess[str]:
    """The validate job of a merge request pipeline for BRANCH, as GitLab sets its variables."""
    head = git(p["work"], "rev-parse", "HEAD")
    cmd = [tool("gitlab-ci-local"), "--force-shell-executor", "--shell-isolation", "--no-color",
           "--variable", "CI_PIPELINE_SOURCE=merge_request_event",
           "--variable", f"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME={BRANCH}",
           "--variable", "CI_MERGE_REQUEST_SOURCE_BRANCH_PROTECTED=false",
           "--variable", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID=42", "--variable", "CI_PROJECT_ID=42",
           "--variable", f"CI_COMMIT_SHA={head}",
           "--variable", f"JMO_SCHEDULE_PIP_SPEC={p['wheel']}",
           "--variable", f"JMO_SCHEDULE_LIB={p['base'] / 'lib'}",
           "--variable", f"JMO_PUSH_URL={p['remote']}",
           # pip in the job reads only the test wheelhouse (offline)
           "--variable", "PIP_NO_INDEX=1", "--variable", f"PIP_FIND_LINKS={WHEELHOUSE}",
           "--variable", f"PIP_CONFIG_FILE={os.devnull}",
           *[x for v in variables for x in ("--variable", v)], "jmo-schedule-validate"]
    env = {**os.environ, "HOME": str(p["base"]), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("JMO_GITLAB_TOKEN", None)
    return subprocess.run(cmd, cwd=p["work"], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def gitlab_runs(gitlab_project: dict[str, Any]) -> dict[str, Any]:
    """The documented token (protected, so absent here), then a push token, then the check of the pushed commit."""
    p = gitlab_project
    runs: dict[str, Any] = {}
    for name, extra in (("protected-token", ()), ("commit", ("JMO_GITLAB_TOKEN=glpat-example-secret",))):
        before = pushes(p["remote"])
        runs[name] = (merge_request_pipeline(p, *extra), pushes(p["remote"])[len(before):])
    git(p["work"], "pull", "-q", "--ff-only", str(p["remote"]), BRANCH)
    before = pushes(p["remote"])
    runs["rerun"] = (merge_request_pipeline(p, "JMO_GITLAB_TOKEN=glpat-example-secret"), pushes(p["remote"])[len(before):])
    return runs


@pytest.mark.slow
def test_gitlab_example_without_a_token_in_the_pipeline_warns_and_passes(gitlab_runs: dict[str, Any]) -> None:
    run, pushed = gitlab_runs["protected-token"]
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert ("jmo-schedule: warning: 2 files out of sync with schedules.yaml, not committed here: $JMO_GITLAB_TOKEN is "
            "not set in this pipeline (a protected CI/CD variable reaches only pipelines of protected branches, and "
            "feature/scans is not protected): to commit here, give the validate job a project access token with the "
            "Developer role and the write_repository scope in a masked variable that is not protected, named by the "
            "component input check-sync-token-variable. The check passes: the sync job opens its merge request with "
            "them after merge") in run.stdout
    assert "drift: .gitlab/jmo-schedules.gitlab-ci.yml: missing (schedule nightly added)" in run.stdout
    assert pushed == []


@pytest.mark.slow
def test_gitlab_example_commits_the_generated_files_to_the_merge_request_branch(
        gitlab_project: dict[str, Any], gitlab_runs: dict[str, Any]) -> None:
    run, pushed = gitlab_runs["commit"]
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    [push] = pushed
    ref, commit = push.split()
    assert ref == f"refs/heads/{BRANCH}"
    remote, head = gitlab_project["remote"], gitlab_project["head"]
    assert git(remote, "rev-parse", f"{commit}^") == head
    assert git(remote, "diff", "--name-status", head, commit).splitlines() == [f"A\t{f}" for f in GITLAB_GENERATED]
    assert (f"jmo-schedule: pushed 2 files regenerated from schedules.yaml to {BRANCH} as {commit[:12]}; the check "
            "runs again on that commit") in run.stdout
    assert "glpat-example-secret" not in run.stdout + run.stderr


@pytest.mark.slow
def test_gitlab_example_pipeline_of_the_pushed_commit_is_green_and_pushes_nothing(gitlab_runs: dict[str, Any]) -> None:
    run, pushed = gitlab_runs["rerun"]
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert "in sync: 2 generated files match schedules.yaml" in run.stdout
    assert pushed == []
