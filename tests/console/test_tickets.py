"""Stream tickets: random, single-use, short-lived, kept only as a hash."""

from __future__ import annotations

from api.console.tickets import Tickets
from daemon.tokens import Principal, Role
from tests.support.clock import ManualClock

LI = Principal("Li Wei", Role.staff)


def test_a_ticket_is_redeemed_once_for_the_principal_and_token_it_was_issued_to() -> None:
    tickets = Tickets(clock=ManualClock())
    ticket = tickets.issue(LI, "arc_tok")
    grant = tickets.redeem(ticket)
    assert grant is not None
    assert (grant.principal, grant.token) == (LI, "arc_tok")
    assert tickets.redeem(ticket) is None


def test_a_ticket_expires_after_its_time_to_live() -> None:
    clock = ManualClock()
    tickets = Tickets(ttl_s=30.0, clock=clock)
    late, on_time = tickets.issue(LI, "a"), tickets.issue(LI, "b")
    clock.now += 29.9
    assert tickets.redeem(on_time) is not None
    clock.now += 0.1
    assert tickets.redeem(late) is None


def test_unknown_tickets_are_refused() -> None:
    tickets = Tickets(clock=ManualClock())
    tickets.issue(LI, "a")
    assert tickets.redeem("") is None
    assert tickets.redeem("not-a-ticket") is None


def test_tickets_are_random_and_only_their_hash_is_kept() -> None:
    tickets = Tickets(clock=ManualClock())
    issued = {tickets.issue(LI, "a") for _ in range(100)}
    assert len(issued) == 100
    assert all(len(t) >= 43 for t in issued)  # 32 random bytes, URL-safe base64
    assert not issued & set(tickets._open)


def test_unused_tickets_are_forgotten_when_they_expire_or_when_too_many_wait() -> None:
    clock = ManualClock()
    tickets = Tickets(ttl_s=30.0, max_outstanding=3, clock=clock)
    oldest = tickets.issue(LI, "1")
    kept = [tickets.issue(LI, str(n)) for n in range(2, 5)]
    assert len(tickets) == 3
    assert tickets.redeem(oldest) is None  # made room for the newest
    assert all(tickets.redeem(t) is not None for t in kept)
    for n in range(3):
        tickets.issue(LI, str(n))
    clock.now += 31
    tickets.issue(LI, "fresh")
    assert len(tickets) == 1
