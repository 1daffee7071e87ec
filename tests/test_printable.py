from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from jmo_schedule.printable import CONTROL_CLASS, UNSAFE_CLASS, json_printable, printable


def test_escapes_controls_and_line_separators_only() -> None:
    assert printable("a\nb\r\tc\x1b[2J\x9b31m\x85\x7f\u2028\u2029\ufeff\udc80 é \u00a0 ok") == (
        "a\\nb\\r\\tc\\x1b[2J\\x9b31m\\x85\\x7f\\u2028\\u2029\\ufeff\\udc80 é \u00a0 ok")


def test_json_stays_the_same_json() -> None:
    data = {"a": "x\x85y\u2028z\x9b\x1b é", "b": [1, "\n"]}
    text = json_printable(json.dumps(data, indent=2, ensure_ascii=False))
    assert text == '{\n  "a": "x\\u0085y\\u2028z\\u009b\\u001b é",\n  "b": [\n    1,\n    "\\n"\n  ]\n}'
    assert json.loads(text) == data


@given(st.text())
def test_printed_text_holds_nothing_unsafe(text: str) -> None:
    shown = printable(text)
    assert not re.search(f"[{UNSAFE_CLASS}]", shown)
    assert len(shown.splitlines()) <= 1
    assert not re.search(f"[{CONTROL_CLASS}]", json_printable(json.dumps(text, ensure_ascii=False)))
