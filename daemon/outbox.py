"""The durable outbox: events are rows first and MQTT messages second.

A state change and the event announcing it commit in one transaction, so an event is never
announced for a change that rolled back, and never lost for one that committed. The publisher
(``daemon.mqtt``) sends pending rows in id order and marks them delivered after the broker's
PUBACK; after a crash or a broker outage it resends from the first unacknowledged row, so a
subscriber may see a message twice (same ``event_id``) but never misses one or sees them out of
order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.clock import us_to_iso
from daemon.events import Event
from daemon.store.db import Store
from daemon.store.schema import outbox


@dataclass(frozen=True, slots=True)
class PendingMessage:
    id: int
    event_id: str
    topic: str
    payload: str
    retain: bool


class Outbox:
    """Writes event rows for one room and hands them to the publisher."""

    def __init__(self, store: Store, *, site: str, room: str) -> None:
        self.store = store
        self.site = site
        self.room = room
        self.prefix = f"archroom/{site}/{room}"
        self._wakeup = asyncio.Event()

    async def add(self, conn: AsyncConnection, event: Event) -> str:
        """Queue ``event`` inside the caller's transaction; returns its event_id."""
        event_id = str(uuid.uuid4())
        body = {
            "event_id": event_id,
            "type": event.type,
            "at": us_to_iso(event.at_us),
            "site": self.site,
            "room": self.room,
            **event.fields(),
        }
        await conn.execute(
            outbox.insert().values(
                event_id=event_id,
                room=self.room,
                topic=f"{self.prefix}/events/{event.type}",
                retain=False,
                payload=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                created_us=event.at_us,
            )
        )
        return event_id

    def ring(self) -> None:
        """Wake the publisher: new rows committed, or a retained state changed."""
        self._wakeup.set()

    async def wait(self, seconds: float) -> None:
        """Until rung, or ``seconds`` at most."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the wait completes, and the daemon would not stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()
        self._wakeup.clear()

    async def pending(self, limit: int) -> list[PendingMessage]:
        rows = await self.store.all(
            select(
                outbox.c.id,
                outbox.c.event_id,
                outbox.c.topic,
                outbox.c.payload,
                outbox.c.retain,
            )
            .where(outbox.c.room == self.room, outbox.c.delivered_us.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [PendingMessage(r.id, r.event_id, r.topic, r.payload, r.retain) for r in rows]

    async def pending_count(self) -> int:
        n = await self.store.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.room == self.room, outbox.c.delivered_us.is_(None))
        )
        return int(n or 0)

    async def mark_delivered(self, ids: Sequence[int], at_us: int) -> None:
        if not ids:
            return
        async with self.store.write() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(delivered_us=at_us)
            )

    async def prune(self, older_than_us: int) -> int:
        async with self.store.write() as conn:
            result = await conn.execute(
                delete(outbox).where(
                    outbox.c.room == self.room,
                    outbox.c.delivered_us.is_not(None),
                    outbox.c.delivered_us < older_than_us,
                )
            )
        return int(result.rowcount or 0)
