"""Request and response bodies of the REST API (docs/design.md §6.2 field names are a contract)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from daemon.clock import seconds_to_us, us_to_iso
from daemon.ledger.alarms import Alarm
from daemon.ledger.items import Item, ItemFields
from daemon.ledger.loans import Loan, LoanStatus
from daemon.ledger.tags import Binding
from daemon.ledger.whereabouts import TraceEntry, Whereabouts
from daemon.reconcile.campaigns import Campaign, CampaignLocation
from daemon.reconcile.copies import KeyFieldCopyRecord
from daemon.reconcile.runs import ReportRow, Run
from daemon.reconcile.spotcheck import CheckItem, Outcome, SpotCheck
from rfid.service.cart import MAX_BOXES as MAX_CART_BOXES
from rfid.service.cart import BoxResult
from sensors.derived import Preservation
from sensors.limits import ClimateLimits
from sensors.service.climate import ClimateView, RoomView, SensorView, alarm_owner
from sensors.service.history_store import HistoryPage, MinuteRow
from stacker.cells import CellAddress
from stacker.describe import exception_text
from stacker.journal import Job
from stacker.service.room import StackerService, iso_seconds


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


class CartIn(BaseModel):
    """Which boxes: a list of references, or every tagged box a desk reader sees now."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    refs: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=MAX_CART_BOXES
    )
    reader: str | None = Field(
        default=None, min_length=1, max_length=100, description="a desk reader's id"
    )

    @model_validator(mode="after")
    def _one_source(self) -> CartIn:
        if (self.refs is None) == (self.reader is None):
            raise ValueError("give either refs (a list of references) or reader (a desk reader)")
        return self


class CartLoanIn(CartIn):
    borrower: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    approval_no: str | None = Field(default=None, max_length=100)
    due: date | None = None


class CartReturnIn(CartIn):
    location: str | None = Field(
        default=None, max_length=100, description="where they were handed in (default: the desk)"
    )


class BoxOut(_Out):
    epc: str | None
    ref: str | None


class BoxResultOut(_Out):
    epc: str | None
    ref: str | None
    outcome: Literal["done", "refused"]
    reason: str | None
    loan_id: int | None


class CartOut(_Out):
    """One result per box, in the order the boxes were given (or by EPC for a reader)."""

    done: int
    refused: int
    results: list[BoxResultOut]

    @classmethod
    def of(cls, results: list[BoxResult]) -> CartOut:
        done = sum(1 for r in results if r.outcome == "done")
        return cls(
            done=done,
            refused=len(results) - done,
            results=[BoxResultOut(**dataclasses.asdict(r)) for r in results],
        )


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

    @staticmethod
    def plain(w: Whereabouts) -> dict[str, object]:
        """The same JSON as ``of(w)``, built without model objects: a batch lookup answers for
        ten thousand items, and constructing two models each costs more than the query."""
        return {
            "ref": w.ref,
            "location": {"code": w.location.code, "kind": w.location.kind, "room": w.location.room},
            "since": iso(w.since_us),
            "source": w.source,
            "loan": LoanOut.of(w.loan).model_dump(mode="json") if w.loan else None,
        }

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


# -- reconciliation, campaigns, spot checks, retention (docs/reconciliation.md) --------------


class RunOut(_Out):
    id: int
    room: str
    state: str
    campaign_id: int | None
    requested_by: str
    requested_at: str
    started_at: str | None
    finished_at: str | None
    items_checked: int
    tags_checked: int
    discrepancies: int
    counts: dict[str, int]
    error: str | None
    spot_checks: list[SpotCheckSummaryOut]

    @classmethod
    def of(cls, run: Run, checks: list[SpotCheck] | None = None) -> RunOut:
        return cls(
            id=run.id,
            room=run.room,
            state=run.state,
            campaign_id=run.campaign_id,
            requested_by=run.requested_by,
            requested_at=us_to_iso(run.requested_us),
            started_at=iso(run.started_us),
            finished_at=iso(run.finished_us),
            items_checked=run.items_checked,
            tags_checked=run.tags_checked,
            discrepancies=run.discrepancies,
            counts=run.counts,
            error=run.error,
            spot_checks=[SpotCheckSummaryOut.of(c) for c in checks or []],
        )


