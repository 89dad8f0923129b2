"""The room's reader adapter (``RoomReaders``) on the store, without the daemon or HTTP: a
simulated UHFReader288 on a pty and a simulated LLRP gate feed it, and what it records is read
back from the ledger; each on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, suppress
from pathlib import Path

import pytest

from daemon.ledger.locations import UNKNOWN
from daemon.services import Services
from daemon.store.db import Store
from simulators.llrp_gate import Cross
from tests.support.ledger import catalogued, room_services
from tests.support.poll import eventually
from tests.support.room import READER_RACKS, SHELF_1, SHELF_2, Devices, RoomBuilder

EPC = "E28011606000020000000B01"


@pytest.fixture
async def adapter(
    tmp_path: Path, db_url: str, store: Store
) -> AsyncIterator[tuple[Services, Devices]]:
    """The room's services with a shelf reader on a pty and the door gate; the reader adapter
    runs (its drivers, engines and recorder) until the test ends."""
    builder = RoomBuilder(tmp_path / "r1", db_url, racks=READER_RACKS)
    builder.shelf_reader(pty=tmp_path / "shelf-a.pty").gate()
    async with AsyncExitStack() as stack:
        config, devices = await builder.configure(stack)
        services = await room_services(config, store)
        task = asyncio.create_task(services.readers.run(), name="readers under test")
        try:
            up = services.readers.up
            await eventually(lambda: up.get("shelf-a") and up.get("door-1"), what="readers up")
            yield services, devices
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


async def _at(services: Services, ref: str, code: str) -> bool:
    return (await services.whereabouts.locate_one(ref)).location.code == code


async def test_a_tag_read_on_a_shelf_puts_its_item_there_and_follows_it(
    adapter: tuple[Services, Devices],
) -> None:
    services, devices = adapter
    assert devices.shelf is not None
    await catalogued(services, "BOX-R1", epc=EPC, home=SHELF_1)
    devices.shelf.reader.place(1, EPC)
    await eventually(lambda: _at(services, "BOX-R1", SHELF_1), what=f"BOX-R1 at {SHELF_1}")
    assert devices.shelf.reader.remove(EPC)
    devices.shelf.reader.place(2, EPC)
    await eventually(lambda: _at(services, "BOX-R1", SHELF_2), what=f"BOX-R1 at {SHELF_2}")
    where = await services.whereabouts.locate_one("BOX-R1")
    assert where.source == "shelf-read"


async def test_a_box_carried_out_through_the_gate_without_a_loan_is_recorded_and_alarmed(
    adapter: tuple[Services, Devices],
) -> None:
    services, devices = adapter
    assert devices.gate is not None
    await catalogued(services, "BOX-R2", epc=EPC, home=SHELF_1)
    devices.gate.add(Cross(epc=EPC, direction="out", duration=2.0))

    async def alarmed() -> bool:
        return bool(await services.alarms.list(kind="gate.unauthorized"))

    await eventually(alarmed, what="a gate.unauthorized alarm")
    (alarm,) = await services.alarms.list(kind="gate.unauthorized")
    assert alarm.subject == "BOX-R2"
    assert await _at(services, "BOX-R2", UNKNOWN)
    history = await services.whereabouts.history("BOX-R2")
    assert [e.summary for e in history if e.kind == "gate"] == ["out through door-1 WITHOUT a loan"]
