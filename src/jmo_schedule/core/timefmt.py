"""Times as text, in one place: RFC 3339 in and out, wall times in a schedule's zone,
run folder stamps, durations for people, and the command line's ISO 8601 argument."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .cron import get_zone

UTC = timezone.utc
# What --now accepts: far enough from datetime's limits that cron arithmetic stays exact.
CLI_YEARS = (1970, 9000)


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, `Z` suffix: 2025-10-29T02:00:00Z."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601 (`Z` allowed) or Unix seconds; None when unparsable
    (a naive time is taken as UTC)."""
    if not isinstance(value, str) or not value:
        return None
    value = value.strip()
    try:
        digits = value.replace(".", "", 1)
        if digits.isascii() and digits.isdigit():  # isdigit alone takes '²' and other scripts' digits
            return datetime.fromtimestamp(float(value), tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_cli_time(text: str) -> datetime:
    """A command line's ISO 8601 time (offset or Z; a bare time means UTC) within CLI_YEARS.
    Raises ValueError with the one-line message the CLI prints."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time such as 2026-03-08T07:00:00Z") from None
    if not CLI_YEARS[0] <= moment.year <= CLI_YEARS[1]:
        raise ValueError(f"{text!r} is outside the years {CLI_YEARS[0]}-{CLI_YEARS[1]}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(moment: datetime, zone: str) -> str:
    """`2026-03-08 08:00 CET`: `moment` as wall time in the IANA zone `zone`."""
    local = moment.astimezone(get_zone(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def utc_and_wall(moment: datetime, zone: str) -> str:
    """`2026-03-08T07:00:00Z (08:00 CET)`: the instant, and the wall clock it was in `zone`."""
    local = moment.astimezone(get_zone(zone))
    return f"{rfc3339(moment)} ({local:%H:%M} {local.tzname()})"


def run_stamp(moment: datetime) -> str:
    """UTC folder name of a run: 20261125T020000Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def naive_utc(moment: datetime) -> str:
    """`2026-11-25T02:00:00`: UTC without a zone suffix (GitLab's security report format)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def format_duration(duration: timedelta | None) -> str | None:
    """`1h 02m 03s`, `4m 05s`, `12s` (messages people read); None for no duration."""
    if duration is None:
        return None
    total = int(duration.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def compact_duration(seconds: float) -> str:
    """`12s`, `4m05s`, `3h07m`, `2d5h` (table cells and run records): at most two units."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24}h"
