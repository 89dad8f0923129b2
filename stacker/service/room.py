"""The stacker in the room: the controller, its journal in the store, jobs through the API.

The controller (``stacker.service.controller``) drives the PLC; its journal is the room's database
(``stacker.service.journal_store``), so every job and state change, with its consequence in the
ledger, is committed before the registers that follow from it are written. Everything the
controller reports (the link, mode, faults, timeouts, resolutions, a journal it cannot write)
arrives as typed events and becomes alarms and their clearing, metrics, the health component
and the retained ``stacker/state`` topic, in one consumer task.

The host's belief of the rack's contents is seeded from the ledger at start (items whose
current location is one of the stacker's cells) and follows the ledger afterwards: an item a
person moves into or out of a cell, or a tag bound to a stored box, updates the cell model.

A box's id on the PLC's reader is the short form of its active tag's EPC
(``stacker.registers.epc_short_form``). An untagged item travels with an empty box id: the PLC
then does no RFID check at the pick (an id made up from the reference could never be read
from the box, and every pick would end as an ID read error).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import select

from daemon import messages
from daemon.clock import seconds_to_us, us_to_iso
from daemon.config import ArchroomConfig
from daemon.device_kit import DeviceKit
from daemon.events import LocationChanged, TagBound, TagRetired
from daemon.ledger.errors import Conflict, Invalid, NotFound
from daemon.messages import same, say
from daemon.store.schema import item_locations, items, locations, tags
from stacker import events
from stacker.cells import CellAddress, Occupant
from stacker.config import StackerConfig
from stacker.handshake import DecisionRefused
from stacker.journal import Job, JobKind, JobState
from stacker.registers import ExcDecision, epc_short_form
from stacker.service.controller import (
    CommandRefused,
    InvalidJob,
    StackerController,
    StackerStatus,
    UnknownJob,
)
from stacker.service.journal_store import (
    Places,
    Request,
    SqlJournal,
    failure_key,
    job_alarm,
    job_alarm_key,
    job_message,
    job_words,
    on_behalf_of,
)
from stacker.stations import StationWait

log = logging.getLogger(__name__)
UNREACHABLE = "stacker PLC unreachable"
"""Why the stacker is down when the PLC has not said (messages: ``stacker.unreachable``)."""


# -- the service ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RackCounts:
    cells: int
    occupied: int


class StackerService:
    """One stacker of the room: jobs in, ledger records, alarms, metrics and state out."""

    STATE_PERIOD_S = 0.25

    def __init__(self, config: StackerConfig, kit: DeviceKit) -> None:
        self.config = config
        self.ledger = kit.ledger
        self.alarms = kit.alarms
        self.metrics = kit.metrics
        self.retained = kit.retained
        self.health = kit.health
        self.room = kit.ledger.room
        self.places = Places(self.room, config, config.station_cells())
        self.journal = SqlJournal(kit.ledger, kit.locations, kit.alarms, self.places)
        self._events: asyncio.Queue[events.StackerEvent] = asyncio.Queue()
        self.controller = StackerController(config, self.journal, on_event=self._events.put_nowait)
        self._down_since: float | None = time.monotonic()

    # -- start ------------------------------------------------------------------------------

    async def load(self) -> int:
        """Seed the cell model with the items the ledger places in this stacker's cells, and the
        station record with the last box a retrieval left at each station (the station sensor
        then says whether it is still there)."""
        active = tags.alias("active_tag")
        where_items = (
            item_locations.join(locations, locations.c.id == item_locations.c.location_id)
            .join(items, items.c.id == item_locations.c.item_id)
            .outerjoin(active, (active.c.item_id == items.c.id) & active.c.retired_us.is_(None))
        )
        """Where each item is, with its active tag if it has one."""
        async with self.ledger.store.read() as conn:
            rows = (
                await conn.execute(
                    select(items.c.ref, locations.c.code, active.c.epc)
                    .select_from(where_items)
                    .where(locations.c.kind == "stacker-cell", locations.c.room == self.room)
                )
            ).all()
            at_stations = (
                await conn.execute(
                    select(items.c.ref, locations.c.code, active.c.epc, item_locations.c.since_us)
                    .select_from(where_items)
                    .where(
                        locations.c.kind == "station",
                        locations.c.room == self.room,
                        item_locations.c.source == "stacker",
                    )
                    .order_by(item_locations.c.since_us)
                )
            ).all()
        for left in at_stations:  # the last box the stacker left at each station, if any
            station = self.places.cell(left.code)
            if station is not None and station.is_station:
                self.controller.stations.seed(station, Occupant(_box_id(left.epc), left.ref))
        placed = 0
        for r in rows:
            cell = self.places.is_our_cell_code(r.code)
            if cell is None or not self.controller.cells.is_valid(cell):
                log.warning("stacker %s: %s is recorded at %s, outside the configured rack",
                            self.config.id, r.ref, r.code)  # fmt: skip
                continue
            self.controller.cells.place(cell, Occupant(_box_id(r.epc), r.ref))
            placed += 1
        log.info("stacker %s: %d items in the rack", self.config.id, placed)
        return placed

    # -- what the API and other services call -------------------------------------------------

    async def submit(
        self,
        kind: str,
        *,
        actor: str,
        ref: str | None = None,
        cell: str | CellAddress | None = None,
        destination: str | CellAddress | None = None,
        station: str | None = None,
        urgent: bool = False,
    ) -> Job:
        """Queue a job; raises NotFound (unknown item), Conflict (refused: the reason in words)
        or Invalid (a malformed request)."""
        try:
            job_kind = JobKind(kind)
        except ValueError:
            raise Invalid(
                f"unknown job kind {kind!r} (retrieve, store, relocate, verify)"
            ) from None
        source = self._cell(cell, "cell") if cell is not None else None
        target = self._cell(destination, "destination") if destination is not None else None
        box_id: str | None = None
        if ref is not None:
            current, epc = await self._item(ref)
            box_id = _box_id(epc)
            in_rack = self.controller.cells.locate(ref=ref)
            if job_kind is JobKind.STORE:
                here = self.places.is_our_cell_code(current) or in_rack
                if here is not None:
                    cell = self.places.code(here)
                    raise Conflict(say("stacker.already_in", ref=ref, cell=cell))
        elif job_kind is not JobKind.VERIFY:
            raise Invalid(f"a {job_kind.value} job needs the item's ref")
        elif source is None:
            raise Invalid("a verify job needs the item's ref or a cell")
        if source is not None and source.is_station and job_kind is not JobKind.STORE:
            raise Invalid(f"{self.places.code(source)} is a station, not a rack cell")
        if target is not None and target.is_station:
            raise Invalid(f"{self.places.code(target)} is a station; name it as the station")
        with on_behalf_of(Request(actor)):
            try:
                return await self.controller.submit(
                    job_kind,
                    ref=ref,
                    box_id=box_id,
                    source=source,
                    destination=target,
                    station=station,
                    urgent=urgent,
                )
            except CommandRefused as e:
                raise Conflict(e.words) from None
            except InvalidJob as e:
                raise Invalid(str(e)) from None

    async def queue_verify(
        self, cell: CellAddress | str, *, actor: str = "archroom", urgent: bool = False
    ) -> Job:
        """Queue a verify (scan) of one rack cell, e.g. for an inventory campaign.

        The scan expects the box the host believes is in the cell (its tag's short form), so a
        different or missing box comes back as the job's result (``id_mismatch``,
        ``empty_retrieval``); a scan that reads the expected tag confirms the item's location.
        Raises Conflict when the stacker refuses commands now or the cell has a job pending,
        Invalid for a cell that is not in this stacker's rack.
        """
        return await self.submit("verify", actor=actor, cell=cell, urgent=urgent)

    async def decide(
        self,
        job_id: int,
        decision: str,
        *,
        actor: str,
        destination: str | CellAddress | None = None,
    ) -> Job:
        """An operator's answer to a job's exception (retry | cancel | redirect), or the
        cancellation of a queued or running job. Written to the journal (audited), then to
        EXC_DECISION. Raises NotFound, Conflict (does not apply now) or Invalid."""
        try:
            chosen = ExcDecision[decision.strip().upper()]
        except KeyError:
            raise Invalid(f"unknown decision {decision!r} (retry, cancel, redirect)") from None
        if chosen is ExcDecision.NONE:
            raise Invalid("decision must be retry, cancel or redirect")
        target = self._cell(destination, "destination") if destination is not None else None
        if target is not None and chosen is not ExcDecision.REDIRECT:
            raise Invalid("only a redirect takes a destination")
        if target is not None and target.is_station:
            raise Invalid("a redirect goes to a rack cell, not a station")
        code = None if target is None else self.places.code(target)
        request = Request(actor, (job_id, chosen, code))
        with on_behalf_of(request):
            try:
                job = await self.controller.decide(job_id, chosen, target)
            except UnknownJob as e:
                if await self.journal.get(job_id) is not None:
                    raise Conflict(say("stacker.job_finished", job_id=job_id)) from None
                raise NotFound(str(e)) from None
            except DecisionRefused as e:
                raise Conflict(messages.decision_words(str(e))) from None
            except CommandRefused as e:
                raise Conflict(e.words) from None
            except InvalidJob as e:
                raise Invalid(str(e)) from None
        return await self.journal.get(job_id) or job

    async def reset_faults(self, *, actor: str) -> None:
        """Pulse HOST_CTRL.fault_reset; the PLC clears a latched fault once it is safe."""
        try:
            await self.controller.reset_faults()
        except CommandRefused as e:
            raise Conflict(e.words) from None
        async with self.ledger.transaction(actor) as tx:
            tx.audit(
                "stacker.fault_reset", f"stacker {self.config.id}", {"stacker": self.config.id}
            )

    async def job(self, job_id: int) -> Job:
        job = await self.journal.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id} on stacker {self.config.id}")
        return job

    def status(self) -> StackerStatus:
        return self.controller.status()

    def waiting_for(self, job: Job) -> StationWait | None:
        """Why a queued job is held back (its station is occupied); None if it is not."""
        return self.controller.waiting().get(job.job_id)

    def decisions(self, job: Job) -> tuple[str, ...]:
        """The decisions the job accepts now (empty unless it is in flight and waiting)."""
        core = self.controller.core
        if core.job is None or core.job.job_id != job.job_id:
            return ()
        if job.state is JobState.EXCEPTION and job.exception is not None:
            return tuple(d.name.lower() for d in core.allowed_decisions(job.exception))
        if job.state is JobState.UNCONFIRMED:
            return ("retry", "cancel")
        return ()

    def rack(self) -> RackCounts:
        g = self.controller.cells.geometry
        return RackCounts(
            g.aisles * g.sides * g.bays * g.levels * g.depths,
            len(self.controller.cells.contents()),
        )

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """The controller, the consumer of its events, the ledger follower and the state."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.controller.run(), name=f"stacker:{self.config.id}:plc")
            group.create_task(self._consume(), name=f"stacker:{self.config.id}:events")
            group.create_task(self._follow_ledger(), name=f"stacker:{self.config.id}:ledger")
            group.create_task(self._publish_state(), name=f"stacker:{self.config.id}:state")

    async def _consume(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._on(event)
            except Exception:
                log.exception("stacker %s: could not record %s", self.config.id,
                              type(event).__name__)  # fmt: skip
            self._state()

    async def _publish_state(self) -> None:
        while True:
            self._state()
            status = self.controller.status()
            grace = max(10.0, 3 * self.config.heartbeat_stale_s)
            if (
                not status.up
                and self._down_since is not None
                and time.monotonic() - self._down_since >= grace
            ):
                await self._raise_down(status.down_reason or UNREACHABLE)
            await asyncio.sleep(self.STATE_PERIOD_S)

    def _state(self) -> None:
        status = self.controller.status()
        if status.up:
            self._down_since = None
        elif self._down_since is None:
            self._down_since = time.monotonic()
        self.metrics.stacker_up.set(1 if status.up else 0)
        if status.mode is not None:
            self.metrics.stacker_mode.set(status.mode)
        if not status.up:
            self.health.set("stacker", "degraded", status.down_reason or "stacker PLC down")
        elif status.blocked is not None:
            self.health.set("stacker", "degraded", status.blocked)
        elif status.refusal is not None:
            self.health.set("stacker", "degraded", status.refusal)
        elif status.waiting:
            waits = sorted({wait.text for wait in status.waiting.values()})
            self.health.set(
                "stacker",
                "ok",
                f"{status.mode_name}; {len(status.waiting)} job(s): {'; '.join(waits)}",
            )
        else:
            self.health.set("stacker", "ok", f"{status.mode_name}, ready for jobs")
        self.retained.set("stacker/state", self.state_payload(status))

    def state_payload(self, status: StackerStatus) -> dict[str, object]:
        """The retained ``stacker/state`` message."""
        active = status.active_job
        return {
            "stacker": status.id,
            "up": status.up,
            "connected": status.connected,
            "down_reason": status.down_reason,
            "refusal": status.refusal,
            "mode": status.mode,
            "mode_name": status.mode_name,
            "status": list(status.status),
            "faults": list(status.faults),
            "fault_code": status.fault_code,
            "position": None
            if status.position is None
            else dict(zip(("aisle", "side", "bay", "level", "fork"), status.position, strict=True)),
            "active_job": None
            if active is None
            else {
                "job_id": active.job_id,
                "kind": active.kind.value,
                "state": active.state.value,
                "ref": active.ref,
                "source": self.places.code(active.source),
                "destination": self.places.code(active.destination),
            },
            "queue_length": len(status.queue),
            "blocked": status.blocked,
            "waiting": {str(job_id): wait.text for job_id, wait in status.waiting.items()},
        }

    # -- events -> alarms and metrics ---------------------------------------------------------

    async def _on(self, event: events.StackerEvent) -> None:
        sid = self.config.id
        source = f"stacker {sid}"
        if isinstance(event, events.StackerUp):
            await self.alarms.clear(f"stacker.down:{sid}", reason="the stacker PLC answers again")
        elif isinstance(event, events.StackerDown):
            await self._raise_down(event.reason)
        elif isinstance(event, events.ModeChanged):
            log.info("stacker %s: mode %s", sid, event.mode_name)
        elif isinstance(event, events.FaultRaised):
            self.metrics.stacker_faults.labels(code=event.kind).inc()
            await self.alarms.raise_(
                f"stacker.fault:{sid}:{event.kind}",
                kind="stacker.fault",
                source=source,
                severity="critical" if event.kind in ("e_stop", "door_open") else "warning",
                message=say(
                    "alarm.stacker_fault",
                    stacker=sid,
                    description=messages.fault(event.description),
                ),
            )
        elif isinstance(event, events.FaultCleared):
            await self.alarms.clear(f"stacker.fault:{sid}:{event.kind}", reason="cleared")
        elif isinstance(event, events.JobAccepted):
            await self.alarms.clear(
                job_alarm_key("stacker.accept_timeout", sid, event.job.job_id),
                reason="accepted late",
            )
        elif isinstance(event, events.JobException):
            for flag in event.exception:
                if flag.name:
                    self.metrics.stacker_faults.labels(code=flag.name.lower()).inc()
            await self._ensure_job_alarm(event.job)
        elif isinstance(event, events.ExceptionCleared):
            await self.alarms.clear(
                job_alarm_key("stacker.exception", sid, event.job.job_id),
                reason=f"decision: {event.decision.name.lower()}",
            )
        elif isinstance(event, events.AcceptTimeout):
            self.metrics.stacker_faults.labels(code="accept_timeout").inc()
            await self._ensure_job_alarm(event.job)
        elif isinstance(event, events.OutcomeUnknown):
            await self._ensure_job_alarm(event.job)
        elif isinstance(event, events.ExecutionTimeout):
            self.metrics.stacker_faults.labels(code="execution_timeout").inc()
            seconds = f"{self.config.execution_timeout_s:g}"
            await self.alarms.raise_(
                job_alarm_key("stacker.job_timeout", sid, event.job.job_id),
                kind="stacker.job_timeout",
                source=source,
                subject=event.job.ref,
                message=same(
                    f"{job_words(event.job)} is still running after {seconds} s",
                    say("alarm.stacker_job_timeout", job=job_message(event.job), seconds=seconds),
                ),
            )
        elif isinstance(event, events.IdMismatch):
            self.metrics.stacker_faults.labels(code="id_mismatch").inc()
        elif isinstance(event, events.ForeignResultAcknowledged):
            await self.alarms.raise_(
                f"stacker.foreign_result:{sid}",
                kind="stacker.foreign_result",
                source=source,
                message=say(
                    "alarm.stacker_foreign_result",
                    stacker=sid,
                    job_id=event.job_id,
                    code=event.completion_code,
                ),
            )
        elif isinstance(event, events.JobFinished):
            await self._finished(event)
        elif isinstance(event, events.JournalUnavailable):
            self.metrics.stacker_faults.labels(code="journal_unavailable").inc()
            await self.alarms.raise_(
                f"stacker.journal:{sid}",
                kind="stacker.journal",
                source=source,
                severity="critical",
                message=say("alarm.stacker_journal", stacker=sid, reason=event.reason),
            )
        elif isinstance(event, events.StationMismatch):
            self.metrics.stacker_faults.labels(code="station_mismatch").inc()
            await self.alarms.raise_(
                f"stacker.station_mismatch:{sid}:{event.station}",
                kind="stacker.station_mismatch",
                source=source,
                message=same(
                    f"stacker {sid}: {event.message}; retrievals to it wait until it is clear",
                    say("alarm.stacker_station_mismatch", stacker=sid, station=event.station),
                ),
            )
        elif isinstance(event, events.StationMismatchCleared):
            await self.alarms.clear(
                f"stacker.station_mismatch:{sid}:{event.station}", reason=event.reason
            )
        elif isinstance(event, events.JournalRestored):
            await self.alarms.clear(
                f"stacker.journal:{sid}",
                reason=f"journal written again ({event.written} held record(s))",
            )

    async def _finished(self, event: events.JobFinished) -> None:
        job = event.job
        sid = self.config.id
        self.metrics.stacker_jobs.labels(kind=job.kind.value, result=job.result).inc()
        if event.duration_s is not None:
            self.metrics.stacker_job_duration.observe(event.duration_s)
        reason = f"job {job.job_id} ended: {job.result}"
        for kind in (
            "stacker.exception",
            "stacker.accept_timeout",
            "stacker.job_timeout",
            "stacker.outcome_unknown",
        ):
            await self.alarms.clear(job_alarm_key(kind, sid, job.job_id), reason=reason)
        if job.result == "ok":
            await self.alarms.clear(
                failure_key(self.places, job), reason=f"job {job.job_id} completed for it"
            )
            await self.alarms.clear(f"stacker.foreign_result:{sid}", reason=reason)
        else:
            await self._ensure_job_alarm(job)

    async def _raise_down(self, reason: str) -> None:
        await self.alarms.raise_(
            f"stacker.down:{self.config.id}",
            kind="stacker.down",
            source=f"stacker {self.config.id}",
            severity="critical",
            message=say(
                "alarm.stacker_down", stacker=self.config.id, reason=messages.stacker_words(reason)
            ),
        )

    async def _ensure_job_alarm(self, job: Job) -> None:
        """Raise the job's alarm unless active. The journal raised it with the state change;
        this repeats it in event order, after any clearing of an earlier occurrence."""
        alarm = job_alarm(job, self.places)
        if alarm is not None:
            await self.alarms.raise_(
                alarm.key,
                kind=alarm.kind,
                source=f"stacker {self.config.id}",
                severity=alarm.severity,
                subject=job.ref,
                message=alarm.message,
            )

    # -- following the ledger -------------------------------------------------------------------

    async def _follow_ledger(self) -> None:
        """Keep the cell model in step with what people and other services record."""
        subscription = self.ledger.bus.subscribe(LocationChanged, TagBound, TagRetired)
        try:
            while True:
                event = await subscription.get()
                if not isinstance(event, (LocationChanged, TagBound, TagRetired)):
                    continue
                try:
                    await self._ledger_event(event)
                except Exception:
                    log.exception("stacker %s: could not follow %s", self.config.id,
                                  type(event).__name__)  # fmt: skip
        finally:
            subscription.close()

    async def _ledger_event(self, event: LocationChanged | TagBound | TagRetired) -> None:
        cells = self.controller.cells
        if isinstance(event, LocationChanged):
            if event.source == "stacker":
                return  # the controller already applied its own job's result
            for cell, occupant in list(cells.contents().items()):
                if occupant.ref == event.ref:
                    cells.clear(cell)
            arrived = self.places.is_our_cell_code(event.to_location)
            if arrived is not None and cells.is_valid(arrived):
                _, epc = await self._item(event.ref)
                cells.place(arrived, Occupant(_box_id(epc), event.ref))
                log.info("stacker %s: %s recorded in cell %s by %s", self.config.id, event.ref,
                         arrived, event.source)  # fmt: skip
            return
        where = cells.locate(ref=event.ref)
        if where is not None:
            box = _box_id(event.epc) if isinstance(event, TagBound) else ""
            cells.place(where, Occupant(box, event.ref))

    # -- helpers ------------------------------------------------------------------------------

    def _cell(self, value: str | CellAddress, what: str) -> CellAddress:
        cell = value if isinstance(value, CellAddress) else self.places.cell(value)
        if cell is None or not self.controller.cells.is_valid(cell):
            raise Invalid(f"{what}: {value} is not a cell or station of stacker {self.config.id}")
        return cell

    async def _item(self, ref: str) -> tuple[str | None, str | None]:
        """(current location code, active tag EPC) of a catalogued item; NotFound otherwise."""
        active = tags.alias("active_tag")
        async with self.ledger.store.read() as conn:
            row = (
                await conn.execute(
                    select(items.c.id, locations.c.code, active.c.epc)
                    .select_from(
                        items.outerjoin(item_locations, item_locations.c.item_id == items.c.id)
                        .outerjoin(locations, locations.c.id == item_locations.c.location_id)
                        .outerjoin(
                            active,
                            (active.c.item_id == items.c.id) & active.c.retired_us.is_(None),
                        )
                    )
                    .where(items.c.ref == ref)
                )
            ).first()
        if row is None:
            raise NotFound(f"no catalogue record with ref {ref!r}")
        return row.code, row.epc


def _box_id(epc: str | None) -> str:
    return "" if not epc else epc_short_form(epc)


def iso_seconds(t: float | None) -> str | None:
    """A job's wall-clock seconds as ISO 8601 UTC (None stays None)."""
    return None if t is None else us_to_iso(seconds_to_us(t))


async def build_stacker(config: ArchroomConfig, kit: DeviceKit) -> StackerService | None:
    """The room's stacker service, its rack seeded from the ledger; None without ``[stacker]``."""
    if config.stacker is None:
        kit.health.set("stacker", "disabled", "no [stacker] section in the configuration")
        return None
    kit.health.set("stacker", "starting", config.stacker.url)
    service = StackerService(config.stacker, kit)
    await service.load()
    return service
