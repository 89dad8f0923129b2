"""The job journal as the controller writes it, holding its records while it cannot be written.

When the journal's database is unreachable, the records are *held* in memory, in order, and
retried every second: meanwhile the heartbeat goes on, the PLC keeps running the job it has, its
result waits unacknowledged in its registers, and no register other than the heartbeat is
written and no command is sent (the controller asks :attr:`HeldJournal.held`). Once the held
records are written, in their order, the controller repeats the writes it skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from stacker.cells import CellAddress
from stacker.events import JournalRestored, JournalUnavailable, StackerEvent
from stacker.journal import Job, Journal
from stacker.service.status import StackerMetrics

log = logging.getLogger(__name__)

RETRY_S = 1.0
"""How long to wait before trying a failed journal again."""


class HeldJournal:
    """Writes job states to ``journal``, or holds them (behind any already held) for a retry."""

    def __init__(
        self,
        stacker_id: str,
        journal: Journal,
        metrics: StackerMetrics,
        *,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        emit: Callable[[StackerEvent], None],
    ) -> None:
        self.stacker_id = stacker_id
        self.journal = journal
        self._metrics = metrics
        self._clock = clock
        self._wall = wall_clock
        self._emit = emit
        self._unsaved: list[Job] = []
        """Journal records not yet written, oldest first (each state change once)."""
        self._unqueued: list[tuple[Job, CellAddress]] = []
        """Verify jobs (parent, cell) that could not be recorded yet."""
        self._failing = False
        self.retry_at = 0.0

    @property
    def held(self) -> int:
        """How many records wait to be written (0: the journal is up to date)."""
        return len(self._unsaved) + len(self._unqueued)

    def due(self, now: float) -> bool:
        return self.held > 0 and now >= self.retry_at

    async def save(self, job: Job) -> None:
        """Record a job's new state, or hold it for a retry."""
        if not self.held:
            try:
                await self.journal.update(job)
                return
            except Exception as e:
                self.failed(e)
        self._unsaved.append(job)

    def hold_verify(self, parent: Job, cell: CellAddress) -> None:
        """Remember a verify of ``parent`` at ``cell`` to record once the journal is back."""
        self._unqueued.append((parent, cell))

    def failed(self, error: Exception) -> None:
        self._metrics.journal_failures_total += 1
        self.retry_at = self._clock() + RETRY_S
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        if not self._failing:
            self._failing = True
            log.error("stacker %s: the job journal cannot be written (%s); the PLC's answers "
                      "are held and no command is sent until it can", self.stacker_id,
                      reason)  # fmt: skip
            self._emit(JournalUnavailable(self.stacker_id, self._wall(), reason))

    async def write_held(
        self, record_verify: Callable[[Job, CellAddress], Awaitable[None]]
    ) -> bool:
        """Write the held records in order; True once all are written."""
        written = 0
        try:
            while self._unsaved:
                await self.journal.update(self._unsaved[0])
                self._unsaved.pop(0)
                written += 1
            while self._unqueued:
                await record_verify(*self._unqueued[0])
                self._unqueued.pop(0)
                written += 1
        except Exception as e:
            self.failed(e)
            return False
        log.warning("stacker %s: the job journal is written again (%d held record(s))",
                    self.stacker_id, written)  # fmt: skip
        self._failing = False
        self._emit(JournalRestored(self.stacker_id, self._wall(), written))
        return True
