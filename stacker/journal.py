"""The job journal: what the host has asked the stacker to do, written before it asks.

A crane that moved a box must never be asked to move it again because the host forgot. So every
job is recorded *before* anything reaches the PLC, each state change is recorded before the
register writes it leads to, and a restarted host compares the unfinished jobs with the PLC's
ACTIVE_JOB_ID / LAST_DONE_JOB_ID instead of resending anything (docs/design.md §4.3). Job ids are
uint32, never 0, never reused, and never have a zero low word (the strobe carries the low word).

The daemon implements :class:`Journal` on its SQL store (a ``stacker_jobs`` table);
:class:`JsonlJournal` is a small durable implementation (one JSON object per line, fsynced) for
tests, the simulator demo and tools.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from stacker.cells import CellAddress
from stacker.registers import CommandCode, CompletionCode, ExcReq, next_job_id


class JobKind(StrEnum):
    STORE = "store"
    RETRIEVE = "retrieve"
    RELOCATE = "relocate"
    VERIFY = "verify"

    @property
    def command(self) -> CommandCode:
        return _COMMAND[self]


_COMMAND = {
    JobKind.STORE: CommandCode.STORE,
    JobKind.RETRIEVE: CommandCode.RETRIEVE,
    JobKind.RELOCATE: CommandCode.RELOCATE,
    JobKind.VERIFY: CommandCode.VERIFY,
}


class JobPurpose(StrEnum):
    REQUEST = "request"  # asked for through the API
    SHUFFLE = "shuffle"  # clears the outer cell in front of its parent's inner cell
    RECOVERY = "recovery"  # a verify that establishes the outcome of its parent


class JobState(StrEnum):
    QUEUED = "queued"  # recorded, nothing written to the PLC
    SENDING = "sending"  # data block and strobe are being written
    UNCONFIRMED = "unconfirmed"  # strobe written, no answer within the accept timeout
    ACCEPTED = "accepted"  # the PLC took it (ACTIVE_JOB_ID)
    EXCEPTION = "exception"  # the PLC holds it and waits for a decision
    VERIFYING = "verifying"  # outcome unknown; verify jobs are establishing it
    DONE = "done"  # result stored (completion code)
    REJECTED = "rejected"  # refused by the PLC (reject reason) or by the host
    CANCELLED = "cancelled"  # withdrawn before the PLC got it
    NOT_EXECUTED = "not_executed"  # verify showed the PLC never ran it
    UNRESOLVED = "unresolved"  # verify could not establish the outcome: someone must look

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        JobState.DONE,
        JobState.REJECTED,
        JobState.CANCELLED,
        JobState.NOT_EXECUTED,
        JobState.UNRESOLVED,
    }
)


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    kind: JobKind
    source: CellAddress
    destination: CellAddress
    ref: str | None = None
    box_id: str = ""
    urgent: bool = False
    purpose: JobPurpose = JobPurpose.REQUEST
    parent_id: int | None = None
    state: JobState = JobState.QUEUED
    created_at: float = 0.0
    """Wall-clock seconds since the epoch."""
    updated_at: float = 0.0
    sent_at: float | None = None
    """When the strobe was (last) written."""
    accepted_at: float | None = None
    finished_at: float | None = None
    completion: CompletionCode | None = None
    """The outcome the host recorded (an RFID mismatch overrides the PLC's "ok")."""
    plc_completion: int | None = None
    """COMPLETION_CODE exactly as the PLC reported it: what physically happened."""
    reject_reason: int | None = None
    read_box_id: str | None = None
    exception: ExcReq | None = None
    note: str = ""

    @property
    def result(self) -> str:
        """A bounded label for metrics: the completion code's name or the terminal state."""
        if self.state is JobState.DONE and self.completion is not None:
            return self.completion.name.lower()
        return self.state.value


class Journal(Protocol):
    """Durable record of stacker jobs (one per stacker)."""

    async def next_job_id(self) -> int:
        """A fresh job id: never 0, never reused, low word never 0."""
        ...

    async def record(self, job: Job) -> None:
        """Store a new job. Called before anything about it is written to the PLC."""
        ...

    async def update(self, job: Job) -> None:
        """Replace the stored state of ``job.job_id``."""
        ...

    async def unfinished(self) -> list[Job]:
        """Jobs not in a terminal state, oldest first."""
        ...


@dataclass
class JsonlJournal:
    """A :class:`Journal` in an append-only JSON-lines file, fsynced on every write."""

    path: Path
    _jobs: dict[int, Job] = field(default_factory=dict)
    _last_id: int = 0
    _loaded: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def next_job_id(self) -> int:
        async with self._lock:
            await self._load()
            self._last_id = next_job_id(self._last_id)
            await self._append({"op": "id", "id": self._last_id})
            return self._last_id

    async def record(self, job: Job) -> None:
        async with self._lock:
            await self._load()
            if job.job_id in self._jobs:
                raise ValueError(f"job {job.job_id} is already recorded")
            await self._append({"op": "job", "job": job_to_json(job)})
            self._jobs[job.job_id] = job
            self._last_id = max(self._last_id, job.job_id)

    async def update(self, job: Job) -> None:
        async with self._lock:
            await self._load()
            if job.job_id not in self._jobs:
                raise KeyError(f"job {job.job_id} was never recorded")
            await self._append({"op": "job", "job": job_to_json(job)})
            self._jobs[job.job_id] = job

    async def unfinished(self) -> list[Job]:
        async with self._lock:
            await self._load()
            return sorted(
                (j for j in self._jobs.values() if not j.state.terminal), key=lambda j: j.job_id
            )

    async def get(self, job_id: int) -> Job | None:
        async with self._lock:
            await self._load()
            return self._jobs.get(job_id)

    async def all(self) -> list[Job]:
        async with self._lock:
            await self._load()
            return sorted(self._jobs.values(), key=lambda j: j.job_id)

    async def _load(self) -> None:
        if self._loaded:
            return
        lines = await asyncio.to_thread(_read_lines, self.path)
        for line in lines:
            try:
                entry = json.loads(line)
                if entry["op"] == "id":
                    self._last_id = max(self._last_id, int(entry["id"]))
                elif entry["op"] == "job":
                    job = job_from_json(entry["job"])
                    self._jobs[job.job_id] = job
                    self._last_id = max(self._last_id, job.job_id)
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash: the write it held never completed
        self._loaded = True

    async def _append(self, entry: dict[str, object]) -> None:
        line = json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n"
        await asyncio.to_thread(_append_line, self.path, line)


def _read_lines(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8") as f:
            return [line for line in f.read().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def _append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def job_to_json(job: Job) -> dict[str, object]:
    """A JSON-able form of a job (stable field names; also what the daemon may store)."""
    return {
        "job_id": job.job_id,
        "kind": job.kind.value,
        "source": job.source.code,
        "destination": job.destination.code,
        "ref": job.ref,
        "box_id": job.box_id,
        "urgent": job.urgent,
        "purpose": job.purpose.value,
        "parent_id": job.parent_id,
        "state": job.state.value,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "sent_at": job.sent_at,
        "accepted_at": job.accepted_at,
        "finished_at": job.finished_at,
        "completion": None if job.completion is None else int(job.completion),
        "plc_completion": job.plc_completion,
        "reject_reason": job.reject_reason,
        "read_box_id": job.read_box_id,
        "exception": None if job.exception is None else int(job.exception),
        "note": job.note,
    }


def job_from_json(data: dict[str, object]) -> Job:
    def opt_float(key: str) -> float | None:
        v = data.get(key)
        return None if v is None else float(str(v))

    def opt_int(key: str) -> int | None:
        v = data.get(key)
        return None if v is None else int(str(v))

    completion = opt_int("completion")
    exception = opt_int("exception")
    parent_id = opt_int("parent_id")
    ref = data.get("ref")
    read_box_id = data.get("read_box_id")
    return Job(
        job_id=int(str(data["job_id"])),
        kind=JobKind(str(data["kind"])),
        source=CellAddress.parse(str(data["source"])),
        destination=CellAddress.parse(str(data["destination"])),
        ref=None if ref is None else str(ref),
        box_id=str(data.get("box_id") or ""),
        urgent=bool(data.get("urgent")),
        purpose=JobPurpose(str(data.get("purpose", "request"))),
        parent_id=parent_id,
        state=JobState(str(data["state"])),
        created_at=float(str(data.get("created_at", 0.0))),
        updated_at=float(str(data.get("updated_at", 0.0))),
        sent_at=opt_float("sent_at"),
        accepted_at=opt_float("accepted_at"),
        finished_at=opt_float("finished_at"),
        completion=None if completion is None else CompletionCode(completion),
        plc_completion=opt_int("plc_completion"),
        reject_reason=opt_int("reject_reason"),
        read_box_id=None if read_box_id is None else str(read_box_id),
        exception=None if exception is None else ExcReq(exception),
        note=str(data.get("note") or ""),
    )
