"""Per-minute aggregates: each minute of each sensor emitted once, when it is over."""

from __future__ import annotations

import pytest

from sensors.history import MinuteAggregate, MinuteAggregator
from sensors.readings import Reading


def r(sensor: str, t: float, temperature: float, humidity: float) -> Reading:
    return Reading(sensor, "stack-1", temperature, humidity, t)


def test_a_minute_closes_when_the_next_one_starts() -> None:
    agg = MinuteAggregator()
    assert agg.add(r("a", 600.0, 20.0, 50.0)) == []
    assert agg.add(r("a", 620.0, 21.0, 52.0)) == []
    assert agg.add(r("a", 640.0, 22.0, 51.0)) == []
    closed = agg.add(r("a", 660.0, 23.0, 49.0))
    assert closed == [
        MinuteAggregate(
            sensor="a",
            room="stack-1",
            minute=600,
            count=3,
            temperature_min_c=20.0,
            temperature_avg_c=21.0,
            temperature_max_c=22.0,
            humidity_min_pct=50.0,
            humidity_avg_pct=51.0,
            humidity_max_pct=52.0,
        )
    ]


def test_sensors_are_aggregated_separately() -> None:
    agg = MinuteAggregator()
    agg.add(r("a", 0.0, 20.0, 50.0))
    agg.add(r("b", 10.0, 25.0, 40.0))
    closed = agg.add(r("a", 60.0, 20.0, 50.0))
    assert [(c.sensor, c.minute, c.temperature_avg_c) for c in closed] == [("a", 0, 20.0)]


def test_flush_closes_minutes_of_sensors_that_went_quiet() -> None:
    agg = MinuteAggregator()
    agg.add(r("a", 0.0, 20.0, 50.0))
    agg.add(r("b", 70.0, 20.0, 50.0))
    assert agg.flush(59.0) == []
    closed = agg.flush(130.0)
    assert sorted((c.sensor, c.minute) for c in closed) == [("a", 0), ("b", 60)]
    assert agg.flush(500.0) == []


def test_a_reading_for_a_closed_minute_is_dropped_and_counted() -> None:
    agg = MinuteAggregator()
    agg.add(r("a", 0.0, 20.0, 50.0))
    agg.add(r("a", 61.0, 20.0, 50.0))
    assert agg.add(r("a", 30.0, 99.0, 99.0)) == []
    assert agg.late == 1
    closed = agg.close_all()
    assert [(c.minute, c.temperature_max_c) for c in closed] == [(60, 20.0)]


def test_a_gap_of_several_minutes_emits_only_minutes_with_readings() -> None:
    agg = MinuteAggregator()
    agg.add(r("a", 0.0, 20.0, 50.0))
    closed = agg.add(r("a", 600.0, 20.5, 50.0))
    assert [c.minute for c in closed] == [0]


def test_average_is_exact_for_many_readings() -> None:
    agg = MinuteAggregator()
    for i in range(60):
        agg.add(r("a", 120.0 + i, 20.0 + (i % 2) * 0.1, 50.0))
    (closed,) = agg.close_all()
    assert closed.count == 60
    assert closed.temperature_avg_c == pytest.approx(20.05)
