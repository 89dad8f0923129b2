"""Shared fixtures of the stacker tests: a simulated PLC on a free port and a raw client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.stacker_plc import StackerPlcSimulator
from stacker.cells import CellAddress, Occupant
from stacker.config import StackerConfig, StationConfig
from stacker.events import JobFinished, StackerEvent
from stacker.journal import Job, JsonlJournal
from stacker.service.controller import StackerController
from tests.support.fixtures import plc_settings, sim
from tests.support.poll import eventually
from tests.support.tasks import running_task

__all__ = ["plc_settings", "sim"]

E = TypeVar("E")

STATION = (0, 1, 0, 1, 1)
"""The simulator's default pick/drop station (aisle 0)."""


@pytest.fixture
async def raw(sim: StackerPlcSimulator) -> AsyncIterator[AsyncModbusTcpClient]:
    client = AsyncModbusTcpClient(
        "127.0.0.1", port=sim.port, retries=0, reconnect_delay=0, timeout=2
    )
    assert await client.connect()
    try:
        yield client
    finally:
        client.close()


class Recorder:
    """Collects a controller's events and waits for particular ones."""

    def __init__(self) -> None:
        self.events: list[StackerEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: StackerEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(
        self, kind: type[E], predicate: Callable[[E], bool] = lambda _: True, timeout: float = 10.0
    ) -> E:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if isinstance(event, kind) and predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def finished(self, job_id: int, timeout: float = 10.0) -> Job:
        event = await self.wait_for(JobFinished, lambda e: e.job.job_id == job_id, timeout)
        return event.job


def stacker_config(url: str, **changes: Any) -> StackerConfig:
    settings: dict[str, Any] = {
        "id": "stacker-t",
        "url": url,
        "bays": 10,
        "levels": 5,
        "depths": 2,
        "stations": (StationConfig(name="io-1", side=1, bay=0, level=1),),
        "poll_interval_s": 0.02,
        "heartbeat_interval_s": 0.2,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.2,
    }
    settings.update(changes)
    return StackerConfig(**settings)


def stock(
    sim: StackerPlcSimulator, cell: CellAddress, box: str, ref: str
) -> dict[CellAddress, Occupant]:
    """Put ``box`` into ``cell`` of the rack; the host's occupancy that knows it as item ``ref``."""
    sim.put(cell.coordinates(), box)
    return {cell: Occupant(box, ref)}


@contextlib.asynccontextmanager
async def running(
    controller: StackerController, *, ready: bool = True
) -> AsyncIterator[StackerController]:
    """Run ``controller`` until the block ends; with ``ready``, wait until it takes commands."""
    async with running_task(controller.run(), "stacker-controller-under-test"):
        if ready:
            await eventually(lambda: controller.status().refusal is None, timeout=10)
        yield controller


@pytest.fixture
def journal(tmp_path: Path) -> JsonlJournal:
    return JsonlJournal(tmp_path / "stacker-journal.jsonl")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
