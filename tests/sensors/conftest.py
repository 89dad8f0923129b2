"""Fixtures for the climate tests: the sensor simulator on loopback, and pollers around it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import tty
from collections.abc import AsyncIterator, Callable

import pytest

from sensors.bus import BusPoller
from sensors.readings import ClimateEvent, QueueSink, Reading, SensorStateChange
from simulators.climate import ClimateSimulator, default_layout
from tests.support.tasks import running_task


@pytest.fixture
async def climate_sim() -> AsyncIterator[ClimateSimulator]:
    """The default layout: stack-1-a (xy-md02, id 1), stack-1-b (rs-ws-n01, id 2) and vault-a
    (xy-md02, id 3) on the RTU line ``rs485``; vault-b (float32, id 1) on Modbus TCP ``tcp``."""
    sensors, buses, rooms = default_layout()
    sim = ClimateSimulator(sensors, buses, rooms, seed=7)
    async with sim:
        yield sim


async def _relay(master: int, port: int) -> None:
    """Carry bytes between a pty master and the simulator's RTU line, like a serial cable."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()

    def readable() -> None:
        with contextlib.suppress(OSError):
            writer.write(os.read(master, 4096))

    loop.add_reader(master, readable)
    try:
        while data := await reader.read(4096):
            os.write(master, data)
    finally:
        loop.remove_reader(master)
        writer.close()


@pytest.fixture
async def serial_line(climate_sim: ClimateSimulator) -> AsyncIterator[str]:
    """A serial device path (a pty) wired to the simulator's RS485 line."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    relay = asyncio.create_task(_relay(master, climate_sim.port("rs485")), name="pty relay")
    try:
        yield os.ttyname(slave)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        os.close(slave)
        os.close(master)


@contextlib.asynccontextmanager
async def running(poller: BusPoller) -> AsyncIterator[asyncio.Task[None]]:
    async with running_task(poller.run(), f"poller {poller.bus.id}") as task:
        yield task


async def next_event(
    sink: QueueSink, match: Callable[[ClimateEvent], bool], *, within_s: float = 10.0
) -> ClimateEvent:
    """The first event on the sink that ``match`` accepts (others are dropped); a hang guard,
    not a timing assertion: ``within_s`` is far above what any of these tests needs."""

    async def wait() -> ClimateEvent:
        while True:
            event = await sink.queue.get()
            if match(event):
                return event

    return await asyncio.wait_for(wait(), within_s)


def reading_of(sensor: str) -> Callable[[ClimateEvent], bool]:
    return lambda e: isinstance(e, Reading) and e.sensor == sensor


def state_of(sensor: str, up: bool) -> Callable[[ClimateEvent], bool]:
    return lambda e: isinstance(e, SensorStateChange) and e.sensor == sensor and e.up is up
