"""The `jmo-schedule` command: it parses the command line and hands it to the command's
module in `commands/`; every command runs through the one error boundary in `main`.

Exit codes: 0 success, 1 invalid input or failed operation, 2 usage error.
Errors a user can cause are printed as one line on stderr, never as a traceback.

Start-up is part of the design: `--version` is answered before anything is imported, and
only the chosen command's module is imported (`validate` needs the core and its reporter).
"""
from __future__ import annotations

import os
import sys

from ._version import PROG, __version__

TYPE_CHECKING = False  # --version, run by every CI job, imports nothing but _version
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

# (command, module in jmo_schedule.commands, one-line help), in the order --help lists them.
# Each module defines DESCRIPTION, add_arguments(parser) and run(args) -> exit code.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("validate", "validate", "check schedules files; exit 1 when any is invalid"),
    ("apply", "apply", "create or update the schedules of a file in the local store"),
    ("create", "create", "create the schedules of a file in the local store (fails if one exists)"),
    ("get", "get", "print one schedule"),
    ("list", "list", "list schedules"),
    ("describe", "describe", "show a schedule in detail, with its next runs"),
    ("delete", "delete", "delete a schedule"),
    ("suspend", "suspend", "suspend a schedule (spec.suspend: true)"),
    ("resume", "resume", "resume a schedule (spec.suspend: false)"),
    ("next", "next", "print the next run times of a schedule"),
    ("export", "export", "print one schedule's generated pipeline to stdout"),
    ("sync", "sync", "regenerate every pipeline file; --check reports drift"),
    ("convert", "convert", "turn scan results (SARIF) into GitLab SAST / Code Quality reports"),
    ("notify", "notify", "post the Slack success/failure message for a scan run"),
    ("guard", "guard", "decide whether a scheduled scan job runs (suspend, deadline, concurrency)"),
    ("run", "run", "what cron calls: the scan due now on this machine, as a CronJob controller would"),
    ("audit", "audit", "account for every fire time: ran, skipped by the guard, or missed; exit 1 unless all Healthy"),
    ("trigger", "trigger", "start one run now on the schedule's backend (run, dispatch, play or kubectl job)"),
    ("install", "install", "install schedules into the user's crontab or systemd timers"),
    ("uninstall", "uninstall", "remove installed crontab entries / systemd timers"),
    ("history", "history", "list the recorded local runs of a schedule"),
    ("gitlab-schedules", "gitlab_schedules", "create/update/remove GitLab pipeline schedules via the API"),
    ("prune", "prune", "delete old GitHub / GitLab runs beyond the schedules' history limits"),
    ("calendar", "calendar", "every run in a window, DST moves and collisions marked (text, json, ics)"),
    ("gitlab-mr", "gitlab_mr", "GitLab sync job: regenerate, push the bot branch, open or update its merge request"),
    ("github-pr", "github_pr", "GitHub action: check the bot pull request's token, explain a failed push"),
)
CORE_COMMANDS = ("validate", "apply", "create", "get", "list", "describe", "delete", "suspend", "resume", "next")

EPILOG = """\
examples:
  jmo-schedule validate -f schedules.yaml      check a committed file (exit 1 if invalid)
  jmo-schedule next weekly-scan --count 5       the next five runs of a stored schedule
  jmo-schedule next -f schedules.yaml           next runs of every schedule in a file
  jmo-schedule apply -f schedules.yaml          create or update them in the local store
  jmo-schedule list -l 'env=prod,team in (a,b)' stored schedules matching a label selector
  jmo-schedule suspend weekly-scan              stop a schedule without deleting it
  jmo-schedule sync -f schedules.yaml           regenerate every pipeline file it describes
  jmo-schedule sync --check                     pull-request check: exit 1 when files drifted
  jmo-schedule export weekly-scan > .gitlab-ci.yml
                                                one schedule's pipeline (guide's export)
  jmo-schedule trigger prod-backend-scan        run one scan now, on the schedule's own backend
  jmo-schedule install                          put local-cron schedules in your crontab

Each command explains itself: jmo-schedule COMMAND --help.

The local store is ~/.jmo/schedules.json ($JMO_HOME overrides the folder). Commands that
take -f FILE work on that file instead (comments and ordering are kept).
"""


def _terminal_width() -> int:
    """Like shutil.get_terminal_size().columns - 2: $COLUMNS, else the terminal, else 78.
    (argparse asks shutil, which imports bz2, lzma... only for this.)"""
    try:
        return max(int(os.environ["COLUMNS"]) - 2, 20)
    except (KeyError, ValueError):
        pass
    try:
        return max(os.get_terminal_size(sys.__stdout__.fileno()).columns - 2, 20)  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 78


def command_module(name: str) -> ModuleType:
    """The module of the command `name` (KeyError for a command that does not exist)."""
    from importlib import import_module  # past --version: see main

    module = {cmd: mod for cmd, mod, _ in COMMANDS}[name]
    return import_module(f"{__package__}.commands.{module}")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser. With `argv` naming a command, only that command's module is
    imported and its parser built (start-up time); the others are listed for --help."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2
            self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    columns = _terminal_width()

    class Formatter(argparse.RawDescriptionHelpFormatter):
        # argparse makes a formatter for every argument; without a width each would ask shutil.
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            super().__init__(prog, indent_increment, max_help_position, width or columns)

    chosen = None if argv is None else _chosen_command(argv)
    parser = Parser(
        prog=PROG,
        description="Declare recurring security scans once in schedules.yaml; validate them, see when "
        "they run, keep them in the local store, and generate the CI pipelines that run them.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    known = {name for name, _, _ in COMMANDS}
    for name, _, help in COMMANDS:
        if chosen in known and name != chosen:
            continue  # another command was asked for: neither imported nor built
        if chosen is not None and chosen not in known:
            sub.add_parser(name, help=help, formatter_class=Formatter)  # for the usage error's list
            continue
        module = command_module(name)
        p = sub.add_parser(name, help=help, description=getattr(module, "DESCRIPTION", help), formatter_class=Formatter)
        p.set_defaults(run=module.run)
        module.add_arguments(p)
    return parser


def _chosen_command(argv: Sequence[str]) -> str:
    """The command word of `argv` ("" when there is none, or when top-level --help comes first)."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return ""
        if not arg.startswith("-"):
            return arg
    return ""


def _warning_line(message: object, category: object, filename: str, lineno: int, file: object = None,
                  line: object = None) -> None:
    from .printable import printable

    sys.stderr.write(f"{PROG}: warning: {printable(str(message))}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # answered before building the parser: CI calls it a lot
        sys.stdout.write(f"{PROG} {__version__}\n")
        return 0
    # Past --version, the rest: the one place this module defers its imports.
    import warnings

    from .printable import printable
    from .errors import JmoError, UsageError, ValidationError

    args = build_parser(argv).parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _warning_line
    try:
        return int(args.run(args))
    except ValidationError as exc:
        for p in exc.problems:
            sys.stderr.write(f"{p}\n")
        return 1
    except UsageError as exc:
        sys.stderr.write(f"{PROG} {args.command}: error: {printable(str(exc))} (see '{PROG} {args.command} --help')\n")
        return 2
    except JmoError as exc:
        # One line, and no terminal escape sequence from a file name or value in it.
        sys.stderr.write(f"{PROG}: error: {printable(str(exc))}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        # Output piped into a pager/head that closed early: not an error worth a trace.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    finally:
        warnings.showwarning = previous


def entry() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
