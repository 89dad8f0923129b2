"""The one reconnect backoff: delays that double up to a cap, jitter from a seeded Random, and
the outage's log lines (first failure WARNING, repeats DEBUG, recovery INFO)."""

from __future__ import annotations

import logging
import random

import pytest

from drivers.reconnect import Backoff

log = logging.getLogger("tests.reconnect")


class _Highest(random.Random):
    """A Random whose uniform draw is always the top of its range: no jitter at all."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_delays_double_from_the_initial_one_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 5.0, rng=_Highest())
    assert [backoff.next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert backoff.failures == 7


def test_the_factor_sets_the_growth() -> None:
    backoff = Backoff(1.0, 100.0, factor=3.0, rng=_Highest())
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 3.0, 9.0, 27.0, 81.0]


def test_a_long_outage_stays_at_the_cap_without_overflowing() -> None:
    backoff = Backoff(0.5, 30.0, rng=_Highest())
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 30.0


def test_a_large_factor_reaches_the_cap_without_overflowing() -> None:
    backoff = Backoff(1.0, 60.0, factor=1e200, rng=_Highest())
    assert [backoff.next_delay() for _ in range(4)] == [1.0, 60.0, 60.0, 60.0]


def test_a_cap_below_the_initial_delay_makes_every_delay_the_cap() -> None:
    backoff = Backoff(0.5, 0.05, rng=_Highest())
    assert [backoff.next_delay() for _ in range(3)] == [0.05, 0.05, 0.05]


def test_jitter_draws_each_delay_from_the_upper_half_of_its_step() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(20))
    reference = random.Random(20)
    steps = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0]
    delays = [backoff.next_delay() for _ in steps]
    assert delays == [step * reference.uniform(0.5, 1.0) for step in steps]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True))
    at_cap = delays[3:]
    assert len(set(at_cap)) == len(at_cap), "jitter spreads retries that share a step"


def test_jitter_stays_in_range_over_many_draws() -> None:
    backoff = Backoff(2.0, 2.0, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(2000)]
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert min(delays) < 1.1
    assert max(delays) > 1.9


def test_the_same_seed_gives_the_same_delays() -> None:
    first = Backoff(0.5, 30.0, rng=random.Random(99))
    second = Backoff(0.5, 30.0, rng=random.Random(99))
    assert [first.next_delay() for _ in range(10)] == [second.next_delay() for _ in range(10)]


def test_a_reset_starts_over_at_the_initial_delay() -> None:
    backoff = Backoff(0.5, 30.0, rng=_Highest())
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next_delay() == 0.5


@pytest.mark.parametrize(
    ("initial_s", "cap_s", "factor"), [(-1.0, 1.0, 2.0), (0.5, -1.0, 2.0), (0.5, 1.0, 0.5)]
)
def test_nonsense_parameters_are_refused(initial_s: float, cap_s: float, factor: float) -> None:
    with pytest.raises(ValueError, match=r"must|cannot"):
        Backoff(initial_s, cap_s, factor=factor)


def _levels(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == log.name]


def test_an_outage_warns_once_then_logs_quietly_and_its_end_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = Backoff(rng=random.Random(1))
    with caplog.at_level(logging.DEBUG, logger=log.name):
        for attempt in range(3):
            backoff.failed(log, "link down (%s), attempt %d", "refused", attempt)
        assert backoff.outage
        backoff.recovered(log, "link %s again", "up")
    assert _levels(caplog) == [
        (logging.WARNING, "link down (refused), attempt 0"),
        (logging.DEBUG, "link down (refused), attempt 1"),
        (logging.DEBUG, "link down (refused), attempt 2"),
        (logging.INFO, "link up again"),
    ]
    assert not backoff.outage


def test_the_next_outage_warns_again(caplog: pytest.LogCaptureFixture) -> None:
    backoff = Backoff()
    with caplog.at_level(logging.DEBUG, logger=log.name):
        backoff.failed(log, "first outage")
        backoff.recovered(log, "back")
        backoff.failed(log, "second outage")
        backoff.reset()  # a caller that announces the recovery itself
        backoff.failed(log, "third outage")
    assert [level for level, _ in _levels(caplog)] == [
        logging.WARNING,
        logging.INFO,
        logging.WARNING,
        logging.WARNING,
    ]


def test_a_success_without_an_outage_logs_nothing_and_resets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = Backoff(0.5, 30.0, rng=_Highest())
    backoff.next_delay()
    backoff.next_delay()
    with caplog.at_level(logging.DEBUG, logger=log.name):
        backoff.recovered(log, "link up")
    assert _levels(caplog) == []
    assert backoff.next_delay() == 0.5


def test_logging_order_does_not_matter_to_the_level(caplog: pytest.LogCaptureFixture) -> None:
    """Whether a caller takes the delay before or after logging, the first failure warns."""
    before, after = Backoff(), Backoff()
    with caplog.at_level(logging.DEBUG, logger=log.name):
        before.next_delay()
        before.failed(log, "delay taken first")
        after.failed(log, "logged first")
        after.next_delay()
    assert [level for level, _ in _levels(caplog)] == [logging.WARNING, logging.WARNING]
