"""Text that is printed, logged or written into a comment: the characters it never holds raw.

A value can carry a terminal escape sequence (ESC, or the one-character C1 CSI U+009B) or a
character that starts a new line for some reader (CR; NEL U+0085, U+2028 and U+2029 are line
breaks to YAML 1.1 readers: PyYAML, Ruby's Psych, Go's yaml). Validation refuses the control
characters in text values (CONTROL_CLASS); whatever is printed or put in a comment escapes
them, and the characters no YAML stream may hold (BOM, U+FFFE, U+FFFF, lone surrogates).
Plain string work, no `re`: the CLI's error boundary needs this, and `--version` pays for
every import.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# Refused in text values: C0 and C1 controls, DEL, and the line and paragraph separators.
# A regular-expression character class that Python and ECMA-262 (JSON Schema) read alike.
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# Escaped wherever text is printed or written into a generated comment: the controls above,
# and what a YAML stream must not contain at all.
UNSAFE_CLASS = CONTROL_CLASS + r"\ufeff\ufffe\uffff\ud800-\udfff"


def _unsafe(code: int) -> bool:
    return (code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
            or 0xD800 <= code < 0xE000)


class _Escapes(dict[int, str]):
    """Code point -> replacement, for str.translate: worked out the first time each code
    point is seen (building a whole table would cost every start-up a millisecond)."""

    def __init__(self, escape: Callable[[int], str]) -> None:
        super().__init__()
        self.escape = escape

    def __missing__(self, code: int) -> str:
        value = self.escape(code) if _unsafe(code) else chr(code)
        self[code] = value
        return value


def _readable(code: int) -> str:
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code)
    return named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_ESCAPES = _Escapes(_readable)
# json.dumps escapes C0 itself; C0 outside strings is its own layout (newlines, indent).
_JSON_ESCAPES = _Escapes(lambda code: f"\\u{code:04x}" if code >= 0x7F else chr(code))


def printable(text: str) -> str:
    """`text` on one line with nothing a terminal or a YAML reader would act on: every control
    character, line separator and non-character escaped (`\\n`, `\\x1b`, `\\x9b`, `\\u2028`)."""
    return text.translate(_ESCAPES)


def json_printable(text: str) -> str:
    """JSON text from json.dumps(..., ensure_ascii=False) with C1 controls, line separators and
    non-characters written as \\u escapes: the same JSON, safe on a terminal."""
    return text.translate(_JSON_ESCAPES)
