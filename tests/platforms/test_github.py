"""platforms/github.py: every call of the GitHub client keeps the token on the API's host
when the API answers with a redirect, and an answer of the wrong shape is one line. The
API is a scripted server on 127.0.0.1; "another host" is a second one on another port."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from fakes.slack import FakeSlack

from jmo_schedule.errors import GitHubError
from jmo_schedule.platforms.github import GitHub

TOKEN = "ghs_SECRET-github-token-do-not-print"
REPO = "acme/app"




def client(server: FakeSlack) -> GitHub:
    return GitHub(server.base, REPO, TOKEN)


# Every call the package makes to GitHub, and what it says when it is refused.
CALLS: dict[str, tuple[Callable[[GitHub], Any], str]] = {
    "default_branch": (lambda c: c.default_branch(), f"read repository {REPO}"),
    "workflow_runs": (lambda c: c.workflow_runs("jmo-x.yml", status="queued", what="list workflow runs"),
                      "list workflow runs"),
    "run": (lambda c: c.run("7", "get this run"), "get this run"),
    "cancel_run": (lambda c: c.cancel_run("7"), "cancel run 7"),
    "delete_run": (lambda c: c.delete_run("7", "delete run 7"), "delete run 7"),
    "dispatch": (lambda c: c.dispatch("jmo-x.yml", "main"), "dispatch jmo-x.yml on main"),
}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_no_call_follows_a_redirect_to_another_host(api_server: FakeSlack, elsewhere: FakeSlack, call: str,
                                                    status: int) -> None:
    api_server.default = (status, "", {"Location": elsewhere.base + "/repos/acme/app"})
    do, what = CALLS[call]
    with pytest.raises(GitHubError) as exc:
        do(client(api_server))
    assert str(exc.value) == (f"GitHub API: {what}: HTTP {status} redirects to another host "
                              f"({elsewhere.base.removeprefix('http://')}); not following it with the token")
    assert elsewhere.requests == []
    assert api_server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_scopes_lookup_does_not_follow_a_redirect_either(api_server: FakeSlack, elsewhere: FakeSlack) -> None:
    api_server.default = (302, "", {"Location": elsewhere.base + "/repos/acme/app"})
    assert client(api_server).oauth_scopes() is None  # cannot be asked: the push itself will tell
    assert elsewhere.requests == []


def test_a_renamed_repository_is_followed_on_the_api_host(api_server: FakeSlack) -> None:
    # GitHub answers 301 with the repository's new URL on the same API host.
    api_server.script = [(301, {"message": "Moved Permanently", "url": api_server.base + "/repositories/42"},
                   {"Location": api_server.base + "/repositories/42"}), (200, {"default_branch": "trunk"}, {})]
    assert client(api_server).default_branch() == "trunk"
    assert [(r.path, r.headers["Authorization"]) for r in api_server.requests] == [
        ("/repos/acme/app", f"Bearer {TOKEN}"), ("/repositories/42", f"Bearer {TOKEN}")]


@pytest.mark.parametrize(("call", "answer", "error"), [
    ("default_branch", (200, [{"default_branch": "main"}], {}), f"GitHub API: read repository {REPO}: the answer is not a JSON object"),
    ("default_branch", (200, {"default_branch": ["main"]}, {}),
     f"GitHub API: read repository {REPO}: no default_branch in the answer; pass --ref BRANCH"),
    ("default_branch", (200, "<html><body>Sign in</body></html>", {}),
     f"GitHub API: read repository {REPO}: the answer is not JSON (HTTP 200, text/html)"),
    ("workflow_runs", (200, {"workflow_runs": "none"}, {}), "GitHub API: list workflow runs: no workflow_runs in the answer"),
    ("workflow_runs", (200, [1, 2], {}), "GitHub API: list workflow runs: no workflow_runs in the answer"),
    ("run", (200, ["7"], {}), "GitHub API: get this run: the answer is not a JSON object"),
    ("cancel_run", (502, "<html><h1>502 Bad Gateway</h1></html>", {}), "GitHub API: cancel run 7: HTTP 502"),
], ids=["list", "branch-not-text", "html", "runs-not-list", "runs-list", "run-list", "html-error"])
def test_an_answer_of_the_wrong_shape_is_one_line(api_server: FakeSlack, call: str, answer: Any, error: str) -> None:
    api_server.default = answer
    with pytest.raises(GitHubError) as exc:
        CALLS[call][0](client(api_server))
    assert str(exc.value) == error
