"""What every GitHub REST call of this package shares: the API root, the request headers
GitHub documents (`Accept: application/vnd.github+json`, `X-GitHub-Api-Version:
2022-11-28`, `Authorization: Bearer <token>`), pagination by the `Link` header, and the
one-line error detail from an answer's `message`.

Used by concurrency.py (guard), github_pr.py (the pull request's token check),
prune.py (history limits) and trigger.py (workflow dispatch). The token only ever travels
in the Authorization header.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import GitHubError

GITHUB_API = "https://api.github.com"
# The variables a token is read from, in this order (GH_TOKEN is the gh CLI's).
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
API_VERSION = "2022-11-28"
USER_AGENT = "jmo-schedule"

_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?')


def headers(token: str) -> dict[str, str]:
    """The request headers GitHub's REST documentation asks for, with `token` as Bearer."""
    return {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }


def api_url(env: Mapping[str, str]) -> str:
    """`$GITHUB_API_URL` (GitHub Enterprise Server, tests) else https://api.github.com, no trailing /."""
    return (env.get("GITHUB_API_URL") or GITHUB_API).rstrip("/")


def next_link(link: str | None) -> str | None:
    """The URL of `rel="next"` in an RFC 8288 `Link` header, or None on the last page."""
    if not link:
        return None
    m = _NEXT.search(link)
    return m.group(1) if m else None


def api_message(response: Any) -> str:
    """The `message` of a JSON error answer, on one line and at most 200 characters."""
    try:
        data = response.json()
    except ValueError:
        return ""
    msg = data.get("message") if isinstance(data, dict) else None
    return " ".join(str(msg).split())[:200] if msg else ""


def token_from(env: Mapping[str, str], variables: tuple[str, ...] = TOKEN_VARIABLES) -> tuple[str, str]:
    """(variable, token) of the first of `variables` that is set; ("", "") when none is."""
    for name in variables:
        token = (env.get(name) or "").strip()
        if token:
            return name, token
    return "", ""


def host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or "the server"


def send(session: Any, method: str, url: str, what: str, timeout: float, **kwargs: Any) -> Any:
    """`session.request(...)` without redirects; a network failure becomes a GitHubError
    naming the host, never the headers that hold the token."""
    import requests

    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise GitHubError(f"GitHub API: {what}: {type(exc).__name__}: cannot reach {host(url)}") from None


def error_message(response: Any, what: str, hints: Mapping[int, str], rate_limited: str) -> str:
    """One line for a refused request: status, GitHub's `message`, and what to do about it:
    `hints` by status (401 defaults to a dead token), `rate_limited` for a 429 or a 403 with
    no requests left."""
    status = response.status_code
    limited = status == 429 or (status == 403 and response.headers.get("X-RateLimit-Remaining") == "0")
    hints = {401: "the token is missing, expired or revoked", **hints}
    hint = rate_limited if limited else hints.get(status, "")
    detail = api_message(response)
    return f"GitHub API: {what}: HTTP {status}" + (f" ({detail})" if detail else "") + (f"; {hint}" if hint else "")
