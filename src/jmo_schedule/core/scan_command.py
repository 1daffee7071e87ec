"""The scanner command lines a schedule's jobTemplate describes, as argv lists.

One builder serves every backend (generated pipelines, Kubernetes, `jmo-schedule run`),
so they all call the scanner the same way. The real scanner's parser is the contract
(DESIGN.md, "The scanner contract"):
- `jmo scan` takes one of --repo / --repos-dir / --targets; `--image` and `--url` keep only
  their last value, so several images or URLs go in a file written at run time, one per
  line, passed as `--images-file` / `--urls-file`;
- the fail_on threshold belongs to `jmo report --fail-on`, not to `jmo scan`;
- the profile flag is `--profile-name` (never the abbreviation `--profile`).

Generators must not paste values into shell text: `Arg.var` names an environment variable
that carries each value, and `shell_line` renders `"$VAR"` references.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from .model import JobTemplateSpec


SCANNER = "jmo"
DEFAULT_RESULTS_DIR = "results"
INPUTS_DIR = ".jmo-inputs"  # inside the results dir: run-time list files

# target key -> (flag, env var); order here is the order on the command line.
_TARGET_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("repo", "--repo", "JMO_REPO"),
    ("repos_dir", "--repos-dir", "JMO_REPOS_DIR"),
    ("targets_file", "--targets", "JMO_TARGETS_FILE"),
    ("images_file", "--images-file", "JMO_IMAGES_FILE"),
    ("urls_file", "--urls-file", "JMO_URLS_FILE"),
    ("api_spec", "--api-spec", "JMO_API_SPEC"),
    ("k8s_context", "--k8s-context", "JMO_K8S_CONTEXT"),
    ("k8s_namespace", "--k8s-namespace", "JMO_K8S_NAMESPACE"),
)
_LISTS: tuple[tuple[str, str, str, str], ...] = (
    # key, single flag, file flag, env var
    ("images", "--image", "--images-file", "JMO_IMAGES"),
    ("urls", "--url", "--urls-file", "JMO_URLS"),
)


@dataclass(frozen=True)
class Arg:
    """One command-line element: a flag, optionally with a value carried by `var`."""

    flag: str | None  # None for a positional value
    value: str | None = None
    var: str | None = None

    def argv(self) -> list[str]:
        if self.value is None:
            return [self.flag] if self.flag else []
        if self.flag is None:
            return [self.value]
        # `--flag=value` keeps a value that starts with '-' from reading as a flag.
        return [f"{self.flag}={self.value}"] if self.value.startswith("-") else [self.flag, self.value]

    def shell(self) -> str:
        if self.value is None:
            return shlex.quote(self.flag or "")
        ref = f'"${{{self.var}}}"' if self.var else shlex.quote(self.value)
        if self.flag is None:
            return ref
        # Same split as argv(): the value is known when the line is generated, so the
        # scanner receives exactly the argv that `argv()` describes.
        if self.value.startswith("-"):
            return f"{self.flag}={ref}"
        return f"{self.flag} {ref}"


@dataclass(frozen=True)
class ListFile:
    """A file the job writes before the scan: one value a line (several images or URLs)."""

    path: str
    lines: tuple[str, ...]
    var: str  # env var holding the lines joined by newlines


@dataclass(frozen=True)
class ScanPlan:
    scan: tuple[Arg, ...]
    report: tuple[Arg, ...]
    results_dir: str
    fail_on: str | None
    list_files: tuple[ListFile, ...] = field(default=())

    def scan_argv(self, scanner: str = SCANNER) -> list[str]:
        return [scanner, "scan", *(a for arg in self.scan for a in arg.argv())]

    def report_argv(self, scanner: str = SCANNER) -> list[str]:
        return [scanner, "report", *(a for arg in self.report for a in arg.argv())]

    def env(self) -> dict[str, str]:
        """Every value the shell lines reference, by variable name (ordered)."""
        out: dict[str, str] = {}
        for arg in (*self.scan, *self.report):
            if arg.var and arg.value is not None:
                out[arg.var] = arg.value
        for lf in self.list_files:
            out[lf.var] = "\n".join(lf.lines)
        return out

    def write_list_files_shell(self) -> list[str]:
        """Shell lines that write the list files from their env vars (quoted, no values inline)."""
        lines = []
        for lf in self.list_files:
            lines.append(f'mkdir -p -- "$(dirname -- "${{{_path_var(lf)}}}")"')
            lines.append(f'printf \'%s\\n\' "${{{lf.var}}}" > "${{{_path_var(lf)}}}"')
        return lines


def _path_var(lf: ListFile) -> str:
    return lf.var + "_FILE"


def shell_line(args: tuple[Arg, ...] | list[Arg], head: str) -> str:
    """`head` (e.g. `jmo scan`) followed by each arg, values as quoted `"$VAR"` references."""
    return " ".join([head, *(a.shell() for a in args)])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def build_plan(job: JobTemplateSpec, results_dir: str | None = None) -> ScanPlan:
    """The scan and report command lines for `job`. `results_dir` overrides results.dir
    (the local runner scans into a fresh folder per run)."""
    targets = job.targets or {}
    options = job.options or {}
    results = results_dir or _text((job.results or {}).get("dir") or DEFAULT_RESULTS_DIR)
    scan: list[Arg] = []
    files: list[ListFile] = []
    for key, flag, var in _TARGET_FLAGS:
        if targets.get(key) not in (None, ""):
            scan.append(Arg(flag, _text(targets[key]), var))
    for key, single, file_flag, var in _LISTS:
        values = targets.get(key)
        if not values:
            continue
        values = [values] if isinstance(values, str) else [_text(v) for v in values]
        if len(values) == 1:
            scan.append(Arg(single, values[0], var[:-1]))  # JMO_IMAGE / JMO_URL
        else:
            path = f"{results.rstrip('/')}/{INPUTS_DIR}/{key}.txt"
            lf = ListFile(path, tuple(values), var)
            files.append(lf)
            scan.append(Arg(file_flag, path, _path_var(lf)))
    if targets.get("k8s_all_namespaces") is True:
        scan.append(Arg("--k8s-all-namespaces"))
    scan.append(Arg("--results-dir", results, "JMO_RESULTS_DIR"))
    if job.profile:
        scan.append(Arg("--profile-name", _text(job.profile), "JMO_PROFILE"))
    if options.get("timeout") is not None:
        scan.append(Arg("--timeout", _text(options["timeout"]), "JMO_TIMEOUT"))
    if options.get("threads") is not None:
        scan.append(Arg("--threads", _text(options["threads"]), "JMO_THREADS"))
    if options.get("allow_missing_tools") is True:
        scan.append(Arg("--allow-missing-tools"))
    if options.get("log_level"):
        scan.append(Arg("--log-level", _text(options["log_level"]), "JMO_LOG_LEVEL"))
    if options.get("human_logs") is True:
        scan.append(Arg("--human-logs"))
    fail_on = options.get("fail_on")
    report = [Arg("--results-dir", results, "JMO_RESULTS_DIR")]
    if fail_on:
        report.append(Arg("--fail-on", _text(fail_on), "JMO_FAIL_ON"))
    return ScanPlan(tuple(scan), tuple(report), results, fail_on, tuple(files))
