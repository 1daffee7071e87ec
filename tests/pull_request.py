"""A new user's first pull / merge request: its branch adds schedules.yaml but not the files
generated from it. The repository lives in a local bare remote whose hook records every push
(`ref new-commit`, one line each), as the server would receive it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

SCHEDULES = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: "0 2 * * *"
  timezone: Europe/Berlin
  backend: {type: github-actions}
  jobTemplate:
    targets: {repo: .}
---
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly
spec:
  schedule: "0 3 * * 1"
  backend: {type: kubernetes}
  jobTemplate:
    targets: {repo: /src}
"""
# What SCHEDULES generates, written out (not computed by the code under test).
GENERATED = [".github/workflows/jmo-nightly.yml", "deploy/kubernetes/jmo-weekly.yaml"]
BRANCH = "feature/scans"

RECORD_PUSHES = """#!/bin/sh
while read -r old new ref; do echo "$ref $new" >> "$(dirname "$0")/../pushes.log"; done
"""


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def make_repository(base: Path, main_files: dict[str, str], branch_files: dict[str, str]) -> dict[str, Any]:
    """A bare remote with `main` (main_files) and BRANCH on top of it (branch_files), the
    seed work tree they were pushed from, and the branch's head commit. Pushes from here on
    are recorded in remote/pushes.log."""
    remote, seed = base / "remote.git", base / "seed"
    base.mkdir(parents=True, exist_ok=True)
    git(base, "init", "-q", "--bare", "-b", "main", str(remote))
    git(base, "init", "-q", "-b", "main", str(seed))
    for files, message in ((main_files, "before jmo-schedule"), (branch_files, "scheduled scans")):
        for name, text in files.items():
            (seed / name).parent.mkdir(parents=True, exist_ok=True)
            (seed / name).write_text(text)
        git(seed, "add", "-A")
        git(seed, "commit", "-qm", message)
        if message == "before jmo-schedule":
            git(seed, "checkout", "-q", "-b", BRANCH)
    git(seed, "push", "-q", str(remote), "main", BRANCH)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(RECORD_PUSHES)
    hook.chmod(0o755)
    return {"base": base, "remote": remote, "seed": seed, "head": git(seed, "rev-parse", "HEAD")}


def pushes(remote: Path) -> list[str]:
    """`refs/heads/<branch> <commit>` for every branch push the remote received."""
    log = remote / "pushes.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if line.startswith("refs/heads/")]
