"""platforms/http.py: the one HTTP layer of the GitHub and GitLab clients, against local
servers: credentials stay on the API's origin, a time limit for the whole answer, bounded
bodies, one-line errors."""
from __future__ import annotations

from typing import Iterator

import pytest
from fakes.slack import FakeSlack, drip

from jmo_schedule.errors import GitLabError
from jmo_schedule.platforms.http import Api, next_link

TOKEN = "glpat-secret-token"


@pytest.fixture
def api_server() -> Iterator[FakeSlack]:
    server = FakeSlack(default=(200, {"ok": True}, {})).start()
    yield server
    server.stop()


@pytest.fixture
def elsewhere() -> Iterator[FakeSlack]:
    """Another origin (same host, another port): it must never see the token."""
    server = FakeSlack(default=(200, {"stolen": True}, {})).start()
    yield server
    server.stop()


def client(server: FakeSlack, **kwargs: object) -> Api:
    return Api(server.base + "/api/v4", service="GitLab API", credential={"PRIVATE-TOKEN": TOKEN}, error=GitLabError,
               **kwargs)  # type: ignore[arg-type]


def test_the_credential_goes_with_every_request_to_the_api(api_server: FakeSlack) -> None:
    assert client(api_server).json("GET", api_server.base + "/api/v4/projects/1", "get project") == {"ok": True}
    (request,) = api_server.requests
    assert request.headers["PRIVATE-TOKEN"] == TOKEN
    assert request.headers["User-Agent"] == "jmo-schedule"


def test_a_redirect_within_the_api_is_followed_with_the_credential(api_server: FakeSlack) -> None:
    api_server.script = [(301, "", {"Location": "/api/v4/projects/2"})]
    assert client(api_server).json("GET", api_server.base + "/api/v4/projects/1", "get project") == {"ok": True}
    assert [(r.path, r.headers.get("PRIVATE-TOKEN")) for r in api_server.requests] == [
        ("/api/v4/projects/1", TOKEN), ("/api/v4/projects/2", TOKEN)]


def test_a_redirect_to_another_host_is_not_followed(api_server: FakeSlack, elsewhere: FakeSlack) -> None:
    api_server.script = [(307, "", {"Location": elsewhere.base + "/collect"})]
    with pytest.raises(GitLabError) as exc:
        client(api_server).send("POST", api_server.base + "/api/v4/projects/1/pipeline_schedules", "create schedule")
    host = elsewhere.base.removeprefix("http://")
    assert str(exc.value) == (f"GitLab API: create schedule: HTTP 307 redirects to another host ({host}); "
                              "not following it with the token")
    assert elsewhere.requests == []


def test_a_url_on_another_host_gets_no_credential(api_server: FakeSlack, elsewhere: FakeSlack) -> None:
    with pytest.raises(GitLabError) as exc:
        client(api_server).send("GET", elsewhere.base + "/api/v4/projects/1", "get project")
    api_host = api_server.base.removeprefix("http://")
    assert str(exc.value) == (f"GitLab API: get project: {elsewhere.base.removeprefix('http://')} is not the API host "
                              f"{api_host}; not sending the token there")
    assert elsewhere.requests == []


def test_a_next_page_on_another_host_is_refused(api_server: FakeSlack, elsewhere: FakeSlack) -> None:
    api_server.script = [(200, [{"id": 1}], {"Link": f'<{elsewhere.base}/api/v4/x?page=2>; rel="next"'})]
    pages = client(api_server).pages(api_server.base + "/api/v4/x", "list things")
    assert next(pages)[1] == [{"id": 1}]
    with pytest.raises(GitLabError) as exc:
        next(pages)
    assert str(exc.value) == (f"GitLab API: list things: the next page is on another host "
                              f"({elsewhere.base.removeprefix('http://')})")
    assert elsewhere.requests == []


def test_an_answer_that_is_not_json_is_one_line(api_server: FakeSlack) -> None:
    api_server.script = [(200, "<html>\n<body>Sign in</body>\n</html>", {})]
    with pytest.raises(GitLabError) as exc:
        client(api_server).json("GET", api_server.base + "/api/v4/projects/1", "get project")
    assert str(exc.value) == "GitLab API: get project: the answer is not JSON (HTTP 200, text/html)"


def test_a_refusal_names_status_message_and_hint(api_server: FakeSlack) -> None:
    api_server.script = [(403, {"message": "403 Forbidden\n - insufficient scope"}, {})]
    with pytest.raises(GitLabError) as exc:
        client(api_server, hints={403: "the token needs the api scope"}).send(
            "GET", api_server.base + "/api/v4/projects/1", "get project")
    assert str(exc.value) == "GitLab API: get project: HTTP 403 (403 Forbidden - insufficient scope); the token needs the api scope"
    assert exc.value.status == 403 and exc.value.denied


def test_a_rate_limit_says_when_to_try_again(api_server: FakeSlack) -> None:
    api_server.script = [(429, {"message": "429 Too Many Requests"}, {"Retry-After": "60"})]
    with pytest.raises(GitLabError) as exc:
        client(api_server, hints={429: "try again {wait}"}).send("GET", api_server.base + "/api/v4/x", "list")
    assert str(exc.value) == "GitLab API: list: HTTP 429 (429 Too Many Requests); try again in 60 seconds"


def test_a_body_larger_than_the_limit_is_not_read(api_server: FakeSlack) -> None:
    api_server.script = [(200, b"[" + b"1," * 4000 + b"1]", {}), drip([b"[" + b"1," * 2000] * 4 + [b"1]"], 0.0)]
    api = client(api_server, max_body=4096)
    for _ in range(2):  # declared (Content-Length), then not declared (read until the limit)
        with pytest.raises(GitLabError) as exc:
            api.json("GET", api_server.base + "/api/v4/x", "list")
        assert str(exc.value) == "GitLab API: list: the answer is larger than 4096 bytes; not reading it"


def test_a_dripping_answer_is_cut_at_the_time_limit(api_server: FakeSlack) -> None:
    # Each chunk comes well within any read timeout, the whole body never does.
    api_server.script = [drip([b"[1,"] * 100 + [b"1]"], 0.05)]
    with pytest.raises(GitLabError) as exc:
        client(api_server, timeout=0.5).json("GET", api_server.base + "/api/v4/x", "list")
    assert str(exc.value) == (f"GitLab API: list: no complete answer from {api_server.base.removeprefix('http://')} "
                              "within 0.5s")


def test_an_unreachable_server_is_one_line_without_the_url() -> None:
    api = Api("http://127.0.0.1:9/api/v4", service="GitLab API", credential={"PRIVATE-TOKEN": TOKEN},
              error=GitLabError)
    with pytest.raises(GitLabError) as exc:
        api.send("GET", "http://127.0.0.1:9/api/v4/projects/1?private_token=x", "get project")
    assert str(exc.value) == "GitLab API: get project: ConnectionError: cannot reach 127.0.0.1:9"


def test_next_link() -> None:
    assert next_link('<https://g/api/v4/x?page=3&per_page=100>; rel="next", <https://g/x?page=9>; rel="last"') == (
        "https://g/api/v4/x?page=3&per_page=100")
    assert next_link('<https://g/x?page=9>; rel="last"') is None
    assert next_link(None) is None
