"""The stacker (AS/RS): job requests and decisions, jobs, the crane's state (docs/stacker.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import DomainOut, MessageOut, Out
from daemon import messages
from daemon.messages import Message, say
from stacker.cells import CellAddress
from stacker.describe import exception_text
from stacker.journal import Job
from stacker.service.controller import StackerStatus
from stacker.service.room import StackerService, iso_seconds
from stacker.stations import StationWait


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


class StackerPlaceOut(Out):
    code: str
    """The location code (a stacker cell, or a station)."""
    cell: str
    """The PLC address, e.g. ``a1-s2-b14-l3-d1`` (stations are in aisle 0)."""


class StationWaitOut(Out):
    """Why a queued job is held back: its station still holds a box (words and their parts)."""

    key: str
    """``station_holds_box`` or ``station_occupied`` (console message ``stacker.wait.<key>``)."""
    station: str
    box_id: str
    ref: str | None
    job_id: int | None
    """The retrieval that left the box at the station, when the host knows it."""

    @classmethod
    def of(cls, wait: StationWait) -> StationWaitOut:
        return cls(
            key=wait.key, station=wait.station, box_id=wait.box_id, ref=wait.ref, job_id=wait.job_id
        )


class StationOut(Out):
    name: str
    code: str
    """The station's location code."""
    box_id: str | None
    """The box the host knows stands there (None: none recorded)."""
    ref: str | None
    sensed: bool
    """The PLC reports this station's sensor (IR27)."""
    plc_occupied: bool | None
    mismatch: str | None
    """The sensor and the host's record disagree (an alarm is raised)."""


def _note(text: str) -> Message | None:
    words = messages.job_note(text)
    return words if isinstance(words, Message) else None


def wait_words(wait: StationWait) -> Message:
    if wait.key != "station_holds_box":
        return say("stacker.station_occupied", station=wait.station)
    what: str | Message = wait.ref or wait.box_id or say("stacker.a_box")
    if wait.job_id is None:
        return say("stacker.station_holds_box", station=wait.station, what=what)
    return say("stacker.station_holds_box_job", station=wait.station, what=what, job_id=wait.job_id)


class StackerJobOut(DomainOut, domain=Job):
    # A journal entry: enums by their value, times in ISO 8601, cells as places.
    kind: str
    source: StackerPlaceOut
    destination: StackerPlaceOut
    purpose: str
    state: str
    created_at: str | None
    updated_at: str | None
    sent_at: str | None
    accepted_at: str | None
    finished_at: str | None
    completion: str | None
    exception: str | None
    stacker: str
    result: str | None
    decisions: list[str]
    waiting_for: str | None
    """Why the queued job is not sent yet, in words (None: nothing holds it back)."""
    waiting: StationWaitOut | None
    waiting_message: MessageOut | None
    """``waiting_for`` as a message key and parameters."""
    note_message: MessageOut | None
    """``note`` as a message key and parameters, when it is one of the known notes (a
    decision, a redirection, the PLC's completion or reject reason in words, ...)."""

    @classmethod
    def of(cls, job: Job, service: StackerService) -> StackerJobOut:
        wait = service.waiting_for(job)

        def place(cell: CellAddress) -> StackerPlaceOut:
            return StackerPlaceOut(code=service.places.code(cell), cell=cell.code)

        return cls.from_domain(
            job,
            kind=job.kind.value,
            source=place(job.source),
            destination=place(job.destination),
            purpose=job.purpose.value,
            state=job.state.value,
            created_at=iso_seconds(job.created_at or None),
            updated_at=iso_seconds(job.updated_at or None),
            sent_at=iso_seconds(job.sent_at),
            accepted_at=iso_seconds(job.accepted_at),
            finished_at=iso_seconds(job.finished_at),
            completion=None if job.completion is None else job.completion.name.lower(),
            exception=None if not job.exception else exception_text(job.exception),
            stacker=service.config.id,
            result=job.result if job.state.terminal else None,
            decisions=list(service.decisions(job)),
            waiting_for=None if wait is None else wait.text,
            waiting=None if wait is None else StationWaitOut.of(wait),
            waiting_message=MessageOut.of(None if wait is None else wait_words(wait)),
            note_message=MessageOut.of(_note(job.note)),
        )


class PositionOut(Out):
    aisle: int
    side: int
    bay: int
    level: int
    fork: int


class StackerOut(DomainOut, domain=StackerStatus):
    position: PositionOut | None
    active_job: StackerJobOut | None
    queue: list[StackerJobOut]
    stations: list[StationOut]
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
        return cls.from_domain(
            s,
            position=position,
            active_job=None if s.active_job is None else StackerJobOut.of(s.active_job, service),
            queue=[StackerJobOut.of(j, service) for j in s.queue],
            stations=[
                StationOut(
                    name=v.name,
                    code=service.places.code(v.cell),
                    box_id=None if v.box is None else v.box.box_id,
                    ref=None if v.box is None else v.box.ref,
                    sensed=v.sensed,
                    plc_occupied=v.plc_occupied,
                    mismatch=v.mismatch,
                )
                for v in s.stations
            ],
            cells=rack.cells,
            occupied_cells=rack.occupied,
        )
