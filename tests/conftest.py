"""Shared fixtures: paths of the external tools, a private JMO_HOME, a fixed clock."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
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
WHEELHOUSE = TOOLS / "wheelhouse"


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


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


def offline_pip_env() -> dict[str, str]:
    """pip that reads only the wheelhouse .ci/install-test-tools.sh prepared: no index."""
    if not (WHEELHOUSE / "requirements.txt").is_file():
        raise RuntimeError(f"{WHEELHOUSE} is not prepared; run .ci/install-test-tools.sh")
    return {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """ONE sdist and ONE wheel of this project per test session, built as the release job
    builds them (`python -m build`: an isolated build, the wheel made from the sdist), with
    setuptools from the wheelhouse. Built from a copy, so the tree gets no build/ folder."""
    base = tmp_path_factory.mktemp("dists")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tools", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"))
    out = base / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, env=offline_pip_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dists(sdist, wheel)
