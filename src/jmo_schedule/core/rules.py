"""The rules of a schedules file, as data: the names and constants of the model, the
patterns a value must match, and for each field that takes a value of some kind the Kind
that knows both how the validator checks it and how the JSON Schema states it.

`validate.py` walks a document with these tables; `scripts/generate_schema.py` turns the
same tables into schema/schedules.schema.json. A field's rule is written once, here.
"""
from __future__ import annotations

import re

from ..printable import CONTROL_CLASS

TYPE_CHECKING = False  # the validate path stays free of typing (start-up budget, bench/cli_startup.py)
if TYPE_CHECKING:
    from typing import Any

API_VERSION = "jmo.security/v1alpha1"
KIND = "ScanSchedule"
LIST_KIND = "ScanScheduleList"

CONCURRENCY_POLICIES = ("Forbid", "Allow", "Replace")
BACKEND_TYPES = ("github-actions", "gitlab-ci", "local-cron", "kubernetes")
PROFILES = ("fast", "slim", "balanced", "deep")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
DEFAULT_BACKEND = "local-cron"
DEFAULT_PROFILE = "balanced"
# spec fields the model fills in when a file leaves them out.
SPEC_DEFAULTS: dict[str, Any] = {
    "timezone": "UTC",
    "suspend": False,
    "concurrencyPolicy": "Forbid",
    "successfulJobsHistoryLimit": 30,
    "failedJobsHistoryLimit": 10,
}



