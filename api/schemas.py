"""Request and response bodies of the REST API (DESIGN §6.2 field names are a contract)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from daemon.alarms import Alarm
from daemon.clock import us_to_iso
from daemon.ledger.items import Item, ItemFields
from daemon.ledger.loans import Loan, LoanStatus
from daemon.ledger.tags import Binding
from daemon.ledger.whereabouts import TraceEntry, Whereabouts


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def iso(us: int | None) -> str | None:
    return us_to_iso(us) if us is not None else None


class ItemIn(ItemFields):
    """A catalogue record as the catalogue service sends it (the ref is in the path)."""


class ItemOut(_Out):
    ref: str
    title: str
    category: str
    year: int | None
    retention: str
    kind: str
    parent_ref: str | None
    record_id: str | None
    resident_id: str | None
    approval_no: str | None
    social_security_no: str | None
    home_location: str | None
    epc: str | None
    created_at: str
    updated_at: str
    key_fields_masked: bool

    @classmethod
    def of(cls, item: Item, *, masked: bool) -> ItemOut:
        shown = item.masked() if masked else item
        return cls(
            ref=shown.ref,
            title=shown.title,
            category=shown.category,
            year=shown.year,
            retention=shown.retention,
            kind=shown.kind,
            parent_ref=shown.parent_ref,
            record_id=shown.record_id,
            resident_id=shown.resident_id,
            approval_no=shown.approval_no,
            social_security_no=shown.social_security_no,
            home_location=shown.home_location,
            epc=shown.epc,
            created_at=us_to_iso(shown.created_us),
            updated_at=us_to_iso(shown.updated_us),
            key_fields_masked=masked,
        )


class RowErrorOut(_Out):
    line: int
    ref: str | None
    error: str


class ImportOut(_Out):
    loaded: int
    error_count: int
    errors: list[RowErrorOut]


class LoanOut(_Out):
    id: int
    ref: str
    borrower: str
    purpose: str
    approval_no: str | None
    due: str
    opened_at: str
    opened_by: str
    returned_at: str | None
    returned_by: str | None
    renewals: int
    status: LoanStatus

    @classmethod
    def of(cls, loan: Loan) -> LoanOut:
        return cls(
            id=loan.id,
            ref=loan.ref,
            borrower=loan.borrower,
            purpose=loan.purpose,
            approval_no=loan.approval_no,
            due=loan.due,
            opened_at=us_to_iso(loan.opened_us),
            opened_by=loan.opened_by,
            returned_at=iso(loan.returned_us),
            returned_by=loan.returned_by,
            renewals=loan.renewals,
            status=loan.status(),
        )


class LoanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ref: str = Field(min_length=1, max_length=100)
    borrower: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    approval_no: str | None = Field(default=None, max_length=100)
    due: date | None = None


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location: str | None = Field(
        default=None, description="where it was handed in (default: the desk)"
    )


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due: date | None = None


class PlaceOut(_Out):
    code: str
    kind: str
    room: str | None


class LocationOut(_Out):
    ref: str
    location: PlaceOut
    since: str | None
    source: str | None
    loan: LoanOut | None

    @classmethod
    def of(cls, w: Whereabouts) -> LocationOut:
        return cls(
            ref=w.ref,
            location=PlaceOut(code=w.location.code, kind=w.location.kind, room=w.location.room),
            since=iso(w.since_us),
            source=w.source,
            loan=LoanOut.of(w.loan) if w.loan else None,
        )


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refs: list[str] = Field(min_length=1, max_length=10_000)


class LookupOut(_Out):
    locations: list[LocationOut]
    not_found: list[str]


class ShelfItemOut(_Out):
    ref: str
    location: str


class ShelfOut(_Out):
    code: str
    present: list[ShelfItemOut]
    expected_absent: list[ShelfItemOut]


class TraceOut(_Out):
    at: str
    kind: str
    summary: str
    details: dict[str, object]

    @classmethod
    def of(cls, e: TraceEntry) -> TraceOut:
        return cls(at=us_to_iso(e.at_us), kind=e.kind, summary=e.summary, details=e.details)


class HistoryOut(_Out):
    ref: str
    entries: list[TraceOut]


class TagIn(BaseModel):
    """Bind a tag: give its EPC, or ask the desk reader to encode a new GIAI-96 EPC."""

    model_config = ConfigDict(extra="forbid")
    epc: str | None = Field(default=None, description="EPC in hex, e.g. 3414257BF400000000003039")
    encode: bool = False
    reader: str | None = Field(default=None, description="desk reader id (with encode)")


class BindingOut(_Out):
    epc: str
    ref: str
    scheme: str
    uri: str
    bound_at: str
    bound_by: str
    retired_at: str | None
    retired_by: str | None

    @classmethod
    def of(cls, b: Binding) -> BindingOut:
        return cls(
            epc=b.epc,
            ref=b.ref,
            scheme=b.scheme,
            uri=b.uri,
            bound_at=us_to_iso(b.bound_us),
            bound_by=b.bound_by,
            retired_at=iso(b.retired_us),
            retired_by=b.retired_by,
        )


class TagOut(_Out):
    epc: str
    active: BindingOut | None
    history: list[BindingOut]


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=100, description="location code")
    note: str | None = Field(default=None, max_length=500)


class AlarmOut(_Out):
    id: int
    kind: str
    source: str
    severity: str
    message: str
    room: str
    subject: str | None
    raised_at: str
    cleared_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    active: bool

    @classmethod
    def of(cls, a: Alarm) -> AlarmOut:
        return cls(
            id=a.id,
            kind=a.kind,
            source=a.source,
            severity=a.severity,
            message=a.message,
            room=a.room,
            subject=a.subject,
            raised_at=us_to_iso(a.raised_us),
            cleared_at=iso(a.cleared_us),
            acknowledged_at=iso(a.acked_us),
            acknowledged_by=a.acked_by,
            active=a.active,
        )


class RackIn(BaseModel):
    """A rack's locations from coordinate ranges, e.g. bays "1-20", levels "1-6"."""

    model_config = ConfigDict(extra="forbid")
    rack: str = Field(pattern=r"^[A-Za-z0-9]{1,8}$")
    bays: str | int
    levels: str | int
    sides: list[str] = Field(default_factory=list)


class LocationDefOut(_Out):
    code: str
    kind: str
    room: str | None
    parent: str | None
    name: str


class RackOut(_Out):
    created: int
    codes: list[str]


class AuditEntryOut(_Out):
    seq: int
    at: str
    room: str
    actor: str
    action: str
    subject: str
    outcome: str
    details: str
    prev_hash: str
    hash: str


class VerifyOut(_Out):
    ok: bool
    entries: int
    first_broken_seq: int | None
    reason: str


class Problem(_Out):
    detail: str


StatusFilter = Literal["open", "overdue", "returned"]
