"""The change feed: every change to items, tags, locations and loans, in commit order.

The catalogue service keeps its view of the paper archive in step by following one feed
instead of polling every item. The feed is read from the audit trail, which already holds one
entry per change and is written in commit order: each writer takes the single audit head
row's lock, appends ``seq = head + 1`` and holds the lock until it commits, so an entry with a
higher ``seq`` never becomes visible before a lower one, and a rolled-back writer leaves no gap
(its ``seq`` is reused). That holds on SQLite and on PostgreSQL with several daemons writing
at once, and across restarts, since the trail is the database's.

A cursor names a position in the trail: every change before it has been delivered. It is
opaque to clients (``c1`` and base64 of ``seq.skip``): ``skip`` counts the changes already
delivered of the entry ``seq`` when one entry holds many (an import of 2,000 records is one
audit entry and 2,000 changes), so a page may end inside it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select

from daemon.ledger.errors import Invalid
from daemon.store.db import Store
from daemon.store.schema import audit

KINDS: Final[Mapping[str, str]] = {
    "item.created": "item",
    "item.updated": "item",
    "item.imported": "item",
    "tag.bound": "tag",
    "tag.retired": "tag",
    "tag.bound_batch": "tag",
    "item.moved": "location",
    "gate.passage": "passage",
    "loan.opened": "loan",
    "loan.returned": "loan",
    "loan.renewed": "loan",
    "item.destroyed": "disposition",
    "item.transferred": "disposition",
}
"""Audit actions that are changes of the feed, and the kind of change each is."""

_PREFIX = "c1"


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    seq: int
    """The first audit entry not wholly delivered."""
    skip: int = 0
    """Changes of that entry already delivered."""

    def encode(self) -> str:
        raw = f"{self.seq}.{self.skip}".encode()
        return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        problem = Invalid("since: not a cursor of this change feed (use the `next` of a page)")
        if not text.startswith(_PREFIX) or len(text) > 60:
            raise problem
        body = text[len(_PREFIX) :]
        try:
            seq, skip = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).split(b".")
            cursor = cls(int(seq), int(skip))
        except (ValueError, binascii.Error):
            raise problem from None
        if cursor.seq < 1 or cursor.skip < 0 or cursor.seq > 2**62:
            raise problem
        return cursor


START = Cursor(1, 0)


@dataclass(frozen=True, slots=True)
class Change:
    cursor: str
    """Position just after this change: a client that stored it resumes after it."""
    seq: int
    at_us: int
    room: str
    kind: str
    action: str
    ref: str | None
    epc: str | None
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[Change]
    next: str
    """Where the next page starts; equal to ``since`` when nothing new has committed."""
    more: bool
    """More changes were already committed when this page was read."""


def _expand(
    action: str, subject: str, details: Mapping[str, Any]
) -> Iterator[tuple[str | None, str | None, dict[str, Any]]]:
    """(ref, epc, details) of each change one audit entry records."""
    if action == "item.imported":
        for ref in details.get("refs", []):
            yield ref, None, {}
    elif action == "tag.bound_batch":
        for ref, epc in details.get("bindings", []):
            yield ref, epc, {"epc": epc}
    elif action == "gate.passage" and subject.startswith("epc:"):
        yield None, details.get("epc"), dict(details)
    else:
        yield subject, details.get("epc"), dict(details)


async def read_changes(
    store: Store, since: Cursor, *, limit: int, room: str | None = None, scan: int = 500
) -> Page:
    """Up to ``limit`` changes after ``since``, oldest first."""
    async with store.read() as conn:
        head = int(await conn.scalar(select(func.coalesce(func.max(audit.c.seq), 0))) or 0)
        changes: list[Change] = []
        cursor = since
        while len(changes) < limit and cursor.seq <= head:
            query = (
                select(
                    audit.c.seq,
                    audit.c.at_us,
                    audit.c.room,
                    audit.c.action,
                    audit.c.subject,
                    audit.c.details,
                )
                .where(
                    audit.c.seq >= cursor.seq,
                    audit.c.seq <= head,
                    audit.c.action.in_(list(KINDS)),
                )
                .order_by(audit.c.seq)
                .limit(scan)
            )
            if room is not None:
                query = query.where(audit.c.room == room)
            rows = (await conn.execute(query)).all()
            if not rows:
                cursor = Cursor(head + 1)
                break
            for row in rows:
                expanded = list(_expand(row.action, row.subject, json.loads(row.details)))
                skip = cursor.skip if row.seq == cursor.seq else 0
                for n, (ref, epc, details) in enumerate(expanded[skip:], skip + 1):
                    after = Cursor(row.seq + 1) if n == len(expanded) else Cursor(row.seq, n)
                    changes.append(
                        Change(
                            after.encode(),
                            row.seq,
                            row.at_us,
                            row.room,
                            KINDS[row.action],
                            row.action,
                            ref,
                            epc,
                            details,
                        )
                    )
                    cursor = after
                    if len(changes) == limit:
                        break
                else:
                    cursor = Cursor(row.seq + 1)
                    continue
                break
            if len(rows) < scan and len(changes) < limit:
                cursor = Cursor(head + 1)
                break
        more = cursor.seq <= head and await _any_after(conn, cursor, head, room)
    return Page(changes, cursor.encode(), more)


async def _any_after(conn: Any, cursor: Cursor, head: int, room: str | None) -> bool:
    query = select(audit.c.seq).where(
        audit.c.seq >= cursor.seq, audit.c.seq <= head, audit.c.action.in_(list(KINDS))
    )
    if room is not None:
        query = query.where(audit.c.room == room)
    return (await conn.scalar(query.limit(1))) is not None


async def head_cursor(store: Store) -> str:
    """The cursor after everything committed now: where a client that needs no past starts."""
    async with store.read() as conn:
        head = int(await conn.scalar(select(func.coalesce(func.max(audit.c.seq), 0))) or 0)
    return Cursor(head + 1).encode()
