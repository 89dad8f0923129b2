"""Pure helpers of the LLRP service: the reader-to-local clock mapping.

The reconnect backoff is the shared one (tests/drivers/test_reconnect.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.llrp import ReaderClock

LOCAL = 1_790_000_000.0
SKEW = -4000.0  # the reader's clock runs 4000 s behind


def approx(t: float) -> object:
    return pytest.approx(t, abs=1e-6)


def test_reader_time_is_moved_onto_the_local_clock_by_the_fastest_recent_delivery() -> None:
    clock = ReaderClock()
    clock.observe(LOCAL + SKEW, LOCAL + 0.005)  # 5 ms on the way
    clock.observe(LOCAL + SKEW + 1.0, LOCAL + 1.001)  # 1 ms on the way: the best so far
    assert clock.local_time(LOCAL + SKEW + 2.0, LOCAL + 2.020) == approx(LOCAL + 2.001)


def test_reader_clock_jumping_back_restarts_the_estimate_at_the_receipt_time() -> None:
    clock = ReaderClock(stale_s=2.0)
    clock.local_time(LOCAL + SKEW, LOCAL + 0.001)
    assert clock.local_time(LOCAL + SKEW - 3600.0 + 1.0, LOCAL + 1.0) == approx(LOCAL + 1.0)
    assert clock.local_time(LOCAL + SKEW - 3600.0 + 1.5, LOCAL + 1.6) == approx(LOCAL + 1.5)
    assert clock.restarts == 1


def test_one_garbled_timestamp_from_the_future_costs_only_itself_and_the_next_read() -> None:
    clock = ReaderClock(stale_s=2.0)
    clock.local_time(LOCAL + SKEW, LOCAL + 0.001)
    assert clock.local_time(LOCAL + 10**9, LOCAL + 0.5) == approx(LOCAL + 0.5)
    assert clock.local_time(LOCAL + SKEW + 0.6, LOCAL + 0.602) == approx(LOCAL + 0.602)
    assert clock.local_time(LOCAL + SKEW + 0.7, LOCAL + 0.710) == approx(LOCAL + 0.702)


def test_old_fast_deliveries_leave_the_estimate_after_the_window() -> None:
    clock = ReaderClock(window_s=10.0, stale_s=2.0)
    clock.observe(LOCAL + SKEW, LOCAL + 0.001)
    # The reader's clock has since fallen 0.5 s further behind (drift, a small step).
    assert clock.local_time(LOCAL + SKEW + 20.0 - 0.5, LOCAL + 20.01) == approx(LOCAL + 20.01)
    assert clock.local_time(LOCAL + SKEW + 21.0 - 0.5, LOCAL + 21.02) == approx(LOCAL + 21.01)


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=5.0),  # time since the previous receipt
            st.floats(min_value=-1e6, max_value=1e6),  # reader clock error at that moment
        ),
        min_size=1,
        max_size=50,
    )
)
def test_a_mapped_time_is_never_after_its_receipt_nor_more_than_stale_before(
    steps: list[tuple[float, float]],
) -> None:
    clock = ReaderClock(window_s=30.0, stale_s=2.0)
    received = LOCAL
    for gap, error in steps:
        received += gap
        t = clock.local_time(received + error, received)
        assert received - 2.0 - 1e-6 <= t <= received + 1e-6
