"""Per-minute climate history in the database (``climate_minutes``).

Each sensor's readings are kept as one row per minute (count, min, average, max of temperature
and relative humidity), written in batches by the climate service and merged when a minute
arrives in parts (a flush in the middle of a minute, a restart). History past its retention is
pruned a day's slice at a time so that ledger writes never wait long behind it. The API reads
it page by page.
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from daemon.store.db import Store
from daemon.store.schema import climate_minutes
from sensors.history import MinuteAggregate

# -- rows and pages --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinuteRow:
    sensor: str
    room: str
    minute_us: int
    samples: int
    temp_min: float
    temp_avg: float
    temp_max: float
    rh_min: float
    rh_avg: float
    rh_max: float

    @classmethod
    def of(cls, row: Row[typing.Any]) -> MinuteRow:
        return cls(**row._asdict())


@dataclass(frozen=True, slots=True)
class HistoryPage:
    points: tuple[MinuteRow, ...]
    truncated: bool
    """More minutes match; ask again from ``next_from_us``."""
    next_from_us: int | None


class ClimateHistory:
    """``climate_minutes``: one row per sensor and minute, merged when written in parts."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def write(self, minutes: Sequence[MinuteAggregate]) -> None:
        """Store ``minutes`` in one transaction, merging parts of a minute already stored."""
        if not minutes:
            return
        rows = [
            {
                "sensor": m.sensor,
                "minute_us": m.minute * 1_000_000,
                "room": m.room,
                "samples": m.count,
                "temp_min": m.temperature_min_c,
                "temp_avg": m.temperature_avg_c,
                "temp_max": m.temperature_max_c,
                "rh_min": m.humidity_min_pct,
                "rh_avg": m.humidity_avg_pct,
                "rh_max": m.humidity_max_pct,
            }
            for m in minutes
        ]
        async with self.store.write() as conn:
            await conn.execute(self._upsert(), rows)

    def _upsert(self) -> postgresql.Insert | sqlite.Insert:
        t = climate_minutes
        ins = postgresql.insert(t) if self.store.dialect == "postgresql" else sqlite.insert(t)
        new = ins.excluded
        samples = t.c.samples + new.samples

        def lowest(old: typing.Any, part: typing.Any) -> typing.Any:
            return case((part < old, part), else_=old)

        def highest(old: typing.Any, part: typing.Any) -> typing.Any:
            return case((part > old, part), else_=old)

        def mean(old: typing.Any, part: typing.Any) -> typing.Any:
            return (old * t.c.samples + part * new.samples) / samples

        return ins.on_conflict_do_update(
            index_elements=[t.c.sensor, t.c.minute_us],
            set_={
                "samples": samples,
                "temp_min": lowest(t.c.temp_min, new.temp_min),
                "temp_avg": mean(t.c.temp_avg, new.temp_avg),
                "temp_max": highest(t.c.temp_max, new.temp_max),
                "rh_min": lowest(t.c.rh_min, new.rh_min),
                "rh_avg": mean(t.c.rh_avg, new.rh_avg),
                "rh_max": highest(t.c.rh_max, new.rh_max),
            },
            # A sensor of the same name in another room (another daemon on a shared
            # database) is never overwritten.
            where=t.c.room == new.room,
        )

    async def since(
        self, sensors: Collection[str], since_us: int, *, page: int = 20_000
    ) -> AsyncIterator[list[MinuteRow]]:
        """The minutes of ``sensors`` from ``since_us`` on, in time order, a page at a time."""
        t = climate_minutes
        mine = t.c.sensor.in_(list(sensors))
        after = t.c.minute_us >= since_us
        while True:
            async with self.store.read() as conn:
                rows = (
                    await conn.execute(
                        select(t).where(mine, after).order_by(t.c.minute_us, t.c.sensor).limit(page)
                    )
                ).all()
            if not rows:
                return
            yield [MinuteRow.of(r) for r in rows]
            last = rows[-1]
            after = or_(
                t.c.minute_us > last.minute_us,
                and_(t.c.minute_us == last.minute_us, t.c.sensor > last.sensor),
            )

    async def query(
        self,
        *,
        rooms: Collection[str],
        room: str | None,
        sensor: str | None,
        from_us: int,
        to_us: int,
        limit: int,
    ) -> HistoryPage:
        """Minutes starting in [from_us, to_us) of ``rooms``, at most ``limit`` of them.

        A page ends on a whole minute, so paging on with ``next_from_us`` misses nothing; a
        single minute with more points than ``limit`` is served whole.
        """
        t = climate_minutes
        where = [t.c.room.in_(list(rooms)), t.c.minute_us >= from_us, t.c.minute_us < to_us]
        if room is not None:
            where.append(t.c.room == room)
        if sensor is not None:
            where.append(t.c.sensor == sensor)
        query = select(t).where(*where).order_by(t.c.minute_us, t.c.sensor)
        async with self.store.read() as conn:
            rows = [MinuteRow.of(r) for r in (await conn.execute(query.limit(limit + 1))).all()]
            if len(rows) <= limit:
                return HistoryPage(tuple(rows), False, None)
            cut = rows[limit].minute_us
            kept = [r for r in rows[:limit] if r.minute_us < cut]
            if kept:
                return HistoryPage(tuple(kept), True, cut)
            whole = (await conn.execute(query.where(t.c.minute_us == cut))).all()
        return HistoryPage(tuple(MinuteRow.of(r) for r in whole), True, cut + 60_000_000)

    async def knows_sensor(self, sensor: str, rooms: Collection[str]) -> bool:
        t = climate_minutes
        async with self.store.read() as conn:
            found = await conn.scalar(
                select(t.c.sensor).where(t.c.sensor == sensor, t.c.room.in_(list(rooms))).limit(1)
            )
        return found is not None

    async def prune(self, rooms: Collection[str], before_us: int) -> int:
        """Delete the minutes of ``rooms`` before ``before_us``, a day's slice per transaction."""
        t = climate_minutes
        mine = t.c.room.in_(list(rooms))
        async with self.store.read() as conn:
            oldest = await conn.scalar(select(func.min(t.c.minute_us)).where(mine))
        if oldest is None:
            return 0
        day_us = 86_400_000_000
        deleted = 0
        end = int(oldest)
        while end < before_us:
            end = min(end + day_us, before_us)
            async with self.store.write() as conn:
                result = await conn.execute(delete(t).where(mine, t.c.minute_us < end))
            deleted += int(result.rowcount or 0)
        return deleted
