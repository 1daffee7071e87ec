"""GitLab CI: every gitlab-ci schedule's jobs in `.gitlab/jmo-schedules.gitlab-ci.yml`.

The file is meant for `include: - local: .gitlab/jmo-schedules.gitlab-ci.yml`. GitLab keeps
schedules outside the YAML (pipeline schedules, created by `jmo-schedule gitlab-schedules`
with the variable JMO_SCHEDULE=<name>), so each schedule's jobs run only in a scheduled
pipeline whose JMO_SCHEDULE names it. Per schedule:

- `jmo-guard-<name>` (stage `.pre`): `jmo-schedule guard` decides run/skip and hands
  `run` / `reason` to the later jobs as a dotenv report;
- `jmo-scan-<name>` (stage `test`): `jmo scan`, `jmo report`, then `jmo-schedule convert`
  to GitLab's SAST and Code Quality reports; the SARIF travels as a plain artifact;
- `jmo-notify-success-<name>` / `jmo-notify-failure-<name>` (stage `.post`,
  `when: on_success` / `on_failure`) when the schedule has notifications.

Only the default stages are used, so including the file never conflicts with a project's
own `stages:`. Every value from the schedule is a job variable with `expand: false` (GitLab
does not expand `$` in it) and reaches the shell as a quoted `"${VAR}"`. jmo-schedule itself
is installed inside the job from $JMO_SCHEDULE_PIP_SPEC with `pip install --target` (the
scanner image's Python is externally managed and has no venv module) and run with
PYTHONPATH set for that one command, so it never shadows the scanner's own packages.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model import ScanSchedule
from ..scan_command import build_plan, shell_line
from . import yaml_emit
from .common import (
    DEFAULT_PIP_SPEC,
    DEFAULT_SOURCE,
    PIP_SPEC_VAR,
    ScheduleGenerator,
    backend_config,
    check_name,
    image,
    notification_secrets,
)
from .header import schedule_header

BACKEND = "gitlab-ci"
PATH = ".gitlab/jmo-schedules.gitlab-ci.yml"
LIB_DIR = "${CI_PROJECT_DIR}/.jmo-schedule-lib"
GUARD_ENV = "jmo-guard.env"

_INSTALL = (
    f'python3 -m pip install --quiet --upgrade --disable-pip-version-check --no-warn-script-location '
    f'--target "{LIB_DIR}" "${{{PIP_SPEC_VAR}}}"'
)
_TOOL = f'PYTHONPATH="{LIB_DIR}" python3 -m jmo_schedule'


def job_names(name: str) -> dict[str, str]:
    return {
        "guard": f"jmo-guard-{name}",
        "scan": f"jmo-scan-{name}",
        "success": f"jmo-notify-success-{name}",
        "failure": f"jmo-notify-failure-{name}",
    }


def rule_if(name: str) -> str:
    """The rule that selects a schedule's jobs: a scheduled pipeline whose JMO_SCHEDULE names it."""
    return f'$CI_PIPELINE_SOURCE == "schedule" && $JMO_SCHEDULE == "{name}"'


def _var(value: str) -> dict[str, Any]:
    # expand: false keeps GitLab from reading `$NAME` inside a schedule's value.
    return {"value": value, "expand": False}


