"""Traceability export: the room's events as an EPCIS 2.0 JSON-LD document (docs/design.md §6.6).

Reconciliation says what is wrong now; traceability says how each item got there. Other
systems (the electronic archive, an auditor's tools) read that history in GS1's EPCIS 2.0, so
the archive's events are mapped onto the Core Business Vocabulary. CBV 2.0 has no lend and
return steps, so a check-out is ``accepting`` an item into someone's hands (disposition
``unavailable``, the loan as business transaction, the borrower as destination possessing
party) and a return is ``receiving`` it back (``available``). A gate passage is ``departing``
or ``arriving`` (``in_progress``), read at the gate; a shelf observation that moved an item is
``cycle_counting``, read by the shelf's antenna at the shelf; the stacker ``storing`` into a
cell or ``picking`` to a station; binding and retiring a tag ``commissioning`` and
``decommissioning`` it (actions ADD and DELETE). Everything else is an OBSERVE.

Items are identified by the EPC of the tag they carried at the time, as a pure-identity URI
(``urn:epc:id:giai:...``) when it is a GS1 EPC and as a raw URI otherwise; events of an item
that carried no tag then cannot be expressed by EPC and are left out. Places, readers, loans
and borrowers, which have no GS1 keys here, get URNs under ``urn:archroom:{site}:``. Event ids
are name-based UUIDs of the record they come from, so exporting twice gives the same ids.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Row, Select, Table, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.clock import us_to_iso
from daemon.ledger.tags import epc_uri
from daemon.reconcile.scope import in_room
from daemon.store.db import Store
from daemon.store.schema import (
    disposition_items,
    dispositions,
    gate_passages,
    items,
    loans,
    locations,
    movements,
    tags,
)

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

Kind = Literal[
    "check_out",
    "return",
    "gate_out",
    "gate_in",
    "shelf",
    "store",
    "retrieve",
    "tag_bound",
    "tag_retired",
    "destroyed",
    "transferred",
]

# archive event -> (action, bizStep, disposition)
MAPPING: dict[Kind, tuple[str, str, str | None]] = {
    "check_out": ("OBSERVE", "accepting", "unavailable"),
    "return": ("OBSERVE", "receiving", "available"),
    "gate_out": ("OBSERVE", "departing", "in_progress"),
    "gate_in": ("OBSERVE", "arriving", "in_progress"),
    "shelf": ("OBSERVE", "cycle_counting", None),
    "store": ("OBSERVE", "storing", None),
    "retrieve": ("OBSERVE", "picking", None),
    "tag_bound": ("ADD", "commissioning", "active"),
    "tag_retired": ("DELETE", "decommissioning", "inactive"),
    "destroyed": ("OBSERVE", "destroying", "destroyed"),
    "transferred": ("OBSERVE", "shipping", "in_transit"),
}


@dataclass(frozen=True, slots=True)
class ArchiveEvent:
    """One event of the room, before mapping (places are location codes)."""

    at_us: int
    kind: Kind
    key: str
    """Names the record it comes from (``loan:12:out``), for a stable event id."""
    epc: str
    read_point: str | None = None
    """A location code, or ``reader/antenna`` for a shelf antenna."""
    biz_location: str | None = None
    loan_id: int | None = None
    borrower: str | None = None
    receiver: str | None = None
    """The body a transferred item was handed to (the new owning party)."""


class _Id(BaseModel):
    id: str


class _BizTransaction(BaseModel):
    bizTransaction: str  # noqa: N815 (EPCIS field names)


class _Destination(BaseModel):
    type: str
    destination: str


class EpcisEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["ObjectEvent"] = "ObjectEvent"
    eventID: str  # noqa: N815
    eventTime: str  # noqa: N815
    eventTimeZoneOffset: str = "+00:00"  # noqa: N815
    action: str
    bizStep: str  # noqa: N815
    disposition: str | None = None
    epcList: list[str]  # noqa: N815
    readPoint: _Id | None = None  # noqa: N815
    bizLocation: _Id | None = None  # noqa: N815
    bizTransactionList: list[_BizTransaction] | None = None  # noqa: N815
    destinationList: list[_Destination] | None = None  # noqa: N815


class _Body(BaseModel):
    eventList: list[EpcisEvent]  # noqa: N815


class EpcisDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    context: list[str] = Field(default=[CONTEXT], alias="@context")
    type: Literal["EPCISDocument"] = "EPCISDocument"
    schemaVersion: str = "2.0"  # noqa: N815
    creationDate: str  # noqa: N815
    epcisBody: _Body  # noqa: N815

    def json_ld(self) -> dict[str, Any]:
        """The document as JSON-LD (field names as EPCIS spells them, absent fields left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class Urns:
    """URNs of the room's own things under ``urn:archroom:{site}:``."""

    def __init__(self, site: str) -> None:
        self.base = f"urn:archroom:{quote(site, safe='')}"

    def place(self, code: str) -> str:
        if "/" in code:  # reader/antenna
            reader, antenna = code.split("/", 1)
            return f"{self.base}:reader:{quote(reader, safe='')}:{antenna}"
        return f"{self.base}:loc:{quote(code, safe='')}"

    def loan(self, loan_id: int) -> str:
        return f"{self.base}:loan:{loan_id}"

    def party(self, name: str) -> str:
        return f"{self.base}:party:{quote(name, safe='')}"

    def event(self, room: str, key: str) -> str:
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.base}:{room}:{key}"))


