"""action_pins.py: one table of pinned third-party actions, and every `uses:` of the
repository (action.yml, this repository's workflows, examples) and of every generated
workflow written from it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE, ROOT

from jmo_schedule.core.loader import load_file
from jmo_schedule.generators import generate_all
from jmo_schedule.generators.action_pins import PINS
from jmo_schedule.generators.github_actions import GitHubActionsGenerator

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$", re.M)
OWN = "jmo/schedule-action@"


def repository_yaml() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.yml", "*.yaml"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    return [ROOT / p for p in listed if not p.startswith("tests/")]


def check_uses(text: str, where: str) -> list[str]:
    """Every third-party `uses:` in `text` as `action@sha # version` from the table."""
    seen = []
    for m in USES.finditer(text):
        ref, comment = m.group("ref"), (m.group("comment") or "").strip()
        if ref == "./" or ref.startswith(OWN):
            continue
        action, _, sha = ref.partition("@")
        assert action in PINS, f"{where}: {action} is not in the pins table"
        pin = PINS[action]
        assert (sha, comment) == (pin.sha, pin.version), f"{where}: {ref} # {comment} is not {pin.line}"
        seen.append(action)
    return seen


def test_the_table_holds_full_shas_and_release_tags() -> None:
    for action, pin in PINS.items():
        assert pin.action == action
        assert re.fullmatch(r"[0-9a-f]{40}", pin.sha), action
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.version), action
    majors = {a: p.version.split(".")[0] for a, p in PINS.items()}
    assert majors == {
        "actions/checkout": "v7", "actions/setup-python": "v7", "actions/cache": "v5",
        "actions/upload-artifact": "v7", "github/codeql-action/upload-sarif": "v4",
        "peter-evans/create-pull-request": "v8", "astral-sh/setup-uv": "v10",
        "actions/download-artifact": "v8", "pypa/gh-action-pypi-publish": "v1",
    }


def test_every_uses_in_the_repository_matches_the_table() -> None:
    files = repository_yaml()
    assert ROOT / "action.yml" in files and ROOT / ".github" / "workflows" / "ci.yml" in files
    used = set()
    for path in files:
        used.update(check_uses(path.read_text(), str(path.relative_to(ROOT))))
    assert used >= {"actions/checkout", "actions/setup-python", "actions/cache", "peter-evans/create-pull-request"}


def test_every_uses_in_generated_workflows_matches_the_table() -> None:
    schedules = load_file(EXAMPLE)
    used = set()
    for path, text in generate_all(schedules, "schedules.yaml").items():
        used.update(check_uses(text, path))
    for s in schedules:  # every example exported to GitHub, whatever its own backend
        used.update(check_uses(GitHubActionsGenerator().generate(s), f"export of {s.name}"))
    assert used == {"actions/checkout", "github/codeql-action/upload-sarif", "actions/upload-artifact"}


@pytest.mark.parametrize("text, message", [
    ("      - uses: actions/checkout@v7\n", "is not actions/checkout@"),
    ("      uses: actions/checkout@" + "0" * 40 + " # v7.0.1\n", "is not actions/checkout@"),
    ("      uses: someone/else@" + "0" * 40 + " # v1.0.0\n", "someone/else is not in the pins table"),
])
def test_the_check_refuses_a_tag_a_wrong_sha_and_an_unknown_action(text: str, message: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(message)):
        check_uses(text, "x.yml")
