"""Turning a request into a job: which cell a box comes from and which cell or station it goes to.

A retrieval starts at the item's cell (the host's occupancy model knows where it is) and goes
to a station; a store starts at a station and goes to the cell asked for or to the free cell
nearest the station; a relocation moves a box to another free cell; a verify scans a cell in
place. Requests the rack cannot satisfy now are refused with the reason (409); malformed ones
are invalid (422). Pure: no I/O, the caller passes the jobs already pending.
"""

from __future__ import annotations

from collections.abc import Iterable

from stacker.cells import CellAddress, CellModel, Occupant
from stacker.handshake import DecisionRefused
from stacker.journal import Job, JobKind
from stacker.registers import BOX_ID_CHARS
from stacker.service.errors import CommandRefused, InvalidJob


class Planner:
    """Plans jobs against one stacker's occupancy model."""

    def __init__(self, stacker_id: str, cells: CellModel, default_station: str) -> None:
        self.stacker_id = stacker_id
        self.cells = cells
        self.default_station = default_station

    def station(self, name: str | None) -> CellAddress:
        name = name or self.default_station
        cell = self.cells.stations.get(name)
        if cell is None:
            raise InvalidJob(f"unknown station {name!r}")
        return cell

    def plan(
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
        pending: Iterable[Job],
        now: float,
    ) -> Job:
        cells = self.cells
        for cell in (source, destination):
            if cell is not None and not cells.is_valid(cell):
                raise InvalidJob(f"{cell} is not a cell or station of stacker {self.stacker_id}")
        if kind is JobKind.STORE:
            src = source or self.station(station)
            if destination is None:
                dst = cells.choose_free(src)
                if dst is None:
                    raise CommandRefused("the stacker has no free cell")
            else:
                dst = destination
        else:
            src = source or self.locate(ref, box_id)
            if kind is JobKind.RETRIEVE:
                dst = destination or self.station(station)
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
        for other in pending:
            if other.state.terminal:
                continue
            if src in (other.source, other.destination) and not src.is_station:
                raise CommandRefused(f"cell {src} already has job {other.job_id} pending")
        box = box_id or ""
        if len(box) > BOX_ID_CHARS:
            raise InvalidJob(f"box id longer than {BOX_ID_CHARS} characters")
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

    def locate(self, ref: str | None, box_id: str | None) -> CellAddress:
        if ref is None and not box_id:
            raise InvalidJob("name the item (ref), the box id or the source cell")
        cell = self.cells.locate(ref=ref, box_id=box_id)
        if cell is None:
            raise CommandRefused(f"item {ref or box_id} is not in the stacker")
        return cell

    def redirect_destination(self, job: Job, wanted: CellAddress | None) -> CellAddress:
        """Where a box refused at ``job``'s destination goes instead (the cell asked, or the
        nearest free one)."""
        if wanted is not None:
            problem = self.cells.destination_problem(wanted, job.job_id)
            if problem is not None or wanted.is_station:
                raise DecisionRefused(problem or "redirect goes to a rack cell")
            return wanted
        free = self.cells.choose_free(job.destination, exclude=(job.destination,))
        if free is None:
            raise DecisionRefused("no free cell to redirect to")
        return free
