"""What the stacker shows to people and to Prometheus: its status and its counters.

:class:`StackerStatus` is the snapshot behind ``GET /api/v1/stacker``, ``/healthz`` and the
retained ``stacker/state`` topic; :class:`StackerMetrics` holds the counters the daemon's
collectors read, with bounded labels (kinds and results, never job ids or references).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from stacker.describe import doors_text
from stacker.events import (
    FaultRaised,
    JobException,
    ModeChanged,
    StackerDown,
    StackerEvent,
    StackerUp,
)
from stacker.journal import Job
from stacker.registers import Coordinates, Snapshot, Status
from stacker.stations import StationView, StationWait


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
    waiting: dict[int, StationWait]
    """Queued jobs held back because their station is occupied, by job id."""
    blocked: str | None
    """The job in flight waits for a person's decision, and everything behind it waits too."""
    blocked_job: int | None
    stations: tuple[StationView, ...]


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

    def count(self, event: StackerEvent) -> None:
        """Follow the link, mode and faults from the controller's events."""
        if isinstance(event, StackerUp):
            self.up = True
        elif isinstance(event, StackerDown):
            self.up = False
        elif isinstance(event, ModeChanged):
            self.mode = event.mode
        elif isinstance(event, FaultRaised):
            self.faults_total[event.kind] += 1
        elif isinstance(event, JobException):
            for flag in event.exception:
                if flag.name:
                    self.faults_total[flag.name.lower()] += 1


def fault_words(snap: Snapshot | None) -> tuple[str, ...]:
    """The PLC's faults and safety states, in words (empty when there are none)."""
    if snap is None:
        return ()
    faults: list[str] = []
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
    return tuple(faults)
