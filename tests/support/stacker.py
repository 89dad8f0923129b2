"""A room whose daemon drives a simulated stacker PLC over real Modbus TCP, and the API calls
the stacker tests make: items, jobs, locations, alarms, the audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from simulators.stacker_plc import StackerPlcSimulator
from stacker.registers import IF_VERSION, IR, IR_COUNT, Mode, Snapshot, Status, decode_inputs
from tests.services import Mosquitto
from tests.support.catalogue import moved
from tests.support.poll import eventually
from tests.support.room import STACKER_TIMING, Room, RoomBuilder, toml_table

STATION = (0, 1, 0, 1, 1)
"""The simulator's pick/drop station, configured as ``io-1``."""
STATION_CODE = "r1-station-io-1"

TERMINAL = ("done", "rejected", "cancelled", "not_executed", "unresolved")
"""The states a job ends in."""

EPC_A, BOX_A = "3034257BF7194E4000001A85", "F7194E4000001A85"
EPC_B, BOX_B = "3034257BF7194E4000001B99", "F7194E4000001B99"

STACKER_TABLE: dict[str, object] = {
    "id": "stacker-t",
    "bays": 10,
    "levels": 5,
    "depths": 2,
    "stations": [{"name": "io-1", "side": 1, "bay": 0, "level": 1}],
}
"""The ``[stacker]`` table of the rooms under test: a 2 x 10 x 5 double-deep rack."""


def stacker_room(
    state_dir: Path, db_url: str, plc: StackerPlcSimulator, **settings: object
) -> RoomBuilder:
    """Room ``r1`` with the stacker of ``STACKER_TABLE`` on ``plc``; ``settings`` change its
    ``[stacker]`` table."""
    return RoomBuilder(state_dir, db_url).stacker(
        plc, **STACKER_TABLE, **STACKER_TIMING, **settings
    )


async def open_room(
    tmp_path: Path,
    db_url: str,
    sim: StackerPlcSimulator,
    *,
    broker: Mosquitto | None = None,
    **settings: object,
) -> AsyncIterator[Room]:
    """``stacker_room`` in ``tmp_path/r1``, publishing to ``broker`` if given; an async
    generator: ``async for room in open_room(...)``."""
    builder = stacker_room(tmp_path / "r1", db_url, sim, **settings)
    if broker is not None:
        builder.broker(broker, subscribe=False)
    async with builder.running() as room:
        yield room


async def add_item(client: httpx.AsyncClient, ref: str, epc: str | None = None) -> None:
    r = await client.put(
        f"/api/v1/items/{ref}",
        json={"title": f"Box {ref}", "retention": "D30", "kind": "box", "year": 2020},
    )
    assert r.status_code == 201, r.text
    if epc is not None:
        r = await client.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})
        assert r.status_code == 201, r.text


async def submit(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/stacker/jobs", json=body)
    assert r.status_code == 202, r.text
    job: dict[str, Any] = r.json()
    return job


async def _get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    """The body of a GET that must succeed."""
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def job_of(client: httpx.AsyncClient, job_id: int) -> dict[str, Any]:
    job: dict[str, Any] = await _get(client, f"/api/v1/stacker/jobs/{job_id}")
    return job


async def wait_job(
    client: httpx.AsyncClient, job_id: int, *states: str, timeout: float = 20.0
) -> dict[str, Any]:
    """The job once its state is one of ``states``."""

    async def reached() -> dict[str, Any] | None:
        job = await job_of(client, job_id)
        return job if job["state"] in states else None

    return await eventually(reached, timeout=timeout, what=f"job {job_id} {' or '.join(states)}")


async def location_of(client: httpx.AsyncClient, ref: str) -> dict[str, Any]:
    where: dict[str, Any] = await _get(client, f"/api/v1/items/{ref}/location")
    return where


async def place_in_rack(
    room: Room, client: httpx.AsyncClient, ref: str, code: str, box: str
) -> None:
    """A person puts the box in a cell and records it (a manual move): the rack follows."""
    cell = room.stacker.places.cell(code)
    assert cell is not None
    room.plc.put(cell.coordinates(), box)
    await moved(client, ref, code)
    await eventually(lambda: room.stacker.controller.cells.locate(ref=ref) == cell)


async def active_alarms(client: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await _get(client, "/api/v1/alarms", kind=kind)
    return found


async def alarms_become(
    client: httpx.AsyncClient, kind: str, subjects: list[str | None], timeout: float = 15.0
) -> None:
    """Wait until the active alarms of ``kind`` are about exactly ``subjects``."""

    async def settled() -> bool:
        return [a["subject"] for a in await active_alarms(client, kind)] == subjects

    await eventually(settled, timeout=timeout, what=f"{kind} alarms about {subjects}")


def stacker_toml(url: str, **settings: object) -> str:
    """The ``[stacker]`` table of ``stacker_room`` for a daemon run as a process."""
    return toml_table("stacker", {"url": url} | STACKER_TABLE | STACKER_TIMING | settings)


async def racked(
    room: Room, client: httpx.AsyncClient, ref: str, code: str, epc: str = EPC_A, box: str = BOX_A
) -> None:
    """Item ``ref``, tagged ``epc``, catalogued and put in cell ``code`` as box ``box``."""
    await add_item(client, ref, epc)
    await place_in_rack(room, client, ref, code, box)


def _idle_inputs() -> list[int]:
    regs = [0] * IR_COUNT
    regs[IR.PLC_HEARTBEAT] = 1
    regs[IR.IF_VERSION] = IF_VERSION
    regs[IR.MODE] = Mode.AUTO
    regs[IR.STATUS] = Status.READY | Status.SAFETY_OK | Status.HOMED
    regs[IR.POSITION : IR.POSITION + 5] = [1, 1, 1, 1, 0]
    return regs


IDLE_PLC = decode_inputs(_idle_inputs())
"""What a PLC in AUTO, ready, safe and homed answers (its input registers decoded), with no
job active or done."""


def plc_snapshot(**changes: Any) -> Snapshot:
    """``IDLE_PLC`` with ``changes`` (the handshake's and recovery's pure tests)."""
    return replace(IDLE_PLC, **changes)
