"""What `pip install jmo-schedule` gets: the sdist and the wheel the release job builds, checked
as it checks them (twine check --strict; each installed into a clean venv, with no package
index, runs `jmo-schedule --version` and validates the example), and their contents."""
from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE, ROOT, Dists, offline_pip_env, tool

from jmo_schedule import __version__

# The runtime dependencies, as pyproject.toml lists them (Requires-Dist must say the same).
DEPENDENCIES = ["PyYAML>=6.0.1", "ruamel.yaml>=0.18.6", "croniter>=2.0.5", "cron-descriptor>=1.4.3",
                "requests>=2.31", "tzdata>=2024.1", "filelock>=3.13"]


def test_version_is_one_string(dists: Dists) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert dists.wheel.name == f"jmo_schedule-{__version__}-py3-none-any.whl"
    assert dists.sdist.name == f"jmo_schedule-{__version__}.tar.gz"
    # The GitLab component installs the release it comes from.
    spec = next(yaml.safe_load_all((ROOT / "templates" / "gitlab-component" / "template.yml").read_text()))
    assert spec["spec"]["inputs"]["pip-spec"]["default"] == f"jmo-schedule=={__version__}"


def test_twine_check_strict(dists: Dists) -> None:
    proc = subprocess.run([tool("twine"), "check", "--strict", str(dists.sdist), str(dists.wheel)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_wheel_contents_and_metadata(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as zf:
        names = zf.namelist()
        info = f"jmo_schedule-{__version__}.dist-info/"
        metadata = zf.read(info + "METADATA").decode()
        entry_points = zf.read(info + "entry_points.txt").decode()
    assert {"jmo_schedule/py.typed", "jmo_schedule/cli.py", "jmo_schedule/commands/trigger.py",
            "jmo_schedule/generators/github_actions.py", "jmo_schedule/workflow_generators/__init__.py",
            "jmo_schedule/core/validate.py"} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "examples/")) or "__pycache__" in n]
    assert entry_points == "[console_scripts]\njmo-schedule = jmo_schedule.cli:entry\n"  # and no `jmo`
    headers = metadata.split("\n\n", 1)[0].splitlines()
    assert f"Version: {__version__}" in headers and "Name: jmo-schedule" in headers
    assert "License-Expression: MIT" in headers and "Requires-Python: >=3.10" in headers
    assert [h.split(": ", 1)[1] for h in headers if h.startswith("Requires-Dist: ")] == [
        *DEPENDENCIES, 'pytest>=8; extra == "test"', 'hypothesis>=6.100; extra == "test"',
        'pytest-timeout>=2.3; extra == "test"', 'pytest-socket>=0.7; extra == "test"', 'mypy>=1.10; extra == "test"', 'types-PyYAML>=6.0.12; extra == "test"',
        'types-requests>=2.31; extra == "test"', 'types-tzdata>=2025.2; extra == "test"',
        'icalendar>=6.0; extra == "test"']
    assert "Description-Content-Type: text/markdown" in headers


def test_sdist_builds_the_same_package(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "src/jmo_schedule/_version.py", "src/jmo_schedule/py.typed",
            "src/jmo_schedule/commands/trigger.py"} <= names


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installs_into_a_clean_venv_offline_and_runs(dists: Dists, kind: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = offline_pip_env()
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(getattr(dists, kind))],
                             capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert install.returncode == 0, install.stdout + install.stderr
    check = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout
    cli = venv / "bin" / "jmo-schedule"
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert (version.returncode, version.stdout, version.stderr) == (0, f"jmo-schedule {__version__}\n", "")
    validate = subprocess.run([str(cli), "validate", "-f", str(EXAMPLE)], capture_output=True, text=True, cwd=tmp_path)
    assert validate.returncode == 0, validate.stderr
    assert validate.stdout == f"{EXAMPLE}: 4 schedules, valid\n"
    assert not (venv / "bin" / "jmo").exists()  # never shadow the scanner's command
    # The installed copy, not this checkout, answered.
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import jmo_schedule; print(jmo_schedule.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert where.stdout.startswith(str(venv))
