"""What every GitHub REST call of this package shares: the API root, the request headers
GitHub documents (`Accept: application/vnd.github+json`, `X-GitHub-Api-Version:
2022-11-28`, `Authorization: Bearer <token>`), pagination by the `Link` header, and the
one-line error detail from an answer's `message`.

Used by concurrency.py (guard), github_pr.py (the pull request's token check) and
prune.py (history limits). The token only ever travels in the Authorization header.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

GITHUB_API = "https://api.github.com"
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
