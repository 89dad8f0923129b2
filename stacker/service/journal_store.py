"""The stacker's job journal in the room's database, and what a job's state means to people.

The crane must never move a box twice because the host forgot, so the journal lives in the
room's database (``stacker_jobs``) and every job and state change is committed there *before*
the controller writes the registers that follow from it (docs/design.md §4.3). The same transaction
that records a job's end also records its consequence in the ledger: the movement of the item
(source ``stacker``: a retrieval to the station, a store or relocation to the cell), the audit
entry and the ``stacker.job`` event. So a result acknowledged to the PLC always has its
movement, and a movement never exists for a job the journal does not call done.

The alarm a job's state rings (waiting for a decision, unconfirmed, of unknown outcome, ended
in a way that needs a person) is committed with that state, so whoever sees the job waiting
also finds the alarm. Cells and stations are locations of the room (:class:`Places`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon import messages
from daemon.clock import seconds_to_us
from daemon.events import StackerJobChanged
from daemon.ledger.alarms import Alarms, Severity
from daemon.ledger.locations import Locations
from daemon.ledger.movements import move
from daemon.ledger.uow import Ledger, Tx
from daemon.messages import ENGLISH, Message, job_note, same, say
from daemon.room import stacker_cell_code, station_code
from daemon.store.schema import items, stacker_jobs
from stacker.cells import CellAddress
from stacker.config import StackerConfig
from stacker.describe import exception_text
from stacker.journal import Job, JobKind, JobPurpose, JobState, job_from_json, job_to_json
from stacker.registers import CompletionCode, ExcDecision, ExcReq, next_job_id

_TERMINAL_STATES = [s.value for s in JobState if s.terminal]


# -- who is asking --------------------------------------------------------------------------


@dataclass
class Request:
    """The person (or service) on whose behalf the journal is written in this task."""

    actor: str
    decision: tuple[int, ExcDecision, str | None] | None = None
    """(job id, decision, destination code) of an operator's decision not yet audited."""


_request: ContextVar[Request | None] = ContextVar("stacker_request", default=None)


@contextlib.contextmanager
def on_behalf_of(request: Request) -> Iterator[None]:
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


# -- places: cells and stations as the ledger's locations ------------------------------------


class Places:
    """The stacker's cells and stations as location codes of the room, and back."""

    def __init__(self, room: str, config: StackerConfig, stations: dict[str, CellAddress]) -> None:
        self.room = room
        self.config = config
        self.stations = dict(stations)
        self._codes: dict[CellAddress, str] = {
            cell: station_code(room, name) for name, cell in stations.items()
        }
        self._cells: dict[str, CellAddress] = {code: cell for cell, code in self._codes.items()}

    def code(self, cell: CellAddress) -> str:
        """The location code of a cell or station of this stacker."""
        code = self._codes.get(cell)
        return code if code is not None else stacker_cell_code(self.room, cell)

    def cell(self, text: str) -> CellAddress | None:
        """A cell from its location code (``r1-S12-14-03-1``), its address (``a1-s2-b14-l3-d1``)
        or a station's location code or name; None when it names nothing of this stacker."""
        text = text.strip()
        if text in self._cells:
            return self._cells[text]
        if text in self.stations:
            return self.stations[text]
        with contextlib.suppress(ValueError):
            return CellAddress.parse(text)
        prefix = f"{self.room}-S"
        if text.startswith(prefix):
            parts = text[len(prefix) :].split("-")
            if len(parts) == 4 and all(p.isdigit() for p in parts) and len(parts[0]) >= 2:
                aisle_side, bay, level, depth = parts
                return CellAddress(
                    int(aisle_side[:-1]), int(aisle_side[-1]), int(bay), int(level), int(depth)
                )
        return None

    def is_our_cell_code(self, code: str | None) -> CellAddress | None:
        """The rack cell (not a station) whose location code is ``code``, if any."""
        if code is None or not code.startswith(f"{self.room}-S"):
            return None
        cell = self.cell(code)
        if cell is None or cell.is_station or stacker_cell_code(self.room, cell) != code:
            return None
        return cell


