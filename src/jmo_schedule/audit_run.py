"""One audit of many schedules: a client per platform made once from the environment,
each schedule's backend asked (audit_sources.py) and accounted for (audit.py). A backend
that cannot be asked (no token, no kubectl) makes its schedules Unknown with one line
that says what to set; the others are still audited."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .core.model import ScanSchedule
from .errors import ApiError, JmoError
from .local import crontab, history
from .pipeline import audit, audit_sources
from .pipeline.audit import Audit, Observed
from .platforms.github import GitHub, api_url, token_from
from .platforms.gitlab import GitLab


@dataclass(frozen=True)
class Options:
    now: datetime
    since: datetime
    grace: timedelta = audit.DEFAULT_GRACE
    late: timedelta = audit.DEFAULT_LATE
    fix: bool = False
    from_json: str | None = None
    repository: str | None = None
    project: str | None = None
    inspect: int = audit_sources.INSPECT_LIMIT
    gitlab_token_variable: str = "JMO_GITLAB_TOKEN"


Collector = Callable[[ScanSchedule], Observed]


def audit_all(schedules: Sequence[ScanSchedule], options: Options, env: Mapping[str, str]) -> list[Audit]:
    """The account of each schedule, in the order given."""
    collectors: dict[str, Collector] = {}
    out: list[Audit] = []
    for schedule in schedules:
        backend = schedule.spec.backend.type
        if backend not in collectors:
            collectors[backend] = _collector(backend, [s for s in schedules if s.spec.backend.type == backend],
                                             options, env)
        observed = collectors[backend](schedule)
        out.append(audit.account(
            name=schedule.name, backend=backend, schedule=schedule.spec.schedule, tz=schedule.spec.timezone,
            suspended=bool(schedule.spec.suspend), observed=observed, now=options.now, since=options.since,
            grace=options.grace, late=options.late))
    return out


def _unknown(message: str) -> Collector:
    return lambda schedule: Observed(unknown=message)


def _collector(backend: str, schedules: list[ScanSchedule], options: Options, env: Mapping[str, str]) -> Collector:
    try:
        if backend == "github-actions":
            return _github(options, env)
        if backend == "gitlab-ci":
            return _gitlab(options, env)
        if backend == "kubernetes":
            return _kubernetes(schedules, options)
        return _local()
    except (JmoError, ApiError) as exc:
        return _unknown(str(exc))


def _github(options: Options, env: Mapping[str, str]) -> Collector:
    variable, token = token_from(env)
    if not token:
        return _unknown("no GitHub token in $GITHUB_TOKEN (or $GH_TOKEN): set it to a token with actions: read "
                        "on the repository")
    repository = options.repository or env.get("GITHUB_REPOSITORY", "")
    client = GitHub(api_url(env), repository, token, token_variable=variable)
    client.repo_url  # a missing repository is one line for every GitHub schedule
    return lambda s: audit_sources.github(s, client, start=options.since, fix=options.fix, inspect=options.inspect)


def _gitlab(options: Options, env: Mapping[str, str]) -> Collector:
    variable = options.gitlab_token_variable
    token = (env.get(variable) or "").strip()
    if not token:
        return _unknown(f"no GitLab token in ${variable}: set it to a token with read_api (api to --fix) on the "
                        "project")
    client = GitLab(env.get("CI_API_V4_URL", ""), options.project or env.get("CI_PROJECT_ID", ""), token,
                    token_variable=variable,
                    hints={403: f"the token in ${variable} needs read_api and at least the Reporter role on the "
                                "project"})
    listed: list[dict[str, Any]] = client.list_schedules()
    return lambda s: audit_sources.gitlab(s, client, listed, start=options.since, fix=options.fix,
                                          inspect=options.inspect)


def _kubernetes(schedules: list[ScanSchedule], options: Options) -> Collector:
    if options.from_json:
        try:
            with open(options.from_json, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise JmoError(f"{options.from_json}: cannot read: {exc.strerror}") from None
        cronjobs = audit_sources.load_cronjobs(text, options.from_json)
    else:
        namespaces = [(s.spec.backend.config or {}).get("namespace") or None for s in schedules]
        cronjobs = audit_sources.cronjobs_from_kubectl(namespaces)
    return lambda s: audit_sources.kubernetes(s, cronjobs)


def _local() -> Collector:
    installed = local_installed()
    daemon = crontab.cron_daemon()
    manager = None

    def collect(schedule: ScanSchedule) -> Observed:
        nonlocal manager
        where = installed.get(schedule.name)
        runner = None
        if where == "crontab" and daemon == "":
            runner = ("no cron daemon is running on this machine (cron, crond, cronie, fcron): start it "
                      "(sudo systemctl start cron) or install with --systemd")
        elif where == "systemd":
            manager = manager if manager is not None else (crontab.user_manager_state() or "")
            if not manager:
                runner = ("the systemd user manager is not running, so the timers do not fire: "
                          "loginctl enable-linger USER")
        try:
            record = history.read(schedule.name)
        except JmoError as exc:  # a damaged history: this schedule is Unknown, the rest go on
            return Observed(unknown=str(exc))
        return audit_sources.local(schedule, record, installed=where, runner=runner)

    return collect


def local_installed() -> dict[str, str]:
    """{schedule name: "crontab" | "systemd"} for the entries installed on this machine."""


    out: dict[str, str] = {}
    folder = crontab.systemd_user_dir()
    try:
        timers = [f for f in os.listdir(folder) if f.startswith("jmo-") and f.endswith(".timer")]
    except OSError:
        timers = []
    for name in timers:
        out[name[len("jmo-"):-len(".timer")]] = "systemd"
    try:
        table = crontab.Crontab.parse(crontab.read_crontab())
    except JmoError:
        return out
    for name in table.entries:  # a suspended schedule's lines are commented out: installed all the same
        out[name] = "crontab"
    return out
