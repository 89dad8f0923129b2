"""The catalogue service's side: electronic records it pushes, and the change feed it follows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut, Out
from daemon.ledger.changes import Change, Page
from daemon.reconcile.records import CatalogueRecord, CatalogueRecordEntry, CatalogueRecordIn


class CatalogueRecordBody(CatalogueRecordIn):
    """An electronic record as the catalogue service states it (the id is in the path)."""


class CatalogueRecordsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[CatalogueRecordEntry] = Field(min_length=1, max_length=10_000)


class CatalogueRecordsOut(Out):
    stored: int


class CatalogueRecordOut(DomainOut, domain=CatalogueRecord):
    paper_refs: list[str]
    """The catalogued paper items that name this record (none: no paper original here)."""

    @classmethod
    def of(cls, r: CatalogueRecord) -> CatalogueRecordOut:
        return cls.from_domain(r, paper_refs=list(r.paper_refs))


class ChangeOut(DomainOut, domain=Change):
    kind: str
    """``item``, ``tag``, ``location``, ``passage``, ``loan`` or ``disposition``."""
    details: dict[str, Any]


class ChangesOut(Out):
    changes: list[ChangeOut]
    next: str
    """Pass as ``since`` to read on; unchanged when nothing new has committed."""
    more: bool

    @classmethod
    def of(cls, page: Page) -> ChangesOut:
        changes = [ChangeOut.from_domain(c, details=dict(c.details)) for c in page.changes]
        return cls(changes=changes, next=page.next, more=page.more)


class CursorOut(Out):
    cursor: str
