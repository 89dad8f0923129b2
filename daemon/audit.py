"""The audit trail: an append-only hash chain of everything that changed and who changed it.

MLPS level 3 (GB/T 22239 §8.1.4.3) asks that audit records carry time, user, event type and
outcome, and be protected from deletion, modification and overwrite. The database refuses
UPDATE and DELETE on the table (triggers installed by the first migration); the chain makes any
change that bypasses the triggers visible: each entry's hash covers its own canonical JSON and
the previous entry's hash, so ``verify`` finds the first entry that no longer fits.

Entries are appended inside the caller's transaction, next to the state change they describe;
the single ``audit_head`` row serialises writers (a row lock on PostgreSQL, the write lock on
SQLite), so daemons of several rooms sharing one database still form one chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.clock import now_us
from daemon.store.schema import audit, audit_head

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at_us: int
    room: str
    actor: str
    action: str
    subject: str
    outcome: str
    details: str
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at_us": self.at_us,
            "room": self.room,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "outcome": self.outcome,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }


def entry_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(body)).encode()).hexdigest()


class AuditChain:
    """Appends entries for one room; ``actor`` is the token name or the daemon's own name."""

    def __init__(self, room: str) -> None:
        self.room = room

    async def append(
        self,
        conn: AsyncConnection,
        *,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
        outcome: str = "ok",
        at_us: int | None = None,
    ) -> AuditEntry:
        head = (
            await conn.execute(
                select(audit_head.c.seq, audit_head.c.hash)
                .where(audit_head.c.id == 1)
                .with_for_update()
            )
        ).one()
        body: dict[str, Any] = {
            "seq": head.seq + 1,
            "at_us": at_us if at_us is not None else now_us(),
            "room": self.room,
            "actor": actor,
            "action": action,
            "subject": subject,
            "outcome": outcome,
            "details": canonical_json(dict(details or {})),
            "prev_hash": head.hash,
        }
        digest = entry_hash(body)
        await conn.execute(audit.insert().values(**body, hash=digest))
        await conn.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=body["seq"], hash=digest)
        )
        return AuditEntry(**body, hash=digest)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str = ""


async def verify_chain(conn: AsyncConnection, *, batch: int = 10_000) -> VerifyResult:
    """Walk the whole chain in order; report the first entry that does not fit."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    last = 0
    while True:
        rows = (
            await conn.execute(
                select(audit).where(audit.c.seq > last).order_by(audit.c.seq).limit(batch)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            entry = AuditEntry(**row._asdict())
            if entry.seq != expected_seq:
                return VerifyResult(False, count, expected_seq, f"entry {expected_seq} is missing")
            if entry.prev_hash != prev:
                return VerifyResult(False, count, entry.seq, "previous hash does not match")
            if entry_hash(entry.body()) != entry.hash:
                return VerifyResult(
                    False, count, entry.seq, "entry content does not match its hash"
                )
            prev = entry.hash
            expected_seq += 1
            count += 1
            last = entry.seq
    head = (await conn.execute(select(audit_head.c.seq, audit_head.c.hash))).one()
    if head.seq != count or head.hash != prev:
        return VerifyResult(False, count, count + 1, "entries after the last one were removed")
    return VerifyResult(True, count)
