"""Shared fixtures of the stacker tests: a simulated PLC on a free port and a raw client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.stacker_plc import PlcSettings, StackerPlcSimulator

STATION = (0, 1, 0, 1, 1)
"""The simulator's default pick/drop station (aisle 0)."""


@pytest.fixture
def plc_settings() -> PlcSettings:
    return PlcSettings(bays=10, levels=5, depths=2, host_watchdog_s=60.0, heartbeat_period_s=0.05)


@pytest.fixture
async def sim(plc_settings: PlcSettings) -> AsyncIterator[StackerPlcSimulator]:
    async with StackerPlcSimulator(plc_settings) as simulator:
        yield simulator


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


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 5.0, interval: float = 0.01
) -> None:
    """Wait until ``check`` holds; fail after ``timeout`` (a bound, not a measurement)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
