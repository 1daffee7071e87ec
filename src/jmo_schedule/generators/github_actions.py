"""GitHub Actions: one workflow per schedule, `.github/workflows/jmo-<name>.yml`.

Security design (see README.md, "Security design"):
- every value from the schedule reaches the shell only through the job's `env:` and is
  quoted there (`"${JMO_REPO}"`); no value is pasted into `run:` or a `${{ }}` expression;
  a value holding `${{` travels base64-encoded (see `env_and_decoders`), and one in a
  `with:` input or backend.config is escaped (`escape_expression`);
- least privilege: `permissions: {}` at the top, the job gets contents: read,
  security-events: write (SARIF upload, unless backend.config.codeScanning is false) and
  actions: read (upload-sarif in private repositories, and the guard's check for other
  runs; write under concurrencyPolicy Replace, which cancels the older run);
- the SARIF upload never decides the scan's outcome: private and internal repositories
  without GitHub Code Security refuse it, so it continues on error, a warning annotation
  says why and the Slack message notes it;
- third-party actions are pinned to full commit SHAs, checkout keeps no credentials;
- the scanner image is a pinned release tag by default.
"""
from __future__ import annotations

import base64
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import yaml_emit
from .._version import __version__
from ..core.model import ScanSchedule
from ..core.scan_command import build_plan, shell_line
from .action_pins import CHECKOUT, Pin, UPLOAD_ARTIFACT, UPLOAD_SARIF
from .common import (
    DEFAULT_SOURCE,
    ScheduleGenerator,
    backend_config,
    check_name,
    image,
    notification_secrets,
    timeout_minutes,
    told_of_skips,
)
from .header import schedule_header
from .yaml_emit import Commented, Literal

BACKEND = "github-actions"
DEFAULT_RUNS_ON = "ubuntu-latest"



@dataclass(frozen=True)
class OwnAction:
    """This project's own action (guard / notify) as generated workflows name it: the
    `uses:` value and its trailing comment (`# v1.2.3` after a SHA)."""

    uses: str
    comment: str | None = None


# Without a better ref (see action_ref.py: the ref the sync job itself runs, or the one the
# generated files already use), the release matching this package. zizmor asks for a SHA
# pin; a tag carries an inline ignore. `backend.config.action` overrides it per schedule.
OWN_ACTION = f"jmo/schedule-action@v{__version__}"
_OWN_ACTION_NOTE = "zizmor: ignore[unpinned-uses] this tool's own release tag, updated by sync"
RELEASE_ACTION = OwnAction(OWN_ACTION, _OWN_ACTION_NOTE)

GUARD_RAN = "steps.guard.outputs.run == 'true'"
SARIF_FAILED = "steps.sarif.outcome == 'failure'"
SARIF_WARNING = (
    "::warning title=jmo-schedule::SARIF was not uploaded to code scanning (private and internal "
    "repositories need GitHub Code Security); the scan's own result stands and its findings are in the "
    "results artifact. Set backend.config.codeScanning: false to skip the upload."
)


def path_for(schedule: ScanSchedule) -> str:
    return f".github/workflows/jmo-{check_name(schedule)}.yml"


def escape_expression(text: str) -> str:
    """`text` with every `${{` neutralised, so GitHub reads it literally, not as an expression.

    GitHub evaluates `${{ ... }}` anywhere in a workflow's strings (env values included);
    `${{ '$' }}{{` evaluates to the literal text `${{`.
    """
    return text.replace("${{", "${{ '$' }}{{")


