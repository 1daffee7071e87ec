"""Keeping generated pipeline files in step with a schedules file.

Three layers, so the decisions are testable without a disk:
- `scan_disk` reads what is on disk: every generated file in the output folders and
  whatever sits at each path the generators want to write.
- `plan_sync` (pure) compares the files the schedules want with the files on disk and
  decides, per path, create / update / delete / unchanged and why: a schedule was
  added, its cron changed, it was removed, or a generated file was edited by hand.
- `apply_plan` writes what changed (atomically, keeping file modes) and deletes orphans.

A file is ours only when its first line is the generated-file marker
(`workflow_generators.header.is_generated`) and its `Source:` header line names our
schedules file (or a schedules file that no longer exists). Anything else at a path we
want to write is a conflict: sync refuses and names it; it never overwrites it.
"""
from __future__ import annotations

import difflib
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.files import atomic_write
from ..core.loader import check_text
from ..core.model import ScanSchedule
from ..errors import JmoError, SyncConflictError
from ..generators.header import COMMENT_CHARS, is_generated


# Where generators write (contracts.md); only here does sync look for orphans to delete.
OUTPUT_DIRS: tuple[str, ...] = (".github/workflows", ".gitlab", "deploy")

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
UNCHANGED = "unchanged"

NEW_FILE_MODE = 0o644
# Enough to hold the marker line; files are sniffed before being read whole.
_SNIFF_BYTES = 512
# How many earlier versions of the schedules file to try when telling a schedule change
# from a hand edit; each costs one `git show` and one generation.
HISTORY_LIMIT = 5

_SOURCE_RE = re.compile(r"^Source: (?P<source>.*) \((?:schedule|schedules): (?P<names>.*)\)$")


@dataclass(frozen=True)
class DiskFile:
    """What sits at one path under the root."""

    text: str | None  # None: not a regular UTF-8 file we can read (or a link)
    generated: bool
    mode: int = NEW_FILE_MODE
    kind: str = "file"  # file | symlink | directory | other


@dataclass(frozen=True)
class HeaderInfo:
    """What a generated file's header says about where it came from."""

    source: str | None
    names: tuple[str, ...]
    lines: tuple[str, ...]  # the whole comment block, comment chars stripped


@dataclass(frozen=True)
class Generation:
    """The files one version of the schedules file generates, and its schedules by name."""

    label: str
    schedules: Mapping[str, ScanSchedule]
    files: Mapping[str, str]


@dataclass(frozen=True)
class FileChange:
    """The decision for one path (POSIX, relative to the root)."""

    path: str
    action: str  # create | update | delete | unchanged
    old: str | None  # text on disk
    new: str | None  # text the schedules want (None for delete)
    reason: str = ""
    hand_edited: bool = False

    @property
    def verb(self) -> str:
        """Past tense for reports: created / updated / deleted / unchanged."""
        return {CREATE: "created", UPDATE: "updated", DELETE: "deleted"}.get(self.action, UNCHANGED)


@dataclass
class SyncPlan:
    """Every path sync looked at, sorted, with what it will do there."""

    source: str
    files: list[FileChange] = field(default_factory=list)

    @property
    def changes(self) -> list[FileChange]:
        return [f for f in self.files if f.action != UNCHANGED]

    @property
    def unchanged(self) -> list[FileChange]:
        return [f for f in self.files if f.action == UNCHANGED]

    @property
    def in_sync(self) -> bool:
        return not self.changes


# ------------------------------------------------------------------------------------
# Headers


def header_info(text: str) -> HeaderInfo:
    """Parse the leading comment block of a generated file (any known comment char)."""
    lines: list[str] = []
    for raw in text.lstrip("\ufeff").split("\n"):
        line = raw.rstrip("\r")
        char = next((c for c in COMMENT_CHARS if line.startswith(c)), None)
        if char is None:
            break
        lines.append(line[len(char):].strip())
    source: str | None = None
    names: tuple[str, ...] = ()
    for line in lines:
        m = _SOURCE_RE.match(line)
        if m:
            source = m.group("source")
            raw_names = m.group("names").strip()
            names = () if raw_names in ("", "none") else tuple(n.strip() for n in raw_names.split(","))
            break
    return HeaderInfo(source, names, tuple(lines))


