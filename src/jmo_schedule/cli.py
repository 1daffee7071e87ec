"""The `jmo-schedule` command: thin argument parsing over the Python API.

Exit codes: 0 success, 1 invalid input or failed operation, 2 usage error.
Errors a user can cause are printed as one line on stderr, never as a traceback.
"""
from __future__ import annotations

import os
import sys

from ._version import __version__

# Only names for annotations here: `jmo-schedule --version` imports this module and
# nothing else (argparse, datetime and typing are imported where they are used).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from datetime import datetime
    from typing import Any, Callable, Sequence

    from .manager import ScheduleManager
    from .model import ScanSchedule

PROG = "jmo-schedule"
DEFAULT_FILE = "schedules.yaml"

EPILOG = """\
examples:
  jmo-schedule validate -f schedules.yaml      check a committed file (exit 1 if invalid)
  jmo-schedule next weekly-scan --count 5       the next five runs of a stored schedule
  jmo-schedule next -f schedules.yaml           next runs of every schedule in a file
  jmo-schedule apply -f schedules.yaml          create or update them in the local store
  jmo-schedule list -l 'env=prod,team in (a,b)' stored schedules matching a label selector
  jmo-schedule suspend weekly-scan              stop a schedule without deleting it
  jmo-schedule sync -f schedules.yaml           regenerate every pipeline file it describes
  jmo-schedule sync --check                     pull-request check: exit 1 when files drifted
  jmo-schedule export weekly-scan > .gitlab-ci.yml
                                                one schedule's pipeline (guide's export)
  jmo-schedule trigger prod-backend-scan        run one scan now, on the schedule's own backend
  jmo-schedule install                          put local-cron schedules in your crontab

Each command explains itself: jmo-schedule COMMAND --help.

The local store is ~/.jmo/schedules.json ($JMO_HOME overrides the folder). Commands that
take -f FILE work on that file instead (comments and ordering are kept).
"""


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2
            self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    return _Parser


def _formatter_class() -> type[argparse.HelpFormatter]:
    import argparse

    class _Formatter(argparse.RawDescriptionHelpFormatter):
        # argparse builds a formatter for every add_argument, and without a width it
        # imports shutil (and with it bz2, lzma...) only to ask for the terminal size.
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            super().__init__(prog, indent_increment, max_help_position, width or _terminal_width())

    return _Formatter


def _terminal_width() -> int:
    """Like shutil.get_terminal_size().columns - 2: $COLUMNS, else the terminal, else 78."""
    try:
        return max(int(os.environ["COLUMNS"]) - 2, 20)
    except (KeyError, ValueError):
        pass
    try:
        return max(os.get_terminal_size(sys.__stdout__.fileno()).columns - 2, 20)  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 78


class UsageError(Exception):
    """Arguments that parse but do not make sense together: one line, exit 2."""


