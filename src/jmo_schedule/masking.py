"""Keeping secrets out of output: webhook URLs are shown only as scheme://host/***."""
from __future__ import annotations

import copy
import re
from typing import Any

_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def mask_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/XYZ` -> `https://hooks.slack.com/***`;
    a `${VAR}` reference is not a secret and is returned as is."""
    if _ENV_REF.match(url):
        return url
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@]*@)?([^/?#]*)", url)
    if not m:
        return "***"
    return f"{m.group(1)}{m.group(3)}/***"


def masked_schedule_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a schedule dict with every notification channel URL masked."""
    out = copy.deepcopy(data)
    notif = ((out.get("spec") or {}).get("jobTemplate") or {}).get("notifications") or {}
    for channel in notif.get("channels") or []:
        if isinstance(channel, dict) and isinstance(channel.get("url"), str):
            channel["url"] = mask_url(channel["url"])
    return out
