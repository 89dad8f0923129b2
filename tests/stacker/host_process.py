"""A stacker host in its own process, for the test that kills it with SIGKILL mid-job.

Usage: ``python -m tests.stacker.host_process URL JOURNAL``. It retrieves the box ``BOX-K`` from
cell a1-s1-b9-l1-d1 and prints ``ACCEPTED <job id>`` once the PLC has taken the job, then keeps
running until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from stacker.cells import CellAddress, Occupant
from stacker.events import JobAccepted, StackerEvent
from stacker.journal import JsonlJournal
from stacker.service.controller import StackerController
from tests.stacker.conftest import stacker_config

CELL = CellAddress(1, 1, 9, 1, 1)


async def main(url: str, journal_path: str) -> None:
    def on_event(event: StackerEvent) -> None:
        if isinstance(event, JobAccepted):
            sys.stdout.write(f"ACCEPTED {event.job.job_id}\n")
            sys.stdout.flush()

    controller = StackerController(
        stacker_config(url),
        JsonlJournal(Path(journal_path)),
        on_event=on_event,
        occupancy=[(CELL, Occupant("BOX-K", "R-K"))],
    )
    task = asyncio.create_task(controller.run())
    while controller.status().refusal is not None:
        await asyncio.sleep(0.02)
    await controller.submit("retrieve", ref="R-K")
    await task


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
