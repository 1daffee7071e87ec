"""`jmo-schedule get`: print one schedule."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.masking import masked_schedule_dict
from ..printable import json_printable
from ..core.yamltext import dump_yaml
from ..local.resolve import schedules
from .options import add_file

DESCRIPTION = """\
Print one schedule as YAML or JSON (webhook URLs masked). From the local store, or
with -f from a file (status is not part of a file). Exit 0 found, 1 not found.

examples:
  jmo-schedule get weekly-scan
  jmo-schedule get weekly-scan -o json | jq .status
  jmo-schedule get nightly-scan -f schedules.yaml"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    add_file(parser)
    parser.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format (default yaml)")


def render(data: Any, fmt: str) -> str:
    """`data` as JSON (indented) or YAML, ending with a newline."""
    if fmt == "json":
        return json_printable(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    text = dump_yaml(data)
    return text if text.endswith("\n") else text + "\n"


def run(args: argparse.Namespace) -> int:
    schedule = schedules(args.file).require(args.name)
    sys.stdout.write(render(masked_schedule_dict(schedule.to_dict(include_status=not args.file)), args.output))
    return 0
