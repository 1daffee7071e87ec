"""Validation of ScanSchedule objects given as plain dicts (from a file or from the model).

Every problem names the field path and, when the object came from a file, its line and
column. All problems of an input are collected, none stops the others. `committed=True`
applies the rules for files kept in git (no literal webhook URLs).
"""
from __future__ import annotations

import functools

from ..errors import Problem
from . import cron, hcron
from .rules import (
    API_VERSION,
    BACKEND_CONFIG,
    BACKEND_FIELDS,
    BACKEND_TYPES,
    CHANNEL_FIELDS,
    CHANNEL_KINDS,
    CONDITION_FIELDS,
    CONTROL_RE,
    CRONJOB_PREFIX,
    DEFAULT_BACKEND,
    DNS_SUBDOMAIN_RE,
    ENV_REF_RE,
    reserved_env,
    EXCLUSIVE_TARGETS,
    JOB_FIELDS,
    KIND,
    LABEL_NAME_RE,
    LATE_START_BACKENDS,
    LATE_START_SECONDS,
    LOAD_ROUND_MINUTES,
    LIST_FIELDS,
    LIST_KIND,
    MAX_CRONJOB_NAME,
    MAX_NAME,
    METADATA_FIELDS,
    NAME_RE,
    NOTIFICATION_FIELDS,
    OPTION_KINDS,
    PROFILES,
    REPO_SOURCES,
    RESULTS_FIELDS,
    RFC3339_RE,
    SPEC_FIELDS,
    SPEC_KINDS,
    STATUS_FIELDS,
    TARGET_KINDS,
    TOP_FIELDS,
    TOP_OF_HOUR,
    UID_RE,
)
from .yamltext import MAX_INT_BITS, Document

TYPE_CHECKING = False  # the validate path stays free of typing (start-up budget, bench/cli_startup.py)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def suggest(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    """The allowed field `key` most likely meant, or ""."""
    import difflib  # only for a file with a wrong key: valid files never pay for it

    lowered = {a.lower(): a for a in allowed}
    if key.lower() in lowered:
        return lowered[key.lower()]
    plain = {a.lower().replace("_", "").replace("-", ""): a for a in allowed}
    k = key.lower().replace("_", "").replace("-", "")
    if k in plain:
        return plain[k]
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return close[0] if close else ""


@functools.lru_cache(maxsize=4096)
def _parse_cron(expr: str) -> Any:
    try:
        return cron.parse(expr)
    except cron.CronError as exc:
        return exc


@functools.lru_cache(maxsize=1024)
def _zone_error(name: str) -> str | None:
    try:
        cron.check_zone_name(name)  # the name only: loading the zone costs `validate` its zoneinfo import
    except ValueError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=4096)
def _min_interval(expr: str) -> int:
    return cron.min_interval_minutes(expr)


