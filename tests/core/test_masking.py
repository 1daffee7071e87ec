"""masking.py: a webhook URL is shown as scheme://host/*** whatever it carries: a user and
token (`user:token@`), a path, a query, a fragment; and slack.py's log filter."""
from __future__ import annotations

import copy
import logging
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jmo_schedule.platforms import slack
from jmo_schedule.core.masking import mask_url, masked_schedule_dict

SCHEMES = st.sampled_from(["https", "http", "HTTPS", "git+ssh"])
HOSTS = st.one_of(
    st.sampled_from(["hooks.slack.com", "127.0.0.1", "[::1]", "[2001:db8::7]", "h"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?(\.[a-z]{2,8}){0,2}", fullmatch=True),
)
PORTS = st.one_of(st.just(""), st.just(":"), st.integers(0, 65535).map(lambda p: f":{p}"))
# Secrets: any text at all, up to the parser-breaking characters.
SECRETS = st.text(min_size=1, max_size=24)
# What RFC 3986 allows unencoded in userinfo besides the unreserved characters.
SUB_DELIMS = "!$&'()*+,;="


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[str, str]:
    """(a URL with every part percent-encoded as RFC 3986 wants, the masked text expected)."""
    scheme, host, port = draw(SCHEMES), draw(HOSTS), draw(PORTS)
    userinfo = ""
    if draw(st.booleans()):
        userinfo = quote(draw(SECRETS), safe=SUB_DELIMS)
        if draw(st.booleans()):
            userinfo += ":" + quote(draw(SECRETS), safe=SUB_DELIMS + ":")
        userinfo += "@"
    # `@` encoded: after the host it hides the host too (see test_edge_cases).
    path = "".join("/" + quote(s, safe=SUB_DELIMS + ":") for s in draw(st.lists(SECRETS, max_size=4)))
    query = "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                           for k, v in draw(st.lists(st.tuples(SECRETS, SECRETS), max_size=3))) \
        if draw(st.booleans()) else ""
    fragment = "#" + quote(draw(SECRETS), safe="") if draw(st.booleans()) else ""
    return f"{scheme}://{userinfo}{host}{port}{path}{query}{fragment}", f"{scheme}://{host}{port}/***"


@given(well_formed())
@example(("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/***"))
@example(("https://user:token@hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/***"))
@example(("https://hooks.slack.com/services/T0?token=abc#frag", "https://hooks.slack.com/***"))
@example(("https://x-token:s3cr%40t@127.0.0.1:8443/hook?sig=1", "https://127.0.0.1:8443/***"))
def test_a_well_formed_url_shows_only_scheme_host_and_port(case: tuple[str, str]) -> None:
    url, expected = case
    assert mask_url(url) == expected


@given(SCHEMES, HOSTS, PORTS, SECRETS, SECRETS, SECRETS, SECRETS, SECRETS)
@example("https", "host", "", "user", "p@ss@word", "x", "q", "f")  # an unencoded `@` in the password
@example("https", "host", "", "user", "12/34", "x", "q", "f")  # a password that reads as host `user`, port 12
@example("https", "host", "", "u?", "#", "@", "@", "@")
def test_unencoded_secrets_never_show(scheme: str, host: str, port: str, user: str, password: str, path: str,
                                      query: str, fragment: str) -> None:
    """Raw text in every secret part, as someone may paste it: the result is the scheme and
    host, or the scheme alone when the host cannot be told from the password."""
    url = f"{scheme}://{user}:{password}@{host}{port}/{path}?{query}#{fragment}"
    assert mask_url(url) in {f"{scheme}://{host}{port}/***", f"{scheme}://***"}


@pytest.mark.parametrize(("url", "masked"), [
    ("${SLACK_WEBHOOK_URL}", "${SLACK_WEBHOOK_URL}"),  # a reference, not a secret
    ("${A}/path", "***"),
    ("hooks.slack.com/services/T0/B0/XYZ", "***"),  # no scheme: not a URL
    ("", "***"),
    ("https://", "https://***"),
    ("https:///services/T0", "https://***"),
    ("https://hooks.slack.com/services/T0/@scope", "https://***"),  # an `@` after the host
    ("https://user:pw@host:port/x", "https://***"),  # not a port
    ("https://ho\\st/token", "https://***"),  # browsers read `\` as `/`
    ("https://host name/token", "https://***"),
    ("https://hooks.slack.com", "https://hooks.slack.com/***"),
])
def test_edge_cases(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@given(st.lists(well_formed(), min_size=1, max_size=3))
def test_masked_schedule_dict_masks_every_channel_and_leaves_the_input(cases: list[tuple[str, str]]) -> None:
    data = {"metadata": {"name": "s"}, "spec": {"jobTemplate": {"notifications": {
        "channels": [{"type": "slack", "url": url} for url, _ in cases] + ["not-a-mapping", {"url": 5}]}}}}
    before = copy.deepcopy(data)
    out = masked_schedule_dict(data)
    assert out["spec"]["jobTemplate"]["notifications"]["channels"] == (
        [{"type": "slack", "url": masked} for _, masked in cases] + ["not-a-mapping", {"url": 5}])
    assert data == before


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@given(HOSTS, st.lists(SECRETS, min_size=1, max_size=4))
def test_urllib3_log_lines_never_carry_the_webhook(host: str, segments: list[str]) -> None:
    path = "".join("/" + quote(s, safe="") for s in segments)
    url = f"https://{host}{path}"
    logger = logging.getLogger("urllib3.connectionpool")
    records = _Records()
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.DEBUG)  # setLevel, not .level: it clears the logger's cache
    try:
        with slack._redacted_logs(url):
            # urllib3's own format for a request line, and a warning that quotes the URL.
            logger.debug('%s://%s:%s "%s %s %s" %s %s', "https", host, 443, "POST", path, "HTTP/1.1", 200, 2)
            logger.warning("Retrying after connection broken: %s", url)
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    assert len(records.lines) == 2
    for line in records.lines:
        assert path not in line and url not in line
    assert records.lines[1] == "Retrying after connection broken: ***"
