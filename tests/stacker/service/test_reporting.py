"""What the stacker tells the outside: MQTT events and retained state, metrics, health."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path

import aiomqtt
import pytest

from daemon.tokens import Role
from simulators.stacker_plc import StackerPlcSimulator
from tests.services import Mosquitto
from tests.support.mqtt import Subscriber
from tests.support.poll import eventually
from tests.support.room import Room
from tests.support.stacker import BOX_A, EPC_A, STATION, add_item, open_room, submit, wait_job

PREFIX = "archroom/t/r1"


@pytest.fixture
async def subscriber(mosquitto: Mosquitto) -> AsyncIterator[Subscriber]:
    listener = Subscriber(mosquitto, f"{PREFIX}/#")
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.ready.wait(), 10)
        yield listener
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def broadcasting_room(
    tmp_path: Path, sqlite_url: str, sim: StackerPlcSimulator, mosquitto: Mosquitto
) -> AsyncIterator[Room]:
    async for room in open_room(tmp_path, sqlite_url, sim, broker=mosquitto):
        yield room


async def retained(broker: Mosquitto, topic: str) -> dict[str, object]:
    """What a client that connects now receives on ``topic`` (the broker's retained copy)."""
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                assert message.retain
                payload: dict[str, object] = json.loads(bytes(message.payload))
                return payload
    raise AssertionError("no retained message")


async def test_a_job_is_announced_on_mqtt_at_each_state_and_the_state_is_retained(
    broadcasting_room: Room, subscriber: Subscriber, mosquitto: Mosquitto
) -> None:
    room = broadcasting_room
    async with room.client(Role.staff) as staff:
        await add_item(staff, "R-1", EPC_A)
        room.plc.put(STATION, BOX_A)
        job = await submit(staff, kind="store", ref="R-1")
        await wait_job(staff, job["job_id"], "done")

    done = await subscriber.wait_for("stacker.job", job_id=job["job_id"], state="done")
    assert (done["kind"], done["ref"], done["result"]) == ("store", "R-1", "ok")
    states = [e["state"] for e in subscriber.events("stacker.job") if e["job_id"] == job["job_id"]]
    assert states == ["queued", "sending", "accepted", "done"]
    moved = await subscriber.wait_for("location.changed", ref="R-1")
    assert (moved["to_location"], moved["source"]) == ("r1-S11-01-01-2", "stacker")

    async def settled() -> bool:
        state = await retained(mosquitto, f"{PREFIX}/stacker/state")
        return "ready" in state["status"]  # type: ignore[operator]

    await eventually(settled)
    state = await retained(mosquitto, f"{PREFIX}/stacker/state")
    assert (state["stacker"], state["up"], state["mode"], state["mode_name"]) == (
        "stacker-t", True, 3, "automatic"
    )  # fmt: skip
    assert state["refusal"] is None
    assert state["position"] == {"aisle": 1, "side": 1, "bay": 1, "level": 1, "fork": 0}
    assert (state["active_job"], state["queue_length"]) == (None, 0)


def sample(exposition: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.MULTILINE)
    return None if match is None else float(match.group(1))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_metrics_count_jobs_by_kind_and_result_and_faults_by_kind(
    room: Room,
) -> None:
    async with room.client(Role.staff) as staff:
        await add_item(staff, "R-1", EPC_A)
        room.plc.put(STATION, BOX_A)
        job = await submit(staff, kind="store", ref="R-1")
        await wait_job(staff, job["job_id"], "done")
        room.plc.press_estop()

        async def counted() -> bool:
            text = (await staff.get("/metrics")).text
            return (
                sample(text, 'archroom_stacker_faults_total{code="e_stop"}') == 1.0
                and sample(text, 'archroom_stacker_jobs_total{kind="store",result="ok"}') == 1.0
                # the e-stop, and the fault the PLC latches with it
                and sample(text, 'archroom_alarms_active{kind="stacker.fault"}') == 2.0
            )

        await eventually(counted)
        text = (await staff.get("/metrics")).text
    assert sample(text, "archroom_stacker_up") == 1.0
    assert sample(text, "archroom_stacker_mode") == 3.0
    assert sample(text, "archroom_stacker_job_duration_seconds_count") == 1.0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_health_reports_the_stacker_ok_then_degraded_when_its_plc_stops_beating(
    room: Room,
) -> None:
    async with room.client(Role.staff) as client:

        async def health_is(status: str) -> bool:
            components = (await client.get("/healthz")).json()["components"]
            return bool(components["stacker"]["status"] == status)

        await eventually(lambda: health_is("ok"))
        room.plc.stop_heartbeat()
        await eventually(lambda: health_is("degraded"))
        assert (await client.get("/healthz")).json()["status"] == "degraded"
        text = (await client.get("/metrics")).text
        assert sample(text, "archroom_stacker_up") == 0.0


async def test_a_room_without_a_stacker_says_so(tmp_path: Path, sqlite_url: str) -> None:
    from tests.harness import create_token, make_config, running_daemon

    token = await create_token(sqlite_url, Role.staff)
    config = make_config(tmp_path / "plain", db_url=sqlite_url)
    async with running_daemon(config) as daemon:
        assert daemon.listening is not None
        import httpx

        async with httpx.AsyncClient(
            base_url=daemon.listening.url, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            r = await client.get("/api/v1/stacker")
            health = (await client.get("/healthz")).json()["components"]["stacker"]
    assert (r.status_code, r.json()) == (
        404, {"detail": "room r1 has no stacker ([stacker] is not configured)"}
    )  # fmt: skip
    assert health["status"] == "disabled"
