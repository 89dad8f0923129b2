"""Dew point, Preservation Index, TWPI and mould risk against the reference values.

The values are those of docs/design.md §5.2-§5.4.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.derived import (
    PreservationTracker,
    dew_point_c,
    mould_risk,
    preservation_index,
    rating,
)

H = 3600.0


def test_dew_point_at_20_degrees_and_50_percent_is_9_26() -> None:
    assert dew_point_c(20.0, 50.0) == pytest.approx(9.26, abs=0.005)


def test_dew_point_at_saturation_is_the_temperature() -> None:
    assert dew_point_c(15.0, 100.0) == pytest.approx(15.0, abs=1e-9)


def test_dew_point_of_bone_dry_air_is_undefined() -> None:
    assert dew_point_c(20.0, 0.0) is None


@pytest.mark.parametrize(
    ("temperature", "humidity", "expected"),
    [(20.0, 50.0, 44.6), (20.0, 70.0, 26.0)],
)
def test_preservation_index_reference_values(
    temperature: float, humidity: float, expected: float
) -> None:
    assert preservation_index(temperature, humidity) == pytest.approx(expected, abs=0.05)


def test_preservation_index_of_a_warm_damp_room_is_about_a_decade() -> None:
    assert 9.0 <= preservation_index(27.5, 74.0) <= 10.0


def test_ratings() -> None:
    assert rating(80.0) == "good"
    assert rating(75.0) == "good"
    assert rating(44.6) == "risk"
    assert rating(45.0) == "ok"
    assert rating(74.9) == "ok"


def test_mould_risk_needs_65_percent_between_2_and_45_degrees() -> None:
    assert mould_risk(20.0, 65.0)
    assert not mould_risk(20.0, 64.9)
    assert not mould_risk(1.5, 90.0)
    assert not mould_risk(46.0, 90.0)


def test_twpi_of_a_constant_climate_is_its_pi() -> None:
    tracker = PreservationTracker()
    for minute in range(24 * 60 + 1):
        tracker.add(minute * 60.0, 20.0, 50.0)
    assert tracker.twpi(24 * H, "24h") == pytest.approx(44.6, abs=0.05)
    snap = tracker.snapshot(24 * H)
    assert snap.pi_years == pytest.approx(44.6, abs=0.05)
    assert snap.rating == "risk"


def test_twpi_is_the_harmonic_mean_over_equally_spaced_readings() -> None:
    """Half the day at 20 °C/50 % (PI 44.6), half at 20 °C/70 % (PI 26.0):
    TWPI = 2 / (1/44.6 + 1/26.0) = 32.85, well below the arithmetic mean 35.3."""
    tracker = PreservationTracker()
    for minute in range(24 * 60 + 1):
        humidity = 50.0 if minute < 12 * 60 else 70.0
        tracker.add(minute * 60.0, 20.0, humidity)
    assert tracker.twpi(24 * H, "24h") == pytest.approx(2 / (1 / 44.6 + 1 / 26.0), abs=0.05)


def test_uneven_spacing_weighs_each_reading_by_its_time() -> None:
    tracker = PreservationTracker()
    tracker.add(0.0, 20.0, 50.0)  # held for 600 s
    tracker.add(600.0, 20.0, 70.0)  # held for 600 s, sampled three times
    tracker.add(800.0, 20.0, 70.0)
    tracker.add(1000.0, 20.0, 70.0)
    tracker.add(1200.0, 20.0, 50.0)
    assert tracker.twpi(1200.0, "24h") == pytest.approx(2 / (1 / 44.6 + 1 / 26.0), abs=0.05)


def test_an_outage_does_not_count_as_climate() -> None:
    tracker = PreservationTracker(max_gap_s=900.0)
    tracker.add(0.0, 20.0, 70.0)
    tracker.add(10 * H, 20.0, 50.0)  # ten hours without readings: only 15 minutes count
    for i in range(1, 16):
        tracker.add(10 * H + i * 60.0, 20.0, 50.0)
    assert tracker.twpi(11 * H, "24h") == pytest.approx(2 / (1 / 44.6 + 1 / 26.0), abs=0.05)


def test_the_24_hour_twpi_forgets_yesterday_while_the_30_day_one_remembers() -> None:
    tracker = PreservationTracker()
    t = 0.0
    for _ in range(24 * 60):
        tracker.add(t, 20.0, 70.0)
        t += 60.0
    for _ in range(2 * 24 * 60):
        tracker.add(t, 20.0, 50.0)
        t += 60.0
    assert tracker.twpi(t, "24h") == pytest.approx(44.6, abs=0.05)
    assert tracker.twpi(t, "30d") == pytest.approx(3 / (2 / 44.6 + 1 / 26.0), abs=0.1)


def test_mould_hours_are_counted_per_window_and_in_total() -> None:
    tracker = PreservationTracker()
    t = 0.0
    for humidity, hours in ((60.0, 10), (70.0, 3), (60.0, 30)):
        for _ in range(int(hours * 60)):
            tracker.add(t, 20.0, humidity)
            t += 60.0
    snap = tracker.snapshot(t)
    assert snap.mould_hours_total == pytest.approx(3.0)
    assert snap.mould_hours_30d == pytest.approx(3.0)
    assert snap.mould_hours_24h == 0.0
    assert not snap.mould_risk


def test_an_empty_tracker_knows_nothing() -> None:
    snap = PreservationTracker().snapshot(0.0)
    assert snap.pi_years is None
    assert snap.twpi_24h_years is None
    assert snap.rating is None


@given(
    st.floats(min_value=-40, max_value=125),
    st.floats(min_value=0, max_value=100),
)
def test_derived_values_are_finite_over_the_sensor_ranges(
    temperature: float, humidity: float
) -> None:
    pi = preservation_index(temperature, humidity)
    assert pi > 0
    assert pi != float("inf")
    dew = dew_point_c(temperature, humidity)
    if dew is not None:
        assert dew <= temperature + 1e-6
