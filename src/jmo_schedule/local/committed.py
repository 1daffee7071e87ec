"""The committed-file editor: `get`, `apply`, `delete`, `suspend`... with `-f FILE` read and
edit a schedules file kept in git, YAML or JSON alike.

What a committed file holds is desired state only: no status, no uid, creationTimestamp or
generation unless the user wrote them, no field at its default unless it was there. An edit
changes only what differs: comments, key order, quoting and indentation stay (YAML through
ruamel.yaml's round trip, JSON with its indentation), and the file keeps its permissions.
resourceVersion is a hash of the content, so an edit of a stale copy is refused.

YAML anchors, aliases and merge keys (`<<: *defaults`) may share one node between several
schedules. An edit never changes a node another schedule also uses: the edited schedule
gets its own copy of that node (copy on write, with its comments; a merge key is resolved
into explicit keys only where a key it brings must go), and every other schedule keeps
the same value, its anchors kept by name. An edit that changes nothing writes nothing.
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import stat
import tempfile
from collections import Counter
from typing import Any, ContextManager


from ..core.files import atomic_write, locked
from ..core.hcron import as_written
from ..core.loader import check_text, read_text
from ..core.model import API_VERSION, LIST_KIND, ScanSchedule, ScheduleMetadata, ScheduleSpec
from ..errors import NotFoundError, ValidationError

NEW_FILE_MODE = 0o644  # a file this creates: readable, like any file in a repository


class CommittedFile:
    """A committed schedules file at `path`, YAML or JSON, edited in place: the user's
    comments, key order, quoting and indentation stay, status and store bookkeeping never
    go in, and the file keeps its permissions."""

    def __init__(self, path: str):
        self.path = path

    def lock(self) -> ContextManager[None]:
        """A cross-process lock for edits of this file. Outside the repository, so no
        stray .lock file lands in the user's git tree."""
        # Lock outside the repository so no stray .lock file lands in the user's git tree.
        digest = hashlib.sha256(os.path.abspath(self.path).encode()).hexdigest()[:16]
        return locked(os.path.join(tempfile.gettempdir(), f"jmo-schedule-{digest}"))

    def read(self) -> list[ScanSchedule]:
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

    # the round trip ------------------------------------------------------------------
    def _load(self) -> tuple[_Format, list[Any]]:
        text = ""
        if os.path.exists(self.path):
            text = read_text(self.path)
        fmt: _Format = _Json(text) if _is_json(text, self.path) else _Yaml(text)
        return fmt, fmt.load()

    def _dump(self, fmt: _Format, docs: list[Any]) -> None:
        try:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)  # kept as it is: a committed file is the user's
        except FileNotFoundError:
            mode = NEW_FILE_MODE
        atomic_write(self.path, fmt.dump(docs), mode)

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
        fmt, docs = self._load()
        data = self._file_dict(new, {})
        # A committed file holds desired state: uid, creationTimestamp and generation are
        # the store's bookkeeping and stay out of it (as in Kubernetes manifests).
        for field in ("uid", "creationTimestamp", "generation"):
            data["metadata"].pop(field, None)
        lists = [d for d in docs if isinstance(d, dict) and d.get("kind") == LIST_KIND]
        if lists:
            lists[0].setdefault("items", []).append(data)
        elif docs and not fmt.streams:
            # JSON holds one document: a second schedule turns it into a list.
            docs[:] = [{"apiVersion": API_VERSION, "kind": LIST_KIND, "items": [*docs, data]}]
        else:
            docs.append(data)
        self._dump(fmt, docs)
        new.metadata.resourceVersion = _content_version(ScanSchedule.from_dict(data).to_dict(include_status=False))

    def write_update(self, items: list[ScanSchedule], changed: ScanSchedule) -> None:
        fmt, docs = self._load()
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
        shared = _shared_nodes(docs)
        # hook (issue 16): an unchanged H cron stays as written
        container[key], edited = _update(target, as_written(data, changed.spec), shared)
        if edited:
            self._dump(fmt, docs)
        changed.metadata.resourceVersion = _content_version(ScanSchedule.from_dict(data).to_dict(include_status=False))

    def write_delete(self, items: list[ScanSchedule], name: str) -> None:
        fmt, docs = self._load()
        where = self._locate(docs, name)
        if where is None:
            return
        container, key = where
        del container[key]
        self._dump(fmt, docs)


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


def _shared_nodes(docs: list[Any]) -> set[int]:
    """The ids of the mappings and sequences reached more than once from the documents: YAML
    aliases share them, and a merge key (`<<: *defaults`) shares the values it brings. Their
    anchors are kept by name from here on, even where an edit leaves them unused."""
    seen: Counter[int] = Counter()

    def walk(node: Any) -> None:
        if not isinstance(node, (dict, list)):
            return
        seen[id(node)] += 1
        anchor = getattr(node, "anchor", None)
        if anchor is not None and anchor.value:
            anchor.always_dump = True
        if seen[id(node)] == 1:  # its children are shared with it: no need to count them again
            for child in node.values() if isinstance(node, dict) else node:
                walk(child)

    for doc in docs:
        walk(doc)
    return {node for node, count in seen.items() if count > 1}


