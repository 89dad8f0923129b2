"""Time as the records keep it: integer microseconds since the epoch, shown as ISO 8601 UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_us() -> int:
    return time.time_ns() // 1000


def us_to_iso(us: int, *, precise: bool = False) -> str:
    """ISO 8601 UTC to the millisecond (or the microsecond when ``precise``)."""
    return (
        datetime.fromtimestamp(us / 1_000_000, tz=UTC)
        .isoformat(timespec="microseconds" if precise else "milliseconds")
        .replace("+00:00", "Z")
    )


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def datetime_to_us(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1_000_000)


def seconds_to_us(t: float) -> int:
    return round(t * 1_000_000)