def parse_time(text: str) -> datetime:
    """ISO 8601 with an offset or Z; a bare time means UTC."""
    import argparse
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time such as 2026-03-08T07:00:00Z") from None
    if not 1970 <= moment.year <= 9000:
        raise argparse.ArgumentTypeError(f"{text!r} is outside the years 1970-9000")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is outside 1-1000")
    return value


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser. With `argv` naming a command, only that command's parser is built
    and only its module imported (start-up speed); otherwise every command is there, the
    extension commands listed from EXTENSIONS without importing their modules."""
    chosen = None if argv is None else _chosen_command(argv)
    known = {*CORE_COMMANDS, *(name for name, _, _ in EXTENSIONS)}
    only = chosen if chosen in known else None

    _Parser = _parser_class()
    formatter = _formatter_class()
    parser = _Parser(
        prog=PROG,
        description="Declare recurring security scans once in schedules.yaml; validate them, see when "
        "they run, keep them in the local store, and generate the CI pipelines that run them.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help: str, handler: Callable[[argparse.Namespace], int], description: str | None = None) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return _Ignored()  # type: ignore[return-value]
        p = sub.add_parser(name, help=help, description=description or help, formatter_class=formatter)
        p.set_defaults(handler=handler)
        return p

    def file_opt(p: argparse.ArgumentParser, help: str = "work on this YAML file instead of the local store") -> None:
        p.add_argument("-f", "--file", metavar="FILE", help=help)

    def now_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--now", type=parse_time, metavar="ISO8601", help="evaluate as of this time (default: now)")

    p = command(
        "validate", "check schedules files; exit 1 when any is invalid", cmd_validate,
        "Check committed schedules files: structure, every field, cron syntax, time zones, names,\n"
        "labels and secrets. Every problem is printed as FILE:LINE:COLUMN: FIELD: MESSAGE.\n\n"
        "examples:\n"
        "  jmo-schedule validate -f schedules.yaml\n"
        "  jmo-schedule validate --format github                  # in GitHub Actions\n"
        "  jmo-schedule validate --format codequality --output gl-code-quality.json   # GitLab MR widget\n"
        "  jmo-schedule validate --format json | jq .valid",
    )
    p.add_argument("-f", "--file", metavar="FILE", action="append", help=f"file to check (repeatable; default {DEFAULT_FILE})")
    p.add_argument("files", metavar="FILE", nargs="*", help="more files to check (as pre-commit passes them)")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only, no summary")
    p.add_argument(
        "--format", choices=("text", "github", "codequality", "json"), default="text",
        help="text (default); github: ::error annotations on stdout plus a table of every schedule "
        "in $GITHUB_STEP_SUMMARY; codequality: a GitLab Code Quality report; json",
    )
    p.add_argument(
        "--output", metavar="FILE",
        help="write the codequality/json report to FILE (github: the step summary; default $GITHUB_STEP_SUMMARY)",
    )
    now_opt(p)
    # hook (issue 16): schedule lint options
    p.add_argument("--strict", action="store_true", help="make every warning (lint included) an error: exit 1")
    p.add_argument("--explain", action="store_true", help="also print what each H in a cron resolved to, and why")

    p = command(
        "apply", "create or update the schedules of a file in the local store", cmd_apply,
        "Create each schedule of FILE in the local store, or bring the stored one in line with\n"
        "it (spec, labels, annotations), like kubectl apply. Prints created/configured/unchanged.\n"
        "A file with any error changes nothing. Exit 0 ok, 1 invalid file, 2 usage.\n\n"
        "example:\n  jmo-schedule apply -f schedules.yaml",
    )
    p.add_argument("-f", "--file", metavar="FILE", required=True, help="YAML or JSON file with ScanSchedule objects")

    p = command(
        "create", "create the schedules of a file in the local store (fails if one exists)", cmd_create,
        "Create each schedule of FILE in the local store; a name that is already stored is an\n"
        "error (use apply to update). Exit 0 ok, 1 invalid file or name taken, 2 usage.\n\n"
        "example:\n  jmo-schedule create -f schedules.yaml",
    )
    p.add_argument("-f", "--file", metavar="FILE", required=True, help="YAML or JSON file with ScanSchedule objects")

    p = command(
        "get", "print one schedule", cmd_get,
        "Print one schedule as YAML or JSON (webhook URLs masked). From the local store, or\n"
        "with -f from a file (status is not part of a file). Exit 0 found, 1 not found.\n\n"
        "examples:\n  jmo-schedule get weekly-scan\n  jmo-schedule get weekly-scan -o json | jq .status\n"
        "  jmo-schedule get nightly-scan -f schedules.yaml",
    )
    p.add_argument("name", metavar="NAME")
    file_opt(p)
    p.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format (default yaml)")

    p = command(
        "list", "list schedules", cmd_list,
        "List schedules with their next run in each schedule's own time zone.\n"
        "Columns: NAME SCHEDULE TIMEZONE BACKEND SUSPENDED NEXT RUN; -o wide adds PROFILE,\n"
        "CONCURRENCY, LABELS and a description. Exit 0 (also when none match), 1 bad selector.\n\n"
        "examples:\n  jmo-schedule list\n  jmo-schedule list -l 'environment=production,team in (backend,security)'\n"
        "  jmo-schedule list -f schedules.yaml -o wide\n  jmo-schedule list -o json",
    )
    file_opt(p)
    p.add_argument("-l", "--selector", metavar="SELECTOR", help="label selector, e.g. 'env=prod,tier!=web,team in (a,b),!legacy'")
    p.add_argument("-o", "--output", choices=("table", "wide", "json", "yaml"), default="table", help="output format (default table)")
    now_opt(p)

    p = command(
        "describe", "show a schedule in detail, with its next runs", cmd_describe,
        "Show one schedule in detail: metadata, spec in words, status conditions and the next\n"
        "three runs (local time and UTC). Exit 0 found, 1 not found.\n\n"
        "examples:\n  jmo-schedule describe weekly-scan\n  jmo-schedule describe nightly-scan -f schedules.yaml --now 2026-03-07T12:00:00Z",
    )
    p.add_argument("name", metavar="NAME")
    file_opt(p)
    now_opt(p)

    p = command(
        "delete", "delete a schedule", cmd_delete,
        "Delete one schedule from the local store (or with -f from a file, keeping its comments).\n"
        "Exit 0 deleted, 1 not found.\n\nexample:\n  jmo-schedule delete weekly-scan",
    )
    p.add_argument("name", metavar="NAME")
    file_opt(p)

    for verb, flag in (("suspend", True), ("resume", False)):
        p = command(
            verb, f"{verb} a schedule (spec.suspend: {str(flag).lower()})", cmd_suspend,
            f"Set spec.suspend: {str(flag).lower()} on one schedule (local store, or -f FILE keeping its\n"
            "comments). A suspended schedule keeps its definition but does not run.\n"
            f"Exit 0 done (or already so), 1 not found.\n\nexample:\n  jmo-schedule {verb} weekly-scan",
        )
        p.add_argument("name", metavar="NAME")
        p.set_defaults(suspend=flag)
        file_opt(p)

    p = command(
        "next", "print the next run times of a schedule", cmd_next,
        "Print the next run times, in the schedule's zone and in UTC, following the DST rules\n"
        "(a time skipped by spring-forward runs at the end of the gap; a repeated time runs once).\n"
        "NAME reads the local store; -f FILE reads a file (all its schedules, or NAME).\n"
        "Exit 0 ok, 1 not found or invalid file, 2 neither NAME nor -f given.\n\n"
        "examples:\n  jmo-schedule next weekly-scan --count 10\n  jmo-schedule next -f schedules.yaml\n"
        "  jmo-schedule next nightly-scan -f schedules.yaml --now 2026-03-07T12:00:00Z",
    )
    p.add_argument("name", metavar="NAME", nargs="?", help="schedule name (all schedules of -f FILE when omitted)")
    file_opt(p, "read schedules from this file")
    p.add_argument("-n", "--count", type=_positive, default=5, help="how many runs (default 5)")
    now_opt(p)

    _register_extensions(sub, command, chosen)
    return parser


CORE_COMMANDS = ("validate", "apply", "create", "get", "list", "describe", "delete", "suspend", "resume", "next")


class _Ignored:
    """Stands in for the parser of a command that is not the one being run."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