# -- the journal on the room's database ------------------------------------------------------


class SqlJournal:
    """:class:`stacker.journal.Journal` on the ``stacker_jobs`` table.

    Each call is its own committed transaction, done before the controller touches the PLC.
    Job creation and operator decisions are audited; every change of state announces a
    ``stacker.job`` event; the change to a terminal state also writes the item's movement
    and the audit entry of the result.
    """

    def __init__(
        self, ledger: Ledger, locations_: Locations, alarms: Alarms, places: Places
    ) -> None:
        self.ledger = ledger
        self.locations = locations_
        self.alarms = alarms
        self.places = places
        self.stacker = places.config.id
        self.room = ledger.room
        self._last_id: int | None = None
        self._id_lock = asyncio.Lock()

    # -- Journal protocol ---------------------------------------------------------------------

    async def next_job_id(self) -> int:
        """The next id after the largest this stacker ever recorded (in any room: the PLC's
        record is per machine). An id handed out but never recorded was never sent, so
        handing it out again after a restart is harmless."""
        async with self._id_lock:
            if self._last_id is None:
                async with self.ledger.store.read() as conn:
                    last = await conn.scalar(
                        select(func.max(stacker_jobs.c.job_id)).where(
                            stacker_jobs.c.stacker == self.stacker
                        )
                    )
                self._last_id = int(last or 0)
            self._last_id = next_job_id(self._last_id)
            return self._last_id

    async def record(self, job: Job) -> None:
        request = _request.get()
        actor = request.actor if request is not None else self.stacker
        async with self.ledger.transaction(actor) as tx:
            item_id = await self._item_id(tx.conn, job.ref)
            at = tx.at_us
            await tx.conn.execute(
                stacker_jobs.insert().values(
                    stacker=self.stacker,
                    job_id=job.job_id,
                    room=self.room,
                    kind=job.kind.value,
                    state=job.state.value,
                    ref=job.ref,
                    item_id=item_id,
                    created_us=seconds_to_us(job.created_at) if job.created_at else at,
                    updated_us=at,
                    body=_body(job),
                )
            )
            tx.audit(
                "stacker.job.created",
                self._subject(job),
                {
                    "stacker": self.stacker,
                    "job_id": job.job_id,
                    "kind": job.kind.value,
                    "source": self.places.code(job.source),
                    "destination": self.places.code(job.destination),
                    "box_id": job.box_id,
                    "urgent": job.urgent,
                    "purpose": job.purpose.value,
                    "parent_id": job.parent_id,
                },
            )
            tx.emit(_changed(job, at))
        self._last_id = max(self._last_id or 0, job.job_id)

    async def update(self, job: Job) -> None:
        request = _request.get()
        actor = request.actor if request is not None else self.stacker
        async with self.ledger.transaction(actor) as tx:
            row = (
                await tx.conn.execute(
                    select(stacker_jobs.c.state, stacker_jobs.c.item_id).where(
                        stacker_jobs.c.stacker == self.stacker,
                        stacker_jobs.c.job_id == job.job_id,
                    )
                )
            ).first()
            if row is None:
                raise KeyError(f"stacker job {job.job_id} was never recorded")
            item_id = row.item_id
            if item_id is None and job.ref is not None:
                item_id = await self._item_id(tx.conn, job.ref)
            await tx.conn.execute(
                update(stacker_jobs)
                .where(stacker_jobs.c.stacker == self.stacker, stacker_jobs.c.job_id == job.job_id)
                .values(
                    state=job.state.value,
                    ref=job.ref,
                    item_id=item_id,
                    updated_us=tx.at_us,
                    body=_body(job),
                )
            )
            if request is not None and request.decision is not None:
                decided_id, decision, destination = request.decision
                if decided_id == job.job_id:
                    request.decision = None
                    tx.audit(
                        "stacker.job.decision",
                        self._subject(job),
                        {
                            "stacker": self.stacker,
                            "job_id": job.job_id,
                            "decision": decision.name.lower(),
                            "destination": destination,
                            "exception": None if job.exception is None else int(job.exception),
                        },
                    )
            if row.state != job.state.value:
                tx.emit(_changed(job, tx.at_us))
                await self._alarm(tx, job)
                if job.state.terminal and not JobState(row.state).terminal:
                    await self._finished(tx, job, item_id)

    async def unfinished(self) -> list[Job]:
        async with self.ledger.store.read() as conn:
            rows = (
                await conn.execute(
                    select(stacker_jobs.c.body)
                    .where(
                        stacker_jobs.c.stacker == self.stacker,
                        stacker_jobs.c.room == self.room,
                        stacker_jobs.c.state.not_in(_TERMINAL_STATES),
                    )
                    .order_by(stacker_jobs.c.job_id)
                )
            ).all()
        return [job_from_json(json.loads(r.body)) for r in rows]

    # -- reading ------------------------------------------------------------------------------

    async def get(self, job_id: int) -> Job | None:
        async with self.ledger.store.read() as conn:
            body = await conn.scalar(
                select(stacker_jobs.c.body).where(
                    stacker_jobs.c.stacker == self.stacker,
                    stacker_jobs.c.room == self.room,
                    stacker_jobs.c.job_id == job_id,
                )
            )
        return None if body is None else job_from_json(json.loads(body))

    # -- internals ----------------------------------------------------------------------------

    def _subject(self, job: Job) -> str:
        return job.ref or f"stacker {self.stacker}"

    async def _alarm(self, tx: Tx, job: Job) -> None:
        """The alarm a job's new state rings, committed with the state itself, so whoever
        sees the job waiting for a person also finds the alarm."""
        alarm = job_alarm(job, self.places)
        if alarm is not None:
            await self.alarms.raise_in(
                tx,
                alarm.key,
                kind=alarm.kind,
                source=f"stacker {self.stacker}",
                severity=alarm.severity,
                subject=job.ref,
                message=alarm.message,
            )

    async def _item_id(self, conn: AsyncConnection, ref: str | None) -> int | None:
        if ref is None:
            return None
        found = await conn.scalar(select(items.c.id).where(items.c.ref == ref))
        return None if found is None else int(found)

    async def _finished(self, tx: Tx, job: Job, item_id: int | None) -> None:
        """The job's end in the ledger: where its item is now, and the audit entry."""
        tx.audit(
            "stacker.job.finished",
            self._subject(job),
            {
                "stacker": self.stacker,
                "job_id": job.job_id,
                "kind": job.kind.value,
                "state": job.state.value,
                "result": job.result,
                "source": self.places.code(job.source),
                "destination": self.places.code(job.destination),
                "read_box_id": job.read_box_id,
                "note": job.note,
            },
            outcome="ok" if job.result == "ok" else "failed",
        )
        now_at = resting_place(job)
        if now_at is None or item_id is None or job.ref is None:
            return
        code = self.places.code(now_at)
        location_id = await self.locations.id_of(tx.conn, code)
        await move(
            tx,
            item_id=item_id,
            ref=job.ref,
            to_location_id=location_id,
            to_code=code,
            source="stacker",
            room=self.room,
            details={"stacker": self.stacker, "job_id": job.job_id, "kind": job.kind.value},
        )


