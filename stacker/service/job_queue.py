"""The stacker's job queue and its record of recent jobs.

Jobs run one at a time per stacker: recovery verifies first, then urgent jobs, then the rest,
first come first served within each rank. Jobs not yet finished are kept by id; finished ones
are remembered (the most recent ``kept``) so the API can still answer for them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from stacker.journal import Job, JobPurpose


def rank(job: Job) -> int:
    """0 for recovery verifies, 1 for urgent jobs, 2 for the others (lower goes first)."""
    if job.purpose is JobPurpose.RECOVERY:
        return 0
    return 1 if job.urgent else 2


class JobQueue:
    """Queued jobs in sending order, and every known job by id."""

    def __init__(self, kept: int = 1000) -> None:
        self._kept = kept
        self._queue: list[Job] = []
        self._jobs: dict[int, Job] = {}
        self._finished: OrderedDict[int, Job] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queue)

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._queue))

    def __contains__(self, job: Job) -> bool:
        return job in self._queue

    def snapshot(self) -> tuple[Job, ...]:
        return tuple(self._queue)

    def queued(self, job_id: int) -> Job | None:
        return next((j for j in self._queue if j.job_id == job_id), None)

    def job(self, job_id: int) -> Job | None:
        """A job's latest known state, running, queued or recently finished."""
        return self._jobs.get(job_id) or self._finished.get(job_id)

    def unfinished(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def known(self, job_id: int) -> bool:
        return job_id in self._jobs or job_id in self._finished

    def track(self, job: Job) -> None:
        """Remember ``job``'s latest state."""
        if job.state.terminal:
            self._jobs.pop(job.job_id, None)
            self._finished[job.job_id] = job
            self._finished.move_to_end(job.job_id)
            while len(self._finished) > self._kept:
                self._finished.popitem(last=False)
        else:
            self._jobs[job.job_id] = job

    def add(self, job: Job, *, front: bool = False) -> None:
        """Queue ``job`` behind those of its rank (or first of all, to put one back)."""
        self.track(job)
        if front:
            self._queue.insert(0, job)
            return
        index = len(self._queue)
        for i, queued in enumerate(self._queue):
            if rank(queued) > rank(job):
                index = i
                break
        self._queue.insert(index, job)

    def remove(self, job: Job) -> None:
        if job in self._queue:
            self._queue.remove(job)