def to_epcis(event: ArchiveEvent, urns: Urns, room: str) -> EpcisEvent:
    """One archive event in CBV terms (the table in docs/design.md §6.6)."""
    action, step, disposition = MAPPING[event.kind]
    return EpcisEvent(
        eventID=urns.event(room, event.key),
        eventTime=us_to_iso(event.at_us),
        action=action,
        bizStep=step,
        disposition=disposition,
        epcList=[epc_uri(event.epc)],
        readPoint=_Id(id=urns.place(event.read_point)) if event.read_point else None,
        bizLocation=_Id(id=urns.place(event.biz_location)) if event.biz_location else None,
        bizTransactionList=(
            [_BizTransaction(bizTransaction=urns.loan(event.loan_id))]
            if event.loan_id is not None
            else None
        ),
        destinationList=_destinations(event, urns),
    )


def _destinations(event: ArchiveEvent, urns: Urns) -> list[_Destination] | None:
    if event.borrower is not None:
        return [_Destination(type="possessing_party", destination=urns.party(event.borrower))]
    if event.receiver is not None:
        return [_Destination(type="owning_party", destination=urns.party(event.receiver))]
    return None


def document(
    events: Iterable[ArchiveEvent], *, site: str, room: str, created_us: int
) -> EpcisDocument:
    urns = Urns(site)
    return EpcisDocument(
        creationDate=us_to_iso(created_us),
        epcisBody=_Body(eventList=[to_epcis(e, urns, room) for e in events]),
    )


# -- gathering the events from the records ----------------------------------------------------


