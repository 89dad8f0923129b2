"""Fixtures for the UHFReader18 driver tests: a simulated reader on a real pty or TCP port,
a sink that records what a poller delivers, and a way to run a poller for one test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from drivers.tagread import TagRead
from drivers.uhfreader18 import Variant
from drivers.uhfreader18_client import Uhfreader18Poller
from simulators.uhfreader18 import SimulatedReader, Uhfreader18Simulator
from tests.support.tasks import running_task

WAIT_S = 10.0
"""How long a test waits for something that should happen within milliseconds (a hang guard,
not a performance bound)."""


class RecordingSink:
    """A ReadSink that keeps everything it is given and lets a test wait for a condition."""

    def __init__(self) -> None:
        self.batches: list[list[TagRead]] = []
        self.rounds: list[tuple[str, int, float]] = []
        self.states: list[tuple[str, bool, str]] = []
        self._changed = asyncio.Event()

    def reads(self, batch: Sequence[TagRead]) -> None:
        self.batches.append(list(batch))
        self._changed.set()

    def link_state(self, reader: str, up: bool, reason: str) -> None:
        self.states.append((reader, up, reason))
        self._changed.set()

    def round_done(self, reader: str, antenna: int, t: float) -> None:
        self.rounds.append((reader, antenna, t))
        self._changed.set()

    @property
    def all_reads(self) -> list[TagRead]:
        return [read for batch in self.batches for read in batch]

    def rounds_of(self, antenna: int) -> int:
        return sum(1 for _, a, _ in self.rounds if a == antenna)

    def ups(self) -> list[bool]:
        return [up for _, up, _ in self.states]

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


def quick_simulator(variant: Variant) -> Uhfreader18Simulator:
    """A simulated reader of ``variant`` whose inventory rounds take a millisecond; open it
    with ``async with``."""
    return Uhfreader18Simulator(SimulatedReader(variant), round_time_s=0.001)


async def start(
    simulator: Uhfreader18Simulator, transport: str, tmp_path: Path | None = None
) -> str:
    """Put ``simulator`` on ``transport`` ("tcp" or "pty"); return the URL a client opens.
    A pty gets a stable link in ``tmp_path`` (needed to reconnect after a hang-up)."""
    if transport == "tcp":
        await simulator.start_tcp()
    else:
        await simulator.start_pty(tmp_path / "reader-tty" if tmp_path else None)
    return simulator.url


@contextlib.asynccontextmanager
async def running(
    poller: Uhfreader18Poller, sink: RecordingSink
) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``poller`` for the body of a ``with``; cancel it and wait for it after."""
    async with running_task(poller.run(sink), f"poller {poller.reader_id}") as task:
        yield task
