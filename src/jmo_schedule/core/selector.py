"""Kubernetes label selectors: `env=prod,tier!=web,team in (a,b),!legacy,owner`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from ..errors import JmoError

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?:(notin|in)\s*\(([^()]*)\)|(==|!=|=)\s*([-A-Za-z0-9_.]*))?\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        return value not in self.values  # "!=" and "notin" also match when the key is absent


def _split(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise JmoError(f"invalid label selector {selector!r}: unbalanced ')'")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if depth:
        raise JmoError(f"invalid label selector {selector!r}: unbalanced '('")
    parts.append(cur)
    return parts


def parse_selector(selector: str) -> list[Requirement]:
    """Parse a selector string; raises JmoError naming the bad requirement."""
    reqs: list[Requirement] = []
    if not selector.strip():
        return reqs
    for part in _split(selector):
        m = _SET_RE.match(part)
        if not m or (m.group(1) and (m.group(3) or m.group(5))):
            raise JmoError(
                f"invalid label selector {selector!r}: cannot read {part.strip()!r} "
                "(expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b))"
            )
        neg, key, set_op, set_values, op, value = m.groups()
        if set_op:
            values = tuple(v.strip() for v in set_values.split(",") if v.strip())
            if not values:
                raise JmoError(f"invalid label selector {selector!r}: {key} {set_op} () needs at least one value")
            reqs.append(Requirement(key, set_op, values))
        elif op:
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
        else:
            reqs.append(Requirement(key, "!exists" if neg else "exists"))
    return reqs


def matches(selector: str | Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return True
    if isinstance(selector, str):
        return all(r.matches(labels) for r in parse_selector(selector))
    return all(labels.get(k) == v for k, v in selector.items())