def _update(target: Any, new: Any, shared: set[int]) -> tuple[Any, bool]:
    """`target` made equal to `new`, touching only what differs: (the node to put where
    `target` was, whether anything changed). A node another place also uses is copied
    first, so the change stays in this one place."""
    if _same(target, new):
        return target, False
    if isinstance(target, dict) and isinstance(new, dict):
        # Shared, or about to lose a key a merge key would bring back on the next read.
        if id(target) in shared or any(k not in new for k in _merged_keys(target)):
            target = _private_copy(target)
        for key in [k for k in target if k not in new]:
            del target[key]
        for key, value in new.items():
            if key in target:
                child, changed = _update(target[key], value, shared)
                if changed:
                    target[key] = child
            else:
                # A new key goes where the model's order puts it (after the nearest key before
                # it that the file has), not at the end of the mapping.
                earlier = list(new)[: list(new).index(key)]
                present = [k for k in earlier if k in target]
                position = list(target).index(present[-1]) + 1 if present else 0
                _insert(target, position, key, value)
        return target, True
    if isinstance(target, list) and isinstance(new, list) and len(target) == len(new):
        if id(target) in shared:
            target = _private_copy(target)
        for i, item in enumerate(new):
            child, changed = _update(target[i], item, shared)
            if changed:
                target[i] = child
        return target, True
    return new, True


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (True is not 1, "1" is not 1), however the file quotes them."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    kinds = (bool, int, float, str, dict, list)
    return next((k for k in kinds if isinstance(a, k)), None) is next((k for k in kinds if isinstance(b, k)), None) and a == b


def _merged_keys(mapping: Any) -> set[Any]:
    """The keys the merge keys (`<<`) of a ruamel mapping bring, overridden or not."""
    keys: set[Any] = set()
    for item in getattr(mapping, "merge", None) or []:
        source = item[1] if isinstance(item, tuple) else item
        if isinstance(source, dict):
            keys.update(source)
    return keys


def _private_copy(node: Any) -> Any:
    """A deep copy of `node` that shares nothing: no anchor, merge keys resolved into
    explicit keys, comments and flow style kept."""
    from ruamel.yaml.comments import Comment, CommentedMap, CommentedSeq, Format  # see _Yaml

    if isinstance(node, CommentedMap):
        out: Any = CommentedMap()
        for key, value in node.items():
            out[key] = _private_copy(value)
    elif isinstance(node, CommentedSeq):
        out = CommentedSeq(_private_copy(item) for item in node)
    else:
        return copy.deepcopy(node) if isinstance(node, (dict, list)) else node
    for attrib in (Comment.attrib, Format.attrib):
        if hasattr(node, attrib):
            setattr(out, attrib, copy.deepcopy(getattr(node, attrib)))
    return out


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


def _content_version(obj: dict[str, Any]) -> str:
    data = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(data.get("metadata") or {})
    meta.pop("resourceVersion", None)
    data["metadata"] = meta
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------
# The two formats


class _Format:
    """How one file's documents are read and written back."""

    streams = True  # whether the format holds several documents (`---`)

    def __init__(self, text: str) -> None:
        self.text = text

    def load(self) -> list[Any]:
        raise NotImplementedError

    def dump(self, docs: list[Any]) -> str:
        raise NotImplementedError


class _Yaml(_Format):
    """ruamel.yaml's round trip, with the indentation and `---` the file already uses."""

    def __init__(self, text: str) -> None:
        # ruamel.yaml is imported for an edit only: every command that reads a committed
        # file (notify --schedule in each scan job among them) reads it with PyYAML.
        from ruamel.yaml import YAML

        super().__init__(text)
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096
        mapping, sequence, offset = _detect_indent(text)
        self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        self.yaml.explicit_start = _starts_with_marker(text)

    def load(self) -> list[Any]:
        return list(self.yaml.load_all(self.text)) if self.text.strip() else []

    def dump(self, docs: list[Any]) -> str:
        buf = io.StringIO()
        self.yaml.dump_all(docs, buf)
        return buf.getvalue()


class _Json(_Format):
    """One JSON document, written back with the indentation the file uses (2 when new)."""

    streams = False

    def load(self) -> list[Any]:
        return [json.loads(self.text)] if self.text.strip() else []

    def dump(self, docs: list[Any]) -> str:
        if not docs:
            return ""
        doc = docs[0] if len(docs) == 1 else {"apiVersion": API_VERSION, "kind": LIST_KIND, "items": docs}
        return json.dumps(doc, indent=_json_indent(self.text), ensure_ascii=False) + "\n"


def _is_json(text: str, path: str) -> bool:
    """A file is edited as JSON when it holds a JSON document, or is new and named *.json."""
    if not text.strip():
        return path.endswith(".json")
    if text.lstrip()[:1] not in ("{", "["):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _json_indent(text: str) -> int:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(line) > len(stripped):
            return len(line) - len(stripped)
    return 2


def _insert(target: Any, position: int, key: str, value: Any) -> None:
    """Put `key` at `position` of the mapping `target` (ruamel's or a plain dict)."""
    if hasattr(target, "insert"):
        target.insert(position, key, value)
        return
    items = list(target.items())
    items.insert(position, (key, value))
    target.clear()
    target.update(items)
