"""action.yml, the composite GitHub action: linted by the real tools, and run as GitHub
would run it with `act` (host executor, every remote action replaced by a local stub),
with the real install step into a venv, real $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY, a
local Slack webhook and a local GitHub API."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from act_helpers import action_stubs, checkout_stub, copy_action
from conftest import OFFLINE_PIP, ROOT, tool
from fakes.github import FakeGitHub
from fakes.slack import FakeSlack

from jmo_schedule.cli import main
from jmo_schedule.sync import github_pr
from jmo_schedule._version import __version__
from jmo_schedule.generators.action_pins import PINS

ACTION = ROOT / "action.yml"
SHA_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())


# ------------------------------------------------------------------------------------
# Static checks


def test_passes_check_jsonschema_github_actions_schema() -> None:
    run = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_finds_nothing() -> None:
    run = subprocess.run([tool("zizmor"), "--offline", "--no-progress", str(ACTION)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr


def test_every_remote_action_is_pinned_by_sha_with_its_version() -> None:
    text = ACTION.read_text()
    uses = [s["uses"] for s in action()["runs"]["steps"] if "uses" in s]
    assert uses, "expected setup-python, cache and create-pull-request"
    for ref in uses:
        assert SHA_USES.match(ref), ref
        assert re.search(re.escape(ref) + r" # v\d+\.\d+\.\d+$", text, re.M), f"{ref} lacks its version comment"
    assert any(u.startswith("peter-evans/create-pull-request@") for u in uses)


def test_inputs_reach_shell_only_through_env() -> None:
    for step in action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")


def test_run_scripts_pass_shellcheck(tmp_path: Path) -> None:
    for i, step in enumerate(s for s in action()["runs"]["steps"] if "run" in s):
        script = tmp_path / f"step{i}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"])
        run = subprocess.run([tool("shellcheck"), "-s", "bash", str(script)], capture_output=True, text=True)
        assert run.returncode == 0, f"{step.get('name')}:\n{run.stdout}"


def test_outputs_come_from_steps_that_exist() -> None:
    data = action()
    ids = {s.get("id") for s in data["runs"]["steps"]}
    for name, out in data["outputs"].items():
        m = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", out["value"])
        assert m and m.group(1) in ids, name
    assert set(data["outputs"]) >= {"changed", "files", "run", "reason", "pull-request-url"}
    assert set(data["inputs"]) >= {"command", "schedules-file", "token", "python-version", "status", "schedule",
                                   "results", "webhook", "strict", "pr-branch", "pr-title", "pr-labels"}
    assert data["branding"] == {"icon": "clock", "color": "blue"}


def test_the_cache_holds_the_dependencies_under_the_prepared_key() -> None:
    cache = next(s for s in action()["runs"]["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"] == {"path": "${{ runner.temp }}/jmo-schedule-deps", "key": "${{ steps.prepare.outputs.key }}"}
    assert cache["if"] == "inputs.cache == 'true'"


def deps_key(python: str) -> str:
    """The cache key the prepare step computes for `python` and this repository's pyproject.toml."""
    import hashlib

    tag = subprocess.run([python, "-c", "import platform, sys; print(sys.implementation.cache_tag + '-' + "
                          "platform.machine())"], capture_output=True, text=True, check=True).stdout.strip()
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f"jmo-schedule-deps-Linux-{tag}-{digest}"


# ------------------------------------------------------------------------------------
# The token check (the part of the bot pull request not delegated to create-pull-request)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub("acme/app", "ghs_app", scopes={"ghp_norepo": "repo, read:org", "ghp_full": "repo, workflow"}).start()
    yield fake
    fake.stop()


WF = [".github/workflows/jmo-nightly.yml", "deploy/kubernetes/jmo-x.yaml"]


def test_token_check_needs_nothing_for_non_workflow_files(github: FakeGitHub) -> None:
    assert github_pr.check_token(["deploy/x.yaml"], is_default_token=True, token="t", api_url=github.url, repository="acme/app").ok
    assert github.requests == []


