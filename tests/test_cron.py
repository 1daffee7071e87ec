from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jmo_schedule import cron, describe, next_runs

UTC = timezone.utc


def test_spring_forward_fires_at_end_of_gap() -> None:
    runs = next_runs("30 2 * * *", "America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC), 2)
    assert runs == [datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 9, 6, 30, tzinfo=UTC)]


def test_fall_back_fires_first_occurrence_only() -> None:
    runs = next_runs("30 1 * * *", "America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC), 2)
    assert runs == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 2, 6, 30, tzinfo=UTC)]


def test_describe_weekly() -> None:
    assert describe("0 2 * * 1", "UTC") == "At 02:00 on Monday (UTC)"


def test_hour_out_of_range_message() -> None:
    with pytest.raises(cron.CronError) as exc:
        cron.parse("0 25 * * *")
    assert exc.value.message == "hour 25 is outside 0-23"
    assert exc.value.offset == 2