def resting_place(job: Job) -> CellAddress | None:
    """Where a finished job leaves its item, when the stacker established it; else None.

    A move that completed puts the box at its destination. A verify that read the expected
    tag places the item in the scanned cell (without a tag to read, a box found there could be
    any box). Anything else (rejected, cancelled, not executed, an exception's completion, an
    RFID mismatch) leaves the records as they were: the alarm asks a person to look.
    """
    if job.state is not JobState.DONE or job.completion is not CompletionCode.OK:
        return None
    if job.kind is JobKind.VERIFY:
        return job.source if job.box_id else None
    return job.destination


@dataclass(frozen=True, slots=True)
class JobAlarm:
    key: str
    kind: str
    message: str | Message
    severity: Severity


def job_alarm(job: Job, places: Places) -> JobAlarm | None:
    """The alarm a job in this state rings: waiting for a decision, unconfirmed, of unknown
    outcome, or finished in a way that needs a person; None otherwise."""
    sid = places.config.id
    words = job_words(job)
    if job.state is JobState.EXCEPTION and job.exception:
        text = exception_text(job.exception)
        return JobAlarm(
            job_alarm_key("stacker.exception", sid, job.job_id),
            "stacker.exception",
            same(
                f"{words} waits for a decision: {text}",
                say("alarm.stacker_exception", job=job_message(job), exception=exceptions(job)),
            ),
            "critical",
        )
    if job.state is JobState.UNCONFIRMED:
        timeout = f"{places.config.accept_timeout_s:g}"
        return JobAlarm(
            job_alarm_key("stacker.accept_timeout", sid, job.job_id),
            "stacker.accept_timeout",
            same(
                f"{words}: the PLC did not accept it within {timeout} s; it is not resent "
                "(decide retry or cancel)",
                say("alarm.stacker_accept_timeout", job=job_message(job), seconds=timeout),
            ),
            "warning",
        )
    if job.state is JobState.VERIFYING:
        return JobAlarm(
            job_alarm_key("stacker.outcome_unknown", sid, job.job_id),
            "stacker.outcome_unknown",
            same(
                f"{words}: outcome unknown ({job.note}); verify jobs are establishing it, "
                "it is not resent",
                say("alarm.stacker_outcome_unknown", job=job_message(job), note=job_note(job.note)),
            ),
            "warning",
        )
    if job.state.terminal and needs_a_person(job):
        why = job.note or job.result
        return JobAlarm(
            failure_key(places, job),
            "stacker.job_failed",
            same(
                f"{words} ended: {why}",
                say("alarm.stacker_job_failed", job=job_message(job), why=job_note(why)),
            ),
            "warning",
        )
    return None


