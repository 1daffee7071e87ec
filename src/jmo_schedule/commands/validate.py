"""`jmo-schedule validate`: check committed schedules files; exit 1 when any is invalid.

On the path of every pull request: it imports the core (loading, validation, cron) and the
reporter, nothing that talks HTTP or generates pipelines.
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from ..core import lint
from ..core.check import check_file
from ..core.files import atomic_write, jmo_home
from ..errors import JmoError
from ..pipeline import validate_report as vr
from .options import DEFAULT_FILE, add_now

DESCRIPTION = """\
Check committed schedules files: structure, every field, cron syntax, time zones, names,
labels and secrets. Every problem is printed as FILE:LINE:COLUMN: FIELD: MESSAGE.
The schedule lint adds warnings about valid schedules that will hurt once they run
(round minutes, same-minute collisions, no deadline on kubernetes, scans longer than the
gap between runs); --strict makes every warning an error.

examples:
  jmo-schedule validate -f schedules.yaml
  jmo-schedule validate --strict --explain               # warnings fail; what each H became
  jmo-schedule validate --format github                  # in GitHub Actions
  jmo-schedule validate --format codequality --output gl-code-quality.json   # GitLab MR widget
  jmo-schedule validate --format json | jq .valid"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", metavar="FILE", action="append",
                        help=f"file to check (repeatable; default {DEFAULT_FILE})")
    parser.add_argument("files", metavar="FILE", nargs="*", help="more files to check (as pre-commit passes them)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only, no summary")
    parser.add_argument(
        "--format", choices=("text", "github", "codequality", "json"), default="text",
        help="text (default); github: ::error annotations on stdout plus a table of every schedule "
        "in $GITHUB_STEP_SUMMARY; codequality: a GitLab Code Quality report; json",
    )
    parser.add_argument(
        "--output", metavar="FILE",
        help="write the codequality/json report to FILE (github: the step summary; default $GITHUB_STEP_SUMMARY)",
    )
    add_now(parser)
    # hook (issue 16): schedule lint options
    parser.add_argument("--strict", action="store_true", help="make every warning (lint included) an error: exit 1")
    parser.add_argument("--explain", action="store_true", help="also print what each H in a cron resolved to, and why")


def recorded_runs(name: str) -> list[dict] | None:
    """The recorded local runs of schedule `name` ($JMO_HOME/runs/NAME.json), None without any."""
    if not os.path.isfile(os.path.join(jmo_home(), "runs", f"{name}.json")):
        return None
    from ..local import history  # only when a history exists: `validate` start-up time

    try:
        return list(history.read(name)["runs"])
    except JmoError:
        return None


def _lint(report: vr.FileReport, args: argparse.Namespace) -> list[str]:
    """Add the schedule lint to `report` (every warning an error with --strict); the
    --explain lines. Issue 16's hook into validate."""
    if report.result is None:
        return []
    now = args.now or datetime.now(timezone.utc)
    report.problems = sorted([*report.problems, *lint.lint(report.result, now, runs=recorded_runs)],
                             key=lambda p: (p.line or 0, p.column or 0))
    if args.strict:
        report.problems = lint.strict(report.problems)
    return lint.explanations(report.result) if args.explain else []


def run(args: argparse.Namespace) -> int:
    files = [*(args.file or []), *args.files] or [DEFAULT_FILE]
    fmt = args.format
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
                sys.stderr.write(f"{problem}\n")
            for line in explained:
                sys.stdout.write(line + "\n")
            if not args.quiet:
                sys.stdout.write(vr.text_summary(report) + "\n")
    failed = any(not r.valid for r in reports)
    if fmt == "github":
        # Workflow commands are read from stdout; the plain lines above went to stderr.
        workspace = os.environ.get("GITHUB_WORKSPACE")
        sys.stdout.write(vr.github_annotations(reports, workspace))
        target = args.output or os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            now = args.now or datetime.now(timezone.utc)
            try:
                with open(target, "a", encoding="utf-8") as fh:  # the runner's file: append
                    fh.write(vr.step_summary(reports, now, workspace))
            except OSError as exc:
                raise JmoError(f"{target}: cannot write the step summary: {exc.strerror}") from None
    elif fmt in ("codequality", "json"):
        text = vr.codequality(reports, os.environ.get("CI_PROJECT_DIR")) if fmt == "codequality" else vr.json_report(reports)
        if args.output:
            atomic_write(args.output, text, 0o644)  # a failure is one line naming the file
            for r in reports:  # the report is in the file; the log gets the plain lines
                for problem in r.problems:
                    sys.stderr.write(f"{problem}\n")
                if not args.quiet:
                    sys.stderr.write(vr.text_summary(r) + "\n")
        else:
            sys.stdout.write(text)
    return 1 if failed else 0
