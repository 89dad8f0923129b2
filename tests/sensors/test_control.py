"""The room controller switches actuators inside the limits, safely, and notices when they fail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.control import (
    Actuator,
    ControlSettings,
    Ineffective,
    RoomClimate,
    RoomController,
    Switch,
    thresholds,
)
from sensors.derived import dew_point_c
from sensors.limits import CLASS_LIMITS

PAPER = CLASS_LIMITS["paper"]  # 14-24 °C, 45-60 % RH
SETTINGS = ControlSettings(min_on_s=300, min_off_s=300, stale_after_s=120, feedback_after_s=1800)
ALL = (
    Actuator("dh-1", "dehumidifier"),
    Actuator("hu-1", "humidifier"),
    Actuator("ac-1", "cooling"),
    Actuator("ht-1", "heating"),
)


def room(settings: ControlSettings = SETTINGS) -> RoomController:
    return RoomController("stack-1", PAPER, ALL, settings)


def climate(t: float | None, temperature: float = 19.0, humidity: float = 52.0) -> RoomClimate:
    return RoomClimate(t, temperature, humidity, dew_point_c(temperature, humidity))


def switches(decisions: list[Switch | Ineffective]) -> list[tuple[str, bool]]:
    return [(d.actuator, d.on) for d in decisions if isinstance(d, Switch)]


def test_nothing_runs_while_the_room_is_inside_its_band() -> None:
    c = room()
    assert c.step(climate(0), 0) == []
    assert c.step(climate(600, 22.5, 56.0), 600) == []


def test_dehumidifier_switches_on_inside_the_limit_and_off_after_the_deadband() -> None:
    c = room()
    # paper: on at 60 - 2 = 58 %, off at 58 - 3 = 55 %
    assert switches(c.step(climate(1000, humidity=58.2), 1000)) == [("dh-1", True)]
    assert switches(c.step(climate(1400, humidity=56.0), 1400)) == []  # inside the deadband
    assert switches(c.step(climate(1500, humidity=54.9), 1500)) == [("dh-1", False)]


def test_minimum_on_and_off_times_hold_a_switch() -> None:
    c = room()
    assert switches(c.step(climate(1000, humidity=59.0), 1000)) == [("dh-1", True)]
    assert switches(c.step(climate(1100, humidity=50.0), 1100)) == []  # on for 100 s only
    assert switches(c.step(climate(1300, humidity=50.0), 1300)) == [("dh-1", False)]
    assert switches(c.step(climate(1400, humidity=59.0), 1400)) == []  # off for 100 s only
    assert switches(c.step(climate(1600, humidity=59.0), 1600)) == [("dh-1", True)]


def test_heating_and_cooling_bands_never_overlap_in_a_narrow_room() -> None:
    vault = CLASS_LIMITS["film-master"]  # 13-15 °C
    cool = thresholds("cooling", vault, SETTINGS)
    heat = thresholds("heating", vault, SETTINGS)
    assert heat.on_at < heat.off_at <= cool.off_at < cool.on_at
    assert (heat.on_at, cool.on_at) == (13.5, 14.5)


def test_stale_readings_switch_nothing_on_and_stop_what_runs() -> None:
    c = room()
    assert switches(c.step(climate(1000, humidity=59.0), 1000)) == [("dh-1", True)]
    # the last reading is 200 s old: no action on it, the dehumidifier stops after min on
    assert switches(c.step(climate(1000, humidity=59.0), 1200)) == []
    assert switches(c.step(climate(1000, humidity=59.0), 1400)) == [("dh-1", False)]
    assert switches(c.step(climate(1000, temperature=30.0), 2000)) == []
    assert switches(c.step(climate(None, temperature=30.0), 2000)) == []


def test_condensation_guard_stops_cooling_close_to_the_dew_point() -> None:
    c = room()
    assert switches(c.step(climate(1000, temperature=23.5, humidity=50.0), 1000)) == [
        ("ac-1", True)
    ]
    # 23.5 °C at 90 % RH: dew point 21.7 °C, 1.8 °C away: cooling stops at once
    humid = climate(1100, temperature=23.5, humidity=90.0)
    assert humid.dew_point_c == pytest.approx(21.7, abs=0.1)
    assert ("ac-1", False) in switches(c.step(humid, 1100))
    assert c.is_on("dh-1")  # the dehumidifier is what that room needs


def test_override_forces_an_actuator_until_it_expires_and_the_interlock_still_holds() -> None:
    c = room()
    assert switches(c.step(climate(1000, humidity=59.0), 1000)) == [("dh-1", True)]
    c.override("hu-1", on=True, until=2000, by="facilities", now=1010)
    decisions = c.step(climate(1020, humidity=59.0), 1020)
    assert sorted(switches(decisions)) == [("dh-1", False), ("hu-1", True)]
    by = {d.actuator: d.by for d in decisions if isinstance(d, Switch)}
    assert by == {"hu-1": "facilities", "dh-1": "archroom"}
    assert c.overrides()["hu-1"].until == 2000
    # expiry: automatic control resumes (RH 59 %: dehumidify, stop humidifying)
    assert sorted(switches(c.step(climate(2001, humidity=59.0), 2001))) == [
        ("dh-1", True),
        ("hu-1", False),
    ]
    assert c.overrides() == {}


def test_override_must_end_in_the_future_and_name_a_known_actuator() -> None:
    c = room()
    with pytest.raises(ValueError, match="future"):
        c.override("hu-1", on=True, until=10, by="x", now=10)
    with pytest.raises(KeyError):
        c.override("fan-9", on=True, until=100, by="x", now=10)


def test_actuator_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="repeat"):
        RoomController("r", PAPER, (Actuator("a", "heating"), Actuator("a", "cooling")))


def test_a_dehumidifier_that_does_not_dry_the_room_raises_control_not_effective() -> None:
    c = room()
    c.step(climate(0, humidity=59.0), 0)
    assert c.is_on("dh-1")
    assert [
        d for d in c.step(climate(1700, humidity=58.8), 1700) if isinstance(d, Ineffective)
    ] == []
    raised = [d for d in c.step(climate(1800, humidity=58.8), 1800) if isinstance(d, Ineffective)]
    assert [(d.actuator, d.active) for d in raised] == [("dh-1", True)]
    assert "30 min" in raised[0].message
    assert [
        d for d in c.step(climate(1900, humidity=58.7), 1900) if isinstance(d, Ineffective)
    ] == []
    cleared = [d for d in c.step(climate(2000, humidity=57.5), 2000) if isinstance(d, Ineffective)]
    assert [(d.actuator, d.active) for d in cleared] == [("dh-1", False)]


def test_a_working_dehumidifier_raises_nothing() -> None:
    c = room()
    c.step(climate(0, humidity=59.0), 0)
    assert not [d for d in c.step(climate(1800, humidity=57.5), 1800) if isinstance(d, Ineffective)]


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=1, max_value=400),  # seconds to the next step
            st.floats(min_value=5, max_value=35),  # temperature
            st.floats(min_value=20, max_value=95),  # humidity
            st.floats(min_value=0, max_value=300),  # age of the reading
        ),
        min_size=1,
        max_size=60,
    )
)
@settings(max_examples=200, deadline=None)
def test_invariants_hold_for_any_sequence_of_readings(
    steps: list[tuple[float, float, float, float]],
) -> None:
    """Opposites never run together; nothing starts on a stale reading; without overrides an
    automatic switch respects the minimum times unless a safety rule stops an actuator."""
    c = room()
    now = 0.0
    last_switch: dict[str, float] = {}
    for dt, temperature, humidity, age in steps:
        now += dt
        reading = climate(now - age, temperature, humidity)
        stale = age > SETTINGS.stale_after_s
        for d in c.step(reading, now):
            if not isinstance(d, Switch):
                continue
            if d.on:
                assert not stale, d
                assert now - last_switch.get(d.actuator, -1e9) >= SETTINGS.min_off_s, d
            elif "condensation" not in d.reason and "interlock" not in d.reason:
                assert now - last_switch.get(d.actuator, -1e9) >= SETTINGS.min_on_s, d
            last_switch[d.actuator] = now
        assert not (c.is_on("dh-1") and c.is_on("hu-1"))
        assert not (c.is_on("ac-1") and c.is_on("ht-1"))
