"""Local stand-ins for the remote actions action.yml uses, for running it with act.

act fetches every remote action a job names, even for steps whose `if:` is false, so each
one gets a local stub (`--local-repository <uses>=<dir>`). The stubs answer as the real
actions do (their inputs and outputs) and record what they were asked in $JMO_TEST_EXPORT.
"""
from __future__ import annotations

from pathlib import Path

from jmo_schedule.generators.action_pins import PINS

STUB_SETUP_PYTHON = """\
name: setup-python stub
description: records the version asked for and answers with the host's python3
inputs:
  python-version: {description: v}
  update-environment: {description: u}
outputs:
  python-path: {description: p, value: "${{ steps.py.outputs.path }}"}
  python-version: {description: v, value: "${{ inputs.python-version }}"}
runs:
  using: composite
  steps:
    - id: py
      shell: bash
      env: {WANTED: "${{ inputs.python-version }}", UPDATE: "${{ inputs.update-environment }}"}
      run: |
        echo "$WANTED update-environment=$UPDATE" >> "$JMO_TEST_EXPORT/setup-python.txt"
        echo "path=$(command -v python3)" >> "$GITHUB_OUTPUT"
"""

# Records its key and path; restores $JMO_TEST_CACHE/<key> into the path when it exists,
# as actions/cache restores an entry saved by an earlier run (the test saves it).
STUB_CACHE = """\
name: cache stub
description: records its key, restores a saved entry
inputs:
  path: {description: p}
  key: {description: k}
outputs:
  cache-hit: {description: h, value: "${{ steps.restore.outputs.hit }}"}
runs:
  using: composite
  steps:
    - id: restore
      shell: bash
      env: {KEY: "${{ inputs.key }}", CACHE_PATH: "${{ inputs.path }}"}
      run: |
        printf '%s %s\\n' "$KEY" "$CACHE_PATH" >> "$JMO_TEST_EXPORT/cache.txt"
        if [ -n "${JMO_TEST_CACHE:-}" ] && [ -d "$JMO_TEST_CACHE/$KEY" ]; then
          mkdir -p "$CACHE_PATH" && cp -a "$JMO_TEST_CACHE/$KEY/." "$CACHE_PATH/"
          echo "hit=true" >> "$GITHUB_OUTPUT"
        else
          echo "hit=false" >> "$GITHUB_OUTPUT"
        fi
"""

# setup-uv answers with $JMO_TEST_UV (a uv the test provides, as its tool cache would);
# without one it fails, as it does where its download is out of reach.
STUB_SETUP_UV = """\
name: setup-uv stub
description: answers with the test's uv
inputs:
  version: {description: v}
  enable-cache: {description: c}
  add-problem-matchers: {description: p}
outputs:
  uv-path: {description: p, value: "${{ steps.uv.outputs.path }}"}
runs:
  using: composite
  steps:
    - id: uv
      shell: bash
      env: {WANTED: "${{ inputs.version }}"}
      run: |
        echo "$WANTED" >> "$JMO_TEST_EXPORT/setup-uv.txt"
        test -x "${JMO_TEST_UV:-}" || { echo "::error::could not download uv"; exit 1; }
        echo "path=$JMO_TEST_UV" >> "$GITHUB_OUTPUT"
"""

