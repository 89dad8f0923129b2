"""Exceptions, timeouts and decisions: an alarm with the job, an operator's answer, the audit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.tokens import Role
from simulators.stacker_plc import FORCED_MISMATCH_READ, StackerPlcSimulator
from stacker.registers import ExcReq
from tests.support.room import Room
from tests.support.stacker import (
    BOX_A,
    EPC_A,
    STATION,
    STATION_CODE,
    TERMINAL,
    active_alarms,
    add_item,
    alarms_become,
    location_of,
    open_room,
    racked,
    submit,
    wait_job,
)

CELL = (1, 1, 3, 2, 1)
CELL_CODE = "r1-S11-03-02-1"


async def held_retrieval(
    room: Room, staff: httpx.AsyncClient, exc: ExcReq
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A retrieval of ``R-1`` from ``CELL_CODE`` that the PLC holds with exception ``exc``:
    the job as submitted, and as it waits for a decision."""
    await racked(room, staff, "R-1", CELL_CODE)
    room.plc.inject_exception(exc)
    job = await submit(staff, kind="retrieve", ref="R-1")
    return job, await wait_job(staff, job["job_id"], "exception")


async def decide(client: httpx.AsyncClient, job_id: int, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/stacker/jobs/{job_id}/decision", json=body)


async def decisions_audited(room: Room, subject: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (a["actor"], json.loads(a["details"]))
        for a in await room.audit(subject)
        if a["action"] == "stacker.job.decision"
    ]


async def test_empty_retrieval_raises_an_alarm_and_a_retry_finishes_the_job(
    room: Room, staff: httpx.AsyncClient
) -> None:
    job, held = await held_retrieval(room, staff, ExcReq.EMPTY_RETRIEVAL)

    assert held["exception"] == "empty retrieval: no box in the source cell"
    assert held["decisions"] == ["retry", "cancel"]
    alarms = await active_alarms(staff, "stacker.exception")
    assert [(a["subject"], a["severity"]) for a in alarms] == [("R-1", "critical")]
    assert f"retrieve job {job['job_id']} (R-1) waits for a decision" in alarms[0]["message"]
    assert alarms[0]["message_key"] == "alarm.stacker_exception"
    assert alarms[0]["params"]["exception"] == [
        {"key": "stacker.exception.empty_retrieval", "params": {}}
    ]
    state = (await staff.get("/api/v1/stacker")).json()
    assert (state["active_job"]["job_id"], state["active_job"]["state"]) == (
        job["job_id"], "exception"
    )  # fmt: skip

    r = await decide(staff, job["job_id"], decision="redirect")
    assert r.status_code == 409
    assert r.json() == {
        "detail": "redirect does not apply to: empty retrieval: no box in the source cell",
        "message_key": "decision.not_applicable",
        "params": {
            "decision": {"key": "decision.word.redirect", "params": {}},
            "exception": [{"key": "stacker.exception.empty_retrieval", "params": {}}],
        },
    }
    r = await decide(staff, job["job_id"], decision="retry")
    assert r.status_code == 200, r.text

    done = await wait_job(staff, job["job_id"], *TERMINAL)
    assert (done["state"], done["result"]) == ("done", "ok")
    assert (await location_of(staff, "R-1"))["location"]["code"] == STATION_CODE
    await alarms_become(staff, "stacker.exception", [])
    assert await decisions_audited(room, "R-1") == [
        ("staff-r1", {"stacker": "stacker-t", "job_id": job["job_id"], "decision": "retry",
                      "destination": None, "exception": int(ExcReq.EMPTY_RETRIEVAL)}),
    ]  # fmt: skip
    assert room.plc.executions(job["job_id"]) == 1


async def test_rfid_mismatch_cancelled_leaves_the_records_and_asks_a_person_to_check(
    room: Room, staff: httpx.AsyncClient
) -> None:
    job, held = await held_retrieval(room, staff, ExcReq.ID_MISMATCH)
    assert held["exception"] == "the box's RFID does not match the expected box"
    r = await decide(staff, job["job_id"], decision="cancel")
    assert r.status_code == 200, r.text

    done = await wait_job(staff, job["job_id"], *TERMINAL)
    assert (done["state"], done["result"]) == ("done", "id_mismatch")
    assert done["read_box_id"] == FORCED_MISMATCH_READ
    assert (await location_of(staff, "R-1"))["location"]["code"] == CELL_CODE
    assert room.plc.model.contents.get(CELL) == BOX_A  # the PLC did not take it
    await alarms_become(staff, "stacker.exception", [])
    failed = await active_alarms(staff, "stacker.job_failed")
    assert [a["subject"] for a in failed] == ["R-1"]
    assert [d["decision"] for _, d in await decisions_audited(room, "R-1")] == ["cancel"]

    r = await decide(staff, job["job_id"], decision="retry")
    assert (r.status_code, r.json()) == (
        409,
        {
            "detail": f"job {job['job_id']} is not waiting for a decision",
            "message_key": "decision.not_waiting",
            "params": {"job_id": str(job["job_id"])},
        },
    )


async def test_double_storage_is_redirected_to_the_cell_the_operator_names(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await add_item(staff, "R-1", EPC_A)
    room.plc.put(STATION, BOX_A)
    room.plc.inject_exception(ExcReq.DOUBLE_STORAGE)

    job = await submit(staff, kind="store", ref="R-1", destination=CELL_CODE)
    held = await wait_job(staff, job["job_id"], "exception")
    assert held["decisions"] == ["retry", "cancel", "redirect"]
    new_cell = {"aisle": 1, "side": 2, "bay": 3, "level": 2, "depth": 1}
    r = await decide(staff, job["job_id"], decision="redirect", destination=new_cell)
    assert r.status_code == 200, r.text

    done = await wait_job(staff, job["job_id"], *TERMINAL)
    assert (done["result"], done["destination"]["code"]) == ("ok", "r1-S12-03-02-1")
    assert room.plc.model.contents.get((1, 2, 3, 2, 1)) == BOX_A
    assert (await location_of(staff, "R-1"))["location"]["code"] == "r1-S12-03-02-1"
    audited = await decisions_audited(room, "R-1")
    assert [(d["decision"], d["destination"]) for _, d in audited] == [
        ("redirect", "r1-S12-03-02-1")
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_queued_job_is_withdrawn_while_the_crane_waits_on_another(
    room: Room, staff: httpx.AsyncClient
) -> None:
    first, _ = await held_retrieval(room, staff, ExcReq.EMPTY_RETRIEVAL)

    second = await submit(staff, kind="verify", cell="r1-S12-05-01-1")
    r = await decide(staff, second["job_id"], decision="retry")
    assert (r.status_code, r.json()["detail"]) == (
        409, f"job {second['job_id']} is queued: it can only be cancelled"
    )  # fmt: skip
    assert r.json()["message_key"] == "decision.queued"
    r = await decide(staff, second["job_id"], decision="cancel")
    assert (r.status_code, r.json()["state"]) == (200, "cancelled")
    r = await decide(staff, first["job_id"], decision="cancel")
    assert r.status_code == 200

    first_done = await wait_job(staff, first["job_id"], *TERMINAL)
    assert first_done["result"] == "empty_retrieval"
    assert room.plc.model.strobes[second["job_id"]] == 0
    r = await decide(staff, 4242, decision="cancel")
    assert (r.status_code, r.json()) == (404, {"detail": "no job 4242 on stacker stacker-t"})
    r = await decide(staff, first["job_id"], decision="postpone")
    assert r.status_code == 422


@pytest.fixture
async def impatient_room(
    tmp_path: Path, sqlite_url: str, sim: StackerPlcSimulator
) -> AsyncIterator[Room]:
    """A room that expects the PLC's accept within 0.5 s."""
    async for r in open_room(tmp_path, sqlite_url, sim, accept_timeout_s=0.5):
        yield r


async def unconfirmed_retrieval(room: Room, staff: httpx.AsyncClient) -> dict[str, Any]:
    """A retrieval of ``R-1`` the PLC did not accept in time; then the PLC answers again."""
    await racked(room, staff, "R-1", CELL_CODE)
    room.plc.set_slow_accept(60.0)
    job = await submit(staff, kind="retrieve", ref="R-1")
    await wait_job(staff, job["job_id"], "unconfirmed")
    room.plc.set_slow_accept(0.0)
    return job


async def test_accept_timeout_raises_an_alarm_and_the_job_is_never_resent(
    impatient_room: Room,
) -> None:
    room = impatient_room
    async with room.client(Role.staff) as staff:
        await racked(room, staff, "R-1", CELL_CODE)
        room.plc.set_slow_accept(3.0)

        job = await submit(staff, kind="verify", ref="R-1")

        await alarms_become(staff, "stacker.accept_timeout", ["R-1"])
        waiting = (await staff.get(f"/api/v1/stacker/jobs/{job['job_id']}")).json()
        assert (waiting["state"], waiting["decisions"]) == ("unconfirmed", ["retry", "cancel"])
        assert room.plc.model.strobes[job["job_id"]] == 1
        done = await wait_job(staff, job["job_id"], *TERMINAL)  # the late accept is followed
        assert (done["result"], done["read_box_id"]) == ("ok", BOX_A)
        assert room.plc.model.strobes[job["job_id"]] == 1
        assert room.plc.executions(job["job_id"]) == 1
        await alarms_become(staff, "stacker.accept_timeout", [])


async def test_operator_retry_after_an_accept_timeout_restrobes_the_same_job_once(
    impatient_room: Room,
) -> None:
    room = impatient_room
    async with room.client(Role.staff) as staff:
        job = await unconfirmed_retrieval(room, staff)
        r = await decide(staff, job["job_id"], decision="retry")
        assert r.status_code == 200, r.text

        done = await wait_job(staff, job["job_id"], *TERMINAL)
        assert done["result"] == "ok"
        assert room.plc.model.strobes[job["job_id"]] == 2
        assert room.plc.executions(job["job_id"]) == 1
        assert (await location_of(staff, "R-1"))["location"]["code"] == STATION_CODE


async def test_cancelling_an_unconfirmed_job_verifies_instead_of_forgetting_it(
    impatient_room: Room,
) -> None:
    room = impatient_room
    async with room.client(Role.staff) as staff:
        job = await unconfirmed_retrieval(room, staff)

        r = await decide(staff, job["job_id"], decision="cancel")
        assert (r.status_code, r.json()["state"]) == (200, "verifying")

        ended = await wait_job(staff, job["job_id"], *TERMINAL)
        assert ended["state"] == "not_executed"
        assert room.plc.executions(job["job_id"]) == 0
        assert (await location_of(staff, "R-1"))["location"]["code"] == CELL_CODE
        await alarms_become(staff, "stacker.outcome_unknown", [])