class ReportRowOut(_Out):
    id: int
    discrepancy: str
    ref: str | None
    epc: str | None
    expected: str | None
    seen: str | None
    seen_at: str | None
    detail: str

    @classmethod
    def of(cls, row: ReportRow) -> ReportRowOut:
        return cls(
            id=row.id,
            discrepancy=row.discrepancy,
            ref=row.ref,
            epc=row.epc,
            expected=row.expected,
            seen=row.seen,
            seen_at=iso(row.seen_us),
            detail=row.detail,
        )


class ReportPageOut(_Out):
    run_id: int
    rows: list[ReportRowOut]
    next_after: int | None
    """Pass as ``after`` for the next page (null: this was the last)."""


class KeyFieldCopiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    copies: list[KeyFieldCopyRecord] = Field(min_length=1, max_length=10_000)


class KeyFieldCopiesOut(_Out):
    stored: int
    not_found: list[str]


class KeyFieldCopyOut(_Out):
    ref: str
    fields_set: list[str]


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stacker: bool = Field(default=False, description="also verify every occupied stacker cell")
    note: str = Field(default="", max_length=2000)


class CampaignLocationOut(_Out):
    code: str
    kind: str
    swept_at: str | None
    job_id: int | None
    result: str | None


class CampaignOut(_Out):
    id: int
    state: str
    started_at: str
    started_by: str
    finished_at: str | None
    stacker: bool
    sweeps: int
    locations_total: int
    locations_swept: int
    coverage: float
    run_id: int | None
    note: str
    locations: list[CampaignLocationOut] | None = None

    @classmethod
    def of(cls, c: Campaign, locations: list[CampaignLocation] | None = None) -> CampaignOut:
        return cls(
            id=c.id,
            state=c.state,
            started_at=us_to_iso(c.started_us),
            started_by=c.started_by,
            finished_at=iso(c.finished_us),
            stacker=c.stacker,
            sweeps=c.sweeps,
            locations_total=c.locations_total,
            locations_swept=c.locations_swept,
            coverage=c.coverage,
            run_id=c.run_id,
            note=c.note,
            locations=None
            if locations is None
            else [
                CampaignLocationOut(
                    code=loc.code,
                    kind=loc.kind,
                    swept_at=iso(loc.swept_us),
                    job_id=loc.job_id,
                    result=loc.result,
                )
                for loc in locations
            ],
        )


class SpotCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(ge=1, le=10_000, description="items to sample")
    seed: int | None = Field(
        default=None, ge=0, lt=2**63, description="to redraw a sample (default: random)"
    )
    run_id: int | None = Field(
        default=None, ge=1, lt=2**63, description="the run whose report it joins (default: latest)"
    )
    note: str = Field(default="", max_length=2000)


class SpotCheckItemOut(_Out):
    position: int
    ref: str
    category: str
    expected: str | None
    outcome: str | None
    found_at: str | None
    note: str | None
    recorded_at: str | None
    recorded_by: str | None

    @classmethod
    def of(cls, i: CheckItem) -> SpotCheckItemOut:
        return cls(
            position=i.position,
            ref=i.ref,
            category=i.category,
            expected=i.expected,
            outcome=i.outcome,
            found_at=i.found_at,
            note=i.note,
            recorded_at=iso(i.recorded_us),
            recorded_by=i.recorded_by,
        )


class SpotCheckSummaryOut(_Out):
    id: int
    seed: int
    size: int
    outcomes: dict[str, int]

    @classmethod
    def of(cls, c: SpotCheck) -> SpotCheckSummaryOut:
        return cls(id=c.id, seed=c.seed, size=c.size, outcomes=c.outcomes())


class SpotCheckOut(_Out):
    id: int
    run_id: int | None
    seed: int
    size: int
    created_at: str
    created_by: str
    note: str
    outcomes: dict[str, int]
    items: list[SpotCheckItemOut]

    @classmethod
    def of(cls, c: SpotCheck) -> SpotCheckOut:
        return cls(
            id=c.id,
            run_id=c.run_id,
            seed=c.seed,
            size=c.size,
            created_at=us_to_iso(c.created_us),
            created_by=c.created_by,
            note=c.note,
            outcomes=c.outcomes(),
            items=[SpotCheckItemOut.of(i) for i in c.items],
        )


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    outcome: Outcome
    location: str | None = Field(
        default=None, max_length=100, description="where it was found (found_elsewhere)"
    )
    note: str | None = Field(default=None, max_length=2000)


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