class LazyPattern:
    """A regular expression compiled the first time it is used: the rules hold patterns
    most files never need (timestamps, uids, durations), and compiling them all at import
    would cost every `validate` start-up (bench/cli_startup.py)."""

    __slots__ = ("pattern", "flags", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled().match(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled().search(text)


MAX_NAME = 63
# The kubernetes backend's CronJob is `jmo-<name>`; Kubernetes allows a CronJob name at most
# 52 characters, because its controller appends 11 (`-<minutes>`) to name each Job.
CRONJOB_PREFIX = "jmo-"
MAX_CRONJOB_NAME = 52
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
DNS_SUBDOMAIN_RE = LazyPattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# Variables a channel's `url: ${NAME}` may not name. The name becomes a variable of the job
# or step that notifies (GitHub step env, GitLab job variable, Kubernetes container env,
# the local run's notify environment), so it would replace the job's own value. Each group
# says why: where programs and libraries are found (PATH, LD_*, DYLD_*, PYTHON*, PIP_*,
# NODE_OPTIONS); what shells run at start (ENV, BASH_ENV, BASH_FUNC_*, IFS, PS4,
# PROMPT_COMMAND, SHELLOPTS, BASHOPTS, CDPATH); who and where the job is (HOME, USER,
# LOGNAME, SHELL, PWD, TMPDIR); whom its HTTP trusts or goes through (proxies in both
# cases, CA bundles); and the platforms' and this tool's own (CI, CI_*, GITLAB_*, GITHUB_*,
# RUNNER_*, ACTIONS_*, KUBERNETES_*, JMO_*). GitHub refuses secrets named GITHUB_* anyway.
RESERVED_ENV_NAMES = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "TMPDIR", "ENV", "BASH_ENV", "IFS", "PS4", "PROMPT_COMMAND",
    "SHELLOPTS", "BASHOPTS", "CDPATH", "NODE_OPTIONS", "CI", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
    "no_proxy",
)
RESERVED_ENV_PREFIXES = ("JMO_", "CI_", "GITHUB_", "GITLAB_", "RUNNER_", "ACTIONS_", "KUBERNETES_", "LD_", "DYLD_",
                         "PYTHON", "PIP_", "BASH_FUNC_")
# The `${NAME}` references that name one of them (for the schema; validate says which rule).
RESERVED_ENV_REF_RE = LazyPattern(r"^\$\{(" + "|".join(RESERVED_ENV_NAMES) + "|(" + "|".join(RESERVED_ENV_PREFIXES)
                                 + r")[A-Za-z0-9_]*)\}$")


def reserved_env(name: str) -> str | None:
    """The rule that reserves the variable `name` ("PATH", "JMO_*"), None when it is free."""
    if name in RESERVED_ENV_NAMES:
        return name
    return next((f"{prefix}*" for prefix in RESERVED_ENV_PREFIXES if name.startswith(prefix)), None)


RFC3339_RE = LazyPattern(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.ASCII)  # \d: ASCII only
CONTROL_RE = re.compile(f"[{CONTROL_CLASS}]")  # C0, DEL, C1, U+2028, U+2029
# `uses:` of this project's action (owner/repo[/path]@ref); written into generated workflows.
ACTION_REF_RE = LazyPattern(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[A-Za-z0-9_./-]+$")
UID_RE = LazyPattern(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GITLAB_DURATION_RE = LazyPattern(r"^\s*\d+(\.\d+)?\s*(s|sec|seconds?|m|min|minutes?|h|hr|hours?|d|days?|w|weeks?)?(\s+\d+(\.\d+)?\s*(s|sec|seconds?|m|min|minutes?|h|hr|hours?|d|days?|w|weeks?)?)*\s*$", re.I | re.ASCII)

# What GitLab's own expansion (tags) reads as a variable reference.
GITLAB_REFERENCE_RE = LazyPattern(r"\$[A-Za-z_]|\$\{[A-Za-z_][A-Za-z0-9_]*\}|%[A-Za-z_][A-Za-z0-9_]*%")

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
LIST_FIELDS = ("apiVersion", "kind", "metadata", "items")
METADATA_FIELDS = ("name", "uid", "labels", "annotations", "creationTimestamp", "generation", "resourceVersion")
SPEC_FIELDS = (
    "schedule", "timezone", "suspend", "concurrencyPolicy", "startingDeadlineSeconds",
    "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "backend", "jobTemplate",
)
BACKEND_FIELDS = ("type", "config")
JOB_FIELDS = ("profile", "targets", "results", "options", "notifications")
STATUS_FIELDS = (
    "conditions", "nextScheduleTime", "lastScheduleTime", "lastSuccessfulTime", "active", "succeeded", "failed",
)
CONDITION_FIELDS = ("type", "status", "lastTransitionTime", "reason", "message")
NOTIFICATION_FIELDS = ("enabled", "channels")
CHANNEL_FIELDS = ("type", "url", "events", "minSeverity")
CHANNEL_REQUIRED = ("type", "url")
# What a channel is told of (docs/notifications.md, "Events"); a failure reaches every channel.
EVENTS = ("success", "failure", "new-findings", "skipped", "missed")
DEFAULT_EVENTS = ("success", "failure")
RESULTS_FIELDS = ("dir",)

GITLAB_RETRY_WHEN = (
    "always", "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure",
    "runner_system_failure", "runner_unsupported", "stale_schedule", "job_execution_timeout", "archived_failure",
    "unmet_prerequisites", "scheduler_failure", "data_integrity_failure",
)
GITLAB_RESERVED_STAGES = (".pre", ".post")
# Schedulers that start runs late on their own cadence, and why: a startingDeadlineSeconds
# under LATE_START_SECONDS makes the guard skip runs the platform merely started late.
LATE_START_BACKENDS: dict[str, str] = {
    "github-actions": "GitHub Actions starts scheduled runs late at busy times (the start of every hour most) "
                      "and may drop them",
    "gitlab-ci": "GitLab's pipeline schedule worker starts scheduled pipelines on its own cadence "
                 "(every 5 minutes on GitLab.com, every 10 by default on GitLab Self-Managed), later under load",
}
LATE_START_SECONDS = 15 * 60
# What minute 0 costs on the schedulers where hand-written schedules pile onto round minutes.
TOP_OF_HOUR: dict[str, str] = {
    "github-actions": "GitHub Actions is busiest: scheduled runs start late or are dropped most then",
    "gitlab-ci": "GitLab's pipeline schedules pile up: GitLab names top-of-the-hour schedules its biggest source of "
                 "queue congestion",
}
# backend -> round minutes warned about: on every load, and by `validate`'s lint (core/lint.py).
LOAD_ROUND_MINUTES: dict[str, tuple[int, ...]] = {"github-actions": (0,)}
LINT_ROUND_MINUTES: dict[str, tuple[int, ...]] = {"github-actions": (0, 30), "gitlab-ci": (0, 30)}
# Backends the lint wants a startingDeadlineSeconds on (the CronJob controller's catch-up).
LINT_DEADLINE_BACKENDS = ("kubernetes",)

# JSON Schema pieces for the strings the validator accepts: one line of text (no control
# character or line separator; an annotation value may be empty), not empty elsewhere.
ONE_LINE_SCHEMA: dict[str, Any] = {"type": "string", "pattern": f"^[^{CONTROL_CLASS}]*$"}
STRING_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": ONE_LINE_SCHEMA["pattern"]}
STR_LIST_SCHEMA: dict[str, Any] = {"type": "array", "items": STRING_SCHEMA, "minItems": 1}


def int_schema(lo: int | None = None, hi: int | None = None, nullable: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["integer", "null"] if nullable else "integer"}
    if lo is not None:
        out["minimum"] = lo
    if hi is not None:
        out["maximum"] = hi
    return out


def ignore_case(pattern: str) -> str:
    """Spell a case-insensitive Python pattern for ECMA-262 (which has no inline flags):
    every letter outside a character class and not after a backslash becomes [xX]."""
    out, in_class, escaped = [], False, False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == "[":
            in_class = True
            out.append(ch)
        elif ch == "]":
            in_class = False
            out.append(ch)
        elif ch.isalpha() and not in_class:
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------------------
# Kinds of values: `check(c, value, path)` reports through the validator's Checker `c`
# (True when the value is fine); `schema()` is the same rule as JSON Schema.


class Kind:
    def check(self, c: Any, value: Any, path: tuple) -> bool:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


class Str(Kind):
    """A non-empty string without control characters."""

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        return bool(c.string(value, path))

    def schema(self) -> dict[str, Any]:
        return STRING_SCHEMA


class StrList(Kind):
    """A non-empty list of such strings."""

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        return bool(c.str_list(value, path))

    def schema(self) -> dict[str, Any]:
        return STR_LIST_SCHEMA


class GitLabTags(Kind):
    """Runner tags. GitLab replaces $NAME, ${NAME} and %NAME% in tags with variables' values
    before it picks a runner, and has no escape for them (lib/expand_variables.rb), so a tag
    holding one cannot be written literally: it is refused."""

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        if not c.str_list(value, path):
            return False
        for i, tag in enumerate(value):
            if GITLAB_REFERENCE_RE.search(tag):
                c.error(path + (i,), f"{tag!r}: GitLab replaces $NAME, ${{NAME}} and %NAME% in tags with CI/CD "
                                     "variables and has no escape for them; a tag cannot hold one")
                return False
        return True

    def schema(self) -> dict[str, Any]:
        tag = {**STRING_SCHEMA, "not": {"pattern": GITLAB_REFERENCE_RE.pattern}}
        return {**STR_LIST_SCHEMA, "items": tag}


class StrOrList(Kind):
    """One string, or a list of them (GitHub's runs-on)."""

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        return bool(c.str_list(value, path) if isinstance(value, list) else c.string(value, path))

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [STRING_SCHEMA, STR_LIST_SCHEMA]}


class Bool(Kind):
    def check(self, c: Any, value: Any, path: tuple) -> bool:
        return bool(c.boolean(value, path))

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Int(Kind):
    """A whole number within [lo, hi]; with `nullable`, null is accepted too."""

    def __init__(self, lo: int | None = None, hi: int | None = None, nullable: bool = False) -> None:
        self.lo, self.hi, self.nullable = lo, hi, nullable

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        if value is None and self.nullable:
            return True
        return bool(c.integer(value, path, self.lo, self.hi))

    def schema(self) -> dict[str, Any]:
        return int_schema(self.lo, self.hi, self.nullable)


class Enum(Kind):
    """One of `choices`."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        return bool(c.enum(value, path, self.choices))

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Pattern(Kind):
    """A string matching `regex` (`what` names it in the message)."""

    def __init__(self, regex: LazyPattern, what: str, schema_pattern: str | None = None) -> None:
        self.regex, self.what, self.schema_pattern = regex, what, schema_pattern

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        if not c.string(value, path):
            return False
        if not self.regex.match(value):
            c.error(path, f"{value!r} is not {self.what}")
            return False
        return True

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": self.schema_pattern or self.regex.pattern}


class GitLabStage(Kind):
    """A stage name, but not .pre / .post: a pipeline of only those jobs never runs."""

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        if not c.string(value, path):
            return False
        if value in GITLAB_RESERVED_STAGES:
            c.error(path, f"{value}: GitLab does not run a pipeline that has only .pre/.post jobs, so the scan "
                          "might never run; use a stage from your stages: list (default test)")
            return False
        return True

    def schema(self) -> dict[str, Any]:
        return {**STRING_SCHEMA, "not": {"enum": list(GITLAB_RESERVED_STAGES)}}


class GitLabRetry(Kind):
    """GitLab's `retry:`: 0-2, or {max, when, exit_codes}."""

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        before = len(c.problems)
        if not isinstance(value, dict):
            c.integer(value, path, 0, 2)
            return len(c.problems) == before
        retry = c.mapping(value, path, ("max", "when", "exit_codes"))
        if retry is None:
            return False
        if "max" in retry:
            c.integer(retry["max"], path + ("max",), 0, 2)
        if "when" in retry:
            whens = retry["when"] if isinstance(retry["when"], list) else [retry["when"]]
            for i, w in enumerate(whens):
                c.enum(w, path + ("when", i) if isinstance(retry["when"], list) else path + ("when",), GITLAB_RETRY_WHEN)
        if "exit_codes" in retry:
            if isinstance(retry["exit_codes"], list):
                for i, code in enumerate(retry["exit_codes"]):
                    c.integer(code, path + ("exit_codes", i), 0, 255)
            else:
                c.integer(retry["exit_codes"], path + ("exit_codes",), 0, 255)
        return len(c.problems) == before

    def schema(self) -> dict[str, Any]:
        when = {"enum": list(GITLAB_RETRY_WHEN)}
        code = int_schema(0, 255)
        return {"oneOf": [
            int_schema(0, 2),
            {"type": "object", "additionalProperties": False, "properties": {
                "max": int_schema(0, 2),
                "when": {"oneOf": [when, {"type": "array", "items": when}]},
                "exit_codes": {"oneOf": [code, {"type": "array", "items": code}]},
            }},
        ]}


class Choices(Kind):
    """A non-empty list of distinct values from `choices`; an unknown one names the closest."""

    def __init__(self, choices: tuple[str, ...], default: tuple[str, ...]) -> None:
        self.choices, self.default = choices, default

    def check(self, c: Any, value: Any, path: tuple) -> bool:
        if not isinstance(value, list):
            c.error(path, f"expected a list such as [{', '.join(self.default)}], got {c.type_name(value)}")
            return False
        if not value:
            c.error(path, "must not be an empty list")
            return False
        ok = True
        for i, item in enumerate(value):
            if item not in self.choices:
                shown = repr(item) if isinstance(item, str) else c.type_name(item)
                hint = c.suggest(item, self.choices) if isinstance(item, str) else ""
                c.error(path + (i,), f"{shown} is not one of {', '.join(self.choices)}"
                        + (f" (did you mean {hint}?)" if hint else ""))
                ok = False
            elif item in value[:i]:
                c.error(path + (i,), f"{item} is listed twice")
                ok = False
        return ok

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"enum": list(self.choices)}, "minItems": 1, "uniqueItems": True,
                "default": list(self.default)}


