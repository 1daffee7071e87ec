"""Kubernetes: one `batch/v1` CronJob per schedule, `deploy/kubernetes/jmo-<name>.yaml`.

The schedule's fields map one to one onto the CronJob (schedule, timeZone, suspend,
concurrencyPolicy, startingDeadlineSeconds, history limits): Kubernetes enforces them
natively, so no guard step is needed. The pod:

- an init container (the scanner image's own Python, exec form, no shell) installs
  jmo-schedule from $JMO_SCHEDULE_PIP_SPEC into a shared emptyDir, when notifications
  are on;
- the scanner container runs a fixed POSIX sh script: scan, report, then notify in the
  same container. The script holds no value from the schedule: every value comes from
  the container's `env:` and is quoted (`"${JMO_REPO}"`). Kubernetes expands `$(VAR)` in
  env values and args, so every `$` in a value is written `$$`;
- results go to a volume: backend.config.resultsVolumeClaim, else an emptyDir;
- webhook URLs come from a Secret (backend.config.webhookSecret, default
  `jmo-schedule-webhooks`), one key per `${NAME}` the channels name.
"""
from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from . import yaml_emit
from ..core.model import ScanSchedule
from ..core.rules import CRONJOB_PREFIX, MAX_CRONJOB_NAME
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

BACKEND = "kubernetes"
DEFAULT_WEBHOOK_SECRET = "jmo-schedule-webhooks"
WORKDIR = "/scan"  # the scanner image's WORKDIR
LIB_DIR = "/opt/jmo-schedule"
SCANNER_UID = 1000  # the scanner image's user `jmo`


def path_for(schedule: ScanSchedule) -> str:
    return f"deploy/kubernetes/jmo-{check_name(schedule)}.yaml"


def cronjob_name(schedule: ScanSchedule) -> str:
    """`jmo-<name>`; raises ValueError when it exceeds Kubernetes' CronJob name limit (validation
    refuses such names for kubernetes schedules; `export --backend kubernetes` meets this)."""
    name = CRONJOB_PREFIX + check_name(schedule)
    if len(name) > MAX_CRONJOB_NAME:
        raise ValueError(f"{schedule.metadata.name}: the CronJob name {name} is {len(name)} characters; Kubernetes "
                         f"allows at most {MAX_CRONJOB_NAME} (use a name of at most "
                         f"{MAX_CRONJOB_NAME - len(CRONJOB_PREFIX)} characters)")
    return name


def escape_dollars(text: str) -> str:
    """`text` as Kubernetes reads it literally in env values and args (`$$` is one `$`)."""
    return text.replace("$", "$$")


def results_mount(results_dir: str) -> str:
    """Where the results volume is mounted: the results dir, resolved against WORKDIR."""
    return posixpath.normpath(posixpath.join(WORKDIR, results_dir))


def script(schedule: ScanSchedule) -> str:
    """The container's shell script: constant text plus `"${VAR}"` references, no values."""
    plan = build_plan(schedule.spec.jobTemplate)
    lines = [
        "set -u",
        *plan.write_list_files_shell(),
        'status=success',
        shell_line(plan.scan, "jmo scan") + " || status=failure",
        # Summarise even after a failed scan, so the results say what was found.
        shell_line(plan.report, "jmo report") + " || status=failure",
    ]
    for secret in notification_secrets(schedule):
        # notify resolves `${NAME}` from its environment: the URL never enters argv.
        lines.append("# shellcheck disable=SC2016")
        lines.append(
            f'PYTHONPATH={LIB_DIR} python3 -m jmo_schedule notify --status "$status" '
            f'--results "${{JMO_RESULTS_DIR}}" --webhook \'${{{secret}}}\''
        )
    lines.append('[ "$status" = success ]')
    return "\n".join(lines) + "\n"