# ------------------------------------------------------------------------------------
# Reading the disk


def _is_generated_bytes(head: bytes) -> bool:
    try:
        first = head.split(b"\n", 1)[0].decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return is_generated(first)


def read_disk_file(path: str) -> DiskFile | None:
    """What is at `path` (None when nothing is); never follows a symbolic link."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return DiskFile(None, False, kind="other")
    except OSError as exc:
        raise JmoError(f"{path}: cannot read: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        return DiskFile(None, False, kind="symlink")
    if stat.S_ISDIR(st.st_mode):
        return DiskFile(None, False, kind="directory")
    if not stat.S_ISREG(st.st_mode):
        return DiskFile(None, False, kind="other")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise JmoError(f"{path}: cannot read: {exc.strerror}") from None
    mode = stat.S_IMODE(st.st_mode)
    if not _is_generated_bytes(data[:_SNIFF_BYTES]):
        return DiskFile(None, False, mode)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return DiskFile(None, False, mode)
    return DiskFile(text, True, mode)


def _generated_under(root: str, folder: str) -> Iterator[str]:
    """POSIX paths (relative to root) of generated regular files under root/folder."""
    top = os.path.join(root, *folder.split("/"))
    if not os.path.isdir(top) or not _inside(os.path.realpath(top), os.path.realpath(root)):
        return  # missing, or reached through a link that leads out of the root: not ours
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(directory, d)) and d != ".git")
        for name in sorted(files):
            full = os.path.join(directory, name)
            try:
                if not stat.S_ISREG(os.lstat(full).st_mode):
                    continue
                with open(full, "rb") as fh:
                    head = fh.read(_SNIFF_BYTES)
            except OSError:
                continue
            if _is_generated_bytes(head):
                yield os.path.relpath(full, root).replace(os.sep, "/")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_relative_path(path: str) -> None:
    """Refuse a generated path that could land outside the root (a generator bug)."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise JmoError(f"refusing to write {path!r}: generated paths must be plain relative paths")


def scan_disk(root: str, desired: Iterable[str], folders: Sequence[str] = OUTPUT_DIRS) -> dict[str, DiskFile]:
    """Every generated file under root's output folders, plus whatever is at each desired path."""
    wanted = sorted(set(desired))
    tops = list(folders) + sorted({p.split("/", 1)[0] for p in wanted if "/" in p} - {f.split("/", 1)[0] for f in folders})
    found: dict[str, DiskFile] = {}
    for folder in tops:
        for rel in _generated_under(root, folder):
            info = read_disk_file(os.path.join(root, rel))
            if info is not None:
                found[rel] = info
    real_root = os.path.realpath(root)
    for rel in wanted:
        check_relative_path(rel)
        if rel in found:
            continue
        full = os.path.join(root, *rel.split("/"))
        if not _inside(os.path.realpath(os.path.dirname(full)), real_root):
            raise SyncConflictError(f"{rel}: a folder on the way is a link out of {root}; sync will not write through it")
        info = read_disk_file(full)
        if info is not None:
            found[rel] = info
    return found


# ------------------------------------------------------------------------------------
# Planning (pure)


def _names_text(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) == 1:
        return f"schedule {names[0]}"
    return f"schedules {', '.join(names)}"


def spec_changes(old: ScanSchedule, new: ScanSchedule) -> list[str]:
    """What changed between two versions of one schedule, in words, most telling first."""
    o, n = old.spec, new.spec
    out: list[str] = []
    if o.schedule != n.schedule:
        out.append(f"cron changed ({o.schedule!r} -> {n.schedule!r})")
    if o.timezone != n.timezone:
        out.append(f"timezone changed ({o.timezone} -> {n.timezone})")
    if o.suspend != n.suspend:
        out.append("suspended" if n.suspend else "resumed")
    od, nd = o.to_dict(), n.to_dict()
    order = ["concurrencyPolicy", "startingDeadlineSeconds", "successfulJobsHistoryLimit",
             "failedJobsHistoryLimit", "backend", "jobTemplate"]
    done = {"schedule", "timezone", "suspend"}
    for key in order + sorted(set(od) | set(nd)):
        if key in done:
            continue
        done.add(key)
        a, b = od.get(key), nd.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            # Name the part that moved: "jobTemplate.targets changed" says more than "jobTemplate".
            out += [f"{key}.{sub} changed" for sub in sorted(set(a) | set(b)) if a.get(sub) != b.get(sub)]
        else:
            out.append(f"{key} changed")
    if not out and old.metadata.to_dict() != new.metadata.to_dict():
        out.append("metadata changed")
    return out


