"""API tokens: bearer secrets that name a person or a system and give it one role.

A token reads ``arc_<id>_<secret>``. Only the SHA-256 of the secret is stored; the id finds the
row and the secret is compared in constant time. Tokens may expire and may be revoked; the
verifier caches a good answer for a few seconds so a busy catalogue service does not pay a
database read per request, which bounds how long a revoked token keeps working.

A token also has a scope: ``room`` (the default) sees the records of the daemon's own room,
``bureau`` those of every room sharing the database (the catalogue service's lookups and search
across a bureau). People's console sessions take their scope from the account's role
(``session_scope``) or, for a desk signed in with a token, from that token.

Issuing and revoking a token is audited in the same transaction as the change (who did it, the
token's name, role, scope and expiry, never the secret); so is an attempt that changed nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from daemon.audit import AuditChain
from daemon.clock import now_us, us_to_iso
from daemon.store.db import Store
from daemon.store.schema import tokens


class Role(StrEnum):
    staff = "staff"
    catalogue = "catalogue"
    facilities = "facilities"
    admin = "admin"
    approver = "approver"
    """Approves or rejects loan requests and disposals (with the approval number)."""
    sysadmin = "sysadmin"
    """System administrator: devices, racks and the stacker's faults; not the records."""
    security = "security"
    """Security administrator: people's accounts and their roles; nothing else."""
    auditor = "auditor"
    """Audit administrator: reads and verifies the audit trail; nothing else."""


class Scope(StrEnum):
    room = "room"
    """The daemon's own room: lookups and search answer for the items in it."""
    bureau = "bureau"
    """Every room sharing the database: lookups and search answer for all, naming the room."""


BUREAU_ROLES = frozenset({Role.catalogue})
"""Roles whose people's sessions are bureau-scope: a cataloguer answers for the whole bureau's
catalogue, as the catalogue service does. Everyone else works in the room they signed in to."""


def session_scope(role: Role) -> Scope:
    """The scope of a person's console session with an account of this role."""
    return Scope.bureau if role in BUREAU_ROLES else Scope.room


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    scope: Scope = Scope.room

    def room_filter(self, room: str) -> str | None:
        """The room whose records this principal may look up (``None``: every room)."""
        return None if self.scope is Scope.bureau else room


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    created_us: int
    expires_us: int | None
    revoked_us: int | None
    scope: Scope = Scope.room

    def state(self, now: int) -> str:
        """``revoked``, ``expired`` or ``active`` at ``now`` (microseconds)."""
        if self.revoked_us is not None:
            return "revoked"
        if self.expires_us is not None and self.expires_us <= now:
            return "expired"
        return "active"

    def line(self, now: int) -> str:
        """What ``archroom token list`` prints for it: never the secret, always the dates."""
        expires = "never" if self.expires_us is None else us_to_iso(self.expires_us)
        revoked = "" if self.revoked_us is None else f"\trevoked {us_to_iso(self.revoked_us)}"
        return (
            f"{self.name}\t{self.role.value}\t{self.scope.value}\t{self.state(now)}"
            f"\tcreated {us_to_iso(self.created_us)}\texpires {expires}{revoked}"
        )


class TokenError(Exception):
    pass


def digest(secret: str) -> str:
    """What is kept of a secret (a token, a session's cookie, a stream ticket): its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Tokens:
    CACHE_S = 5.0

    def __init__(self, store: Store, chain: AuditChain | None = None) -> None:
        self.store = store
        self.chain = chain or AuditChain("*")
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def create(
        self,
        *,
        name: str,
        role: Role,
        scope: Scope = Scope.room,
        expires_in_s: float | None = None,
        actor: str = "archroom",
    ) -> str:
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = now_us()
        details: dict[str, str | int | float | None] = {"role": role.value, "scope": scope.value}
        if expires_in_s is not None and not (0 < expires_in_s < math.inf):
            refused = {**details, "lifetime_s": expires_in_s}
            await self._refused(actor, "token.create", name, refused)
            raise TokenError(f"a token's lifetime must be a positive time, not {expires_in_s}")
        expires = None if expires_in_s is None else now + int(expires_in_s * 1_000_000)
        details["expires_us"] = expires
        try:
            async with self.store.write() as conn:
                await conn.execute(
                    tokens.insert().values(
                        id=token_id,
                        name=name,
                        role=role.value,
                        scope=scope.value,
                        secret_hash=digest(secret),
                        created_us=now,
                        expires_us=expires,
                    )
                )
                await self.chain.append(
                    conn,
                    actor=actor,
                    action="token.create",
                    subject=f"token:{name}",
                    details={**details, "id": token_id},
                )
        except IntegrityError:
            await self._refused(actor, "token.create", name, {**details, "why": "name taken"})
            raise TokenError(f"a token named {name!r} already exists") from None
        return f"arc_{token_id}_{secret}"

    async def revoke(self, name: str, *, actor: str = "archroom") -> bool:
        async with self.store.write() as conn:
            result = await conn.execute(
                update(tokens)
                .where(tokens.c.name == name, tokens.c.revoked_us.is_(None))
                .values(revoked_us=now_us())
            )
            await self.chain.append(
                conn,
                actor=actor,
                action="token.revoke",
                subject=f"token:{name}",
                outcome="ok" if result.rowcount else "refused",
                details={} if result.rowcount else {"why": "no active token of that name"},
            )
        self._cache.clear()
        return bool(result.rowcount)

    async def _refused(
        self, actor: str, action: str, name: str, details: dict[str, str | int | float | None]
    ) -> None:
        async with self.store.write() as conn:
            await self.chain.append(
                conn,
                actor=actor,
                action=action,
                subject=f"token:{name}",
                outcome="refused",
                details=details,
            )

    async def list(self) -> list[TokenInfo]:
        rows = await self.store.all(select(tokens).order_by(tokens.c.name))
        return [
            TokenInfo(
                r.id,
                r.name,
                Role(r.role),
                r.created_us,
                r.expires_us,
                r.revoked_us,
                Scope(r.scope),
            )
            for r in rows
        ]

    async def active(self, token_id: str) -> bool:
        """Whether the token with this id is neither revoked nor expired (a console session
        opened with it lasts only as long)."""
        row = await self.store.first(select(tokens).where(tokens.c.id == token_id))
        return bool(
            row is not None
            and row.revoked_us is None
            and (row.expires_us is None or row.expires_us >= now_us())
        )

    async def verify(self, token: str) -> Principal | None:
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "arc" or len(parts[1]) != 12:
            return None
        row = await self.store.first(select(tokens).where(tokens.c.id == parts[1]))
        if row is None or not hmac.compare_digest(row.secret_hash, digest(parts[2])):
            return None
        if row.revoked_us is not None or (row.expires_us is not None and row.expires_us < now_us()):
            return None
        principal = Principal(row.name, Role(row.role), Scope(row.scope))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (now + self.CACHE_S, principal)
        return principal
