"""The catalogue service's questions: where is the paper original, and where has it been?

``locate`` answers for one item or ten thousand in one call (the catalogue service checks
whole result lists at once); ``at_location`` says what is on a shelf and what should be but
is not; ``history`` merges movements, gate passages, loans, stacker jobs and audit entries
into one time-ordered trace.

Several rooms may share one database. An item is in the room of its current place; when that
place belongs to no room (on loan, whereabouts unknown) it counts as in the room that recorded
its last movement; an item never placed belongs to no room yet (a catalogue record waiting to
be shelved) and is seen from every room. ``locate`` given a ``room`` answers only for items of
that room (and those of none): the others are "not found", as if they were not catalogued.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.ledger.errors import NotFound
from daemon.ledger.loans import LOAN_COLUMNS, Loan
from daemon.ledger.locations import room_of_item
from daemon.store.db import Store
from daemon.store.schema import (
    audit,
    gate_passages,
    item_locations,
    items,
    loans,
    locations,
    movements,
    stacker_jobs,
    tags,
)
from stacker.journal import job_from_json


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    kind: str
    room: str | None

    def holds(self, other: Place) -> bool:
        """``other`` is this place or inside it (``r1-A-01`` holds ``r1-A-01-02``)."""
        return other.code == self.code or other.code.startswith(self.code + "-")


UNKNOWN_PLACE = Place("unknown", "unknown", None)


@dataclass(frozen=True, slots=True)
class Whereabouts:
    ref: str
    location: Place
    since_us: int | None
    source: str | None
    loan: Loan | None


@dataclass(frozen=True, slots=True)
class TraceEntry:
    at_us: int
    kind: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ShelfContents:
    code: str
    present: list[tuple[str, str]]
    """(ref, location code) of items whose current location is here."""
    absent: list[tuple[str, str]]
    """(ref, current location code or 'unknown') of items whose home is here but are elsewhere."""


def item_in_room(room: str) -> ColumnElement[bool]:
    """For a query over ``items``: the item is in ``room`` or in no room (see the module's
    notes)."""
    room_of = room_of_item()
    return or_(room_of == room, room_of.is_(None))


class Whereabout:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def locate(
        self, refs: Sequence[str], *, room: str | None = None
    ) -> tuple[list[Whereabouts], list[str]]:
        """Whereabouts of each known ref (in the order asked) and the refs not catalogued;
        with ``room``, items of other rooms count as not catalogued."""
        found: dict[str, Whereabouts] = {}
        async with self.store.read() as conn:
            for i in range(0, len(refs), 2000):
                await self._locate_chunk(conn, refs[i : i + 2000], found, room)
        ordered = [found[r] for r in dict.fromkeys(refs) if r in found]
        missing = [r for r in dict.fromkeys(refs) if r not in found]
        return ordered, missing

    async def _locate_chunk(
        self,
        conn: AsyncConnection,
        refs: Sequence[str],
        found: dict[str, Whereabouts],
        room: str | None,
    ) -> None:
        """One query: item, current location and open loan (at most one, by a unique index)."""
        open_loan = loans.alias("open_loan")
        last = movements.alias("last_move")
        source = (
            items.outerjoin(item_locations, item_locations.c.item_id == items.c.id)
            .outerjoin(locations, locations.c.id == item_locations.c.location_id)
            .outerjoin(
                open_loan,
                (open_loan.c.item_id == items.c.id) & open_loan.c.returned_us.is_(None),
            )
        )
        if room is not None:
            source = source.outerjoin(last, last.c.id == item_locations.c.movement_id)
        query = (
            select(
                items.c.ref,
                locations.c.code,
                locations.c.kind,
                locations.c.room,
                item_locations.c.since_us,
                item_locations.c.source,
                *(open_loan.c[c.name] for c in LOAN_COLUMNS),
            )
            .select_from(source)
            .where(items.c.ref.in_(refs))
        )
        if room is not None:
            item_room = func.coalesce(locations.c.room, last.c.room)
            query = query.where(or_(item_room == room, item_room.is_(None)))
        rows = await conn.execute(query)
        for r in rows:
            ref, code, kind, room, since_us, source, loan_id, *loan_rest = r
            place = Place(code, kind, room) if code is not None else UNKNOWN_PLACE
            loan = Loan(loan_id, ref, *loan_rest) if loan_id is not None else None
            found[ref] = Whereabouts(ref, place, since_us, source, loan)

    async def locate_one(self, ref: str, *, room: str | None = None) -> Whereabouts:
        result, _ = await self.locate([ref], room=room)
        if not result:
            raise NotFound(f"no catalogue record with ref {ref!r}")
        return result[0]

    async def at_location(self, code: str, *, limit: int = 10_000) -> ShelfContents:
        here = or_(
            locations.c.code == code,
            locations.c.code.like(code.replace("%", r"\%").replace("_", r"\_") + "-%", escape="\\"),
        )
        async with self.store.read() as conn:
            exists = await conn.scalar(select(locations.c.id).where(locations.c.code == code))
            if exists is None:
                raise NotFound(f"no location with code {code!r}")
            present = (
                await conn.execute(
                    select(items.c.ref, locations.c.code)
                    .select_from(
                        item_locations.join(
                            locations, locations.c.id == item_locations.c.location_id
                        ).join(items, items.c.id == item_locations.c.item_id)
                    )
                    .where(here)
                    .order_by(items.c.ref)
                    .limit(limit)
                )
            ).all()
            home = locations.alias("home")
            current = locations.alias("current")
            home_here = or_(
                home.c.code == code,
                home.c.code.like(code.replace("%", r"\%").replace("_", r"\_") + "-%", escape="\\"),
            )
            absent = (
                await conn.execute(
                    select(items.c.ref, current.c.code)
                    .select_from(
                        items.join(home, home.c.id == items.c.home_location_id)
                        .outerjoin(item_locations, item_locations.c.item_id == items.c.id)
                        .outerjoin(current, current.c.id == item_locations.c.location_id)
                    )
                    .where(home_here, or_(current.c.id.is_(None), current.c.id != home.c.id))
                    .order_by(items.c.ref)
                    .limit(limit)
                )
            ).all()
        return ShelfContents(
            code,
            [(r.ref, r.code) for r in present],
            [(r.ref, r.code or "unknown") for r in absent],
        )

    async def history(self, ref: str, *, limit: int = 5000) -> list[TraceEntry]:
        trace: list[TraceEntry] = []
        async with self.store.read() as conn:
            item_id = await conn.scalar(select(items.c.id).where(items.c.ref == ref))
            if item_id is None:
                raise NotFound(f"no catalogue record with ref {ref!r}")
            src = locations.alias("src")
            dst = locations.alias("dst")
            moves = select(
                movements.c.at_us,
                movements.c.source,
                movements.c.actor,
                movements.c.room,
                src.c.code.label("from_code"),
                dst.c.code.label("to_code"),
            ).select_from(
                movements.outerjoin(src, src.c.id == movements.c.from_location_id).join(
                    dst, dst.c.id == movements.c.to_location_id
                )
            )
            for m in await _newest_of_item(conn, moves, movements, item_id, limit):
                trace.append(
                    TraceEntry(
                        m.at_us,
                        "movement",
                        f"{m.from_code or 'unknown'} -> {m.to_code} ({m.source})",
                        {
                            "from": m.from_code,
                            "to": m.to_code,
                            "source": m.source,
                            "actor": m.actor,
                            "room": m.room,
                        },
                    )
                )
            passages = select(gate_passages)
            for g in await _newest_of_item(conn, passages, gate_passages, item_id, limit):
                trace.append(
                    TraceEntry(
                        g.at_us,
                        "gate",
                        f"{g.direction} through {g.gate}"
                        + ("" if g.authorized else " WITHOUT a loan"),
                        {
                            "gate": g.gate,
                            "direction": g.direction,
                            "epc": g.epc,
                            "authorized": g.authorized,
                            "loan_id": g.loan_id,
                            "room": g.room,
                        },
                    )
                )
            for loan in (
                await conn.execute(
                    select(*LOAN_COLUMNS).where(loans.c.item_id == item_id).limit(limit)
                )
            ).all():
                trace.append(
                    TraceEntry(
                        loan.opened_us,
                        "loan.opened",
                        f"checked out to {loan.borrower}",
                        {
                            "loan_id": loan.id,
                            "borrower": loan.borrower,
                            "due": loan.due,
                            "by": loan.opened_by,
                        },
                    )
                )
                if loan.returned_us is not None:
                    trace.append(
                        TraceEntry(
                            loan.returned_us,
                            "loan.returned",
                            "returned",
                            {"loan_id": loan.id, "by": loan.returned_by},
                        )
                    )
            for t in await _newest_of_item(conn, select(tags), tags, item_id, limit):
                trace.append(
                    TraceEntry(
                        t.bound_us,
                        "tag.bound",
                        f"tag {t.epc} bound by {t.bound_by}",
                        {"epc": t.epc, "scheme": t.scheme, "by": t.bound_by},
                    )
                )
                if t.retired_us is not None:
                    trace.append(
                        TraceEntry(
                            t.retired_us,
                            "tag.retired",
                            f"tag {t.epc} retired by {t.retired_by}",
                            {"epc": t.epc, "by": t.retired_by},
                        )
                    )
            for a in (
                await conn.execute(
                    select(
                        audit.c.seq, audit.c.at_us, audit.c.actor, audit.c.action, audit.c.outcome
                    )
                    .where(audit.c.subject == ref)
                    .order_by(audit.c.seq.desc())
                    .limit(limit)
                )
            ).all():
                trace.append(
                    TraceEntry(
                        a.at_us,
                        "audit",
                        f"{a.action} by {a.actor}",
                        {"seq": a.seq, "action": a.action, "actor": a.actor, "outcome": a.outcome},
                    )
                )
            trace.extend(await self._stacker_entries(conn, item_id, limit))
        trace.sort(key=lambda e: e.at_us)
        return trace

    async def _stacker_entries(
        self, conn: AsyncConnection, item_id: int, limit: int
    ) -> list[TraceEntry]:
        """Stacker jobs of the item, each at its creation with its latest state and result."""
        entries = []
        jobs = select(
            stacker_jobs.c.stacker,
            stacker_jobs.c.job_id,
            stacker_jobs.c.kind,
            stacker_jobs.c.state,
            stacker_jobs.c.room,
            stacker_jobs.c.created_us,
            stacker_jobs.c.updated_us,
            stacker_jobs.c.body,
        )
        for j in await _newest_of_item(conn, jobs, stacker_jobs, item_id, limit):
            try:
                job = job_from_json(json.loads(j.body))
            except (ValueError, KeyError, TypeError):
                job = None
            result = job.result if job is not None and job.state.terminal else None
            entries.append(
                TraceEntry(
                    j.created_us,
                    "stacker",
                    f"{j.kind} job {j.job_id} on {j.stacker}: {result or j.state}"
                    + (f" ({job.source} -> {job.destination})" if job is not None else ""),
                    {
                        "stacker": j.stacker,
                        "job_id": j.job_id,
                        "kind": j.kind,
                        "state": j.state,
                        "result": result,
                        "source": None if job is None else job.source.code,
                        "destination": None if job is None else job.destination.code,
                        "note": "" if job is None else job.note,
                        "updated_at_us": j.updated_us,
                        "room": j.room,
                    },
                )
            )
        return entries


async def _newest_of_item(
    conn: AsyncConnection, query: Select[*tuple[Any, ...]], table: Table, item_id: int, limit: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The item's rows of ``table`` that ``query`` selects, newest first, at most ``limit``."""
    newest = query.where(table.c.item_id == item_id).order_by(table.c.id.desc()).limit(limit)
    return (await conn.execute(newest)).all()