def _chosen_command(argv: Sequence[str]) -> str:
    """The command word of `argv` ("" when there is none, or when top-level --help comes first)."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return ""
        if not arg.startswith("-"):
            return arg
    return ""


def _register_extensions(sub: Any, command: Callable[..., argparse.ArgumentParser], chosen: str | None) -> None:
    """Commands that live in their own modules (each with add_arguments/run). When `chosen`
    is given, only that command's module is imported; the rest get a help-only entry."""
    import importlib
    import importlib.util

    for name, module, help in EXTENSIONS:
        full = f"{__package__}.commands.{module}"
        if chosen is not None and name != chosen:
            if importlib.util.find_spec(full) is not None:
                command(name, help, _not_loaded)
            continue
        try:
            mod = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
            continue  # a command not built yet
        p = command(name, help, _extension_handler(mod), getattr(mod, "DESCRIPTION", None))
        mod.add_arguments(p)


def _not_loaded(args: argparse.Namespace) -> int:  # pragma: no cover - main() always loads the chosen one
    raise UsageError(f"command {args.command!r} was not loaded")


# (command, module in jmo_schedule.commands, one-line help). Each module owns its command.
EXTENSIONS: list[tuple[str, str, str]] = [
    ("export", "export", "print one schedule's generated pipeline to stdout"),
    ("sync", "sync", "regenerate every pipeline file; --check reports drift"),
    ("convert", "convert", "turn scan results (SARIF) into GitLab SAST / Code Quality reports"),
    ("notify", "notify", "post the Slack success/failure message for a scan run"),
    ("guard", "guard", "decide whether a scheduled scan job runs (suspend, deadline, concurrency)"),
    ("run", "run", "what cron calls: the scan due now on this machine, as a CronJob controller would"),
    ("trigger", "trigger", "start one run now on the schedule's backend (run, dispatch, play or kubectl job)"),
    ("install", "install", "install schedules into the user's crontab or systemd timers"),
    ("uninstall", "uninstall", "remove installed crontab entries / systemd timers"),
    ("history", "history", "list the recorded local runs of a schedule"),
    ("gitlab-schedules", "gitlab_schedules", "create/update/remove GitLab pipeline schedules via the API"),
    ("prune", "prune", "delete old GitHub / GitLab runs beyond the schedules' history limits"),
    ("calendar", "calendar", "every run in a window, DST moves and collisions marked (text, json, ics)"),  # issue 16
]


