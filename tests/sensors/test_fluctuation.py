"""The 24 h spread is exact to the minute and forgets what is older than a day."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.fluctuation import RollingRange

H = 3600.0


def test_spread_of_nothing_is_unknown() -> None:
    assert RollingRange().spread(0.0) is None


def test_spread_is_max_minus_min_of_the_last_24_hours() -> None:
    r = RollingRange()
    r.add(0.0, 20.0)
    r.add(6 * H, 22.5)
    r.add(12 * H, 19.5)
    assert r.spread(12 * H) == pytest.approx(3.0)
    assert r.extremes(12 * H) == (19.5, 22.5)


def test_values_older_than_24_hours_drop_out() -> None:
    r = RollingRange()
    r.add(0.0, 25.0)
    r.add(10 * H, 20.0)
    r.add(23.9 * H, 20.5)
    assert r.spread(23.9 * H) == pytest.approx(5.0)
    assert r.spread(24.1 * H) == pytest.approx(0.5)


def test_values_within_the_current_minute_count_at_once() -> None:
    r = RollingRange()
    r.add(100.0, 20.0)
    assert r.spread(100.0) == 0.0
    r.add(110.0, 21.0)
    assert r.spread(110.0) == pytest.approx(1.0)


def test_a_late_value_for_an_earlier_minute_is_taken_into_account() -> None:
    r = RollingRange()
    r.add(0.0, 20.0)
    r.add(600.0, 20.0)
    assert r.spread(600.0) == 0.0
    r.add(300.0, 18.0)
    assert r.spread(600.0) == pytest.approx(2.0)


def test_a_value_older_than_the_window_is_ignored() -> None:
    r = RollingRange()
    r.add(30 * H, 20.0)
    r.add(1 * H, 5.0)
    assert r.spread(30 * H) == 0.0


@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=72 * H), st.floats(min_value=-50, max_value=50)),
        min_size=1,
        max_size=60,
    )
)
def test_matches_a_brute_force_window_at_minute_resolution(
    samples: list[tuple[float, float]],
) -> None:
    samples.sort()
    r = RollingRange()
    for t, v in samples:
        r.add(t, v)
    now = samples[-1][0]
    first_minute = int(now // 60) - 1439
    inside = [v for t, v in samples if int(t // 60) >= first_minute]
    assert r.spread(now) == pytest.approx(max(inside) - min(inside))
