"""An approved loan request of a box in the stacker brings the box to the station."""

from __future__ import annotations

import re

import httpx

from daemon.tokens import Role
from tests.support.room import Room
from tests.support.stacker import (
    STATION_CODE,
    location_of,
    racked,
    wait_job,
)


async def test_approving_a_request_retrieves_the_stored_box_to_the_station(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await racked(room, staff, "R-1", "r1-S12-07-03-1")
    filed = await staff.post(
        "/api/v1/loan-requests", json={"ref": "R-1", "borrower": "Li Na", "purpose": "review"}
    )
    assert filed.status_code == 201, filed.text
    async with room.client(Role.approver) as approver:
        approved = await approver.post(
            f"/api/v1/loan-requests/{filed.json()['id']}/approve", json={"approval_no": "SP-7"}
        )
    assert approved.status_code == 200, approved.text
    note = approved.json()["retrieval"]
    found = re.fullmatch(r"stacker job (\d+) retrieves it to the station", note or "")
    assert found, note
    done = await wait_job(staff, int(found.group(1)), "done", "rejected", "cancelled")
    assert done["result"] == "ok"
    assert (await location_of(staff, "R-1"))["location"]["code"] == STATION_CODE
    loan = await staff.post(
        "/api/v1/loans", json={"ref": "R-1", "borrower": "Li Na", "purpose": "review"}
    )
    assert loan.status_code == 201
    assert loan.json()["approval_no"] == "SP-7"