# -- climate ---------------------------------------------------------------------------------


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


class ClimateLimitsOut(_Out):
    temp_min_c: float
    temp_max_c: float
    rh_min_pct: float
    rh_max_pct: float
    temp_swing_c: float = Field(description="largest allowed max - min within 24 h")
    rh_swing_pct: float
    temp_hysteresis_c: float
    rh_hysteresis_pct: float
    min_duration_s: float

    @classmethod
    def of(cls, limits: ClimateLimits) -> ClimateLimitsOut:
        return cls(**dataclasses.asdict(limits))


class PreservationOut(_Out):
    pi_years: float | None = Field(description="Preservation Index of the latest values")
    twpi_24h_years: float | None
    twpi_30d_years: float | None
    rating: Literal["good", "ok", "risk"] | None = Field(description="of the 30-day TWPI")
    mould_risk: bool
    mould_hours_24h: float
    mould_hours_30d: float
    mould_hours_total: float

    @classmethod
    def of(cls, p: Preservation) -> PreservationOut:
        return cls(
            pi_years=_r(p.pi_years, 2),
            twpi_24h_years=_r(p.twpi_24h_years, 2),
            twpi_30d_years=_r(p.twpi_30d_years, 2),
            rating=p.rating,
            mould_risk=p.mould_risk,
            mould_hours_24h=round(p.mould_hours_24h, 3),
            mould_hours_30d=round(p.mould_hours_30d, 3),
            mould_hours_total=round(p.mould_hours_total, 3),
        )


class ClimateRoomOut(_Out):
    id: str
    name: str
    room_class: str
    limits: ClimateLimitsOut
    at: str | None = Field(description="time of the latest reading that went into the values")
    temperature_c: float | None = Field(description="mean of the room's current sensors")
    humidity_pct: float | None
    smoothed_temperature_c: float | None = Field(description="what the alarms judge")
    smoothed_humidity_pct: float | None
    dew_point_c: float | None
    temperature_spread_24h_c: float | None
    humidity_spread_24h_pct: float | None
    preservation: PreservationOut
    up: bool = Field(description="at least one sensor of the room is reporting")
    sensors_up: int
    sensors: list[str]
    conditions: list[str] = Field(description="alarm conditions the room is judged in now")
    alarms: list[AlarmOut] = Field(description="active recorded alarms of the room")

    @classmethod
    def of(cls, room: RoomView, alarms: list[AlarmOut]) -> ClimateRoomOut:
        s = room.snapshot
        return cls(
            id=room.config.id,
            name=room.config.name,
            room_class=room.config.room_class,
            limits=ClimateLimitsOut.of(room.limits),
            at=None if s.t is None else us_to_iso(seconds_to_us(s.t)),
            temperature_c=_r(s.temperature_c),
            humidity_pct=_r(s.humidity_pct),
            smoothed_temperature_c=_r(s.smoothed_temperature_c),
            smoothed_humidity_pct=_r(s.smoothed_humidity_pct),
            dew_point_c=_r(s.dew_point_c, 2),
            temperature_spread_24h_c=_r(s.temperature_spread_24h_c),
            humidity_spread_24h_pct=_r(s.humidity_spread_24h_pct),
            preservation=PreservationOut.of(s.preservation),
            up=s.up,
            sensors_up=s.sensors_up,
            sensors=list(room.sensors),
            conditions=list(s.alarms),
            alarms=alarms,
        )


class ClimateReadingOut(_Out):
    at: str
    temperature_c: float
    humidity_pct: float
    dew_point_c: float | None


class SensorCountersOut(_Out):
    polls: int
    readings: int
    timeouts: int
    error_answers: int
    rejected: int


