"""What stands at the stacker's pick/drop stations, and whether a retrieval may go to one now.

A retrieved box stays at its station until a person takes it out, or until a store takes it
back into the rack. A retrieval sent to a station that still holds a box cannot put its box
down: the PLC raises *double storage* and the crane waits, loaded, for a person's decision, and
every job behind it waits too. So a retrieval to an occupied station is not sent: it stays in
the queue, with the reason in words (``waiting_for``), and goes once the station is clear.

Two sources say what stands at a station. The host's own record: the box each retrieval left
there, removed when a store from the station finishes. And the PLC's STATION register (IR27,
b0 occupied), a sensor the PLC reports for one station, the first one configured (the *sensed*
station). When the sensor says a recorded box is gone, the clerk has taken it. When it says
the station holds a box the host did not bring there, the two disagree: a retrieval waits, and
the disagreement is reported (an alarm) once it has blocked a retrieval for ``SETTLE_S`` or has
lasted ``grace_s`` (a clerk puts a box down to store it a moment before asking for the store).
While a job runs to or from a station the sensor is not interpreted: the box is on its way.
A station without a sensor keeps the host's record for the status, but holds no retrieval
back: nothing would tell the host that its box was taken.

Pure: fed job results, the sensor and a clock reading; returns what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stacker.cells import CellAddress, Occupant
from stacker.journal import Job, JobKind, JobState
from stacker.registers import CompletionCode

SETTLE_S = 2.0
"""How long an unknown box may hold a waiting retrieval back before it is reported: the time
between a clerk putting a box down and the store request arriving."""


@dataclass(frozen=True, slots=True)
class StationBox:
    """A box the host knows stands at a station; ``job_id`` is the retrieval that left it."""

    box_id: str
    ref: str | None
    job_id: int | None


@dataclass(frozen=True, slots=True)
class StationWait:
    """Why a job waits for its station, with the words' parameters (the console translates)."""

    key: str
    """``station_holds_box`` (the host's record) or ``station_occupied`` (only the sensor)."""
    station: str
    box_id: str = ""
    ref: str | None = None
    job_id: int | None = None

    @property
    def text(self) -> str:
        if self.key == "station_holds_box":
            what = self.ref or self.box_id or "a box"
            by = f", retrieved by job {self.job_id}" if self.job_id is not None else ""
            return (
                f"station {self.station} still holds {what}{by}: "
                "waiting for it to be taken out or stored"
            )
        return (
            f"station {self.station} is occupied by a box the stacker did not bring there: "
            "waiting for it to be taken out or stored"
        )


@dataclass(frozen=True, slots=True)
class StationView:
    """One station as ``GET /api/v1/stacker`` shows it."""

    name: str
    cell: CellAddress
    box: StationBox | None
    sensed: bool
    """The PLC reports this station's sensor (IR27)."""
    plc_occupied: bool | None
    """What the sensor says (None: no reading yet, or no sensor for this station)."""
    mismatch: str | None


@dataclass(frozen=True, slots=True)
class BoxTaken:
    """The sensor says a recorded box is gone: a person took it out of the station."""

    station: str
    box: StationBox


@dataclass(frozen=True, slots=True)
class MismatchRaised:
    station: str
    message: str


@dataclass(frozen=True, slots=True)
class MismatchCleared:
    station: str
    reason: str


StationChange = BoxTaken | MismatchRaised | MismatchCleared


