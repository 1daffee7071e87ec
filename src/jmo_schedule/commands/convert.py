"""`jmo-schedule convert`: scan results to GitLab's SAST / Code Quality report files."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from ..core.files import atomic_write
from ..pipeline.findings import find_results_file, load_findings
from ..pipeline.gitlab_reports import to_codequality, to_sast

DESCRIPTION = """\
Convert a scan's findings (results/summaries/findings.json, else findings.sarif) into a
report GitLab shows in merge requests and the security dashboard. GitLab does not read
SARIF in `reports: sast:`; this writes its own security-report format (schema 15.2.1).

  --to gitlab-sast         GitLab SAST report        (artifacts: reports: sast:)
  --to gitlab-codequality  GitLab Code Quality report (artifacts: reports: codequality:)

examples:
  jmo-schedule convert --to gitlab-sast --results results -o gl-sast-report.json
  jmo-schedule convert --to gitlab-codequality --results results -o gl-code-quality-report.json
  jmo-schedule convert --to gitlab-sast --results results/summaries/findings.sarif   # to stdout
"""

FORMATS = ("gitlab-sast", "gitlab-codequality")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, choices=FORMATS, help="report format to write")
    parser.add_argument(
        "--results", default="results", metavar="DIR",
        help="results folder (or its summaries folder, or one findings file); default: results",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")


def run(args: argparse.Namespace) -> int:
    findings = load_findings(args.results)
    if args.to == "gitlab-sast":
        path = find_results_file(args.results)
        end = datetime.now(timezone.utc)
        # The findings file was written when the report step finished; the scan ran before it.
        start = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) if path else end
        doc: object = to_sast(findings, start_time=min(start, end), end_time=end)
    else:
        doc = to_codequality(findings)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        atomic_write(args.output, text, mode=0o644)
    else:
        sys.stdout.write(text)
    return 0
