"""What a restarted host does with the jobs its journal left unfinished (docs/design.md §4.3).

The journal says what the host asked for; the PLC's ACTIVE_JOB_ID and LAST_DONE_JOB_ID say what
the crane is doing and what it last finished. Before anything is sent, each unfinished job is
compared with them:

- never sent (``queued``): it goes back in the queue;
- the PLC is running it, or holds its result: follow it as if nothing had happened (the result is
  recorded and acknowledged as usual);
- otherwise its outcome is unknown. Resending could move a box twice, so the host *looks*
  instead: verify jobs (command 5, which only read) scan the destination, then the source, and
  the scans decide whether the job was done, never executed, or needs a person.

A verify job that was itself interrupted is simply superseded: its parent's verification starts
again, since reading a cell twice harms nothing. All functions here are pure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from stacker.cells import CellAddress
from stacker.journal import Job, JobKind, JobPurpose, JobState
from stacker.registers import CompletionCode, Snapshot


class Recovery(enum.Enum):
    REQUEUE = "requeue"
    ADOPT = "adopt"
    VERIFY = "verify"
    SUPERSEDE = "supersede"


def assess(job: Job, snap: Snapshot) -> Recovery:
    """What to do with one unfinished journal job, given the PLC's registers now."""
    if job.state is JobState.QUEUED:
        return Recovery.REQUEUE
    on_plc = job.job_id in (snap.active_job_id, snap.last_done_job_id)
    if on_plc and job.state is not JobState.VERIFYING:
        return Recovery.ADOPT
    if job.purpose is JobPurpose.RECOVERY:
        return Recovery.SUPERSEDE
    return Recovery.VERIFY


def scan_plan(job: Job) -> list[CellAddress]:
    """The cells to scan, in order, to establish what became of ``job``."""
    if job.kind is JobKind.VERIFY:
        return [job.source]
    plan = [job.destination]
    if job.source != job.destination:
        plan.append(job.source)
    return plan


@dataclass(frozen=True, slots=True)
class Resolution:
    state: JobState
    completion: CompletionCode | None
    note: str
    read_box_id: str | None = None


def resolve(parent: Job, scan: Job) -> Resolution | None:
    """Judge ``parent`` from one finished verify job; None means: scan the next cell."""
    code = scan.plc_completion
    read = scan.read_box_id or ""
    found = code == CompletionCode.OK and (not parent.box_id or read == parent.box_id)
    if parent.kind is JobKind.VERIFY:
        completion = _completion(code)
        if completion is None:
            return Resolution(JobState.UNRESOLVED, None, f"verify job {scan.job_id} failed")
        return Resolution(
            JobState.DONE, completion, f"result taken from verify job {scan.job_id}", read
        )
    if scan.source == parent.destination and parent.destination != parent.source:
        if found:
            return Resolution(
                JobState.DONE,
                CompletionCode.OK,
                f"verify job {scan.job_id} found the box at the destination",
                read,
            )
        return None
    if found:
        return Resolution(
            JobState.NOT_EXECUTED,
            None,
            f"verify job {scan.job_id} found the box still at the source",
            read,
        )
    return Resolution(
        JobState.UNRESOLVED,
        None,
        f"box found neither at the destination nor at the source (verify job {scan.job_id}); "
        "someone must check the stacker",
        read,
    )


def _completion(code: int | None) -> CompletionCode | None:
    if code is None:
        return None
    try:
        return CompletionCode(code)
    except ValueError:
        return None