def _extension_handler(mod: Any) -> Callable[[argparse.Namespace], int]:
    return lambda args: int(mod.run(args))


# ------------------------------------------------------------------------------------
# Helpers


def _manager(args: argparse.Namespace) -> ScheduleManager:
    from .manager import ScheduleManager

    return ScheduleManager(getattr(args, "file", None))


def _now(args: argparse.Namespace) -> datetime:
    from datetime import datetime, timezone

    return getattr(args, "now", None) or datetime.now(timezone.utc)


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def _show_warnings(problems: Sequence[Any]) -> None:
    for p in problems:
        _err(str(p))


def _load_for_store(path: str) -> list[ScanSchedule]:
    from .errors import ValidationError
    from .loader import check_file

    result = check_file(path, committed=False)
    _show_warnings(result.warnings)
    if result.errors:
        raise ValidationError(result.errors)
    return result.schedules


def hashed_note(spec: Any) -> str:
    """` (from 'H 2 * * *', hashed for github.com/acme/app)` for an H cron, else ``. Issue 16's hook."""
    from .hcron import current

    hashed = current(spec)
    return f" (from {hashed.template!r}, hashed for {hashed.identity})" if hashed else ""


def local_time(moment: datetime, zone: str) -> str:
    from .cron import get_zone

    local = moment.astimezone(get_zone(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


# ------------------------------------------------------------------------------------
# Commands


def cmd_validate(args: argparse.Namespace) -> int:
    from .errors import JmoError
    from .loader import check_file
    from . import validate_report as vr

    files = [*(args.file or []), *getattr(args, "files", [])] or [DEFAULT_FILE]
    fmt = getattr(args, "format", "text")
    reports: list[vr.FileReport] = []
    for path in files:
        try:
            report = vr.FileReport.from_result(check_file(path, committed=True))
        except JmoError as exc:
            if fmt == "text":
                raise
            report = vr.FileReport.unreadable(path, str(exc))  # machine formats report it too
        explained = _lint(report, args)  # hook (issue 16): schedule lint, --strict, --explain
        reports.append(report)
        if fmt in ("text", "github"):
            for problem in report.problems:
                _err(str(problem))
            for line in explained:
                _out(line)
            if not args.quiet:
                _out(vr.text_summary(report))
    failed = any(not r.valid for r in reports)
    if fmt == "github":
        # Workflow commands are read from stdout; the plain lines above went to stderr.
        sys.stdout.write(vr.github_annotations(reports, os.environ.get("GITHUB_WORKSPACE")))
        target = args.output or os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            try:
                with open(target, "a", encoding="utf-8") as fh:  # the runner's file: append
                    fh.write(vr.step_summary(reports, _now(args), os.environ.get("GITHUB_WORKSPACE")))
            except OSError as exc:
                raise JmoError(f"{target}: cannot write the step summary: {exc.strerror}") from None
    elif fmt in ("codequality", "json"):
        text = vr.codequality(reports, os.environ.get("CI_PROJECT_DIR")) if fmt == "codequality" else vr.json_report(reports)
        if args.output:
            from .store import atomic_write

            try:
                atomic_write(args.output, text, 0o644)
            except OSError as exc:
                raise JmoError(f"{args.output}: cannot write the report: {exc.strerror}") from None
            for r in reports:  # the report is in the file; the log gets the plain lines
                for problem in r.problems:
                    _err(str(problem))
                if not args.quiet:
                    _err(vr.text_summary(r))
        else:
            sys.stdout.write(text)
    return 1 if failed else 0


def _lint(report: Any, args: argparse.Namespace) -> list[str]:
    """Add the schedule lint to `report` (all warnings become errors with --strict); the
    --explain lines. Issue 16's hook into validate."""
    from . import lint

    if report.result is None:
        return []
    report.problems = sorted([*report.problems, *lint.lint(report.result, _now(args))],
                             key=lambda p: (p.line or 0, p.column or 0))
    if getattr(args, "strict", False):
        report.problems = lint.strict(report.problems)
    return lint.explanations(report.result) if getattr(args, "explain", False) else []


def cmd_apply(args: argparse.Namespace) -> int:
    from .manager import ScheduleManager

    manager = ScheduleManager()
    for schedule in _load_for_store(args.file):
        _out(f"scanschedule/{schedule.metadata.name} {manager.apply(schedule)}")
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    from .manager import ScheduleManager

    from .errors import AlreadyExistsError

    manager = ScheduleManager()
    schedules = _load_for_store(args.file)
    # All or nothing: a name already taken stops the command before anything is created.
    taken = [s.metadata.name for s in schedules if manager.get(s.metadata.name) is not None]
    if taken:
        raise AlreadyExistsError(
            f"{', '.join(repr(n) for n in taken)} already exist{'s' if len(taken) == 1 else ''} in "
            f"{manager.path}; nothing was created (use apply to update)"
        )
    for schedule in schedules:
        manager.create(schedule)
        _out(f"scanschedule/{schedule.metadata.name} created")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    from .masking import masked_schedule_dict

    schedule = _manager(args).require(args.name)
    data = masked_schedule_dict(schedule.to_dict(include_status=not args.file))
    _out(_render(data, args.output))
    return 0


def _render(data: Any, fmt: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(data, indent=2, ensure_ascii=False)
    from .yamltext import dump_yaml

    return dump_yaml(data)


def cmd_list(args: argparse.Namespace) -> int:
    from .masking import masked_schedule_dict

    manager = _manager(args)
    schedules = manager.list(selector=args.selector)
    if args.output in ("json", "yaml"):
        from .model import API_VERSION, LIST_KIND

        items = [masked_schedule_dict(s.to_dict(include_status=not args.file)) for s in schedules]
        _out(_render({"apiVersion": API_VERSION, "kind": LIST_KIND, "items": items}, args.output))
        return 0
    if not schedules:
        _err(f"no schedules{' match ' + repr(args.selector) if args.selector else ''} in {manager.path}")
        return 0
    now = _now(args)
    header = ["NAME", "SCHEDULE", "TIMEZONE", "BACKEND", "SUSPENDED", "NEXT RUN"]
    if args.output == "wide":
        header += ["PROFILE", "CONCURRENCY", "LABELS", "DESCRIPTION"]
    rows = [header]
    for s in schedules:
        row = [s.metadata.name, s.spec.schedule, s.spec.timezone, s.spec.backend.type,
               "yes" if s.spec.suspend else "no", _next_cell(s, now)]
        if args.output == "wide":
            from .cron import describe

            labels = ",".join(f"{k}={v}" for k, v in sorted(s.metadata.labels.items())) or "<none>"
            row += [s.spec.jobTemplate.profile, s.spec.concurrencyPolicy, labels, describe(s.spec.schedule, s.spec.timezone)]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        _out("   ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


def _next_cell(schedule: ScanSchedule, now: datetime) -> str:
    from .cron import next_runs

    if schedule.spec.suspend:
        return "-"
    runs = next_runs(schedule.spec.schedule, schedule.spec.timezone, now, 1)
    return local_time(runs[0], schedule.spec.timezone) if runs else "never"


def cmd_describe(args: argparse.Namespace) -> int:
    from .cron import describe, next_runs
    from .masking import mask_url

    s = _manager(args).require(args.name)
    spec, job, meta = s.spec, s.spec.jobTemplate, s.metadata
    now = _now(args)

    def kv(mapping: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in mapping.items()) or "<none>"

    lines = [
        f"Name:                 {meta.name}",
        f"Labels:               {kv(meta.labels)}",
        f"Annotations:          {kv(meta.annotations)}",
    ]
    if meta.uid:
        lines.append(f"UID:                  {meta.uid}")
    if meta.creationTimestamp:
        lines.append(f"Created:              {meta.creationTimestamp}")
    if meta.generation:
        lines.append(f"Generation:           {meta.generation}")
    lines += [
        f"Schedule:             {spec.schedule}{hashed_note(spec)}",  # hook (issue 16)
        f"Description:          {describe(spec.schedule, spec.timezone)}",
        f"Timezone:             {spec.timezone}",
        f"Suspend:              {str(spec.suspend).lower()}",
        f"Concurrency Policy:   {spec.concurrencyPolicy}",
        f"Starting Deadline:    {f'{spec.startingDeadlineSeconds}s' if spec.startingDeadlineSeconds is not None else '<unset>'}",
        f"History Limits:       {spec.successfulJobsHistoryLimit} successful, {spec.failedJobsHistoryLimit} failed",
        f"Backend:              {spec.backend.type}{' ' + kv(spec.backend.config) if spec.backend.config else ''}",
        f"Profile:              {job.profile}",
        f"Targets:              {kv(job.targets)}",
        f"Results:              {job.results.get('dir', 'results')}",
        f"Options:              {kv(job.options)}",
    ]
    notif = job.notifications or {}
    channels = notif.get("channels") or []
    if channels:
        enabled = "enabled" if notif.get("enabled", True) else "disabled"
        shown = ", ".join(f"{c.get('type')} {mask_url(str(c.get('url', '')))}" for c in channels)
        lines.append(f"Notifications:        {enabled}: {shown}")
    else:
        lines.append("Notifications:        <none>")
    st = s.status
    if not args.file:
        lines.append("Status:")
        for c in st.conditions:
            lines.append(f"  {c.type}={c.status}  {c.reason}: {c.message} (since {c.lastTransitionTime})")
        lines.append(f"  Last Schedule:      {st.lastScheduleTime or '<never>'}")
        lines.append(f"  Last Successful:    {st.lastSuccessfulTime or '<never>'}")
        lines.append(f"  Active/Succeeded/Failed: {st.active}/{st.succeeded}/{st.failed}")
    if spec.suspend:
        lines.append("Next Runs:            <suspended>")
    else:
        lines.append("Next Runs:")
        for run in next_runs(spec.schedule, spec.timezone, now, 3):
            lines.append(f"  {local_time(run, spec.timezone)}  ({run:%Y-%m-%dT%H:%M:%SZ})")
    _out("\n".join(lines))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from .errors import NotFoundError

    manager = _manager(args)
    if not manager.delete(args.name):
        raise NotFoundError(f"schedule {args.name!r} not found in {manager.path}")
    _out(f"scanschedule/{args.name} deleted")
    return 0


def cmd_suspend(args: argparse.Namespace) -> int:
    manager = _manager(args)
    schedule = manager.require(args.name)
    verb = "suspended" if args.suspend else "resumed"
    if schedule.spec.suspend == args.suspend:
        _out(f"scanschedule/{args.name} already {'suspended' if args.suspend else 'active'}")
        return 0
    schedule.spec.suspend = args.suspend
    manager.update(schedule)
    _out(f"scanschedule/{args.name} {verb}")
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    from .cron import describe, next_runs
    from .errors import NotFoundError

    if args.file:
        from .loader import load_file

        schedules = load_file(args.file)
        if args.name:
            schedules = [s for s in schedules if s.metadata.name == args.name]
            if not schedules:
                raise NotFoundError(f"schedule {args.name!r} not found in {args.file}")
    elif args.name:
        from .manager import ScheduleManager

        schedules = [ScheduleManager().require(args.name)]
    else:
        raise UsageError("name a schedule (jmo-schedule next NAME) or a file (jmo-schedule next -f FILE)")
    now = _now(args)
    blocks = []
    for s in schedules:
        spec = s.spec
        lines = [f"{s.metadata.name}: {spec.schedule}{hashed_note(spec)}  {describe(spec.schedule, spec.timezone)}"]
        if spec.suspend:
            lines.append("  suspended: no runs")
        else:
            for run in next_runs(spec.schedule, spec.timezone, now, args.count):
                lines.append(f"  {local_time(run, spec.timezone):<24} {run:%Y-%m-%dT%H:%M:%SZ}")
        blocks.append("\n".join(lines))
    _out("\n".join(blocks))
    return 0


# ------------------------------------------------------------------------------------


def _warning_line(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    sys.stderr.write(f"{PROG}: warning: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # answered before building the parser: CI calls it a lot
        _out(f"{PROG} {__version__}")
        return 0
    import warnings

    parser = build_parser(argv)
    args = parser.parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _warning_line
    try:
        from .errors import JmoError, ValidationError

        try:
            return int(args.handler(args))
        except ValidationError as exc:
            for p in exc.problems:
                _err(str(p))
            return 1
        except UsageError as exc:
            _err(f"{PROG} {args.command}: error: {exc} (see '{PROG} {args.command} --help')")
            return 2
        except JmoError as exc:
            _err(f"{PROG}: error: {exc}")
            return 1
        except KeyboardInterrupt:
            _err(f"{PROG}: interrupted")
            return 130
        except BrokenPipeError:
            # Output piped into a pager/head that closed early: not an error worth a trace.
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            except OSError:
                pass
            return 0
    finally:
        warnings.showwarning = previous


def entry() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