def _tag_at(item_id: Any, at_us: Any) -> Any:
    """The EPC the item carried at that moment (scalar subquery)."""
    return (
        select(tags.c.epc)
        .where(
            tags.c.item_id == item_id,
            tags.c.bound_us <= at_us,
            or_(tags.c.retired_us.is_(None), tags.c.retired_us > at_us),
        )
        .order_by(tags.c.bound_us.desc())
        .limit(1)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class Window:
    start_us: int
    end_us: int
    ref: str | None = None

    def has(self, column: Any) -> ColumnElement[bool]:
        if self.ref is not None:
            # One item's rows are few and found by its item index; written as an expression,
            # the time bounds cannot lure the planner onto the room-wide time index instead.
            column = column + 0
        return and_(column >= self.start_us, column < self.end_us)


class EventSource:
    """The room's traceable events in a time window, oldest first."""

    def __init__(
        self, store: Store, room: str, antennas: Mapping[str, tuple[str, int]] | None = None
    ) -> None:
        self.store = store
        self.room = room
        self.antennas = dict(antennas or {})
        """Shelf location code -> (reader, antenna) that watches it (the read point)."""

    async def events(self, window: Window, *, limit: int) -> tuple[list[ArchiveEvent], bool]:
        """Up to ``limit`` events, and whether there were more."""
        streams = [
            await self._loans(window, limit),
            await self._passages(window, limit),
            await self._movements(window, limit),
            await self._tags(window, limit),
            await self._dispositions(window, limit),
        ]
        merged = list(heapq.merge(*streams, key=lambda e: (e.at_us, e.key)))
        return merged[:limit], len(merged) > limit

    async def _in_window(
        self,
        conn: AsyncConnection,
        table: Table,
        columns: Sequence[ColumnElement[Any]],
        at: ColumnElement[Any],
        *,
        window: Window,
        limit: int,
    ) -> Sequence[Row[*tuple[Any, ...]]]:
        """``columns`` and ``at_us`` of the rows of ``table`` whose ``at`` falls in the window,
        for the items of this room (and of ``window.ref``), oldest first. The items are joined
        row by row, so that a window found by its time index stays cheap however large the
        catalogue."""
        scope = in_room(self.room)
        where = and_(window.has(at), scope.where)
        if window.ref is not None:
            where = and_(where, items.c.ref == window.ref)
        query = (
            select(*columns, at.label("at_us"))
            .select_from(table.join(scope.source, table.c.item_id == items.c.id))
            .where(where)
            .order_by(at)
            .limit(limit + 1)
        )
        return (await conn.execute(query)).all()

    async def _of_window_item(
        self, query: Select[*tuple[Any, ...]], item_id: ColumnElement[Any], window: Window
    ) -> Sequence[Row[*tuple[Any, ...]]]:
        """The rows of ``query``, only those of the window's item when it names one."""
        if window.ref is not None:
            query = query.where(item_id.in_(select(items.c.id).where(items.c.ref == window.ref)))
        return await self.store.all(query)

    async def _loans(self, window: Window, limit: int) -> list[ArchiveEvent]:
        out: list[ArchiveEvent] = []
        desk = f"{self.room}-desk"
        async with self.store.read() as conn:
            for at, kind in ((loans.c.opened_us, "check_out"), (loans.c.returned_us, "return")):
                epc = _tag_at(loans.c.item_id, at).label("epc")
                columns = (loans.c.id, loans.c.borrower, epc)
                rows = await self._in_window(conn, loans, columns, at, window=window, limit=limit)
                out += [
                    ArchiveEvent(
                        r.at_us,
                        "check_out" if kind == "check_out" else "return",
                        f"loan:{r.id}:{kind}",
                        r.epc,
                        read_point=desk,
                        loan_id=r.id,
                        borrower=r.borrower if kind == "check_out" else None,
                    )
                    for r in rows
                    if r.epc is not None
                ]
        return sorted(out, key=lambda e: (e.at_us, e.key))

    async def _passages(self, window: Window, limit: int) -> list[ArchiveEvent]:
        query = (
            select(gate_passages)
            .where(gate_passages.c.room == self.room, window.has(gate_passages.c.at_us))
            .order_by(gate_passages.c.at_us, gate_passages.c.id)
            .limit(limit + 1)
        )
        rows = await self._of_window_item(query, gate_passages.c.item_id, window)
        return [
            ArchiveEvent(
                r.at_us,
                "gate_out" if r.direction == "out" else "gate_in",
                f"passage:{r.id}",
                r.epc,
                read_point=f"{self.room}-gate-{r.gate}",
            )
            for r in rows
        ]

    async def _movements(self, window: Window, limit: int) -> list[ArchiveEvent]:
        to = locations.alias("to")
        query = (
            select(
                movements.c.id,
                movements.c.at_us,
                movements.c.source,
                to.c.code,
                to.c.kind,
                _tag_at(movements.c.item_id, movements.c.at_us).label("epc"),
            )
            .select_from(movements.join(to, to.c.id == movements.c.to_location_id))
            .where(
                movements.c.room == self.room,
                movements.c.source.in_(("shelf-read", "stacker")),
                window.has(movements.c.at_us),
            )
            .order_by(movements.c.at_us, movements.c.id)
            .limit(limit + 1)
        )
        rows = await self._of_window_item(query, movements.c.item_id, window)
        out: list[ArchiveEvent] = []
        for r in rows:
            if r.epc is None:
                continue
            key = f"movement:{r.id}"
            if r.source == "shelf-read":
                antenna = self.antennas.get(r.code)
                point = f"{antenna[0]}/{antenna[1]}" if antenna else r.code
                out.append(ArchiveEvent(r.at_us, "shelf", key, r.epc, point, r.code))
            elif r.kind == "stacker-cell":
                out.append(ArchiveEvent(r.at_us, "store", key, r.epc, r.code, r.code))
            elif r.kind == "station":
                out.append(ArchiveEvent(r.at_us, "retrieve", key, r.epc, r.code, r.code))
        return out

    async def _tags(self, window: Window, limit: int) -> list[ArchiveEvent]:
        out: list[ArchiveEvent] = []
        async with self.store.read() as conn:
            for at, kind in ((tags.c.bound_us, "tag_bound"), (tags.c.retired_us, "tag_retired")):
                columns = (tags.c.id, tags.c.epc)
                rows = await self._in_window(conn, tags, columns, at, window=window, limit=limit)
                out += [
                    ArchiveEvent(
                        r.at_us,
                        "tag_bound" if kind == "tag_bound" else "tag_retired",
                        f"tag:{r.id}:{kind}",
                        r.epc,
                    )
                    for r in rows
                ]
        return sorted(out, key=lambda e: (e.at_us, e.key))

    async def _dispositions(self, window: Window, limit: int) -> list[ArchiveEvent]:
        """Items destroyed or transferred (their tag's retirement is a ``tag_retired``)."""
        query = (
            select(
                disposition_items.c.item_id,
                disposition_items.c.epc,
                dispositions.c.id,
                dispositions.c.action,
                dispositions.c.receiver,
                dispositions.c.done_us,
            )
            .select_from(
                disposition_items.join(
                    dispositions, dispositions.c.id == disposition_items.c.disposition_id
                )
            )
            .where(
                dispositions.c.room == self.room,
                dispositions.c.state == "carried_out",
                window.has(dispositions.c.done_us),
                disposition_items.c.epc.is_not(None),
            )
            .order_by(dispositions.c.done_us, disposition_items.c.item_id)
            .limit(limit + 1)
        )
        if window.ref is not None:
            query = query.where(disposition_items.c.ref == window.ref)
        rows = await self.store.all(query)
        return [
            ArchiveEvent(
                r.done_us,
                "destroyed" if r.action == "destroy" else "transferred",
                f"disposition:{r.id}:{r.item_id}",
                r.epc,
                read_point=self.room,
                receiver=r.receiver if r.action == "transfer" else None,
            )
            for r in rows
        ]


def antenna_map(antenna_locations: Mapping[tuple[str, int], str]) -> dict[str, tuple[str, int]]:
    """Location code -> the first (reader, antenna) that watches it."""
    out: dict[str, tuple[str, int]] = {}
    for (reader, antenna), code in sorted(antenna_locations.items()):
        out.setdefault(code, (reader, antenna))
    return out
