"""The stacker's station through the API: a retrieval waits, visibly, for the box in front of it
to be taken; a job waiting for a decision shows the queue blocked; a stray box rings an alarm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.stacker_plc import StackerPlcSimulator
from tests.support.poll import eventually
from tests.support.room import Room
from tests.support.stacker import (
    BOX_A,
    BOX_B,
    EPC_A,
    EPC_B,
    STATION,
    TERMINAL,
    active_alarms,
    add_item,
    alarms_become,
    job_of,
    racked,
    stacker_room,
    submit,
    wait_job,
)

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def stacker_of(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/api/v1/stacker")
    assert r.status_code == 200, r.text
    state: dict[str, Any] = r.json()
    return state


async def stacker_health(client: httpx.AsyncClient) -> dict[str, Any]:
    component: dict[str, Any] = (await client.get("/healthz")).json()["components"]["stacker"]
    return component


async def test_a_second_retrieval_waits_for_the_first_box_to_be_taken_and_says_why(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await racked(room, staff, "R-A", "r1-S11-03-02-1", EPC_A, BOX_A)
    await racked(room, staff, "R-B", "r1-S12-05-04-1", EPC_B, BOX_B)

    first = await submit(staff, kind="retrieve", ref="R-A")
    second = await submit(staff, kind="retrieve", ref="R-B")
    assert (await wait_job(staff, first["job_id"], *TERMINAL))["result"] == "ok"

    async def second_waits() -> bool:
        return (await job_of(staff, second["job_id"]))["waiting"] is not None

    await eventually(second_waits)
    waiting = await job_of(staff, second["job_id"])
    assert waiting["state"] == "queued"
    assert waiting["waiting"] == {
        "key": "station_holds_box",
        "station": "io-1",
        "box_id": BOX_A,
        "ref": "R-A",
        "job_id": first["job_id"],
    }
    assert waiting["waiting_for"] == (
        f"station io-1 still holds R-A, retrieved by job {first['job_id']}: "
        "waiting for it to be taken out or stored"
    )
    state = await stacker_of(staff)
    assert [j["waiting_for"] for j in state["queue"]] == [waiting["waiting_for"]]
    assert state["blocked"] is None
    assert state["stations"][0]["ref"] == "R-A"
    assert state["stations"][0]["plc_occupied"] is True
    health = await stacker_health(staff)
    assert health["status"] == "ok"
    assert waiting["waiting_for"] in health["detail"]
    assert room.plc.executions(second["job_id"]) == 0

    assert room.plc.clerk_takes() == BOX_A
    done = await wait_job(staff, second["job_id"], *TERMINAL)
    assert (done["state"], done["result"], done["waiting_for"]) == ("done", "ok", None)
    assert room.plc.station_box() == BOX_B
    assert await active_alarms(staff, "stacker.exception") == []


async def test_a_box_the_stacker_did_not_bring_raises_the_alarm_and_holds_the_retrieval(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await racked(room, staff, "R-A", "r1-S11-03-02-1")
    room.plc.clerk_puts("STRAY-BOX")  # the host's record says the station is empty

    job = await submit(staff, kind="retrieve", ref="R-A")
    await alarms_become(staff, "stacker.station_mismatch", [None])
    alarm = (await active_alarms(staff, "stacker.station_mismatch"))[0]
    assert "station io-1 holds a box the stacker did not bring there" in alarm["message"]
    assert (alarm["message_key"], alarm["params"]["station"]) == (
        "alarm.stacker_station_mismatch",
        "io-1",
    )
    waiting = await job_of(staff, job["job_id"])
    assert waiting["waiting"]["key"] == "station_occupied"
    assert (await stacker_of(staff))["stations"][0]["mismatch"] is not None

    room.plc.clerk_takes()
    await alarms_become(staff, "stacker.station_mismatch", [])
    assert (await wait_job(staff, job["job_id"], *TERMINAL))["result"] == "ok"


async def test_a_job_waiting_for_a_decision_blocks_the_queue_visibly(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await add_item(staff, "R-NEW", EPC_A)
    await racked(room, staff, "R-B", "r1-S12-05-04-1", EPC_B, BOX_B)
    taken = room.stacker.places.cell("r1-S11-02-02-1")
    assert taken is not None
    room.plc.put(taken.coordinates(), "UNKNOWN-BOX")  # the host believes this cell is free
    room.plc.put(STATION, BOX_A)

    store = await submit(staff, kind="store", ref="R-NEW", destination="r1-S11-02-02-1")
    behind = await submit(staff, kind="retrieve", ref="R-B")
    await wait_job(staff, store["job_id"], "exception")

    async def blocked() -> bool:
        return bool((await stacker_health(staff))["status"] == "degraded")

    await eventually(blocked)
    health = await stacker_health(staff)
    assert f"job {store['job_id']} waits for a decision (double storage" in health["detail"]
    assert "1 queued job(s) wait behind it" in health["detail"]
    assert (await staff.get("/healthz")).json()["status"] == "degraded"
    state = await stacker_of(staff)
    assert state["blocked_job"] == store["job_id"]
    assert state["blocked"] == health["detail"]

    r = await staff.post(f"/api/v1/stacker/jobs/{store['job_id']}/decision",
                         json={"decision": "redirect"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (await wait_job(staff, store["job_id"], *TERMINAL))["result"] == "ok"
    assert (await wait_job(staff, behind["job_id"], *TERMINAL))["result"] == "ok"
    assert (await stacker_of(staff))["blocked"] is None


async def test_a_restarted_daemon_remembers_the_box_a_retrieval_left_at_the_station(
    tmp_path: Path, db_url: str, sim: StackerPlcSimulator
) -> None:
    builder = stacker_room(tmp_path / "r1", db_url, sim)
    async with builder.running() as room, room.client() as staff:
        await racked(room, staff, "R-A", "r1-S11-03-02-1", EPC_A, BOX_A)
        await racked(room, staff, "R-B", "r1-S12-05-04-1", EPC_B, BOX_B)
        first = await submit(staff, kind="retrieve", ref="R-A")
        assert (await wait_job(staff, first["job_id"], *TERMINAL))["result"] == "ok"

    async with builder.running() as room, room.client() as staff:
        assert (await stacker_of(staff))["stations"][0]["ref"] == "R-A"
        second = await submit(staff, kind="retrieve", ref="R-B")
        waiting = await job_of(staff, second["job_id"])
        assert waiting["waiting"]["key"] == "station_holds_box"
        assert waiting["waiting"]["ref"] == "R-A"
        room.plc.clerk_takes()
        assert (await wait_job(staff, second["job_id"], *TERMINAL))["result"] == "ok"
        assert await active_alarms(staff, "stacker.station_mismatch") == []
