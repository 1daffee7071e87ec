"""`jmo-schedule resume`: set spec.suspend: false on one schedule."""
from __future__ import annotations

import argparse

from .suspend import add_arguments, description, set_suspend

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = description("resume")


def run(args: argparse.Namespace) -> int:
    return set_suspend(args.name, args.file, False)
