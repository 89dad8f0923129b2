"""Room classes carry the JGJ 25-2010 §5.2 limits; rooms may override them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sensors.config import ROOM_CLASSES, LimitsOverride
from sensors.limits import ClimateLimits, limits_for


@pytest.mark.parametrize(
    ("room_class", "temperature", "humidity"),
    [
        ("paper", (14, 24), (45, 60)),
        ("special", (14, 20), (45, 55)),
        ("av", (14, 24), (40, 60)),
        ("film-copy", (14, 24), (40, 60)),
        ("film-master", (13, 15), (35, 45)),
    ],
)
def test_class_limits_follow_jgj_25_2010(
    room_class: str, temperature: tuple[float, float], humidity: tuple[float, float]
) -> None:
    lim = limits_for(room_class)
    assert (lim.temp_min_c, lim.temp_max_c) == temperature
    assert (lim.rh_min_pct, lim.rh_max_pct) == humidity
    assert (lim.temp_swing_c, lim.rh_swing_pct) == (2.0, 5.0)


def test_every_configurable_class_has_limits() -> None:
    for room_class in ROOM_CLASSES:
        assert isinstance(limits_for(room_class), ClimateLimits)


def test_overrides_replace_only_what_they_set() -> None:
    lim = limits_for("paper", LimitsOverride(rh_max_pct=55, temp_swing_c=4, min_duration_s=60))
    assert lim.rh_max_pct == 55
    assert lim.temp_swing_c == 4
    assert lim.min_duration_s == 60
    assert (lim.temp_min_c, lim.temp_max_c, lim.rh_min_pct) == (14, 24, 45)


def test_override_that_empties_a_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"temperature limits 14\.\.12"):
        limits_for("paper", LimitsOverride(temp_max_c=12))


def test_override_with_inverted_bounds_fails_validation() -> None:
    with pytest.raises(ValidationError, match="rh_min_pct must be below rh_max_pct"):
        LimitsOverride(rh_min_pct=60, rh_max_pct=50)


def test_unknown_class_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="unknown room class 'papr'"):
        limits_for("papr")
