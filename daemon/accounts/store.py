"""Accounts and console sessions in the database: signing in, staying in, signing out.

A session is 256 random bits in an HttpOnly cookie (``ses_...``); only its SHA-256 is stored,
with the name and role it acts for and a second secret, the CSRF token, that the console
sends back in a header with every state-changing request (api/auth.py checks it). A session
ends when its holder signs out, after ``idle_s`` without a request (checked against the
injected clock, so tests need not wait), after ``max_s`` whatever happens, and at once when
the account is disabled or the token it was opened with is revoked.

Sign-in failures lock the account for a while (``lockout.Backoff``); a locked account is
refused without its password being checked, so the lock cannot be used as an oracle. An
unknown name costs the same argon2 work as a known one. Each sign-in, refusal, sign-out and
account change leaves an audit entry through the ledger's unit of work.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.accounts import totp
from daemon.accounts.lockout import Backoff
from daemon.accounts.passwords import check_rules, hash_password, verify_password
from daemon.clock import now_us, us_to_iso
from daemon.ledger.uow import Ledger
from daemon.store.db import Store
from daemon.store.schema import accounts, sessions, tokens
from daemon.tokens import Principal, Role, Scope, digest, session_scope

SESSION_PREFIX = "ses_"
TOTP_ROLES = frozenset({Role.admin, Role.sysadmin, Role.security, Role.auditor})
"""Roles that administer the room: their sign-in needs a one-time code too (MLPS-3)."""
TOUCH_US = 30_000_000
"""A session's last use is written at most this often (not on every request)."""
_HASHING = asyncio.Semaphore(2)
"""argon2id takes 64 MiB a hash: at most two at once."""


class AccountError(Exception):
    """An account change that cannot be made, in words."""


