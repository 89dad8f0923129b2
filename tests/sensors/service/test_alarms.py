"""Climate alarms in the running daemon: raised once, cleared once, acknowledged by a person,
on MQTT and the API; a dead sensor is a fault of its own and does not silence its neighbours."""

from __future__ import annotations

from typing import Any

import pytest

from daemon.tokens import Role
from tests.sensors.service.conftest import ClimateRig
from tests.sensors.service.test_readings import sample
from tests.support.poll import eventually

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def events(rig: ClimateRig, event_type: str, kind: str) -> list[dict[str, object]]:
    return [e for e in rig.mqtt.events(event_type) if e.get("kind") == kind]


async def readings_of(rig: ClimateRig, sensor: str) -> int:
    counters: dict[str, int] = (await rig.sensor(sensor))["counters"]
    return counters["readings"]


async def more_readings(rig: ClimateRig, sensor: str, count: int) -> None:
    """Until ``sensor`` has delivered ``count`` more readings (a clock made of polls)."""
    target = await readings_of(rig, sensor) + count

    async def reached() -> bool:
        return await readings_of(rig, sensor) >= target

    await eventually(reached)


async def test_dehumidifier_failure_raises_the_humidity_alarm_once_and_recovery_clears_it_once(
    rig: ClimateRig,
) -> None:
    await more_readings(rig, "stack-1-a", 5)
    # RH climbs 10 % above the room's ~52 % within seconds: above 60, below the 65 of mould.
    rig.sim.dehumidifier_failure("stack-1", rise_pct=10.0, tau_s=1.0)

    raised = await rig.mqtt.wait_for("alarm.raised", kind="climate.humidity-high")
    assert raised["subject"] == "stack-1"
    assert raised["severity"] == "warning"
    assert "above 60 %" in str(raised["message"])
    alarm_id = raised["alarm_id"]

    async with rig.client(Role.staff) as staff:
        listed = (await staff.get("/api/v1/alarms")).json()
    assert [a["kind"] for a in listed if a["id"] == alarm_id] == ["climate.humidity-high"]
    room = await rig.room("stack-1")
    assert "humidity-high" in room["conditions"]
    assert [a["id"] for a in room["alarms"] if a["kind"] == "climate.humidity-high"] == [alarm_id]

    async with rig.client(Role.facilities) as facilities:
        acked = await facilities.post(f"/api/v1/alarms/{alarm_id}/ack")
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_by"] == "facilities-climate"
    assert acked.json()["active"] is True  # acknowledged, but the air is still damp

    rig.sim.clear_steps("stack-1")
    cleared = await rig.mqtt.wait_for("alarm.cleared", alarm_id=alarm_id)
    assert "humidity back at" in str(cleared["reason"])

    await more_readings(rig, "stack-1-a", 20)
    assert len(events(rig, "alarm.raised", "climate.humidity-high")) == 1
    assert len(events(rig, "alarm.cleared", "climate.humidity-high")) == 1
    history = await rig.services.alarms.list(active_only=False, kind="climate.humidity-high")
    assert len(history) == 1
    (alarm,) = history
    assert (alarm.acked_by, alarm.active) == ("facilities-climate", False)
    assert "humidity-high" not in (await rig.room("stack-1"))["conditions"]


async def test_a_dead_sensor_raises_a_fault_and_the_others_keep_reading(rig: ClimateRig) -> None:
    await more_readings(rig, "vault-a", 2)
    rig.sim.set_fault("vault-a", "dead")

    raised = await rig.mqtt.wait_for("alarm.raised", kind="sensor.fault")
    assert raised["subject"] == "vault-a"
    assert "no response" in str(raised["message"])
    assert (raised["message_key"], raised["params"]) == (
        "alarm.sensor_fault",
        {"source": "vault-a", "reason": {
            "key": "sensor.in_a_row",
            "params": {"reason": {"key": "sensor.reason.no_response", "params": {}},
                       "count": "2"}}},  # lazy_error_count = 2 (conftest)
    )  # fmt: skip

    async def down() -> dict[str, Any] | None:
        found = await rig.sensor("vault-a")
        return found if found["state"] == "down" else None

    dead = await eventually(down)
    assert dead["last_error"] == "no response"
    assert dead["counters"]["timeouts"] >= 2
    assert [a["kind"] for a in dead["alarms"]] == ["sensor.fault"]

    metrics = await rig.metrics()
    assert sample(metrics, "archroom_sensor_up", room="film-vault", sensor="vault-a") == 0.0
    assert sample(metrics, "archroom_climate_temperature_celsius",
                  room="film-vault", sensor="vault-a") is None  # fmt: skip

    async def timeouts_counted() -> bool:
        counted = sample(await rig.metrics(), "archroom_sensor_errors_total",
                         sensor="vault-a", error="timeout")  # fmt: skip
        return counted is not None and counted >= 2

    await eventually(timeouts_counted)
    async with rig.client() as client:
        health = (await client.get("/healthz")).json()["components"]["climate"]
    assert health["status"] == "degraded"
    assert "vault-a" in health["detail"]

    await more_readings(rig, "stack-1-b", 10)  # its neighbour on the line
    await more_readings(rig, "vault-b", 10)  # the other bus

    rig.sim.set_fault("vault-a", None)
    cleared = await rig.mqtt.wait_for("alarm.cleared", alarm_id=raised["alarm_id"])
    assert "answering again" in str(cleared["reason"])

    async def up_again() -> bool:
        return (
            sample(await rig.metrics(), "archroom_sensor_up", room="film-vault", sensor="vault-a")
            == 1.0
        )

    await eventually(up_again)
    assert len(events(rig, "alarm.raised", "sensor.fault")) == 1
