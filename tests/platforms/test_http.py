"""platforms/http.py: the one HTTP layer of the GitHub and GitLab clients, against local
servers: credentials stay on the API's origin, a time limit for the whole answer, bounded
bodies, one-line errors."""
from __future__ import annotations

import time

import pytest
from conftest import peak_memory
from fakes.slack import FakeSlack, drip, flood, trickle

from jmo_schedule.errors import GitLabError
from jmo_schedule.platforms.http import Api, next_link

TOKEN = "glpat-secret-token"




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


CREDENTIALS = {"Authorization": "Bearer ghs_secret", "PRIVATE-TOKEN": TOKEN, "JOB-TOKEN": "job-secret-token"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("header", sorted(CREDENTIALS))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_redirect_takes_a_credential_to_another_port(api_server: FakeSlack, elsewhere: FakeSlack, status: int,
                                                        header: str, method: str) -> None:
    api_server.script = [(status, "", {"Location": elsewhere.base + "/collect"})]
    api = Api(api_server.base + "/api/v4", service="GitLab API", credential={header: CREDENTIALS[header]},
              error=GitLabError)
    with pytest.raises(GitLabError) as exc:
        api.send(method, api_server.base + "/api/v4/projects/1", "get project")
    assert str(exc.value) == (f"GitLab API: get project: HTTP {status} redirects to another host "
                              f"({elsewhere.base.removeprefix('http://')}); not following it with the token")
    assert elsewhere.requests == []
    assert [r.headers.get(header) for r in api_server.requests] == [CREDENTIALS[header]]


def test_the_same_server_under_another_name_is_another_host(api_server: FakeSlack) -> None:
    # localhost is this very server, but not the API's origin: the token is not sent there.
    port = api_server.base.rsplit(":", 1)[1]
    api_server.script = [(302, "", {"Location": f"http://localhost:{port}/api/v4/projects/2"})]
    with pytest.raises(GitLabError) as exc:
        client(api_server).send("GET", api_server.base + "/api/v4/projects/1", "get project")
    assert str(exc.value) == (f"GitLab API: get project: HTTP 302 redirects to another host (localhost:{port}); "
                              "not following it with the token")
    assert [r.path for r in api_server.requests] == ["/api/v4/projects/1"]


def test_a_redirect_chain_that_leaves_the_api_is_stopped_where_it_leaves(api_server: FakeSlack,
                                                                         elsewhere: FakeSlack) -> None:
    api_server.script = [(301, "", {"Location": "/api/v4/projects/2"}),
                         (307, "", {"Location": elsewhere.base + "/api/v4/projects/2"})]
    with pytest.raises(GitLabError):
        client(api_server).send("GET", api_server.base + "/api/v4/projects/1", "get project")
    assert [(r.path, r.headers.get("PRIVATE-TOKEN")) for r in api_server.requests] == [
        ("/api/v4/projects/1", TOKEN), ("/api/v4/projects/2", TOKEN)]
    assert elsewhere.requests == []


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
    # Each chunk comes well within any read timeout, the whole body never does (it would take 5s).
    api_server.script = [drip([b"[1,"] * 100 + [b"1]"], 0.05)]
    started = time.monotonic()
    with pytest.raises(GitLabError) as exc:
        client(api_server, timeout=0.5).json("GET", api_server.base + "/api/v4/x", "list")
    assert time.monotonic() - started < 2.0
    assert str(exc.value) == (f"GitLab API: list: no complete answer from {api_server.base.removeprefix('http://')} "
                              "within 0.5s")


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"


@pytest.mark.parametrize(("raw", "every"), [
    (HEAD + b"[" + b"1," * 19 + b"]", 0.5),  # the headers at once, then the body a byte every half second
    (HEAD + b"[]", 0.05),  # the status line and headers themselves a byte at a time
], ids=["body", "headers"])
def test_a_server_that_trickles_bytes_is_cut_at_the_time_limit(api_server: FakeSlack, raw: bytes, every: float) -> None:
    api_server.script = [trickle(raw, every)]
    started = time.monotonic()
    with pytest.raises(GitLabError) as exc:
        client(api_server, timeout=1.0).json("GET", api_server.base + "/api/v4/x", "list")
    assert time.monotonic() - started < 2.5  # the whole answer would take 20s, or 4.5s for the headers
    assert str(exc.value) == (f"GitLab API: list: no complete answer from {api_server.base.removeprefix('http://')} "
                              "within 1s")


HUGE = 500 * 1024 * 1024  # a 500 MB answer, made as it is sent


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_a_huge_answer_is_refused_within_the_body_limit(api_server: FakeSlack, declared: bool) -> None:
    api_server.script = [flood(HUGE, declared=declared)]
    api = client(api_server)  # the default limit, 8 MiB
    with pytest.raises(GitLabError) as exc, peak_memory() as peak:
        api.json("GET", api_server.base + "/api/v4/x", "list")
    assert peak[0] < 20 * 1024 * 1024
    assert str(exc.value) == "GitLab API: list: the answer is larger than 8 MiB; not reading it"


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_a_huge_error_answer_costs_only_its_first_bytes(api_server: FakeSlack, declared: bool) -> None:
    api_server.script = [flood(HUGE, status=500, declared=declared)]
    api = client(api_server)
    with pytest.raises(GitLabError) as exc, peak_memory() as peak:
        api.send("GET", api_server.base + "/api/v4/x", "list")
    assert peak[0] < 1024 * 1024
    assert str(exc.value) == "GitLab API: list: HTTP 500"


@pytest.mark.parametrize(("answer", "call", "error"), [
    ((502, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n", {}), "send",
     "GitLab API: get project: HTTP 502"),
    ((200, b'{"id": 1, "name": ', {}), "json",
     "GitLab API: get project: the answer is not JSON (HTTP 200, application/json)"),
    ((200, b"\xff\xfe not text", {}), "json",
     "GitLab API: get project: the answer is not JSON (HTTP 200, application/json)"),
    ((200, b"[" * 100000 + b"]" * 100000, {}), "json",
     "GitLab API: get project: the answer is not JSON (HTTP 200, application/json)"),
    ((200, [1, 2, 3], {}), "object", "GitLab API: get project: the answer is not a JSON object"),
    ((200, "ok", {}), "object", "GitLab API: get project: the answer is not JSON (HTTP 200, text/html)"),
    ((404, b"[" * 100000, {}), "send", "GitLab API: get project: HTTP 404"),
], ids=["html-error-page", "truncated-json", "not-utf8", "nested-too-deep", "list-not-object", "text", "deep-error"])
def test_answers_that_are_not_what_the_api_documents_are_one_line(api_server: FakeSlack, answer: object, call: str,
                                                                   error: str) -> None:
    api_server.script = [answer]
    with pytest.raises(GitLabError) as exc:
        getattr(client(api_server), call)("GET", api_server.base + "/api/v4/projects/1", "get project")
    assert str(exc.value) == error


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
