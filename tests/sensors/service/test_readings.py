"""Readings travel from the simulated sensors through the daemon to the API, Prometheus and the
retained MQTT topic, over both kinds of bus."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from tests.sensors.service.conftest import PREFIX, ClimateRig
from tests.support.poll import eventually

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def magnus_dew_point(t: float, rh: float) -> float:
    """docs/design.md §5.2: alpha = ln(RH/100) + a T / (b + T), Td = b alpha / (a - alpha)."""
    a, b = 17.625, 243.04
    alpha = math.log(rh / 100) + a * t / (b + t)
    return b * alpha / (a - alpha)


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` with exactly these labels, or None if it is absent."""
    for match in re.finditer(rf"^{name}\{{([^}}]*)\}} (\S+)$", exposition, re.MULTILINE):
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if found == labels:
            return float(match.group(2))
    return None


async def test_readings_reach_the_api_the_metrics_and_the_retained_topic(rig: ClimateRig) -> None:
    rig.sim.set_values("stack-1-a", 19.5, 49.0)
    rig.sim.set_values("stack-1-b", 20.5, 51.0)
    rig.sim.set_values("vault-b", 14.2, 40.5)

    async def settled(sensor: str, t: float, rh: float) -> dict[str, Any] | None:
        found = await rig.sensor(sensor)
        reading = found["reading"]
        if reading and (reading["temperature_c"], reading["humidity_pct"]) == (t, rh):
            return found
        return None

    a = await eventually(lambda: settled("stack-1-a", 19.5, 49.0))
    assert (a["room"], a["type"], a["bus"], a["state"]) == ("stack-1", "xy-md02", "rs485", "up")
    assert a["reading"]["dew_point_c"] == pytest.approx(magnus_dew_point(19.5, 49.0), abs=0.01)
    b = await eventually(lambda: settled("vault-b", 14.2, 40.5))  # float32 over Modbus TCP
    assert (b["room"], b["bus"], b["state"]) == ("film-vault", "tcp", "up")

    metrics = await rig.metrics()
    labels = {"room": "stack-1", "sensor": "stack-1-a"}
    assert sample(metrics, "archroom_climate_temperature_celsius", **labels) == 19.5
    assert sample(metrics, "archroom_climate_humidity_ratio", **labels) == pytest.approx(0.49)
    assert sample(metrics, "archroom_climate_dew_point_celsius", **labels) == pytest.approx(
        magnus_dew_point(19.5, 49.0), abs=1e-6
    )
    assert sample(metrics, "archroom_sensor_up", room="stack-1", sensor="stack-1-a") == 1.0
    assert sample(metrics, "archroom_climate_bus_up", bus="tcp") == 1.0

    retained = await eventually(lambda: _retained_at(rig, "stack-1-a", 49.0))
    assert retained["sensor"] == "stack-1-a"
    assert retained["room"] == "stack-1"
    assert retained["up"] is True
    assert retained["temperature_c"] == 19.5
    assert retained["dew_point_c"] == pytest.approx(magnus_dew_point(19.5, 49.0), abs=0.01)
    assert retained["at"].endswith("Z")


async def _retained_at(rig: ClimateRig, sensor: str, rh: float) -> dict[str, Any] | None:
    payload = await rig.retained.get(f"{PREFIX}/climate/{sensor}")
    return payload if payload is not None and payload.get("humidity_pct") == rh else None


async def test_a_room_is_judged_on_the_mean_of_its_sensors_with_its_preservation_figures(
    rig: ClimateRig,
) -> None:
    rig.sim.set_values("stack-1-a", 19.5, 49.0)
    rig.sim.set_values("stack-1-b", 20.5, 51.0)

    async def room_at_mean() -> dict[str, Any] | None:
        room = await rig.room("stack-1")
        if (room["temperature_c"], room["humidity_pct"]) == (20.0, 50.0):
            return room
        return None

    room = await eventually(room_at_mean)
    assert room["room_class"] == "paper"
    limits = room["limits"]
    assert (limits["temp_min_c"], limits["temp_max_c"]) == (14.0, 24.0)
    assert (limits["rh_min_pct"], limits["rh_max_pct"]) == (45.0, 60.0)
    assert (limits["temp_swing_c"], limits["rh_swing_pct"]) == (2.0, 5.0)
    assert room["dew_point_c"] == pytest.approx(9.26, abs=0.01)  # docs/design.md §5.2: 20 °C / 50 %
    assert room["preservation"]["pi_years"] == pytest.approx(44.6, abs=0.05)
    assert room["preservation"]["mould_risk"] is False
    assert room["sensors"] == ["stack-1-a", "stack-1-b"]
    assert room["sensors_up"] == 2
    assert room["up"] is True

    async def pi_exported() -> float | None:
        value = sample(await rig.metrics(), "archroom_climate_preservation_index_years",
                       room="stack-1")  # fmt: skip
        return value if value is not None and abs(value - 44.6) < 0.05 else None

    assert await eventually(pi_exported) == pytest.approx(44.6, abs=0.05)


async def test_each_rooms_own_limits_and_its_24h_swing_are_gauges(rig: ClimateRig) -> None:
    rig.sim.set_values("vault-a", 14.0, 40.0)
    rig.sim.set_values("vault-b", 14.0, 40.0)

    async def swing_as_in_the_api() -> str | None:
        """The exposition once the vault's swing gauges equal the spreads the API shows (%
        there, a ratio here): both come from the same 24 h window, which no longer moves."""
        metrics = await rig.metrics()
        room = await rig.room("film-vault")
        t = sample(metrics, "archroom_climate_temperature_swing_celsius", room="film-vault")
        rh = sample(metrics, "archroom_climate_humidity_swing_ratio", room="film-vault")
        if t is None or rh is None or room["temperature_spread_24h_c"] is None:
            return None
        same_t = abs(t - room["temperature_spread_24h_c"]) < 0.01
        same_rh = abs(rh * 100 - room["humidity_spread_24h_pct"]) < 0.01
        return metrics if same_t and same_rh else None

    metrics = await eventually(swing_as_in_the_api)
    # The film vault is judged by the film-master class (13-15 °C, 35-45 % RH), the paper
    # stack by paper's (14-24 °C, 45-60 %), each with the ±2 °C / ±5 % daily swing.
    for name, room_id, expected in (
        ("archroom_climate_temperature_limit_celsius", "film-vault", (13.0, 15.0, 2.0)),
        ("archroom_climate_humidity_limit_ratio", "film-vault", (0.35, 0.45, 0.05)),
        ("archroom_climate_temperature_limit_celsius", "stack-1", (14.0, 24.0, 2.0)),
        ("archroom_climate_humidity_limit_ratio", "stack-1", (0.45, 0.60, 0.05)),
    ):
        found = tuple(
            sample(metrics, name, room=room_id, bound=bound) for bound in ("min", "max", "swing")
        )
        assert found == pytest.approx(expected), (name, room_id)