def _explain_from_schedules(old_names: Sequence[str], new_names: Sequence[str],
                            old: Mapping[str, ScanSchedule], new: Mapping[str, ScanSchedule]) -> str:
    parts: list[str] = []
    added = [n for n in new_names if n not in old_names]
    removed = [n for n in old_names if n not in new_names]
    if added:
        parts.append(f"{_names_text(added)} added")
    if removed:
        parts.append(f"{_names_text(removed)} removed")
    for name in new_names:
        if name in old_names and name in old and name in new:
            changes = spec_changes(old[name], new[name])
            if changes:
                parts.append(f"schedule {name}: {', '.join(changes)}")
    return "; ".join(parts)


_LINE_RE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*): cron (?P<cron>'[^']*'|\"[^\"]*\") in (?P<zone>\S+): ")


def _schedule_lines(info: HeaderInfo) -> dict[str, tuple[str, str, bool]]:
    out = {}
    for line in info.lines:
        m = _LINE_RE.match(line)
        if m and m.group("name") in info.names:
            out[m.group("name")] = (m.group("cron")[1:-1], m.group("zone"), line.endswith("[suspended]"))
    return out


def _explain_from_headers(old: HeaderInfo, new: HeaderInfo) -> str:
    """Best reason from two headers alone (no earlier schedules known)."""
    parts: list[str] = []
    added = [n for n in new.names if n not in old.names]
    removed = [n for n in old.names if n not in new.names]
    if added:
        parts.append(f"{_names_text(added)} added")
    if removed:
        parts.append(f"{_names_text(removed)} removed")
    old_lines, new_lines = _schedule_lines(old), _schedule_lines(new)
    for name in new.names:
        if name not in old.names:
            continue
        if name in old_lines and name in new_lines:
            (oc, oz, os_), (nc, nz, ns) = old_lines[name], new_lines[name]
            changes = []
            if oc != nc:
                changes.append(f"cron changed ({oc!r} -> {nc!r})")
            if oz != nz:
                changes.append(f"timezone changed ({oz} -> {nz})")
            if os_ != ns:
                changes.append("suspended" if ns else "resumed")
            if changes:
                parts.append(f"schedule {name}: {', '.join(changes)}")
    if not parts and old.source != new.source:
        parts.append(f"schedules file moved ({old.source} -> {new.source})")
    if not parts:
        parts.append(f"{_names_text(new.names or old.names)} changed")
    return "; ".join(parts)


