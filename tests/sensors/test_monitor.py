"""The room is judged on its sensors together; a sensor fault is raised once and cleared once."""

from __future__ import annotations

import pytest

from sensors.config import LimitsOverride
from sensors.limits import limits_for
from sensors.monitor import ClimateMonitor
from sensors.readings import Reading, SensorStateChange


def monitor(**kw: object) -> ClimateMonitor:
    instant = LimitsOverride(min_duration_s=0)
    return ClimateMonitor(
        {"stack-1": limits_for("paper", instant), "vault": limits_for("film-master", instant)},
        {"a": "stack-1", "b": "stack-1", "v": "vault"},
        smoothing_s=0,
        **kw,  # type: ignore[arg-type]
    )


def reading(sensor: str, t: float, temperature: float, humidity: float) -> Reading:
    room = "vault" if sensor == "v" else "stack-1"
    return Reading(sensor, room, temperature, humidity, t)


def test_room_climate_is_the_mean_of_its_fresh_sensors() -> None:
    m = monitor()
    m.reading(reading("a", 0.0, 20.0, 50.0))
    m.reading(reading("b", 5.0, 21.0, 54.0))
    room = m.room("stack-1", 5.0)
    assert (room.temperature_c, room.humidity_pct) == (20.5, 52.0)
    assert room.sensors_up == 2
    assert room.dew_point_c is not None
    assert room.up


def test_one_sensor_by_the_door_does_not_alarm_the_room_alone() -> None:
    m = monitor()
    changes = m.reading(reading("a", 0.0, 20.0, 52.0))
    changes += m.reading(reading("b", 1.0, 20.0, 66.0))  # mean 59 %: inside the limit
    assert [c for c in changes if c.kind == "humidity-high"] == []


def test_a_down_sensor_stops_counting_for_its_room() -> None:
    m = monitor()
    m.reading(reading("a", 0.0, 20.0, 50.0))
    m.reading(reading("b", 1.0, 24.0, 58.0))
    m.sensor_state(SensorStateChange("b", "stack-1", False, "no response (3 in a row)", 30.0))
    m.reading(reading("a", 31.0, 20.0, 50.0))
    room = m.room("stack-1", 31.0)
    assert (room.temperature_c, room.humidity_pct, room.sensors_up) == (20.0, 50.0, 1)


def test_a_silent_sensor_goes_stale_for_its_room() -> None:
    m = monitor(stale_after_s=60.0)
    m.reading(reading("a", 0.0, 20.0, 50.0))
    m.reading(reading("b", 0.0, 22.0, 50.0))
    m.reading(reading("a", 100.0, 20.0, 50.0))
    assert m.room("stack-1", 100.0).temperature_c == 20.0


def test_sensor_fault_is_raised_once_and_cleared_once() -> None:
    m = monitor()
    first_up = m.sensor_state(SensorStateChange("a", "stack-1", True, "answering", 0.0))
    down = m.sensor_state(
        SensorStateChange("a", "stack-1", False, "no response (3 in a row)", 30.0)
    )
    again = m.sensor_state(SensorStateChange("a", "stack-1", False, "values unchanged", 40.0))
    up = m.sensor_state(SensorStateChange("a", "stack-1", True, "answering", 90.0))
    assert first_up == []  # nothing was raised
    assert [(c.action, c.kind, c.source, c.room) for c in down] == [
        ("raise", "sensor-fault", "a", "stack-1")
    ]
    assert "no response" in down[0].message
    assert again == []
    assert [(c.action, c.kind) for c in up] == [("clear", "sensor-fault")]


def test_a_sensor_dead_from_the_start_raises_its_fault() -> None:
    m = monitor()
    down = m.sensor_state(SensorStateChange("v", "vault", False, "no response (3 in a row)", 9.0))
    assert [(c.action, c.kind) for c in down] == [("raise", "sensor-fault")]
    assert not m.sensor("v", 9.0).up
    assert not m.room("vault", 9.0).up


def test_room_alarm_comes_from_the_room_value() -> None:
    m = monitor()
    changes = m.reading(reading("v", 0.0, 16.0, 40.0))
    assert [(c.action, c.kind, c.source) for c in changes] == [
        ("raise", "temperature-high", "vault")
    ]
    assert m.room("vault", 0.0).alarms == ("temperature-high",)


def test_per_sensor_alarms_when_asked_for() -> None:
    m = monitor(per_sensor_alarms=True)
    changes = m.reading(reading("v", 0.0, 16.0, 40.0))
    assert sorted(c.source for c in changes) == ["v", "vault"]
    assert m.sensor("v", 0.0).alarms == ("temperature-high",)


def test_sensor_snapshot_carries_preservation_figures() -> None:
    m = monitor()
    for minute in range(61):
        m.reading(reading("a", minute * 60.0, 20.0, 50.0))
    snap = m.sensor("a", 3600.0)
    assert snap.preservation.twpi_24h_years == pytest.approx(44.6, abs=0.05)
    assert snap.dew_point_c == pytest.approx(9.26, abs=0.005)
    assert m.room("stack-1", 3600.0).preservation.pi_years == pytest.approx(44.6, abs=0.05)


def test_unknown_sensor_and_room_without_limits_are_errors() -> None:
    with pytest.raises(ValueError, match="rooms without limits: attic"):
        ClimateMonitor({}, {"x": "attic"})
    with pytest.raises(KeyError):
        monitor().reading(reading("nobody", 0.0, 20.0, 50.0))
