"""HTTP in one place: the GitHub and GitLab REST APIs (`Api`) and Slack webhooks
(`exchange`, which `Api` is built on).

Every request goes through `exchange`: one request and its whole answer within a time
limit counted from the start (a watchdog shuts the connection down at the deadline, so a
server that trickles its headers or its body a byte at a time cannot hold a job), no
redirect followed, a bounded body. Every request of a platform client goes through
`Api.send`, which adds the rules for credentials:
- a credential is sent only to the API's own origin (scheme, host and port). Redirects are
  followed by hand, and only within that origin: `requests` drops `Authorization` on a
  redirect to another host but keeps custom headers such as GitLab's `PRIVATE-TOKEN`, so
  it is never left to follow them. A next page on another origin is refused the same way;
- a time limit for the whole attempt (connecting, the headers and the body), not only
  per socket read, so a server that drips its answer cannot hold a job;
- a bounded answer: a body larger than `max_body` bytes is refused, not read; an error
  answer is read only as far as its message can be (ERROR_BODY bytes);
- one-line errors that name the service, what was being done, the status, the server's
  own message and what to do about it (`hints` by status); an answer that should be JSON
  and is not is one line too, never the body. No error ever holds a credential.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Container, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

from ..errors import ApiError

TIMEOUT = 30.0  # seconds for one whole request: connect, headers, body
CONNECT_TIMEOUT = 10.0
MAX_BODY = 8 * 1024 * 1024  # bytes: API answers are far smaller
ERROR_BODY = 64 * 1024  # bytes of an error or redirect answer read: its message is in the first few hundred
CHUNK = 64 * 1024
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
        try:
            return json.loads(self.body)
        except RecursionError:  # nested deeper than Python's parser goes: no API answers so
            raise ValueError("JSON nested too deeply") from None

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

# --- the wire: one request, its whole answer within a deadline --------------------------


class Failure(Exception):
    """No usable answer to one request. `kind`: "timeout" (the whole answer did not come
    within the time limit), "connect-timeout", "too-large" (the body is larger than the
    limit), "network" (no answer) or "broken" (the answer broke off); `cause` says what
    broke, and its text may hold the URL: never print it."""

    def __init__(self, kind: str, cause: BaseException | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.cause = cause


class _Deadline:
    """The watchdog of one attempt: at `seconds` it shuts down every socket the attempt
    used on this thread, so a read that waits on a trickling server returns at once."""

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._watched: list[Any] = []  # connections (their socket may come later) and sockets
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _Deadline._current.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _Deadline._current.value = None

    @classmethod
    def enlist(cls, thing: Any) -> None:
        """Put a connection or a socket under the watch of the attempt running on this
        thread (if any); after its deadline nothing new may start."""
        deadline = getattr(cls._current, "value", None)
        if deadline is None or thing is None:
            return
        with deadline._lock:
            if deadline.fired:
                raise socket.timeout("the time limit of the request has passed")
            deadline._watched.append(thing)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for thing in self._watched:
                # A connection hands its socket to the answer it reads (and forgets it) when
                # the server closes after the answer: so sockets are watched themselves too.
                sock = thing if isinstance(thing, socket.socket) else getattr(thing, "sock", None)
                if sock is not None:
                    try:  # the plain socket's shutdown: a TLS socket's own would unwrap it under a reader
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                    except OSError:
                        pass


class _Watched:
    """A connection that puts itself and its socket under the current attempt's deadline
    when it connects (the TLS handshake included) and when it sends a request."""

    sock: Any

    def connect(self) -> None:
        _Deadline.enlist(self)
        super().connect()  # type: ignore[misc]
        _Deadline.enlist(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _Deadline.enlist(self)
        _Deadline.enlist(self.sock)  # a kept-alive connection (a new one enlists as it connects)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    """requests' adapter with watched connections, directly or through an HTTP proxy."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if isinstance(manager, ProxyManager):  # a SOCKS proxy keeps its own connections
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session() -> requests.Session:
    """A requests session whose connections `exchange` can cut at its deadline. Proxies come
    from the environment; credentials never do (no .netrc)."""
    session = requests.Session()
    session.trust_env = True
    session.auth = None
    adapter = _Adapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def exchange(session: requests.Session, method: str, url: str, *, headers: Mapping[str, str],
             timeout: float, max_body: int = MAX_BODY, cut: bool = False, params: Mapping[str, Any] | None = None,
             json_body: Any = None, data: Any = None) -> Answer:
    """One request and its whole answer, within `timeout` seconds from the start (connecting,
    the headers and the body), no redirect followed. The body is read up to `max_body`
    bytes: beyond that Failure("too-large"), or with `cut` the first `max_body` bytes. An
    answer with a status of 300 or more is read only up to ERROR_BODY bytes (its message).
    Raises Failure when there is no usable answer. `session` comes from `new_session`."""
    started = time.monotonic()
    with _Deadline(timeout) as deadline:
        try:
            response = session.request(
                method, url, params=params, json=json_body, data=data, headers=dict(headers),
                allow_redirects=False, stream=True, timeout=(min(CONNECT_TIMEOUT, timeout), timeout))
        except requests.ConnectTimeout as exc:
            raise Failure("timeout" if deadline.fired else "connect-timeout", exc) from None
        except requests.RequestException as exc:
            raise Failure("timeout" if deadline.fired or isinstance(exc, requests.Timeout) else "network", exc) from None
        with response:
            limit = max_body
            if response.status_code >= 300:
                limit, cut = min(max_body, ERROR_BODY), True
            body = _read(response, limit, cut, deadline)
        if deadline.fired or time.monotonic() - started > timeout:
            raise Failure("timeout")
    return Answer(response.status_code, response.headers, body, url)


