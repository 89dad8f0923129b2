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
class _Event:
    """What every event carries: the stacker it concerns and when it was observed."""

    stacker: str
    at: float


@dataclass(frozen=True, slots=True)
class _JobEvent(_Event):
    """An event about one job of the host's journal."""

    job: Job


@dataclass(frozen=True, slots=True)
class StackerUp(_Event):
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class StackerDown(_Event):
    reason: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ModeChanged(_Event):
    mode: int
    mode_name: str
    previous: int | None
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class FaultRaised(_Event):
    """A safety or fault condition appeared. ``kind`` is bounded: use it as a metric label."""

    kind: str  # plc_fault | e_stop | door_open | safety | host_watchdog
    code: int
    description: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class FaultCleared(_Event):
    kind: str
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobQueued(_JobEvent):
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobAccepted(_JobEvent):
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobStarted(_JobEvent):
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class JobFinished(_JobEvent):
    """A job reached a terminal state (see ``job.state``, ``job.completion``, ``job.result``).

    For ``DONE`` the result is stored in the journal before this event is emitted and before the
    PLC is acknowledged. ``duration_s`` runs from the strobe to the PLC's result (from the
    acceptance for a job adopted after a restart; None if the PLC never accepted it).
    """

    description: str
    duration_s: float | None

    @property
    def alarm(self) -> bool:
        return self.job.result != "ok"


@dataclass(frozen=True, slots=True)
class JobException(_JobEvent):
    """The PLC holds the job and waits for ``decide(job_id, ...)``."""

    exception: ExcReq
    description: str
    decisions: tuple[ExcDecision, ...]
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ExceptionCleared(_JobEvent):
    decision: ExcDecision
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class AcceptTimeout(_JobEvent):
    """No accept or reject within the accept timeout. Never resent automatically."""

    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ExecutionTimeout(_JobEvent):
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class OutcomeUnknown(_JobEvent):
    """The PLC shows neither the job active nor its result: verify jobs will establish it."""

    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class IdMismatch(_JobEvent):
    """The PLC reported success but read another box id than expected: not accepted."""

    expected: str
    read: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ForeignResultAcknowledged(_Event):
    """The PLC held a result for a job id this host is not tracking; it was acknowledged."""

    job_id: int
    completion_code: int
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class JournalUnavailable(_Event):
    """The job journal cannot be written: the PLC's answers are held unacknowledged and no
    command is sent until it can (journal first, docs/design.md §4.3); heartbeats go on."""

    reason: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class JournalRestored(_Event):
    """The held journal records are written; the PLC is acknowledged and commands resume."""

    written: int
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class StationBoxTaken(_Event):
    """The station sensor says the box a retrieval left there is gone: a person took it."""

    station: str
    box_id: str
    ref: str | None
    job_id: int | None
    alarm: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class StationMismatch(_Event):
    """The station sensor says occupied where the host recorded no box (see stacker.stations)."""

    station: str
    message: str
    alarm: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class StationMismatchCleared(_Event):
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
