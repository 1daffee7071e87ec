"""Shared fixtures: paths of the external tools, a private JMO_HOME, a fixed clock."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fakes.slack import FakeSlack
from hypothesis import settings

# Property tests are deterministic (same examples on every run and in CI) and never fail
# on a slow, shared machine's timing.
settings.register_profile("jmo", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("jmo")

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
TOOLS = ROOT / ".tools"
STUB_SCANNER_DIR = ROOT / "tests" / "stub_scanner"
EXAMPLE = ROOT / "examples" / "schedules.yaml"
WHEELHOUSE = TOOLS / "wheelhouse"
# pip that reads only the wheelhouse .ci/install-test-tools.sh prepared: no index.
OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_CONFIG_FILE": os.devnull,
               "PIP_DISABLE_PIP_VERSION_CHECK": "1",
               # uv reads its own variables (the action installs with uv where it can).
               "UV_NO_INDEX": "1", "UV_FIND_LINKS": str(WHEELHOUSE), "UV_NO_CONFIG": "1"}


def tool(name: str) -> str:
    """Absolute path of an external tool installed by .ci/install-test-tools.sh."""
    candidates = [VENV_BIN / name, ROOT / ".venv" / "bin" / name, TOOLS / "npm" / "node_modules" / ".bin" / name]
    for c in candidates:
        if c.exists():
            return str(c)
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(f"{name} is not installed; run .ci/install-test-tools.sh")


# Seconds for an end-to-end test (marked slow): act and gitlab-ci-local start runners, venvs
# and pipelines. Every other test has pyproject.toml's 120.
SLOW_TIMEOUT = 600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


# The caller's git: a hook's GIT_DIR or index, an identity, a config that signs or rewrites.
_CALLERS_GIT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES",
                "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


def _private_home(mp: pytest.MonkeyPatch, home: Path) -> None:
    """HOME and the XDG folders in `home`: no dotfile, cache, git config or systemd user
    unit of the caller's is read or written."""
    home.mkdir(exist_ok=True)
    mp.setenv("HOME", str(home))
    for var, folder in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"), ("XDG_DATA_HOME", ".local/share"),
                        ("XDG_STATE_HOME", ".local/state"), ("XDG_RUNTIME_DIR", "run")):
        mp.setenv(var, str(home / folder))


@pytest.fixture(scope="session", autouse=True)
def hermetic_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What every test and session fixture runs with: a private home, none of the caller's
    git settings, no proxy for the local fake servers, and no package index: every pip the
    tests start (directly, in act's steps, in gitlab-ci-local's jobs) installs from the
    wheelhouse or fails."""
    with pytest.MonkeyPatch.context() as mp:
        _private_home(mp, tmp_path_factory.mktemp("session-home"))
        for var in _CALLERS_GIT:
            mp.delenv(var, raising=False)
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for var in ("NO_PROXY", "no_proxy"):
            mp.setenv(var, ",".join(filter(None, [os.environ.get(var), "127.0.0.1", "localhost", "::1"])))
        for var, value in OFFLINE_PIP.items():
            mp.setenv(var, value)
        yield


@pytest.fixture(autouse=True)
def jmo_home(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own private store folder and home: nothing touches ~/.jmo."""
    home = tmp_path / "jmo-home"
    monkeypatch.setenv("JMO_HOME", str(home))
    for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITLAB_CI", "SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    _private_home(monkeypatch, tmp_path_factory.mktemp("home"))  # beside tmp_path: tests list tmp_path
    return home


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The most memory Python objects took inside the block, in bytes (in [0] on exit): a
    count, unlike the process's high-water mark (set by earlier tests) or a busy clock."""
    peak = [0]
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


@pytest.fixture
def api_server() -> Iterator[FakeSlack]:
    """A scripted API server on 127.0.0.1 (answers `{"ok": true}` unless told otherwise)."""
    server = FakeSlack(default=(200, {"ok": True}, {})).start()
    yield server
    server.stop()


@pytest.fixture
def elsewhere() -> Iterator[FakeSlack]:
    """Another origin (same host, another port): it must never see a credential."""
    server = FakeSlack(default=(200, {"stolen": True}, {})).start()
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A local Slack incoming webhook answering `ok` (fakes/slack.py); `.received` holds
    every message posted to it."""
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def fixed_now() -> datetime:
    return datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def example_file() -> Path:
    return EXAMPLE


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


def offline_pip_env() -> dict[str, str]:
    """This environment with pip reading only the wheelhouse: no index."""
    if not (WHEELHOUSE / "requirements.txt").is_file():
        raise RuntimeError(f"{WHEELHOUSE} is not prepared; run .ci/install-test-tools.sh")
    return {**os.environ, **OFFLINE_PIP}


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """ONE sdist and ONE wheel of this project per test session, built as the release job
    builds them (`python -m build`: an isolated build, the wheel made from the sdist), with
    setuptools from the wheelhouse. Built from a copy, so the tree gets no build/ folder."""
    base = tmp_path_factory.mktemp("dists")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tools", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
        ".mypy_cache"))
    out = base / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, env=offline_pip_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dists(sdist, wheel)
