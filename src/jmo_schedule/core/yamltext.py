"""YAML text in and out.

`parse_documents` builds plain Python values from PyYAML's event stream (libyaml when
available) without recursion, so deeply nested input cannot exhaust the stack, counts
alias expansion so "billion laughs" input stops early, and records the line and column of
every key and value for error messages. Scalars resolve with YAML 1.1 rules, as GitLab's
parser and PyYAML's safe loader do.
"""
from __future__ import annotations

import yaml

from ..errors import YamlSyntaxError

TYPE_CHECKING = False  # typing is not imported at run time: CLI start-up time
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 64
# Alias expansion budget: generous for real files (anchors reused a few times), fatal
# for exponential expansion.
MAX_EXPANDED_NODES = 2_000_000
# Whole numbers beyond 64 bits fit no field (Kubernetes and the JSON Schema use int64); a
# number of thousands of digits is refused here, where the line is known.
MAX_INT_BITS = 63

Path = tuple  # tuple[str | int, ...]


class Document:
    """One YAML document: its value plus 1-based (line, column) of each value and key by path."""

    __slots__ = ("value", "line", "column", "marks", "key_marks")

    def __init__(self, value: Any, line: int, column: int, marks: dict[Path, tuple[int, int]] | None = None,
                 key_marks: dict[Path, tuple[int, int]] | None = None) -> None:
        self.value = value
        self.line = line
        self.column = column
        self.marks: dict[Path, tuple[int, int]] = {} if marks is None else marks
        self.key_marks: dict[Path, tuple[int, int]] = {} if key_marks is None else key_marks

    def __repr__(self) -> str:
        return f"Document(value={self.value!r}, line={self.line}, column={self.column})"

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """Best position for `path`: the value (or key) itself, else its nearest ancestor."""
        table = self.key_marks if key else self.marks
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if key and p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return (self.line, self.column)


class _Frame:
    __slots__ = ("value", "path", "key", "key_mark", "anchor", "size", "is_map", "line", "column", "merges", "seen")

    def __init__(self, value: Any, path: Path, anchor: str | None, is_map: bool, line: int, column: int):
        self.value = value
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark: tuple[int, int] | None = None
        self.anchor = anchor
        self.size = 1
        self.is_map = is_map
        self.line = line
        self.column = column
        self.merges: list[Any] = []
        self.seen: dict[Any, int] = {}


_NO_KEY = object()
_UNREADABLE = object()
_MERGE = type("_Merge", (), {"__repr__": lambda self: "'<<'"})()


# libyaml's C loader and dumper when PyYAML was built with it, else the pure Python ones.
_LOADER: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_DUMPER: Any = getattr(yaml, "CSafeDumper", None) or yaml.SafeDumper


_resolver = None
_constructor = None


def _scalar(yaml: Any, event: Any) -> Any:
    global _resolver, _constructor
    if _resolver is None:
        _resolver = yaml.resolver.Resolver()
        _constructor = yaml.constructor.SafeConstructor()
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == "tag:yaml.org,2002:str":
        return event.value
    if tag == "tag:yaml.org,2002:merge":
        return _MERGE
    if tag == "tag:yaml.org,2002:timestamp":
        return event.value  # keep RFC 3339 text as written; the model stores strings
    if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            value = _constructor.construct_object(node)
        except ValueError:  # `0x_`, or more digits than int() reads (4300)
            value = _UNREADABLE
        if value is _UNREADABLE or isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            if value is not _UNREADABLE or len(event.value) > 20:
                raise YamlSyntaxError(f"the number {_shown(event.value)} is too large for any field", *_mark(event))
            raise YamlSyntaxError(f"cannot read {_shown(event.value)} as a number (quote it to make it text)",
                                  *_mark(event))
        return value
    raise YamlSyntaxError(f"unsupported YAML tag {tag!r}", *_mark(event))


def _shown(text: str) -> str:
    """A scalar as a message shows it: a very long one shortened, so the message stays one line."""
    return repr(text) if len(text) <= 24 else f"{text[:12]!r}... ({len(text)} characters)"


def _mark(event: Any) -> tuple[int, int]:
    m = event.start_mark
    return (m.line + 1, m.column + 1) if m is not None else (1, 1)


