"""The commands of the CLI, one module each (cli.py lists them and imports only the one
that runs). Each module defines `DESCRIPTION`, `add_arguments(parser)` and `run(args) -> int`,
and raises JmoError / UsageError for what a user can get wrong: cli.main prints it."""
