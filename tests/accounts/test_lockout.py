"""The lock after failed sign-ins: a few free, then doubling, capped."""

from daemon.accounts.lockout import Backoff


def test_first_failures_are_free_then_each_doubles_the_lock_up_to_the_cap() -> None:
    backoff = Backoff(free=5, first_s=30, max_s=3600)
    assert [backoff.lock_s(n) for n in range(1, 5)] == [0, 0, 0, 0]
    assert [backoff.lock_s(n) for n in range(5, 10)] == [30, 60, 120, 240, 480]
    assert backoff.lock_s(12) == 3600
    assert backoff.lock_s(10_000) == 3600
