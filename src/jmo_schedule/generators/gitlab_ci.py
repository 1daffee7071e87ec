"""GitLab CI: every gitlab-ci schedule's jobs in `.gitlab/jmo-schedules.gitlab-ci.yml`.

The file is meant for `include: - local: .gitlab/jmo-schedules.gitlab-ci.yml`. GitLab keeps
schedules outside the YAML (pipeline schedules, made by `jmo-schedule gitlab-schedules` with
the description `jmo-schedule: <name>`), so each schedule's jobs run only in a scheduled
pipeline whose $CI_PIPELINE_SCHEDULE_DESCRIPTION (GitLab 17.8+) is exactly that schedule's,
or, on older GitLab, whose JMO_SCHEDULE variable names it. Per schedule, ONE job does it all:

- `jmo-scan-<name>` (stage `backend.config.stage`, default `test`; `needs: []` so the
  user's other jobs never hold it back): installs jmo-schedule once (cached), runs
  `jmo-schedule guard` (which says in the log why it skips, and leaves its decision as
  the dotenv report `JMO_GUARD_RUN` / `JMO_GUARD_REASON`), `jmo scan`, `jmo report`,
  converts the findings to GitLab's SAST and Code Quality reports, and in `after_script`
  (which GitLab 17.0+ runs for failed and canceled jobs too, with $CI_JOB_STATUS) posts
  the Slack message;
- `jmo-notify-<name>` (stage `.post`, `when: on_failure`), only with notifications, for
  what after_script cannot cover (a runner or image failure, a timeout without
  RUNNER_SCRIPT_TIMEOUT): it sends nothing when the scan job already did (`--once`).

Every value from the schedule is a job variable with `expand: false` (GitLab does not
expand `$` in it) and reaches the shell as a quoted `"${VAR}"`. jmo-schedule is installed
inside the job from $JMO_SCHEDULE_PIP_SPEC with `pip install --target` (the scanner image's
Python is externally managed and has no venv module; uv when the image has it) into a
folder GitLab caches, and the install is skipped when the cache already holds that pinned
version; it runs with PYTHONPATH set for that one command, so it never shadows the
scanner's own packages.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from . import yaml_emit
from .._version import __version__
from ..core.gitlab_names import VARIABLE, description_pattern
from ..core.model import ScanSchedule
from ..core.scan_command import build_plan, shell_line
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
LIB = ".jmo-schedule-lib"
LIB_DIR = "${CI_PROJECT_DIR}/" + LIB
DEFAULT_STAGE = "test"
# GitLab does not run a pipeline that has only .pre/.post jobs: a scan there may never run.
RESERVED_STAGES = (".pre", ".post")
# GitLab Runner's default after_script time limit; RUNNER_SCRIPT_TIMEOUT leaves it room.
AFTER_SCRIPT_MINUTES = 5

_TOOL = f'PYTHONPATH="{LIB_DIR}" python3 -m jmo_schedule'


def install_line(lib: str, spec: str) -> str:
    """The shell block that installs jmo-schedule into the folder `lib` from the pip spec
    `spec` (both shell expressions, e.g. `${JMO_SCHEDULE_LIB}`), unless the folder (from
    GitLab's cache) already holds that pinned `name==version` for this Python: a stamp
    file records what was installed. uv is used where the image has it. The component
    template runs the same block."""
    stamp = f'"{lib}/.jmo-pip-spec"'
    return (
        f'jmo_stamp="{spec} $(python3 -V 2>&1)"; jmo_cached=""\n'
        f'case "{spec}" in *[!A-Za-z0-9._=+-]*) ;; *==*) jmo_cached="$(cat {stamp} 2>/dev/null || true)" ;; esac\n'
        f'if [ "$jmo_cached" = "$jmo_stamp" ]; then\n'
        f'  echo "jmo-schedule: {spec} from the cache"\n'
        f'else\n'
        f'  rm -rf "{lib}"\n'
        f'  if command -v uv >/dev/null 2>&1; then\n'
        f'    uv pip install --quiet --python python3 --target "{lib}" "{spec}" || exit 1\n'
        f'  else\n'
        f'    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \\\n'
        f'      --target "{lib}" "{spec}" || exit 1\n'
        f'  fi\n'
        f"  printf '%s\\n' \"$jmo_stamp\" > {stamp}\n"
        f'fi\n'
    )


_INSTALL = yaml_emit.Literal(install_line(LIB_DIR, f"${{{PIP_SPEC_VAR}}}"))


def job_names(name: str) -> dict[str, str]:
    return {"scan": f"jmo-scan-{name}", "notify": f"jmo-notify-{name}"}


def rule_if(name: str) -> str:
    """The rule that selects a schedule's jobs: a scheduled pipeline started by exactly the
    pipeline schedule `jmo-schedule: <name>` (bare or with its annotation)."""
    return f'$CI_PIPELINE_SOURCE == "schedule" && $CI_PIPELINE_SCHEDULE_DESCRIPTION =~ {description_pattern(name)}'


def legacy_rule_if(name: str) -> str:
    """The same for GitLab before 17.8 (no description variable): the schedule's JMO_SCHEDULE."""
    return f'$CI_PIPELINE_SOURCE == "schedule" && ${VARIABLE} == "{name}"'


def stage(schedule: ScanSchedule) -> str:
    """The scan job's stage (backend.config.stage, default test). Raises ValueError for
    .pre/.post, which would leave a scheduled pipeline GitLab does not run."""
    value = str(backend_config(schedule, BACKEND).get("stage") or DEFAULT_STAGE)
    if value in RESERVED_STAGES:
        raise ValueError(f"{schedule.metadata.name}: backend.config.stage {value}: GitLab does not run a pipeline "
                         "that has only .pre/.post jobs; use a stage from your stages: list (default test)")
    return value


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
_UNIT_SECONDS = {"": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60,
                 "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
                 "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}


def duration_seconds(text: str) -> int | None:
    """Seconds in a GitLab duration such as `1h 30m` or `90 minutes` (None when unreadable)."""
    total = 0.0
    rest = text.strip().lower()
    if not rest:
        return None
    for number, unit in _DURATION_RE.findall(rest):
        if unit not in _UNIT_SECONDS:
            return None
        total += float(number) * _UNIT_SECONDS[unit]
    if _DURATION_RE.sub("", rest).strip():
        return None
    return int(total)


def script_timeout(job_timeout: str) -> str | None:
    """RUNNER_SCRIPT_TIMEOUT for a job `timeout:`: short enough that a scan which runs out of
    time still reaches after_script (and its message) inside the job's limit."""
    seconds = duration_seconds(job_timeout)
    if seconds is None or seconds < (AFTER_SCRIPT_MINUTES * 2 + 10) * 60:
        return None
    return f"{seconds // 60 - AFTER_SCRIPT_MINUTES * 2}m"


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
    out_dir = f"jmo-{name}"  # artifacts must live inside the project directory
    guard_env = f"{out_dir}/guard.env"
    notified = f"{out_dir}/notified"
    notify = bool(notification_secrets(schedule))
    tags = [str(t) for t in config.get("tags") or []]

    def base(stage_name: str, when: str | None = None) -> dict[str, Any]:
        job: dict[str, Any] = {"stage": stage_name, "image": {"name": image(schedule, BACKEND), "entrypoint": [""]}}
        rules = [{"if": rule_if(name)}, {"if": legacy_rule_if(name)}]
        job["rules"] = [{**rule, "when": when} if when else rule for rule in rules]
        if tags:
            job["tags"] = tags
        return job

    def cache(policy: str | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"key": f"jmo-schedule-lib-{__version__}", "paths": [f"{LIB}/"], "when": "always"}
        if policy:
            entry["policy"] = policy
        return entry

    def notify_line(status: str, *extra: str) -> str:
        return " ".join([
            f"{_TOOL} notify --status {status} --schedule {name} -f \"${{JMO_SCHEDULES_FILE}}\"",
            f"--results {out_dir} --guard {guard_env} --once {notified}", *extra,
        ])

    scan = base(stage(schedule))
    scan["needs"] = []  # start at once: a user's failing build job must not stop the scan
    if config.get("timeout"):
        scan["timeout"] = str(config["timeout"])
    if config.get("retry") is not None:
        scan["retry"] = config["retry"]
    if spec.concurrencyPolicy == "Forbid":
        # One scan at a time when the guard cannot ask the API; the guard skips a run whose
        # older run was still going when it fired, even one that queued here.
        scan["resource_group"] = f"jmo-{name}"
    # Never cancelled as redundant by a newer pipeline of the ref (a user's `default:` may say so).
    scan["interruptible"] = False
    variables: dict[str, Any] = {"JMO_SCHEDULES_FILE": _var(source)}
    variables.update({key: _var(value) for key, value in plan.env().items()})
    timeout = script_timeout(str(config["timeout"])) if config.get("timeout") else None
    if notify and timeout:
        variables["RUNNER_SCRIPT_TIMEOUT"] = timeout
        variables["RUNNER_AFTER_SCRIPT_TIMEOUT"] = f"{AFTER_SCRIPT_MINUTES}m"
    scan["variables"] = variables
    scan["cache"] = cache()
    scan["script"] = [
        # A shell runner keeps untracked files: no record or result of an earlier run may count.
        f"rm -rf {out_dir} && mkdir {out_dir}",
        _INSTALL,
        f'{_TOOL} guard {name} -f "${{JMO_SCHEDULES_FILE}}" --dotenv {guard_env}',
        "unset JMO_GITLAB_TOKEN",  # the guard's API token is no business of the scanner's
        f"if ! grep -qx 'JMO_GUARD_RUN=true' {guard_env}; then echo \"jmo-schedule: scan skipped\"; exit 0; fi",
        *plan.write_list_files_shell(),
        shell_line(plan.scan, "jmo scan"),
        # Keep jmo report's verdict (1 = a finding at fail_on or worse) but convert first,
        # so the merge request shows what failed the job.
        "jmo_status=0; " + shell_line(plan.report, "jmo report") + " || jmo_status=$?",
        f'if [ -d "${{JMO_RESULTS_DIR}}/summaries" ]; then cp -R -- "${{JMO_RESULTS_DIR}}/summaries/." {out_dir}/; fi',
        f'{_TOOL} convert --to gitlab-sast --results "${{JMO_RESULTS_DIR}}" -o {out_dir}/gl-sast-report.json',
        f'{_TOOL} convert --to gitlab-codequality --results "${{JMO_RESULTS_DIR}}" -o {out_dir}/gl-code-quality-report.json',
        'exit "$jmo_status"',
    ]
    if notify:
        # $CI_JOB_STATUS: success, failed, canceled (or timedout); a new shell, so the path again.
        # --fetch-baseline: the previous scan's artifacts ($JMO_GITLAB_TOKEN, else $CI_JOB_TOKEN).
        scan["after_script"] = [notify_line('"${CI_JOB_STATUS}"', "--fetch-baseline")]
    scan["artifacts"] = {
        "when": "always",
        "paths": [f"{out_dir}/"],
        "reports": {
            "dotenv": guard_env,
            "sast": f"{out_dir}/gl-sast-report.json",
            "codequality": f"{out_dir}/gl-code-quality-report.json",
        },
    }
    result = {names["scan"]: scan}

    if notify:
        job = base(".post", "on_failure")
        job["needs"] = [{"job": names["scan"], "artifacts": True}]
        job["interruptible"] = False
        job["variables"] = {"JMO_SCHEDULES_FILE": _var(source)}
        job["cache"] = cache("pull")
        job["script"] = [
            _INSTALL,
            notify_line("failure", '--message "the scan job ended before it could report: see its log"'),
        ]
        result[names["notify"]] = job
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
