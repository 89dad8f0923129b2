"""The asyncio shell around the stacker handshake: Modbus I/O, the job queue, recovery.

One task (:meth:`StackerController.run`) owns the Modbus TCP connection: it writes the host
heartbeat (at least once a second), polls the input registers, feeds them to the pure
:class:`~stacker.handshake.Handshake` and performs the actions it returns, in order (journal
first, then registers, then events). Requests from the API (:meth:`submit`, :meth:`decide`)
only touch the journal and the queue, or go through the same lock as the poller, so the
registers are never written by two tasks at once.

Commands are written with pymodbus ``retries=0``: a retry is a resend, and whether a job may be
sent again is for the journal and the PLC's duplicate-id record to decide, not for a transport
timeout. Jobs run one at a time per stacker, urgent ones first, otherwise first come first
served; a retrieval from a double-deep inner cell behind an occupied outer cell is preceded by a
*shuffle* move of the outer box.

When the journal cannot be written (its database is unreachable), the records are *held* in
memory, in order, and retried: meanwhile the heartbeat goes on, the PLC keeps running the job it
has, its result waits unacknowledged in its registers, and no register other than the heartbeat
is written and no command is sent. Once the held records are written the PLC is acknowledged and
the queue moves again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from stacker.cells import CellAddress, CellModel, Occupant, RackGeometry
from stacker.config import StackerConfig
from stacker.describe import doors_text, mode_name, status_words
from stacker.events import (
    JobFinished,
    JobQueued,
    JournalRestored,
    JournalUnavailable,
    OutcomeUnknown,
    StackerEvent,
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
from stacker.registers import (
    BOX_ID_CHARS,
    IR_COUNT,
    CompletionCode,
    Coordinates,
    ExcDecision,
    ExcReq,
    Status,
    decode_inputs,
    pack_box_id,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]
EventSink = Callable[[StackerEvent], None]


class CommandRefused(Exception):
    """The stacker cannot take the command now; ``reason`` says why in words (API: 409)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidJob(ValueError):
    """The request itself is malformed (API: 422)."""


class UnknownJob(LookupError):
    """No such job on this stacker (API: 404)."""


@dataclass(frozen=True, slots=True)
class StackerStatus:
    """What ``GET /api/v1/stacker`` shows."""

    id: str
    connected: bool
    up: bool
    down_reason: str | None
    refusal: str | None
    """Why a command would be refused now (None: commands are taken)."""
    mode: int | None
    mode_name: str | None
    status: tuple[str, ...]
    faults: tuple[str, ...]
    fault_code: int
    warning_code: int
    position: Coordinates | None
    plc_heartbeat_age_s: float | None
    active_job: Job | None
    queue: tuple[Job, ...]


@dataclass
class StackerMetrics:
    """Counters for the daemon's Prometheus collectors (labels are bounded)."""

    up: bool = False
    mode: int | None = None
    jobs_total: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind, result) -> finished jobs."""
    faults_total: Counter[str] = field(default_factory=Counter)
    """fault kind or exception kind -> occurrences."""
    read_errors_total: int = 0
    reconnects_total: int = 0
    journal_failures_total: int = 0
    """Journal writes that failed and were held for a retry."""


class _LinkError(Exception):
    """The Modbus session is unusable; the message says why."""


class _Backoff:
    """Capped exponential backoff with jitter (each delay drawn from its upper half)."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._attempt = 0

    def next_delay(self) -> float:
        delay = min(self._max_s, self._initial_s * 2.0 ** min(self._attempt, 30))
        self._attempt += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self._attempt = 0


