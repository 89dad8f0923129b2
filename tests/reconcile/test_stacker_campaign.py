"""A campaign that verifies the stacker's occupied cells with the crane's RFID scan."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from daemon.tokens import Role
from tests.support.reconcile import rows
from tests.support.room import Room
from tests.support.stacker import BOX_A, BOX_B, EPC_A, EPC_B, racked

CELL_A, CELL_B = "r1-S11-03-02-1", "r1-S11-05-02-1"


async def test_campaign_verifies_occupied_cells_and_reports_what_the_crane_did_not_find(
    stacker_room: Room,
) -> None:
    room = stacker_room
    async with room.client(Role.staff) as staff:
        await racked(room, staff, "R-1", CELL_A, EPC_A, BOX_A)
        await racked(room, staff, "R-2", CELL_B, EPC_B, BOX_B)
        room.plc.put((1, 1, 5, 2, 1), "SOMEONE-ELSE")  # not the box the records expect

        r = await staff.post("/api/v1/inventory/campaigns", json={"stacker": True})
        assert r.status_code == 201, r.text
        campaign = r.json()
        assert campaign["locations_total"] == 2
        done = await _done(staff, campaign["id"])
        cells = {c["code"]: c for c in done["locations"]}
        assert set(cells) == {CELL_A, CELL_B}
        assert (cells[CELL_A]["kind"], cells[CELL_A]["result"]) == ("stacker-cell", "ok")
        assert cells[CELL_B]["result"] == "id_mismatch"
        assert all(c["swept_at"] is not None for c in cells.values())

        job = await staff.get(f"/api/v1/stacker/jobs/{cells[CELL_B]['job_id']}")
        assert job.json()["kind"] == "verify"
        [row] = await rows(staff, done["run_id"])
        assert (row["discrepancy"], row["ref"], row["expected"]) == ("missing", "R-2", CELL_B)
        assert row["detail"] == (
            f"stacker verify job {cells[CELL_B]['job_id']} of {CELL_B}: "
            "the box's RFID does not match the expected box"
        )
        assert (row["message_key"], row["params"]) == (
            "finding.missing.failed_verify",
            {
                "job_id": str(cells[CELL_B]["job_id"]),
                "location": CELL_B,
                "result": {"key": "stacker.result.id_mismatch", "params": {}},
            },
        )


async def _done(client: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            campaign: dict[str, Any] = (
                await client.get(f"/api/v1/inventory/campaigns/{campaign_id}")
            ).json()
            if campaign["state"] == "done":
                return campaign
            await asyncio.sleep(0.1)