def plan_sync(
    desired: Generation,
    disk: Mapping[str, DiskFile],
    source: str,
    history: Callable[[set[str]], Iterable[Generation] | None] | None = None,
    source_exists: Callable[[str], bool] = lambda path: False,
) -> SyncPlan:
    """Decide, per path, what sync does; raises SyncConflictError for files that are not ours.

    `desired` is what the schedules file generates now; `disk` what `scan_disk` found.
    A generated file whose header names another schedules file that still exists
    (`source_exists`) belongs to that file and is left alone. An out-of-date file whose
    header differs from the wanted one is a schedule change (named from the headers). One
    whose header still matches is hand-edited, unless it equals what an earlier version
    of the schedules file generated: `history(names)`, called only then, yields those
    versions newest first, generated for at least the named schedules (None or nothing:
    no history, as outside git). See `_explain_updates`.
    """
    conflicts: list[str] = []
    changes: dict[str, FileChange] = {}
    unexplained: list[str] = []
    infos: dict[str, HeaderInfo] = {}

    def ours(info: HeaderInfo) -> bool:
        return info.source is None or info.source == source or not source_exists(info.source)

    for path, text in desired.files.items():
        found = disk.get(path)
        if found is None:
            changes[path] = FileChange(path, CREATE, None, text)
            continue
        if not found.generated or found.text is None:
            what = {"symlink": "a symbolic link", "directory": "a directory", "other": "not a regular file"}.get(found.kind)
            conflicts.append(f"{path} ({what})" if what else path)
            continue
        info = infos.setdefault(path, header_info(found.text))
        if not ours(info):
            raise SyncConflictError(
                f"{path} is generated from {info.source}, which still exists; two schedules files "
                f"cannot write the same file (rename the schedule in one of them)"
            )
        if found.text == text:
            changes[path] = FileChange(path, UNCHANGED, text, text)
        else:
            changes[path] = FileChange(path, UPDATE, found.text, text)
            unexplained.append(path)
    if conflicts:
        if len(conflicts) == 1:
            raise SyncConflictError(
                f"{conflicts[0]} exists and was not generated by jmo-schedule; sync will not overwrite it "
                f"(move it away or rename the schedule)"
            )
        raise SyncConflictError(
            f"{len(conflicts)} files exist and were not generated by jmo-schedule; sync will not overwrite "
            f"them (move them away or rename the schedules): {', '.join(conflicts)}"
        )
    for path in sorted(set(disk) - set(desired.files)):
        found = disk[path]
        if not found.generated or found.text is None:
            continue
        info = infos.setdefault(path, header_info(found.text))
        if not ours(info):
            continue
        changes[path] = FileChange(path, DELETE, found.text, None)

    # Reasons. Deleted and created files first: their names tell a backend move.
    gone_names = {n: p for p, c in changes.items() if c.action == DELETE for n in infos[p].names}
    new_names = {n: p for p, c in changes.items() if c.action == CREATE for n in header_info(c.new or "").names}
    for path, change in list(changes.items()):
        if change.action == CREATE:
            names = header_info(change.new or "").names
            moved = [n for n in names if n in gone_names]
            fresh = [n for n in names if n not in gone_names]
            parts = [f"{_names_text(fresh)} added"] if fresh else []
            parts += [f"{_names_text([n])} moved from {gone_names[n]}" for n in moved]
            changes[path] = _with(change, "; ".join(parts) or "new generated file")
        elif change.action == DELETE:
            info = infos[path]
            if info.source and info.source != source:
                reason = f"schedules file {info.source} no longer exists"
            else:
                parts = []
                for name in info.names:
                    if name in new_names:
                        parts.append(f"{_names_text([name])} moved to {new_names[name]}")
                    elif name in desired.schedules:
                        parts.append(f"{_names_text([name])} no longer generates this file")
                    else:
                        parts.append(f"{_names_text([name])} removed")
                reason = "; ".join(parts) or "no schedule generates this file any more"
            changes[path] = _with(change, reason)

    if unexplained:
        _explain_updates(changes, unexplained, desired, history)
    return SyncPlan(source, [changes[p] for p in sorted(changes)])


def _with(change: FileChange, reason: str, hand_edited: bool = False) -> FileChange:
    return FileChange(change.path, change.action, change.old, change.new, reason, hand_edited)


def _kind(path: str, names: Sequence[str]) -> str:
    """The path with its schedule name blanked: files of one generator share a kind."""
    for name in names:
        path = re.sub(rf"(?<=[/-]){re.escape(name)}(?=[./]|$)", "*", path)
    return path


