"""Inventory campaigns end to end: sweep coverage from the simulated shelf reader, the closing
reconciliation run, the schedule's reminder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.services import Mosquitto
from tests.support.catalogue import tagged
from tests.support.poll import eventually
from tests.support.reconcile import read_on_shelf, rows
from tests.support.room import SHELF_1, SHELF_2, Room, reader_room

EPC_1 = "E28011606000020000000011"
EPC_2 = "E28011606000020000000012"


async def _until_state(
    client: httpx.AsyncClient, campaign_id: int, state: str, timeout: float = 60.0
) -> dict[str, object]:
    async def reached() -> dict[str, object] | None:
        url = f"/api/v1/inventory/campaigns/{campaign_id}"
        campaign: dict[str, object] = (await client.get(url)).json()
        return campaign if campaign["state"] == state else None

    return await eventually(reached, timeout=timeout, what=f"campaign {campaign_id} {state}")


async def test_campaign_sweeps_every_shelf_then_reconciles(rig: Room) -> None:
    async with rig.client() as staff:
        await tagged(staff, "BOX-HERE", EPC_1, home_location=SHELF_1)
        await tagged(staff, "BOX-NOT-HERE", EPC_2, home_location=SHELF_2)
        await read_on_shelf(rig, staff, "BOX-HERE", EPC_1, 1)

        r = await staff.post("/api/v1/inventory/campaigns", json={"note": "half-year"})
        assert r.status_code == 201, r.text
        started = r.json()
        assert started["state"] == "running"
        assert started["locations_total"] == 2
        assert started["sweeps"] == 5  # the rig's shelf.missing_sweeps
        assert started["note"] == "half-year"

        done = await _until_state(staff, started["id"], "done")
        assert done["locations_swept"] == 2
        assert done["coverage"] == 1.0
        assert done["finished_at"] is not None
        locations = {loc["code"]: loc for loc in done["locations"]}  # type: ignore[attr-defined]
        assert set(locations) == {SHELF_1, SHELF_2}
        assert all(loc["swept_at"] is not None for loc in locations.values())

        run = (await staff.get(f"/api/v1/reconciliations/{done['run_id']}")).json()
        assert run["state"] == "done"
        assert run["campaign_id"] == started["id"]
        [missing] = await rows(staff, run["id"], "missing")
        assert missing["ref"] == "BOX-NOT-HERE"
        assert missing["expected"] == SHELF_2
        assert run["discrepancies"] == 1
        event = await rig.mqtt.wait_for("inventory.reconciled", run_id=run["id"])
        assert event["campaign_id"] == started["id"]

    metrics = rig.services.metrics
    assert metrics.inventory_coverage.labels(room="r1")._value.get() == 1.0
    assert metrics.inventory_last.labels(room="r1")._value.get() > 0
    actions = [e["action"] for e in await rig.audit(f"campaign:{started['id']}")]
    assert actions == [
        "inventory.campaign_started",
        "inventory.campaign_swept",
        "inventory.campaign_done",
    ]


@pytest.fixture
async def slow_staff(
    tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Staff of a reader room whose campaigns take 10,000 sweeps (they stay running)."""
    builder = reader_room(tmp_path / "room", mosquitto, sqlite_url).inventory("sweeps = 10000")
    async with builder.running() as rig, rig.client() as client:
        yield client


async def test_one_campaign_at_a_time_and_none_over_a_missing_stacker(
    slow_staff: httpx.AsyncClient,
) -> None:
    staff = slow_staff
    refused = await staff.post("/api/v1/inventory/campaigns", json={"stacker": True})
    assert refused.status_code == 409
    assert "no stacker" in refused.json()["detail"]
    first = await staff.post("/api/v1/inventory/campaigns", json={})
    assert first.status_code == 201
    second = await staff.post("/api/v1/inventory/campaigns", json={})
    assert second.status_code == 409
    assert second.json()["detail"] == "an inventory campaign is already running in this room"
    cancelled = await staff.post(f"/api/v1/inventory/campaigns/{first.json()['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert (await staff.post("/api/v1/inventory/campaigns", json={})).status_code == 201


async def test_staff_finish_a_campaign_early_with_the_coverage_reached(
    slow_staff: httpx.AsyncClient,
) -> None:
    staff = slow_staff
    await tagged(staff, "BOX-1", EPC_1, home_location=SHELF_1)
    started = (await staff.post("/api/v1/inventory/campaigns", json={})).json()
    await asyncio.sleep(1.5)
    running = (await staff.get(f"/api/v1/inventory/campaigns/{started['id']}")).json()
    assert running["state"] == "running"
    assert running["locations_swept"] == 0  # 10,000 sweeps take a while
    finishing = await staff.post(f"/api/v1/inventory/campaigns/{started['id']}/finish")
    assert finishing.status_code == 200
    assert finishing.json()["state"] == "finishing"
    done = await _until_state(staff, started["id"], "done")
    assert done["coverage"] == 0.0
    run = (await staff.get(f"/api/v1/reconciliations/{done['run_id']}")).json()
    assert run["items_checked"] == 1
    again = await staff.post(f"/api/v1/inventory/campaigns/{started['id']}/finish")
    assert again.status_code == 409


async def test_due_inventory_raises_a_reminder_that_a_campaign_clears(
    tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str
) -> None:
    settings = "campaign_interval_days = 0.00001\nreminder_check_s = 0.2"  # under a second
    async with (
        reader_room(tmp_path / "room", mosquitto, sqlite_url).inventory(settings).running() as rig
    ):
        raised = await rig.mqtt.wait_for("alarm.raised", kind="inventory.due")
        assert raised["subject"] == "r1"
        assert raised["severity"] == "info"
        async with rig.client() as staff:
            started = (await staff.post("/api/v1/inventory/campaigns", json={})).json()
            await _until_state(staff, started["id"], "done")
        cleared = await rig.mqtt.wait_for("alarm.cleared", kind="inventory.due")
        assert cleared["reason"] == f"inventory campaign {started['id']}"
        assert cleared["alarm_id"] == raised["alarm_id"]
