"""What the stacker tells the rest of the daemon, as typed events.

The daemon turns these into records (movements, audit entries, MQTT ``stacker.job`` events),
alarms and metrics; the stacker package itself writes none of them. Every event names its
stacker and carries the wall-clock time it was observed (seconds since the epoch).
Events that should ring an alarm say so with ``alarm = True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from stacker.journal import Job
from stacker.registers import ExcDecision, ExcReq


@dataclass(frozen=True, slots=True)
class StackerUp:
    stacker: str
    at: float
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class StackerDown:
    stacker: str
    at: float
    reason: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ModeChanged:
    stacker: str
    at: float
    mode: int
    mode_name: str
    previous: int | None
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class FaultRaised:
    """A safety or fault condition appeared. ``kind`` is bounded: use it as a metric label."""

    stacker: str
    at: float
    kind: str  # plc_fault | e_stop | door_open | safety | host_watchdog
    code: int
    description: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class FaultCleared:
    stacker: str
    at: float
    kind: str
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobQueued:
    stacker: str
    at: float
    job: Job
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobAccepted:
    stacker: str
    at: float
    job: Job
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobStarted:
    stacker: str
    at: float
    job: Job
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobFinished:
    """A job reached a terminal state (see ``job.state``, ``job.completion``, ``job.result``).

    For ``DONE`` the result is stored in the journal before this event is emitted and before the
    PLC is acknowledged. ``duration_s`` runs from the strobe to the PLC's result (from the
    acceptance for a job adopted after a restart; None if the PLC never accepted it).
    """

    stacker: str
    at: float
    job: Job
    description: str
    duration_s: float | None

    @property
    def alarm(self) -> bool:
        return self.job.result != "ok"


@dataclass(frozen=True, slots=True)
class JobException:
    """The PLC holds the job and waits for ``decide(job_id, ...)``."""

    stacker: str
    at: float
    job: Job
    exception: ExcReq
    description: str
    decisions: tuple[ExcDecision, ...]
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ExceptionCleared:
    stacker: str
    at: float
    job: Job
    decision: ExcDecision
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class AcceptTimeout:
    """No accept or reject within the accept timeout. Never resent automatically."""

    stacker: str
    at: float
    job: Job
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ExecutionTimeout:
    stacker: str
    at: float
    job: Job
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class OutcomeUnknown:
    """The PLC shows neither the job active nor its result: verify jobs will establish it."""

    stacker: str
    at: float
    job: Job
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class IdMismatch:
    """The PLC reported success but read another box id than expected: not accepted."""

    stacker: str
    at: float
    job: Job
    expected: str
    read: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ForeignResultAcknowledged:
    """The PLC held a result for a job id this host is not tracking; it was acknowledged."""

    stacker: str
    at: float
    job_id: int
    completion_code: int
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class JournalUnavailable:
    """The job journal cannot be written: the PLC's answers are held unacknowledged and no
    command is sent until it can (journal first, docs/design.md §4.3); heartbeats go on."""

    stacker: str
    at: float
    reason: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class JournalRestored:
    """The held journal records are written; the PLC is acknowledged and commands resume."""

    stacker: str
    at: float
    written: int
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class StationBoxTaken:
    """The station sensor says the box a retrieval left there is gone: a person took it."""

    stacker: str
    at: float
    station: str
    box_id: str
    ref: str | None
    job_id: int | None
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class StationMismatch:
    """The station sensor says occupied where the host recorded no box (see stacker.stations)."""

    stacker: str
    at: float
    station: str
    message: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class StationMismatchCleared:
    stacker: str
    at: float
    station: str
    reason: str
    alarm: ClassVar[bool] = False


StackerEvent = (
    StackerUp
    | StackerDown
    | ModeChanged
    | FaultRaised
    | FaultCleared
    | JobQueued
    | JobAccepted
    | JobStarted
    | JobFinished
    | JobException
    | ExceptionCleared
    | AcceptTimeout
    | ExecutionTimeout
    | OutcomeUnknown
    | IdMismatch
    | ForeignResultAcknowledged
    | JournalUnavailable
    | JournalRestored
    | StationBoxTaken
    | StationMismatch
    | StationMismatchCleared
)