def _explain_updates(changes: dict[str, FileChange], paths: list[str], desired: Generation,
                     history: Callable[[set[str]], Iterable[Generation] | None] | None) -> None:
    """Say why each out-of-date file differs: a schedule change, a new generator, or a hand edit.

    A header that differs from the wanted one means a schedule's name, cron, zone or
    suspension changed. A file whose header still matches is a suspect: the history
    (what earlier committed versions of the schedules file generated) explains it when
    it holds the version that generated the file (a target changed, say). When every
    file of one kind (several per-schedule files of one generator) is a suspect, the
    generator itself changed (jmo-schedule was upgraded). Any other suspect was edited
    by hand.
    """
    suspects: list[str] = []
    for path in paths:
        change = changes[path]
        old, new = header_info(change.old or ""), header_info(change.new or "")
        if old.lines == new.lines:
            suspects.append(path)
        else:
            changes[path] = _with(change, _explain_from_headers(old, new))
    if suspects and history is not None:
        wanted = {n for p in suspects for n in header_info(changes[p].new or "").names}
        for version in history(wanted) or ():
            for path in list(suspects):
                change = changes[path]
                if version.files.get(path) == change.old:
                    names = header_info(change.new or "").names
                    reason = _explain_from_schedules(names, names, version.schedules, desired.schedules)
                    changes[path] = _with(change, reason or f"{_names_text(names)} changed")
                    suspects.remove(path)
            if not suspects:
                break
    kinds: dict[str, list[str]] = {}
    for path, change in changes.items():
        if change.action in (UPDATE, UNCHANGED):
            kinds.setdefault(_kind(path, header_info(change.new or "").names), []).append(path)
    for members in kinds.values():
        if len(members) > 1 and all(p in suspects for p in members):
            for path in members:
                changes[path] = _with(changes[path], "output of this jmo-schedule version differs")
                suspects.remove(path)
    for path in suspects:
        changes[path] = _with(changes[path], "hand-edited", hand_edited=True)


# ------------------------------------------------------------------------------------
# Applying


def apply_plan(plan: SyncPlan, root: str, disk: Mapping[str, DiskFile] | None = None) -> None:
    """Write every created/updated file atomically and delete orphans; unchanged files stay untouched.

    Updated files keep their mode; new files get 0644. Folders emptied by a delete are removed.
    """
    disk = disk or {}
    for change in plan.changes:
        full = os.path.join(root, *change.path.split("/"))
        if change.action in (CREATE, UPDATE):
            assert change.new is not None
            found = disk.get(change.path)
            mode = found.mode if found is not None and change.action == UPDATE else NEW_FILE_MODE
            try:
                os.makedirs(os.path.dirname(full), exist_ok=True)
                # No fsync per file (a thousand of them dominate a large sync); one
                # os.sync() below makes the whole set durable instead.
                atomic_write(full, change.new, mode, durable=False)
            except OSError as exc:
                raise JmoError(f"{change.path}: cannot write: {exc.strerror}") from None
        elif change.action == DELETE:
            try:
                os.unlink(full)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise JmoError(f"{change.path}: cannot delete: {exc.strerror}") from None
            _remove_empty_parents(root, change.path)
    if plan.changes and hasattr(os, "sync"):
        os.sync()


def _remove_empty_parents(root: str, path: str) -> None:
    parts = path.split("/")[:-1]
    while parts:
        try:
            os.rmdir(os.path.join(root, *parts))
        except OSError:
            return  # not empty (or not ours to remove): stop climbing
        parts.pop()


# ------------------------------------------------------------------------------------
# Reports


def unified_diff(change: FileChange) -> str:
    """A colourless unified diff (git style paths) of what the change does to the file."""
    old = (change.old or "").splitlines(keepends=True)
    new = (change.new or "").splitlines(keepends=True)
    a = f"a/{change.path}" if change.old is not None else "/dev/null"
    b = f"b/{change.path}" if change.new is not None else "/dev/null"
    out = []
    for line in difflib.unified_diff(old, new, a, b):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def change_line(change: FileChange, dry: bool = False) -> str:
    """`created PATH (why)`, or `would create PATH (why)` for a dry run."""
    if dry:
        verb = {CREATE: "would create", UPDATE: "would update", DELETE: "would delete"}[change.action]
    else:
        verb = change.verb
    why = "hand edit reverted" if change.hand_edited and not dry else change.reason
    return f"{verb} {change.path} ({why})" if why else f"{verb} {change.path}"


def pr_action(change: FileChange) -> str:
    return {CREATE: "added", UPDATE: "updated", DELETE: "removed"}.get(change.action, change.action)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_text(text: str) -> str:
    """Plain text that markdown shows as written (crons hold `*`, names hold `_`)."""
    return re.sub(r"([\\`*_\[\]<|~])", r"\\\1", text).replace("\n", " ")


