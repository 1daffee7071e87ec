"""Servers for the platform clients' tests: the API (a scripted server on 127.0.0.1) and
another origin (the same host, another port) that must never see a credential."""
from __future__ import annotations

from typing import Iterator

import pytest
from fakes.slack import FakeSlack


@pytest.fixture
def api_server() -> Iterator[FakeSlack]:
    server = FakeSlack(default=(200, {"ok": True}, {})).start()
    yield server
    server.stop()


@pytest.fixture
def elsewhere() -> Iterator[FakeSlack]:
    """Another origin (same host, another port): it must never see the token."""
    server = FakeSlack(default=(200, {"stolen": True}, {})).start()
    yield server
    server.stop()
