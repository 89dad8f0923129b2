"""The database goes away while the crane is moving a box.

A real daemon on a real PostgreSQL reached through a proxy the test cuts, a simulated PLC over
Modbus TCP and a real broker. The job journal lives in the database, so while it is unreachable
the PLC's result must wait, unacknowledged, in its registers (journal first), the host heartbeat
must go on so that the PLC's watchdog does not stop the crane, no command may be sent, and the
alarm must reach MQTT. When the database returns, the result is recorded with its movement and
only then acknowledged; the job ran once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from daemon.tokens import Role
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.cells import CellAddress
from stacker.registers import IR, Status, join_u32
from tests.faults.proxy import CuttableProxy
from tests.services import Mosquitto
from tests.support.fixtures import PLC_SETTINGS
from tests.support.mqtt import Subscriber
from tests.support.poll import eventually
from tests.support.room import Room
from tests.support.stacker import (
    BOX_A,
    EPC_A,
    STATION,
    add_item,
    location_of,
    open_room,
    submit,
    wait_job,
)

pytestmark = pytest.mark.slow

PREFIX = "archroom/t/r1"


@pytest.fixture
def plc_settings() -> PlcSettings:
    # A store to the far end takes a few seconds; the PLC stops the crane after 1.5 s without a
    # host heartbeat.
    return replace(PLC_SETTINGS, seconds_per_bay=0.2, host_watchdog_s=1.5)


@pytest.fixture
async def cut_room(
    tmp_path: Path, pg_url: str, sim: StackerPlcSimulator, mosquitto: Mosquitto
) -> AsyncIterator[tuple[Room, CuttableProxy, Subscriber]]:
    url = make_url(pg_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    listener = Subscriber(mosquitto, f"{PREFIX}/#")
    listening = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.ready.wait(), 10)
        async for room in open_room(tmp_path, proxied, sim, broker=mosquitto):
            room.services.guard.probe_s = 0.5
            try:
                yield room, proxy, listener
            finally:
                await proxy.restore()
    finally:
        listening.cancel()
        with suppress(asyncio.CancelledError):
            await listening
        await proxy.close()


def result_waits_at_plc(sim: StackerPlcSimulator, job_id: int) -> bool:
    regs = sim.model.input_registers()
    last_done = join_u32(*regs[IR.LAST_DONE_JOB_ID : IR.LAST_DONE_JOB_ID + 2])
    return bool(sim.model.status() & Status.DONE) and last_done == job_id


async def test_a_result_waits_at_the_plc_until_the_database_records_it(
    cut_room: tuple[Room, CuttableProxy, Subscriber],
) -> None:
    room, proxy, mqtt = cut_room
    async with room.client(Role.staff) as staff:
        await add_item(staff, "R-1", EPC_A)
        room.plc.put(STATION, BOX_A)
        far = CellAddress(1, 2, 10, 5, 1)
        job = await submit(staff, kind="store", ref="R-1", destination=str(far))
        await wait_job(staff, job["job_id"], "accepted")

        await proxy.cut()
        alarm = await mqtt.wait_for("alarm.raised", kind="stacker.journal", provisional=True)
        assert "journal cannot be written" in str(alarm["message"])
        await eventually(lambda: result_waits_at_plc(room.plc, job["job_id"]), timeout=30)
        refusal = room.stacker.status().refusal
        assert refusal is not None
        assert "journal" in refusal
        await asyncio.sleep(3.0)  # twice the PLC's host watchdog
        assert result_waits_at_plc(room.plc, job["job_id"])  # not acknowledged unrecorded
        assert not room.plc.model.status() & Status.HOST_WATCHDOG_TRIPPED
        assert room.stacker.status().up

        await proxy.restore()
        done = await wait_job(staff, job["job_id"], "done", timeout=30)
        assert done["result"] == "ok"
        await eventually(lambda: not result_waits_at_plc(room.plc, job["job_id"]))
        where = await location_of(staff, "R-1")
        assert where["source"] == "stacker"
        assert where["location"]["code"] == room.stacker.places.code(far)
        await mqtt.wait_for("alarm.cleared", kind="stacker.journal")
        await eventually(lambda: room.stacker.status().refusal is None)

    assert room.plc.executions(job["job_id"]) == 1
    assert room.plc.model.strobes[job["job_id"]] == 1
    states = [e["state"] for e in mqtt.events("stacker.job") if e["job_id"] == job["job_id"]]
    assert states.count("done") == 1
    async with room.client(Role.auditor) as auditor:
        assert (await auditor.get("/api/v1/audit/verify")).json()["ok"] is True
