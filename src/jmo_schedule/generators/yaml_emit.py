"""A small, deterministic YAML writer for generated files.

Generated pipelines need things PyYAML's dumper does not give: a comment after a value
(`uses: owner/repo@<sha>  # v1.2.3`), literal blocks for scripts, and one quoting rule we
can reason about for untrusted text. Every string that is not obviously plain is written
as a JSON string, which is a valid YAML double-quoted scalar: control characters, quotes
and backslashes are escaped, so no value can end its line or change the document.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..printable import UNSAFE_CLASS, printable

# Plain scalars: conservative (no ':', '#', quotes, spaces or flow characters) and not
# something a YAML 1.1 or 1.2 parser would read as a bool, null or number.
# A dot then a digit starts a float (`.5`) in YAML 1.1 and 1.2.
_PLAIN_RE = re.compile(r"^(?:[A-Za-z_/]|\.(?![0-9]))[A-Za-z0-9_./@+-]*$")
_KEY_RE = re.compile(r"^(?:[A-Za-z_]|\.(?![0-9]))[A-Za-z0-9_./-]*$")
# Characters a single-quoted scalar or a comment cannot hold as they are: C0/C1 controls,
# DEL, the Unicode line/paragraph separators (YAML 1.1 line breaks), BOM and non-characters.
_UNSAFE_RE = re.compile(f"[{UNSAFE_CLASS}]")
_RESERVED = {
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", ".inf", ".nan", "-.inf", "+.inf",
}


@dataclass(frozen=True)
class Commented:
    """A scalar written with a trailing `# comment` (e.g. the version of a pinned SHA)."""

    value: Any
    comment: str


@dataclass(frozen=True)
class Literal:
    """A multi-line string written as a `|` literal block (generated script text only)."""

    text: str


def scalar(value: Any) -> str:
    """One scalar as YAML text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if _PLAIN_RE.match(value) and value.lower() not in _RESERVED:
        return value
    if not _UNSAFE_RE.search(value):
        # Single quotes escape nothing but the quote itself: readable for shell lines.
        return "'" + value.replace("'", "''") + "'"
    return double_quoted(value)


def double_quoted(value: str) -> str:
    """`value` as a YAML double-quoted scalar, every non-printable or line-breaking char escaped."""
    text = json.dumps(value, ensure_ascii=False)
    # json leaves these raw, but YAML reads them as line breaks or rejects them.
    return _UNSAFE_RE.sub(lambda m: "\\u%04x" % ord(m.group(0)) if m.group(0) not in '"\\' else m.group(0), text)


def _key(key: str, top: bool = False) -> str:
    # A workflow's top-level `on` stays plain as every workflow writes it (GitHub reads
    # YAML 1.2 style keys); anywhere else it is quoted like the other reserved words.
    if (top and key == "on") or (_KEY_RE.match(key) and key.lower() not in _RESERVED):
        return key
    return double_quoted(key)


def _inline(value: Any) -> str | None:
    """Text for a value that fits on its key's line, or None for a nested block."""
    if isinstance(value, Commented):
        return f"{scalar(value.value)}  # {printable(value.comment)}"
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(isinstance(v, str) for v in value) and len(value) == 1 and value[0] == "":
            return '[""]'
        return None
    if isinstance(value, Literal):
        return None
    return scalar(value)


def _literal(text: str, indent: int) -> list[str]:
    if _UNSAFE_RE.search(text.replace("\n", "").replace("\t", "")):
        raise ValueError("literal blocks hold generated text only, without control characters")
    body = text if text.endswith("\n") else text + "\n"
    pad = " " * indent
    head = "|" if not text.endswith("\n\n") else "|+"
    if text and text[0] == " ":
        head += "2"
    return [head] + [pad + line if line else "" for line in body[:-1].split("\n")]


def _block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        top = indent == 0
        for key, item in value.items():
            inline = _inline(item)
            if inline is not None:
                lines.append(f"{pad}{_key(key, top)}: {inline}")
            elif isinstance(item, Literal):
                first, *rest = _literal(item.text, indent + 2)
                lines.append(f"{pad}{_key(key, top)}: {first}")
                lines.extend(rest)
            else:
                lines.append(f"{pad}{_key(key, top)}:")
                lines.extend(_block(item, indent + 2))
        return lines
    if isinstance(value, list):
        for item in value:
            inline = _inline(item)
            if inline is not None:
                lines.append(f"{pad}- {inline}")
            elif isinstance(item, Literal):
                first, *rest = _literal(item.text, indent + 2)
                lines.append(f"{pad}- {first}")
                lines.extend(rest)
            else:
                nested = _block(item, indent + 2)
                lines.append(f"{pad}- {nested[0][indent + 2:]}")
                lines.extend(nested[1:])
        return lines
    raise TypeError(f"expected a mapping or list, got {type(value).__name__}")


def dump(document: dict[str, Any], blank_line_between_top_keys: bool = True) -> str:
    """The document as block YAML (keys in insertion order); byte-stable."""
    out: list[str] = []
    for key, value in document.items():
        chunk = _block({key: value}, 0)
        if out and blank_line_between_top_keys:
            out.append("")
        out.extend(chunk)
    return "\n".join(out) + "\n"
