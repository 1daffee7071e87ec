"""The user's copy-paste setups under examples/: real files, linted by the real tools."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import ROOT, tool

GITHUB_EXAMPLES = sorted((ROOT / "examples" / "github").glob("*.yml"))


def test_the_github_setup_is_a_validate_and_a_sync_workflow() -> None:
    assert [p.name for p in GITHUB_EXAMPLES] == ["jmo-schedule-sync.yml", "jmo-schedule-validate.yml"]


def test_github_examples_pass_the_workflow_schema() -> None:
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                          *map(str, GITHUB_EXAMPLES)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_github_examples_pass_actionlint() -> None:
    run = subprocess.run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *map(str, GITHUB_EXAMPLES)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_github_examples_pass_zizmor() -> None:
    run = subprocess.run([tool("zizmor"), "--offline", "--no-progress", *map(str, GITHUB_EXAMPLES)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr


def test_github_examples_pin_third_party_actions_as_this_repository_does() -> None:
    def pins(paths: list[Path]) -> dict[str, str]:
        found: dict[str, str] = {}
        for path in paths:
            for m in re.finditer(r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40})", path.read_text()):
                found[m.group(1)] = m.group(2)
        return found

    ours = pins(sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    theirs = pins(GITHUB_EXAMPLES)
    assert theirs and all(ours.get(action) == sha for action, sha in theirs.items()), (theirs, ours)