def _read(response: requests.Response, limit: int, cut: bool, deadline: _Deadline) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if not cut and declared.isdigit() and int(declared) > limit:
        raise Failure("too-large")
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(min(CHUNK, limit + 1) if cut else CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if not cut:
                    raise Failure("too-large")
                break
            if deadline.fired:
                break
    except requests.RequestException as exc:
        raise Failure("timeout" if deadline.fired or isinstance(exc, requests.Timeout) else "broken", exc) from None
    if deadline.fired:
        raise Failure("timeout")
    return b"".join(chunks)[:limit]



class Api:
    """A client for one API root: `base_url` (its origin is where the credential may go),
    `service` ("GitHub API") for messages, `credential` headers sent with every request to
    that origin and nowhere else, `hints` by HTTP status (429 may say `{wait}`), and the
    ApiError subclass to raise."""

    def __init__(self, base_url: str, *, service: str, credential: Mapping[str, str],
                 headers: Mapping[str, str] | None = None, error: type[ApiError] = ApiError,
                 hints: Mapping[int, str] | None = None, timeout: float = TIMEOUT, max_body: int = MAX_BODY) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin(self.base_url)
        self.service = service
        self.error = error
        self.hints: dict[int, str] = dict(hints or {})
        self.timeout = timeout
        self.max_body = max_body
        self._credential = dict(credential)
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._session = new_session()

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

    def object(self, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """`json` for an endpoint that answers one JSON object ({} when the body is empty);
        any other JSON is an error."""
        data = self.json(method, url, what, **kwargs)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise self.error(f"{self.service}: {what}: the answer is not a JSON object")
        return data

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
        started = time.monotonic()
        limit = self.max_body if max_body is None else max_body
        credential: Mapping[str, str] = self._credential
        headers: Mapping[str, str] = self._headers
        for _ in range(MAX_REDIRECTS + 1):
            if credential and origin(url) != self.origin:
                raise self.error(f"{self.service}: {what}: {host(url)} is not the API host {self.origin[1]}; "
                                 "not sending the token there")
            left = self.timeout - (time.monotonic() - started)
            if left <= 0:
                raise self._timed_out(what, url)
            try:
                answer = exchange(self._session, method, url, headers={**headers, **credential}, timeout=left,
                                  max_body=limit, params=params, json_body=json_body, data=data)
            except Failure as failure:
                raise self._failed(failure, what, url, limit) from None
            location = answer.headers.get("Location")
            if answer.status in REDIRECTS and location:
                target = urljoin(url, location)
                if drop_credential and origin(target) != self.origin:
                    scheme, where = origin(target)
                    if scheme != "https" and not (scheme == "http" and _loopback(where)):
                        raise self.error(f"{self.service}: {what}: HTTP {answer.status} redirects to "
                                         f"{host(target)} without https; not following it")
                    credential, headers = {}, {"User-Agent": self._headers["User-Agent"]}
                elif credential and origin(target) != self.origin:
                    raise self.error(f"{self.service}: {what}: HTTP {answer.status} redirects to another host "
                                     f"({host(target)}); not following it with the token")
                url, params = target, None  # the Location carries its own query
                if answer.status == 303 or (answer.status in (301, 302) and method != "GET"):
                    method, json_body, data = "GET", None, None
                continue
            return answer
        raise self.error(f"{self.service}: {what}: more than {MAX_REDIRECTS} redirects")

    def _failed(self, failure: Failure, what: str, url: str, limit: int) -> ApiError:
        if failure.kind in ("timeout", "connect-timeout"):
            return self._timed_out(what, url)
        if failure.kind == "too-large":
            return self._too_large(what, limit)
        # The exception's text may hold the URL; the name and the host are enough.
        name = type(failure.cause).__name__
        if failure.kind == "broken":
            return self.error(f"{self.service}: {what}: {name} while reading the answer from {host(url)}")
        return self.error(f"{self.service}: {what}: {name}: cannot reach {host(url)}")

    def _timed_out(self, what: str, url: str) -> ApiError:
        return self.error(f"{self.service}: {what}: no complete answer from {host(url)} within {self.timeout:g}s")

    def _too_large(self, what: str, limit: int) -> ApiError:
        mib = 1024 * 1024
        size = f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} bytes"
        return self.error(f"{self.service}: {what}: the answer is larger than {size}; not reading it")
