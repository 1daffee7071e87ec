"""Writing iCalendar (RFC 5545) text: content lines, escaping and folding.

Lines end in CRLF; a line longer than 75 octets is folded (CRLF and one space, the
space counting towards the next line's 75), never inside a UTF-8 character; TEXT values
escape backslash, semicolon, comma and newlines (section 3.3.11).
"""
from __future__ import annotations

from collections.abc import Sequence

CRLF = "\r\n"
LINE_OCTETS = 75

Property = tuple[str, str]  # (name with any ;PARAM=..., value as written)


def escape_text(value: str) -> str:
    """A TEXT value: `\\` `;` `,` escaped, every newline (CRLF, CR or LF) as `\\n`."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line, folded into lines of at most 75 octets (without the CRLF)."""
    data = line.encode("utf-8")
    if len(data) <= LINE_OCTETS:
        return line
    parts, start, limit = [], 0, LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, LINE_OCTETS - 1  # continuation lines start with a space
    return (CRLF + " ").join(parts)


def component(name: str, properties: Sequence[Property], children: Sequence[str] = ()) -> str:
    """`BEGIN:name`, the properties, the already written `children`, `END:name`; CRLF-ended."""
    lines = [f"BEGIN:{name}", *(f"{key}:{value}" for key, value in properties)]
    body = "".join(fold(line) + CRLF for line in lines)
    return body + "".join(children) + f"END:{name}" + CRLF
