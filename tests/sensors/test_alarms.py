"""Climate alarms: raised once after the minimum duration, cleared once past the hysteresis."""

from __future__ import annotations

import random

import pytest

from sensors.alarms import AlarmChange, ClimateAlarms, Threshold
from sensors.config import LimitsOverride
from sensors.limits import limits_for

MIN = 60.0


def paper(**override: float) -> ClimateAlarms:
    limits = limits_for("paper", LimitsOverride(min_duration_s=600, **override))
    return ClimateAlarms("stack-1", "stack-1", limits, smoothing_s=0)


def paper_limits_only() -> ClimateAlarms:
    """Paper limits with the daily-swing rule out of the way."""
    return paper(temp_swing_c=50, rh_swing_pct=50)


def feed(
    alarms: ClimateAlarms, start: float, minutes: int, temperature: float, humidity: float
) -> list[AlarmChange]:
    changes: list[AlarmChange] = []
    for i in range(minutes):
        changes += alarms.observe(start + i * MIN, temperature, humidity)
    return changes


def test_humidity_above_the_limit_for_the_minimum_duration_raises_once() -> None:
    a = paper_limits_only()
    assert feed(a, 0, 60, 20.0, 52.0) == []
    changes = feed(a, 3600, 60, 20.0, 63.0)
    assert [(c.action, c.kind) for c in changes] == [("raise", "humidity-high")]
    raised = changes[0]
    assert raised.t == 3600 + 600  # after 10 minutes above the limit
    assert raised.source == "stack-1"
    assert raised.severity == "warning"
    assert raised.limit == 60.0
    assert raised.value == 63.0
    assert "above 60 %" in raised.message
    assert a.active() == ("humidity-high",)


def test_short_excursion_is_not_an_alarm() -> None:
    a = paper_limits_only()
    feed(a, 0, 10, 20.0, 52.0)
    assert feed(a, 600, 9, 20.0, 65.0) == []  # 8 minutes above, then back
    assert feed(a, 1140, 30, 20.0, 52.0) == []
    assert a.active() == ()


def test_alarm_clears_once_only_after_coming_back_by_the_hysteresis() -> None:
    a = paper_limits_only()  # paper RH hysteresis: 2 %
    feed(a, 0, 20, 20.0, 63.0)
    assert a.active() == ("humidity-high",)
    assert feed(a, 1200, 60, 20.0, 59.0) == []  # inside the limit but within the hysteresis
    cleared = feed(a, 4800, 30, 20.0, 57.5)
    assert [(c.action, c.kind) for c in cleared] == [("clear", "humidity-high")]
    assert cleared[0].t == 4800 + 600
    assert a.active() == ()


def test_noisy_humidity_around_the_limit_raises_once_and_never_flaps() -> None:
    """After a real excursion, six hours of readings jittering across the 60 % limit (inside
    the 2 % hysteresis band) neither clear nor re-raise the alarm; only a real return does."""
    rng = random.Random(4)
    a = paper_limits_only()
    changes = feed(a, 0, 30, 20.0, 63.0)
    t = 1800.0
    crossings = 0
    previous = 63.0
    for _ in range(6 * 360):
        value = 59.6 + rng.gauss(0, 0.7)
        crossings += (value > 60.0) != (previous > 60.0)
        previous = value
        changes += a.observe(t, 20.0, value)
        t += 10
    changes += feed(a, t, 30, 20.0, 55.0)
    assert crossings > 500  # a naive "value > limit" alarm would have flapped that often
    assert [(c.action, c.kind) for c in changes] == [
        ("raise", "humidity-high"),
        ("clear", "humidity-high"),
    ]


def test_smoothing_lets_a_noisy_but_real_excursion_raise_and_clear_exactly_once() -> None:
    rng = random.Random(11)
    limits = limits_for("paper", LimitsOverride(min_duration_s=600))
    a = ClimateAlarms("stack-1", "stack-1", limits, smoothing_s=300)
    changes: list[AlarmChange] = []
    t = 0.0
    for level, hours in ((57.0, 2), (60.8, 4), (56.0, 2), (60.8, 4), (55.0, 2)):
        for _ in range(hours * 360):
            changes += a.observe(t, 20.0, level + rng.gauss(0, 0.5))
            t += 10
    humidity = [c.action for c in changes if c.kind == "humidity-high"]
    assert humidity == ["raise", "clear", "raise", "clear"]


