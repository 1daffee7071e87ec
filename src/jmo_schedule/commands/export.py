"""`jmo-schedule export`: print one schedule's generated pipeline to stdout."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI starts without importing the model
    from ..core.model import ScanSchedule

DEFAULT_FILE = "schedules.yaml"
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


def find_schedule(name: str, path: str | None) -> tuple[ScanSchedule, str]:
    """The schedule named `name` and the source path to write in the output (see DESCRIPTION).

    Raises NotFoundError (a JmoError) when it is in none of the places looked at.
    """
    schedule, file = locate(name, path)
    return schedule, _source_path(file) if file else DEFAULT_FILE


def locate(name: str, path: str | None) -> tuple[ScanSchedule, str | None]:
    """The schedule named `name` from `path`, else ./schedules.yaml when it holds `name`, else
    the local store; and the file it came from (None: the local store)."""
    import os

    from ..errors import NotFoundError
    from ..core.loader import load_file

    if path is not None or os.path.isfile(DEFAULT_FILE):
        file = path or DEFAULT_FILE
        for schedule in load_file(file):
            if schedule.metadata.name == name:
                return schedule, file
        if path is not None:
            raise NotFoundError(f"schedule {name!r} not found in {path}")
    from ..manager import ScheduleManager

    stored = ScheduleManager().get(name)
    if stored is None:
        where = f"./{DEFAULT_FILE} or the local store" if os.path.isfile(DEFAULT_FILE) else "the local store"
        raise NotFoundError(f"schedule {name!r} not found in {where}")
    return stored, None


def _source_path(file: str) -> str:
    import os

    rel = os.path.relpath(file) if os.path.isabs(file) else os.path.normpath(file)
    return rel.replace(os.sep, "/")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..errors import JmoError
    from ..generators import BACKEND_MODULES, backend_module

    schedule, source = find_schedule(args.name, args.file)
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