def test_token_check_refuses_the_default_token(github: FakeGitHub) -> None:
    result = github_pr.check_token(WF, is_default_token=True, token="ghs_x", api_url=github.url, repository="acme/app")
    assert not result.ok
    assert result.message.startswith(
        "generated workflow files changed (.github/workflows/jmo-nightly.yml), and the default GITHUB_TOKEN "
        "cannot create or update files under .github/workflows/: pass `token:` a GitHub App installation token")
    assert github.requests == []  # decided without asking


def test_token_check_classic_pat_without_workflow_scope(github: FakeGitHub) -> None:
    result = github_pr.check_token(WF, is_default_token=False, token="ghp_norepo", api_url=github.url, repository="acme/app")
    assert not result.ok
    assert "the token (a classic PAT with read:org, repo) lacks the workflow scope" in result.message
    assert "ghp_norepo" not in result.message
    assert [(r["path"], r["headers"]["Authorization"]) for r in github.requests] == [
        ("/repos/acme/app", "Bearer ghp_norepo")]


@pytest.mark.parametrize("token", ["ghp_full", "ghs_app"])
def test_token_check_passes_workflow_scope_and_app_tokens(github: FakeGitHub, token: str) -> None:
    assert github_pr.check_token(WF, is_default_token=False, token=token, api_url=github.url, repository="acme/app").ok


def test_token_check_goes_ahead_when_github_is_unreachable() -> None:
    assert github_pr.check_token(WF, is_default_token=False, token="x", api_url="http://127.0.0.1:9", repository="a/b").ok


