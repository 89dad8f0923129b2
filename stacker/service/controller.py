"""The asyncio shell around the stacker handshake: it carries out the core's actions in order.

One task (:meth:`StackerController.run`) owns the Modbus TCP connection (``plc_link``): it
writes the host heartbeat (at least once a second), polls the input registers, feeds them to
the pure :class:`~stacker.handshake.Handshake` and performs the actions it returns, in order
(journal first, then registers, then events). Requests from the API (:meth:`submit`,
:meth:`decide`) only touch the journal and the queue, or go through the same lock as the
poller, so the registers are never written by two tasks at once.

Jobs run one at a time per stacker (``job_queue``), planned against the host's occupancy model
(``planning``, kept in step by ``occupancy``); a retrieval from a double-deep inner cell behind
an occupied outer cell is preceded by a *shuffle* move of the outer box. Journal records that
cannot be written are held and retried (``held_journal``); after a restart the journal is
compared with the PLC before anything is sent (:mod:`stacker.recovery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from drivers.cancellation import raise_if_cancelled
from drivers.reconnect import Backoff
from stacker.cells import CellAddress, CellModel, Occupant
from stacker.config import StackerConfig
from stacker.describe import exception_text, mode_name, status_words
from stacker.events import (
    JobFinished,
    JobQueued,
    OutcomeUnknown,
    StackerEvent,
    StationBoxTaken,
    StationMismatch,
    StationMismatchCleared,
)
from stacker.handshake import (
    Action,
    DecisionRefused,
    Handshake,
    Persist,
    Phase,
    Timing,
    Write,
)
from stacker.journal import Job, JobKind, JobPurpose, JobState, Journal
from stacker.recovery import Recovery, assess, resolve, scan_plan
from stacker.registers import ExcDecision, Snapshot, StationFlags, decode_inputs, pack_box_id
from stacker.service.errors import JOURNAL_HELD, CommandRefused, InvalidJob, UnknownJob
from stacker.service.held_journal import HeldJournal
from stacker.service.job_queue import JobQueue
from stacker.service.occupancy import apply_result, note_obstacle
from stacker.service.planning import Planner
from stacker.service.plc_link import LinkError, PlcLink
from stacker.service.status import StackerMetrics, StackerStatus, fault_words
from stacker.stations import (
    BoxTaken,
    MismatchCleared,
    MismatchRaised,
    StationBoard,
    StationChange,
    StationWait,
)

__all__ = [
    "CommandRefused",
    "InvalidJob",
    "StackerController",
    "StackerMetrics",
    "StackerStatus",
    "UnknownJob",
]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
EventSink = Callable[[StackerEvent], None]


class StackerController:
    """One stacker: its Modbus session, job queue and journal."""

    def __init__(
        self,
        config: StackerConfig,
        journal: Journal,
        *,
        on_event: EventSink | None = None,
        occupancy: Iterable[tuple[CellAddress, Occupant]] = (),
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        self.config = config
        self.journal = journal
        self._on_event = on_event
        self._clock = clock
        self._wall = wall_clock
        stations = config.station_cells()
        self.cells = CellModel(config.geometry, stations)
        self.default_station = config.default_station or config.stations[0].name
        self.stations = StationBoard(
            stations, sensed=config.stations[0].name, grace_s=config.station_grace_s
        )
        """What stands at each station; IR27 reports the first configured station."""
        for cell, occupant in occupancy:
            if cell.is_station:
                self.stations.seed(cell, occupant)
            else:
                self.cells.place(cell, occupant)
        self.core = Handshake(
            config.id,
            Timing(
                heartbeat_stale_s=config.heartbeat_stale_s,
                accept_timeout_s=config.accept_timeout_s,
                execution_timeout_s=config.execution_timeout_s,
            ),
            clock,
            wall_clock,
            verify_rfid=config.verify_rfid,
        )
        self.metrics = StackerMetrics()
        self.planner = Planner(config.id, self.cells, self.default_station)
        self._jobs = JobQueue()
        self._held = HeldJournal(
            config.id, journal, self.metrics, clock=clock, wall_clock=wall_clock, emit=self._emit
        )
        self._io_lock = asyncio.Lock()
        self._submit_lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._link: PlcLink | None = None
        self._recovered = False
        self._beat = 0

    # -- public API -----------------------------------------------------------------------------

    async def submit(
        self,
        kind: JobKind | str,
        *,
        ref: str | None = None,
        box_id: str | None = None,
        source: CellAddress | None = None,
        destination: CellAddress | None = None,
        station: str | None = None,
        urgent: bool = False,
    ) -> Job:
        """Queue a job; raise :class:`CommandRefused` (409) or :class:`InvalidJob` (422).

        ``retrieve`` takes the item's current cell (by ``ref`` or ``box_id``) to a station;
        ``store`` takes a box from a station to ``destination`` or to a free cell chosen from the
        occupancy model; ``relocate`` moves a box between cells; ``verify`` scans a cell.
        """
        try:
            kind = JobKind(kind)
        except ValueError:
            raise InvalidJob(
                f"unknown job kind {kind!r} (retrieve, store, relocate, verify)"
            ) from None
        refusal = self._refusal()
        if refusal is not None:
            raise CommandRefused(refusal)
        if box_id:
            try:
                pack_box_id(box_id)
            except ValueError as e:
                raise InvalidJob(str(e)) from None
        async with self._submit_lock:
            job_id = await self.journal.next_job_id()
            job = self.planner.plan(
                job_id,
                kind,
                ref=ref,
                box_id=box_id,
                source=source,
                destination=destination,
                station=station,
                urgent=urgent,
                pending=self._pending(),
                now=self._wall(),
            )
            if job.destination != job.source:
                self.cells.reserve(job.destination, job_id)
            try:
                await self.journal.record(job)
            except BaseException:
                self.cells.release(job_id)
                raise
            self._jobs.add(job)
        self._emit(JobQueued(self.config.id, self._wall(), job))
        self._kick.set()
        return job

    async def decide(
        self,
        job_id: int,
        decision: ExcDecision | str,
        new_destination: CellAddress | None = None,
    ) -> Job:
        """Answer an exception (retry | cancel | redirect), cancel a queued or running job.

        Raises :class:`UnknownJob`, :class:`~stacker.handshake.DecisionRefused` (409) or
        :class:`CommandRefused` when the PLC is not reachable.
        """
        if isinstance(decision, str):
            try:
                decision = ExcDecision[decision.upper()]
            except KeyError:
                raise InvalidJob(
                    f"unknown decision {decision!r} (retry, cancel, redirect)"
                ) from None
        if decision is ExcDecision.NONE:
            raise InvalidJob("decision must be retry, cancel or redirect")
        if self.journal_held:
            raise CommandRefused(JOURNAL_HELD)
        queued = self._jobs.queued(job_id)
        if queued is not None:
            if decision is not ExcDecision.CANCEL:
                raise DecisionRefused(f"job {job_id} is queued: it can only be cancelled")
            cancelled = replace(
                queued,
                state=JobState.CANCELLED,
                updated_at=self._wall(),
                finished_at=self._wall(),
                note="cancelled before it was sent",
            )
            await self.journal.update(cancelled)
            self._jobs.remove(queued)
            await self._handle(
                JobFinished(self.config.id, self._wall(), cancelled, cancelled.note, None)
            )
            return cancelled
        async with self._io_lock:
            job = self.core.job
            if job is None or job.job_id != job_id:
                if self._jobs.known(job_id):
                    raise DecisionRefused(f"job {job_id} is not waiting for a decision")
                raise UnknownJob(f"no job {job_id} on stacker {self.config.id}")
            if self._link is None:
                raise CommandRefused("stacker PLC is not connected")
            destination = None
            if decision is ExcDecision.REDIRECT:
                destination = self.planner.redirect_destination(job, new_destination)
            actions = self.core.decide(job_id, decision, destination)
            if destination is not None:
                note_obstacle(self.cells, job)
                self.cells.reserve(destination, job_id)
            await self._perform(actions)
            return self.core.job or job

    async def reset_faults(self) -> None:
        """Pulse HOST_CTRL.fault_reset (the PLC clears a latched fault once it is safe)."""
        async with self._io_lock:
            if self._link is None:
                raise CommandRefused("stacker PLC is not connected")
            if self.journal_held:
                raise CommandRefused(JOURNAL_HELD)
            await self._perform(self.core.reset_faults())

    def job(self, job_id: int) -> Job | None:
        return self._jobs.job(job_id)

    @property
    def journal_held(self) -> int:
        """How many journal records wait to be written (0: the journal is up to date)."""
        return self._held.held

    def queue(self) -> tuple[Job, ...]:
        return self._jobs.snapshot()

    def status(self) -> StackerStatus:
        snap = self.core.snapshot
        in_flight = self.core.phase in (Phase.AWAIT_ACCEPT, Phase.RUNNING)
        active = self.core.job if in_flight else None
        blocked = self._blocked()
        return StackerStatus(
            id=self.config.id,
            connected=self._link is not None,
            up=self.core.up,
            down_reason=None if self.core.up else self.core.down_reason,
            refusal=self._refusal(),
            mode=None if snap is None else snap.mode,
            mode_name=None if snap is None else mode_name(snap.mode),
            status=() if snap is None else tuple(status_words(snap.status)),
            faults=fault_words(snap),
            fault_code=0 if snap is None else snap.fault_code,
            warning_code=0 if snap is None else snap.warning_code,
            position=None if snap is None else snap.position,
            plc_heartbeat_age_s=self.core.heartbeat_age(),
            active_job=active,
            queue=self._jobs.snapshot(),
            waiting=self.waiting(),
            blocked=blocked,
            blocked_job=self.core.job.job_id if blocked and self.core.job else None,
            stations=self.stations.views(),
        )

    def _blocked(self) -> str | None:
        """Why the queue cannot move until a person decides (None: it can)."""
        job = self.core.job
        if job is None or self.core.phase not in (Phase.AWAIT_ACCEPT, Phase.RUNNING):
            return None
        behind = len(self._jobs)
        queued = f"; {behind} queued job(s) wait behind it" if behind else ""
        if job.state is JobState.EXCEPTION and job.exception:
            choices = ", ".join(d.name.lower() for d in self.core.allowed_decisions(job.exception))
            return (
                f"job {job.job_id} waits for a decision ({exception_text(job.exception)}):"
                f" {choices}{queued}"
            )
        if job.state is JobState.UNCONFIRMED:
            return (
                f"job {job.job_id} was not confirmed by the PLC and waits for a decision:"
                f" retry, cancel{queued}"
            )
        return None

    # -- the connection task --------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, poll, heartbeat and dispatch until cancelled; reconnects with backoff."""
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s)
        while True:
            raise_if_cancelled()
            try:
                await self._session(backoff)
                reason = "stacker PLC session ended"
            except LinkError as e:
                reason = str(e)
            except Exception as e:  # a journal or consumer failure must not end the task
                log.exception("stacker %s: session failed", self.config.id)
                reason = f"stacker session failed: {e}"

            self.metrics.reconnects_total += 1
            backoff.failed(log, "stacker %s: %s; reconnecting", self.config.id, reason)
            async with self._io_lock:
                self.stations.link_lost()
                await self._perform(self.core.link_lost(reason))
                if self.journal_held:  # the journal need not wait for the PLC to come back
                    await self._write_held()
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, backoff: Backoff) -> None:
        config = self.config
        link = PlcLink(config, self.metrics)
        try:
            await link.connect()
            self._link = link
            resynced = False
            last_beat = float("-inf")
            while True:
                raise_if_cancelled()
                async with self._io_lock:
                    now = self._clock()
                    if now - last_beat >= config.heartbeat_interval_s:
                        self._beat = (self._beat + 1) & 0xFFFF
                        await link.write(self.core.heartbeat(self._beat))
                        last_beat = now
                    if self._held.due(now):
                        await self._write_held()
                    snap = decode_inputs(await link.read_inputs())
                    await self._perform(self.core.observe(snap))
                    self._watch_stations(snap)
                    if self.core.up and not resynced:
                        resynced = True
                        backoff.recovered(log, "stacker %s: PLC link up again", config.id)
                        if self._recovered:
                            await self._perform(self.core.resync_writes())
                        else:
                            await self._recover()
                    if await self._dispatch():
                        continue  # read the answer to the strobe at once
                fast = self.core.phase is Phase.AWAIT_ACCEPT
                delay = config.fast_poll_interval_s if fast else config.poll_interval_s
                if self.journal_held:
                    delay = min(delay, max(0.0, self._held.retry_at - now))
                delay = min(delay, max(0.0, last_beat + config.heartbeat_interval_s - now))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._kick.wait()
                self._kick.clear()
        finally:
            self._link = None
            link.close()

    async def _write(self, action: Write) -> None:
        if self._link is None:
            raise LinkError("stacker PLC is not connected")
        await self._link.write(action)

    # -- performing the core's actions ---------------------------------------------------------

    async def _perform(self, actions: list[Action]) -> None:
        """Journal, registers, events, in order. After a failed write the remaining writes are
        skipped (the core repeats the idempotent ones) but records and events still happen,
        because the core has already moved on; then the link error is raised. While journal
        records are held no register is written: what they would acknowledge waits."""
        link_error: LinkError | None = None
        for action in actions:
            if isinstance(action, Persist):
                await self._held.save(action.job)
                self._jobs.track(action.job)
            elif isinstance(action, Write):
                if self.journal_held:
                    continue  # repeated by the core, or by resync_writes once written
                if link_error is None:
                    try:
                        await self._write(action)
                    except LinkError as e:
                        link_error = e
            else:
                await self._handle(action.event)
        if link_error is not None:
            raise link_error

    async def _dispatch(self) -> bool:
        """Send the next job if the stacker can take it; True if a strobe was written."""
        while self._jobs and self.core.can_send() and not self.journal_held:
            ready = self._next_job()
            if ready is None:
                return False  # every queued job waits for its station
            job = ready
            blocker = self.cells.blocker(job.source) if job.kind is not JobKind.STORE else None
            if blocker is not None and job.purpose is not JobPurpose.SHUFFLE:
                shuffle = await self._plan_shuffle(job, blocker)
                if shuffle is None:
                    continue
                job = shuffle
            else:
                self._jobs.remove(job)
            actions = self.core.send(job)
            persist, data, strobe = actions[0], actions[1:-1], actions[-1]
            try:
                await self._perform([persist])
                if self._held.held:  # not recorded as sending: it is not sent
                    self._jobs.add(job, front=True)
                    await self._perform(self.core.send_failed())
                    return False
                await self._perform(data)
            except LinkError:
                await self._perform(self.core.send_failed())
                self._jobs.add(job, front=True)
                raise
            except Exception:
                self._jobs.add(job, front=True)
                await self._perform(self.core.send_failed())
                raise
            await self._perform([strobe])
            return True
        return False

    async def _plan_shuffle(self, job: Job, blocker: CellAddress) -> Job | None:
        """A recorded move of the box in front of ``job``'s inner cell (None: ``job`` failed)."""
        occupant = self.cells.occupant(blocker) or Occupant()
        free = self.cells.choose_free(blocker, exclude=(job.source,))
        if free is None:
            self._jobs.remove(job)
            await self._finish_host_side(
                job, JobState.REJECTED, "no free cell for the shuffle move it needs"
            )
            return None
        shuffle_id = await self.journal.next_job_id()
        shuffle = Job(
            job_id=shuffle_id,
            kind=JobKind.RELOCATE,
            source=blocker,
            destination=free,
            ref=occupant.ref,
            box_id=occupant.box_id,
            urgent=job.urgent,
            purpose=JobPurpose.SHUFFLE,
            parent_id=job.job_id,
            created_at=self._wall(),
            updated_at=self._wall(),
        )
        self.cells.reserve(free, shuffle_id)
        try:
            await self.journal.record(shuffle)
        except BaseException:
            self.cells.release(shuffle_id)
            raise
        self._jobs.track(shuffle)
        self._emit(JobQueued(self.config.id, self._wall(), shuffle))
        return shuffle

    # -- the stations: what stands there, and the retrievals waiting for them -----------------

    def waiting(self) -> dict[int, StationWait]:
        """Queued jobs held back until their station is clear, and why."""
        return {job.job_id: wait for job in self._jobs if (wait := self._station_wait(job))}

    def _station_wait(self, job: Job) -> StationWait | None:
        if not job.destination.is_station or job.source.is_station:
            return None
        return self.stations.waiting_for(job.destination)

    def _next_job(self) -> Job | None:
        """The first queued job that can go now (a job whose station is occupied waits)."""
        return next((job for job in self._jobs if self._station_wait(job) is None), None)

    def _watch_stations(self, snap: Snapshot) -> None:
        """Reconcile the station record with the PLC's station sensor (IR27 b0)."""
        job = self.core.job
        in_flight = job is not None and self.core.phase in (Phase.AWAIT_ACCEPT, Phase.RUNNING)
        queued = list(self._jobs)
        changes = self.stations.observe(
            StationFlags.OCCUPIED in snap.station,
            self._clock(),
            in_motion=(job.source, job.destination) if in_flight and job is not None else (),
            to_be_stored=[j.source for j in queued if j.source.is_station],
            wanted=[j.destination for j in queued if self._station_wait(j) is not None],
        )
        for change in changes:
            self._station_changed(change)

    def _station_changed(self, change: StationChange) -> None:
        sid, now = self.config.id, self._wall()
        if isinstance(change, BoxTaken):
            box = change.box
            what = box.ref or box.box_id or "a box"
            log.info("stacker %s: %s taken out of station %s", sid, what, change.station)
            self._emit(StationBoxTaken(sid, now, change.station, box.box_id, box.ref, box.job_id))
        elif isinstance(change, MismatchRaised):
            log.warning("stacker %s: %s", sid, change.message)
            self._emit(StationMismatch(sid, now, change.station, change.message))
        elif isinstance(change, MismatchCleared):
            self._emit(StationMismatchCleared(sid, now, change.station, change.reason))

    # -- recovery -------------------------------------------------------------------------------

    async def _recover(self) -> None:
        snap = self.core.snapshot
        assert snap is not None
        await self._perform(self.core.startup_writes())
        jobs = await self.journal.unfinished()
        plans = {job.job_id: assess(job, snap) for job in jobs}
        for job in jobs:
            self._jobs.track(job)
        adopted = False
        busy_parents = {
            job.parent_id
            for job in jobs
            if job.purpose is JobPurpose.RECOVERY
            and plans[job.job_id] in (Recovery.ADOPT, Recovery.REQUEUE)
        }
        for job in jobs:
            plan = plans[job.job_id]
            if plan is Recovery.ADOPT and adopted:
                plan = Recovery.VERIFY  # cannot happen with one job at a time; be safe anyway
            adopted = adopted or plan is Recovery.ADOPT
            log.info("stacker %s: journal job %d (%s): %s", self.config.id, job.job_id,
                     job.state.value, plan.value)  # fmt: skip
            await self._recover_job(job, plan, verifying=job.job_id in busy_parents)
        self.core.recovered = True
        self._recovered = True

    async def _recover_job(self, job: Job, plan: Recovery, *, verifying: bool) -> None:
        if plan is Recovery.REQUEUE:
            if job.destination != job.source:
                self.cells.reserve(job.destination, job.job_id)
            self._jobs.add(job)
        elif plan is Recovery.ADOPT:
            if job.destination != job.source:
                self.cells.reserve(job.destination, job.job_id)
            await self._perform(self.core.adopt(job))
        elif plan is Recovery.SUPERSEDE:
            superseded = replace(
                job,
                state=JobState.CANCELLED,
                updated_at=self._wall(),
                note="interrupted verify; its parent is verified again",
            )
            await self.journal.update(superseded)
            self._jobs.track(superseded)
        elif not verifying:  # unless a verify of it is already queued or running
            if job.state is not JobState.VERIFYING:
                job = replace(
                    job,
                    state=JobState.VERIFYING,
                    updated_at=self._wall(),
                    note="outcome unknown after restart",
                )
                await self.journal.update(job)
                self._jobs.track(job)
                self._emit(OutcomeUnknown(self.config.id, self._wall(), job))
            await self._enqueue_verify(job, scan_plan(job)[0])

    async def _enqueue_verify(self, parent: Job, cell: CellAddress) -> None:
        if self.journal_held:
            self._held.hold_verify(parent, cell)
            return
        try:
            await self._record_verify(parent, cell)
        except Exception as e:
            self._held.hold_verify(parent, cell)
            self._held.failed(e)

    async def _record_verify(self, parent: Job, cell: CellAddress) -> None:
        verify_id = await self.journal.next_job_id()
        verify = Job(
            job_id=verify_id,
            kind=JobKind.VERIFY,
            source=cell,
            destination=cell,
            ref=parent.ref,
            box_id=parent.box_id,
            urgent=True,
            purpose=JobPurpose.RECOVERY,
            parent_id=parent.job_id,
            created_at=self._wall(),
            updated_at=self._wall(),
        )
        await self.journal.record(verify)
        self._jobs.add(verify)
        self._emit(JobQueued(self.config.id, self._wall(), verify))

    # -- the journal, and holding its records while it cannot be written -------------------------

    async def _write_held(self) -> None:
        """Write the held records in order; when all are written, repeat the skipped writes."""
        if not await self._held.write_held(self._record_verify):
            return
        if self._link is not None:  # else the next session resynchronises anyway
            self.core.rewrite_soon()
            await self._perform(self.core.resync_writes())

    # -- events and bookkeeping -----------------------------------------------------------------

    async def _handle(self, event: StackerEvent) -> None:
        if isinstance(event, JobFinished):
            await self._job_finished(event)
        elif isinstance(event, OutcomeUnknown):
            self._jobs.track(event.job)
            plan = scan_plan(event.job)
            self.cells.release(event.job.job_id)
            await self._enqueue_verify(event.job, plan[0])
        self.metrics.count(event)
        self._emit(event)

    async def _job_finished(self, event: JobFinished) -> None:
        job = event.job
        self.cells.release(job.job_id)
        apply_result(self.cells, job)
        self.stations.job_finished(job)
        self._jobs.track(job)
        self.metrics.jobs_total[(job.kind.value, job.result)] += 1
        if job.purpose is JobPurpose.RECOVERY and job.parent_id is not None:
            await self._verify_finished(job)
        elif job.purpose is JobPurpose.SHUFFLE and job.result != "ok":
            parent = self._jobs.queued(job.parent_id or 0)
            if parent is not None:
                self._jobs.remove(parent)
                await self._finish_host_side(
                    parent, JobState.REJECTED, f"its shuffle move {job.job_id} failed"
                )

    async def _verify_finished(self, scan: Job) -> None:
        parent = self._jobs.unfinished(scan.parent_id or 0)
        if parent is None:
            log.warning("stacker %s: verify job %d has no known parent", self.config.id,
                        scan.job_id)  # fmt: skip
            return
        resolution = resolve(parent, scan)
        if resolution is None:
            plan = scan_plan(parent)
            following = plan[plan.index(scan.source) + 1 :] if scan.source in plan else []
            if following:
                await self._enqueue_verify(parent, following[0])
                return
            resolution_note = "no cell left to scan"
            await self._finish_host_side(parent, JobState.UNRESOLVED, resolution_note)
            return
        finished = replace(
            parent,
            state=resolution.state,
            completion=resolution.completion,
            plc_completion=int(resolution.completion)
            if resolution.completion is not None
            else None,
            read_box_id=resolution.read_box_id,
            updated_at=self._wall(),
            finished_at=self._wall(),
            note=resolution.note,
        )
        await self._held.save(finished)
        self._jobs.track(finished)
        await self._handle(
            JobFinished(self.config.id, self._wall(), finished, resolution.note, None)
        )

    async def _finish_host_side(self, job: Job, state: JobState, note: str) -> None:
        job = replace(
            job, state=state, updated_at=self._wall(), finished_at=self._wall(), note=note
        )
        await self._held.save(job)
        self._jobs.track(job)
        await self._handle(JobFinished(self.config.id, self._wall(), job, note, None))

    def _emit(self, event: StackerEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("stacker %s: event consumer failed on %s", self.config.id,
                          type(event).__name__)  # fmt: skip

    # -- planning ------------------------------------------------------------------------------

    def _refusal(self) -> str | None:
        if self.journal_held:
            return JOURNAL_HELD.english()
        refusal = self.core.refusal()
        if refusal is None and not self._recovered:
            return "stacker is starting up (comparing its job journal with the PLC)"
        return refusal

    def _pending(self) -> list[Job]:
        """The jobs queued or in flight (a cell they use takes no other job)."""
        return [*self._jobs, *([self.core.job] if self.core.job else [])]
