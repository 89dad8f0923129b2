"""Rooms for the reconciliation tests: the whole-room rig (simulated shelf, desk and gate
readers, a real broker) with an ``[inventory]`` table of the test's choosing, and helpers to
run a reconciliation through the API and read its rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path

import httpx
import pytest

from daemon.tokens import Role
from drivers.uhfreader18 import Variant
from simulators.llrp_gate import LlrpGateSimulator
from simulators.uhfreader18 import SimulatedReader, Uhfreader18Simulator
from tests.api.conftest import (  # noqa: F401 (fixtures shared with the API tests)
    catalogue,
    item_body,
    room,
    room_admin,
    staff,
)
from tests.harness import create_token, make_config, running_daemon
from tests.room.conftest import RoomRig, Subscriber, room_toml
from tests.services import Mosquitto

SHELF_1, SHELF_2 = "r1-A-01-01", "r1-A-01-02"


@asynccontextmanager
async def room_rig(
    tmp_path: Path, mosquitto: Mosquitto, db_url: str, inventory: str = ""
) -> AsyncIterator[RoomRig]:
    """The room of ``tests/room`` (shelf antennas 1 and 2 watch SHELF_1 and SHELF_2)."""
    async with AsyncExitStack() as stack:
        shelf = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER288, antennas=2))
        await shelf.start_tcp()
        stack.push_async_callback(shelf.close)
        desk = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER18))
        await desk.start_tcp()
        stack.push_async_callback(desk.close)
        gate = LlrpGateSimulator(cycle_s=0.05, seed=3)
        await gate.start()
        stack.push_async_callback(gate.stop)
        subscriber = Subscriber(mosquitto, "archroom/t/r1/#")
        sub_task = asyncio.create_task(subscriber.run())

        async def stop_subscriber() -> None:
            sub_task.cancel()
            with suppress(asyncio.CancelledError):
                await sub_task

        stack.push_async_callback(stop_subscriber)
        await asyncio.wait_for(subscriber.ready.wait(), 10)
        tokens = {role: await create_token(db_url, role, f"{role.value}-rig") for role in Role}
        extra = room_toml(shelf.port, desk.port, gate.port)
        if inventory:
            extra += f"\n[inventory]\n{inventory}\n"
        config = make_config(tmp_path / "room", db_url=db_url, mqtt_url=mosquitto.url, extra=extra)
        daemon = await stack.enter_async_context(running_daemon(config))
        rig = RoomRig(daemon, shelf, desk, gate, subscriber, tokens)
        async with asyncio.timeout(20):
            while not all(rig.services.readers.up.get(r) for r in ("shelf-a", "desk-1", "door-1")):
                await asyncio.sleep(0.05)
        yield rig


@pytest.fixture
async def rig(tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str) -> AsyncIterator[RoomRig]:
    async with room_rig(tmp_path, mosquitto, sqlite_url) as r:
        yield r


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


async def catalogue_item(client: httpx.AsyncClient, ref: str, **fields: object) -> None:
    r = await client.put(f"/api/v1/items/{ref}", json=item_body(**fields))
    assert r.status_code == 201, r.text


async def tagged(client: httpx.AsyncClient, ref: str, epc: str, **fields: object) -> None:
    await catalogue_item(client, ref, **fields)
    r = await client.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})
    assert r.status_code == 201, r.text


async def located_at(client: httpx.AsyncClient, ref: str, code: str) -> None:
    """Until the records place ``ref`` at ``code`` (the shelf engine settled it there)."""

    async def there() -> bool:
        where = (await client.get(f"/api/v1/items/{ref}/location")).json()
        return bool(where["location"]["code"] == code)

    await until(there)


async def reconcile(client: httpx.AsyncClient, timeout: float = 60.0) -> dict[str, object]:
    """Request a run through the API and wait for it to finish."""
    r = await client.post("/api/v1/reconciliations")
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    async with asyncio.timeout(timeout):
        while True:
            run: dict[str, object] = (await client.get(f"/api/v1/reconciliations/{run_id}")).json()
            if run["state"] in ("done", "failed"):
                assert run["state"] == "done", run
                return run
            await asyncio.sleep(0.1)


async def rows(
    client: httpx.AsyncClient, run_id: object, discrepancy: str | None = None
) -> list[dict[str, object]]:
    params = {"discrepancy": discrepancy} if discrepancy else {}
    r = await client.get(f"/api/v1/reconciliations/{run_id}/rows", params=params)
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()["rows"]
    return found