def env_and_decoders(values: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The job's `env:` and the shell lines that restore base64-carried values.

    A value holding `${{` travels base64-encoded as `<VAR>_B64` and is decoded in the
    step's shell: no evaluator sees an expression in it, however many times it
    interpolates env (GitHub evaluates once; act and runners built on it evaluate job env
    again per step, which would turn an escaped `${{` back into a live expression).
    """
    env: dict[str, str] = {}
    decode: list[str] = []
    for key, value in values.items():
        if "${{" in value:
            env[f"{key}_B64"] = base64.b64encode(value.encode("utf-8")).decode("ascii")
            # `printf x` keeps trailing newlines, which $(...) would strip.
            decode.append(f'{key}="$(printf \'%s\' "${{{key}_B64}}" | base64 -d; printf x)"; {key}="${{{key}%x}}"')
        else:
            env[key] = value
    return env, decode


def _uses(pin: Pin) -> Commented:
    return Commented(pin.uses, pin.version)


def own_action(config: dict[str, Any], action: OwnAction | None = None) -> Any:
    """`uses:` for this project's action: backend.config.action, else `action`, else this
    release's tag."""
    ref = config.get("action")
    if ref:
        # The user's choice: zizmor judges it as written (a SHA pin passes).
        return str(ref)
    action = action or RELEASE_ACTION
    return Commented(action.uses, action.comment) if action.comment else action.uses


def workflow(schedule: ScanSchedule, source: str = DEFAULT_SOURCE, action: OwnAction | None = None) -> dict[str, Any]:
    """The workflow document (plain data) for one schedule; `action` is this project's
    action as the workflow names it (default: this release's tag)."""
    name = check_name(schedule)
    spec = schedule.spec
    config = backend_config(schedule, BACKEND)
    plan = build_plan(spec.jobTemplate)
    esc = escape_expression

    trigger: dict[str, Any] = {"cron": spec.schedule}
    if spec.timezone:
        trigger["timezone"] = esc(spec.timezone)

    job: dict[str, Any] = {"name": f"Scan ({name})"}
    runs_on = config.get("runs-on") or DEFAULT_RUNS_ON
    job["runs-on"] = [esc(str(r)) for r in runs_on] if isinstance(runs_on, list) else esc(str(runs_on))
    if config.get("environment"):
        job["environment"] = esc(str(config["environment"]))
    code_scanning = config.get("codeScanning") is not False
    job["permissions"] = {
        "contents": "read",
        **({"security-events": "write"} if code_scanning else {}),
        # The guard lists this workflow's runs; under Replace it cancels the older ones.
        "actions": "write" if spec.concurrencyPolicy == "Replace" else "read",
    }
    minutes = timeout_minutes(schedule)
    if minutes is not None:
        job["timeout-minutes"] = minutes
    # The workspace belongs to the runner's user; the image runs as `jmo` (UID 1000).
    job["container"] = {"image": esc(image(schedule, BACKEND)), "options": "--user 0"}
    env, decode = env_and_decoders(plan.env())
    job["env"] = env

    secrets = notification_secrets(schedule)
    steps: list[dict[str, Any]] = []
    if secrets:
        # GitHub exposes no start time to a job; notify reports the duration from this.
        steps.append({
            "name": "Record the start time",
            "run": Literal('echo "JMO_SCAN_STARTED_AT=$(date -u +%s)" >> "$GITHUB_ENV"\n'),
        })
    steps += [
        {
            "name": "Check out the repository",
            "uses": _uses(CHECKOUT),
            "with": {"persist-credentials": False},
        },
        {
            "name": "Guard (suspend, deadline, concurrency)",
            "id": "guard",
            "uses": own_action(config, action),
            "with": {
                "command": "guard",
                "schedules-file": esc(source),
                "schedule": name,
                "token": "${{ github.token }}",
            },
        },
    ]
    scan_script = [*decode, *plan.write_list_files_shell(), shell_line(plan.scan, "jmo scan")]
    steps.append({"name": "Scan", "id": "scan", "if": GUARD_RAN, "run": Literal("\n".join(scan_script) + "\n")})
    steps.append({
        "name": "Report",
        "id": "report",
        # Summarise partial results too, so the artifact and SARIF say what the scan found.
        "if": f"always() && {GUARD_RAN}",
        "run": Literal("\n".join([*decode, shell_line(plan.report, "jmo report")]) + "\n"),
    })
    results = plan.results_dir.rstrip("/") or "/"
    if code_scanning:
        steps += [
            {
                "name": "Upload SARIF to code scanning",
                "id": "sarif",
                "if": f"always() && {GUARD_RAN} && (steps.report.outcome == 'success' || steps.report.outcome == 'failure')",
                # Private and internal repositories without GitHub Code Security refuse the
                # upload: it must never turn a passed scan red (the next step says so instead).
                "continue-on-error": True,
                "uses": _uses(UPLOAD_SARIF),
                "with": {"sarif_file": esc(f"{results}/summaries/findings.sarif"), "category": f"jmo-{name}"},
            },
            {
                "name": "Explain a failed SARIF upload",
                "if": f"always() && {GUARD_RAN} && {SARIF_FAILED}",
                "run": Literal(f"echo {shlex.quote(SARIF_WARNING)}\n"),
            },
        ]
    steps.append({
        "name": "Upload results",
        "if": f"always() && {GUARD_RAN}",
        "uses": _uses(UPLOAD_ARTIFACT),
        "with": {"name": f"jmo-results-{name}", "path": esc(f"{results}/"), "if-no-files-found": "warn"},
    })
    if secrets:
        status = "job.status == 'success' && 'success' || 'failure'"
        # A guard skip is told only when a channel asks for it (events: [skipped]).
        skips = told_of_skips(schedule)
        steps.append({
            "name": "Notify",
            "if": "always()" if skips else f"always() && {GUARD_RAN}",
            "uses": own_action(config, action),
            # The channels name these secrets (`url: ${NAME}`); notify reads them from env.
            "env": {secret: f"${{{{ secrets.{secret} }}}}" for secret in secrets},
            "with": {
                "command": "notify",
                "schedules-file": esc(source),
                "schedule": name,
                "status": f"${{{{ steps.guard.outputs.run == 'false' && 'skipped' || ({status}) }}}}" if skips
                else f"${{{{ {status} }}}}",
                **({"message": "${{ steps.guard.outputs.reason }}"} if skips else {}),
                "results": esc(results),
                # The previous run's jmo-results-<name> artifact (the job's token, actions: read).
                "fetch-baseline": True,
                **({"sarif-upload": "${{ steps.sarif.outcome }}"} if code_scanning else {}),
            },
        })
    job["steps"] = steps

    doc: dict[str, Any] = {
        "name": f"jmo-schedule: {name}",
        "on": {"schedule": [trigger], "workflow_dispatch": {}},
        "permissions": {},
    }
    # No `concurrency:` group: GitHub's group queues a second run as pending (a newer pending
    # run even cancels an older pending one) instead of skipping it, and handles a group's
    # runs in no guaranteed order. The guard enforces the policy against the runs API.
    doc["defaults"] = {"run": {"shell": "bash"}}
    doc["jobs"] = {"scan": job}
    return doc


def render(schedule: ScanSchedule, source: str = DEFAULT_SOURCE, action: OwnAction | None = None) -> str:
    """The workflow file text for one schedule, header included."""
    return schedule_header(source, [schedule]) + "\n" + yaml_emit.dump(workflow(schedule, source, action))


def generate_files(schedules: Sequence[ScanSchedule], source: str, action: OwnAction | None = None) -> dict[str, str]:
    """`{.github/workflows/jmo-<name>.yml: text}` for each schedule."""
    return {path_for(s): render(s, source, action) for s in schedules}


class GitHubActionsGenerator(ScheduleGenerator):
    """The user guide's API: `GitHubActionsGenerator().generate(schedule) -> str`."""

    def _render(self, schedule: ScanSchedule, source: str) -> str:
        return render(schedule, source)

    def _path(self, schedule: ScanSchedule) -> str:
        return path_for(schedule)
