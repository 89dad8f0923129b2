"""The host side of the stacker handshake (docs/design.md §4.3) as a pure state machine.

It is fed decoded input-register snapshots, the passage of time (an injected clock) and the
operator's commands, and it answers with *actions*: journal records to make, registers to write
and events to emit, in the order they must happen. The asyncio shell
(``stacker.service.controller``) performs them one by one, so the rules that keep a crane from
moving a box twice live here where tests can check them without a network:

- a command is sent only while the PLC's heartbeat is fresh, MODE is auto, STATUS says ready
  and no fault, e-stop or open door is reported; otherwise the refusal is given in words;
- the journal is written first, then the data block (FC16), then the strobe (FC06, job id low
  word), and the strobe is cleared (written 0) once the PLC has answered, which is what lets it
  drop ``accepted`` and REJECT_REASON: so a non-zero REJECT_REASON read after a strobe always
  answers that strobe;
- no accept within the accept timeout raises an alarm and nothing is resent; a late accept is
  still followed; only an operator's ``retry`` re-strobes the *same* job id, which a PLC answers
  from its record (reject reason 6) if it already ran it;
- a result is recorded before EVENT_ACK_JOB is written; the PLC then clears ``done``;
- an exception request is acknowledged (EXC_ACK mirrors EXC_REQ) and waits for a decision; once
  the PLC takes it (EXC_REQ back to 0) the host clears EXC_ACK and EXC_DECISION;
- a PLC heartbeat unchanged for the stale time means the stacker is down.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace

from stacker.cells import CellAddress
from stacker.describe import (
    completion_text,
    doors_text,
    exception_text,
    mode_name,
    reject_text,
)
from stacker.events import (
    AcceptTimeout,
    ExceptionCleared,
    ExecutionTimeout,
    FaultCleared,
    FaultRaised,
    ForeignResultAcknowledged,
    IdMismatch,
    JobAccepted,
    JobException,
    JobFinished,
    JobStarted,
    ModeChanged,
    OutcomeUnknown,
    StackerDown,
    StackerEvent,
    StackerUp,
)
from stacker.journal import Job, JobState
from stacker.registers import (
    HR,
    IF_VERSION,
    CmdOpts,
    CompletionCode,
    ExcDecision,
    ExcReq,
    HostCtrl,
    Mode,
    RejectReason,
    Snapshot,
    Status,
    encode_command,
    encode_host,
    split_u32,
    strobe_value,
)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Persist:
    """Record this job state in the journal (before the actions after it)."""

    job: Job


@dataclass(frozen=True, slots=True)
class Write:
    """Write holding registers from ``address``; ``single`` means FC06 (one register)."""

    address: int
    values: tuple[int, ...]
    single: bool = False


@dataclass(frozen=True, slots=True)
class Emit:
    event: StackerEvent


Action = Persist | Write | Emit


@dataclass(frozen=True, slots=True)
class Timing:
    heartbeat_stale_s: float = 3.0
    accept_timeout_s: float = 5.0
    execution_timeout_s: float = 600.0
    rewrite_s: float = 1.0
    """How long to wait before repeating an idempotent clearing write (ack, strobe 0)."""


class Phase(enum.Enum):
    IDLE = "idle"
    AWAIT_ACCEPT = "await_accept"
    RUNNING = "running"
    AWAIT_CLEAR = "await_clear"  # terminal result recorded; waiting for the PLC to tidy up


class DecisionRefused(Exception):
    """A decision that does not apply to the job's current state."""


_PICK_SIDE = ExcReq.EMPTY_RETRIEVAL | ExcReq.ID_MISMATCH | ExcReq.ID_READ_ERROR


