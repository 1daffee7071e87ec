"""CLI commands that live in their own modules.

Each module defines `DESCRIPTION` (optional), `add_arguments(parser)` and `run(args) -> int`.
Keep module top levels light (argparse only): heavy imports go inside `run`, so
`jmo-schedule --version` and the in-pipeline commands start fast.
"""
