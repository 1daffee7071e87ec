"""ics.py: RFC 5545 escaping (3.3.11), folding at 75 octets (3.1), CRLF; read back by the
icalendar library."""
from __future__ import annotations

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jmo_schedule.core import ics


@pytest.mark.parametrize(("raw", "escaped"), [
    ("plain", "plain"),
    ("a, b; c", "a\\, b\\; c"),
    ("back\\slash", "back\\\\slash"),
    ("two\nlines\r\nand\rthree", "two\\nlines\\nand\\nthree"),
    ("\\n is not a newline", "\\\\n is not a newline"),
])
def test_escape_text(raw: str, escaped: str) -> None:
    assert ics.escape_text(raw) == escaped


def test_a_short_line_is_not_folded() -> None:
    line = "SUMMARY:" + "x" * 67
    assert len(line.encode()) == 75 and ics.fold(line) == line


def test_folding_counts_octets_and_never_splits_a_character() -> None:
    line = "DESCRIPTION:" + "é" * 60  # 12 + 120 octets
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert parts == ["DESCRIPTION:" + "é" * 31, " " + "é" * 29]
    assert [len(p.encode()) for p in parts] == [74, 59]
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_any_text_survives_a_round_trip_through_icalendar(text: str) -> None:
    event = ics.component("VEVENT", [("UID", "u@x"), ("DTSTAMP", "20260301T000000Z"),
                                     ("DTSTART", "20260308T070000Z"), ("DESCRIPTION", ics.escape_text(text))])
    body = ics.component("VCALENDAR", [("VERSION", "2.0"), ("PRODID", "-//t//t//EN")], [event])
    lines = body.split("\r\n")
    assert lines[-1] == "" and all(len(line.encode()) <= 75 for line in lines)
    assert "\n" not in body.replace("\r\n", "")
    parsed = icalendar.Calendar.from_ical(body)
    (got,) = parsed.walk("VEVENT")
    # iCalendar has no way to keep a bare CR: it reads as a line break, as escape_text writes it.
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert str(got["DESCRIPTION"]) == expected


def test_component_nests_and_ends_every_line_with_crlf() -> None:
    inner = ics.component("VEVENT", [("UID", "a")])
    assert ics.component("VCALENDAR", [("VERSION", "2.0")], [inner]) == (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