class ClimateSensorOut(_Out):
    id: str
    room: str
    type: str
    bus: str
    device_id: int
    interval_s: float
    state: Literal["up", "down", "unknown"]
    reason: str | None = Field(description="why it went up or down last")
    reading: ClimateReadingOut | None = Field(description="the latest accepted reading")
    preservation: PreservationOut
    last_error: str | None = Field(description="why the latest failed poll failed")
    last_error_at: str | None
    counters: SensorCountersOut
    alarms: list[AlarmOut]

    @classmethod
    def of(cls, sensor: SensorView, alarms: list[AlarmOut]) -> ClimateSensorOut:
        s, c = sensor.snapshot, sensor.counters
        reading = None
        if s.t is not None and s.temperature_c is not None and s.humidity_pct is not None:
            reading = ClimateReadingOut(
                at=us_to_iso(seconds_to_us(s.t)),
                temperature_c=s.temperature_c,
                humidity_pct=s.humidity_pct,
                dew_point_c=_r(s.dew_point_c, 2),
            )
        error = sensor.last_error
        return cls(
            id=sensor.config.id,
            room=sensor.config.room,
            type=sensor.config.type,
            bus=sensor.config.bus,
            device_id=sensor.config.device_id,
            interval_s=sensor.config.interval_s,
            state=sensor.state,
            reason=sensor.reason,
            reading=reading,
            preservation=PreservationOut.of(s.preservation),
            last_error=None if error is None else error[0],
            last_error_at=None if error is None else us_to_iso(seconds_to_us(error[1])),
            counters=SensorCountersOut(
                polls=c.polls,
                readings=c.readings,
                timeouts=c.timeouts,
                error_answers=c.error_answers,
                rejected=c.rejected,
            ),
            alarms=alarms,
        )


class ClimateBusOut(_Out):
    id: str
    url: str
    framer: str
    up: bool | None
    reason: str | None


class ClimateOut(_Out):
    at: str
    rooms: list[ClimateRoomOut]
    sensors: list[ClimateSensorOut]
    buses: list[ClimateBusOut]

    @classmethod
    def of(cls, view: ClimateView, active: list[Alarm]) -> ClimateOut:
        owned: dict[tuple[str, str], list[AlarmOut]] = {}
        for alarm in active:
            owner = alarm_owner(alarm.key)
            if owner is not None:
                owned.setdefault(owner, []).append(AlarmOut.of(alarm))
        return cls(
            at=us_to_iso(seconds_to_us(view.t)),
            rooms=[ClimateRoomOut.of(r, owned.get(("room", r.config.id), [])) for r in view.rooms],
            sensors=[
                ClimateSensorOut.of(s, owned.get(("sensor", s.config.id), [])) for s in view.sensors
            ],
            buses=[
                ClimateBusOut(
                    id=b.config.id,
                    url=b.config.url,
                    framer=b.config.framer,
                    up=b.up,
                    reason=b.reason,
                )
                for b in view.buses
            ],
        )


class ClimateMinuteOut(_Out):
    sensor: str
    room: str
    minute: str = Field(description="start of the minute")
    samples: int
    temperature_min_c: float
    temperature_avg_c: float
    temperature_max_c: float
    humidity_min_pct: float
    humidity_avg_pct: float
    humidity_max_pct: float

    @classmethod
    def of(cls, row: MinuteRow) -> ClimateMinuteOut:
        return cls(
            sensor=row.sensor,
            room=row.room,
            minute=us_to_iso(row.minute_us),
            samples=row.samples,
            temperature_min_c=row.temp_min,
            temperature_avg_c=round(row.temp_avg, 4),
            temperature_max_c=row.temp_max,
            humidity_min_pct=row.rh_min,
            humidity_avg_pct=round(row.rh_avg, 4),
            humidity_max_pct=row.rh_max,
        )


class ClimateHistoryOut(_Out):
    points: list[ClimateMinuteOut]
    truncated: bool = Field(description="more minutes match: ask again from next_from")
    next_from: str | None

    @classmethod
    def of(cls, page: HistoryPage) -> ClimateHistoryOut:
        return cls(
            points=[ClimateMinuteOut.of(p) for p in page.points],
            truncated=page.truncated,
            next_from=None if page.next_from_us is None else us_to_iso(page.next_from_us),
        )
