"""What several commands share on their command line: the program name, the default
schedules file, and argument types that turn bad values into one-line usage errors."""
from __future__ import annotations

import argparse
from datetime import datetime

from .._version import PROG
from ..core.check import DEFAULT_FILE
from ..core.timefmt import parse_cli_time

__all__ = ["PROG", "DEFAULT_FILE", "MAX_COUNT", "iso_time", "count", "add_now", "add_file"]
MAX_COUNT = 1000


def iso_time(text: str) -> datetime:
    """argparse type for --now: ISO 8601 with an offset or Z; a bare time means UTC."""
    try:
        return parse_cli_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def count(text: str) -> int:
    """argparse type for -n/--count: a whole number from 1 to MAX_COUNT, in ASCII digits
    (int() also reads '٣', '1_0' and ' 3 ', and refuses more than 4300 digits)."""
    shown = text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{shown!r} is not a whole number")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_COUNT)) or not 1 <= int(digits) <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{shown} is outside 1-{MAX_COUNT}")
    return int(digits)


def add_now(parser: argparse.ArgumentParser, help: str = "evaluate as of this time (default: now)") -> None:
    parser.add_argument("--now", type=iso_time, metavar="ISO8601", help=help)


def add_file(parser: argparse.ArgumentParser,
             help: str = "work on this committed file (YAML or JSON) instead of the local store") -> None:
    parser.add_argument("-f", "--file", metavar="FILE", help=help)
