"""Keeping the host's belief of the rack in step with what the PLC physically did.

A job's completion code says what happened to the boxes: an ``ok`` move empties the source
and fills the destination, an empty retrieval shows the source was empty, a double storage or
an outer cell found occupied shows a box the host did not know of (its identity unknown), an
ID mismatch names the box actually there. Pure functions over :class:`~stacker.cells.CellModel`.
"""

from __future__ import annotations

from stacker.cells import CellModel, Occupant
from stacker.journal import Job, JobKind, JobState
from stacker.registers import CompletionCode, ExcReq


def apply_result(cells: CellModel, job: Job) -> None:
    """Update ``cells`` from a finished job's completion code."""
    if job.state is not JobState.DONE or job.plc_completion is None:
        return
    code = job.plc_completion
    read = job.read_box_id or ""
    src, dst = job.source, job.destination
    known = cells.occupant(src)
    if code == CompletionCode.OK:
        occupant = Occupant(read or job.box_id, job.ref)
        if job.completion is CompletionCode.ID_MISMATCH:
            occupant = Occupant(read, None)  # moved, but not the box we meant
        elif known is not None and not job.ref and known.box_id == occupant.box_id:
            occupant = known
        if job.kind is JobKind.VERIFY:
            if known is None or known.box_id != read:
                cells.place(src, Occupant(read, job.ref if read == job.box_id else None))
        else:
            cells.clear(src)
            cells.place(dst, occupant)
    elif code == CompletionCode.EMPTY_RETRIEVAL:
        cells.clear(src)
    elif code == CompletionCode.DOUBLE_STORAGE:
        if cells.occupant(dst) is None:
            cells.place(dst, Occupant())
    elif code == CompletionCode.ID_MISMATCH and read:
        cells.place(src, Occupant(read, None))
    elif code == CompletionCode.OUTER_CELL_OCCUPIED:
        for cell in (src, dst):
            outer = cell.outer()
            if not cell.is_station and cell.depth > 1 and cells.occupant(outer) is None:
                cells.place(outer, Occupant())


def note_obstacle(cells: CellModel, job: Job) -> None:
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
    if cells.occupant(in_the_way) is None:
        cells.place(in_the_way, Occupant())
