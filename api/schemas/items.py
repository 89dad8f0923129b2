"""Catalogue records, their imports, tags and histories."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut, Out
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


class TraceOut(DomainOut, domain=TraceEntry):
    details: dict[str, object]

    @classmethod
    def of(cls, e: TraceEntry) -> TraceOut:
        return cls.from_domain(e)


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
    @classmethod
    def of(cls, b: Binding) -> BindingOut:
        return cls.from_domain(b)


class TagOut(Out):
    epc: str
    active: BindingOut | None
    history: list[BindingOut]
