"""templates/gitlab-component/template.yml, the GitLab CI/CD component: its `spec:` header,
its job document against GitLab's CI schema, and its jobs run by gitlab-ci-local against a
real bare git remote (whose hook records each push and its -o options, and whose post-receive
hook hands the push to the fake GitLab, which opens the merge request as GitLab does) and a
local server speaking GitLab's pipeline schedules and merge requests APIs.

gitlab-ci-local resolves `include: component:` by fetching from a GitLab server, so these
tests include the same file with `include: local:` plus `inputs:`, which gitlab-ci-local
interpolates exactly like a component's inputs (`spec:` header, `$[[ inputs.x ]]`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from conftest import ROOT, Dists, tool
from fakes.slack import FakeSlack
from fakes.gitlab import FakeGitLab, connect

from jmo_schedule.generators.gitlab_ci import install_line

TEMPLATE = ROOT / "templates" / "gitlab-component" / "template.yml"
TYPES = {"string": str, "number": (int, float), "boolean": bool, "array": list}
INPUT_REF = re.compile(r"\$\[\[\s*inputs\.([\w-]+)(\s*\|[^\]]*)?\s*\]\]")


def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    header, jobs = yaml.safe_load_all(TEMPLATE.read_text())
    return header, jobs


def interpolate(value: Any, inputs: dict[str, Any]) -> Any:
    """GitLab's interpolation on the parsed document: a value that is one `$[[ ]]` takes
    the input's own type; inside a longer string the input is written as text."""
    if isinstance(value, dict):
        return {interpolate(k, inputs): interpolate(v, inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, inputs) for v in value]
    if isinstance(value, str):
        whole = INPUT_REF.fullmatch(value.strip())
        if whole:
            return inputs[whole.group(1)]

        def text(m: re.Match[str]) -> str:
            v = inputs[m.group(1)]
            return str(v).lower() if isinstance(v, bool) else str(v)

        return INPUT_REF.sub(text, value)
    return value


def defaults() -> dict[str, Any]:
    return {name: spec["default"] for name, spec in documents()[0]["spec"]["inputs"].items()}


# ------------------------------------------------------------------------------------
# The spec: header


def test_spec_header_inputs_have_types_defaults_and_descriptions() -> None:
    header, _ = documents()
    assert list(header) == ["spec"]
    inputs = header["spec"]["inputs"]
    assert {spec["type"] for spec in inputs.values()} == set(TYPES)  # every type is used
    for name, spec in inputs.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert set(spec) <= {"type", "default", "description", "options", "regex"}, name
        assert spec["description"].strip(), name
        assert "default" in spec, f"{name}: every input is optional"
        assert isinstance(spec["default"], TYPES[spec["type"]]), name
        if spec["type"] == "number":
            assert not isinstance(spec["default"], bool), name
        if "options" in spec:
            assert spec["type"] in ("string", "number"), name
            assert all(isinstance(o, TYPES[spec["type"]]) for o in spec["options"]), name
            assert spec["default"] in spec["options"], name
        if "regex" in spec:
            assert spec["type"] == "string" and re.fullmatch(spec["regex"].strip("/"), spec["default"]), name


def test_every_input_is_used_and_every_reference_is_defined() -> None:
    text = TEMPLATE.read_text().split("\n---\n", 1)[1]
    used = {m.group(1) for m in INPUT_REF.finditer(text)}
    assert used == set(documents()[0]["spec"]["inputs"])


def test_inputs_reach_scripts_only_through_variables() -> None:
    _, jobs = documents()
    for name, job in jobs.items():
        for key in ("script", "before_script", "after_script"):
            for line in job.get(key, []):
                assert "$[[" not in line, f"{name}.{key}: {line}"


