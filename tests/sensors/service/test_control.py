"""Climate control in the running daemon: the room's air simulated physically, its
dehumidifier and humidifier on a Modbus TCP relay module, switched by the daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.tokens import Role
from simulators.climate import ClimateSimulator
from tests.harness import make_config, running_daemon
from tests.sensors.service.conftest import ROOM, ControlRig, controlled_room_toml
from tests.support.poll import eventually

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def _humidity(rig: ControlRig) -> float:
    room = await rig.room(ROOM)
    value = room["smoothed_humidity_pct"] or room["humidity_pct"]
    assert isinstance(value, float)
    return value


async def test_a_humidity_excursion_runs_the_dehumidifier_until_the_room_recovers(
    control_rig: ControlRig,
) -> None:
    rig = control_rig
    await rig.wait_ticks(5)
    assert not rig.relays.is_on(ROOM, "dehumidifier")
    rig.humid_corridor()

    on = await rig.mqtt.wait_for("climate.actuator", 60, actuator="dh-1", on=True)
    assert on["by"] == "archroom"
    assert on["kind"] == "dehumidifier"
    assert on["room"] == ROOM
    assert rig.relays.is_on(ROOM, "dehumidifier")
    assert 'archroom_climate_actuator_on{actuator="dh-1",room="stack-1"} 1.0' in (
        await rig.metrics()
    )
    assert await _humidity(rig) >= 58.0  # the controller acted on what the API shows

    off = await rig.mqtt.wait_for("climate.actuator", 60, actuator="dh-1", on=False)
    assert "back to" in str(off["reason"])
    assert not rig.relays.is_on(ROOM, "dehumidifier")
    assert await _humidity(rig) < 58.0
    # the humidifier was never asked to fight it
    assert not [e for e in rig.mqtt.events("climate.actuator") if e["actuator"] == "hu-1"]

    metrics = await rig.metrics()
    runtime = next(
        line for line in metrics.splitlines()
        if line.startswith('archroom_climate_actuator_runtime_seconds_total{actuator="dh-1"')
    )  # fmt: skip
    assert float(runtime.split()[-1]) > 0

    # every switch is in the audit trail, with its reason
    async with rig.client(Role.auditor) as client:  # the audit is the auditor's alone
        audit = (await client.get("/api/v1/audit", params={"subject": "dh-1"})).json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    switches = [e for e in entries if e["action"] == "climate.actuator.switch"]
    events = [e for e in rig.mqtt.events("climate.actuator") if e["actuator"] == "dh-1"]
    assert len(switches) >= 2
    assert [json.loads(e["details"])["on"] for e in switches[:2]] == [True, False]
    assert len(events) >= 2


async def test_the_interlock_never_runs_humidifier_and_dehumidifier_at_once(
    control_rig: ControlRig,
) -> None:
    rig = control_rig
    both = 0

    async def watch() -> bool:
        nonlocal both
        running = rig.relays.running(ROOM)
        both += {"dehumidifier", "humidifier"} <= running
        return False

    rig.humid_corridor()
    await rig.mqtt.wait_for("climate.actuator", 60, actuator="dh-1", on=True)
    # a person forces the humidifier on while the dehumidifier runs: the dehumidifier stops
    async with rig.client(Role.facilities) as client:
        r = await client.post(
            f"/api/v1/climate/control/{ROOM}/hu-1/override", json={"mode": "on", "duration_s": 30}
        )
    assert r.status_code == 200, r.text
    for _ in range(40):
        await watch()
        await rig.wait_ticks(1)
    await rig.mqtt.wait_for("climate.actuator", 30, actuator="hu-1", on=True)
    await rig.mqtt.wait_for("climate.actuator", 30, actuator="dh-1", on=False)
    off = [
        e for e in rig.mqtt.events("climate.actuator") if e["actuator"] == "dh-1" and not e["on"]
    ]
    assert "interlock" in str(off[-1]["reason"])
    assert both == 0
    assert rig.relays.running(ROOM) == {"humidifier"}


async def test_an_override_runs_until_it_expires_then_the_controller_resumes(
    control_rig: ControlRig,
) -> None:
    rig = control_rig
    await rig.wait_ticks(3)
    async with rig.client(Role.facilities) as client:
        r = await client.post(
            f"/api/v1/climate/control/{ROOM}/dh-1/override", json={"mode": "on", "duration_s": 2}
        )
        assert r.status_code == 200, r.text
        (room,) = r.json()["rooms"]
        dh = next(a for a in room["actuators"] if a["id"] == "dh-1")
        assert dh["mode"] == "on"
        assert dh["override"]["by"] == "facilities-control"
    on = await rig.mqtt.wait_for("climate.actuator", 20, actuator="dh-1", on=True)
    assert on["by"] == "facilities-control"
    assert rig.relays.is_on(ROOM, "dehumidifier")
    # the room is dry enough: once the override expires, the controller switches it off
    off = await rig.mqtt.wait_for("climate.actuator", 20, actuator="dh-1", on=False)
    assert off["by"] == "archroom"
    async with rig.client(Role.staff) as client:
        state = (await client.get("/api/v1/climate/control")).json()
    dh = next(a for a in state["rooms"][0]["actuators"] if a["id"] == "dh-1")
    assert dh["mode"] == "auto"
    assert dh["on"] is False

    async with rig.client(Role.staff) as client:
        refused = await client.post(
            f"/api/v1/climate/control/{ROOM}/dh-1/override", json={"mode": "on"}
        )
    assert refused.status_code == 403
    async with rig.client(Role.admin) as client:
        too_long = await client.post(
            f"/api/v1/climate/control/{ROOM}/dh-1/override",
            json={"mode": "on", "duration_s": 3600},
        )
        unknown = await client.post(
            f"/api/v1/climate/control/{ROOM}/nope/override", json={"mode": "off"}
        )
    assert too_long.status_code == 422, too_long.text
    assert "max_override_s" in too_long.text
    assert unknown.status_code == 404

    async with rig.client(Role.auditor) as client:  # the audit is the auditor's alone
        audit = (await client.get("/api/v1/audit", params={"subject": "dh-1"})).json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    overrides = [e for e in entries if e["action"] == "climate.actuator.override"]
    assert [(e["actor"], json.loads(e["details"])["mode"]) for e in overrides] == [
        ("facilities-control", "on")
    ]


async def test_stale_readings_switch_nothing(control_rig: ControlRig) -> None:
    rig = control_rig
    for sensor in ("stack-1-a", "stack-1-b"):
        rig.sim.set_fault(sensor, "dead")

    async def down() -> bool:
        return (await rig.room(ROOM))["up"] is False

    await eventually(down)
    rig.humid_corridor(door_open_s=3600)
    await rig.wait_ticks(30)  # 6 s: the room is far past its limit by now, unseen
    assert rig.sim.true_climate(ROOM)[1] > 60
    assert rig.relays.running(ROOM) == frozenset()
    assert rig.mqtt.events("climate.actuator") == []

    for sensor in ("stack-1-a", "stack-1-b"):
        rig.sim.set_fault(sensor, None)
    await rig.mqtt.wait_for("climate.actuator", 60, actuator="dh-1", on=True)


async def test_a_dead_relay_module_raises_an_alarm_and_control_resumes_when_it_answers(
    control_rig: ControlRig,
) -> None:
    rig = control_rig
    await rig.wait_ticks(3)
    rig.relays.dead = True
    rig.humid_corridor()
    raised = await rig.mqtt.wait_for("alarm.raised", 60, kind="actuator.fault")
    assert "dh-1" in str(raised["message"])
    await rig.wait_ticks(10)  # still trying, still serving
    assert rig.mqtt.events("climate.actuator") == []
    metrics = await rig.metrics()
    failures = next(
        line for line in metrics.splitlines()
        if line.startswith('archroom_climate_actuator_write_failures_total{actuator="dh-1"')
    )  # fmt: skip
    assert float(failures.split()[-1]) >= 2
    async with rig.client() as client:
        health = (await client.get("/healthz")).json()
    assert "dh-1" in str(health)

    rig.relays.dead = False
    await rig.mqtt.wait_for("climate.actuator", 30, actuator="dh-1", on=True)
    await rig.mqtt.wait_for("alarm.cleared", 30, kind="actuator.fault")
    assert rig.relays.is_on(ROOM, "dehumidifier")


@pytest.mark.parametrize("control_rig", [{"feedback_after_s": 3.0}], indirect=True)
async def test_a_dehumidifier_that_runs_without_effect_raises_control_not_effective(
    control_rig: ControlRig,
) -> None:
    rig = control_rig
    rig.physics.broken.add("dehumidifier")  # its tank is full: it runs and removes nothing
    rig.humid_corridor(door_open_s=60)
    await rig.mqtt.wait_for("climate.actuator", 60, actuator="dh-1", on=True)
    raised = await rig.mqtt.wait_for("alarm.raised", 60, kind="actuator.ineffective")
    assert "control not effective" in str(raised["message"])
    async with rig.client() as client:
        state = (await client.get("/api/v1/climate/control")).json()
    dh = next(a for a in state["rooms"][0]["actuators"] if a["id"] == "dh-1")
    assert dh["ineffective"]


async def test_a_stopping_daemon_leaves_no_actuator_running(
    tmp_path: Path, db_url: str, controlled_sim: ClimateSimulator
) -> None:
    relays = controlled_sim.relays
    assert relays is not None
    config = make_config(
        tmp_path / "room", db_url=db_url, room=ROOM, extra=controlled_room_toml(controlled_sim)
    )
    async with running_daemon(config, patient=True) as daemon:
        assert daemon.services is not None
        control = daemon.services.control
        assert control is not None
        await control.override(ROOM, "dh-1", "on", duration_s=60, by="test")

        async def running() -> bool:
            return relays.is_on(ROOM, "dehumidifier")

        await eventually(running)
    assert not relays.is_on(ROOM, "dehumidifier")