class Checker:
    """Collects problems for one document, resolving paths to file positions."""

    type_name = staticmethod(type_name)  # for the Kinds in rules.py
    suggest = staticmethod(suggest)
    # hook (issue 16): core/check.py sets it; an H cron is hashed for this file's repository
    resolver: hcron.Resolver | None = None

    def __init__(self, filename: str, doc: Document | None, committed: bool, source_lines: list[str] | None = None):
        self.filename = filename
        self.doc = doc
        self.committed = committed
        self.lines = source_lines
        self.problems: list[Problem] = []

    # -- reporting -----------------------------------------------------------
    def _pos(self, path: tuple, key: bool) -> tuple[int | None, int | None]:
        if self.doc is None:
            return (None, None)
        return self.doc.where(path, key=key)

    def error(self, path: tuple, message: str, key: bool = False, severity: str = "error", offset: int | None = None) -> None:
        line, column = self._pos(path, key)
        if offset is not None and line is not None and column is not None and self.lines is not None:
            text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            quoted = column - 1 < len(text) and text[column - 1] in "'\""
            column += offset + (1 if quoted else 0)
        self.problems.append(Problem(self.filename, line, column, path_text(path), message, severity))

    def warn(self, path: tuple, message: str) -> None:
        self.error(path, message, severity="warning")

    # -- shape helpers --------------------------------------------------------
    def mapping(self, value: Any, path: tuple, allowed: tuple[str, ...] | list[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {type_name(value)}")
            return None
        for key in value:
            if key not in allowed:
                hint = suggest(str(key), allowed)
                msg = f"unknown field (did you mean {hint}?)" if hint else f"unknown field (expected one of: {', '.join(allowed)})"
                self.error(path + (key,), msg, key=True)
        return value

    def string(self, value: Any, path: tuple, *, allow_empty: bool = False, safe: bool = True) -> bool:
        if not isinstance(value, str):
            self.error(path, f"expected a string, got {type_name(value)}")
            return False
        if not allow_empty and not value.strip():
            self.error(path, "must not be empty")
            return False
        if safe and CONTROL_RE.search(value):
            self.error(path, "must not contain a newline or other control character")
            return False
        return True

    def boolean(self, value: Any, path: tuple) -> bool:
        if not isinstance(value, bool):
            self.error(path, f"expected true or false, got {type_name(value)}")
            return False
        return True

    def integer(self, value: Any, path: tuple, lo: int | None = None, hi: int | None = None) -> bool:
        if isinstance(value, float) and not isinstance(value, bool):
            self.error(path, f"expected a whole number, got {value!r}")
            return False
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"expected a whole number, got {type_name(value)}")
            return False
        if value.bit_length() > MAX_INT_BITS:  # from Python; str() of a huge int raises
            self.error(path, "is too large for any field")
            return False
        if hi is not None and lo is not None and not lo <= value <= hi:
            self.error(path, f"{value} is outside {lo}-{hi}")
            return False
        if lo is not None and value < lo:
            self.error(path, f"{value} is less than {lo}")
            return False
        return True

    def enum(self, value: Any, path: tuple, choices: tuple[str, ...]) -> bool:
        if value not in choices:
            shown = repr(value) if isinstance(value, str) else type_name(value)
            self.error(path, f"{shown} is not one of {', '.join(choices)}")
            return False
        return True

    def str_list(self, value: Any, path: tuple) -> bool:
        if not isinstance(value, list):
            self.error(path, f"expected a list of strings, got {type_name(value)}")
            return False
        if not value:
            self.error(path, "must not be an empty list")
            return False
        return all([self.string(v, path + (i,)) for i, v in enumerate(value)])


def path_text(path: tuple) -> str:
    """`spec.jobTemplate.targets.images[1]`; a key that is not a plain word is quoted,
    so the path stays one line: `spec["bad\\nkey"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif CONTROL_RE.search(str(part)):
            import json  # only for a key holding a control character: valid files never pay for it

            out += "[" + json.dumps(str(part), ensure_ascii=False) + "]"
        else:
            out += ("." if out else "") + str(part)
    return out


# --------------------------------------------------------------------------------------
# The object checks


def check_schedule(c: Checker, obj: Any, base: tuple = (), list_item: bool = False) -> bool:
    """Check one ScanSchedule dict; returns True when it has no errors."""
    before = sum(p.severity == "error" for p in c.problems)
    top = c.mapping(obj, base, TOP_FIELDS)
    if top is None:
        return False
    if "apiVersion" not in top:
        if not list_item:
            c.error(base, f"apiVersion is required (apiVersion: {API_VERSION})")
    elif top["apiVersion"] != API_VERSION:
        c.error(base + ("apiVersion",), f"{top['apiVersion']!r} is not supported; expected {API_VERSION}")
    if "kind" not in top:
        if not list_item:
            c.error(base, f"kind is required (kind: {KIND})")
    elif top["kind"] != KIND:
        c.error(base + ("kind",), f"{top['kind']!r} is not supported; expected {KIND}")
    if "metadata" not in top:
        c.error(base, "metadata is required (metadata: {name: ...})")
    else:
        check_metadata(c, top["metadata"], base + ("metadata",))
    if "spec" not in top:
        c.error(base, "spec is required")
    else:
        backend = check_spec(c, top["spec"], base + ("spec",))
        # hook (issue 16): the platform warnings judge the concrete cron an H cron resolves to
        platform_warnings(c, top["spec"], base + ("spec",), backend, resolved=hcron.concrete_cron(c.resolver, top))
        if backend == "kubernetes" and isinstance(top.get("metadata"), dict):
            check_cronjob_name(c, top["metadata"].get("name"), base + ("metadata", "name"))
    if "status" in top:
        if c.committed:
            c.warn(base + ("status",), "status is written by jmo-schedule and ignored in a committed file")
        else:
            check_status(c, top["status"], base + ("status",))
    return sum(p.severity == "error" for p in c.problems) == before


def check_metadata(c: Checker, value: Any, path: tuple) -> None:
    meta = c.mapping(value, path, METADATA_FIELDS)
    if meta is None:
        return
    if "name" not in meta:
        c.error(path, "name is required")
    else:
        check_name(c, meta["name"], path + ("name",))
    if "uid" in meta and c.string(meta["uid"], path + ("uid",)) and not UID_RE.match(meta["uid"]):
        c.error(path + ("uid",), "must be a lowercase UUID")
    for key in ("labels", "annotations"):
        if key in meta:
            check_labels(c, meta[key], path + (key,), values_are_labels=(key == "labels"))
    if "creationTimestamp" in meta and meta["creationTimestamp"] is not None:
        check_timestamp(c, meta["creationTimestamp"], path + ("creationTimestamp",))
    if "generation" in meta and meta["generation"] is not None:
        c.integer(meta["generation"], path + ("generation",), 1)
    if "resourceVersion" in meta and meta["resourceVersion"] is not None:
        c.string(meta["resourceVersion"], path + ("resourceVersion",))


def check_name(c: Checker, name: Any, path: tuple) -> None:
    if not isinstance(name, str):
        c.error(path, f"expected a string, got {type_name(name)}")
    elif not name:
        c.error(path, "must not be empty")
    elif len(name) > MAX_NAME:
        c.error(path, f"is {len(name)} characters; a name has at most {MAX_NAME}")
    elif not NAME_RE.match(name):
        c.error(
            path,
            f"{name!r} is not a DNS-1123 label: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
        )


def check_cronjob_name(c: Checker, name: Any, path: tuple) -> None:
    """A kubernetes schedule's name must leave its CronJob name within Kubernetes' limit."""
    longest = MAX_CRONJOB_NAME - len(CRONJOB_PREFIX)
    if isinstance(name, str) and longest < len(name) <= MAX_NAME and NAME_RE.match(name):
        c.error(path, f"is {len(name)} characters; the kubernetes backend names its CronJob {CRONJOB_PREFIX}<name> and "
                      f"Kubernetes allows CronJob names of at most {MAX_CRONJOB_NAME} characters (it appends 11 to "
                      f"name each Job), so a kubernetes schedule's name has at most {longest}")


def check_labels(c: Checker, value: Any, path: tuple, values_are_labels: bool) -> None:
    if not isinstance(value, dict):
        c.error(path, f"expected a mapping, got {type_name(value)}")
        return
    for key, val in value.items():
        kpath = path + (key,)
        problem = label_key_problem(str(key))
        if problem:
            c.error(kpath, problem, key=True)
        if not isinstance(val, str):
            hint = f"; quote it: \"{val}\"" if isinstance(val, (int, float, bool)) else ""
            c.error(kpath, f"values must be strings, got {type_name(val)}{hint}")
        elif not values_are_labels:
            if CONTROL_RE.search(val):
                c.error(kpath, "must not contain a newline or other control character")
        else:
            if len(val) > 63:
                c.error(kpath, f"label value is {len(val)} characters; at most 63")
            elif val and not LABEL_NAME_RE.match(val):
                c.error(
                    kpath,
                    f"label value {val!r} must use letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
                )


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid Kubernetes label/annotation key, or None."""
    prefix, _, name = key.rpartition("/")
    if prefix:
        if len(prefix) > 253 or not DNS_SUBDOMAIN_RE.match(prefix):
            return f"key prefix {prefix!r} must be a DNS subdomain (lowercase, '.', '-'), at most 253 characters"
    if not name:
        return "key must not be empty"
    if len(name) > 63:
        return f"key name {name!r} is {len(name)} characters; at most 63"
    if not LABEL_NAME_RE.match(name):
        return f"key {key!r} must use letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def check_timestamp(c: Checker, value: Any, path: tuple) -> None:
    if c.string(value, path) and not RFC3339_RE.match(value):
        c.error(path, f"{value!r} is not an RFC 3339 time such as 2025-10-29T02:00:00Z")


def check_spec(c: Checker, value: Any, path: tuple) -> str | None:
    spec = c.mapping(value, path, SPEC_FIELDS)
    if spec is None:
        return None
    if "schedule" not in spec:
        c.error(path, "schedule is required (a 5-field cron expression such as \"0 2 * * 1\")")
    else:
        check_cron(c, spec["schedule"], path + ("schedule",))
    if "timezone" in spec and c.string(spec["timezone"], path + ("timezone",)):
        err = _zone_error(spec["timezone"])
        if err:
            c.error(path + ("timezone",), err)
    for key, kind in SPEC_KINDS.items():
        if key in spec:
            kind.check(c, spec[key], path + (key,))
    backend_type = DEFAULT_BACKEND
    if "backend" in spec:
        backend_type = check_backend(c, spec["backend"], path + ("backend",)) or backend_type
    if "jobTemplate" in spec:
        check_job(c, spec["jobTemplate"], path + ("jobTemplate",))
    return backend_type


def platform_warnings(c: Checker, spec: Any, path: tuple, backend: str | None,
                      late_start: Mapping[str, str] = LATE_START_BACKENDS, resolved: str | None = None,
                      round_minutes: Mapping[str, tuple[int, ...]] = LOAD_ROUND_MINUTES,
                      deadline_required: tuple[str, ...] = ()) -> None:
    """Warnings about what a backend's platform does to a valid spec (the line is the field's).

    On the backends in `late_start` (backend -> why its scheduler starts runs late), a
    startingDeadlineSeconds under LATE_START_SECONDS; on those in `deadline_required`, none
    at all. On github-actions a cron firing more often than every 5 minutes (GitHub's
    shortest interval). On the backends in `round_minutes` a cron at one of their round
    minutes (minute 0 is the busiest), unless its minute was written as H, whose resolved
    concrete cron is `resolved`. `validate`'s lint calls this again with its wider tables.
    """
    if not isinstance(spec, dict):
        return
    deadline = spec.get("startingDeadlineSeconds")
    if backend is not None and backend in late_start and isinstance(deadline, int) and not isinstance(deadline, bool) \
            and 0 <= deadline < LATE_START_SECONDS:
        c.warn(path + ("startingDeadlineSeconds",),
               f"{deadline} is under {LATE_START_SECONDS // 60} minutes: {late_start[backend]}, so the guard would skip "
               f"runs that only started late; use {LATE_START_SECONDS} or more")
    if backend in deadline_required and spec.get("startingDeadlineSeconds") is None:
        c.error(path, "no startingDeadlineSeconds: a run the CronJob controller missed starts however late, and after "
                      "more than 100 missed schedules it starts none; set one, such as 3600", key=True, severity="warning")
    written = spec.get("schedule")
    expr = resolved if resolved is not None else written
    if not isinstance(expr, str) or isinstance(_parse_cron(expr), Exception):
        return
    if backend == "github-actions" and _min_interval(expr) < 5:
        c.warn(path + ("schedule",),
               "fires more often than every 5 minutes; GitHub Actions runs schedules at most every 5 minutes")
        return
    hit = [m for m in round_minutes.get(backend or "", ()) if m in _parse_cron(expr).minutes]
    if hit and not hcron.minute_hashed(written):
        minute = hit[0]
        why = f"when {TOP_OF_HOUR[backend or '']}" if minute == 0 else "a round minute where schedules pile up too"
        example = hcron.suggest_minute(expr)
        c.warn(path + ("schedule",),
               f"fires at minute {minute}, {why}; write the minute as H{f' ({example})' if example else ''} "
               "to spread it, or pick another minute such as 17")


def check_cron(c: Checker, value: Any, path: tuple) -> None:
    if not isinstance(value, str):
        c.error(path, f"expected a cron expression string, got {type_name(value)}")
        return
    # hook (issue 16): H items (Jenkins' hash) are checked by hcron, with their columns
    parsed = hcron.check_for(value, c.resolver) if hcron.has_hash(value) else _parse_cron(value)
    if isinstance(parsed, Exception):
        c.error(path, parsed.message, offset=getattr(parsed, "offset", None))  # type: ignore[attr-defined]


def check_backend(c: Checker, value: Any, path: tuple) -> str | None:
    backend = c.mapping(value, path, BACKEND_FIELDS)
    if backend is None:
        return None
    btype = backend.get("type", DEFAULT_BACKEND)
    if not c.enum(btype, path + ("type",), BACKEND_TYPES):
        return None
    config = backend.get("config", {})
    if config is None:
        return btype
    allowed = BACKEND_CONFIG[btype]
    cfg = c.mapping(config, path + ("config",), tuple(allowed))
    if cfg is None:
        return btype
    for key, val in cfg.items():
        if key in allowed:
            allowed[key].check(c, val, path + ("config", key))
    return btype


def check_job(c: Checker, value: Any, path: tuple) -> None:
    job = c.mapping(value, path, JOB_FIELDS)
    if job is None:
        return
    if "profile" in job:
        c.enum(job["profile"], path + ("profile",), PROFILES)
    if "targets" in job:
        check_targets(c, job["targets"], path + ("targets",))
    if "results" in job:
        results = c.mapping(job["results"], path + ("results",), RESULTS_FIELDS)
        if results and "dir" in results:
            if c.string(results["dir"], path + ("results", "dir")) and "${{" in results["dir"]:
                # The folder is an input of the upload steps, where GitHub evaluates `${{`.
                c.error(path + ("results", "dir"), "must not contain '${{' (CI systems read it as an expression)")
    if "options" in job:
        check_options(c, job["options"], path + ("options",))
    if "notifications" in job:
        check_notifications(c, job["notifications"], path + ("notifications",))


def check_targets(c: Checker, value: Any, path: tuple) -> None:
    targets = c.mapping(value, path, tuple(TARGET_KINDS))
    if targets is None:
        return
    for key, val in targets.items():
        if key in TARGET_KINDS:
            TARGET_KINDS[key].check(c, val, path + (key,))
    sources = [k for k in REPO_SOURCES if k in targets]
    if len(sources) > 1:
        c.error(
            path + (sources[1],),
            f"{' and '.join(sources)} cannot be combined: the scanner takes one of "
            "--repo, --repos-dir or --targets",
            key=True,
        )
    for a, b in EXCLUSIVE_TARGETS:
        if a in targets and b in targets:
            c.error(path + (b,), f"{a} and {b} cannot be combined; use one of them", key=True)


def check_options(c: Checker, value: Any, path: tuple) -> None:
    options = c.mapping(value, path, tuple(OPTION_KINDS))
    if options is None:
        return
    for key, val in options.items():
        if key in OPTION_KINDS:
            OPTION_KINDS[key].check(c, val, path + (key,))


def check_notifications(c: Checker, value: Any, path: tuple) -> None:
    notif = c.mapping(value, path, NOTIFICATION_FIELDS)
    if notif is None:
        return
    if "enabled" in notif:
        c.boolean(notif["enabled"], path + ("enabled",))
    if "channels" not in notif:
        return
    channels = notif["channels"]
    if not isinstance(channels, list):
        c.error(path + ("channels",), f"expected a list of channels, got {type_name(channels)}")
        return
    for i, ch in enumerate(channels):
        cpath = path + ("channels", i)
        channel = c.mapping(ch, cpath, CHANNEL_FIELDS)
        if channel is None:
            continue
        if "type" not in channel:
            c.error(cpath, "type is required (type: slack)")
        else:
            c.enum(channel["type"], cpath + ("type",), ("slack",))
        for key, kind in CHANNEL_KINDS.items():
            if key in channel:
                kind.check(c, channel[key], cpath + (key,))
        if "url" not in channel:
            c.error(cpath, "url is required (url: ${SLACK_WEBHOOK_URL})")
            continue
        url = channel["url"]
        if not isinstance(url, str):
            c.error(cpath + ("url",), f"expected a string, got {type_name(url)}")
        elif ref := ENV_REF_RE.match(url):
            if rule := reserved_env(ref.group(1)):
                c.error(cpath + ("url",), f"{url} names a variable the job itself uses ({rule}), which the secret "
                        "would replace there; name the secret something else, such as SLACK_WEBHOOK_URL")
        elif c.committed:
            # Never echo the value: it is a secret.
            c.error(
                cpath + ("url",),
                "a committed file must not hold a webhook URL; write url: ${SLACK_WEBHOOK_URL} "
                "and set SLACK_WEBHOOK_URL as a CI secret",
            )
        elif "${" in url:
            c.error(cpath + ("url",), "must be a whole ${VAR} reference or an https URL")
        elif not url.startswith("https://") and not url.startswith("http://"):
            c.error(cpath + ("url",), "must be an https:// webhook URL or a ${VAR} reference")


def check_status(c: Checker, value: Any, path: tuple) -> None:
    status = c.mapping(value, path, STATUS_FIELDS)
    if status is None:
        return
    for key in ("active", "succeeded", "failed"):
        if key in status:
            c.integer(status[key], path + (key,), 0)
    for key in ("nextScheduleTime", "lastScheduleTime", "lastSuccessfulTime"):
        if status.get(key) is not None:
            check_timestamp(c, status[key], path + (key,))
    conds = status.get("conditions", [])
    if not isinstance(conds, list):
        c.error(path + ("conditions",), f"expected a list, got {type_name(conds)}")
        return
    for i, cond in enumerate(conds):
        cp = path + ("conditions", i)
        m = c.mapping(cond, cp, CONDITION_FIELDS)
        if m is None:
            continue
        for key in ("type", "status", "reason", "message"):
            if key in m and not isinstance(m[key], str):
                c.error(cp + (key,), f"expected a string, got {type_name(m[key])}")


# --------------------------------------------------------------------------------------
# Documents and files


def check_document(c: Checker, value: Any, prefix: tuple = ()) -> list[tuple[tuple, dict[str, Any]]]:
    """Check one YAML document; return (path, object) of each schedule without errors."""
    if not isinstance(value, dict):
        c.error(prefix, f"expected a {KIND} or {LIST_KIND} mapping, got {type_name(value)}")
        return []
    if value.get("kind") == LIST_KIND:
        lst = c.mapping(value, prefix, LIST_FIELDS)
        if lst is None:
            return []
        if lst.get("apiVersion") != API_VERSION:
            c.error(prefix + ("apiVersion",), f"{lst.get('apiVersion')!r} is not supported; expected {API_VERSION}")
        items = lst.get("items")
        if not isinstance(items, list):
            c.error(prefix + ("items",), f"expected a list of {KIND} objects, got {type_name(items)}")
            return []
        good = []
        for i, item in enumerate(items):
            if check_schedule(c, item, prefix + ("items", i), list_item=True):
                good.append((prefix + ("items", i), item))
        return good
    if check_schedule(c, value, prefix):
        return [(prefix, value)]
    return []


def check_duplicates(found: list[tuple[str, int | None, int | None, str, str]], problems: list[Problem]) -> None:
    """found: (filename, line, column, path, name) for each object; reports each duplicate."""
    by_name: dict[str, list[tuple[str, int | None, int | None, str, str]]] = {}
    for entry in found:
        by_name.setdefault(entry[4], []).append(entry)
    for name, entries in by_name.items():
        if len(entries) < 2:
            continue
        for entry in entries:
            others = [e for e in entries if e is not entry]
            where = ", ".join(f"line {e[1]}" if e[1] is not None else e[3] for e in others)
            problems.append(Problem(entry[0], entry[1], entry[2], entry[3], f"duplicate name {name!r} (also at {where})"))
