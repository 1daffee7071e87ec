"""selector.py: Kubernetes label selectors."""
from __future__ import annotations

import pytest

from jmo_schedule.errors import JmoError
from jmo_schedule.core.selector import Requirement, matches, parse_selector

LABELS = {"env": "prod", "tier": "web", "team": "a", "empty": ""}


def test_parse_every_form() -> None:
    assert parse_selector("env=prod,tier!=web, team in (a, b),!legacy,owner,x notin (y),k==v") == [
        Requirement("env", "=", ("prod",)),
        Requirement("tier", "!=", ("web",)),
        Requirement("team", "in", ("a", "b")),
        Requirement("legacy", "!exists"),
        Requirement("owner", "exists"),
        Requirement("x", "notin", ("y",)),
        Requirement("k", "=", ("v",)),
    ]
    assert parse_selector("") == [] and parse_selector("  ") == []
    assert parse_selector("app.kubernetes.io/name=web") == [Requirement("app.kubernetes.io/name", "=", ("web",))]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env=prod", True), ("env=dev", False), ("env!=dev", True), ("tier!=web", False),
        ("missing!=x", True),  # != and notin match when the key is absent, as in Kubernetes
        ("missing notin (x)", True), ("team in (a,b)", True), ("team in (b,c)", False),
        ("team notin (a)", False), ("env", True), ("missing", False), ("!missing", True), ("!env", False),
        ("empty=", True), ("env=prod,tier=web,!legacy", True), ("env=prod,tier=api", False),
    ],
)
def test_matching(selector: str, expected: bool) -> None:
    assert matches(selector, LABELS) is expected


def test_dict_and_empty_selectors() -> None:
    assert matches({"env": "prod", "tier": "web"}, LABELS)
    assert not matches({"env": "prod", "tier": "api"}, LABELS)
    assert matches(None, {}) and matches({}, {}) and matches("", {})


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("env=a=b", "invalid label selector 'env=a=b': cannot read 'env=a=b' (expected key, !key, key=value, "
                    "key!=value, key in (a,b) or key notin (a,b))"),
        ("a,,b", "invalid label selector 'a,,b': cannot read '' (expected key, !key, key=value, key!=value, "
                 "key in (a,b) or key notin (a,b))"),
        ("!a=b", "invalid label selector '!a=b': cannot read '!a=b' (expected key, !key, key=value, key!=value, "
                 "key in (a,b) or key notin (a,b))"),
        ("a in b", "invalid label selector 'a in b': cannot read 'a in b' (expected key, !key, key=value, "
                   "key!=value, key in (a,b) or key notin (a,b))"),
        ("a in ()", "invalid label selector 'a in ()': a in () needs at least one value"),
        ("a in (b", "invalid label selector 'a in (b': unbalanced '('"),
        ("a in b)", "invalid label selector 'a in b)': unbalanced ')'"),
    ],
)
def test_errors(selector: str, message: str) -> None:
    with pytest.raises(JmoError) as exc:
        parse_selector(selector)
    assert str(exc.value) == message
