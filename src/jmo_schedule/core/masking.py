"""Keeping secrets out of output: webhook URLs are shown only as scheme://host/***."""
from __future__ import annotations

import copy
import re
from typing import Any

_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
_SCHEME_AUTHORITY = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)")
# A host name (any text without delimiters, spaces or controls) or an IPv6 literal, and a port.
_HOST_PORT = re.compile(r"^(?:[^\s\x00-\x1f\x7f@:/?#\[\]\\]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$")


def mask_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/XYZ` -> `https://hooks.slack.com/***`;
    a `${VAR}` reference is not a secret and is returned as is.

    Only the scheme, host and port are ever shown: never a user or password (`user:token@`),
    path, query or fragment. When that cannot be told for sure (an `@` after the authority may
    end a password holding an unencoded `/`, `?` or `#`; a host that is not one), the result
    is `scheme://***`, or `***` for text that is not a URL at all.
    """
    if _ENV_REF.match(url):
        return url
    m = _SCHEME_AUTHORITY.match(url)
    if not m:
        return "***"
    scheme, authority = m.group(1), m.group(2)
    # A password may hold an unencoded `@`: the host follows the last one.
    _, at, host = authority.rpartition("@")
    if not at and "@" in url[m.end():]:
        return f"{scheme}***"
    if not _HOST_PORT.match(host):
        return f"{scheme}***"
    return f"{scheme}{host}/***"


def masked_schedule_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a schedule dict with every notification channel URL masked."""
    out = copy.deepcopy(data)
    notif = ((out.get("spec") or {}).get("jobTemplate") or {}).get("notifications") or {}
    for channel in notif.get("channels") or []:
        if isinstance(channel, dict) and isinstance(channel.get("url"), str):
            channel["url"] = mask_url(channel["url"])
    return out
