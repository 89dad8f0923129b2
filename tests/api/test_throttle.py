"""The failed-authentication limiter and the memory of good tokens (api/throttle.py)."""

from __future__ import annotations

from api.throttle import OVERFLOW, FailedAuthLimiter, GoodTokens, client_key
from tests.support.clock import ManualClock


def test_a_client_is_blocked_after_its_failures_until_the_minute_has_passed() -> None:
    clock = ManualClock()
    limiter = FailedAuthLimiter(3, clock=clock)
    for _ in range(3):
        assert not limiter.blocked("192.0.2.1")
        limiter.failed("192.0.2.1")
        clock.now += 1
    assert limiter.blocked("192.0.2.1")
    assert not limiter.blocked("192.0.2.2")
    clock.now += 56  # 59 s after the first failure
    assert limiter.blocked("192.0.2.1")
    clock.now += 1.5
    assert not limiter.blocked("192.0.2.1")  # the first failure is a minute old
    assert len(limiter) == 1


def test_asking_whether_a_client_is_blocked_adds_nothing_to_the_table() -> None:
    limiter = FailedAuthLimiter(3, clock=ManualClock())
    for n in range(50):
        assert not limiter.blocked(f"192.0.2.{n}")
    assert len(limiter) == 0


def test_ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("?") == "?"
    limiter = FailedAuthLimiter(2, clock=ManualClock())
    limiter.failed("2001:db8:1:2::1")
    limiter.failed("2001:db8:1:2::2")
    assert limiter.blocked("2001:db8:1:2::3")


def test_a_full_table_is_never_emptied_new_clients_share_the_overflow() -> None:
    clock = ManualClock()
    limiter = FailedAuthLimiter(3, max_clients=100, clock=clock)
    for _ in range(3):
        limiter.failed("198.51.100.7")
    for n in range(150):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 101
    assert limiter.blocked("198.51.100.7")
    assert OVERFLOW in set(limiter.clients())
    assert limiter.blocked("10.9.9.9")  # a new address: counted with the overflow
    assert not limiter.blocked("10.0.0.5")  # had one failure of its own
    clock.now += 61
    limiter.failed("10.9.9.9")  # the expired entries make room again
    assert set(limiter.clients()) == {"10.9.9.9"}


def test_good_tokens_are_remembered_for_a_while_and_in_bounded_number() -> None:
    clock = ManualClock()
    good = GoodTokens(ttl_s=3600, max_size=3, clock=clock)
    good.remember("arc_a")
    assert "arc_a" in good
    assert "arc_b" not in good
    clock.now += 3599
    assert "arc_a" in good
    good.remember("arc_a")
    clock.now += 3599
    assert "arc_a" in good  # refreshed by its last good use
    clock.now += 1
    for name in ("arc_b", "arc_c", "arc_d"):
        good.remember(name)
    assert "arc_a" not in good  # the oldest made room
    assert all(name in good for name in ("arc_b", "arc_c", "arc_d"))