def test_job_document_passes_the_gitlab_ci_schema(tmp_path: Path) -> None:
    _, jobs = documents()
    custom = {**defaults(), "pip-spec": "jmo-schedule @ https://example.com/x.whl", "retry": 2, "notify": True,
              "sync-changes": ["ci/schedules.yaml"], "validate": False}
    for i, inputs in enumerate((defaults(), custom)):
        doc = interpolate(jobs, inputs)
        path = tmp_path / f"jobs{i}.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_jobs_and_stages() -> None:
    doc = interpolate(documents()[1], defaults())
    jobs = {k: v for k, v in doc.items() if not k.startswith(".")}
    assert set(jobs) == {"jmo-schedule-validate", "jmo-schedule-sync", "jmo-schedule-notify-success",
                         "jmo-schedule-notify-failure"}
    assert doc["jmo-schedule-validate"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-jmo-schedule.json"
    not_in_scan_pipelines = {"if": "$CI_PIPELINE_SCHEDULE_DESCRIPTION =~ /^jmo-schedule: / || $JMO_SCHEDULE", "when": "never"}
    assert doc["jmo-schedule-sync"]["rules"][0] == not_in_scan_pipelines
    assert doc["jmo-schedule-validate"]["rules"][0] == not_in_scan_pipelines
    assert doc["jmo-schedule-sync"]["rules"][-1]["changes"] == ["schedules.yaml", ".gitlab/jmo-schedules.gitlab-ci.yml"]
    assert doc[".jmo-schedule-notify"]["stage"] == ".post"


def test_install_block_is_the_generated_jobs_one() -> None:
    base = documents()[1][".jmo-schedule-base"]
    assert base["before_script"] == [install_line("$JMO_SCHEDULE_LIB", "$JMO_SCHEDULE_PIP_SPEC"),
                                     'export PYTHONPATH="$JMO_SCHEDULE_LIB"']
    assert base["variables"]["JMO_SCHEDULE_LIB"] == "${CI_PROJECT_DIR}/.jmo-schedule-lib"
    assert base["cache"] == {"key": "jmo-schedule-component-lib", "paths": [".jmo-schedule-lib/"], "when": "always"}


def test_this_projects_pipeline_releases_with_glab_and_passes_the_schema() -> None:
    ci = ROOT / ".gitlab-ci.yml"
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(ci)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    release = yaml.safe_load(ci.read_text())["create-release"]
    # The release: keyword needs the glab CLI on PATH; release-cli is deprecated (GitLab 18.0).
    assert release["image"] == "registry.gitlab.com/gitlab-org/cli:latest"
    assert release["release"]["tag_name"] == "$CI_COMMIT_TAG" and release["script"]


# ------------------------------------------------------------------------------------
# gitlab-ci-local, end to end

SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
spec:
  schedule: "0 2 * * 1"
  timezone: Europe/Berlin
  backend: {type: gitlab-ci}
  jobTemplate:
    targets: {repo: .}
    notifications:
      channels:
        - type: slack
          url: ${SLACK_WEBHOOK_URL}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: paused-scan
spec:
  schedule: "30 4 * * *"
  suspend: true
  backend: {type: gitlab-ci}
  jobTemplate:
    targets: {repo: .}
"""

HOOK = """\
#!/bin/sh
# Records every pushed ref and the push options (-o), as GitLab's receive side sees them.
{
  while read -r old new ref; do echo "ref $ref"; done
  i=0
  while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do
    eval "echo \\"option \\$GIT_PUSH_OPTION_$i\\""
    i=$((i + 1))
  done
  echo "end"
} >> "$(dirname "$0")/../pushes.log"
"""

TOKEN = "glpat-component-test-secret"


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, dists: Dists) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("component")
    remote, work, lib = base / "remote.git", base / "project", base / "lib"
    _git("init", "-q", "--bare", "-b", "main", str(remote), cwd=base)
    _git("config", "receive.advertisePushOptions", "true", cwd=remote)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)
    (work / "templates" / "gitlab-component").mkdir(parents=True)
    shutil.copy(TEMPLATE, work / "templates" / "gitlab-component" / "template.yml")
    (work / "schedules.yaml").write_text(SCHEDULES)
    (work / "bad.yaml").write_text(SCHEDULES.replace('"0 2 * * 1"', '"0 2 * * 9"'))
    (work / ".gitlab-ci.yml").write_text(yaml.safe_dump({
        "stages": ["test"],
        "include": [{"local": "templates/gitlab-component/template.yml", "inputs": {
            "pip-spec": str(dists.wheel),  # the session's one wheel, installed with no index (conftest)
            "push-url": str(remote),
            "mr-labels": "jmo-schedule,security",
            "calendar-days": 14,
        }}],
    }, sort_keys=False))
    (work / ".gitignore").write_text(".gitlab-ci-local/\n")
    _git("add", "-A", cwd=work)
    _git("commit", "-qm", "init", cwd=work)
    _git("remote", "add", "origin", str(remote), cwd=work)
    _git("push", "-q", "origin", "main", cwd=work)
    (remote / "pushes.log").unlink()  # only the job's pushes from here on
    gitlab = FakeGitLab(token=TOKEN).start()
    connect(remote, gitlab)
    other = gitlab.add("Nightly build (someone else's)", owner="alice")
    yield {"base": base, "remote": remote, "work": work, "lib": lib, "gitlab": gitlab, "other": other}
    gitlab.stop()


def gitlab_ci_local(p: dict[str, Any], *jobs: str, source: str = "web", extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    cmd = [tool("gitlab-ci-local"), "--force-shell-executor", "--shell-isolation", "--no-color",
           "--variable", f"CI_PIPELINE_SOURCE={source}",
           "--variable", f"JMO_GITLAB_TOKEN={TOKEN}",
           "--variable", f"CI_API_V4_URL={p['gitlab'].url}",
           "--variable", "CI_PROJECT_ID=42",
           "--variable", f"JMO_SCHEDULE_LIB={p['lib']}",
           *extra, *jobs]
    env = {**os.environ, "HOME": str(p["base"]), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("JMO_GITLAB_TOKEN", None)
    return subprocess.run(cmd, cwd=p["work"], env=env, capture_output=True, text=True, timeout=600)


def pushes(p: dict[str, Any]) -> list[list[str]]:
    log = p["remote"] / "pushes.log"
    if not log.exists():
        return []
    out, current = [], []
    for line in log.read_text().splitlines():
        if line == "end":
            out.append(current)
            current = []
        else:
            current.append(line)
    return out


def pr_body(p: dict[str, Any]) -> str:
    """What `sync --pr-body` writes for the project as committed (the job's checkout)."""
    out = p["base"] / "expected-body.md"
    subprocess.run([tool("jmo-schedule"), "sync", "--dry-run", "--pr-body", str(out)], cwd=p["work"],
                   check=True, capture_output=True)
    return out.read_text()


@pytest.fixture(scope="module")
def first_sync(project: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return gitlab_ci_local(project, "jmo-schedule-sync")


@pytest.mark.slow
def test_sync_job_pushes_one_merge_request_and_creates_pipeline_schedules(
        project: dict[str, Any], first_sync: subprocess.CompletedProcess[str]) -> None:
    run = first_sync
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert TOKEN not in run.stdout + run.stderr
    [push] = pushes(project)
    assert push[0] == "ref refs/heads/jmo-schedule/sync"
    assert push[1:] == [
        "option merge_request.create",
        "option merge_request.target=main",
        "option merge_request.title=jmo-schedule: regenerate scheduled scan pipelines",
        "option merge_request.description=Regenerated 1 pipeline file from schedules.yaml "
        "(.gitlab/jmo-schedules.gitlab-ci.yml). Regenerate locally: jmo-schedule sync -f schedules.yaml",
        "option merge_request.remove_source_branch",
        "option merge_request.label=jmo-schedule",
        "option merge_request.label=security",
    ]
    # The branch holds the generated file, committed by the bot on top of main.
    remote = project["remote"]
    files = _git("ls-tree", "-r", "--name-only", "jmo-schedule/sync", cwd=remote).split()
    assert ".gitlab/jmo-schedules.gitlab-ci.yml" in files and ".jmo-schedule-lib" not in " ".join(files)
    assert _git("log", "-1", "--format=%an|%s", "jmo-schedule/sync", cwd=remote).strip() == (
        "jmo-schedule|jmo-schedule: regenerate scheduled scan pipelines")
    # GitLab opened the merge request from the push options; the job then gave it the full
    # multi-line description through the API, keeping title and labels.
    gitlab = project["gitlab"]
    [mr] = gitlab.merge_requests.values()
    assert (mr["source_branch"], mr["target_branch"], mr["state"]) == ("jmo-schedule/sync", "main", "opened")
    assert mr["title"] == "jmo-schedule: regenerate scheduled scan pipelines"
    assert mr["labels"] == ["jmo-schedule", "security"]
    assert mr["description"] == pr_body(project)
    assert "| `.gitlab/jmo-schedules.gitlab-ci.yml` | added | schedules weekly-scan, paused-scan added |" in mr["description"]
    assert [w for w in gitlab.writes() if "/merge_requests" in w[1]] == [
        ("PUT", f"/api/v4/projects/42/merge_requests/{mr['iid']}", {"description": mr["description"]})]
    assert f"merge request !{mr['iid']}: description set to the list of changed files" in run.stdout
    # Pipeline schedules: one per gitlab-ci ScanSchedule; the other schedule untouched.
    ours = {s["description"]: s for s in gitlab.schedules.values() if s["description"].startswith("jmo-schedule: ")}
    assert set(ours) == {"jmo-schedule: weekly-scan", "jmo-schedule: paused-scan"}
    weekly = ours["jmo-schedule: weekly-scan"]
    assert (weekly["cron"], weekly["cron_timezone"], weekly["ref"], weekly["active"]) == (
        "0 2 * * 1", "Europe/Berlin", "refs/heads/main", True)
    assert weekly["variables"] == []  # no pipeline variable: "No one allowed" groups would refuse the pipeline
    assert ours["jmo-schedule: paused-scan"]["active"] is False
    assert gitlab.schedules[project["other"]]["description"] == "Nightly build (someone else's)"


@pytest.mark.slow
def test_sync_job_publishes_the_scan_calendar(project: dict[str, Any],
                                              first_sync: subprocess.CompletedProcess[str]) -> None:
    """calendar-days: 14: the sync job's artifact jmo-schedule.ics holds the next 14 days'
    runs, as an iCalendar reader sees them."""
    import icalendar

    assert first_sync.returncode == 0, first_sync.stdout[-5000:]
    [ics] = list((project["work"] / ".gitlab-ci-local" / "artifacts").rglob("jmo-schedule.ics"))
    events = list(icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))
    assert {str(e["CATEGORIES"].cats[0]) for e in events} == {"gitlab-ci"}
    assert 2 <= len(events) <= 3  # the weekly schedule, twice in 14 days (three when a run falls on both edges)


@pytest.mark.slow
def test_second_sync_run_creates_nothing_new(project: dict[str, Any], first_sync: subprocess.CompletedProcess[str]) -> None:
    gitlab = project["gitlab"]
    assert first_sync.returncode == 0 and len(pushes(project)) == 1
    before_pushes = len(pushes(project))
    gitlab.requests.clear()
    run = gitlab_ci_local(project, "jmo-schedule-sync")
    assert run.returncode == 0, run.stdout[-5000:]
    assert "already holds these changes; nothing pushed" in run.stdout
    assert len(pushes(project)) == before_pushes
    assert "already has this description" in run.stdout
    assert gitlab.writes() == []  # neither the merge request nor a schedule changed
    assert "pipeline schedules: 0 created, 0 updated, 0 deleted, 2 unchanged" in run.stdout


@pytest.mark.slow
def test_validate_job_reports_code_quality(project: dict[str, Any]) -> None:
    work = project["work"]
    ci = yaml.safe_load((work / ".gitlab-ci.yml").read_text())
    ci["include"][0]["inputs"]["schedules-file"] = "bad.yaml"
    (work / ".gitlab-ci.yml").write_text(yaml.safe_dump(ci, sort_keys=False))
    try:
        run = gitlab_ci_local(project, "jmo-schedule-validate", source="push")
    finally:
        _git("checkout", "-q", "--", ".gitlab-ci.yml", cwd=work)
    assert run.returncode != 0
    assert "bad.yaml:6:22: spec.schedule: day of week 9 is outside 0-7" in run.stdout
    reports = list((work / ".gitlab-ci-local").rglob("gl-code-quality-jmo-schedule.json"))
    assert reports, "the codequality report was not kept as an artifact"
    issues = json.loads(reports[0].read_text())
    assert issues[0]["location"] == {"path": "bad.yaml", "lines": {"begin": 6}}
    assert issues[0]["severity"] == "major"


@pytest.mark.slow
def test_notify_job_posts_for_a_scheduled_scan_pipeline(project: dict[str, Any]) -> None:
    work = project["work"]
    ci = yaml.safe_load((work / ".gitlab-ci.yml").read_text())
    ci["include"][0]["inputs"]["notify"] = True
    (work / ".gitlab-ci.yml").write_text(yaml.safe_dump(ci, sort_keys=False))
    slack = FakeSlack().start()
    try:
        run = gitlab_ci_local(project, "jmo-schedule-notify-success", source="schedule", extra=(
            "--variable", "CI_PIPELINE_SCHEDULE_DESCRIPTION=jmo-schedule: weekly-scan (Weekly)",
            "--variable", f"SLACK_WEBHOOK_URL={slack.base}/services/T0/B0/secret"))
    finally:
        slack.stop()
        _git("checkout", "-q", "--", ".gitlab-ci.yml", cwd=work)
    assert run.returncode == 0, run.stdout[-4000:]
    [post] = [r for r in slack.requests if r.method == "POST"]
    assert post.path == "/services/T0/B0/secret"
    assert "weekly-scan" in json.dumps(post.json())
    assert "/services/T0/B0/secret" not in run.stdout


@pytest.mark.slow
def test_sync_job_closes_the_stale_merge_request_once_main_is_in_sync(
        project: dict[str, Any], first_sync: subprocess.CompletedProcess[str]) -> None:
    # Last in this file: it commits the generated file on main (what merging the bot merge request does).
    gitlab, work, remote = project["gitlab"], project["work"], project["remote"]
    assert first_sync.returncode == 0
    [iid] = [i for i, m in gitlab.merge_requests.items() if m["state"] == "opened"]
    other = gitlab.add_merge_request("feature", title="someone's change")
    subprocess.run([tool("jmo-schedule"), "sync"], cwd=work, check=True, capture_output=True)
    _git("add", ".gitlab/jmo-schedules.gitlab-ci.yml", cwd=work)
    _git("commit", "-qm", "merge the bot merge request", cwd=work)
    _git("push", "-q", "origin", "main", cwd=work)
    gitlab.requests.clear()
    run = gitlab_ci_local(project, "jmo-schedule-sync")
    assert run.returncode == 0, run.stdout[-5000:]
    assert f"main is in sync; closed merge request !{iid} and deleted branch jmo-schedule/sync" in run.stdout
    assert gitlab.merge_requests[iid]["state"] == "closed"
    assert "already holds the pipeline files" in gitlab.notes[iid][0]["body"]
    assert _git("branch", "--list", "jmo-schedule/sync", cwd=remote) == ""
    assert gitlab.merge_requests[other]["state"] == "opened" and gitlab.notes[other] == []
    assert [w[:2] for w in gitlab.writes()] == [("POST", f"/api/v4/projects/42/merge_requests/{iid}/notes"),
                                                ("PUT", f"/api/v4/projects/42/merge_requests/{iid}")]
    # Once more: nothing left to close, nothing written.
    gitlab.requests.clear()
    run = gitlab_ci_local(project, "jmo-schedule-sync")
    assert run.returncode == 0, run.stdout[-5000:]
    assert gitlab.writes() == []


def listed_jobs(p: dict[str, Any], **variables: str) -> set[str]:
    """The component's jobs gitlab-ci-local puts in a pipeline with these predefined variables."""
    args = [a for k, v in variables.items() for a in ("--variable", f"{k}={v}")]
    env = {**os.environ, "HOME": str(p["base"]), "GCL_IGNORE_PREDEFINED_VARS": ",".join(variables)}
    run = subprocess.run([tool("gitlab-ci-local"), "--list-json", *args], cwd=p["work"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return {j["name"] for j in json.loads(run.stdout) if j["when"] != "never"}


@pytest.mark.slow
@pytest.mark.parametrize(("variables", "jobs"), [
    # A push to a branch with an open merge request: only the merge request pipeline validates.
    ({"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", "CI_OPEN_MERGE_REQUESTS": "group/app!7"}, set()),
    ({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"}, {"jmo-schedule-validate"}),
    ({"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature"}, {"jmo-schedule-validate"}),
    # A scan pipeline a jmo-schedule pipeline schedule started: no validate, no sync.
    ({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: weekly-scan"}, set()),
    ({"CI_PIPELINE_SOURCE": "schedule", "JMO_SCHEDULE": "weekly-scan"}, set()),
    # The user's own schedule for sync.
    ({"CI_PIPELINE_SOURCE": "schedule", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule sync, nightly"},
     {"jmo-schedule-sync"}),
])
def test_which_component_jobs_run_where(project: dict[str, Any], variables: dict[str, str], jobs: set[str]) -> None:
    assert listed_jobs(project, **variables) == jobs
