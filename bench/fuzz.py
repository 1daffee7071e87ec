"""Fuzz the CLI: random schedules files through validate, sync --dry-run and the store commands.

Every input is either a valid schedules file mutated (wrong types, huge numbers, odd
Unicode, anchors and aliases, merge keys, cut or spliced text) or random bytes. Each goes
in-process through `jmo_schedule.cli.main` with its output captured:

- `validate -f FILE` and `sync --dry-run -f FILE` in a temporary git repository;
- `apply -f FILE`, then `list`, `get NAME -o yaml` and `describe NAME` on a temporary
  `$JMO_HOME`;
- `list`, `get` and `describe` with the input written as the store file itself.

A finding is any exception escaping `main` (a traceback the user would see), an exit
code other than 0, 1 or 2, or one input running past `--timeout` seconds. Findings are
grouped by class (exception type and the innermost frame of this package) and the first
input of each class is saved with its traceback.

Run: .venv/bin/python bench/fuzz.py [--count 10000] [--seed 0] [--out fuzz-findings]
Deterministic for a seed: the same inputs in the same order.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jmo_schedule.cli import main

# ------------------------------------------------------------------------------------
# Inputs

BACKENDS = ("github-actions", "gitlab-ci", "kubernetes", "local-cron")


def _base(rng: random.Random, name: str) -> dict[str, Any]:
    backend = rng.choice(BACKENDS)
    configs: dict[str, dict[str, Any]] = {
        "github-actions": {"runs-on": ["ubuntu-latest"], "image": "alpine:3", "environment": "scan"},
        "gitlab-ci": {"tags": ["docker"], "timeout": "1h", "retry": {"max": 1}, "stage": "test"},
        "kubernetes": {"namespace": "sec", "imagePullSecrets": ["pull"], "resultsVolumeClaim": "pvc"},
        "local-cron": {"scanner": "jmo"},
    }
    config = configs[backend]
    return {
        "apiVersion": "jmo.security/v1alpha1",
        "kind": "ScanSchedule",
        "metadata": {"name": name, "labels": {"team": "sec"}, "annotations": {"description": "nightly"}},
        "spec": {
            "schedule": rng.choice(["0 2 * * 1", "*/15 * * * *", "@daily", "5 4 * JAN-MAR SUN"]),
            "timezone": rng.choice(["UTC", "America/New_York", "Australia/Lord_Howe"]),
            "concurrencyPolicy": rng.choice(["Forbid", "Allow", "Replace"]),
            "suspend": False,
            "startingDeadlineSeconds": 900,
            "successfulJobsHistoryLimit": 3,
            "backend": {"type": backend, "config": config},
            "jobTemplate": {
                "profile": "balanced",
                "targets": {"repo": ".", "images": ["nginx:1"], "urls": ["https://example.com"]},
                "results": {"dir": "results"},
                "options": {"fail_on": "HIGH", "threads": 4, "timeout": 600},
                "notifications": {"enabled": True, "channels": [{"type": "slack", "url": "${SLACK_WEBHOOK_URL}"}]},
            },
        },
    }


ODD_TEXT = [
    "", " ", "~", "null", "yes", "No", "ON", "y", ".5", ".1e+3", "1_000", "0o17", "0x1F", "0777", "190:20:30",
    "2001-12-14", "<<", "=", "-", "--flag", "$HOME", "${X}", "${{ github.token }}", "%PATH%", "$(id)", "`id`",
    "a\nb", "a\rb", "\x00", "\x1b[31m", "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "\U0001f600", "\u0661\u0662",
    "\u00b2", "\u202e", "e\u0301", "\uff10", "\ud800", "A" * 300, "*/0 * * * *", "60 24 32 13 8", "@reboot",
    "Mars/Base", "posix/UTC", "../../etc/passwd", "/", ".", "..",
]
HUGE = [2**63, 2**64, -(2**63) - 1, 10**30, 10**400, 1e308, float("inf"), float("nan"), -0.0]


def _scalar(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(ODD_TEXT)
    if kind == 1:
        return rng.choice(HUGE)
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.choice([True, False, None, 0, -1, 1.5])
    if kind == 4:
        return "".join(chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0x80, 0x3000),
                                       rng.randrange(0x10000, 0x10FFFF)])) for _ in range(rng.randrange(1, 12)))
    if kind == 5:
        # Written as digits after dumping: int() refuses to print more than 4300 of them.
        return f"HUGE{rng.choice([19, 20, 100, 4301, 5000])}Z" if rng.random() < 0.2 else 10**19
    if kind == 6:
        return rng.choice([[], {}, [1, "a"], {"a": 1}])
    return "".join(rng.choice("abc-_.:/ *$") for _ in range(rng.randrange(0, 8)))


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if len(prefix) > 40:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _get(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


def _mutate(rng: random.Random, doc: dict[str, Any]) -> None:
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    parent, key = _get(doc, path[:-1]), path[-1]
    action = rng.randrange(6)
    if action == 0:
        parent[key] = _scalar(rng)
    elif action == 1 and isinstance(parent, dict):
        del parent[key]
    elif action == 2 and isinstance(parent, dict):
        parent[rng.choice(["x", "Spec", "labels", "status", 5, None, True])] = _scalar(rng)
    elif action == 3:
        # The same object in two places: the YAML writer makes an anchor and an alias.
        other = _get(doc, rng.choice(paths)[:-1])
        ancestors = [_get(doc, path[:i]) for i in range(len(path))]
        if isinstance(other, dict) and all(other is not node for node in ancestors):
            parent[key] = other
    elif action == 4:
        value = parent[key]
        for _ in range(rng.randrange(1, 80)):
            value = [value] if rng.random() < 0.5 else {"k": value}
        parent[key] = value
    else:
        parent[key] = [parent[key], _scalar(rng)]


def _text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(ODD_TEXT)
    alphabet = [rng.randrange(0x20, 0x7F), rng.randrange(0xA0, 0x3000), rng.randrange(0x10000, 0x10FFFF)]
    return "".join(chr(rng.choice(alphabet)) for _ in range(rng.randrange(1, 12)))


def _gentle(rng: random.Random, doc: dict[str, Any]) -> None:
    """Put odd text into a text field, where most of it is valid: deep into the generators."""
    strings = [p for p in _paths(doc) if p and isinstance(_get(doc, p), str)
               and p[-1] not in ("apiVersion", "kind", "type", "schedule", "timezone", "name", "url", "profile",
                                 "fail_on", "concurrencyPolicy", "timeout", "stage", "urls")]
    path = rng.choice(strings)
    _get(doc, path[:-1])[path[-1]] = _text(rng)


def _dump(docs: list[Any]) -> str:
    try:
        return yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError, RecursionError):
        return yaml.safe_dump_all(docs, allow_unicode=False, sort_keys=False, default_style='"')


SNIPPETS = ["&a ", "*a", "<<: *a\n", "!!python/object:os.system ", "!!binary ", "? ", "---\n", "...\n", "\t", "%YAML 1.1\n",
            "[", "{", "'", '"', ": ", "- ", "#", "\ufeff", "\r\n", "&b [*b]", "!!int ", "!!float ", "!!timestamp ",
            "!!set ", "!!omap ", "!!merge "]


def _text_mutations(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(0, 4)):
        at = rng.randrange(len(text) + 1)
        choice = rng.randrange(4)
        if choice == 0:
            text = text[:at] + rng.choice(SNIPPETS) + text[at:]
        elif choice == 1:
            text = text[:at] + text[at + rng.randrange(1, 20):]
        elif choice == 2:
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[rng.randrange(len(lines))])
            text = "\n".join(lines)
        else:
            text = text[:at] + chr(rng.randrange(1, 0x110000)) + text[at:]
    return text


def _json(docs: list[Any]) -> str:
    store = {"apiVersion": "jmo.security/v1alpha1", "kind": "ScanScheduleList", "revision": 1, "items": docs}
    try:
        return json.dumps(store, ensure_ascii=False)
    except (ValueError, RecursionError):  # a cycle
        return json.dumps({**store, "items": []})


def make_input(rng: random.Random, store: bool = False) -> bytes:
    """One fuzz input: mostly mutated schedules files (as the store's JSON when `store`),
    some random bytes."""
    roll = rng.random()
    if roll < 0.12:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    count = rng.choice([1, 1, 1, 2, 3])
    docs: list[Any] = [_base(rng, f"scan-{i}") for i in range(count)]
    for doc in docs:
        if rng.random() < 0.3:  # the store's own field; a committed file's is ignored
            doc["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "active": 0,
                             "lastScheduleTime": "2026-03-08T07:00:00Z"}
    if rng.random() < 0.25 and not store:
        docs = [{"apiVersion": "jmo.security/v1alpha1", "kind": "ScanScheduleList", "items": docs}]
    gentle = rng.random() < 0.5
    for _ in range(rng.randrange(1, 4) if gentle else rng.randrange(0, 5)):
        (_gentle if gentle else _mutate)(rng, rng.choice(docs))
    text = _json(docs) if store else _dump(docs)
    text = re.sub(r"\"?HUGE(\d+)Z\"?", lambda m: "9" * int(m.group(1)), text)
    text = _text_mutations(rng, text) if roll < 0.4 and not gentle else text
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.03:
        data = data.decode("utf-8", "replace").encode(rng.choice(["utf-16", "latin-1"]), "replace")
    return data


# ------------------------------------------------------------------------------------
# Running


@dataclass
class Finding:
    index: int
    argv: list[str]
    kind: str
    where: str
    trace: str


@dataclass
class Report:
    inputs: int = 0
    commands: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    # (command word, exit code) -> how often: how deep the inputs reach.
    exits: dict[tuple[str, int], int] = field(default_factory=dict)

    def classes(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for f in self.findings:
            counts[(f.kind, f.where)] = counts.get((f.kind, f.where), 0) + 1
        return counts


class _Timeout(BaseException):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Timeout


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "jmo_schedule" in f.filename] or frames
    last = ours[-1] if ours else None
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}" if last else "?"


def _call(argv: list[str], timeout: float) -> tuple[int | None, BaseException | None]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(argv), None
    except SystemExit as exc:
        return (exc.code if isinstance(exc.code, int) else 1), None
    except BaseException as exc:  # noqa: BLE001 - what escapes main is the finding
        return None, exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def _sandbox() -> Iterator[Path]:
    """A temporary git repository as the working directory, a temporary JMO_HOME and HOME,
    and no CI or token variables (sync --dry-run must not reach any service)."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = Path(tempfile.mkdtemp(prefix="jmo-fuzz-"))
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "GITLAB_", "CI", "JMO_", "RUNNER_")) or name.endswith("TOKEN"):
            del os.environ[name]
    os.environ.update({"JMO_HOME": str(root / "home"), "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1",
                       "NO_COLOR": "1"})
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    os.chdir(repo)
    try:
        yield root
    finally:
        os.chdir(saved_cwd)
        signal.signal(signal.SIGALRM, previous)
        os.environ.clear()
        os.environ.update(saved_env)
        shutil.rmtree(root, ignore_errors=True)


