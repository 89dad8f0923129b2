"""One unit of work: state, audit entries and events, committed together.

Audit entries are appended after the state change and its outbox events, as the
transaction's last statements. That order matters with several daemons on one PostgreSQL: the
audit head row is the one lock every writer shares, so taking it last keeps the window short
(on PostgreSQL, one statement and the COMMIT) and avoids deadlocks with the unique indexes that
decide races (two check-outs of one item: the second waits on the first's index entry, never
while holding the head). Events reach the in-process bus only after commit,
so nothing reacts to a change that rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.clock import now_us
from daemon.events import Event
from daemon.outbox import Outbox
from daemon.store.db import Store


@dataclass(frozen=True, slots=True)
class _PendingAudit:
    action: str
    subject: str
    details: Mapping[str, Any]
    outcome: str
    at_us: int


@dataclass
class Tx:
    conn: AsyncConnection
    actor: str
    at_us: int
    audits: list[_PendingAudit] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)

    def audit(
        self,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
        *,
        outcome: str = "ok",
    ) -> None:
        self.audits.append(_PendingAudit(action, subject, dict(details or {}), outcome, self.at_us))

    async def insert(self, table: Table, **values: Any) -> int:
        """Insert one row of ``table`` and return its new ``id``."""
        result = await self.conn.execute(table.insert().values(**values).returning(table.c.id))
        return int(result.scalar_one())

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed (not if it rolls back)."""
        self.committed.append(callback)


class Ledger:
    def __init__(self, store: Store, chain: AuditChain, outbox: Outbox, bus: Bus) -> None:
        self.store = store
        self.chain = chain
        self.outbox = outbox
        self.bus = bus

    @property
    def room(self) -> str:
        return self.chain.room

    @asynccontextmanager
    async def transaction(self, actor: str, *, at_us: int | None = None) -> AsyncIterator[Tx]:
        async with self.store.write() as conn:
            tx = Tx(conn, actor, at_us if at_us is not None else now_us())
            yield tx
            # Events first, audit entries last: the audit head's lock, which every writer of
            # every room shares, is then held only from the appends to the commit.
            for event in tx.events:
                await self.outbox.add(conn, event)
            for a in tx.audits:
                await self.chain.append(
                    conn,
                    actor=actor,
                    action=a.action,
                    subject=a.subject,
                    details=a.details,
                    outcome=a.outcome,
                    at_us=a.at_us,
                )
        for callback in tx.committed:
            callback()
        if tx.events:
            self.outbox.ring()
            for event in tx.events:
                self.bus.publish(event)