def md_code(text: str) -> str:
    """`text` as a markdown code span, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def changes_table(changes: Sequence[FileChange]) -> list[str]:
    """Markdown table lines: each changed file, what happens to it and why."""
    lines = ["| File | Action | Why |", "| --- | --- | --- |"]
    for c in changes:
        why = "hand edit reverted" if c.hand_edited else c.reason
        lines.append(f"| {_md_cell(md_code(c.path))} | {pr_action(c)} | {md_text(why)} |")
    return lines


def pr_body(plan: SyncPlan, command: str) -> str:
    """Markdown for the bot pull/merge request: each file, what happens to it and why."""
    changes = plan.changes
    lines = ["## Regenerate scheduled scan pipelines", ""]
    if not changes:
        lines += [f"Every generated file is in sync with {md_code(plan.source)}; nothing to change.", ""]
    else:
        n = len(changes)
        lines += [
            f"{md_code(plan.source)} and the pipeline files generated from it had drifted apart. "
            f"This change updates {'one file' if n == 1 else f'{n} files'}:",
            "",
            *changes_table(changes),
            "",
        ]
        if any(c.hand_edited for c in changes):
            lines += ["Generated files are overwritten on every sync: make lasting changes in "
                      f"{md_code(plan.source)}.", ""]
    lines += ["Regenerate locally with:", "", "```sh", command, "```", "",
              "_Opened by `jmo-schedule sync`._", ""]
    return "\n".join(lines)


def github_output_block(changed: bool, files: Sequence[str], delimiter: str) -> str:
    """`changed=...` and a multi-line `files<<DELIM` value, in $GITHUB_OUTPUT syntax."""
    if any(delimiter in f or "\n" in f for f in files):  # cannot happen with a uuid; be sure anyway
        raise JmoError("cannot write $GITHUB_OUTPUT: a file name contains the delimiter or a newline")
    body = "".join(f"{f}\n" for f in files)
    return f"changed={'true' if changed else 'false'}\nfiles<<{delimiter}\n{body}{delimiter}\n"


# ------------------------------------------------------------------------------------
# Git: where the repository starts, and earlier versions of the schedules file


def _git(args: Sequence[str], cwd: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    try:
        return proc.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def git_toplevel(directory: str) -> str | None:
    """The work tree root of the git repository holding `directory`, or None."""
    out = _git(["rev-parse", "--show-toplevel"], directory)
    return out.strip() if out and out.strip() else None


def git_versions(root: str, source: str, skip: str | None = None,
                 limit: int = HISTORY_LIMIT) -> Iterator[tuple[str, str]] | None:
    """(commit, text) of up to `limit` committed versions of `source`, newest first, read lazily.

    Versions equal to `skip` (the current text) are left out. None when `root` is not in a
    git work tree or no commit holds `source`: there is no history to judge by.
    """
    out = _git(["log", f"-n{limit}", "--format=%H", "--", source], root)
    commits = out.split() if out else []
    if not commits:
        return None

    def versions() -> Iterator[tuple[str, str]]:
        seen: set[str] = {skip} if skip is not None else set()
        for commit in commits:
            text = _git(["show", f"{commit}:./{source}"], root)
            if text is None or text in seen:
                continue
            seen.add(text)
            yield commit[:12], text

    return versions()


def history_generations(versions: Iterable[tuple[str, str]] | None, source: str,
                        generate: Callable[[Sequence[Any], str], Mapping[str, str]],
                        names: set[str] | None = None) -> Iterator[Generation] | None:
    """Turn earlier schedules-file texts into what they generated; unreadable versions are skipped.

    With `names`, only those schedules are generated (a file's header names every
    schedule that shapes it, so its text is the same): cheaper on large files.
    """
    if versions is None:
        return None

    def gen() -> Iterator[Generation]:
        for label, text in versions:
            try:
                result = check_text(text, source)
                if result.errors:
                    continue
                schedules = result.schedules
                if names is not None:
                    schedules = [s for s in schedules if s.name in names]
                files = generate(schedules, source)
            except Exception:  # an old version that no longer loads or generates tells us nothing
                continue
            yield Generation(label, {s.name: s for s in schedules}, files)

    return gen()
