"""The door sounder: a Modbus coil switched on by an unauthorized removal, and off again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators.llrp_gate import Cross
from simulators.modbus import serve
from tests.services import Mosquitto, free_port
from tests.support.catalogue import item_body
from tests.support.room import Room, reader_room

BOX = "E28011606000020000000077"


@pytest.fixture
async def coil_server() -> AsyncIterator[int]:
    """A Modbus TCP I/O module with 16 coils, all off."""
    port = free_port()
    blocks = (
        [SimData(0, count=16, values=False, datatype=DataType.BITS)],
        [SimData(0, count=16, values=False, datatype=DataType.BITS)],
        [SimData(0, count=16, values=0, datatype=DataType.REGISTERS)],
        [SimData(0, count=16, values=0, datatype=DataType.REGISTERS)],
    )
    server, _ = await serve([SimDevice(id=1, simdata=blocks)], "127.0.0.1", port)
    try:
        yield port
    finally:
        await server.shutdown()  # type: ignore[no-untyped-call]


async def _coil(port: int, coil: int) -> bool:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, retries=0)
    try:
        await client.connect()
        response = await client.read_coils(coil, count=1, device_id=1)
        return bool(response.bits[0])
    finally:
        client.close()


@pytest.fixture
async def rig_with_sounder(
    tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str, coil_server: int
) -> AsyncIterator[Room]:
    sounder = f'[gates.sounder]\nurl = "tcp://127.0.0.1:{coil_server}"\ncoil = 3\nseconds = 1.5\n'
    async with AsyncExitStack() as stack:
        yield await reader_room(tmp_path / "room", mosquitto, sqlite_url, gate_extra=sounder).open(
            stack
        )


async def test_unauthorized_removal_sounds_the_door_and_then_stops(
    rig_with_sounder: Room, coil_server: int
) -> None:
    rig = rig_with_sounder
    async with rig.client() as staff:
        await staff.put("/api/v1/items/BOX-S", json=item_body())
        await staff.post("/api/v1/items/BOX-S/tag", json={"epc": BOX})
    assert await _coil(coil_server, 3) is False
    rig.gate.add(Cross(epc=BOX, direction="out", duration=2.0))
    await rig.mqtt.wait_for("alarm.raised", kind="gate.unauthorized")
    async with asyncio.timeout(5):
        while not await _coil(coil_server, 3):
            await asyncio.sleep(0.05)
    async with asyncio.timeout(10):
        while await _coil(coil_server, 3):
            await asyncio.sleep(0.1)
    sounder = rig.services.readers.sounders["door-1"]
    assert sounder.sounded == 1
    assert sounder.failures == 0


async def test_a_sounder_that_does_not_answer_never_holds_up_the_alarm(
    tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str
) -> None:
    dead = free_port()  # nothing listens there
    sounder = f'[gates.sounder]\nurl = "tcp://127.0.0.1:{dead}"\nseconds = 1.0\n'
    async with AsyncExitStack() as stack:
        rig = await reader_room(tmp_path / "room", mosquitto, sqlite_url, gate_extra=sounder).open(
            stack
        )
        async with rig.client() as staff:
            await staff.put("/api/v1/items/BOX-S", json=item_body())
            await staff.post("/api/v1/items/BOX-S/tag", json={"epc": BOX})
        rig.gate.add(Cross(epc=BOX, direction="out", duration=2.0))
        await rig.mqtt.wait_for("alarm.raised", kind="gate.unauthorized")
        door = rig.services.readers.sounders["door-1"]
        async with asyncio.timeout(10):
            while door.failures == 0:
                await asyncio.sleep(0.05)
        assert door.sounded == 1
