"""ScheduleManager: create / get / list / update / delete ScanSchedule objects.

Two kinds of storage behind one API:
- the private local store (`~/.jmo/schedules.json`, `$JMO_HOME` overrides the folder):
  owner-only permissions, status kept, literal webhook URLs allowed;
- a committed YAML file (`ScheduleManager("schedules.yaml")`): edited with a ruamel.yaml
  round trip that keeps the user's comments and ordering; status is never written.
Every write holds a cross-process lock and replaces the file atomically. Optimistic
concurrency: `update` of a copy whose resourceVersion is stale raises ConflictError.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from . import hcron
from .errors import AlreadyExistsError, ConflictError, JmoError, NotFoundError, Problem, ValidationError
from .model import API_VERSION, LIST_KIND, ScanSchedule, ScheduleMetadata, ScheduleSpec
from .store import FILE_MODE, atomic_write, ensure_private_dir, fix_mode, jmo_home, locked
from .validate import schedule_problems

Clock = Callable[[], datetime]


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, `Z` suffix: 2025-10-29T02:00:00Z."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def next_schedule_time(schedule: ScanSchedule, now: datetime) -> str | None:
    """RFC 3339 time of the next run after `now`, or None when suspended."""
    from .cron import next_runs

    if schedule.spec.suspend:
        return None
    runs = next_runs(schedule.spec.schedule, schedule.spec.timezone, now, 1)
    return rfc3339(runs[0]) if runs else None


class ScheduleManager:
    """Stores ScanSchedule objects in the local store or in a committed YAML file."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, clock: Clock | None = None):
        own_dir = path is None
        if path is None:
            path = os.path.join(jmo_home(), "schedules.json")
        self.path = os.fspath(path)
        self.committed = self.path.endswith((".yaml", ".yml"))
        self._clock = clock or _utcnow
        self._backend: _Backend = _YamlFile(self.path) if self.committed else _JsonStore(self.path, own_dir)

    # -- reads -----------------------------------------------------------------------
    def get(self, name: str) -> ScanSchedule | None:
        """The named schedule, or None when there is none."""
        for schedule in self._backend.read():
            if schedule.metadata.name == name:
                return schedule
        return None

    def list(self, labels: Mapping[str, str] | str | None = None, selector: str | None = None) -> list[ScanSchedule]:
        """All schedules, by name; `labels` is a dict to match exactly or a selector string
        (`env=prod,tier!=web,team in (a,b),!legacy`)."""
        from .selector import matches, parse_selector

        if isinstance(labels, str):
            parse_selector(labels)  # report a bad selector even when nothing is stored
        if selector:
            parse_selector(selector)
        out = [
            s for s in self._backend.read()
            if matches(labels, s.metadata.labels) and matches(selector, s.metadata.labels)
        ]
        return sorted(out, key=lambda s: s.metadata.name)

    def require(self, name: str) -> ScanSchedule:
        schedule = self.get(name)
        if schedule is None:
            raise NotFoundError(f"schedule {name!r} not found in {self.path}")
        return schedule

    # -- writes ----------------------------------------------------------------------
    def create(self, schedule: ScanSchedule) -> ScanSchedule:
        """Store a new schedule; sets uid, creationTimestamp, generation 1, resourceVersion,
        the Ready condition and nextScheduleTime on `schedule` itself, and returns it."""
        self._validate(schedule)
        now = self._clock()
        with self._backend.lock():
            items = self._backend.read()
            if any(s.metadata.name == schedule.metadata.name for s in items):
                raise AlreadyExistsError(
                    f"schedule {schedule.metadata.name!r} already exists in {self.path}; use update or apply"
                )
            stored = copy.deepcopy(schedule)
            meta = stored.metadata
            meta.uid = str(uuid.uuid4())
            meta.creationTimestamp = rfc3339(now)
            meta.generation = 1
            stored.status = copy.deepcopy(stored.status)
            stored.status.conditions = []
            self._refresh_status(stored, now, "Created", "Schedule created successfully")
            self._backend.write_create(items, stored)
        _copy_into(schedule, stored)
        return schedule

    def update(self, schedule: ScanSchedule) -> ScanSchedule:
        """Save changes to an existing schedule. generation moves only when spec changed.
        Raises ConflictError when `schedule` was read before the last write to it."""
        self._validate(schedule)
        now = self._clock()
        name = schedule.metadata.name
        with self._backend.lock():
            items = self._backend.read()
            current = next((s for s in items if s.metadata.name == name), None)
            if current is None:
                raise NotFoundError(f"schedule {name!r} not found in {self.path}; use create")
            theirs = schedule.metadata.resourceVersion
            if theirs is not None and theirs != current.metadata.resourceVersion:
                raise ConflictError(
                    f"schedule {name!r} was changed since this copy was read "
                    f"(resourceVersion {theirs}, now {current.metadata.resourceVersion}); "
                    "get it again and reapply your change"
                )
            for field in ("uid", "creationTimestamp"):
                mine, stored_value = getattr(schedule.metadata, field), getattr(current.metadata, field)
                if mine is not None and stored_value is not None and mine != stored_value:
                    raise ValidationError([Problem(self.path, None, None, f"metadata.{field}", "is immutable")])
            updated = copy.deepcopy(current)
            updated.metadata.labels = copy.deepcopy(schedule.metadata.labels)
            updated.metadata.annotations = copy.deepcopy(schedule.metadata.annotations)
            spec_changed = schedule.spec.to_dict() != current.spec.to_dict()
            if spec_changed:
                updated.spec = copy.deepcopy(schedule.spec)
                updated.metadata.generation = (current.metadata.generation or 1) + 1
            reason = "Updated"
            if schedule.spec.suspend != current.spec.suspend:
                reason = "Suspended" if schedule.spec.suspend else "Resumed"
            self._refresh_status(updated, now, reason, f"Schedule {reason.lower()}")
            self._backend.write_update(items, updated)
        _copy_into(schedule, updated)
        return schedule

    def apply(self, schedule: ScanSchedule) -> str:
        """Create the schedule or bring the stored one in line with it (spec, labels,
        annotations), like `kubectl apply`. Returns "created", "configured" or "unchanged"."""
        with self._backend.lock():
            current = next((s for s in self._backend.read() if s.metadata.name == schedule.metadata.name), None)
        if current is None:
            self.create(schedule)
            return "created"
        if (
            current.spec.to_dict() == schedule.spec.to_dict()
            and current.metadata.labels == schedule.metadata.labels
            and current.metadata.annotations == schedule.metadata.annotations
        ):
            _copy_into(schedule, current)
            return "unchanged"
        mine = copy.deepcopy(schedule)
        mine.metadata.resourceVersion = current.metadata.resourceVersion
        mine.metadata.uid = current.metadata.uid
        mine.metadata.creationTimestamp = current.metadata.creationTimestamp
        self.update(mine)
        _copy_into(schedule, mine)
        return "configured"

    def delete(self, name: str) -> bool:
        """Remove the named schedule; False when there was none."""
        with self._backend.lock():
            items = self._backend.read()
            if not any(s.metadata.name == name for s in items):
                return False
            self._backend.write_delete(items, name)
        return True

    def patch_status(self, name: str, change: Callable[[ScanSchedule], None]) -> ScanSchedule:
        """Apply `change` to the stored schedule under the lock (status updates by `run`)."""
        with self._backend.lock():
            items = self._backend.read()
            current = next((s for s in items if s.metadata.name == name), None)
            if current is None:
                raise NotFoundError(f"schedule {name!r} not found in {self.path}")
            change(current)
            self._backend.write_update(items, current)
        return current

    # -- helpers ---------------------------------------------------------------------
    def _validate(self, schedule: ScanSchedule) -> None:
        if not isinstance(schedule, ScanSchedule):
            raise TypeError(f"expected a ScanSchedule, got {type(schedule).__name__}")
        problems = schedule_problems(schedule, committed=self.committed)
        if any(p.severity == "error" for p in problems):
            raise ValidationError(problems)

    def _refresh_status(self, schedule: ScanSchedule, now: datetime, reason: str, message: str) -> None:
        status = schedule.status
        status.nextScheduleTime = next_schedule_time(schedule, now)
        if schedule.spec.suspend:
            reason, message = "Suspended", "Schedule is suspended; no runs are scheduled"
        status.set_condition("Ready", "True", reason, message, rfc3339(now))


