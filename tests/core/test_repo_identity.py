"""repo_identity.py: one spelling of a repository on a laptop (any remote form) and in CI."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from jmo_schedule.core import repo_identity
from jmo_schedule.core.repo_identity import from_ci_env, identify, normalize_remote

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


@pytest.mark.parametrize("url", [
    "git@github.com:Acme/App.git",
    "git@github.com:acme/app",
    "ssh://git@github.com/acme/app.git",
    "ssh://git@github.com:22/acme/app.git",
    "https://github.com/acme/app",
    "https://github.com/Acme/App.git/",
    "https://x-access-token:ghs_secret@github.com/acme/app.git",
    "https://user:tok@GitHub.com:443/acme/app",
    "http://github.com/acme/app.git",
    "git://github.com/acme/app.git",
    "github.com:acme/app.git",
])
def test_every_remote_form_of_one_repository_is_one_identity(url: str) -> None:
    assert normalize_remote(url) == "github.com/acme/app"


def test_gitlab_subgroups_and_ports() -> None:
    assert normalize_remote("git@gitlab.example.com:group/sub/project.git") == "gitlab.example.com/group/sub/project"
    assert normalize_remote("https://gitlab-ci-token:glcbt-secret@gitlab.example.com:8443/group/sub/project.git") \
        == "gitlab.example.com/group/sub/project"
    assert normalize_remote("ssh://git@gitlab.example.com:2222/group/sub/project.git") == "gitlab.example.com/group/sub/project"


@pytest.mark.parametrize("url", ["/srv/git/app.git", "../app", "./app", "~/app.git", "file:///srv/git/app.git",
                                 "https://github.com/", "https://github.com/.git", "", "   "])
def test_a_local_path_or_an_incomplete_url_is_no_identity(url: str) -> None:
    assert normalize_remote(url) is None


def test_github_and_gitlab_ci_variables_agree_with_the_remotes() -> None:
    github = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "Acme/App"}
    assert from_ci_env(github) == normalize_remote("git@github.com:acme/app.git") == "github.com/acme/app"
    enterprise = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_REPOSITORY": "a/b"}
    assert from_ci_env(enterprise) == "ghe.example.com/a/b"
    gitlab = {"GITLAB_CI": "true", "CI_SERVER_HOST": "gitlab.example.com", "CI_SERVER_PORT": "8443",
              "CI_PROJECT_PATH": "Group/Sub/Project"}
    assert from_ci_env(gitlab) == normalize_remote(
        "https://gitlab-ci-token:[MASKED]@gitlab.example.com:8443/group/sub/project.git") == "gitlab.example.com/group/sub/project"
    # Only CI_SERVER_URL (an older runner): its host.
    assert from_ci_env({"GITLAB_CI": "true", "CI_SERVER_URL": "https://GitLab.example.com:8443",
                        "CI_PROJECT_PATH": "g/p"}) == "gitlab.example.com/g/p"
    assert from_ci_env({}) is None
    assert from_ci_env({"GITHUB_ACTIONS": "true"}) is None


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@needs_git
def test_laptop_ssh_clone_and_ci_https_clone_and_ci_variables_agree(tmp_path: Path) -> None:
    laptop, ci_clone, ci_bare = tmp_path / "laptop", tmp_path / "ci", tmp_path / "ci-no-remote"
    for folder in (laptop, ci_clone, ci_bare):
        (folder / "ci").mkdir(parents=True)
        git(folder, "init", "-q")
    git(laptop, "remote", "add", "origin", "git@github.com:Acme/App.git")
    git(ci_clone, "remote", "add", "origin", "https://x-access-token:ghs_secret@github.com/acme/app")
    ci_env = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/App"}
    found = {
        identify(str(laptop / "ci" / "schedules.yaml"), {}),
        identify(str(ci_clone / "ci" / "schedules.yaml"), ci_env),
        identify(str(ci_bare / "ci" / "schedules.yaml"), ci_env),
    }
    assert found == {"github.com/acme/app"}


@needs_git
def test_without_a_remote_or_ci_the_path_in_the_repository(tmp_path: Path) -> None:
    (tmp_path / "repo" / "ci").mkdir(parents=True)
    git(tmp_path / "repo", "init", "-q")
    assert identify(str(tmp_path / "repo" / "ci" / "schedules.yaml"), {}) == "ci/schedules.yaml"
    # Outside any repository: the file's name.
    (tmp_path / "loose").mkdir()
    assert identify(str(tmp_path / "loose" / "schedules.yaml"), {}) == "schedules.yaml"


@needs_git
def test_a_pin_wins_over_the_remote(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin", "git@github.com:me/app-fork.git")
    path = str(tmp_path / "schedules.yaml")
    assert identify(path, {}) == "github.com/me/app-fork"
    assert identify(path, {repo_identity.PIN_VAR: "github.com/Acme/App"}) == "github.com/acme/app"
    assert identify(path, {repo_identity.PIN_VAR: "git@github.com:acme/app.git"}) == "github.com/acme/app"
