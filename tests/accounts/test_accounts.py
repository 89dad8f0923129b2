"""Accounts and sessions over a real database, with an injected clock (no waiting)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from daemon.accounts import totp
from daemon.accounts.lockout import Backoff
from daemon.accounts.passwords import PasswordRejected
from daemon.accounts.store import AccountError, Accounts, SignInRefused, standalone
from daemon.store.db import Store
from daemon.store.schema import accounts as accounts_table
from daemon.store.schema import audit
from daemon.tokens import Principal, Role, Tokens

T0 = 1_800_000_000_000_000  # a fixed start, in microseconds
PASSWORD = "tea-kettle on the third shelf"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def accounts(store: Store, clock: Clock) -> Accounts:
    await store.upgrade()
    ledger = standalone(store, site="s1", room="r1").ledger
    return Accounts(store, ledger, idle_s=900, max_s=12 * 3600, clock=clock)


async def _audit(store: Store, action: str) -> list[tuple[str, str, str]]:
    async with store.read() as conn:
        rows = (
            await conn.execute(
                select(audit.c.actor, audit.c.subject, audit.c.outcome)
                .where(audit.c.action == action)
                .order_by(audit.c.seq)
            )
        ).all()
    return [tuple(r) for r in rows]


async def test_sign_in_opens_a_session_that_the_cookie_secret_finds(
    accounts: Accounts, store: Store
) -> None:
    assert await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root") is None
    new = await accounts.sign_in("wang.fang", PASSWORD)
    assert new.principal == Principal("wang.fang", Role.staff)
    active = await accounts.check(new.secret)
    assert active is not None
    assert (active.principal, active.csrf, active.account) == (new.principal, new.csrf, True)
    assert await accounts.check(new.secret + "x") is None
    assert await accounts.check("arc_000000000000_x") is None
    assert await _audit(store, "account.add") == [("cli:root", "wang.fang", "ok")]
    assert await _audit(store, "session.sign-in") == [("wang.fang", "wang.fang", "ok")]


async def test_a_wrong_password_or_unknown_name_is_refused_alike(
    accounts: Accounts, store: Store
) -> None:
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    with pytest.raises(SignInRefused) as wrong:
        await accounts.sign_in("wang.fang", PASSWORD + "!")
    with pytest.raises(SignInRefused) as unknown:
        await accounts.sign_in("li.wei", PASSWORD)
    assert (wrong.value.status, wrong.value.detail) == (unknown.value.status, unknown.value.detail)
    assert wrong.value.status == 401
    refused = await _audit(store, "session.sign-in")
    assert refused == [("wang.fang", "wang.fang", "refused"), ("li.wei", "li.wei", "refused")]


async def test_failures_lock_the_account_with_a_doubling_wait(
    accounts: Accounts, clock: Clock
) -> None:
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    backoff = Backoff()
    for _ in range(backoff.free):
        with pytest.raises(SignInRefused) as e:
            await accounts.sign_in("wang.fang", "not the password at all")
        assert e.value.status == 401
    # locked now: even the right password is refused, without being checked
    with pytest.raises(SignInRefused) as locked:
        await accounts.sign_in("wang.fang", PASSWORD)
    assert locked.value.status == 429
    assert locked.value.retry_after_s == backoff.first_s
    clock.advance(backoff.first_s)
    with pytest.raises(SignInRefused):  # one more failure: twice as long
        await accounts.sign_in("wang.fang", "not the password at all")
    clock.advance(backoff.first_s)
    with pytest.raises(SignInRefused) as again:
        await accounts.sign_in("wang.fang", PASSWORD)
    assert (again.value.status, again.value.retry_after_s) == (429, backoff.first_s)
    clock.advance(backoff.first_s)
    assert (await accounts.sign_in("wang.fang", PASSWORD)).principal.name == "wang.fang"
    # a good sign-in forgets the count
    with pytest.raises(SignInRefused) as fresh:
        await accounts.sign_in("wang.fang", "not the password at all")
    assert fresh.value.status == 401
    assert (await accounts.sign_in("wang.fang", PASSWORD)).principal.name == "wang.fang"


async def test_the_lock_is_per_account_not_per_address(accounts: Accounts) -> None:
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    await accounts.add("li.wei", Role.staff, PASSWORD, actor="cli:root")
    for _ in range(Backoff().free + 1):
        with pytest.raises(SignInRefused):
            await accounts.sign_in("wang.fang", "not the password at all")
    assert (await accounts.sign_in("li.wei", PASSWORD)).principal.name == "li.wei"


async def test_administrators_need_a_one_time_code_used_once(
    accounts: Accounts, clock: Clock
) -> None:
    secret = await accounts.add("zhao.min", Role.admin, PASSWORD, actor="cli:root")
    assert secret is not None
    for role in (Role.security, Role.auditor, Role.sysadmin):
        assert await accounts.add(f"x-{role.value}", role, PASSWORD, actor="cli:root")
    with pytest.raises(SignInRefused, match="one-time code of its app"):
        await accounts.sign_in("zhao.min", PASSWORD)
    with pytest.raises(SignInRefused, match="one-time code is not right"):
        await accounts.sign_in("zhao.min", PASSWORD, "000000")
    code = totp.code_at(secret, clock() / 1_000_000)
    new = await accounts.sign_in("zhao.min", PASSWORD, code)
    assert new.principal == Principal("zhao.min", Role.admin)
    with pytest.raises(SignInRefused, match="used already"):
        await accounts.sign_in("zhao.min", PASSWORD, code)
    clock.advance(totp.STEP_S)
    assert await accounts.sign_in("zhao.min", PASSWORD, totp.code_at(secret, clock() / 1e6))


async def test_a_session_ends_after_the_idle_time_but_not_while_used(
    accounts: Accounts, clock: Clock
) -> None:
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    new = await accounts.sign_in("wang.fang", PASSWORD)
    for _ in range(4):  # used every ten minutes for forty: still alive
        clock.advance(600)
        assert await accounts.check(new.secret) is not None
    clock.advance(899)
    assert await accounts.verify(new.secret) is not None  # the feed's re-check is no use...
    clock.advance(2)
    assert await accounts.check(new.secret) is None  # ...so 901 s idle ends it
    clock.advance(-100)
    assert await accounts.check(new.secret) is None  # ended for good


async def test_a_session_ends_after_its_maximum_however_busy(
    accounts: Accounts, clock: Clock
) -> None:
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    new = await accounts.sign_in("wang.fang", PASSWORD)
    for _ in range(12 * 6):
        clock.advance(600)
        assert await accounts.check(new.secret) is not None
    clock.advance(1)
    assert await accounts.check(new.secret) is None


async def test_sign_out_and_disable_end_sessions(accounts: Accounts, store: Store) -> None:
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    one = await accounts.sign_in("wang.fang", PASSWORD)
    two = await accounts.sign_in("wang.fang", PASSWORD)
    await accounts.sign_out(one.secret)
    assert await accounts.check(one.secret) is None
    assert await accounts.check(two.secret) is not None
    assert await accounts.disable("wang.fang", actor="security-1")
    assert await accounts.check(two.secret) is None
    assert not await accounts.disable("wang.fang", actor="security-1")
    with pytest.raises(SignInRefused):
        await accounts.sign_in("wang.fang", PASSWORD)
    assert await _audit(store, "account.disable") == [("security-1", "wang.fang", "ok")]


async def test_a_token_session_lasts_as_long_as_its_token(accounts: Accounts, store: Store) -> None:
    tokens = Tokens(store)
    token = await tokens.create(name="desk-1", role=Role.staff)
    new = await accounts.open_for_token(Principal("desk-1", Role.staff), token)
    active = await accounts.check(new.secret)
    assert active is not None
    assert not active.account
    assert await tokens.revoke("desk-1")
    assert await accounts.check(new.secret) is None


async def test_password_rules_and_change(accounts: Accounts, store: Store) -> None:
    with pytest.raises(PasswordRejected):
        await accounts.add("wang.fang", Role.staff, "short", actor="cli:root")
    with pytest.raises(PasswordRejected, match="user name"):
        await accounts.add("wang.fang", Role.staff, "wang.fang-is-me-2026", actor="cli:root")
    await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    with pytest.raises(AccountError, match="already exists"):
        await accounts.add("wang.fang", Role.staff, PASSWORD, actor="cli:root")
    with pytest.raises(AccountError, match="current password"):
        await accounts.change_password("wang.fang", "wrong", "a whole new sentence here")
    with pytest.raises(PasswordRejected, match="common"):
        await accounts.change_password("wang.fang", PASSWORD, "Password2026!!")
    await accounts.change_password("wang.fang", PASSWORD, "a whole new sentence here")
    with pytest.raises(SignInRefused):
        await accounts.sign_in("wang.fang", PASSWORD)
    assert await accounts.sign_in("wang.fang", "a whole new sentence here")
    async with store.read() as conn:
        stored = (await conn.execute(select(accounts_table.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert [a.name for a in await accounts.list()] == ["wang.fang"]