class StationBoard:
    """The host's record of each station, reconciled with the PLC's station sensor."""

    def __init__(
        self, stations: Mapping[str, CellAddress], *, sensed: str | None, grace_s: float = 60.0
    ) -> None:
        self._names = {cell: name for name, cell in stations.items()}
        self._cells = dict(stations)
        self._sensed = sensed
        self._grace_s = grace_s
        self._boxes: dict[CellAddress, StationBox] = {}
        self._occupied: bool | None = None
        self._unknown_since: float | None = None
        self._mismatch: str | None = None

    # -- what the host did -----------------------------------------------------------------------

    def seed(self, cell: CellAddress, occupant: Occupant) -> None:
        """A box recorded at the station before this host started (from the ledger)."""
        if cell in self._names:
            self._boxes[cell] = StationBox(occupant.box_id, occupant.ref, None)

    def job_finished(self, job: Job) -> None:
        """Follow a finished job: a store from a station empties it, a retrieval fills it; a
        store that did not take its box in leaves it standing there (unless it found none)."""
        if job.kind is JobKind.VERIFY:
            return
        ok = job.state is JobState.DONE and job.plc_completion == CompletionCode.OK
        if job.source in self._names:
            if ok:
                self._boxes.pop(job.source, None)
            elif job.plc_completion != CompletionCode.EMPTY_RETRIEVAL:
                self._boxes[job.source] = StationBox(job.box_id, job.ref, None)
        if ok and job.destination in self._names:
            box_id = job.read_box_id or job.box_id
            ref = job.ref if job.completion is not CompletionCode.ID_MISMATCH else None
            self._boxes[job.destination] = StationBox(box_id, ref, job.job_id)

    # -- what the PLC says -----------------------------------------------------------------------

    def observe(
        self,
        occupied: bool,
        now: float,
        *,
        in_motion: Iterable[CellAddress] = (),
        to_be_stored: Iterable[CellAddress] = (),
        wanted: Iterable[CellAddress] = (),
    ) -> list[StationChange]:
        """A reading of the sensed station's sensor.

        ``in_motion``: stations the job in flight goes to or comes from (not interpreted);
        ``to_be_stored``: stations a queued store will take a box from (an unknown box there is
        expected); ``wanted``: stations a queued retrieval waits for (a disagreement there is
        reported after ``SETTLE_S``).
        """
        if self._sensed is None:
            return []
        cell = self._cells[self._sensed]
        self._occupied = occupied
        out: list[StationChange] = []
        if cell in set(in_motion):
            return out
        box = self._boxes.get(cell)
        if not occupied and box is not None:
            del self._boxes[cell]
            out.append(BoxTaken(self._sensed, box))
            box = None
        unknown = occupied and box is None and cell not in set(to_be_stored)
        if not unknown:
            self._unknown_since = None
            if self._mismatch is not None:
                self._mismatch = None
                reason = "the station is clear" if not occupied else "the box is accounted for"
                out.append(MismatchCleared(self._sensed, reason))
            return out
        if self._unknown_since is None:
            self._unknown_since = now
        lasted = now - self._unknown_since
        settle = min(self._grace_s, SETTLE_S)
        due = (cell in set(wanted) and lasted >= settle) or lasted >= self._grace_s
        if due and self._mismatch is None:
            self._mismatch = (
                f"station {self._sensed} holds a box the stacker did not bring there "
                "(its sensor says occupied, the host's record says empty)"
            )
            out.append(MismatchRaised(self._sensed, self._mismatch))
        return out

    def link_lost(self) -> None:
        """No reading until the PLC answers again."""
        self._occupied = None

    # -- questions -------------------------------------------------------------------------------

    def waiting_for(self, cell: CellAddress) -> StationWait | None:
        """Why a retrieval to ``cell`` cannot be sent now; None when the station is clear."""
        name = self._names.get(cell)
        if name is None:
            return None
        box = self._boxes.get(cell)
        if box is not None and name == self._sensed:
            return StationWait("station_holds_box", name, box.box_id, box.ref, box.job_id)
        if name == self._sensed and self._occupied:
            return StationWait("station_occupied", name)
        return None

    def views(self) -> tuple[StationView, ...]:
        return tuple(
            StationView(
                name=name,
                cell=cell,
                box=self._boxes.get(cell),
                sensed=name == self._sensed,
                plc_occupied=self._occupied if name == self._sensed else None,
                mismatch=self._mismatch if name == self._sensed else None,
            )
            for name, cell in self._cells.items()
        )
