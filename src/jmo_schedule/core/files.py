"""Files on disk: atomic replacement, a cross-process lock, owner-only permissions, and
where jmo-schedule keeps its own (`$JMO_HOME`, else ~/.jmo).

Light to import (no tempfile, no typing): `validate --output` writes its report with it.
"""
from __future__ import annotations

import contextlib
import os
import stat
import warnings
from collections.abc import Iterator

from ..errors import JmoError, JmoWarning

DIR_MODE = 0o700
FILE_MODE = 0o600


def jmo_home() -> str:
    """`$JMO_HOME`, else ~/.jmo."""
    return os.environ.get("JMO_HOME") or os.path.join(os.path.expanduser("~"), ".jmo")


def ensure_private_dir(path: str) -> None:
    try:
        os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    except OSError as exc:
        raise JmoError(f"{path}: cannot create directory: {exc.strerror}") from None
    fix_mode(path, DIR_MODE)


def refuse_link(path: str, what: str) -> None:
    """A JmoError when `path` is a symbolic link: files jmo-schedule keeps private are
    written in place and kept at 0600, which a link would make someone else's file."""
    if os.path.islink(path):
        raise JmoError(f"{path}: is a symbolic link; {what} must be a regular file (it is kept at 0600 and replaced "
                       "on every write): put the file itself there")


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of `path`. FileNotFoundError when there is no such file; a file that
    cannot be read or is not UTF-8 is a one-line JmoError naming it (`what` says what it is)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JmoError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise JmoError(f"{path}: {what} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                       "fix it or move it aside") from None


def read_json(path: str, what: str) -> object:
    """The JSON value in `path`, read as read_text reads it (FileNotFoundError included).
    Strict: NaN and Infinity, which Python's json accepts and JSON has not, are errors, and
    nesting too deep to read is one too; each a one-line JmoError naming the file."""
    import json  # here: validate, which imports this module, never reads JSON files

    text = read_text(path, what)
    try:
        return json.loads(text, parse_constant=_no_constant, parse_int=_whole)
    except json.JSONDecodeError as exc:
        raise JmoError(f"{path}:{exc.lineno}:{exc.colno}: {what} is not valid JSON ({exc.msg}); "
                       "fix it or move it aside") from None
    except ValueError as exc:  # NaN, Infinity, a number too long to convert
        raise JmoError(f"{path}: {what} is not valid JSON ({exc}); fix it or move it aside") from None
    except RecursionError:
        raise JmoError(f"{path}: {what} is nested too deeply to read (jmo-schedule never writes it so); "
                       "fix it or move it aside") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _whole(text: str) -> int:
    # Python refuses to convert more than 4300 digits (CVE-2020-10735), in its own words.
    digits = len(text.lstrip("-"))
    if digits > 4300:
        raise ValueError(f"a number of {digits} digits")
    return int(text)


def fix_mode(path: str, mode: int) -> None:
    """Tighten `path` to `mode` when group or others have any access, with a warning. A
    symbolic link is not followed: the file it points to is not ours to change."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        return
    current = stat.S_IMODE(info.st_mode)
    if current & 0o077:
        try:
            os.chmod(path, mode)
        except OSError as exc:
            raise JmoError(f"{path}: permissions are {current:04o} and cannot be fixed: {exc.strerror}") from None
        warnings.warn(f"{path} had permissions {current:04o}; changed to {mode:04o}", JmoWarning, stacklevel=3)


def atomic_write(path: str, data: str | bytes, mode: int = FILE_MODE, durable: bool = True) -> None:
    """Write `data` to `path` so readers see the old or the new file, never a mix. A
    failure (a full disk, no permission) is a JmoError naming `path`, and leaves the old
    file as it was and no temporary file behind.

    `durable=False` skips the fsyncs (the replace stays atomic): for files that can be
    regenerated, where a thousand fsyncs would cost more than a rerun after a crash.
    """
    directory = os.path.dirname(os.path.abspath(path))
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        fd, tmp = _temporary(directory, os.path.basename(path))
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(raw)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise JmoError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
    if not durable:
        return
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _temporary(directory: str, name: str) -> tuple[int, str]:
    """A new file beside the target (`.NAME.<random>.tmp`, 0600), opened for writing: made
    with O_EXCL, as tempfile.mkstemp does, without importing tempfile (shutil, random)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{directory}: no free temporary file name")


@contextlib.contextmanager
def locked(path: str, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive cross-process lock tied to `path` (a `.lock` file beside it)."""
    from filelock import FileLock, Timeout

    lock = FileLock(path + ".lock", mode=FILE_MODE)
    try:
        with lock.acquire(timeout=timeout, poll_interval=0.01):
            yield
    except Timeout:
        raise JmoError(f"{path}: another jmo-schedule process holds the lock ({path}.lock) for over {timeout:g}s") from None
