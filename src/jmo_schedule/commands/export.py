"""`jmo-schedule export`: print one schedule's generated pipeline to stdout."""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import JmoError
from ..generators import BACKEND_MODULES, backend_module
from ..local.resolve import DEFAULT_FILE, find


BACKENDS = ("github-actions", "gitlab-ci", "kubernetes", "local-cron")

DESCRIPTION = """\
Print one schedule's pipeline, exactly as `sync` would generate it, to stdout.

Where NAME is looked up: -f FILE when given; else ./schedules.yaml when it exists and
holds NAME; else the local store (~/.jmo/schedules.json). The output names its source
file in the header and in the guard/notify steps (which read the schedule at run time),
so a schedule exported from the local store must also be committed to schedules.yaml.

--backend prints the pipeline for another backend than the schedule's own
(backend.config applies only to the schedule's own backend). gitlab-ci prints a complete,
standalone .gitlab-ci.yml for this one schedule; webhook URLs are never printed (a channel
with a literal URL is read from the SLACK_WEBHOOK_URL secret instead).

examples:
  jmo-schedule export weekly-scan > .gitlab-ci.yml
  jmo-schedule export weekly-scan --backend github-actions > .github/workflows/jmo-weekly-scan.yml
  jmo-schedule export nightly -f ci/schedules.yaml --backend kubernetes | kubectl apply -f -
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the schedule to export")
    parser.add_argument(
        "-f", "--file", metavar="FILE",
        help=f"schedules file (default: ./{DEFAULT_FILE} when it holds NAME, else the local store)",
    )
    parser.add_argument("--backend", choices=BACKENDS, help="backend to generate for (default: the schedule's own)")


def _source_path(file: str) -> str:
    rel = os.path.relpath(file) if os.path.isabs(file) else os.path.normpath(file)
    return rel.replace(os.sep, "/")


def run(args: argparse.Namespace) -> int:
    schedule, file = find(args.name, args.file, repository=True)
    # The output names its source file (header, and the steps that read it at run time).
    source = _source_path(file) if file else DEFAULT_FILE
    backend = args.backend or schedule.spec.backend.type
    module = backend_module(backend)
    if module is None:
        raise JmoError(f"the {backend} generator is not available in this version")
    generator_class = getattr(module, BACKEND_MODULES[backend][1])
    try:
        generator = generator_class(source)
    except TypeError:  # a generator whose output does not name its source file
        generator = generator_class()
    try:
        text = generator.generate(schedule)
    except ValueError as exc:
        raise JmoError(str(exc)) from None
    sys.stdout.write(text)
    return 0
