"""Bodies of the catalogue service's side: electronic records pushed, and the change feed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from daemon.clock import us_to_iso
from daemon.ledger.changes import Change, Page
from daemon.reconcile.records import CatalogueRecord, CatalogueRecordEntry, CatalogueRecordIn


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogueRecordBody(CatalogueRecordIn):
    """An electronic record as the catalogue service states it (the id is in the path)."""


class CatalogueRecordsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[CatalogueRecordEntry] = Field(min_length=1, max_length=10_000)


class CatalogueRecordsOut(_Out):
    stored: int


class CatalogueRecordOut(_Out):
    record_id: str
    ref: str | None
    title: str
    category: str
    updated_at: str
    updated_by: str
    paper_refs: list[str]
    """The catalogued paper items that name this record (none: no paper original here)."""

    @classmethod
    def of(cls, r: CatalogueRecord) -> CatalogueRecordOut:
        return cls(
            record_id=r.record_id,
            ref=r.ref,
            title=r.title,
            category=r.category,
            updated_at=us_to_iso(r.updated_us),
            updated_by=r.updated_by,
            paper_refs=list(r.paper_refs),
        )


class ChangeOut(_Out):
    cursor: str
    seq: int
    at: str
    room: str
    kind: str
    """``item``, ``tag``, ``location``, ``passage`` or ``loan``."""
    action: str
    """The audit action, e.g. ``item.created``, ``tag.retired``, ``loan.opened``."""
    ref: str | None
    epc: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, c: Change) -> ChangeOut:
        return cls(
            cursor=c.cursor,
            seq=c.seq,
            at=us_to_iso(c.at_us),
            room=c.room,
            kind=c.kind,
            action=c.action,
            ref=c.ref,
            epc=c.epc,
            details=dict(c.details),
        )


class ChangesOut(_Out):
    changes: list[ChangeOut]
    next: str
    """Pass as ``since`` to read on; unchanged when nothing new has committed."""
    more: bool

    @classmethod
    def of(cls, page: Page) -> ChangesOut:
        return cls(changes=[ChangeOut.of(c) for c in page.changes], next=page.next, more=page.more)


class CursorOut(_Out):
    cursor: str
