"""Catalogue records, their imports, tags and histories."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut, Out
from daemon.clock import us_to_iso
from daemon.ledger.imports import ImportJob
from daemon.ledger.items import Item, ItemFields, RowError
from daemon.ledger.tags import Binding
from daemon.ledger.whereabouts import TraceEntry


class ItemIn(ItemFields):
    """A catalogue record as the catalogue service sends it (the ref is in the path)."""


class ItemOut(DomainOut, domain=Item, exclude=("id",)):
    key_fields_masked: bool

    @classmethod
    def of(cls, item: Item, *, masked: bool) -> ItemOut:
        return cls.from_domain(item.masked() if masked else item, key_fields_masked=masked)


class RowErrorOut(DomainOut, domain=RowError):
    pass


class ImportOut(Out):
    loaded: int
    error_count: int
    errors: list[RowErrorOut]


class ImportJobOut(Out):
    """An import running in the background, or finished (``GET /api/v1/imports/{id}``)."""

    id: str
    state: Literal["receiving", "queued", "running", "done", "failed"]
    detail: str = Field(description="why the import failed as a whole; empty otherwise")
    bytes_total: int
    bytes_read: int
    lines_read: int
    loaded: int
    error_count: int
    errors: list[RowErrorOut] = Field(description="the first 1,000 bad rows")
    created_at: str
    finished_at: str | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        return cls(
            id=job.id,
            state=job.state,
            detail=job.detail,
            bytes_total=job.bytes_total,
            bytes_read=job.bytes_read,
            lines_read=job.lines_read,
            loaded=job.report.loaded,
            error_count=job.report.error_count,
            errors=[RowErrorOut.from_domain(e) for e in job.report.errors],
            created_at=us_to_iso(job.created_us),
            finished_at=None if job.finished_us is None else us_to_iso(job.finished_us),
        )


class TraceOut(DomainOut, domain=TraceEntry):
    details: dict[str, object]


class HistoryOut(Out):
    ref: str
    entries: list[TraceOut]


class TagIn(BaseModel):
    """Bind a tag: give its EPC, or ask the desk reader to encode a new GIAI-96 EPC."""

    model_config = ConfigDict(extra="forbid")
    epc: str | None = Field(default=None, description="EPC in hex, e.g. 3414257BF400000000003039")
    encode: bool = False
    reader: str | None = Field(default=None, description="desk reader id (with encode)")


class BindingOut(DomainOut, domain=Binding):
    pass


class TagOut(Out):
    epc: str
    active: BindingOut | None
    history: list[BindingOut]