def cronjob(schedule: ScanSchedule) -> dict[str, Any]:
    """The CronJob manifest (plain data) for one schedule."""
    name = check_name(schedule)
    spec = schedule.spec
    config = backend_config(schedule, BACKEND)
    plan = build_plan(spec.jobTemplate)
    secrets = notification_secrets(schedule)
    labels = {
        "app.kubernetes.io/name": "jmo-schedule",
        "app.kubernetes.io/managed-by": "jmo-schedule",
        "jmo.security/schedule": name,
    }
    metadata: dict[str, Any] = {"name": cronjob_name(schedule)}
    if config.get("namespace"):
        metadata["namespace"] = str(config["namespace"])
    metadata["labels"] = labels

    env: list[dict[str, Any]] = [{"name": "JMO_SCHEDULE", "value": name}]
    env += [{"name": key, "value": escape_dollars(value)} for key, value in plan.env().items()]
    secret_name = str(config.get("webhookSecret") or DEFAULT_WEBHOOK_SECRET)
    for secret in secrets:
        env.append({"name": secret, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": secret}}})

    mounts = [{"name": "results", "mountPath": results_mount(plan.results_dir)}]
    claim = config.get("resultsVolumeClaim")
    volumes: list[dict[str, Any]] = [
        {"name": "results", "persistentVolumeClaim": {"claimName": str(claim)}} if claim
        else {"name": "results", "emptyDir": {}}
    ]
    pod: dict[str, Any] = {"restartPolicy": "Never"}
    if config.get("serviceAccountName"):
        pod["serviceAccountName"] = str(config["serviceAccountName"])
    if config.get("imagePullSecrets"):
        pod["imagePullSecrets"] = [{"name": str(s)} for s in config["imagePullSecrets"]]
    # The image runs as `jmo`; fsGroup makes a claimed volume writable for it.
    pod["securityContext"] = {"runAsNonRoot": True, "runAsUser": SCANNER_UID, "fsGroup": SCANNER_UID}
    img = image(schedule, BACKEND)
    container_security = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    if secrets:
        mounts.append({"name": "jmo-schedule", "mountPath": LIB_DIR})
        volumes.append({"name": "jmo-schedule", "emptyDir": {}})
        pod["initContainers"] = [{
            "name": "install-jmo-schedule",
            "image": img,
            # Exec form: `$(JMO_SCHEDULE_PIP_SPEC)` is Kubernetes' own reference to the env var.
            "command": ["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-warn-script-location", "--target", LIB_DIR, f"$({PIP_SPEC_VAR})"],
            "env": [{"name": PIP_SPEC_VAR, "value": DEFAULT_PIP_SPEC}],
            "volumeMounts": [{"name": "jmo-schedule", "mountPath": LIB_DIR}],
            "securityContext": container_security,
        }]
    pod["containers"] = [{
        "name": "scan",
        "image": img,
        "workingDir": WORKDIR,
        # Kubernetes expands `$(NAME)` in args too: `$$` keeps every `$` of the script.
        "command": ["/bin/sh", "-c", yaml_emit.Literal(escape_dollars(script(schedule)))],
        "env": env,
        "volumeMounts": mounts,
        "securityContext": container_security,
    }]
    pod["volumes"] = volumes

    job_spec: dict[str, Any] = {"backoffLimit": 0}
    timeout = (spec.jobTemplate.options or {}).get("timeout")
    if isinstance(timeout, int) and not isinstance(timeout, bool):
        # The scan's own timeout plus headroom for report and notify.
        job_spec["activeDeadlineSeconds"] = timeout + 900
    job_spec["template"] = {"metadata": {"labels": labels}, "spec": pod}

    cron_spec: dict[str, Any] = {
        "schedule": spec.schedule,
        "timeZone": spec.timezone,
        "suspend": bool(spec.suspend),
        "concurrencyPolicy": spec.concurrencyPolicy,
    }
    if spec.startingDeadlineSeconds is not None:
        cron_spec["startingDeadlineSeconds"] = spec.startingDeadlineSeconds
    cron_spec["successfulJobsHistoryLimit"] = spec.successfulJobsHistoryLimit
    cron_spec["failedJobsHistoryLimit"] = spec.failedJobsHistoryLimit
    cron_spec["jobTemplate"] = {"metadata": {"labels": labels}, "spec": job_spec}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata, "spec": cron_spec}


def render(schedule: ScanSchedule, source: str = DEFAULT_SOURCE) -> str:
    """The manifest file text for one schedule, header included."""
    return schedule_header(source, [schedule]) + "\n" + yaml_emit.dump(cronjob(schedule), blank_line_between_top_keys=False)


def generate_files(schedules: Sequence[ScanSchedule], source: str) -> dict[str, str]:
    """`{deploy/kubernetes/jmo-<name>.yaml: text}` for each schedule."""
    return {path_for(s): render(s, source) for s in schedules}


class KubernetesCronJobGenerator(ScheduleGenerator):
    """`KubernetesCronJobGenerator().generate(schedule) -> str`: one CronJob manifest."""

    def _render(self, schedule: ScanSchedule, source: str) -> str:
        return render(schedule, source)

    def _path(self, schedule: ScanSchedule) -> str:
        return path_for(schedule)