MODES = ("sync", "apply", "store")


def _commands(mode: str, root: Path, data: bytes) -> Iterator[list[str]]:
    home = root / "home"
    shutil.rmtree(home, ignore_errors=True)
    schedules = root / "repo" / "schedules.yaml"
    schedules.write_bytes(data)
    yield ["validate", "-f", str(schedules)]
    if mode == "sync":
        # sync also reads the repository's own .gitlab-ci.yml (its stages): odd ones too.
        ci_file = root / "repo" / ".gitlab-ci.yml"
        if len(data) % 2:
            ci_file.write_bytes(b"stages: [build, test]\n" + data[-40:] if len(data) % 3 else b"stages: [build]\n")
        else:
            ci_file.unlink(missing_ok=True)
        yield ["sync", "--dry-run", "-f", "schedules.yaml"]
    elif mode == "apply":
        yield ["apply", "-f", str(schedules)]
        yield ["list"]
        yield ["get", "scan-0", "-o", "yaml"]
        yield ["describe", "scan-0"]
    else:
        home.mkdir()
        (home / "schedules.json").write_bytes(data)
        yield ["list"]
        yield ["get", "scan-0", "-o", "json"]
        yield ["describe", "scan-0"]


def fuzz(count: int = 10_000, seed: int = 0, out: Path | None = None, keep: int = 10,
         timeout: float = 10.0, modes: tuple[str, ...] = MODES) -> Report:
    """Run `count` inputs from `seed`, each through validate and then, in turn, one of
    `modes` (sync --dry-run; apply, list, get, describe; the input as the store file for
    list, get, describe); save the first failing input of each of the first `keep` classes
    to `out`."""
    rng = random.Random(seed)
    report = Report()
    start = time.perf_counter()
    with _sandbox() as root:
        for index in range(count):
            mode = modes[index % len(modes)]
            data = make_input(rng, store=mode == "store")
            report.inputs += 1
            for argv in _commands(mode, root, data):
                report.commands += 1
                code, exc = _call(argv, timeout)
                if exc is None and code in (0, 1, 2):
                    report.exits[(argv[0], code)] = report.exits.get((argv[0], code), 0) + 1
                    continue
                if isinstance(exc, _Timeout):
                    finding = Finding(index, argv, "timeout", f"over {timeout:g}s", "")
                elif exc is not None:
                    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                    finding = Finding(index, argv, type(exc).__name__, _where(exc), trace)
                else:
                    finding = Finding(index, argv, f"exit {code}", "", "")
                new_class = all((f.kind, f.where) != (finding.kind, finding.where) for f in report.findings)
                report.findings.append(finding)
                if out is not None and new_class and len(report.classes()) <= keep:
                    out.mkdir(parents=True, exist_ok=True)
                    stem = out / f"{index:05d}-{argv[0]}"
                    stem.with_suffix(".in").write_bytes(data)
                    stem.with_suffix(".txt").write_text(f"{' '.join(argv)}\n\n{finding.trace}", encoding="utf-8")
    report.seconds = time.perf_counter() - start
    return report


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--keep", type=int, default=20, help="finding classes to save an input of")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds one command may take")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args(argv)
    report = fuzz(args.count, args.seed, args.out, args.keep, args.timeout, tuple(args.modes))
    print(f"inputs: {report.inputs}  commands: {report.commands}  seconds: {report.seconds:.1f}")
    print("exits: " + ", ".join(f"{word} {code}: {n}" for (word, code), n in sorted(report.exits.items())))
    print(f"tracebacks and other findings: {len(report.findings)}")
    for (kind, where), n in sorted(report.classes().items(), key=lambda item: -item[1]):
        print(f"  {n:6d}  {kind}  {where}")
    if report.findings:
        print(f"the first input of {min(args.keep, len(report.classes()))} classes saved in {args.out}/")
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main_())