def parse_documents(text: str) -> list[Document]:
    """Parse every document of a YAML (or JSON) stream. Raises YamlSyntaxError."""
    loader = _LOADER
    docs: list[Document] = []
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    expanded = 0
    doc: Document | None = None

    def attach(value: Any, size: int, line: int, column: int, event: Any) -> None:
        nonlocal doc
        if not stack:
            assert doc is not None
            doc.value = value
            doc.line, doc.column = line, column
            doc.marks[()] = (line, column)
            return
        top = stack[-1]
        if top.is_map:
            if top.key is _NO_KEY:
                if isinstance(value, (dict, list)):
                    raise YamlSyntaxError("a mapping key must be a plain value, not a mapping or list", line, column)
                top.key = value
                top.key_mark = (line, column)
                return
            key = top.key
            top.key = _NO_KEY
            if key is _MERGE:
                top.merges.append(value)
                top.size += size
                return
            skey = key if isinstance(key, str) else _key_text(key)
            if skey in top.seen:
                raise YamlSyntaxError(
                    f"duplicate key {skey!r} (first at line {top.seen[skey]})", *(top.key_mark or (line, column))
                )
            top.seen[skey] = (top.key_mark or (line, column))[0]
            top.value[skey] = value
            path = top.path + (skey,)
            doc.key_marks[path] = top.key_mark or (line, column)  # type: ignore[union-attr]
            doc.marks[path] = (line, column)  # type: ignore[union-attr]
        else:
            path = top.path + (len(top.value),)
            top.value.append(value)
            doc.marks[path] = (line, column)  # type: ignore[union-attr]
        top.size += size

    def current_path() -> Path:
        if not stack:
            return ()
        top = stack[-1]
        if top.is_map:
            return top.path + ((top.key if isinstance(top.key, str) else _key_text(top.key)),)
        return top.path + (len(top.value),)

    event: Any  # dispatched on its class name: each kind has its own attributes
    try:
        for event in yaml.parse(text, Loader=loader):
            kind = type(event).__name__
            if kind == "DocumentStartEvent":
                line, column = _mark(event)
                doc = Document(None, line, column)
                anchors = {}
            elif kind == "DocumentEndEvent":
                docs.append(doc)  # type: ignore[arg-type]
                doc = None
            elif kind == "ScalarEvent":
                line, column = _mark(event)
                value = _scalar(yaml, event)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                attach(value, 1, line, column, event)
            elif kind in ("MappingStartEvent", "SequenceStartEvent"):
                line, column = _mark(event)
                if len(stack) >= MAX_DEPTH:
                    raise YamlSyntaxError(f"nesting deeper than {MAX_DEPTH} levels", line, column)
                is_map = kind == "MappingStartEvent"
                if event.tag not in (None, "!", "tag:yaml.org,2002:map" if is_map else "tag:yaml.org,2002:seq"):
                    raise YamlSyntaxError(f"unsupported YAML tag {event.tag!r}", line, column)
                is_key = bool(stack) and stack[-1].is_map and stack[-1].key is _NO_KEY
                if is_key:
                    raise YamlSyntaxError("a mapping key must be a plain value, not a mapping or list", line, column)
                frame = _Frame({} if is_map else [], current_path(), event.anchor, is_map, line, column)
                stack.append(frame)
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                frame = stack.pop()
                if frame.is_map and frame.merges:
                    _apply_merges(frame)
                if frame.anchor:
                    anchors[frame.anchor] = (frame.value, frame.size)
                attach(frame.value, frame.size, frame.line, frame.column, event)
            elif kind == "AliasEvent":
                line, column = _mark(event)
                if event.anchor not in anchors:
                    raise YamlSyntaxError(f"unknown alias *{event.anchor}", line, column)
                value, size = anchors[event.anchor]
                expanded += size
                if expanded > MAX_EXPANDED_NODES:
                    raise YamlSyntaxError(
                        "aliases expand to more than 2,000,000 values (an alias bomb?); refusing to load", line, column
                    )
                attach(value, size, line, column, event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            raise YamlSyntaxError(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
        raise YamlSyntaxError(f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else 'parse error'}") from None
    except RecursionError:
        raise YamlSyntaxError(f"nesting deeper than {MAX_DEPTH} levels") from None
    return docs


def _key_text(key: Any) -> str:
    if key is _MERGE:
        return "<<"
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _apply_merges(frame: _Frame) -> None:
    # YAML 1.1 merge keys (`<<: *defaults`): explicit keys win, earlier merges win.
    sources: list[Any] = []
    for m in frame.merges:
        sources.extend(m if isinstance(m, list) else [m])
    for src in sources:
        if not isinstance(src, dict):
            raise YamlSyntaxError("'<<' merges only mappings", frame.line, frame.column)
        for k, v in src.items():
            frame.value.setdefault(k, v)


def dump_yaml(data: Any) -> str:
    """Block-style YAML, keys in insertion order, byte-stable."""
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def dump_yaml_stream(items: list[Any]) -> str:
    return yaml.dump_all(
        items, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000,
        explicit_start=True,
    )