def test_github_pr_command(github: FakeGitHub, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"JMO_CHANGED_FILES": "\n".join(WF) + "\n", "JMO_TOKEN_IS_DEFAULT": "true",
                       "JMO_TOKEN": "t"}.items():
        monkeypatch.setenv(key, value)
    assert main(["github-pr", "check-token"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error title=jmo-schedule sync::generated workflow files changed")
    assert main(["github-pr", "explain-push-failure"]) == 0
    assert "without `workflows` permission" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["github-pr", "bogus"])
    assert exc.value.code == 2
    assert capsys.readouterr().err == ("jmo-schedule github-pr: error: argument STEP: invalid choice: 'bogus' "
                                       "(choose from 'check-token', 'explain-push-failure') "
                                       "(see 'jmo-schedule github-pr --help')\n")


# ------------------------------------------------------------------------------------
# Running the action with act

SCHEDULES = """\
# yaml-language-server: $schema=schema/schedules.schema.json
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
    notifications:
      channels:
        - type: slack
          url: ${SLACK_WEBHOOK_URL}
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

BAD = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: broken
spec:
  schedule: "0 2 * * 8"
"""

CHECKOUT = PINS["actions/checkout"].uses

WORKFLOW = f"""\
name: action test
on: push
permissions: {{}}
jobs:
  action:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT} # {PINS["actions/checkout"].version}
        with:
          persist-credentials: false

      - name: validate (valid file)
        id: valid
        uses: ./
        with:
          command: validate
          check-sync: "false"

      - name: validate (invalid file)
        id: invalid
        continue-on-error: true
        uses: ./
        with:
          command: validate
          schedules-file: bad.yaml

      - name: sync with the default token
        id: sync-default
        continue-on-error: true
        uses: ./
        with:
          command: sync
      - run: git clean -fdq -- .github/workflows deploy

      - name: sync with a PAT that has the workflow scope
        id: sync
        uses: ./
        with:
          command: sync
          token: ${{{{ secrets.BOT_TOKEN }}}}
          pr-labels: security,automated
          calendar-days: "30"

      - name: validate (now in sync)
        id: insync
        uses: ./
        with:
          command: validate

      - name: sync again (nothing changed; create-pull-request may close a stale PR)
        id: sync-again
        uses: ./
        with:
          command: sync
          token: ${{{{ secrets.BOT_TOKEN }}}}

      - name: guard (with an explicit python-version, so setup-python runs)
        id: guard
        uses: ./
        with:
          command: guard
          schedule: nightly
          python-version: "3.12"

      - name: notify
        id: notify
        uses: ./
        env:
          SLACK_WEBHOOK_URL: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}
        with:
          command: notify
          status: failure
          schedule: nightly
          message: scan step failed
          strict: "true"

      - name: record outcomes
        if: always()
        env:
          OUTCOMES: ${{{{ toJSON(steps) }}}}
        run: printf '%s' "$OUTCOMES" > "$JMO_TEST_EXPORT/steps.json"
"""



@pytest.fixture(scope="module")
def act_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the workflow above once; every test below reads its results."""
    base = tmp_path_factory.mktemp("act")
    repo, export, stubs, home = base / "repo", base / "export", base / "stubs", base / "home"
    for d in (repo, export, home):
        d.mkdir()
    # The repository: this action (its installable source) plus a user's schedules.
    copy_action(repo)
    (repo / "schedules.yaml").write_text(SCHEDULES)
    (repo / "bad.yaml").write_text(BAD)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "test.yml").write_text(WORKFLOW)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", "https://github.com/acme/app.git"], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)

    local = {
        CHECKOUT: checkout_stub(stubs, "action.yml"),
        **action_stubs(stubs),
    }
    slack = FakeSlack().start()
    github = FakeGitHub("acme/app", "ghp_full", scopes={"ghp_full": "repo, workflow"}).start()
    cmd = [tool("act"), "push", "-W", ".github/workflows/test.yml", "-P", "ubuntu-latest=-self-hosted",
           "--no-cache-server", "--env", f"JMO_TEST_EXPORT={export}", "--env", f"GITHUB_API_URL={github.url}",
           "-s", "GITHUB_TOKEN=ghs_default_job_token", "-s", "BOT_TOKEN=ghp_full",
           "-s", f"SLACK_WEBHOOK_URL={slack.base}/services/T0/B0/secret"]
    for ref, path in local.items():
        cmd += ["--local-repository", f"{ref}={path}"]
    # act runs on the host: the action finds the host's python3 (>= 3.10 here), not the
    # test venv, and the real install step makes its own venv.
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent)
    env = {**os.environ, "HOME": str(home), "PATH": path}
    env.pop("VIRTUAL_ENV", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("GITHUB_OUTPUT", None)
    try:
        proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
        log = proc.stdout + proc.stderr
        (base / "act.log").write_text(log)  # kept for debugging a failure
        steps = json.loads((export / "steps.json").read_text()) if (export / "steps.json").exists() else {}
        yield {"rc": proc.returncode, "log": log, "steps": steps, "export": export, "slack": slack, "github": github,
               "path": path}
    finally:
        slack.stop()
        github.stop()


def _show(run: dict[str, Any]) -> str:
    return run["log"][-6000:]


@pytest.mark.slow
def test_act_job_succeeds(act_run: dict[str, Any]) -> None:
    assert act_run["rc"] == 0, _show(act_run)
    # setup-python ran only for the one step that asked for a version; elsewhere the
    # runner's python3 (>= 3.10) was used.
    assert (act_run["export"] / "setup-python.txt").read_text() == "3.12 update-environment=false\n"


@pytest.mark.slow
def test_act_validate_writes_summary_and_annotations(act_run: dict[str, Any]) -> None:
    steps = act_run["steps"]
    assert steps["valid"]["outcome"] == "success", _show(act_run)
    # act shows each step's $GITHUB_STEP_SUMMARY after the step, as GitHub renders it.
    summary = act_run["log"].split("Summary - ## jmo-schedule validate", 1)[1].split("[action test/action]", 1)[0]
    assert "| Name | Cron | Zone | Description | Next three runs | Backend | Suspended |" in summary
    assert "| `nightly` | `0 2 * * *` | Europe/Berlin |" in summary
    assert "| `weekly` | `0 3 * * 1` | UTC |" in summary
    assert steps["invalid"]["outcome"] == "failure"
    assert "::error file=bad.yaml,line=6,col=22,title=jmo-schedule%3A spec.schedule::day of week 8 is outside 0-7" in act_run["log"]
    assert steps["insync"]["outcome"] == "success"  # validate + sync --check after the sync


@pytest.mark.slow
def test_act_sync_refuses_the_default_token(act_run: dict[str, Any]) -> None:
    steps = act_run["steps"]
    assert steps["sync-default"]["outcome"] == "failure"
    assert steps["sync-default"]["outputs"].get("changed") == "true"
    assert "and the default GITHUB_TOKEN cannot create or update files under .github/workflows/" in act_run["log"]
    assert "ghs_default_job_token" not in act_run["log"]


@pytest.mark.slow
def test_act_sync_opens_the_pull_request(act_run: dict[str, Any]) -> None:
    out = act_run["steps"]["sync"]["outputs"]
    assert out["changed"] == "true"
    assert out["files"].splitlines() == [".github/workflows/jmo-nightly.yml", "deploy/kubernetes/jmo-weekly.yaml"]
    assert out["pull-request-url"] == "https://github.com/acme/app/pull/7"
    assert out["pull-request-operation"] == "created"
    calls = [json.loads(line) for line in (act_run["export"] / "cpr.jsonl").read_text().splitlines()]
    assert len(calls) == 2
    cpr = calls[0]
    assert cpr["IN_BRANCH"] == "jmo-schedule/sync"
    assert cpr["IN_TOKEN"] == "ghp_full"
    assert cpr["IN_LABELS"] == "security,automated"
    assert cpr["IN_DELETE"] == "true"
    assert cpr["IN_ADD_PATHS"].splitlines() == out["files"].splitlines()
    assert "| `.github/workflows/jmo-nightly.yml` | added |" in cpr["body"]
    assert "?? .github/workflows/jmo-nightly.yml" in cpr["status"]
    # Nothing changed the second time: create-pull-request still runs (it closes a bot
    # pull request that no longer differs from the base) with nothing to add.
    again = act_run["steps"]["sync-again"]["outputs"]
    assert again["changed"] == "false" and again["files"] == ""
    assert calls[1]["IN_ADD_PATHS"] == "schedules.yaml"  # nothing to add
    # The install built from a copy: no build/ or *.egg-info left in the workspace.
    for call in calls:
        assert "build/" not in call["status"] and "egg-info" not in call["status"], call["status"]
    # The token check asked the (local) GitHub API for the PAT's scopes.
    assert ("/repos/acme/app", "Bearer ghp_full") in [(r["path"], r["headers"]["Authorization"])
                                                      for r in act_run["github"].requests]


@pytest.mark.slow
def test_act_guard_sets_run_and_reason(act_run: dict[str, Any]) -> None:
    out = act_run["steps"]["guard"]["outputs"]
    assert act_run["steps"]["guard"]["outcome"] == "success", _show(act_run)
    assert out["run"] == "true"
    assert out["reason"]


@pytest.mark.slow
def test_act_notify_posts_to_the_webhook(act_run: dict[str, Any]) -> None:
    assert act_run["steps"]["notify"]["outcome"] == "success", _show(act_run)
    posts = [r for r in act_run["slack"].requests if r.method == "POST"]
    assert len(posts) == 1
    assert posts[0].path == "/services/T0/B0/secret"
    text = json.dumps(posts[0].json())
    assert "nightly" in text and "scan step failed" in text
    assert "/services/T0/B0/secret" not in act_run["log"]


@pytest.mark.slow
def test_act_install_ran_once_then_every_step_reused_it(act_run: dict[str, Any]) -> None:
    log = act_run["log"]
    keys = (act_run["export"] / "cache.txt").read_text().splitlines()
    python = shutil.which("python3", path=act_run["path"])
    assert len(keys) == 8 and {k.split(" ")[0] for k in keys} == {deps_key(python)}
    # setup-uv was asked once (its stand-in had no uv to give, so pip fetched one), then
    # skipped: the later steps found the dependencies installed.
    assert (act_run["export"] / "setup-uv.txt").read_text() == "0.13.9\n"
    assert log.count("jmo-schedule: installed its dependencies with uv") == 1
    assert log.count("jmo-schedule: reusing its installed dependencies") == 7
    # Nothing was built: no wheel, no build/ or egg-info (jmo-schedule runs from src/).
    assert "Building wheel" not in log and "egg-info" not in log


# ------------------------------------------------------------------------------------
# The install step on its own: a python without venv (the scanner image), with uv or pip


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_install_step_installs_dependencies_only_and_reuses_them(tmp_path: Path, installer: str) -> None:
    step = next(s for s in action()["runs"]["steps"] if s.get("id") == "install")
    host_python = shutil.which("python3", path=os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent))
    fake_python = tmp_path / "python3-no-venv"
    # Like the scanner image's python: no venv module; in the pip case no index has uv either.
    refuse_uv = 'if [[ "$*" == *"uv>="* ]]; then echo "No matching distribution found for uv" >&2; exit 1; fi\n'
    fake_python.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then echo "No module named venv" >&2; exit 1; fi\n'
        + (refuse_uv if installer == "pip" else "")
        + f'exec {host_python} "$@"\n'
    )
    fake_python.chmod(0o755)
    tools = tmp_path / "tools"  # a uv (the runner's or setup-uv's) only in the uv case
    tools.mkdir()
    if installer == "uv":
        (tools / "uv").symlink_to(tool("uv"))
    action_path = copy_action(tmp_path / "action")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    output = tmp_path / "output"
    output.touch()
    env = {
        **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},  # the machine's index and CA settings
        "PATH": os.pathsep.join([str(tools), "/usr/bin", "/bin"]), "HOME": str(tmp_path),
        "RUNNER_TEMP": str(runner_temp), "GITHUB_ACTION_PATH": str(action_path), "GITHUB_OUTPUT": str(output),
        "JMO_PYTHON": str(fake_python), "JMO_KEY": "k1", "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
        "JMO_UV": str(tools / "uv") if installer == "uv" else "",
        **OFFLINE_PIP,
    }
    runs = [subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=600)
            for _ in range(2)]  # the second run reuses the folder
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert [r.stdout for r in runs] == [f"jmo-schedule: installed its dependencies with {installer}\n",
                                        "jmo-schedule: reusing its installed dependencies (k1)\n"]
    deps = runner_temp / "jmo-schedule-deps"
    pythonpath = f"{action_path / 'src'}:{deps}"
    assert output.read_text().splitlines() == [f"python={fake_python}", f"pythonpath={pythonpath}"] * 2
    assert (deps / "yaml").is_dir() and (deps / "requests").is_dir() and (deps / ".jmo-key").read_text() == "k1"
    # uv builds nothing; pip builds a wheel from a copy, never in the action's folder.
    assert (deps / "jmo_schedule").exists() is (installer == "pip")
    assert not list(action_path.glob("*.egg-info")) and not (action_path / "build").exists()
    # The CLI runs as the later steps run it, and no `jmo` command was installed.
    cli = subprocess.run([str(fake_python), "-m", "jmo_schedule", "--version"], env={**env, "PYTHONPATH": pythonpath},
                         capture_output=True, text=True)
    assert cli.stdout.strip() == f"jmo-schedule {__version__}"
    assert not (deps / "bin" / "jmo").exists()


# ------------------------------------------------------------------------------------
# The contract with the generated workflows (they call this action for guard and notify)


def test_generated_workflows_use_only_inputs_and_outputs_the_action_has() -> None:
    from jmo_schedule.core.loader import load_text
    from jmo_schedule.generators import github_actions

    data = action()
    inputs, outputs = set(data["inputs"]), set(data["outputs"])
    [schedule] = [s for s in load_text(SCHEDULES, "schedules.yaml") if s.metadata.name == "nightly"]
    text = github_actions.render(schedule, "schedules.yaml")
    wf = yaml.safe_load(text)
    calls = [s for job in wf["jobs"].values() for s in job["steps"] if str(s.get("uses", "")).startswith("jmo/schedule-action@")]
    assert {c["with"]["command"] for c in calls} == {"guard", "notify"}
    for call in calls:
        assert set(call["with"]) <= inputs, set(call["with"]) - inputs
    for ref in re.findall(r"steps\.guard\.outputs\.([\w-]+)", text):
        assert ref in outputs, ref


@pytest.mark.parametrize("command, version, code, expected", [
    ("validate", "", 0, "found=true"),
    ("guard", "3.13", 0, "found=false"),
    ("deploy", "", 1, ""),
])
def test_find_python_step(tmp_path: Path, command: str, version: str, code: int, expected: str) -> None:
    step = next(s for s in action()["runs"]["steps"] if s.get("id") == "python")
    output = tmp_path / "output"
    output.touch()
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "JMO_COMMAND": command, "JMO_PYTHON_VERSION": version}
    run = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)
    assert run.returncode == code
    if code:
        assert run.stdout == "::error title=jmo-schedule::input 'command' must be validate, sync, notify or guard\n"
        assert output.read_text() == ""
    else:
        assert output.read_text().splitlines()[-1] == expected


def test_prepare_step_resolves_the_interpreter_and_keys_the_cache(tmp_path: Path) -> None:
    step = next(s for s in action()["runs"]["steps"] if s.get("id") == "prepare")
    launcher = tmp_path / "python3"  # a shim in front of the interpreter, as pyenv puts one
    launcher.write_text(f'#!/usr/bin/env bash\nexec {sys.executable} "$@"\n')
    launcher.chmod(0o755)
    runner_temp, output = tmp_path / "temp", tmp_path / "output"
    runner_temp.mkdir()
    env = {"PATH": os.environ["PATH"], "RUNNER_OS": "Linux", "RUNNER_TEMP": str(runner_temp),
           "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_OUTPUT": str(output), "JMO_PYTHON": str(launcher)}
    installed = []
    for _ in range(2):
        output.write_text("")
        run = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        found = dict(line.split("=", 1) for line in output.read_text().splitlines())
        assert found["python"] == sys.executable and found["key"] == deps_key(sys.executable)
        assert found["uv"] == (shutil.which("uv", path=os.environ["PATH"]) or "")
        installed.append(found["installed"])
        # As the install step does: the folder remembers the key it was installed for.
        (runner_temp / "jmo-schedule-deps").mkdir(exist_ok=True)
        (runner_temp / "jmo-schedule-deps" / ".jmo-key").write_text(found["key"])
    assert installed == ["false", "true"]


@pytest.mark.slow
def test_act_sync_publishes_the_scan_calendar(act_run: dict[str, Any]) -> None:
    """calendar-days: "30" on the sync step: the ICS of the next 30 days is uploaded as the
    artifact jmo-schedule-calendar; the other sync steps (default 0) publish nothing."""
    import icalendar

    uploaded = sorted(p.relative_to(act_run["export"]).as_posix()
                      for p in (act_run["export"] / "artifacts").rglob("*") if p.is_file())
    assert uploaded == ["artifacts/jmo-schedule-calendar/jmo-schedule.ics"], _show(act_run)
    ics = (act_run["export"] / "artifacts" / "jmo-schedule-calendar" / "jmo-schedule.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(ics)
    events = [c for c in calendar.walk("VEVENT")]
    summaries = {str(e["SUMMARY"]) for e in events}
    assert summaries == {"nightly scan (github-actions)", "weekly scan (kubernetes)"}
    # 30 days: a nightly run each day and a weekly run each week, give or take the edges.
    assert 29 <= sum(str(e["SUMMARY"]).startswith("nightly") for e in events) <= 31
    assert 4 <= sum(str(e["SUMMARY"]).startswith("weekly") for e in events) <= 5
