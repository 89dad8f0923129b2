"""Shared pieces of the LLRP tests: a sink that records what a reader service delivers, and a
way to run the service as a task that is always cancelled and awaited."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from drivers.llrp import LlrpReaderService
from drivers.tagread import TagRead
from tests.support.poll import eventually
from tests.support.tasks import running_task

__all__ = ["SETTLE_S", "RecordingSink", "eventually", "running"]

#: Guard against a hang, not a performance bound: every awaited condition happens well within it.
SETTLE_S = 15.0


@dataclass
class RecordingSink:
    """A ``ReadSink`` that keeps everything and lets a test wait for a condition."""

    batches: list[list[TagRead]] = field(default_factory=list)
    links: list[tuple[bool, str]] = field(default_factory=list)
    rounds: list[tuple[int, float]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def reads(self, batch: Sequence[TagRead]) -> None:
        self.batches.append(list(batch))
        self._changed.set()

    def link_state(self, reader: str, up: bool, reason: str) -> None:
        self.links.append((up, reason))
        self._changed.set()

    def round_done(self, reader: str, antenna: int, t: float) -> None:
        self.rounds.append((antenna, t))
        self._changed.set()

    @property
    def all_reads(self) -> list[TagRead]:
        return [read for batch in self.batches for read in batch]

    @property
    def ups(self) -> int:
        return sum(1 for up, _ in self.links if up)

    @property
    def downs(self) -> list[str]:
        return [reason for up, reason in self.links if not up]

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(SETTLE_S):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def running(service: LlrpReaderService, sink: RecordingSink) -> AsyncIterator[None]:
    async with running_task(service.run(sink), f"llrp-{service.reader_id}"):
        yield