def _copy_into(target: ScanSchedule, source: ScanSchedule) -> None:
    fresh = copy.deepcopy(source)
    target.metadata, target.spec, target.status = fresh.metadata, fresh.spec, fresh.status


# ------------------------------------------------------------------------------------
# Storage backends


class _Backend:
    path: str

    def lock(self) -> Any: ...
    def read(self) -> list[ScanSchedule]:
        raise NotImplementedError
    def write_create(self, items: list[ScanSchedule], new: ScanSchedule) -> None: ...
    def write_update(self, items: list[ScanSchedule], changed: ScanSchedule) -> None: ...
    def write_delete(self, items: list[ScanSchedule], name: str) -> None: ...


class _JsonStore(_Backend):
    """The private store: {"apiVersion", "kind": ScanScheduleList, "revision", "items"}."""

    def __init__(self, path: str, own_dir: bool = True):
        self.path = path
        # The default folder (~/.jmo) is ours to keep at 0700; the folder of a store the
        # caller named (maybe their working directory) is created private but never chmod-ed.
        self._own_dir = own_dir
        self._extra: dict[str, Any] = {}
        self._revision = 0
        self._raw: dict[int, tuple[ScanSchedule, dict[str, Any]]] = {}

    def _prepare(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        if self._own_dir or not os.path.isdir(directory):
            ensure_private_dir(directory)
        fix_mode(self.path, FILE_MODE)

    def lock(self) -> Any:
        self._prepare()
        return locked(self.path)

    def read_raw(self) -> dict[str, Any]:
        if os.path.exists(self.path):
            fix_mode(self.path, FILE_MODE)
        try:
            with open(self.path, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            return {"apiVersion": API_VERSION, "kind": LIST_KIND, "revision": 0, "items": []}
        except OSError as exc:
            raise JmoError(f"{self.path}: cannot read: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise JmoError(
                f"{self.path}:{exc.lineno}:{exc.colno}: the store is not valid JSON ({exc.msg}); "
                "fix it or move it aside"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise JmoError(f"{self.path}: not a jmo-schedule store (expected a ScanScheduleList with items)")
        return data

    def read(self) -> list[ScanSchedule]:
        data = self.read_raw()
        self._revision = int(data.get("revision") or 0)
        self._extra = {k: v for k, v in data.items() if k not in ("apiVersion", "kind", "revision", "items")}
        out = []
        self._raw = {}
        for i, item in enumerate(data["items"]):
            try:
                schedule = ScanSchedule.from_dict(item)
            except (TypeError, KeyError, AttributeError, ValueError):
                raise JmoError(f"{self.path}: items[{i}] is not a valid ScanSchedule; fix or remove it") from None
            out.append(schedule)
            self._raw[id(schedule)] = (schedule, item)
        return out

    def _save(self, items: list[ScanSchedule], touched: ScanSchedule | None) -> None:
        self._revision += 1
        if touched is not None:
            touched.metadata.resourceVersion = str(self._revision)
        head = {"apiVersion": API_VERSION, "kind": LIST_KIND, "revision": self._revision, **self._extra}
        # One schedule per line: json's C encoder (no indent) keeps big stores fast to write,
        # and a line per item still reads and diffs well.
        lines = ",\n".join("  " + json.dumps(self._as_dict(s, touched), ensure_ascii=False) for s in items)
        text = json.dumps(head, ensure_ascii=False)[:-1] + ', "items": [\n' + lines + ("\n" if lines else "") + "]}\n"
        atomic_write(self.path, text, FILE_MODE)

    def _as_dict(self, schedule: ScanSchedule, touched: ScanSchedule | None) -> dict[str, Any]:
        # Items read and not touched by this write are written back as they were read.
        kept = self._raw.get(id(schedule))
        if schedule is not touched and kept is not None and kept[0] is schedule:
            return kept[1]
        return schedule.to_dict()

    def write_create(self, items: list[ScanSchedule], new: ScanSchedule) -> None:
        self._save(items + [new], new)

    def write_update(self, items: list[ScanSchedule], changed: ScanSchedule) -> None:
        self._save([changed if s.metadata.name == changed.metadata.name else s for s in items], changed)

    def write_delete(self, items: list[ScanSchedule], name: str) -> None:
        self._save([s for s in items if s.metadata.name != name], None)


def _content_version(obj: dict[str, Any]) -> str:
    data = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(data.get("metadata") or {})
    meta.pop("resourceVersion", None)
    data["metadata"] = meta
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


class _YamlFile(_Backend):
    """A committed schedules.yaml, edited in place with ruamel.yaml's round trip."""

    def __init__(self, path: str):
        self.path = path

    def lock(self) -> Any:
        # Lock outside the repository so no stray .lock file lands in the user's git tree.
        digest = hashlib.sha256(os.path.abspath(self.path).encode()).hexdigest()[:16]
        return locked(os.path.join(tempfile.gettempdir(), f"jmo-schedule-{digest}"))

    def read(self) -> list[ScanSchedule]:
        from .loader import check_text, read_text

        if not os.path.exists(self.path):
            return []
        text = read_text(self.path)
        if not text.strip():
            return []
        result = check_text(text, self.path, committed=True)
        if result.errors:
            raise ValidationError(result.problems)
        out = []
        for item in result.items:
            schedule = item.schedule
            schedule.metadata.resourceVersion = _content_version(schedule.to_dict(include_status=False))
            out.append(schedule)
        return out

    # ruamel round trip ---------------------------------------------------------------
    def _load(self) -> tuple[Any, list[Any], str]:
        from ruamel.yaml import YAML

        text = ""
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8-sig") as fh:
                text = fh.read()
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096
        mapping, sequence, offset = _detect_indent(text)
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        yaml.explicit_start = _starts_with_marker(text)
        docs = [d for d in yaml.load_all(text)] if text.strip() else []
        return yaml, docs, text

    def _dump(self, yaml: Any, docs: list[Any]) -> None:
        import io

        buf = io.StringIO()
        yaml.dump_all(docs, buf)
        mode = FILE_MODE
        try:
            mode = os.stat(self.path).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        atomic_write(self.path, buf.getvalue(), mode)

    def _locate(self, docs: list[Any], name: str) -> tuple[Any, Any] | None:
        """(container, key-or-index) of the schedule called `name`."""
        for i, doc in enumerate(docs):
            if isinstance(doc, dict) and doc.get("kind") == LIST_KIND:
                for j, item in enumerate(doc.get("items") or []):
                    if isinstance(item, dict) and (item.get("metadata") or {}).get("name") == name:
                        return doc["items"], j
            elif isinstance(doc, dict) and (doc.get("metadata") or {}).get("name") == name:
                return docs, i
        return None

    def _file_dict(self, schedule: ScanSchedule, original: Any) -> dict[str, Any]:
        data = schedule.to_dict(include_status=False)
        data["metadata"].pop("resourceVersion", None)
        defaults = ScanSchedule(
            metadata=ScheduleMetadata(name=""), spec=ScheduleSpec(schedule="")
        ).to_dict(include_status=False)
        return _prune_defaults(data, original if isinstance(original, dict) else {}, defaults)

    def write_create(self, items: list[ScanSchedule], new: ScanSchedule) -> None:
        yaml, docs, _ = self._load()
        data = self._file_dict(new, {})
        # A committed file holds desired state: uid, creationTimestamp and generation are
        # the store's bookkeeping and stay out of it (as in Kubernetes manifests).
        for field in ("uid", "creationTimestamp", "generation"):
            data["metadata"].pop(field, None)
        lists = [d for d in docs if isinstance(d, dict) and d.get("kind") == LIST_KIND]
        if lists:
            lists[0].setdefault("items", []).append(data)
        else:
            docs.append(data)
        self._dump(yaml, docs)
        new.metadata.resourceVersion = _content_version(ScanSchedule.from_dict(data).to_dict(include_status=False))

    def write_update(self, items: list[ScanSchedule], changed: ScanSchedule) -> None:
        yaml, docs, _ = self._load()
        where = self._locate(docs, changed.metadata.name)
        if where is None:
            raise NotFoundError(f"schedule {changed.metadata.name!r} not found in {self.path}")
        container, key = where
        target = container[key]
        data = self._file_dict(changed, target)
        # Metadata the user did not write (uid, generation...) stays out of the file.
        for field in ("uid", "creationTimestamp", "generation"):
            if field not in (target.get("metadata") or {}):
                data["metadata"].pop(field, None)
        _merge_into(target, hcron.as_written(data, changed.spec))  # hook (issue 16): an unchanged H cron stays as written
        self._dump(yaml, docs)
        changed.metadata.resourceVersion = _content_version(ScanSchedule.from_dict(data).to_dict(include_status=False))

    def write_delete(self, items: list[ScanSchedule], name: str) -> None:
        yaml, docs, _ = self._load()
        where = self._locate(docs, name)
        if where is None:
            return
        container, key = where
        del container[key]
        self._dump(yaml, docs)


# Written even when they hold the default value: a file without them is not a schedule.
_ALWAYS = {("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"), ("spec",), ("spec", "schedule")}


def _prune_defaults(
    data: dict[str, Any], original: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Drop keys the user had not written whose value is the default: no noise in their file."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        here = path + (key,)
        orig = original.get(key) if isinstance(original, dict) else None
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if isinstance(value, dict) and isinstance(default, dict):
            pruned = _prune_defaults(value, orig if isinstance(orig, dict) else {}, default, here)
            if pruned or key in original or here in _ALWAYS:
                out[key] = pruned
            continue
        if key not in original and value == default and here not in _ALWAYS:
            continue
        out[key] = value
    return out


def _merge_into(target: Any, new: dict[str, Any]) -> None:
    """Make the ruamel mapping `target` equal `new`, touching only what differs."""
    for key in [k for k in target if k not in new]:
        del target[key]
    for key, value in new.items():
        if key in target and isinstance(target[key], dict) and isinstance(value, dict):
            _merge_into(target[key], value)
        elif key in target and isinstance(target[key], list) and isinstance(value, list) and len(target[key]) == len(value):
            for i, item in enumerate(value):
                if isinstance(target[key][i], dict) and isinstance(item, dict):
                    _merge_into(target[key][i], item)
                elif target[key][i] != item:
                    target[key][i] = item
        elif key not in target and hasattr(target, "insert"):
            # A new key goes where the model's order puts it (after the nearest key before
            # it that the file has), not at the end of the mapping.
            earlier = list(new)[: list(new).index(key)]
            present = [k for k in earlier if k in target]
            position = list(target).index(present[-1]) + 1 if present else 0
            target.insert(position, key, value)
        elif key not in target or target[key] != value or type(target[key]) is not type(value):
            target[key] = value


def _detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation the file already uses, for ruamel's dumper."""
    lines = text.splitlines()
    mapping = 2
    for prev, line in zip(lines, lines[1:]):
        if prev.rstrip().endswith(":") and line.strip() and not line.lstrip().startswith(("-", "#")):
            step = (len(line) - len(line.lstrip())) - (len(prev) - len(prev.lstrip()))
            if step > 0:
                mapping = step
                break
    for prev, line in zip(lines, lines[1:]):
        if prev.rstrip().endswith(":") and line.lstrip().startswith("- "):
            offset = (len(line) - len(line.lstrip())) - (len(prev) - len(prev.lstrip()))
            if offset >= 0:
                return mapping, offset + 2, offset
    return mapping, mapping + 2, mapping


def _starts_with_marker(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return stripped.startswith("---")
    return False
