"""HTTP to the GitHub and GitLab REST APIs, in one place.

Every request of a platform client goes through `Api.send`, which holds the rules:
- a credential is sent only to the API's own origin (scheme, host and port). Redirects are
  followed by hand, and only within that origin: `requests` drops `Authorization` on a
  redirect to another host but keeps custom headers such as GitLab's `PRIVATE-TOKEN`, so
  it is never left to follow them. A next page on another origin is refused the same way;
- a time limit for the whole attempt (connecting, the headers and the body), not only
  per socket read, so a server that drips its answer cannot hold a job;
- a bounded answer: a body larger than `max_body` bytes is refused, not read;
- one-line errors that name the service, what was being done, the status, the server's
  own message and what to do about it (`hints` by status); an answer that should be JSON
  and is not is one line too, never the body. No error ever holds a credential.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Container, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import ApiError

TIMEOUT = 30.0  # seconds for one whole request: connect, headers, body
CONNECT_TIMEOUT = 10.0
MAX_BODY = 8 * 1024 * 1024  # bytes: API answers are far smaller
MAX_REDIRECTS = 5
MAX_PAGES = 1000
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "jmo-schedule"

_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?')


def origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of `url`, lowercased: what "the same server" means here."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower().rpartition("@")[2]


def host(url: str) -> str:
    """The host[:port] of `url` for messages (never a user or password)."""
    return origin(url)[1] or "the server"


def _loopback(netloc: str) -> bool:
    name = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    return name in ("127.0.0.1", "localhost", "[::1]")


def next_link(link: str | None) -> str | None:
    """The URL of `rel="next"` in an RFC 8288 `Link` header, or None on the last page."""
    if not link:
        return None
    m = _NEXT.search(link)
    return m.group(1) if m else None


class Answer:
    """One HTTP answer, its body read in full (within the limits)."""

    __slots__ = ("status", "headers", "body", "url")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    def data(self) -> Any:
        """The parsed JSON body (None for an empty one); ValueError when it is not JSON."""
        if not self.body.strip():
            return None
        return json.loads(self.body)

    def message(self) -> str:
        """The server's own error text (`message`, else `error`), on one line, at most 200
        characters; "" when the body has none or is not JSON."""
        try:
            data = self.data()
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        msg = data.get("message") or data.get("error") or ""
        if isinstance(msg, dict):  # GitLab nests field errors: {"message": {"cron": ["is invalid"]}}
            msg = "; ".join(f"{k} {v}" for k, v in msg.items())
        return " ".join(str(msg).split())[:200]


class Api:
    """A client for one API root: `base_url` (its origin is where the credential may go),
    `service` ("GitHub API") for messages, `credential` headers sent with every request to
    that origin and nowhere else, `hints` by HTTP status (429 may say `{wait}`), and the
    ApiError subclass to raise."""

    def __init__(self, base_url: str, *, service: str, credential: Mapping[str, str],
                 headers: Mapping[str, str] | None = None, error: type[ApiError] = ApiError,
                 hints: Mapping[int, str] | None = None, timeout: float = TIMEOUT, max_body: int = MAX_BODY,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        self.service = service
        self.error = error
        self.hints: dict[int, str] = dict(hints or {})
        self.timeout = timeout
        self.max_body = max_body
        self._credential = dict(credential)
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._session = session or requests.Session()
        self._session.trust_env = True  # proxies from the environment; never .netrc credentials
        self._session.auth = None

    # -- one request ---------------------------------------------------------------
    def send(self, method: str, url: str, what: str, *, params: Mapping[str, Any] | None = None,
             json_body: Any = None, data: Mapping[str, Any] | None = None,
             hints: Mapping[int, str] | None = None, allow: Container[int] = ()) -> Answer:
        """One request, redirects within the origin followed. Raises `error` for a status of
        400 or more (unless in `allow`), a network failure, a timeout, a body too large."""
        answer = self._attempt(method, url, what, params, json_body, data)
        if answer.status >= 400 and answer.status not in allow:
            raise self.error(self.refusal(answer, what, hints), answer.status)
        return answer

    def download(self, url: str, what: str, *, max_bytes: int, hints: Mapping[int, str] | None = None,
                 allow: Container[int] = ()) -> Answer:
        """GET a file (an artifact archive) of up to `max_bytes`. The API may redirect it to a
        storage host (GitHub's artifact blobs, a CDN in front of GitLab): such a redirect is
        followed WITHOUT the credential, as the platforms document, and only to https (plain
        http only on loopback); once dropped, the credential is never sent again."""
        answer = self._attempt("GET", url, what, None, None, None, drop_credential=True, max_body=max_bytes)
        if answer.status >= 400 and answer.status not in allow:
            raise self.error(self.refusal(answer, what, hints), answer.status)
        return answer

    def json(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        """`send`, and the answer's JSON (None when empty); a body that is not JSON is an error."""
        answer = self.send(method, url, what, **kwargs)
        return self.parse(answer, what)

    def parse(self, answer: Answer, what: str) -> Any:
        try:
            return answer.data()
        except ValueError:
            kind = answer.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
            raise self.error(f"{self.service}: {what}: the answer is not JSON (HTTP {answer.status}, {kind})",
                             answer.status) from None

    def pages(self, url: str, what: str, params: Mapping[str, Any] | None = None, *,
              hints: Mapping[int, str] | None = None, max_pages: int = MAX_PAGES) -> Iterator[tuple[Answer, Any]]:
        """Every page of a listing: GitLab's `X-Next-Page` (a page number) or an RFC 8288
        `Link: <...>; rel="next"` (GitHub, GitLab), which must stay on the API's origin."""
        query: dict[str, Any] | None = dict(params or {})
        next_url: str | None = url
        for _ in range(max_pages):
            assert next_url is not None
            answer = self.send("GET", next_url, what, params=query, hints=hints)
            yield answer, self.parse(answer, what)
            page = (answer.headers.get("X-Next-Page") or "").strip()
            link = next_link(answer.headers.get("Link"))
            if page and query is not None:
                query = {**query, "page": page}
            elif link:
                link = urljoin(next_url, link)
                if origin(link) != self.origin:
                    raise self.error(f"{self.service}: {what}: the next page is on another host ({host(link)})")
                next_url, query = link, None  # the link carries the whole query
            else:
                return
        raise self.error(f"{self.service}: {what}: more than {max_pages} pages")

    # -- messages ------------------------------------------------------------------
    def refusal(self, answer: Answer, what: str, hints: Mapping[int, str] | None = None) -> str:
        """One line for a refused request: status, the server's message, what to do."""
        status = answer.status
        table = {**self.hints, **(hints or {})}
        limited = status == 429 or (status == 403 and answer.headers.get("X-RateLimit-Remaining") == "0")
        hint = table.get(429 if limited else status, "")
        if "{wait}" in hint:
            retry = (answer.headers.get("Retry-After") or "").strip()
            hint = hint.format(wait=f"in {retry} seconds" if retry.isdigit() else "later")
        detail = answer.message()
        return f"{self.service}: {what}: HTTP {status}" + (f" ({detail})" if detail else "") + (f"; {hint}" if hint else "")

    # -- the wire ------------------------------------------------------------------
    def _attempt(self, method: str, url: str, what: str, params: Mapping[str, Any] | None, json_body: Any,
                 data: Mapping[str, Any] | None, drop_credential: bool = False, max_body: int | None = None) -> Answer:
        deadline = time.monotonic() + self.timeout
        limit = self.max_body if max_body is None else max_body
        credential: Mapping[str, str] = self._credential
        headers: Mapping[str, str] = self._headers
        for _ in range(MAX_REDIRECTS + 1):
            if credential and origin(url) != self.origin:
                raise self.error(f"{self.service}: {what}: {host(url)} is not the API host {self.origin[1]}; "
                                 "not sending the token there")
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timed_out(what, url)
            try:
                response = self._session.request(
                    method, url, params=params, json=json_body, data=data,
                    headers={**headers, **credential}, allow_redirects=False, stream=True,
                    timeout=(min(CONNECT_TIMEOUT, left), left))
            except requests.Timeout:
                raise self._timed_out(what, url) from None
            except requests.RequestException as exc:
                # The exception's text may hold the URL; the name and the host are enough.
                raise self.error(f"{self.service}: {what}: {type(exc).__name__}: cannot reach {host(url)}") from None
            with response:
                body = self._read(response, what, url, deadline, limit)
            location = response.headers.get("Location")
            if response.status_code in REDIRECTS and location:
                target = urljoin(url, location)
                if drop_credential and origin(target) != self.origin:
                    scheme, where = origin(target)
                    if scheme != "https" and not (scheme == "http" and _loopback(where)):
                        raise self.error(f"{self.service}: {what}: HTTP {response.status_code} redirects to "
                                         f"{host(target)} without https; not following it")
                    credential, headers = {}, {"User-Agent": self._headers["User-Agent"]}
                elif credential and origin(target) != self.origin:
                    raise self.error(f"{self.service}: {what}: HTTP {response.status_code} redirects to another host "
                                     f"({host(target)}); not following it with the token")
                url, params = target, None  # the Location carries its own query
                if response.status_code == 303 or (response.status_code in (301, 302) and method != "GET"):
                    method, json_body, data = "GET", None, None
                continue
            return Answer(response.status_code, response.headers, body, url)
        raise self.error(f"{self.service}: {what}: more than {MAX_REDIRECTS} redirects")

    def _read(self, response: requests.Response, what: str, url: str, deadline: float, limit: int) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(what, limit)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise self._too_large(what, limit)
                if time.monotonic() > deadline:
                    raise self._timed_out(what, url)
                chunks.append(chunk)
        except requests.RequestException as exc:
            if isinstance(exc, (requests.Timeout, requests.exceptions.ConnectionError)) and time.monotonic() > deadline:
                raise self._timed_out(what, url) from None
            raise self.error(f"{self.service}: {what}: {type(exc).__name__} while reading the answer from "
                             f"{host(url)}") from None
        return b"".join(chunks)

    def _timed_out(self, what: str, url: str) -> ApiError:
        return self.error(f"{self.service}: {what}: no complete answer from {host(url)} within {self.timeout:g}s")

    def _too_large(self, what: str, limit: int) -> ApiError:
        mib = 1024 * 1024
        size = f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} bytes"
        return self.error(f"{self.service}: {what}: the answer is larger than {size}; not reading it")
