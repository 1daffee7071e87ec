"""pipeline/baseline.py: the previous run's results from GitHub's artifacts API (the download
redirected to another host, followed without the token), GitLab's job artifacts (an access
token, or the job token), and the local history; `notify --fetch-baseline` end to end."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from fakes.github import FakeGitHub
from fakes.gitlab import FakeGitLab
from fakes.slack import FakeSlack
from jmo_schedule import cli
from jmo_schedule.pipeline.baseline import Baseline, fetch
from jmo_schedule.platforms.http import Api
from jmo_schedule.errors import ApiError

PAIRS = Path(__file__).parents[1] / "fixtures" / "sarif" / "pairs"
REPO = "acme/app"
GH_TOKEN = "ghs_SECRET-job-token"
BEFORE = (PAIRS / "trivy-before.sarif").read_text()
AFTER = (PAIRS / "trivy-after.sarif").read_text()


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def github():
    fake = FakeGitHub(REPO, GH_TOKEN).start()
    yield fake
    fake.stop()


def github_env(fake: FakeGitHub, run_id: str = "503") -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": REPO, "GITHUB_RUN_ID": run_id,
            "GITHUB_TOKEN": GH_TOKEN}


def test_github_newest_artifact_of_another_run_followed_to_storage_without_the_token(github, tmp_path):
    github.add_artifact("jmo-results-nightly", 501, zipped({"summaries/findings.sarif": "old"}), "2026-11-23T02:09:00Z")
    github.add_artifact("jmo-results-nightly", 502, zipped({"summaries/findings.sarif": BEFORE,
                                                           "individual-repos/app/trivy.json": "{}"}),
                        "2026-11-24T02:09:00Z")
    github.add_artifact("jmo-results-nightly", 499, zipped({"summaries/findings.sarif": "expired"}),
                        "2026-12-30T02:09:00Z", expired=True)
    github.add_artifact("jmo-results-nightly", 503, zipped({"summaries/findings.sarif": AFTER}), "2026-11-25T02:09:00Z")
    github.add_artifact("jmo-results-weekly", 504, zipped({"summaries/findings.sarif": "other"}), "2026-11-26T02:09:00Z")

    got = fetch("nightly", str(tmp_path), github_env(github))
    assert got == Baseline(str(tmp_path), "artifact jmo-results-nightly of run 502")
    assert (tmp_path / "summaries" / "findings.sarif").read_text() == BEFORE
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["findings.sarif"]
    api = [r for r in github.requests if "/artifacts" in r["path"]]
    assert [(r["path"], r["query"].get("name")) for r in api] == [
        (f"/repos/{REPO}/actions/artifacts", "jmo-results-nightly"),
        (f"/repos/{REPO}/actions/artifacts/9001/zip", None)]
    assert all(r["headers"]["Authorization"] == f"Bearer {GH_TOKEN}" for r in api)
    [blob] = github.storage.requests
    assert blob["path"] == "/blobs/9001.zip" and blob["query"] == "sig=short-lived"
    assert "Authorization" not in blob["headers"] and GH_TOKEN not in json.dumps(blob["headers"])


def test_github_without_actions_read_is_a_note_that_names_the_permission(github, tmp_path):
    github.can_read = False
    got = fetch("nightly", str(tmp_path), github_env(github))
    assert got == Baseline(None, "GitHub API: list the artifacts named jmo-results-nightly: HTTP 403 (Resource not "
                                 "accessible by integration); the job's token needs actions: read "
                                 "(permissions: actions: read)")


def test_github_no_earlier_artifact(github, tmp_path):
    github.add_artifact("jmo-results-nightly", 503, zipped({"summaries/findings.sarif": AFTER}), "2026-11-25T02:09:00Z")
    assert fetch("nightly", str(tmp_path), github_env(github)) == Baseline(
        None, "no earlier artifact jmo-results-nightly (expired, or no earlier run uploaded one)")


def test_a_redirect_to_plain_http_elsewhere_is_not_followed(tmp_path):
    api = FakeSlack().start()
    try:
        api.default = (302, "", {"Location": "http://198.51.100.7/blob.zip"})
        client = Api(api.base, service="GitHub API", credential={"Authorization": "Bearer x"}, error=ApiError)
        with pytest.raises(ApiError) as exc:
            client.download(api.base + "/zip", "download artifact a", max_bytes=1024)
        assert str(exc.value) == ("GitHub API: download artifact a: HTTP 302 redirects to 198.51.100.7 without https; "
                                  "not following it")
        # An ordinary API request still refuses any other host, with or without https.
        api.default = (302, "", {"Location": "https://blob.example/x"})
        with pytest.raises(ApiError, match="redirects to another host \\(blob.example\\); not following it with the token"):
            client.send("GET", api.base + "/zip", "read x")
    finally:
        api.stop()


@pytest.fixture
def gitlab():
    fake = FakeGitLab(scopes=("read_api",)).start()
    yield fake
    fake.stop()


def gitlab_env(fake: FakeGitLab, **extra: str) -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_API_V4_URL": fake.url, "CI_PROJECT_ID": fake.project,
            "CI_PIPELINE_ID": "305", "CI_COMMIT_REF_NAME": "main", **extra}


def test_gitlab_token_takes_the_previous_finished_scan_even_a_failed_one(gitlab, tmp_path):
    sid = gitlab.add("jmo-schedule: nightly")
    gitlab.add_pipeline(sid, 301, "success", scan_job="jmo-scan-nightly", artifacts={"jmo-nightly/findings.sarif": "old"})
    gitlab.add_pipeline(sid, 302, "failed", scan_job="jmo-scan-nightly",
                        artifacts={"jmo-nightly/findings.sarif": BEFORE, "jmo-nightly/guard.env": "JMO_GUARD_RUN=true\n"})
    gitlab.add_pipeline(sid, 303, "canceled", scan_job="jmo-scan-nightly")  # no artifacts
    gitlab.add_pipeline(sid, 305, "running", scan_job="jmo-scan-nightly")  # this pipeline
    got = fetch("nightly", str(tmp_path), gitlab_env(gitlab, JMO_GITLAB_TOKEN=gitlab.token))
    assert got == Baseline(str(tmp_path), "the artifacts of jmo-scan-nightly (job 3021, failed) in pipeline 302")
    assert (tmp_path / "summaries" / "findings.sarif").read_text() == BEFORE


def test_gitlab_job_token_gets_the_latest_successful_pipeline_of_the_ref(gitlab, tmp_path):
    sid = gitlab.add("jmo-schedule: nightly")
    gitlab.add_pipeline(sid, 301, "success", scan_job="jmo-scan-nightly", artifacts={"jmo-nightly/findings.sarif": BEFORE})
    gitlab.add_pipeline(sid, 302, "failed", scan_job="jmo-scan-nightly", artifacts={"jmo-nightly/findings.sarif": "x"})
    env = gitlab_env(gitlab, CI_JOB_TOKEN=gitlab.job_token)
    got = fetch("nightly", str(tmp_path), env)
    assert got == Baseline(str(tmp_path), "the artifacts of jmo-scan-nightly in the latest successful pipeline of main")
    assert (tmp_path / "summaries" / "findings.sarif").read_text() == BEFORE
    [call] = [r for r in gitlab.requests if "/download" in r[1]]
    assert call[1] == "/api/v4/projects/42/jobs/artifacts/main/download" and call[2] == {"job": "jmo-scan-nightly"}

    gitlab.add_pipeline(sid, 304, "success")  # a later successful pipeline of main without the scan job
    assert fetch("nightly", str(tmp_path / "again"), env) == Baseline(
        None, "no successful pipeline of main with a jmo-scan-nightly job that kept artifacts (with only "
              "$CI_JOB_TOKEN the baseline is the latest successful pipeline's)")

    gitlab.job_token_artifacts = False  # GitLab Free: the job token is not accepted for artifacts
    assert fetch("nightly", str(tmp_path / "free"), env) == Baseline(
        None, "GitLab API: download the artifacts of jmo-scan-nightly on main: HTTP 401 (401 Unauthorized); the token "
              "in $CI_JOB_TOKEN is missing, expired or revoked")


def test_no_token_at_all(gitlab, tmp_path):
    assert fetch("nightly", str(tmp_path), gitlab_env(gitlab)) == Baseline(
        None, "no $JMO_GITLAB_TOKEN nor $CI_JOB_TOKEN to read the previous scan with")


@pytest.mark.parametrize(("files", "note"), [
    ({"../evil/findings.json": "[]", "/abs/findings.sarif": "{}"}, "artifact jmo-results-nightly of run 502 holds no "
                                                                   "findings.json or findings.sarif"),
    ({"results/summaries/findings.json": "[]", "results/findings.json": "[1]"}, None),
])
def test_archives_give_only_findings_files_within_the_folder(github, tmp_path, files, note):
    github.add_artifact("jmo-results-nightly", 502, zipped(files), "2026-11-24T02:09:00Z")
    got = fetch("nightly", str(tmp_path / "b"), github_env(github))
    if note:
        assert got == Baseline(None, note)
        assert not (tmp_path / "evil").exists()
    else:
        assert (tmp_path / "b" / "summaries" / "findings.json").read_text() == "[]"


def test_notify_fetch_baseline_on_github_says_what_is_new(github, tmp_path, monkeypatch, capfd):
    slack = FakeSlack().start()
    try:
        github.add_artifact("jmo-results-nightly", 502, zipped({"summaries/findings.sarif": BEFORE}),
                            "2026-11-24T02:09:00Z")
        (tmp_path / "results" / "summaries").mkdir(parents=True)
        (tmp_path / "results" / "summaries" / "findings.sarif").write_text(AFTER)
        for key, value in {**github_env(github), "HOOK": slack.hook()}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)
        code = cli.main(["notify", "--status", "success", "--schedule", "nightly", "--results", "results",
                         "--webhook", "${HOOK}", "--fetch-baseline", "-f", str(write_schedule(tmp_path))])
        out, err = capfd.readouterr()
        assert code == 0 and err == ""
        assert out.splitlines()[-2:] == ["notify: baseline: artifact jmo-results-nightly of run 502",
                                         "notify: sent to --webhook (${HOOK})"]
        assert "*Since the previous run:* 1 new · 1 fixed · 2 open" in json.dumps(slack.requests[0].json(),
                                                                                  ensure_ascii=False)
        assert GH_TOKEN not in out
    finally:
        slack.stop()


def write_schedule(folder: Path) -> Path:
    path = folder / "schedules.yaml"
    path.write_text("apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata: {name: nightly}\n"
                    "spec:\n  schedule: '0 2 * * *'\n  backend: {type: github-actions}\n"
                    "  jobTemplate: {targets: {repo: .}}\n")
    return path