def test_low_temperature_raises_and_clears() -> None:
    a = paper_limits_only()
    changes = feed(a, 0, 15, 13.2, 50.0) + feed(a, 900, 15, 14.8, 50.0)
    assert [(c.action, c.kind) for c in changes] == [
        ("raise", "temperature-low"),
        ("clear", "temperature-low"),
    ]


def test_film_masters_are_judged_on_their_own_narrow_band() -> None:
    a = ClimateAlarms("vault", "vault", limits_for("film-master"), smoothing_s=0)
    changes = feed(a, 0, 15, 16.0, 40.0)  # comfortable for paper, too warm for film masters
    assert [(c.action, c.kind) for c in changes] == [("raise", "temperature-high")]


def test_fluctuation_over_24_hours_raises_when_the_spread_exceeds_the_rule() -> None:
    """Temperature within the paper range all day, but 19 °C at night and 22 °C in the
    afternoon: a 3 °C swing breaks the ±2 °C daily rule while no limit is crossed."""
    a = paper()
    changes: list[AlarmChange] = []
    for minute in range(36 * 60):
        hour = (minute / 60) % 24
        temperature = 22.0 if 12 <= hour < 18 else 19.0
        changes += a.observe(minute * MIN, temperature, 52.0)
    kinds = [(c.action, c.kind) for c in changes]
    assert kinds == [("raise", "temperature-fluctuation")]
    assert changes[0].t == (12 * 60 + 10) * MIN
    assert changes[0].value == pytest.approx(3.0)


def test_fluctuation_clears_once_the_swing_has_left_the_24_hour_window() -> None:
    a = paper()
    feed(a, 0, 60, 20.0, 50.0)
    raised = feed(a, 3600, 60, 20.0, 56.5)  # a 6.5 % step, still inside 45-60 %
    assert [(c.action, c.kind) for c in raised] == [("raise", "humidity-fluctuation")]
    steady = feed(a, 7200, 22 * 60, 20.0, 56.5)
    assert steady == []  # the 50 % hour is still within the last 24 h
    cleared = feed(a, 7200 + 22 * 3600, 120, 20.0, 56.5)
    assert [(c.action, c.kind) for c in cleared] == [("clear", "humidity-fluctuation")]
    # the last 50 % minute (59) leaves the window at minute 1499, then 10 minutes to clear
    assert cleared[0].t == 1499 * MIN + 600


def test_swing_override_loosens_the_daily_rule() -> None:
    a = paper(temp_swing_c=4.0)
    changes = feed(a, 0, 60, 19.0, 52.0) + feed(a, 3600, 60, 22.0, 52.0)
    assert changes == []


def test_mould_risk_raises_at_65_percent_as_critical() -> None:
    a = paper()
    changes = feed(a, 0, 15, 20.0, 65.0)
    kinds = {(c.action, c.kind, c.severity) for c in changes}
    assert ("raise", "mould-risk", "critical") in kinds
    assert ("raise", "humidity-high", "warning") in kinds


def test_no_mould_risk_in_the_cold() -> None:
    a = ClimateAlarms("cold", "cold", limits_for("paper"), smoothing_s=0)
    changes = feed(a, 0, 30, 1.0, 80.0)
    assert "mould-risk" not in {c.kind for c in changes}


def test_threshold_with_zero_duration_acts_on_the_first_value() -> None:
    th = Threshold(limit=10.0, above=True, hysteresis=1.0, min_duration_s=0)
    assert th.update(0.0, 10.5) == "raise"
    assert th.update(1.0, 9.5) is None
    assert th.update(2.0, 9.0) == "clear"


def test_threshold_interrupted_arming_starts_over() -> None:
    th = Threshold(limit=10.0, above=True, hysteresis=1.0, min_duration_s=100)
    assert th.update(0.0, 11.0) is None
    assert th.update(90.0, 11.0) is None
    assert th.update(95.0, 9.9) is None  # back under the limit: the 100 s start again
    assert th.update(150.0, 11.0) is None
    assert th.update(240.0, 11.0) is None
    assert th.update(250.0, 11.0) == "raise"


def test_threshold_refuses_negative_settings() -> None:
    with pytest.raises(ValueError, match="negative"):
        Threshold(limit=1.0, above=True, hysteresis=-1.0, min_duration_s=0)
