"""A `crontab` for the tests, so no test ever installs into the caller's own crontab.

As root, with the scratch user .ci/install-test-tools.sh makes, the tests use Debian's real
crontab on that user (one test run at a time: a lock serializes concurrent runs on the
machine). Otherwise this fake stands in: `crontab [-u USER] -l | -r | -` keeping each
table in a file under $JMO_FAKE_CRONTAB_DIR, answering and refusing with Debian cron's
words (cron 3.0pl1): an entry outside crontab(5)'s grammar is refused with
`"-":N: bad minute` (N counted from 0, as Debian does) and the table is not installed.
Run as a program: `python crontab.py ARGS` (install_fake puts it on PATH as `crontab`).
"""
from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SCRATCH_USER = "jmo-crontab-test"
LOCK = Path("/tmp/jmo-crontab-test.lock")  # shared by every test run on the machine

_SPECIALS = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name in the error, lowest, highest, names for lowest..)
_FIELDS = [("minute", 0, 59, []), ("hour", 0, 23, []), ("day-of-month", 1, 31, []), ("month", 1, 12, _MONTHS),
           ("day-of-week", 0, 7, _DAYS)]
_ENV = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=")


def _value(text: str, low: int, high: int, names: list[str]) -> int | None:
    if text.isdigit():
        n = int(text)
        return n if low <= n <= high else None
    if text.lower() in names:
        return low + names.index(text.lower())
    return None


def _field_ok(text: str, low: int, high: int, names: list[str]) -> bool:
    """crontab(5): a list of `*`, N or N-M, each range (or `*`) with an optional /STEP."""
    for item in text.split(","):
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            return False
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        if _value(first, low, high, names) is None or (dash and _value(last, low, high, names) is None):
            return False
        if slash and not dash:
            return False
    return True


def check_line(line: str) -> str | None:
    """Debian's word for what is wrong with one crontab line, or None when it is fine."""
    text = line.strip()
    if not text or text.startswith("#") or _ENV.match(text):
        return None
    if text.startswith("@"):
        word, _, command = text.partition(" ")
        if word not in _SPECIALS:
            return "bad time specifier"
        return None if command.strip() else "bad command"
    parts = text.split(None, 5)
    for i, (name, low, high, names) in enumerate(_FIELDS):
        if i >= len(parts) or not _field_ok(parts[i], low, high, names):
            return f"bad {name}"
    return None if len(parts) == 6 and parts[5].strip() else "bad command"


def main(argv: list[str]) -> int:
    folder = os.environ.get("JMO_FAKE_CRONTAB_DIR")
    if not folder:
        sys.stderr.write("fake crontab: JMO_FAKE_CRONTAB_DIR is not set\n")
        return 2
    user = os.environ.get("LOGNAME") or getpass.getuser()
    if argv[:1] == ["-u"] and len(argv) >= 2:
        user, argv = argv[1], argv[2:]
    table = Path(folder) / user
    if argv == ["-l"] or argv == ["-r"]:
        if not table.exists():
            sys.stderr.write(f"no crontab for {user}\n")
            return 1
        if argv == ["-l"]:
            sys.stdout.buffer.write(table.read_bytes())
        else:
            table.unlink()
        return 0
    if argv != ["-"]:
        sys.stderr.write("usage: crontab [-u user] { - | -l | -r }\n")
        return 1
    data = sys.stdin.buffer.read()
    if data and not data.endswith(b"\n"):
        sys.stderr.write("new crontab file is missing newline before EOF, can't install.\n")
        return 1
    for number, line in enumerate(data.decode("utf-8", "surrogateescape").split("\n")[:-1]):
        problem = check_line(line)
        if problem:
            sys.stderr.write(f'"-":{number}: {problem}\nerrors in crontab file, can\'t install.\n')
            return 1
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_bytes(data)
    return 0


def scratch_user() -> str | None:
    """The user whose real crontab the tests may use: the scratch user, as root only."""
    if os.geteuid() != 0 or shutil.which("crontab") is None:
        return None
    found = subprocess.run(["id", SCRATCH_USER], capture_output=True, timeout=30).returncode == 0
    return SCRATCH_USER if found else None


def install_fake(folder: Path) -> Path:
    """A `crontab` program in folder/bin keeping tables in folder/tables; returns folder/bin."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    program = bin_dir / "crontab"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    program.chmod(0o755)
    return bin_dir


@contextlib.contextmanager
def crontab_for_test(folder: Path) -> Iterator[str | None]:
    """The crontab a test may install into, never the caller's own. Yields the scratch
    user (root: the real crontab, its table saved and given back, one test run on the
    machine at a time), or None with the fake first on PATH (tables under `folder`)."""
    user = scratch_user()
    if user is None:
        saved = {var: os.environ.get(var) for var in ("PATH", "JMO_FAKE_CRONTAB_DIR")}
        os.environ["PATH"] = f"{install_fake(folder)}{os.pathsep}{os.environ['PATH']}"
        os.environ["JMO_FAKE_CRONTAB_DIR"] = str(folder / "tables")
        try:
            yield None
        finally:
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
        return
    from filelock import FileLock

    crontab = shutil.which("crontab") or "crontab"
    with FileLock(str(LOCK), timeout=300):
        table = subprocess.run([crontab, "-u", user, "-l"], capture_output=True, timeout=30)
        try:
            yield user
        finally:
            if table.returncode == 0:
                subprocess.run([crontab, "-u", user, "-"], input=table.stdout, capture_output=True, timeout=30,
                               check=True)
            else:
                subprocess.run([crontab, "-u", user, "-r"], capture_output=True, timeout=30)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
