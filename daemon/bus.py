"""The daemon's in-process event bus: subsystems talk to each other only through typed events.

A reader service publishes what its engine decided (a passage, a settled location); the
ledger subscribes and records it; the alarm service subscribes to what raises alarms. Nobody
reaches into another subsystem. Delivery is in order per subscriber; a subscriber that falls
far behind loses events only after ``maxsize`` are queued, and that loss is counted and logged
rather than blocking the publisher (a reader must never stall on a slow consumer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class Subscription(Generic[E]):
    def __init__(self, bus: Bus, types: tuple[type[E], ...], maxsize: int) -> None:
        self._bus = bus
        self.types = types
        self.queue: asyncio.Queue[E] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def offer(self, event: E) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            self._bus.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(  # noqa: TRY400 - a full queue is not an error with a traceback
                    "event subscriber for %s is behind: %d dropped", self.types, self.dropped
                )

    async def get(self) -> E:
        return await self.queue.get()

    def get_nowait_all(self) -> list[E]:
        out: list[E] = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out

    async def __aiter__(self) -> AsyncIterator[E]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class Bus:
    def __init__(self) -> None:
        self._subs: list[Subscription[Any]] = []
        self.dropped = 0
        """Events dropped by subscribers that fell too far behind (all subscribers)."""

    def subscribe(self, *types: type[E], maxsize: int = 100_000) -> Subscription[E]:
        sub: Subscription[E] = Subscription(self, types, maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription[Any]) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: object) -> None:
        for sub in self._subs:
            if isinstance(event, sub.types):
                sub.offer(event)