class SignInRefused(Exception):
    """A refused sign-in: ``status`` 401 (wrong or missing credentials) or 429 (locked)."""

    def __init__(self, status: int, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    role: Role
    second_factor: bool
    created_us: int
    password_changed_us: int
    disabled_us: int | None
    locked_until_us: int | None

    def state(self, now: int) -> str:
        if self.disabled_us is not None:
            return "disabled"
        if self.locked_until_us is not None and self.locked_until_us > now:
            return "locked"
        return "active"

    def line(self, now: int) -> str:
        """What ``archroom user list`` prints: never a hash or a secret."""
        factor = "password+totp" if self.second_factor else "password"
        return (
            f"{self.name}\t{self.role.value}\t{self.state(now)}\t{factor}"
            f"\tcreated {us_to_iso(self.created_us)}"
            f"\tpassword set {us_to_iso(self.password_changed_us)}"
        )


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: the cookie's secret and the CSRF token, shown once."""

    secret: str
    csrf: str
    principal: Principal


@dataclass(frozen=True, slots=True)
class ActiveSession(NewSession):
    """An open session found by its cookie: what its ``NewSession`` gave out, and how."""

    account: bool
    """Opened with a password (True) or with a token (a shared desk)."""


async def _hash(password: str) -> str:
    async with _HASHING:
        return await asyncio.to_thread(hash_password, password)


async def _verify(stored: str | None, password: str) -> bool:
    async with _HASHING:
        return await asyncio.to_thread(verify_password, stored, password)


class Accounts:
    def __init__(
        self,
        store: Store,
        ledger: Ledger,
        *,
        idle_s: float = 900.0,
        max_s: float = 12 * 3600.0,
        backoff: Backoff | None = None,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.idle_us = int(idle_s * 1_000_000)
        self.max_us = int(max_s * 1_000_000)
        self.backoff = backoff or Backoff()
        self.clock = clock

    # -- accounts -----------------------------------------------------------------------

    async def add(self, name: str, role: Role, password: str, *, actor: str) -> str | None:
        """Create an account; returns its new TOTP secret when its role needs one."""
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountError("a user name has 1 to 100 characters")
        check_rules(name, password)
        hashed = await _hash(password)
        secret = totp.new_secret() if role in TOTP_ROLES else None
        now = self.clock()
        try:
            async with self.ledger.transaction(actor, at_us=now) as tx:
                await tx.conn.execute(
                    accounts.insert().values(
                        name=name,
                        role=role.value,
                        password_hash=hashed,
                        totp_secret=secret,
                        created_us=now,
                        password_changed_us=now,
                    )
                )
                tx.audit("account.add", name, {"role": role.value, "totp": secret is not None})
        except IntegrityError:
            raise AccountError(f"an account named {name!r} already exists") from None
        return secret

    async def set_password(self, name: str, password: str, *, actor: str) -> None:
        """Give the account a new password (an administrator's reset, or the owner's change
        after ``change_password`` checked the old one); unlocks it."""
        check_rules(name, password)
        hashed = await _hash(password)
        async with self.ledger.transaction(actor, at_us=self.clock()) as tx:
            result = await tx.conn.execute(
                update(accounts)
                .where(accounts.c.name == name)
                .values(
                    password_hash=hashed,
                    password_changed_us=tx.at_us,
                    failures=0,
                    locked_until_us=None,
                )
            )
            if not result.rowcount:
                raise AccountError(f"no account named {name!r}")
            tx.audit("account.password", name, {"by": "self" if actor == name else "admin"})

    async def change_password(self, name: str, old: str, new: str) -> None:
        """The owner's change: the old password first."""
        row = await self.store.first(select(accounts).where(accounts.c.name == name))
        if row is None or not await _verify(row.password_hash, old):
            raise AccountError("the current password is not right")
        if old == new:
            raise AccountError("the new password must differ from the current one")
        await self.set_password(name, new, actor=name)

    async def disable(self, name: str, *, actor: str) -> bool:
        """Disable the account and end its sessions; False when there is no such active one."""
        async with self.ledger.transaction(actor, at_us=self.clock()) as tx:
            result = await tx.conn.execute(
                update(accounts)
                .where(accounts.c.name == name, accounts.c.disabled_us.is_(None))
                .values(disabled_us=tx.at_us)
            )
            if not result.rowcount:
                return False
            await tx.conn.execute(
                update(sessions)
                .where(sessions.c.name == name, sessions.c.account, sessions.c.ended_us.is_(None))
                .values(ended_us=tx.at_us)
            )
            tx.audit("account.disable", name)
        return True

    async def set_role(self, name: str, role: Role, *, actor: str) -> str | None:
        """Give the account another role and end its sessions (the person signs in again under
        the new one); returns a new TOTP secret when the new role needs one and the account
        had none."""
        async with self.ledger.transaction(actor, at_us=self.clock()) as tx:
            row = (
                await tx.conn.execute(
                    select(accounts.c.role, accounts.c.totp_secret).where(accounts.c.name == name)
                )
            ).first()
            if row is None:
                raise AccountError(f"no account named {name!r}")
            secret = totp.new_secret() if role in TOTP_ROLES and row.totp_secret is None else None
            values: dict[str, object] = {"role": role.value}
            if secret is not None:
                values["totp_secret"] = secret
                values["totp_last_step"] = None
            await tx.conn.execute(update(accounts).where(accounts.c.name == name).values(values))
            await tx.conn.execute(
                update(sessions)
                .where(sessions.c.name == name, sessions.c.account, sessions.c.ended_us.is_(None))
                .values(ended_us=tx.at_us)
            )
            tx.audit("account.role", name, {"from": row.role, "to": role.value})
        return secret

    async def list(self) -> list[AccountInfo]:
        rows = await self.store.all(select(accounts).order_by(accounts.c.name))
        return [
            AccountInfo(
                r.name,
                Role(r.role),
                r.totp_secret is not None,
                r.created_us,
                r.password_changed_us,
                r.disabled_us,
                r.locked_until_us,
            )
            for r in rows
        ]

    # -- signing in ---------------------------------------------------------------------

    async def sign_in(self, name: str, password: str, code: str | None = None) -> NewSession:
        """Check the password (and the one-time code of an administrator) and open a session;
        SignInRefused otherwise."""
        now = self.clock()
        row = await self.store.first(select(accounts).where(accounts.c.name == name))
        if row is not None and row.locked_until_us is not None and row.locked_until_us > now:
            wait = -(-(row.locked_until_us - now) // 1_000_000)
            await self._refused(name, "locked", now)
            raise SignInRefused(
                429,
                f"too many failed sign-ins: the account is locked for {wait} s more",
                retry_after_s=wait,
            )
        good = await _verify(row.password_hash if row is not None else None, password)
        if row is None or not good or row.disabled_us is not None:
            if row is not None and row.disabled_us is None:
                await self._failed(name, row.failures + 1, now)
            else:
                await self._refused(name, "unknown or disabled", now)
            raise SignInRefused(401, "the user name or the password is not right")
        step = None
        if row.totp_secret is not None:
            if not code:
                raise SignInRefused(401, "this account needs the one-time code of its app too")
            step = totp.matching_step(
                row.totp_secret, code, now / 1_000_000, after=row.totp_last_step
            )
            if step is None:
                await self._failed(name, row.failures + 1, now, reason="one-time code")
                raise SignInRefused(401, "the one-time code is not right (or was used already)")
        principal = Principal(row.name, Role(row.role), session_scope(Role(row.role)))
        new = NewSession(
            SESSION_PREFIX + secrets.token_urlsafe(32), secrets.token_urlsafe(32), principal
        )
        async with self.ledger.transaction(name, at_us=now) as tx:
            values: dict[str, object] = {"failures": 0, "locked_until_us": None}
            if step is not None:
                values["totp_last_step"] = step
            await tx.conn.execute(update(accounts).where(accounts.c.name == name).values(values))
            await self._insert(tx.conn, new, account=True, token_id=None, now=now)
            tx.audit("session.sign-in", name, {"role": principal.role.value, "totp": bool(step)})
        return new

    async def open_for_token(self, principal: Principal, token: str) -> NewSession:
        """A console session for a token already verified (a shared desk's staff token); it
        ends when the token is revoked or expires."""
        now = self.clock()
        new = NewSession(
            SESSION_PREFIX + secrets.token_urlsafe(32), secrets.token_urlsafe(32), principal
        )
        token_id = token.split("_", 2)[1]
        async with self.ledger.transaction(principal.name, at_us=now) as tx:
            await self._insert(tx.conn, new, account=False, token_id=token_id, now=now)
            tx.audit(
                "session.sign-in", principal.name, {"role": principal.role.value, "by": "token"}
            )
        return new

    async def _insert(
        self,
        conn: AsyncConnection,
        new: NewSession,
        *,
        account: bool,
        token_id: str | None,
        now: int,
    ) -> None:
        await conn.execute(
            sessions.insert().values(
                id=digest(new.secret),
                name=new.principal.name,
                account=account,
                role=new.principal.role.value,
                token_id=token_id,
                csrf=new.csrf,
                created_us=now,
                last_seen_us=now,
            )
        )

    async def _failed(self, name: str, failures: int, now: int, reason: str = "password") -> None:
        lock_s = self.backoff.lock_s(failures)
        locked = now + int(lock_s * 1_000_000) if lock_s else None
        async with self.ledger.transaction(name, at_us=now) as tx:
            await tx.conn.execute(
                update(accounts)
                .where(accounts.c.name == name)
                .values(failures=failures, locked_until_us=locked)
            )
            tx.audit(
                "session.sign-in",
                name,
                {"reason": reason, "failures": failures, "locked_s": lock_s},
                outcome="refused",
            )

    async def _refused(self, name: str, reason: str, now: int) -> None:
        async with self.ledger.transaction(name[:100] or "?", at_us=now) as tx:
            tx.audit("session.sign-in", name[:200] or "?", {"reason": reason}, outcome="refused")

    # -- staying in and signing out -----------------------------------------------------

    async def check(self, secret: str, *, touch: bool = True) -> ActiveSession | None:
        """The session of a cookie's secret, or None when it is unknown or has ended (signed
        out, idle too long, too old, account disabled, token revoked)."""
        if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
            return None
        now = self.clock()
        key = digest(secret)
        async with self.store.read() as conn:
            row = (await conn.execute(select(sessions).where(sessions.c.id == key))).first()
            if row is None or row.ended_us is not None:
                return None
            role = Role(row.role)
            scope = session_scope(role)
            idle = now - row.last_seen_us > self.idle_us
            if idle or now - row.created_us > self.max_us:
                alive = False
            elif row.account:
                who = (
                    await conn.execute(
                        select(accounts.c.role, accounts.c.disabled_us).where(
                            accounts.c.name == row.name
                        )
                    )
                ).first()
                alive = who is not None and who.disabled_us is None
                if who is not None:
                    role = Role(who.role)
                    scope = session_scope(role)
            else:
                t = (
                    await conn.execute(
                        select(tokens.c.revoked_us, tokens.c.expires_us, tokens.c.scope).where(
                            tokens.c.id == row.token_id
                        )
                    )
                ).first()
                alive = (
                    t is not None
                    and t.revoked_us is None
                    and (t.expires_us is None or t.expires_us >= now)
                )
                if t is not None:
                    scope = Scope(t.scope)
        if not alive:
            await self._end(key, now)
            return None
        if touch and now - row.last_seen_us >= min(TOUCH_US, self.idle_us // 10):
            async with self.store.write() as conn:
                await conn.execute(
                    update(sessions).where(sessions.c.id == key).values(last_seen_us=now)
                )
        return ActiveSession(secret, row.csrf, Principal(row.name, role, scope), bool(row.account))

    async def verify(self, secret: str) -> Principal | None:
        """The principal of a live session, without counting as a use (the live feed's
        periodic re-check must not keep an idle session alive)."""
        active = await self.check(secret, touch=False)
        return active.principal if active is not None else None

    async def sign_out(self, secret: str) -> None:
        active = await self.check(secret, touch=False)
        if active is None:
            return
        now = self.clock()
        async with self.ledger.transaction(active.principal.name, at_us=now) as tx:
            await tx.conn.execute(
                update(sessions).where(sessions.c.id == digest(secret)).values(ended_us=now)
            )
            tx.audit("session.sign-out", active.principal.name)

    async def _end(self, key: str, now: int) -> None:
        async with self.store.write() as conn:
            await conn.execute(
                update(sessions)
                .where(sessions.c.id == key, sessions.c.ended_us.is_(None))
                .values(ended_us=now)
            )


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def standalone(store: Store, *, site: str, room: str) -> Accounts:
    """Accounts over a store outside the running daemon (the CLI, the demo's set-up): its own
    ledger, whose audit entries join the room's chain and whose events no one hears."""
    from daemon.audit import AuditChain
    from daemon.bus import Bus
    from daemon.outbox import Outbox

    ledger = Ledger(store, AuditChain(room), Outbox(store, site=site, room=room), Bus())
    return Accounts(store, ledger)
