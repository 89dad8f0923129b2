"""Request and response bodies of the REST API (DESIGN §6.2 field names are a contract)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from daemon.alarms import Alarm
from daemon.clock import us_to_iso
from daemon.ledger.items import Item, ItemFields
from daemon.ledger.loans import Loan, LoanStatus
from daemon.ledger.tags import Binding
from daemon.ledger.whereabouts import TraceEntry, Whereabouts
from daemon.stacker_service import StackerService, iso_seconds
from stacker.cells import CellAddress
from stacker.describe import exception_text
from stacker.journal import Job


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


# -- stacker --------------------------------------------------------------------------------


class CellIn(BaseModel):
    """A rack cell by its coordinates (stations sit in aisle 0 and are named instead)."""

    model_config = ConfigDict(extra="forbid")
    aisle: int = Field(ge=1, le=65535)
    side: int = Field(ge=1, le=65535)
    bay: int = Field(ge=1, le=65535)
    level: int = Field(ge=1, le=65535)
    depth: int = Field(default=1, ge=1, le=65535)

    def address(self) -> CellAddress:
        return CellAddress(self.aisle, self.side, self.bay, self.level, self.depth)


CellRef = Annotated[
    str | CellIn,
    Field(
        description="a cell's location code (r1-S12-14-03-1), its address (a1-s2-b14-l3-d1) "
        "or its coordinates"
    ),
]


def cell_arg(value: str | CellIn | None) -> str | CellAddress | None:
    return value.address() if isinstance(value, CellIn) else value


class StackerJobIn(BaseModel):
    """``retrieve`` an item to a station, ``store`` it from a station into a free cell (or
    ``destination``), ``relocate`` it to another cell, ``verify`` (scan) its cell or ``cell``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Literal["retrieve", "store", "relocate", "verify"]
    ref: str | None = Field(default=None, min_length=1, max_length=100)
    station: str | None = Field(
        default=None, max_length=32, description="pick/drop station (default: the configured one)"
    )
    destination: CellRef | None = None
    cell: CellRef | None = Field(default=None, description="the cell to verify (without a ref)")
    urgent: bool = False


class StackerDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["retry", "cancel", "redirect"]
    destination: CellRef | None = Field(
        default=None, description="redirect only: the new destination (default: a free cell)"
    )


class StackerPlaceOut(_Out):
    code: str
    """The location code (a stacker cell, or a station)."""
    cell: str
    """The PLC address, e.g. ``a1-s2-b14-l3-d1`` (stations are in aisle 0)."""


class StackerJobOut(_Out):
    job_id: int
    stacker: str
    kind: str
    state: str
    result: str | None
    ref: str | None
    box_id: str
    source: StackerPlaceOut
    destination: StackerPlaceOut
    urgent: bool
    purpose: str
    parent_id: int | None
    created_at: str | None
    updated_at: str | None
    sent_at: str | None
    accepted_at: str | None
    finished_at: str | None
    completion: str | None
    plc_completion: int | None
    reject_reason: int | None
    read_box_id: str | None
    exception: str | None
    decisions: list[str]
    note: str

    @classmethod
    def of(cls, job: Job, service: StackerService) -> StackerJobOut:
        def place(cell: CellAddress) -> StackerPlaceOut:
            return StackerPlaceOut(code=service.places.code(cell), cell=cell.code)

        return cls(
            job_id=job.job_id,
            stacker=service.config.id,
            kind=job.kind.value,
            state=job.state.value,
            result=job.result if job.state.terminal else None,
            ref=job.ref,
            box_id=job.box_id,
            source=place(job.source),
            destination=place(job.destination),
            urgent=job.urgent,
            purpose=job.purpose.value,
            parent_id=job.parent_id,
            created_at=iso_seconds(job.created_at or None),
            updated_at=iso_seconds(job.updated_at or None),
            sent_at=iso_seconds(job.sent_at),
            accepted_at=iso_seconds(job.accepted_at),
            finished_at=iso_seconds(job.finished_at),
            completion=None if job.completion is None else job.completion.name.lower(),
            plc_completion=job.plc_completion,
            reject_reason=job.reject_reason,
            read_box_id=job.read_box_id,
            exception=None if not job.exception else exception_text(job.exception),
            decisions=list(service.decisions(job)),
            note=job.note,
        )


class PositionOut(_Out):
    aisle: int
    side: int
    bay: int
    level: int
    fork: int


class StackerOut(_Out):
    id: str
    connected: bool
    up: bool
    down_reason: str | None
    refusal: str | None
    """Why a job would be refused now, in words (None: jobs are taken)."""
    mode: int | None
    mode_name: str | None
    status: list[str]
    faults: list[str]
    fault_code: int
    warning_code: int
    position: PositionOut | None
    plc_heartbeat_age_s: float | None
    active_job: StackerJobOut | None
    queue: list[StackerJobOut]
    cells: int
    occupied_cells: int

    @classmethod
    def of(cls, service: StackerService) -> StackerOut:
        s = service.status()
        rack = service.rack()
        position = None
        if s.position is not None:
            aisle, side, bay, level, fork = s.position
            position = PositionOut(aisle=aisle, side=side, bay=bay, level=level, fork=fork)
        return cls(
            id=s.id,
            connected=s.connected,
            up=s.up,
            down_reason=s.down_reason,
            refusal=s.refusal,
            mode=s.mode,
            mode_name=s.mode_name,
            status=list(s.status),
            faults=list(s.faults),
            fault_code=s.fault_code,
            warning_code=s.warning_code,
            position=position,
            plc_heartbeat_age_s=s.plc_heartbeat_age_s,
            active_job=None if s.active_job is None else StackerJobOut.of(s.active_job, service),
            queue=[StackerJobOut.of(j, service) for j in s.queue],
            cells=rack.cells,
            occupied_cells=rack.occupied,
        )
