"""PostgreSQL down: the room keeps its safety duties, loses no record, and catches up.

A real daemon on a real PostgreSQL reached through a proxy the test cuts, with simulated
shelf and gate readers and a real broker. While the database is unreachable: an item carried
out without a loan is announced at once on MQTT (provisional alarm) and in the log, shelf
moves are spooled on local disk, /healthz says degraded, API writes answer 503. When the
database returns, the spool is replayed in order and the durable records and events follow.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from daemon.tokens import Role
from simulators.llrp_gate import Cross
from tests.faults.proxy import CuttableProxy
from tests.services import Mosquitto
from tests.support.catalogue import item_body
from tests.support.poll import eventually
from tests.support.room import Room, reader_room

pytestmark = pytest.mark.slow

BOX_OUT = "E28011606000020000000011"
BOX_MOVED = "E28011606000020000000012"


@pytest.fixture
async def rig_with_cuttable_db(
    tmp_path: Path, mosquitto: Mosquitto, pg_url: str
) -> AsyncIterator[tuple[Room, CuttableProxy]]:
    url = make_url(pg_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(proxy.close)
        rig = await reader_room(
            tmp_path / "room", mosquitto, pg_url, daemon_db_url=proxied, token_suffix="db"
        ).open(stack)
        rig.services.guard.probe_s = 0.5
        yield rig, proxy


async def _location(client: httpx.AsyncClient, ref: str) -> str:
    return str((await client.get(f"/api/v1/items/{ref}/location")).json()["location"]["code"])


async def test_database_outage_keeps_gate_alarms_and_loses_no_record(
    rig_with_cuttable_db: tuple[Room, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    rig, proxy = rig_with_cuttable_db
    caplog.set_level(logging.WARNING)
    async with rig.client() as staff:
        for ref, epc in (("BOX-OUT", BOX_OUT), ("BOX-MOVED", BOX_MOVED)):
            assert (
                await staff.put(f"/api/v1/items/{ref}", json=item_body(home_location="r1-A-01-01"))
            ).status_code == 201
            assert (
                await staff.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})
            ).status_code == 201
            rig.shelf.reader.place(1, epc)
        await eventually(lambda: _both_home(staff), timeout=30)

        await proxy.cut()
        rig.shelf.reader.remove(BOX_OUT)
        rig.gate.add(Cross(epc=BOX_OUT, direction="out", duration=2.0))
        provisional = await rig.mqtt.wait_for(
            "alarm.raised", kind="gate.unauthorized", provisional=True
        )
        assert provisional["alarm_id"] is None
        assert BOX_OUT in str(provisional["message"])
        assert "without a loan" in caplog.text

        rig.shelf.reader.move(BOX_MOVED, 2)
        await eventually(lambda: _spooled(rig, 2), timeout=30)
        health = (await staff.get("/healthz")).json()
        assert health["status"] == "degraded"
        assert health["components"]["database"]["status"] == "down"
        refused = await staff.put("/api/v1/items/BOX-NEW", json=item_body())
        assert refused.status_code == 503
        assert "database is unreachable" in refused.json()["detail"]
        assert rig.mqtt.events("location.changed") == [] or all(
            e["ref"] != "BOX-MOVED" or e["to_location"] != "r1-A-01-02"
            for e in rig.mqtt.events("location.changed")
        )

        await proxy.restore()
        durable = await rig.mqtt.wait_for(
            "alarm.raised", kind="gate.unauthorized", subject="BOX-OUT"
        )
        assert isinstance(durable["alarm_id"], int)
        await rig.mqtt.wait_for("location.changed", ref="BOX-MOVED", to_location="r1-A-01-02")
        await eventually(lambda: _healthy(staff), timeout=30)

        assert await _location(staff, "BOX-OUT") == "unknown"
        assert await _location(staff, "BOX-MOVED") == "r1-A-01-02"
        history = (await staff.get("/api/v1/items/BOX-OUT/history")).json()["entries"]
        assert [e["details"]["direction"] for e in history if e["kind"] == "gate"] == ["out"]
        assert len(rig.services.guard.spool) == 0
        assert rig.services.guard.replayed >= 2  # the passage, the move (and alarms about them)
        assert not rig.services.guard.rejected.exists()
    async with rig.client(Role.auditor) as auditor:
        assert (await auditor.get("/api/v1/audit/verify")).json()["ok"] is True
    async with rig.client(Role.admin) as admin:
        alarms = (await admin.get("/api/v1/alarms?kind=gate.unauthorized")).json()
        assert [a["subject"] for a in alarms] == ["BOX-OUT"]


async def _both_home(client: httpx.AsyncClient) -> bool:
    return all([await _location(client, ref) == "r1-A-01-01" for ref in ("BOX-OUT", "BOX-MOVED")])


async def _spooled(rig: Room, n: int) -> bool:
    return len(rig.services.guard.spool) >= n


async def _healthy(client: httpx.AsyncClient) -> bool:
    return bool((await client.get("/healthz")).json()["components"]["database"]["status"] == "ok")
