"""Jobs through the API against the simulated PLC: what the crane does and what the ledger says."""

from __future__ import annotations

import json

import httpx
import pytest

from daemon.tokens import Role
from simulators.stacker_plc import StackerPlcSimulator
from stacker.registers import Mode
from tests.support.poll import eventually
from tests.support.room import Room
from tests.support.stacker import (
    BOX_A,
    BOX_B,
    EPC_A,
    EPC_B,
    STATION,
    STATION_CODE,
    TERMINAL,
    active_alarms,
    add_item,
    location_of,
    racked,
    submit,
    wait_job,
)

NEAREST = (1, 1, 1, 1, 2)
"""The free cell nearest the station (bay 1, level 1; inner cell first; side 1 first)."""
NEAREST_CODE = "r1-S11-01-01-2"


async def test_store_then_retrieve_moves_the_box_and_the_ledger_follows(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await add_item(staff, "R-1", EPC_A)
    room.plc.put(STATION, BOX_A)  # someone puts the box on the pick/drop station

    store = await submit(staff, kind="store", ref="R-1")
    assert store["state"] == "queued"
    assert store["source"] == {"code": STATION_CODE, "cell": "a0-s1-b0-l1-d1"}
    assert store["destination"] == {"code": NEAREST_CODE, "cell": "a1-s1-b1-l1-d2"}
    assert store["box_id"] == BOX_A
    stored = await wait_job(staff, store["job_id"], *TERMINAL)
    assert (stored["state"], stored["result"]) == ("done", "ok")
    assert room.plc.model.contents.get(NEAREST) == BOX_A
    assert STATION not in room.plc.model.contents
    where = await location_of(staff, "R-1")
    assert where["location"] == {"code": NEAREST_CODE, "kind": "stacker-cell", "room": "r1"}
    assert where["source"] == "stacker"

    retrieve = await submit(staff, kind="retrieve", ref="R-1")
    assert retrieve["source"]["code"] == NEAREST_CODE
    assert retrieve["destination"]["code"] == STATION_CODE
    retrieved = await wait_job(staff, retrieve["job_id"], *TERMINAL)
    assert (retrieved["state"], retrieved["result"]) == ("done", "ok")
    assert room.plc.model.contents.get(STATION) == BOX_A
    where = await location_of(staff, "R-1")
    assert where["location"] == {"code": STATION_CODE, "kind": "station", "room": "r1"}
    assert room.plc.executions(store["job_id"]) == 1
    assert room.plc.executions(retrieve["job_id"]) == 1

    r = await staff.get("/api/v1/items/R-1/history")
    entries = r.json()["entries"]
    moves = [e["details"]["to"] for e in entries if e["kind"] == "movement"]
    assert moves == [NEAREST_CODE, STATION_CODE]
    assert all(e["details"]["source"] == "stacker" for e in entries if e["kind"] == "movement")
    jobs = [(e["details"]["job_id"], e["details"]["kind"], e["details"]["result"])
            for e in entries if e["kind"] == "stacker"]  # fmt: skip
    assert jobs == [(store["job_id"], "store", "ok"), (retrieve["job_id"], "retrieve", "ok")]

    trail = [(a["action"], a["actor"]) for a in await room.audit("R-1")]
    assert trail.count(("stacker.job.created", "staff-r1")) == 2
    assert trail.count(("stacker.job.finished", "stacker-t")) == 2
    assert trail.count(("item.moved", "stacker-t")) == 2


async def test_a_shuffle_clears_the_outer_box_before_an_inner_retrieval_and_both_are_recorded(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await racked(room, staff, "R-IN", "r1-S11-04-02-2", EPC_A, BOX_A)
    await racked(room, staff, "R-OUT", "r1-S11-04-02-1", EPC_B, BOX_B)

    job = await submit(staff, kind="retrieve", ref="R-IN")
    done = await wait_job(staff, job["job_id"], *TERMINAL)

    assert done["result"] == "ok"
    assert (await location_of(staff, "R-IN"))["location"]["code"] == STATION_CODE
    # The outer box went to the nearest free cell: same bay and level, other side, inner first.
    assert (await location_of(staff, "R-OUT"))["location"]["code"] == "r1-S12-04-02-2"
    assert room.plc.model.contents.get((1, 2, 4, 2, 2)) == BOX_B
    r = await staff.get("/api/v1/items/R-OUT/history")
    shuffles = [e["details"] for e in r.json()["entries"] if e["kind"] == "stacker"]
    assert [(s["kind"], s["result"]) for s in shuffles] == [("relocate", "ok")]


async def test_an_item_a_person_puts_in_a_cell_can_be_retrieved(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await racked(room, staff, "R-1", "r1-S12-07-03-1")

    job = await submit(staff, kind="retrieve", ref="R-1", station="io-1")

    assert job["source"]["code"] == "r1-S12-07-03-1"
    assert job["box_id"] == BOX_A
    assert (await wait_job(staff, job["job_id"], *TERMINAL))["result"] == "ok"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_untagged_item_travels_without_an_rfid_check(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await add_item(staff, "R-PLAIN")
    room.plc.put(STATION, "")

    job = await submit(staff, kind="store", ref="R-PLAIN", destination="r1-S11-02-02-1")
    done = await wait_job(staff, job["job_id"], *TERMINAL)

    assert job["box_id"] == ""
    assert done["result"] == "ok"
    assert (await location_of(staff, "R-PLAIN"))["location"]["code"] == "r1-S11-02-02-1"


async def test_a_verify_queued_by_another_service_confirms_or_questions_a_cell(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await racked(room, staff, "R-1", "r1-S11-03-02-1", EPC_A, BOX_A)
    await racked(room, staff, "R-2", "r1-S11-05-02-1", EPC_B, BOX_B)
    room.plc.put((1, 1, 5, 2, 1), "SOMEONE-ELSE")  # the rack holds another box than recorded

    confirmed = await room.stacker.queue_verify("r1-S11-03-02-1", actor="inventory")
    questioned = await room.stacker.queue_verify("a1-s1-b5-l2-d1", actor="inventory")

    first = await wait_job(staff, confirmed.job_id, *TERMINAL)
    second = await wait_job(staff, questioned.job_id, *TERMINAL)
    assert (first["ref"], first["result"], first["read_box_id"]) == ("R-1", "ok", BOX_A)
    assert (second["ref"], second["result"]) == ("R-2", "id_mismatch")
    assert second["read_box_id"] == "SOMEONE-ELSE"
    assert (await location_of(staff, "R-2"))["location"]["code"] == "r1-S11-05-02-1"
    assert await active_alarms(staff, "stacker.job_failed") == []  # a finding, not a failure
    created = [a for a in await room.audit("R-1") if a["action"] == "stacker.job.created"]
    assert [a["actor"] for a in created] == ["inventory"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_requests_that_cannot_be_planned_are_refused_with_the_reason(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await add_item(staff, "R-1", EPC_A)
    await racked(room, staff, "R-2", "r1-S11-03-02-1", EPC_B, BOX_B)
    jobs = "/api/v1/stacker/jobs"

    r = await staff.post(jobs, json={"kind": "retrieve", "ref": "NOPE"})
    assert (r.status_code, r.json()) == (404, {"detail": "no catalogue record with ref 'NOPE'"})
    r = await staff.post(jobs, json={"kind": "retrieve", "ref": "R-1"})
    assert (r.status_code, r.json()) == (
        409,
        {
            "detail": "item R-1 is not in the stacker",
            "message_key": "stacker.not_in_stacker",
            "params": {"what": "R-1"},
        },
    )
    r = await staff.post(jobs, json={"kind": "store", "ref": "R-2"})
    assert r.status_code == 409
    assert r.json() == {
        "detail": "R-2 is already in the stacker at r1-S11-03-02-1",
        "message_key": "stacker.already_in",
        "params": {"ref": "R-2", "cell": "r1-S11-03-02-1"},
    }
    store = {"kind": "store", "ref": "R-1"}
    r = await staff.post(jobs, json={**store, "destination": "r1-S11-03-02-1"})
    assert (r.status_code, r.json()) == (
        409,
        {
            "detail": "cell a1-s1-b3-l2-d1 is occupied",
            "message_key": "stacker.cell.occupied",
            "params": {"cell": "a1-s1-b3-l2-d1"},
        },
    )
    r = await staff.post(jobs, json={**store, "destination": "r1-S11-03-02-2"})
    assert r.status_code == 409
    assert r.json() == {
        "detail": "cell a1-s1-b3-l2-d2 is blocked by the box in its outer cell",
        "message_key": "stacker.cell.blocked",
        "params": {"cell": "a1-s1-b3-l2-d2"},
    }
    r = await staff.post(jobs, json={"kind": "fetch", "ref": "R-1"})
    assert r.status_code == 422
    r = await staff.post(jobs, json={"kind": "retrieve", "ref": "R-2", "station": "io-9"})
    assert (r.status_code, r.json()) == (422, {"detail": "unknown station 'io-9'"})
    r = await staff.post(jobs, json={**store, "destination": "r1-S11-99-02-1"})
    assert r.status_code == 422
    assert "is not a cell or station of stacker stacker-t" in r.json()["detail"]
    r = await staff.post(jobs, json={"kind": "store"})
    assert (r.status_code, r.json()) == (422, {"detail": "a store job needs the item's ref"})
    r = await staff.get("/api/v1/stacker/jobs/4242")
    assert (r.status_code, r.json()) == (404, {"detail": "no job 4242 on stacker stacker-t"})
    assert sum(room.plc.model.strobes.values()) == 0


REFUSALS = [
    ("manual", "stacker is in manual mode", None),
    ("e-stop", "emergency stop is pressed",
     ("stacker.fault", "stacker stacker-t: emergency stop is pressed")),
    ("door", "door 2 is open", ("stacker.fault", "stacker stacker-t: door 2 is open")),
    ("plc heartbeat", "stacker PLC heartbeat unchanged for 1 s",
     ("stacker.down", "stacker stacker-t is unavailable: stacker PLC heartbeat unchanged for 1 s")),
]  # fmt: skip
REFUSAL_KEYS = {
    "manual": "stacker.mode.manual",
    "e-stop": "stacker.e_stop",
    "door": "stacker.fault.door",
    "plc heartbeat": "stacker.heartbeat_unchanged",
}
REFUSAL_PARAMS = {
    "manual": {},
    "e-stop": {},
    "door": {"door": "2"},
    "plc heartbeat": {"seconds": "1"},
}


def _break(sim: StackerPlcSimulator, what: str) -> None:
    if what == "manual":
        sim.set_mode(Mode.MANUAL)
    elif what == "e-stop":
        sim.press_estop()
    elif what == "door":
        sim.open_door(2)
    else:
        sim.stop_heartbeat()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("what", "reason", "alarm"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_jobs_are_refused_with_the_reason_in_words_while_the_stacker_cannot_take_them(
    room: Room,
    staff: httpx.AsyncClient,
    what: str,
    reason: str,
    alarm: tuple[str, str] | None,
) -> None:
    await racked(room, staff, "R-1", "r1-S11-03-02-1")

    _break(room.plc, what)

    async def refusing() -> bool:
        state = (await staff.get("/api/v1/stacker")).json()
        return bool(state["refusal"] == reason)

    await eventually(refusing)
    r = await staff.post("/api/v1/stacker/jobs", json={"kind": "retrieve", "ref": "R-1"})
    assert (r.status_code, r.json()["detail"]) == (409, reason)
    assert r.json().get("message_key") == REFUSAL_KEYS[what]
    assert r.json().get("params") == REFUSAL_PARAMS[what]
    assert sum(room.plc.model.strobes.values()) == 0

    async def degraded() -> bool:
        health = (await staff.get("/healthz")).json()["components"]["stacker"]
        return bool((health["status"], health["detail"]) == ("degraded", reason))

    await eventually(degraded)
    if alarm is not None:
        kind, message = alarm

        async def alarmed() -> bool:
            return message in [a["message"] for a in await active_alarms(staff, kind)]

        await eventually(alarmed)
        if kind == "stacker.down":  # the reason inside the alarm is a message of its own
            [down] = await active_alarms(staff, kind)
            assert (down["message_key"], down["params"]) == (
                "alarm.stacker_down",
                {"stacker": "stacker-t", "reason": {
                    "key": REFUSAL_KEYS[what], "params": REFUSAL_PARAMS[what]}},
            )  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_stacker_down_alarm_ends_when_the_plc_heartbeat_resumes(
    room: Room, staff: httpx.AsyncClient
) -> None:
    room.plc.stop_heartbeat()

    async def down_alarm(active: bool) -> bool:
        return bool(await active_alarms(staff, "stacker.down")) is active

    await eventually(lambda: down_alarm(True))
    room.plc.resume_heartbeat()
    await eventually(lambda: down_alarm(False))
    state = (await staff.get("/api/v1/stacker")).json()
    assert (state["up"], state["refusal"]) == (True, None)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_latched_emergency_stop_is_reset_through_the_api_once_released(
    room: Room, staff: httpx.AsyncClient
) -> None:
    room.plc.press_estop()

    async def refusal(expected: str | None) -> bool:
        return bool((await staff.get("/api/v1/stacker")).json()["refusal"] == expected)

    await eventually(lambda: refusal("emergency stop is pressed"))
    room.plc.release_estop()
    await eventually(lambda: refusal("stacker reports fault 100"))
    r = await staff.post("/api/v1/stacker/reset")
    assert r.status_code == 200, r.text
    await eventually(lambda: refusal(None))
    trail = await room.audit("stacker stacker-t")
    resets = [a["actor"] for a in trail if a["action"] == "stacker.fault_reset"]
    assert resets == ["staff-r1"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_stacker_state_shows_mode_status_position_and_rack(
    room: Room, staff: httpx.AsyncClient
) -> None:
    async with room.client(Role.facilities) as facilities:
        r = await facilities.get("/api/v1/stacker")
    state = r.json()
    assert r.status_code == 200
    assert (state["id"], state["up"], state["mode"], state["mode_name"]) == (
        "stacker-t", True, 3, "automatic"
    )  # fmt: skip
    assert {"ready", "safety_ok", "homed"} <= set(state["status"])
    assert state["position"] == {"aisle": 1, "side": 1, "bay": 1, "level": 1, "fork": 0}
    assert (state["cells"], state["occupied_cells"]) == (200, 0)
    assert (state["active_job"], state["queue"], state["faults"]) == (None, [], [])
    assert json.loads(json.dumps(state)) == state