# --------------------------------------------------------------------------------------
# The tables

# spec fields that take a plain value (schedule, timezone, backend and jobTemplate have
# checks of their own in validate.py).
SPEC_KINDS: dict[str, Kind] = {
    "suspend": Bool(),
    "concurrencyPolicy": Enum(CONCURRENCY_POLICIES),
    "startingDeadlineSeconds": Int(0, nullable=True),
    "successfulJobsHistoryLimit": Int(0, 10_000),
    "failedJobsHistoryLimit": Int(0, 10_000),
}

# Targets: one repository source at most (the scanner's --repo / --repos-dir / --targets
# are mutually exclusive), plus any of the others.
REPO_SOURCES = ("repo", "repos_dir", "targets_file")
TARGET_KINDS: dict[str, Kind] = {
    "repo": Str(), "repos_dir": Str(), "targets_file": Str(),
    "images": StrList(), "images_file": Str(),
    "urls": StrList(), "urls_file": Str(),
    "api_spec": Str(), "k8s_context": Str(), "k8s_namespace": Str(), "k8s_all_namespaces": Bool(),
}
EXCLUSIVE_TARGETS = (("images", "images_file"), ("urls", "urls_file"), ("k8s_namespace", "k8s_all_namespaces"))

OPTION_KINDS: dict[str, Kind] = {
    "fail_on": Enum(SEVERITIES),
    "threads": Int(1, 256),
    "timeout": Int(1, 7 * 24 * 3600),
    "allow_missing_tools": Bool(),
    "human_logs": Bool(),
    "log_level": Enum(LOG_LEVELS),
}

# A channel's routing (type and url have checks of their own in validate.py).
CHANNEL_KINDS: dict[str, Kind] = {
    "events": Choices(EVENTS, DEFAULT_EVENTS),
    "minSeverity": Enum(SEVERITIES),
}

# backend.config keys each backend understands.
BACKEND_CONFIG: dict[str, dict[str, Kind]] = {
    "github-actions": {
        "image": Str(), "runs-on": StrOrList(), "environment": Str(),
        "action": Pattern(ACTION_REF_RE, "an action reference such as jmo/schedule-action@<commit sha>"),
        "codeScanning": Bool(),
    },
    "gitlab-ci": {
        "image": Str(), "tags": GitLabTags(),
        "timeout": Pattern(GITLAB_DURATION_RE, 'a duration such as 1h, 30m or "1h 30m"',
                           ignore_case(GITLAB_DURATION_RE.pattern)),
        "retry": GitLabRetry(), "ref": Str(), "stage": GitLabStage(),
    },
    "kubernetes": {
        "image": Str(), "namespace": Str(), "serviceAccountName": Str(), "resultsVolumeClaim": Str(),
        "webhookSecret": Str(), "imagePullSecrets": StrList(),
    },
    "local-cron": {"scanner": Str()},
}