_FINISHED_KEPT = 1000
_JOURNAL_RETRY_S = 1.0
_HELD = (
    "the stacker's job journal cannot be written (database unavailable); commands wait until it can"
)


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
        stations = {s.name: CellAddress(0, s.side, s.bay, s.level, 1) for s in config.stations}
        geometry = RackGeometry(
            config.aisles, config.sides, config.bays, config.levels, config.depths
        )
        self.cells = CellModel(geometry, stations)
        for cell, occupant in occupancy:
            self.cells.place(cell, occupant)
        self.default_station = config.default_station or config.stations[0].name
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
        self._queue: list[Job] = []
        self._jobs: dict[int, Job] = {}
        self._finished: OrderedDict[int, Job] = OrderedDict()
        self._io_lock = asyncio.Lock()
        self._submit_lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._client: AsyncModbusTcpClient | None = None
        self._recovered = False
        self._healthy = False
        self._beat = 0
        self._unsaved: list[Job] = []
        """Journal records not yet written, oldest first (each state change once)."""
        self._unqueued: list[tuple[Job, CellAddress]] = []
        """Verify jobs (parent, cell) that could not be recorded yet."""
        self._journal_failing = False
        self._journal_retry_at = 0.0

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
            job = self._plan(
                job_id,
                kind,
                ref=ref,
                box_id=box_id,
                source=source,
                destination=destination,
                station=station,
                urgent=urgent,
            )
            if job.destination != job.source:
                self.cells.reserve(job.destination, job_id)
            try:
                await self.journal.record(job)
            except BaseException:
                self.cells.release(job_id)
                raise
            self._enqueue(job)
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
            raise CommandRefused(_HELD)
        queued = next((j for j in self._queue if j.job_id == job_id), None)
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
            if queued in self._queue:
                self._queue.remove(queued)
            await self._handle(
                JobFinished(self.config.id, self._wall(), cancelled, cancelled.note, None)
            )
            return cancelled
        async with self._io_lock:
            job = self.core.job
            if job is None or job.job_id != job_id:
                if job_id in self._jobs or job_id in self._finished:
                    raise DecisionRefused(f"job {job_id} is not waiting for a decision")
                raise UnknownJob(f"no job {job_id} on stacker {self.config.id}")
            if self._client is None:
                raise CommandRefused("stacker PLC is not connected")
            destination = None
            if decision is ExcDecision.REDIRECT:
                destination = self._redirect_destination(job, new_destination)
            actions = self.core.decide(job_id, decision, destination)
            if destination is not None:
                self._note_obstacle(job)
                self.cells.reserve(destination, job_id)
            await self._perform(actions)
            return self.core.job or job

    async def reset_faults(self) -> None:
        """Pulse HOST_CTRL.fault_reset (the PLC clears a latched fault once it is safe)."""
        async with self._io_lock:
            if self._client is None:
                raise CommandRefused("stacker PLC is not connected")
            if self.journal_held:
                raise CommandRefused(_HELD)
            await self._perform(self.core.reset_faults())

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id) or self._finished.get(job_id)

    @property
    def journal_held(self) -> int:
        """How many journal records wait to be written (0: the journal is up to date)."""
        return len(self._unsaved) + len(self._unqueued)

    def queue(self) -> tuple[Job, ...]:
        return tuple(self._queue)

    def status(self) -> StackerStatus:
        snap = self.core.snapshot
        faults: list[str] = []
        if snap is not None:
            if snap.has(Status.E_STOP):
                faults.append("emergency stop is pressed")
            if snap.doors or snap.has(Status.DOOR_OPEN):
                faults.append(doors_text(snap.doors_open))
            if snap.fault_code:
                faults.append(f"fault {snap.fault_code}")
            if snap.has(Status.HOST_WATCHDOG_TRIPPED):
                faults.append("host watchdog tripped")
            if not snap.has(Status.SAFETY_OK):
                faults.append("safety circuit not closed")
        in_flight = self.core.phase in (Phase.AWAIT_ACCEPT, Phase.RUNNING)
        active = self.core.job if in_flight else None
        return StackerStatus(
            id=self.config.id,
            connected=self._client is not None,
            up=self.core.up,
            down_reason=None if self.core.up else self.core.down_reason,
            refusal=self._refusal(),
            mode=None if snap is None else snap.mode,
            mode_name=None if snap is None else mode_name(snap.mode),
            status=() if snap is None else tuple(status_words(snap.status)),
            faults=tuple(faults),
            fault_code=0 if snap is None else snap.fault_code,
            warning_code=0 if snap is None else snap.warning_code,
            position=None if snap is None else snap.position,
            plc_heartbeat_age_s=self.core.heartbeat_age(),
            active_job=active,
            queue=tuple(self._queue),
        )

    # -- the connection task --------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, poll, heartbeat and dispatch until cancelled; reconnects with backoff."""
        backoff = _Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s)
        failures = 0
        while True:
            _stop_if_cancelled()
            try:
                await self._session(backoff)
                reason = "stacker PLC session ended"
            except _LinkError as e:
                reason = str(e)
            except Exception as e:  # a journal or consumer failure must not end the task
                log.exception("stacker %s: session failed", self.config.id)
                reason = f"stacker session failed: {e}"

            if self._healthy:  # the link had worked: this is a new outage
                failures = 0
                self._healthy = False
            failures += 1
            self.metrics.reconnects_total += 1
            level = logging.WARNING if failures == 1 else logging.DEBUG
            log.log(level, "stacker %s: %s; reconnecting", self.config.id, reason)
            async with self._io_lock:
                await self._perform(self.core.link_lost(reason))
                if self._holding():  # the journal need not wait for the PLC to come back
                    await self._write_held()
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, backoff: _Backoff) -> None:
        config = self.config
        client = AsyncModbusTcpClient(
            config.host,
            port=config.port,
            timeout=config.request_timeout_s,
            retries=0,
            reconnect_delay=0,
            name=f"stacker-{config.id}",
        )
        try:
            if not await client.connect():
                raise _LinkError(f"cannot connect to the stacker PLC at {config.url}")
            self._client = client
            resynced = False
            last_beat = float("-inf")
            while True:
                _stop_if_cancelled()
                async with self._io_lock:
                    now = self._clock()
                    if now - last_beat >= config.heartbeat_interval_s:
                        self._beat = (self._beat + 1) & 0xFFFF
                        await self._write(self.core.heartbeat(self._beat))
                        last_beat = now
                    if self.journal_held and now >= self._journal_retry_at:
                        await self._write_held()
                    snap = decode_inputs(await self._read_inputs())
                    await self._perform(self.core.observe(snap))
                    if self.core.up and not resynced:
                        resynced = True
                        self._healthy = True
                        backoff.reset()
                        if self._recovered:
                            await self._perform(self.core.resync_writes())
                        else:
                            await self._recover()
                    if await self._dispatch():
                        continue  # read the answer to the strobe at once
                fast = self.core.phase is Phase.AWAIT_ACCEPT
                delay = config.fast_poll_interval_s if fast else config.poll_interval_s
                if self.journal_held:
                    delay = min(delay, max(0.0, self._journal_retry_at - now))
                delay = min(delay, max(0.0, last_beat + config.heartbeat_interval_s - now))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._kick.wait()
                self._kick.clear()
        finally:
            self._client = None
            client.close()

    async def _read_inputs(self) -> list[int]:
        client = self._client
        assert client is not None
        try:
            rr = await client.read_input_registers(
                0, count=IR_COUNT, device_id=self.config.device_id
            )
        except (ModbusException, OSError, TimeoutError) as e:
            self.metrics.read_errors_total += 1
            raise _LinkError(f"reading the stacker PLC failed: {e}") from e
        if rr.isError() or len(rr.registers) != IR_COUNT:
            self.metrics.read_errors_total += 1
            raise _LinkError(f"stacker PLC answered the input-register read with {rr}")
        return list(rr.registers)

    async def _write(self, action: Write) -> None:
        client = self._client
        if client is None:
            raise _LinkError("stacker PLC is not connected")
        try:
            if action.single:
                rr = await client.write_register(
                    action.address, action.values[0], device_id=self.config.device_id
                )
            else:
                rr = await client.write_registers(
                    action.address, list(action.values), device_id=self.config.device_id
                )
        except (ModbusException, OSError, TimeoutError) as e:
            raise _LinkError(f"writing HR{action.address} failed: {e}") from e
        if rr.isError():
            raise _LinkError(f"stacker PLC refused the write of HR{action.address}: {rr}")

    # -- performing the core's actions ---------------------------------------------------------

    async def _perform(self, actions: list[Action]) -> None:
        """Journal, registers, events, in order. After a failed write the remaining writes are
        skipped (the core repeats the idempotent ones) but records and events still happen,
        because the core has already moved on; then the link error is raised. While journal
        records are held no register is written: what they would acknowledge waits."""
        link_error: _LinkError | None = None
        for action in actions:
            if isinstance(action, Persist):
                await self._save(action.job)
                self._track(action.job)
            elif isinstance(action, Write):
                if self.journal_held:
                    continue  # repeated by the core, or by resync_writes once written
                if link_error is None:
                    try:
                        await self._write(action)
                    except _LinkError as e:
                        link_error = e
            else:
                await self._handle(action.event)
        if link_error is not None:
            raise link_error

    async def _dispatch(self) -> bool:
        """Send the next job if the stacker can take it; True if a strobe was written."""
        while self._queue and self.core.can_send() and not self._holding():
            job = self._queue[0]
            blocker = self.cells.blocker(job.source) if job.kind is not JobKind.STORE else None
            if blocker is not None and job.purpose is not JobPurpose.SHUFFLE:
                shuffle = await self._plan_shuffle(job, blocker)
                if shuffle is None:
                    continue
                job = shuffle
            else:
                self._queue.remove(job)
            actions = self.core.send(job)
            persist, data, strobe = actions[0], actions[1:-1], actions[-1]
            try:
                await self._perform([persist])
                if self._holding():  # not recorded as sending: it is not sent
                    self._enqueue(job, front=True)
                    await self._perform(self.core.send_failed())
                    return False
                await self._perform(data)
            except _LinkError:
                await self._perform(self.core.send_failed())
                self._enqueue(job, front=True)
                raise
            except Exception:
                self._enqueue(job, front=True)
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
            self._queue.remove(job)
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
        self._track(shuffle)
        self._emit(JobQueued(self.config.id, self._wall(), shuffle))
        return shuffle

    # -- recovery -------------------------------------------------------------------------------

    async def _recover(self) -> None:
        snap = self.core.snapshot
        assert snap is not None
        await self._perform(self.core.startup_writes())
        jobs = await self.journal.unfinished()
        plans = {job.job_id: assess(job, snap) for job in jobs}
        for job in jobs:
            self._track(job)
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
            self._enqueue(job)
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
            self._track(superseded)
        elif not verifying:  # unless a verify of it is already queued or running
            if job.state is not JobState.VERIFYING:
                job = replace(
                    job,
                    state=JobState.VERIFYING,
                    updated_at=self._wall(),
                    note="outcome unknown after restart",
                )
                await self.journal.update(job)
                self._track(job)
                self._emit(OutcomeUnknown(self.config.id, self._wall(), job))
            await self._enqueue_verify(job, scan_plan(job)[0])

    async def _enqueue_verify(self, parent: Job, cell: CellAddress) -> None:
        if self.journal_held:
            self._unqueued.append((parent, cell))
            return
        try:
            await self._record_verify(parent, cell)
        except Exception as e:
            self._unqueued.append((parent, cell))
            self._journal_failed(e)

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
        self._enqueue(verify)
        self._emit(JobQueued(self.config.id, self._wall(), verify))

    # -- the journal, and holding its records while it cannot be written -------------------------

    async def _save(self, job: Job) -> None:
        """Record a job's new state, or hold it (behind any already held) for a retry."""
        if not self.journal_held:
            try:
                await self.journal.update(job)
                return
            except Exception as e:
                self._journal_failed(e)
        self._unsaved.append(job)

    def _journal_failed(self, error: Exception) -> None:
        self.metrics.journal_failures_total += 1
        self._journal_retry_at = self._clock() + _JOURNAL_RETRY_S
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        if not self._journal_failing:
            self._journal_failing = True
            log.error("stacker %s: the job journal cannot be written (%s); the PLC's answers "
                      "are held and no command is sent until it can", self.config.id,
                      reason)  # fmt: skip
            self._emit(JournalUnavailable(self.config.id, self._wall(), reason))

    def _holding(self) -> bool:
        return self.journal_held > 0

    async def _write_held(self) -> None:
        """Write the held records in order; when all are written, repeat the skipped writes."""
        written = 0
        try:
            while self._unsaved:
                await self.journal.update(self._unsaved[0])
                self._unsaved.pop(0)
                written += 1
            while self._unqueued:
                await self._record_verify(*self._unqueued[0])
                self._unqueued.pop(0)
                written += 1
        except Exception as e:
            self._journal_failed(e)
            return
        log.warning("stacker %s: the job journal is written again (%d held record(s))",
                    self.config.id, written)  # fmt: skip
        self._journal_failing = False
        self._emit(JournalRestored(self.config.id, self._wall(), written))
        if self._client is not None:  # else the next session resynchronises anyway
            self.core.rewrite_soon()
            await self._perform(self.core.resync_writes())

    # -- events and bookkeeping -----------------------------------------------------------------

    async def _handle(self, event: StackerEvent) -> None:
        if isinstance(event, JobFinished):
            await self._job_finished(event)
        elif isinstance(event, OutcomeUnknown):
            self._track(event.job)
            plan = scan_plan(event.job)
            self.cells.release(event.job.job_id)
            await self._enqueue_verify(event.job, plan[0])
        self._count(event)
        self._emit(event)

    async def _job_finished(self, event: JobFinished) -> None:
        job = event.job
        self.cells.release(job.job_id)
        self._apply_result(job)
        self._track(job)
        self.metrics.jobs_total[(job.kind.value, job.result)] += 1
        if job.purpose is JobPurpose.RECOVERY and job.parent_id is not None:
            await self._verify_finished(job)
        elif job.purpose is JobPurpose.SHUFFLE and job.result != "ok":
            parent = next((j for j in self._queue if j.job_id == job.parent_id), None)
            if parent is not None:
                self._queue.remove(parent)
                await self._finish_host_side(
                    parent, JobState.REJECTED, f"its shuffle move {job.job_id} failed"
                )

    async def _verify_finished(self, scan: Job) -> None:
        parent = self._jobs.get(scan.parent_id or 0)
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
        await self._save(finished)
        self._track(finished)
        await self._handle(
            JobFinished(self.config.id, self._wall(), finished, resolution.note, None)
        )

    async def _finish_host_side(self, job: Job, state: JobState, note: str) -> None:
        job = replace(
            job, state=state, updated_at=self._wall(), finished_at=self._wall(), note=note
        )
        await self._save(job)
        self._track(job)
        await self._handle(JobFinished(self.config.id, self._wall(), job, note, None))

    def _apply_result(self, job: Job) -> None:
        """Keep the occupancy model in step with what physically happened."""
        if job.state is not JobState.DONE or job.plc_completion is None:
            return
        code = job.plc_completion
        read = job.read_box_id or ""
        src, dst = job.source, job.destination
        known = self.cells.occupant(src)
        if code == CompletionCode.OK:
            occupant = Occupant(read or job.box_id, job.ref)
            if job.completion is CompletionCode.ID_MISMATCH:
                occupant = Occupant(read, None)  # moved, but not the box we meant
            elif known is not None and not job.ref and known.box_id == occupant.box_id:
                occupant = known
            if job.kind is JobKind.VERIFY:
                if known is None or known.box_id != read:
                    self.cells.place(src, Occupant(read, job.ref if read == job.box_id else None))
            else:
                self.cells.clear(src)
                self.cells.place(dst, occupant)
        elif code == CompletionCode.EMPTY_RETRIEVAL:
            self.cells.clear(src)
        elif code == CompletionCode.DOUBLE_STORAGE:
            if self.cells.occupant(dst) is None:
                self.cells.place(dst, Occupant())
        elif code == CompletionCode.ID_MISMATCH and read:
            self.cells.place(src, Occupant(read, None))
        elif code == CompletionCode.OUTER_CELL_OCCUPIED:
            for cell in (src, dst):
                outer = cell.outer()
                if not cell.is_station and cell.depth > 1 and self.cells.occupant(outer) is None:
                    self.cells.place(outer, Occupant())

    def _count(self, event: StackerEvent) -> None:
        from stacker.events import FaultRaised, JobException, ModeChanged, StackerDown, StackerUp

        if isinstance(event, StackerUp):
            self.metrics.up = True
        elif isinstance(event, StackerDown):
            self.metrics.up = False
        elif isinstance(event, ModeChanged):
            self.metrics.mode = event.mode
        elif isinstance(event, FaultRaised):
            self.metrics.faults_total[event.kind] += 1
        elif isinstance(event, JobException):
            for flag in event.exception:
                if flag.name:
                    self.metrics.faults_total[flag.name.lower()] += 1

    def _emit(self, event: StackerEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("stacker %s: event consumer failed on %s", self.config.id,
                          type(event).__name__)  # fmt: skip

    def _track(self, job: Job) -> None:
        if job.state.terminal:
            self._jobs.pop(job.job_id, None)
            self._finished[job.job_id] = job
            self._finished.move_to_end(job.job_id)
            while len(self._finished) > _FINISHED_KEPT:
                self._finished.popitem(last=False)
        else:
            self._jobs[job.job_id] = job

    def _enqueue(self, job: Job, *, front: bool = False) -> None:
        self._track(job)
        if front:
            self._queue.insert(0, job)
            return
        rank = _rank(job)
        index = len(self._queue)
        for i, queued in enumerate(self._queue):
            if _rank(queued) > rank:
                index = i
                break
        self._queue.insert(index, job)

    # -- planning ------------------------------------------------------------------------------

    def _refusal(self) -> str | None:
        if self.journal_held:
            return _HELD
        refusal = self.core.refusal()
        if refusal is None and not self._recovered:
            return "stacker is starting up (comparing its job journal with the PLC)"
        return refusal

    def _station(self, name: str | None) -> CellAddress:
        name = name or self.default_station
        cell = self.cells.stations.get(name)
        if cell is None:
            raise InvalidJob(f"unknown station {name!r}")
        return cell

    def _plan(
        self,
        job_id: int,
        kind: JobKind,
        *,
        ref: str | None,
        box_id: str | None,
        source: CellAddress | None,
        destination: CellAddress | None,
        station: str | None,
        urgent: bool,
    ) -> Job:
        cells = self.cells
        for cell in (source, destination):
            if cell is not None and not cells.is_valid(cell):
                raise InvalidJob(f"{cell} is not a cell or station of stacker {self.config.id}")
        if kind is JobKind.STORE:
            src = source or self._station(station)
            if destination is None:
                dst = cells.choose_free(src)
                if dst is None:
                    raise CommandRefused("the stacker has no free cell")
            else:
                dst = destination
        else:
            src = source or self._locate(ref, box_id)
            if kind is JobKind.RETRIEVE:
                dst = destination or self._station(station)
            elif kind is JobKind.RELOCATE:
                chosen = destination or cells.choose_free(src, exclude=(src,))
                if chosen is None:
                    raise CommandRefused("the stacker has no free cell")
                dst = chosen
            else:
                dst = src
            if not src.is_station and box_id is None:
                box_id = (cells.occupant(src) or Occupant()).box_id
            if ref is None and not src.is_station:
                ref = (cells.occupant(src) or Occupant()).ref
        if dst != src:
            problem = cells.destination_problem(dst, job_id)
            if problem is not None:
                raise CommandRefused(problem)
        for pending in [*self._queue, *([self.core.job] if self.core.job else [])]:
            if pending.state.terminal:
                continue
            if src in (pending.source, pending.destination) and not src.is_station:
                raise CommandRefused(f"cell {src} already has job {pending.job_id} pending")
        box = box_id or ""
        if len(box) > BOX_ID_CHARS:
            raise InvalidJob(f"box id longer than {BOX_ID_CHARS} characters")
        now = self._wall()
        return Job(
            job_id=job_id,
            kind=kind,
            source=src,
            destination=dst,
            ref=ref,
            box_id=box,
            urgent=urgent,
            created_at=now,
            updated_at=now,
        )

    def _locate(self, ref: str | None, box_id: str | None) -> CellAddress:
        if ref is None and not box_id:
            raise InvalidJob("name the item (ref), the box id or the source cell")
        cell = self.cells.locate(ref=ref, box_id=box_id)
        if cell is None:
            raise CommandRefused(f"item {ref or box_id} is not in the stacker")
        return cell

    def _note_obstacle(self, job: Job) -> None:
        """Record the box the PLC found in the way of ``job``'s destination (identity unknown)."""
        dst = job.destination
        if dst.is_station or job.exception is None:
            return
        if ExcReq.DOUBLE_STORAGE in job.exception:
            in_the_way = dst
        elif ExcReq.OUTER_CELL_OCCUPIED in job.exception and dst.depth > 1:
            in_the_way = dst.outer()
        else:
            return
        if self.cells.occupant(in_the_way) is None:
            self.cells.place(in_the_way, Occupant())

    def _redirect_destination(self, job: Job, wanted: CellAddress | None) -> CellAddress:
        if wanted is not None:
            problem = self.cells.destination_problem(wanted, job.job_id)
            if problem is not None or wanted.is_station:
                raise DecisionRefused(problem or "redirect goes to a rack cell")
            return wanted
        free = self.cells.choose_free(job.destination, exclude=(job.destination,))
        if free is None:
            raise DecisionRefused("no free cell to redirect to")
        return free


def _stop_if_cancelled() -> None:
    """End the task if it was asked to stop but the request was lost on the way.

    On Python 3.11, ``asyncio.wait_for`` (inside pymodbus' request handling) returns the
    result instead of raising when the cancellation arrives in the same loop iteration as the
    Modbus answer. A poll loop that asks several times a second meets that race often enough
    for a shutdown to hang; the task's pending cancel count is the reliable signal.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _rank(job: Job) -> int:
    if job.purpose is JobPurpose.RECOVERY:
        return 0
    return 1 if job.urgent else 2