STUB_CPR = """\
name: create-pull-request stub
description: records its inputs and the body, answers like the real action
inputs:
  token: {description: t}
  branch: {description: b}
  base: {description: b}
  title: {description: t}
  body-path: {description: b}
  labels: {description: l}
  commit-message: {description: c}
  add-paths: {description: a}
  delete-branch: {description: d}
outputs:
  pull-request-url: {description: u, value: "${{ steps.pr.outputs.url }}"}
  pull-request-number: {description: n, value: "${{ steps.pr.outputs.number }}"}
  pull-request-operation: {description: o, value: "${{ steps.pr.outputs.operation }}"}
runs:
  using: composite
  steps:
    - id: pr
      shell: bash
      env:
        IN_TOKEN: "${{ inputs.token }}"
        IN_BRANCH: "${{ inputs.branch }}"
        IN_TITLE: "${{ inputs.title }}"
        IN_BODY_PATH: "${{ inputs.body-path }}"
        IN_LABELS: "${{ inputs.labels }}"
        IN_MESSAGE: "${{ inputs.commit-message }}"
        IN_ADD_PATHS: "${{ inputs.add-paths }}"
        IN_DELETE: "${{ inputs.delete-branch }}"
      run: |
        python3 - <<'PY'
        import json, os
        keys = ["IN_TOKEN", "IN_BRANCH", "IN_TITLE", "IN_LABELS", "IN_MESSAGE", "IN_ADD_PATHS", "IN_DELETE"]
        data = {k: os.environ[k] for k in keys}
        data["body"] = open(os.environ["IN_BODY_PATH"]).read()
        data["status"] = os.popen("git status --porcelain").read()
        with open(os.path.join(os.environ["JMO_TEST_EXPORT"], "cpr.jsonl"), "a") as fh:
            fh.write(json.dumps(data) + "\\n")
        PY
        {
          echo "url=https://github.com/acme/app/pull/7"
          echo "number=7"
          echo "operation=created"
        } >> "$GITHUB_OUTPUT"
"""


# A github-actions schedule the stub scanner passes (fail_on CRITICAL), notifying ${TEAM_HOOK}.
PASSING_SCHEDULE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata: {name: nightly}
spec:
  schedule: "17 2 * * *"
  backend: {type: github-actions}
  jobTemplate:
    targets: {repo: .}
    results: {dir: results}
    options: {fail_on: CRITICAL}
    notifications:
      channels:
        - {type: slack, url: "${TEAM_HOOK}"}
"""


def checkout_stub(root: Path, needs: str = "schedules.yaml") -> Path:
    """actions/checkout's stand-in: act already copied the repository into the workspace,
    so it only checks that `needs` is there."""
    return stub(root, "checkout", f"""\
name: checkout stand-in
description: the workspace already holds the repository (act copies it)
inputs:
  persist-credentials: {{description: p}}
runs:
  using: composite
  steps:
    - shell: bash
      run: test -f "$GITHUB_WORKSPACE/{needs}"
""")


def stub(root: Path, name: str, text: str) -> Path:
    """A folder under `root` holding `text` as its action.yml."""
    d = root / name
    d.mkdir(parents=True)
    (d / "action.yml").write_text(text)
    return d


# actions/upload-artifact's stand-in: copies what it was given to $JMO_TEST_EXPORT/artifacts/NAME/
# (act fetches every action a composite action names, even for a step that will be skipped).
STUB_UPLOAD_ARTIFACT = """\
name: upload-artifact stand-in
description: copies the upload to $JMO_TEST_EXPORT/artifacts/NAME/
inputs:
  name: {description: n}
  path: {description: p}
  if-no-files-found: {description: i}
runs:
  using: composite
  steps:
    - shell: bash
      env: {NAME: "${{ inputs.name }}", UPLOAD: "${{ inputs.path }}"}
      run: |
        if [ -n "${JMO_TEST_EXPORT:-}" ] && [ -e "$UPLOAD" ]; then
          mkdir -p "$JMO_TEST_EXPORT/artifacts/$NAME" && cp -R "$UPLOAD" "$JMO_TEST_EXPORT/artifacts/$NAME/"
        fi
"""


def action_stubs(root: Path) -> dict[str, Path]:
    """`{uses: stub folder}` for every remote action action.yml uses."""
    return {
        PINS["actions/upload-artifact"].uses: stub(root, "upload-artifact", STUB_UPLOAD_ARTIFACT),
        PINS["actions/setup-python"].uses: stub(root, "setup-python", STUB_SETUP_PYTHON),
        PINS["actions/cache"].uses: stub(root, "cache", STUB_CACHE),
        PINS["peter-evans/create-pull-request"].uses: stub(root, "cpr", STUB_CPR),
        PINS["astral-sh/setup-uv"].uses: stub(root, "setup-uv", STUB_SETUP_UV),
    }


def copy_action(dest: Path) -> Path:
    """This repository's action as a user's runner gets it: action.yml and its installable source."""
    import shutil

    from conftest import ROOT

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest
