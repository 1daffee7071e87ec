"""Reporting `validate` results for CI systems: GitHub annotations and step summary,
GitLab Code Quality, and plain JSON.

Reading and checking live in core/check.py; this module only turns results into text,
so every function here is pure: the caller passes the clock (`now`) for next-run times.
It is on the path of every pull request: the json, hashlib and cron descriptions of the
machine formats are imported by the function that writes them, never for plain text.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from ..core.check import CheckedFile
from ..core.cron import describe, next_runs
from ..core.rules import DEFAULT_BACKEND, SPEC_DEFAULTS
from ..core.timefmt import local_time
from ..errors import Problem
from .workflow_commands import escape_data, escape_property

FORMATS = ("text", "github", "codequality", "json")

# GitHub shows at most 10 errors and 10 warnings per step as annotations; everything
# beyond that is still printed to the log, so nothing is lost.
GITHUB_ANNOTATION_LIMIT = 10
# $GITHUB_STEP_SUMMARY holds at most 1 MiB per step; stay well inside it.
SUMMARY_BUDGET = 512 * 1024

CODEQUALITY_SEVERITY = {"error": "major", "warning": "minor"}
CHECK_NAME = "jmo-schedule-validate"


class FileReport:
    """What validating one file found: its result, or the one-line reason it could not be read."""

    __slots__ = ("file", "result", "read_error", "problems")

    def __init__(self, file: str, result: CheckedFile | None = None, read_error: str | None = None,
                 problems: list[Problem] | None = None) -> None:
        self.file = file
        self.result = result
        self.read_error = read_error
        self.problems: list[Problem] = [] if problems is None else problems

    @classmethod
    def from_result(cls, result: CheckedFile) -> FileReport:
        return cls(result.file, result, None, list(result.problems))

    @classmethod
    def unreadable(cls, file: str, message: str) -> FileReport:
        # JmoError messages already start with the file name ("x.yaml: no such file").
        text = message[len(file) + 2:] if message.startswith(f"{file}: ") else message
        return cls(file, None, message, [Problem(file, None, None, "", text)])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def valid(self) -> bool:
        return not self.errors


# ----------------------------------------------------------------------------------
# GitHub workflow commands


def repo_path(file: str, root: str | None) -> str:
    """`file` relative to the repository root when it lies inside it (annotations and
    Code Quality locations are repository paths); otherwise unchanged."""
    if not root or not os.path.isabs(file):
        return file
    rel = os.path.relpath(file, root)
    return file if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel.replace(os.sep, "/")


def github_annotation(problem: Problem, root: str | None = None) -> str:
    """`::error file=F,line=L,col=C,title=T::message` (or ::warning) for one problem;
    `root` ($GITHUB_WORKSPACE) makes an absolute file path repository-relative."""
    kind = "warning" if problem.severity == "warning" else "error"
    props = [f"file={escape_property(repo_path(problem.file, root))}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.column is not None:
            props.append(f"col={problem.column}")
    title = f"jmo-schedule: {problem.path}" if problem.path else "jmo-schedule"
    props.append(f"title={escape_property(title)}")
    return f"::{kind} {','.join(props)}::{escape_data(problem.message)}"


def github_annotations(reports: Sequence[FileReport], root: str | None = None) -> str:
    """Every problem as an annotation line, errors first (the runner shows the first 10)."""
    problems = [p for r in reports for p in r.problems]
    ordered = [p for p in problems if p.severity == "error"] + [p for p in problems if p.severity != "error"]
    return "".join(github_annotation(p, root) + "\n" for p in ordered)


def _cell(text: str) -> str:
    # A table cell is one line; a pipe would end it early.
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")


def step_summary(reports: Sequence[FileReport], now: datetime, root: str | None = None) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: every valid schedule (cron, zone, description,
    next three runs, backend, suspended), then every problem (paths relative to `root`)."""
    lines = ["## jmo-schedule validate", ""]
    n_errors = sum(len(r.errors) for r in reports)
    n_schedules = sum(len(r.result.items) for r in reports if r.result)
    verdict = "valid" if not n_errors else f"{n_errors} error{'s' if n_errors != 1 else ''}"
    files = ", ".join(f"`{_cell(repo_path(r.file, root))}`" for r in reports)
    lines.append(f"{files}: {n_schedules} schedule{'s' if n_schedules != 1 else ''}, {verdict}.")
    lines.append("")
    rows = []
    for report in reports:
        for item in report.result.items if report.result else []:
            spec = {**SPEC_DEFAULTS, **item.data["spec"]}
            cron, zone, suspend = spec["schedule"], spec["timezone"], spec["suspend"]
            backend = (spec.get("backend") or {}).get("type", DEFAULT_BACKEND)
            try:
                runs = [] if suspend else next_runs(cron, zone, now, 3)
                text = describe(cron, zone)
            except ValueError:  # validated already; never let the summary break the step
                runs, text = [], ""
            shown = "<br>".join(local_time(r, zone) for r in runs) or ("suspended" if suspend else "never")
            rows.append(
                f"| `{_cell(item.name)}` | `{_cell(cron)}` | {_cell(zone)} | {_cell(text)} "
                f"| {shown} | {_cell(backend)} | {'yes' if suspend else 'no'} |"
            )
    if rows:
        lines += [
            "| Name | Cron | Zone | Description | Next three runs | Backend | Suspended |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    problems = [p for r in reports for p in r.problems]
    if problems:
        lines += ["| Where | Field | Problem |", "|---|---|---|"]
        for p in problems:
            where = repo_path(p.file, root) + (f":{p.line}" if p.line is not None else "") + (f":{p.column}" if p.line is not None and p.column is not None else "")
            prefix = "warning: " if p.severity == "warning" else ""
            lines.append(f"| `{_cell(where)}` | {_cell(p.path) or '-'} | {_cell(prefix + p.message)} |")
        lines.append("")
    text = "\n".join(lines).rstrip("\n") + "\n\n"
    if len(text.encode()) > SUMMARY_BUDGET:
        cut = text.encode()[:SUMMARY_BUDGET].decode(errors="ignore")
        text = cut[: cut.rfind("\n")] + "\n\n(summary truncated; the step log has every problem)\n"
    return text


# ----------------------------------------------------------------------------------
# GitLab Code Quality and JSON


def fingerprint(problem: Problem) -> str:
    """Stable across runs and unrelated edits: file, field path and message, not the line."""
    key = "\0".join((problem.file, problem.path, problem.message, problem.severity))
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def codequality(reports: Sequence[FileReport], root: str | None = None) -> str:
    """A GitLab Code Quality report: a JSON array (empty when every file is valid);
    `root` ($CI_PROJECT_DIR) makes absolute paths repository-relative."""
    issues = []
    seen: set[str] = set()
    for p in (p for r in reports for p in r.problems):
        fp = fingerprint(p)
        if fp in seen:  # GitLab drops duplicate fingerprints; keep the first
            continue
        seen.add(fp)
        field_text = f"{p.path}: " if p.path else ""
        issues.append({
            "description": f"{field_text}{p.message}",
            "check_name": CHECK_NAME,
            "fingerprint": fp,
            "severity": CODEQUALITY_SEVERITY.get(p.severity, "major"),
            "location": {"path": repo_path(p.file, root), "lines": {"begin": p.line or 1}},
        })
    import json

    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def json_report(reports: Sequence[FileReport]) -> str:
    """Machine-readable results: per file, the schedules found and every problem."""
    files = []
    for r in reports:
        files.append({
            "file": r.file,
            "valid": r.valid,
            "schedules": [i.name for i in r.result.items] if r.result else [],
            "problems": [
                {"file": p.file, "line": p.line, "column": p.column, "path": p.path,
                 "message": p.message, "severity": p.severity}
                for p in r.problems
            ],
        })
    import json

    return json.dumps({"valid": all(r.valid for r in reports), "files": files}, indent=2, ensure_ascii=False) + "\n"


def text_summary(report: FileReport) -> str:
    """The one-line verdict `validate` prints per file."""
    if report.errors:
        n = len(report.errors)
        return f"{report.file}: {n} error{'s' if n != 1 else ''}"
    n = len(report.result.items) if report.result else 0
    return f"{report.file}: {n} schedule{'s' if n != 1 else ''}, valid"