class Handshake:
    """One stacker's handshake: at most one job in flight."""

    def __init__(
        self,
        stacker_id: str,
        timing: Timing,
        clock: Clock,
        wall_clock: Clock,
        *,
        verify_rfid: bool = True,
    ) -> None:
        self.stacker_id = stacker_id
        self.timing = timing
        self._clock = clock
        self._wall = wall_clock
        self.verify_rfid = verify_rfid
        self.snapshot: Snapshot | None = None
        self.up = False
        self.down_reason = "stacker PLC not connected yet"
        self.recovered = False
        """Set by the controller once the journal has been compared with the PLC."""
        self.phase = Phase.IDLE
        self.job: Job | None = None
        self._hb_value: int | None = None
        self._hb_changed_at = 0.0
        self._hb_seen_change = False
        self._strobe_set = False
        self._sent_at = 0.0
        self._accept_alarmed = False
        self._started = False
        self._exec_since: float | None = None
        self._exec_alarmed = False
        self._exc_acked: ExcReq = ExcReq(0)
        self._decision: ExcDecision = ExcDecision.NONE
        self._neither_count = 0
        self._clear_writes_at = 0.0
        self._finished_id = 0
        self._foreign_acked: int | None = None

    # -- inputs ---------------------------------------------------------------------------------

    def observe(self, snap: Snapshot) -> list[Action]:
        """A fresh read of IR0-28."""
        now = self._clock()
        out: list[Action] = []
        prev = self.snapshot
        self.snapshot = snap
        if self._hb_value is None:
            self._hb_value = snap.plc_heartbeat
            self._hb_changed_at = now
        elif snap.plc_heartbeat != self._hb_value:
            self._hb_value = snap.plc_heartbeat
            self._hb_changed_at = now
            self._hb_seen_change = True
        self._edges(prev, snap, out)
        if not self.up and self._hb_seen_change:
            if snap.if_version != IF_VERSION:
                self._down(
                    f"stacker PLC speaks interface version {snap.if_version}, "
                    f"this host speaks {IF_VERSION}",
                    out,
                )
            else:
                self.up = True
                out.append(Emit(StackerUp(self.stacker_id, self._wall())))
        if self.up:
            self._track(snap, now, out)
        out += self.tick()
        return out

    def tick(self) -> list[Action]:
        """Time passed: heartbeat staleness, accept and execution timeouts."""
        now = self._clock()
        out: list[Action] = []
        if self.up and now - self._hb_changed_at >= self.timing.heartbeat_stale_s:
            self._hb_seen_change = False
            self._down(
                f"stacker PLC heartbeat unchanged for {self.timing.heartbeat_stale_s:g} s", out
            )
        job = self.job
        if job is None:
            return out
        if (
            self.phase is Phase.AWAIT_ACCEPT
            and not self._accept_alarmed
            and now - self._sent_at >= self.timing.accept_timeout_s
        ):
            self._accept_alarmed = True
            job = self._set(job, JobState.UNCONFIRMED, note="no accept within the accept timeout")
            out += [Persist(job), Emit(AcceptTimeout(self.stacker_id, self._wall(), job))]
        if (
            self.phase is Phase.RUNNING
            and self._exec_since is not None
            and not self._exec_alarmed
            and now - self._exec_since >= self.timing.execution_timeout_s
        ):
            self._exec_alarmed = True
            out.append(Emit(ExecutionTimeout(self.stacker_id, self._wall(), job)))
        return out

    def link_lost(self, reason: str) -> list[Action]:
        out: list[Action] = []
        self._hb_value = None
        self._hb_seen_change = False
        self._down(reason, out)
        return out

    def heartbeat_age(self) -> float | None:
        """Seconds since the PLC heartbeat last changed (None before the first read)."""
        if self._hb_value is None:
            return None
        return self._clock() - self._hb_changed_at

    # -- commands ---------------------------------------------------------------------------

    def refusal(self) -> str | None:
        """Why a new job cannot be taken now, in words; None if it can (maybe queued)."""
        snap = self.snapshot
        if not self.up or snap is None:
            return self.down_reason
        if snap.has(Status.E_STOP):
            return "emergency stop is pressed"
        if snap.has(Status.DOOR_OPEN) or snap.doors:
            return doors_text(snap.doors_open)
        if snap.has(Status.FAULT) or snap.fault_code:
            return f"stacker reports fault {snap.fault_code}"
        if not snap.has(Status.SAFETY_OK):
            return "the safety circuit is not closed"
        if snap.has(Status.HOST_WATCHDOG_TRIPPED):
            return "the stacker PLC tripped its host watchdog"
        if snap.mode == Mode.OFF:
            return "stacker is switched off"
        if snap.mode not in {int(m) for m in Mode}:
            return f"stacker reports an unknown mode ({snap.mode})"
        if snap.mode != Mode.AUTO:
            return f"stacker is in {mode_name(snap.mode)} mode"
        if not snap.has(Status.HOMED):
            return "stacker is not homed"
        if self.phase is Phase.IDLE and not snap.has(Status.READY):
            if snap.active_job_id:
                return f"stacker is not ready (busy with job {snap.active_job_id})"
            if snap.has(Status.DONE):
                return "stacker is not ready (a result waits for acknowledgement)"
            if snap.exc_req:
                return "stacker is not ready (an exception request is pending)"
            return "stacker is not ready"
        return None

    def can_send(self) -> bool:
        snap = self.snapshot
        return (
            self.recovered
            and self.phase is Phase.IDLE
            and snap is not None
            and self.refusal() is None
            and snap.has(Status.READY)
            and not snap.status & (Status.ACCEPTED | Status.DONE | Status.EXCEPTION_REQUEST)
            and snap.reject_reason == 0
            and snap.active_job_id == 0
            and not snap.exc_req
        )

    def send(self, job: Job) -> list[Action]:
        """Start the handshake for ``job``: journal, data block, strobe (in that order)."""
        if not self.can_send():
            raise RuntimeError(f"cannot send now: {self.refusal() or 'handshake busy'}")
        self.job = self._set(job, JobState.SENDING, sent_at=self._wall())
        self._begin(Phase.AWAIT_ACCEPT)
        return [Persist(self.job), *self._command_writes(self.job)]

    def send_failed(self) -> list[Action]:
        """The data block never reached the PLC (its write failed): the job is queued again."""
        job = self.job
        if job is None or self.phase is not Phase.AWAIT_ACCEPT:
            return []
        self.job = None
        self.phase = Phase.IDLE
        self._strobe_set = False
        return [Persist(self._set(job, JobState.QUEUED))]

    def adopt(self, job: Job) -> list[Action]:
        """Follow a job that a previous host process sent (recovery found it on the PLC)."""
        self.job = job
        self._begin(Phase.RUNNING)
        self._strobe_set = True  # it may still be set; clearing it again is harmless
        self._exec_since = self._clock()
        return []

    def decide(
        self, job_id: int, decision: ExcDecision, destination: CellAddress | None = None
    ) -> list[Action]:
        """An operator's decision for the job in flight (see docs/design.md §4.3, EXC_DECISION)."""
        job = self.job
        if job is None or job.job_id != job_id or self.phase in (Phase.IDLE, Phase.AWAIT_CLEAR):
            raise DecisionRefused(f"job {job_id} is not in flight on the stacker")
        if self.phase is Phase.AWAIT_ACCEPT:
            return self._decide_unconfirmed(job, decision)
        if job.state is not JobState.EXCEPTION:
            if decision is ExcDecision.CANCEL:
                job = self._set(job, job.state, note="abort requested")
                self.job = job
                return [Persist(job), Write(HR.HOST_CTRL, (int(HostCtrl.ONLINE | HostCtrl.ABORT),))]
            raise DecisionRefused(f"job {job_id} has no exception waiting for a decision")
        if self._decision is not ExcDecision.NONE:
            raise DecisionRefused(f"a decision for job {job_id} was already sent")
        exc = job.exception or ExcReq(0)
        if decision not in self.allowed_decisions(exc):
            raise DecisionRefused(
                f"{decision.name.lower()} does not apply to: {exception_text(exc)}"
            )
        out: list[Action] = []
        if decision is ExcDecision.REDIRECT:
            if destination is None:
                raise DecisionRefused("redirect needs a new destination")
            job = self._set(
                job, job.state, destination=destination, note=f"redirected to {destination}"
            )
            self.job = job
            out += [Persist(job), Write(HR.DST, destination.coordinates())]
        else:
            job = self._set(job, job.state, note=f"decision: {decision.name.lower()}")
            self.job = job
            out.append(Persist(job))
        self._decision = decision
        # EXC_ACK again (idempotent): the PLC takes a decision only while EXC_ACK == EXC_REQ.
        out.append(Write(HR.EXC_ACK, (int(exc),), single=True))
        out.append(Write(HR.EXC_DECISION, (int(decision),), single=True))
        return out

    def allowed_decisions(self, exc: ExcReq) -> tuple[ExcDecision, ...]:
        """Redirect only helps a box on the fork (place side), never a failed pick."""
        snap = self.snapshot
        on_fork = snap is not None and snap.has(Status.LOAD_ON_FORK)
        if exc & _PICK_SIDE or not on_fork:
            return (ExcDecision.RETRY, ExcDecision.CANCEL)
        return (ExcDecision.RETRY, ExcDecision.CANCEL, ExcDecision.REDIRECT)

    def reset_faults(self) -> list[Action]:
        """Pulse HOST_CTRL.fault_reset (the next heartbeat write ends the pulse)."""
        return [Write(HR.HOST_CTRL, (int(HostCtrl.ONLINE | HostCtrl.FAULT_RESET),))]

    def heartbeat(self, counter: int) -> Write:
        """HR0-1 for the next heartbeat: ``online`` only, which also ends any pulse."""
        return Write(HR.HOST_HEARTBEAT, tuple(encode_host(counter, HostCtrl.ONLINE)))

    def resync_writes(self) -> list[Action]:
        """After a reconnect: repeat the idempotent writes a dropped link may have swallowed."""
        snap = self.snapshot
        out: list[Action] = []
        if self.phase is not Phase.AWAIT_ACCEPT:
            out.append(Write(HR.CMD_STROBE, (0,), single=True))
        if snap is not None and not snap.exc_req and self._decision is ExcDecision.NONE:
            out.append(Write(HR.EXC_ACK, (0, 0)))
        elif snap is not None and snap.exc_req and self._exc_acked == snap.exc_req:
            job = self.job
            if self._decision is ExcDecision.REDIRECT and job is not None:
                out.append(Write(HR.DST, job.destination.coordinates()))
            out.append(Write(HR.EXC_ACK, (int(snap.exc_req),), single=True))
            if self._decision is not ExcDecision.NONE:
                # The PLC has not taken the decision yet (EXC_REQ still set): say it again.
                out.append(Write(HR.EXC_DECISION, (int(self._decision),), single=True))
        return out

    def rewrite_soon(self) -> None:
        """Repeat a pending acknowledgement at the next observation instead of after
        ``rewrite_s`` (used once held journal records have been written)."""
        self._clear_writes_at = self._clock() - self.timing.rewrite_s

    def startup_writes(self) -> list[Action]:
        """Bring the host's registers to a clean state after a (re)start.

        A previous host process may have left a strobe set, or an exception acknowledgement
        that the PLC has already answered; the PLC raises no new exception request until both
        EXC_ACK and EXC_DECISION are 0 again.
        """
        out: list[Action] = [Write(HR.CMD_STROBE, (0,), single=True)]
        if self.snapshot is not None and not self.snapshot.exc_req:
            out.append(Write(HR.EXC_ACK, (0, 0)))
        return out

    # -- internals ----------------------------------------------------------------------------

    def _decide_unconfirmed(self, job: Job, decision: ExcDecision) -> list[Action]:
        if decision is ExcDecision.RETRY:
            # Same id, same content: a PLC that already has it answers from its record.
            job = self._set(
                job, JobState.SENDING, sent_at=self._wall(), note="re-strobed by operator decision"
            )
            self.job = job
            self._begin(Phase.AWAIT_ACCEPT)
            return [
                Persist(job),
                Write(HR.CMD_STROBE, (0,), single=True),
                *self._command_writes(job),
            ]
        if decision is ExcDecision.CANCEL:
            job = self._set(job, JobState.VERIFYING, note="cancelled unconfirmed: verify outcome")
            self.job = None
            self.phase = Phase.IDLE
            self._strobe_set = False
            return [
                Persist(job),
                Write(HR.CMD_STROBE, (0,), single=True),
                Emit(OutcomeUnknown(self.stacker_id, self._wall(), job)),
            ]
        raise DecisionRefused("an unconfirmed job can only be retried or cancelled")

    def _command_writes(self, job: Job) -> list[Action]:
        opts = CmdOpts.VERIFY_RFID if (self.verify_rfid and job.box_id) else CmdOpts(0)
        block = encode_command(
            job.job_id,
            job.kind.command,
            source=job.source.coordinates(),
            destination=job.destination.coordinates(),
            opts=opts,
            box_id=job.box_id,
        )
        self._strobe_set = True
        return [
            Write(HR.CMD_JOB_ID, tuple(block)),
            Write(HR.CMD_STROBE, (strobe_value(job.job_id),), single=True),
        ]

    def _begin(self, phase: Phase) -> None:
        self.phase = phase
        self._sent_at = self._clock()
        self._accept_alarmed = False
        self._started = False
        self._exec_since = None
        self._exec_alarmed = False
        self._exc_acked = ExcReq(0)
        self._decision = ExcDecision.NONE
        self._neither_count = 0

    def _set(self, job: Job, state: JobState, **changes: object) -> Job:
        return replace(job, state=state, updated_at=self._wall(), **changes)  # type: ignore[arg-type]

    def _down(self, reason: str, out: list[Action]) -> None:
        self.down_reason = reason
        if self.up:
            self.up = False
            out.append(Emit(StackerDown(self.stacker_id, self._wall(), reason)))

    def _edges(self, prev: Snapshot | None, snap: Snapshot, out: list[Action]) -> None:
        at = self._wall()
        if prev is None or prev.mode != snap.mode:
            out.append(
                Emit(
                    ModeChanged(
                        self.stacker_id,
                        at,
                        snap.mode,
                        mode_name(snap.mode),
                        None if prev is None else prev.mode,
                    )
                )
            )
        for kind, active, code, text in (
            ("plc_fault", snap.fault_code != 0, snap.fault_code, f"fault {snap.fault_code}"),
            ("e_stop", snap.has(Status.E_STOP), 0, "emergency stop is pressed"),
            ("door_open", bool(snap.doors) or snap.has(Status.DOOR_OPEN), snap.doors,
             doors_text(snap.doors_open)),
            ("host_watchdog", snap.has(Status.HOST_WATCHDOG_TRIPPED), 0,
             "the PLC tripped its host watchdog"),
        ):  # fmt: skip
            was = prev is not None and _fault_active(prev, kind)
            if active and (not was or (kind == "plc_fault" and prev and prev.fault_code != code)):
                out.append(Emit(FaultRaised(self.stacker_id, at, kind, code, text)))
            elif was and not active:
                out.append(Emit(FaultCleared(self.stacker_id, at, kind)))

    def _track(self, snap: Snapshot, now: float, out: list[Action]) -> None:
        if self.phase is Phase.AWAIT_ACCEPT:
            self._await_accept(snap, now, out)
        if self.phase is Phase.RUNNING:
            self._running(snap, now, out)
        if self.phase is Phase.AWAIT_CLEAR:
            self._await_clear(snap, now, out)
        if self.phase is Phase.IDLE:
            self._idle(snap, now, out)

    def _await_accept(self, snap: Snapshot, now: float, out: list[Action]) -> None:
        job = self.job
        assert job is not None
        if snap.active_job_id == job.job_id and snap.status & (Status.ACCEPTED | Status.BUSY):
            self._accepted(job, now, out)
        elif snap.last_done_job_id == job.job_id:
            # Finished before we looked, or a duplicate answered from the PLC's record.
            if snap.reject_reason != RejectReason.DUPLICATE_JOB_ID:
                self._accepted(job, now, out)
                job = self.job
                assert job is not None
            self.phase = Phase.RUNNING
            self._finish(job, snap, now, out)
        elif snap.reject_reason != RejectReason.NONE:
            job = self._set(
                job,
                JobState.REJECTED,
                reject_reason=snap.reject_reason,
                finished_at=self._wall(),
                note=reject_text(snap.reject_reason),
            )
            self._end(job, out)
            out.append(Write(HR.CMD_STROBE, (0,), single=True))
            out.append(
                Emit(
                    JobFinished(
                        self.stacker_id,
                        self._wall(),
                        job,
                        f"rejected: {reject_text(snap.reject_reason)}",
                        None,
                    )
                )
            )

    def _accepted(self, job: Job, now: float, out: list[Action]) -> None:
        job = self._set(job, JobState.ACCEPTED, accepted_at=self._wall())
        self.job = job
        self.phase = Phase.RUNNING
        self._exec_since = now
        out.append(Persist(job))
        if self._strobe_set:
            self._strobe_set = False
            out.append(Write(HR.CMD_STROBE, (0,), single=True))
        out.append(Emit(JobAccepted(self.stacker_id, self._wall(), job)))

    def _running(self, snap: Snapshot, now: float, out: list[Action]) -> None:
        job = self.job
        assert job is not None
        if snap.last_done_job_id == job.job_id and snap.active_job_id != job.job_id:
            self._finish(job, snap, now, out)
            return
        if snap.active_job_id != job.job_id:
            # Neither active nor done: confirm on a second read before calling it unknown.
            self._neither_count += 1
            if self._neither_count >= 2:
                job = self._set(job, JobState.VERIFYING, note="PLC shows neither job nor result")
                self._end(job, out)
                out.append(Emit(OutcomeUnknown(self.stacker_id, self._wall(), job)))
            return
        self._neither_count = 0
        if self._strobe_set and snap.has(Status.ACCEPTED):
            self._strobe_set = False
            out.append(Write(HR.CMD_STROBE, (0,), single=True))
        if not self._started and snap.has(Status.BUSY):
            self._started = True
            out.append(Emit(JobStarted(self.stacker_id, self._wall(), job)))
        if snap.exc_req and snap.exc_req != self._exc_acked and self._decision is ExcDecision.NONE:
            self._exc_acked = snap.exc_req
            self._exec_since = None
            job = self._set(job, JobState.EXCEPTION, exception=snap.exc_req)
            self.job = job
            out += [
                Persist(job),
                Write(HR.EXC_ACK, (int(snap.exc_req),), single=True),
                Emit(
                    JobException(
                        self.stacker_id,
                        self._wall(),
                        job,
                        snap.exc_req,
                        exception_text(snap.exc_req),
                        self.allowed_decisions(snap.exc_req),
                    )
                ),
            ]
        elif not snap.exc_req and self._exc_acked:
            decision = self._decision
            self._exc_acked = ExcReq(0)
            self._decision = ExcDecision.NONE
            self._exec_since = now
            self._exec_alarmed = False
            job = self._set(job, JobState.ACCEPTED)
            self.job = job
            out += [
                Persist(job),
                Write(HR.EXC_ACK, (0, 0)),
                Emit(ExceptionCleared(self.stacker_id, self._wall(), job, decision)),
            ]

    def _finish(self, job: Job, snap: Snapshot, now: float, out: list[Action]) -> None:
        code = snap.completion_code
        read = snap.read_box_id
        try:
            completion: CompletionCode | None = CompletionCode(code)
        except ValueError:
            completion = None
        state = JobState.DONE if completion is not None else JobState.UNRESOLVED
        note = completion_text(code)
        checked = self.verify_rfid and bool(job.box_id)
        mismatch = completion is CompletionCode.OK and checked and read != job.box_id
        if mismatch:
            completion = CompletionCode.ID_MISMATCH
            note = f"PLC reported success but read {read!r} instead of {job.box_id!r}"
        accepted_at = job.accepted_at
        finished = self._wall()
        job = self._set(
            job,
            state,
            completion=completion,
            plc_completion=code,
            read_box_id=read,
            finished_at=finished,
            accepted_at=accepted_at if accepted_at is not None else finished,
            note=note,
        )
        self._end(job, out)
        if self._strobe_set:
            self._strobe_set = False
            out.append(Write(HR.CMD_STROBE, (0,), single=True))
        if self._exc_acked or self._decision is not ExcDecision.NONE:
            out.append(Write(HR.EXC_ACK, (0, 0)))
        out.append(Write(HR.EVENT_ACK_JOB, split_u32(job.job_id)))
        self._clear_writes_at = now
        if mismatch:
            out.append(Emit(IdMismatch(self.stacker_id, finished, job, job.box_id, read)))
        started = job.sent_at if job.sent_at is not None else accepted_at
        duration = None if started is None else max(0.0, finished - started)
        out.append(Emit(JobFinished(self.stacker_id, finished, job, note, duration)))

    def _end(self, job: Job, out: list[Action]) -> None:
        """Record a terminal (or verifying) state and wait for the PLC to tidy up."""
        out.append(Persist(job))
        self.job = job
        self._finished_id = job.job_id
        self.phase = Phase.AWAIT_CLEAR
        self._clear_writes_at = self._clock()

    def _await_clear(self, snap: Snapshot, now: float, out: list[Action]) -> None:
        done_pending = snap.has(Status.DONE) and snap.last_done_job_id == self._finished_id
        if not done_pending and snap.reject_reason == 0 and not snap.has(Status.ACCEPTED):
            self.phase = Phase.IDLE
            self.job = None
            return
        if now - self._clear_writes_at >= self.timing.rewrite_s:
            self._clear_writes_at = now
            if done_pending:
                out.append(Write(HR.EVENT_ACK_JOB, split_u32(self._finished_id)))
            if snap.reject_reason or snap.has(Status.ACCEPTED):
                out.append(Write(HR.CMD_STROBE, (0,), single=True))

    def _idle(self, snap: Snapshot, now: float, out: list[Action]) -> None:
        if not self.recovered or not snap.has(Status.DONE) or not snap.last_done_job_id:
            return
        if self._foreign_acked == snap.last_done_job_id:
            if now - self._clear_writes_at < self.timing.rewrite_s:
                return
        else:
            out.append(
                Emit(
                    ForeignResultAcknowledged(
                        self.stacker_id, self._wall(), snap.last_done_job_id, snap.completion_code
                    )
                )
            )
        self._foreign_acked = snap.last_done_job_id
        self._clear_writes_at = now
        out.append(Write(HR.EVENT_ACK_JOB, split_u32(snap.last_done_job_id)))


def _fault_active(snap: Snapshot, kind: str) -> bool:
    if kind == "plc_fault":
        return snap.fault_code != 0
    if kind == "e_stop":
        return snap.has(Status.E_STOP)
    if kind == "door_open":
        return bool(snap.doors) or snap.has(Status.DOOR_OPEN)
    return snap.has(Status.HOST_WATCHDOG_TRIPPED)