def jobs(schedule: ScanSchedule, source: str = DEFAULT_SOURCE) -> dict[str, dict[str, Any]]:
    """The jobs (plain data, in order) of one schedule."""
    name = check_name(schedule)
    spec = schedule.spec
    config = backend_config(schedule, BACKEND)
    plan = build_plan(spec.jobTemplate)
    names = job_names(name)
    img = {"name": image(schedule, BACKEND), "entrypoint": [""]}
    tags = [str(t) for t in config.get("tags") or []]
    out_dir = f"jmo-{name}"  # artifacts must live inside the project directory
    source_var = {"JMO_SCHEDULES_FILE": _var(source)}

    def base(stage: str, when: str | None = None) -> dict[str, Any]:
        job: dict[str, Any] = {"stage": stage, "image": img}
        rule: dict[str, Any] = {"if": rule_if(name)}
        if when:
            rule["when"] = when
        job["rules"] = [rule]
        if tags:
            job["tags"] = tags
        return job

    guard = base(".pre")
    guard["variables"] = dict(source_var)
    guard["script"] = [
        _INSTALL,
        f'{_TOOL} guard {name} -f "${{JMO_SCHEDULES_FILE}}" --dotenv {GUARD_ENV}',
    ]
    guard["artifacts"] = {"reports": {"dotenv": GUARD_ENV}}

    skip_unless_run = 'if [ "${run:-}" != "true" ]; then echo "jmo-schedule: skipped: ${reason:-guard said no}"; exit 0; fi'
    scan = base("test")
    scan["needs"] = [{"job": names["guard"], "artifacts": True}]
    if config.get("timeout"):
        scan["timeout"] = str(config["timeout"])
    if config.get("retry") is not None:
        scan["retry"] = config["retry"]
    if spec.concurrencyPolicy == "Forbid":
        # One scan at a time per schedule; the guard skips a run that would overlap.
        scan["resource_group"] = f"jmo-{name}"
        scan["interruptible"] = False
    elif spec.concurrencyPolicy == "Replace":
        # A newer pipeline may cancel this one (auto-cancel of redundant pipelines).
        scan["interruptible"] = True
    scan["variables"] = {key: _var(value) for key, value in plan.env().items()}
    scan["script"] = [
        skip_unless_run,
        _INSTALL,
        *plan.write_list_files_shell(),
        shell_line(plan.scan, "jmo scan"),
        # Keep jmo report's verdict (1 = a finding at fail_on or worse) but convert first,
        # so the merge request shows what failed the job.
        "jmo_status=0; " + shell_line(plan.report, "jmo report") + " || jmo_status=$?",
        f'mkdir -p {out_dir}; if [ -d "${{JMO_RESULTS_DIR}}/summaries" ]; then cp -R -- "${{JMO_RESULTS_DIR}}/summaries/." {out_dir}/; fi',
        f'{_TOOL} convert --to gitlab-sast --results "${{JMO_RESULTS_DIR}}" -o {out_dir}/gl-sast-report.json',
        f'{_TOOL} convert --to gitlab-codequality --results "${{JMO_RESULTS_DIR}}" -o {out_dir}/gl-code-quality-report.json',
        'exit "$jmo_status"',
    ]
    scan["artifacts"] = {
        "when": "always",
        "paths": [f"{out_dir}/"],
        "reports": {
            "sast": f"{out_dir}/gl-sast-report.json",
            "codequality": f"{out_dir}/gl-code-quality-report.json",
        },
    }
    result = {names["guard"]: guard, names["scan"]: scan}

    if notification_secrets(schedule):
        for status, when in (("success", "on_success"), ("failure", "on_failure")):
            job = base(".post", when)
            job["needs"] = [
                {"job": names["guard"], "artifacts": True},
                {"job": names["scan"], "artifacts": True},
            ]
            job["variables"] = dict(source_var)
            gate = (
                skip_unless_run if status == "success"
                # A failed or missing guard still reports the failure; only a deliberate skip does not.
                else 'if [ "${run:-}" = "false" ]; then echo "jmo-schedule: skipped: ${reason:-}"; exit 0; fi'
            )
            job["script"] = [
                gate,
                _INSTALL,
                f'{_TOOL} notify --status {status} --schedule {name} -f "${{JMO_SCHEDULES_FILE}}" --results {out_dir}',
            ]
            result[names[status]] = job
    return result


def pipeline(schedules: Sequence[ScanSchedule], source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    """The whole document for `schedules` (plain data)."""
    doc: dict[str, Any] = {"variables": {PIP_SPEC_VAR: DEFAULT_PIP_SPEC}}
    for schedule in schedules:
        doc.update(jobs(schedule, source))
    return doc


def render(schedules: Sequence[ScanSchedule], source: str = DEFAULT_SOURCE) -> str:
    """The file text, header included."""
    return schedule_header(source, list(schedules)) + "\n" + yaml_emit.dump(pipeline(schedules, source))


def generate_files(schedules: Sequence[ScanSchedule], source: str) -> dict[str, str]:
    """`{.gitlab/jmo-schedules.gitlab-ci.yml: text}` holding every gitlab-ci schedule."""
    return {PATH: render(schedules, source)} if schedules else {}


class GitLabCIGenerator(ScheduleGenerator):
    """The user guide's API: `GitLabCIGenerator().generate(schedule)` is a complete,
    standalone pipeline for one schedule (what `export NAME --backend gitlab-ci` prints)."""

    def _render(self, schedule: ScanSchedule, source: str) -> str:
        return render([schedule], source)

    def _path(self, schedule: ScanSchedule) -> str:
        return PATH
