"""platforms/gitlab.py: every call of the GitLab client keeps its PRIVATE-TOKEN (a custom
header `requests` would re-send on a redirect to another host) on the API's host, and an
answer of the wrong shape is one line. The API is a scripted server on 127.0.0.1;
"another host" is a second one on another port."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from fakes.slack import FakeSlack

from jmo_schedule.errors import GitLabError
from jmo_schedule.platforms.gitlab import GitLab, other_pipelines

TOKEN = "glpat-SECRET-gitlab-token-do-not-print"




def client(server: FakeSlack) -> GitLab:
    return GitLab(server.base + "/api/v4", "42", TOKEN)


# Every call the package makes to GitLab, and what it says when it is refused.
CALLS: dict[str, tuple[Callable[[GitLab], Any], str]] = {
    "list_schedules": (lambda c: c.list_schedules(), "list pipeline schedules"),
    "get_schedule": (lambda c: c.get_schedule(3), "get pipeline schedule 3"),
    "create_schedule": (lambda c: c.create_schedule("n", {"cron": "0 1 * * *", "active": True}),
                        "create pipeline schedule 'n'"),
    "update_schedule": (lambda c: c.update_schedule(3, {"active": False}), "edit pipeline schedule 3"),
    "take_ownership": (lambda c: c.take_ownership(3), "take ownership of pipeline schedule 3"),
    "play": (lambda c: c.play(3), "play pipeline schedule 3"),
    "delete_schedule": (lambda c: c.delete_schedule(3), "delete pipeline schedule 3"),
    "edit_variable": (lambda c: c.set_variable(3, "JMO_SCHEDULE", "n", True),
                      "edit variable JMO_SCHEDULE of pipeline schedule 3"),
    "create_variable": (lambda c: c.set_variable(3, "JMO_SCHEDULE", "n", False),
                        "create variable JMO_SCHEDULE of pipeline schedule 3"),
    "delete_variable": (lambda c: c.delete_variable(3, "JMO_SCHEDULE"), "delete variable JMO_SCHEDULE of pipeline schedule 3"),
    "schedule_pipelines": (lambda c: list(c.schedule_pipelines(3)), "list pipelines of pipeline schedule 3"),
    "cancel_pipeline": (lambda c: c.cancel_pipeline("9"), "cancel pipeline 9"),
    "delete_pipeline": (lambda c: c.delete_pipeline("9", "delete pipeline 9"), "delete pipeline 9"),
    "open_merge_requests": (lambda c: c.open_merge_requests("jmo-schedule/sync", "main"), "list merge requests"),
    "edit_merge_request": (lambda c: c.edit_merge_request(5, {"state_event": "close"}), "edit merge request !5"),
    "add_note": (lambda c: c.add_note(5, "stale"), "comment on merge request !5"),
}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_no_call_follows_a_redirect_to_another_host(api_server: FakeSlack, elsewhere: FakeSlack, call: str,
                                                    status: int) -> None:
    api_server.default = (status, "", {"Location": elsewhere.base + "/api/v4/projects/42"})
    do, what = CALLS[call]
    with pytest.raises(GitLabError) as exc:
        do(client(api_server))
    assert str(exc.value) == (f"GitLab API: {what}: HTTP {status} redirects to another host "
                              f"({elsewhere.base.removeprefix('http://')}); not following it with the token")
    assert elsewhere.requests == []
    assert api_server.requests[0].headers["PRIVATE-TOKEN"] == TOKEN


@pytest.mark.parametrize(("call", "answer", "error"), [
    ("list_schedules", (200, {"message": "ok"}, {}), "GitLab API: list pipeline schedules: the answer is not a list"),
    ("list_schedules", (200, [{"id": "7", "description": "jmo-schedule: x"}], {}),
     "GitLab API: list pipeline schedules: an item of the answer is not an object with an integer id"),
    ("list_schedules", (200, ["jmo-schedule: x"], {}),
     "GitLab API: list pipeline schedules: an item of the answer is not an object with an integer id"),
    ("schedule_pipelines", (200, [{"id": None, "status": "running"}], {}),
     "GitLab API: list pipelines of pipeline schedule 3: an item of the answer is not an object with an integer id"),
    ("open_merge_requests", (200, [{"id": 1, "iid": "5"}], {}),
     "GitLab API: list merge requests: an item of the answer is not an object with an integer iid"),
    ("get_schedule", (200, [{"id": 3}], {}), "GitLab API: get pipeline schedule 3: the answer is not a JSON object"),
    ("create_schedule", (201, "created", {}), "GitLab API: create pipeline schedule 'n': the answer is not JSON (HTTP 201, text/html)"),
    ("edit_merge_request", (200, [], {}), "GitLab API: edit merge request !5: the answer is not a JSON object"),
    ("play", (503, "<html><body><h1>503 Service Unavailable</h1></body></html>", {}),
     "GitLab API: play pipeline schedule 3: HTTP 503"),
], ids=["object-not-list", "id-text", "item-text", "id-null", "iid-text", "list-not-object", "text", "empty-list",
        "html-error"])
def test_an_answer_of_the_wrong_shape_is_one_line(api_server: FakeSlack, call: str, answer: Any, error: str) -> None:
    api_server.default = answer
    with pytest.raises(GitLabError) as exc:
        CALLS[call][0](client(api_server))
    assert str(exc.value) == error


def test_a_schedule_description_that_is_not_text_is_not_ours(api_server: FakeSlack) -> None:
    # The guard's lookup reads descriptions; a number there is nobody's schedule, not a crash.
    api_server.default = (200, [{"id": 1, "description": 7}], {})
    env = {"CI_PIPELINE_ID": "10", "CI_PIPELINE_SCHEDULE_DESCRIPTION": "jmo-schedule: nightly"}
    with pytest.raises(GitLabError) as exc:
        other_pipelines(client(api_server), "nightly", env)
    assert str(exc.value) == "the project has no pipeline schedule 'jmo-schedule: nightly'"
