"""plural.counted: the counts in summary lines."""
from __future__ import annotations

from jmo_schedule.core.plural import counted


def test_counted() -> None:
    assert [counted(n, "schedule") for n in (0, 1, 2)] == ["0 schedules", "1 schedule", "2 schedules"]
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(3, "entry", "entries") == "3 entries"
