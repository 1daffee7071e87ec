"""Shared fixtures: paths of the external tools, a private JMO_HOME, a fixed clock."""
from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
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


@pytest.fixture(autouse=True)
def jmo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own private store folder; nothing touches ~/.jmo."""
    home = tmp_path / "jmo-home"
    monkeypatch.setenv("JMO_HOME", str(home))
    for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITLAB_CI", "SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fixed_now() -> datetime:
    return datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def example_file() -> Path:
    return EXAMPLE