def job_alarm_key(kind: str, stacker: str, job_id: int) -> str:
    return f"{kind}:{stacker}:{job_id}"


def failure_key(places: Places, job: Job) -> str:
    """One failure alarm per item (or cell): a later job that succeeds for it ends the alarm."""
    return f"stacker.job_failed:{places.config.id}:{job.ref or places.code(job.source)}"


def needs_a_person(job: Job) -> bool:
    """Whether a finished job needs a person: a verify's finding is information, a cancelled
    job was someone's choice, a recovery scan only serves its parent."""
    if job.purpose is JobPurpose.RECOVERY or job.state is JobState.CANCELLED:
        return False
    if job.kind is JobKind.VERIFY:
        return job.state in (JobState.REJECTED, JobState.UNRESOLVED)
    return job.result != "ok"


def job_words(job: Job) -> str:
    what = f"{job.kind.value} job {job.job_id}"
    return f"{what} ({job.ref})" if job.ref else what


def job_message(job: Job) -> Message:
    """``job_words`` as a message: the job's kind, number and item."""
    kind = messages.state("stacker.kind", job.kind.value)
    if job.ref:
        return say("stacker.job_ref", kind=kind, job_id=job.job_id, ref=job.ref)
    return say("stacker.job", kind=kind, job_id=job.job_id)


def exceptions(job: Job) -> tuple[Message, ...]:
    """The exception the PLC requests, flag by flag, as messages (``exception_text``'s words)."""
    bits = job.exception or ExcReq(0)
    said = [
        say(f"stacker.exception.{flag.name.lower()}")
        for flag in ExcReq
        if flag.name and flag in bits and f"stacker.exception.{flag.name.lower()}" in ENGLISH
    ]
    unknown = int(bits) & ~sum(int(flag) for flag in ExcReq if flag.name)
    if unknown:
        said.append(say("stacker.exception.unknown", bits=f"{unknown:#x}"))
    return tuple(said)


def _body(job: Job) -> str:
    return json.dumps(job_to_json(job), separators=(",", ":"), sort_keys=True)


def _changed(job: Job, at_us: int) -> StackerJobChanged:
    return StackerJobChanged(
        at_us=at_us,
        job_id=job.job_id,
        kind=job.kind.value,
        ref=job.ref,
        state=job.state.value,
        result=job.result if job.state.terminal else None,
    )
