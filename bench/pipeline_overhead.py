"""What the generated pipelines cost around the scanner, per backend: jobs, image starts and
jmo-schedule installs per scheduled run and per pull/merge-request check, and the wall time
act (GitHub) and gitlab-ci-local (GitLab) add around a stub scanner.

Usage:
  python bench/pipeline_overhead.py                       # this checkout, both backends
  python bench/pipeline_overhead.py --before /tmp/before  # and another checkout beside it
  python bench/pipeline_overhead.py --backend gitlab      # one backend

`--before DIR` takes any checkout of jmo-schedule (e.g. `git worktree add --detach
/tmp/before <rev>`), so one run prints BEFORE and AFTER. The two halves live in
bench/overhead_github.py and bench/overhead_gitlab.py, each runnable on its own.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import overhead_github  # noqa: E402  (beside this file)
import overhead_gitlab  # noqa: E402


def _gitlab_report(repo: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        overhead_gitlab.main(["--repo", repo])
    return out.getvalue().rstrip("\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(HERE.parent), help="checkout to measure (default: this one)")
    parser.add_argument("--before", metavar="DIR", help="also measure this checkout, printed first as BEFORE")
    parser.add_argument("--backend", choices=("github", "gitlab", "both"), default="both")
    args = parser.parse_args(argv)
    runs = ([("BEFORE", args.before)] if args.before else []) + [("AFTER" if args.before else "THIS", args.repo)]
    for label, repo in runs:
        print(f"== {label}: {Path(repo).resolve()}")
        if args.backend in ("github", "both"):
            print(overhead_github.report(overhead_github.measure(repo)))
        if args.backend in ("gitlab", "both"):
            print(_gitlab_report(repo))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
