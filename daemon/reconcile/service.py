"""The room's inventory service: reconciliation runs, campaigns, spot checks, the schedule.

One supervised service in the daemon. Runs requested through the API wait in a queue and are
executed one at a time (a run reads the whole catalogue; two at once would only compete); a
campaign's coverage is counted every second, and when it is complete (or staff finish it) its
run is queued like any other and the campaign ends with it. Every so often the service checks
the schedule (a full inventory at least every ``inventory.campaign_interval_days``,
docs/design.md §5.6) and raises the ``inventory.due`` reminder when one is due, and refreshes
the metrics from the latest run and campaign, so runs made from the command line show up too.

Before a run, the unknown tags the shelf engine still holds on a shelf are marked as seen now:
a stranger settles once, and without this its sighting would age out of the report while it
is still sitting on the shelf.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy import func, select, update

from daemon.clock import now_us, seconds_to_us
from daemon.config import ArchroomConfig
from daemon.device_kit import DeviceKit
from daemon.events import StackerJobChanged
from daemon.ledger.pairing import Pairing
from daemon.reconcile.campaigns import Campaigns
from daemon.reconcile.classify import CLASSES
from daemon.reconcile.copies import CatalogueCopies
from daemon.reconcile.runs import INTERRUPTED, Reconciler, Run
from daemon.reconcile.spotcheck import SpotChecks
from daemon.store.schema import audit, tag_sightings
from rfid.service.readers import RoomReaders
from stacker.service.room import StackerService

log = logging.getLogger(__name__)

_DAY_US = 86_400_000_000


class Inventory:
    TICK_S = 1.0
    METRICS_S = 30.0

    def __init__(
        self,
        config: ArchroomConfig,
        kit: DeviceKit,
        *,
        readers: RoomReaders | None,
        stacker: StackerService | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings = config.inventory
        ledger, locations = kit.ledger, kit.locations
        self.config = config
        self.ledger = ledger
        self.alarms = kit.alarms
        self.metrics = kit.metrics
        self.readers = readers
        self.stacker = stacker
        self.clock = clock
        self.room = ledger.room
        self.interval_us = int(settings.campaign_interval_days * _DAY_US)
        self.reminder_check_s = settings.reminder_check_s
        self.reconciler = Reconciler(
            ledger,
            chunk=settings.chunk,
            sighting_window_s=settings.unknown_tag_days * 86_400,
            pairing=Pairing.of(config.pairing),
        )
        self.campaigns = Campaigns(
            ledger,
            locations,
            readers,
            sweeps=settings.sweeps or config.shelf.missing_sweeps,
            stacker=stacker,
            clock=clock,
        )
        self.copies = CatalogueCopies(ledger)
        self.spot_checks = SpotChecks(ledger, locations)
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self.due_key = f"inventory.due:{self.room}"

    # -- what the API calls -------------------------------------------------------------------

    async def request_run(self, *, actor: str) -> Run:
        """Queue a reconciliation run; it executes in the service, in request order."""
        run = await self.reconciler.request(actor=actor)
        self._queue.put_nowait(run.id)
        return run

    # -- the service --------------------------------------------------------------------------

    async def run(self) -> None:
        for run_id in await self.reconciler.interrupted():
            self._queue.put_nowait(run_id)
        await self.refresh_metrics()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._runs(), name="inventory:runs")
            group.create_task(self._ticks(), name="inventory:ticks")
            if self.stacker is not None:
                group.create_task(self._stacker_jobs(), name="inventory:stacker")

    async def _runs(self) -> None:
        while True:
            run_id = await self._queue.get()
            await self.execute(run_id)

    async def execute(self, run_id: int) -> Run | None:
        """Execute a queued run now (a failure is recorded in the run and logged)."""
        await self.refresh_sightings()
        try:
            run = await self.reconciler.execute(run_id)
        except Exception:
            log.exception("reconciliation run %d failed", run_id)
            await self.refresh_metrics()
            return None
        if run.campaign_id is not None:
            await self.campaigns.finished(run.campaign_id, run.id)
            await self.alarms.clear(self.due_key, reason=f"inventory campaign {run.campaign_id}")
        await self.refresh_metrics()
        return run

    async def _ticks(self) -> None:
        next_reminder = next_metrics = 0.0
        while True:
            campaign = await self.campaigns.progress()
            if campaign is not None:
                self.metrics.inventory_coverage.labels(room=self.room).set(campaign.coverage)
                if campaign.state == "finishing" and await self._needs_run(campaign.id):
                    await self._settle()
                    run = await self.reconciler.request(
                        actor=f"campaign:{campaign.id}", campaign_id=campaign.id
                    )
                    self._queue.put_nowait(run.id)
            now = time.monotonic()
            if now >= next_reminder:
                next_reminder = now + self.reminder_check_s
                await self.remind()
            if now >= next_metrics:
                next_metrics = now + self.METRICS_S
                await self.refresh_metrics()
            await asyncio.sleep(self.TICK_S)

    async def _needs_run(self, campaign_id: int) -> bool:
        """A finishing campaign without a run, or whose run the daemon's stop interrupted."""
        run = await self.reconciler.of_campaign(campaign_id)
        return run is None or (run.state == "failed" and (run.error or "").startswith(INTERRUPTED))

    async def _settle(self, limit_s: float = 10.0) -> None:
        """Let the readers record what the engines decided (missing items) before the run."""
        if self.readers is None:
            return
        for _ in range(round(limit_s / 0.05)):
            if self.readers.idle():
                return
            await asyncio.sleep(0.05)

    async def _stacker_jobs(self) -> None:
        subscription = self.ledger.bus.subscribe(StackerJobChanged)
        try:
            while True:
                event = await subscription.get()
                if (
                    isinstance(event, StackerJobChanged)
                    and event.kind == "verify"
                    and event.result is not None
                ):
                    await self.campaigns.verify_finished(
                        event.job_id, done=event.state == "done", result=event.result
                    )
        finally:
            subscription.close()

    async def refresh_sightings(self) -> None:
        """Unknown tags the shelf engine still places on a shelf: seen now."""
        if self.readers is None:
            return
        present = [
            epc
            for epc in list(self.readers.unknown_tags)
            if self.readers.shelf.location_of(epc) is not None
        ]
        if not present:
            return
        async with self.ledger.store.write() as conn:
            for i in range(0, len(present), 1000):
                await conn.execute(
                    update(tag_sightings)
                    .where(
                        tag_sightings.c.room == self.room,
                        tag_sightings.c.epc.in_(present[i : i + 1000]),
                    )
                    .values(last_us=seconds_to_us(self.clock()))
                )

    async def remind(self) -> None:
        """Raise the ``inventory.due`` reminder when a full inventory is due; clear it if not."""
        last = await self.campaigns.last_done_us()
        if last is None:
            first = await self.ledger.store.scalar(
                select(func.min(audit.c.at_us)).where(audit.c.room == self.room)
            )
            last = int(first) if first is not None else now_us()
        due_us = last + self.interval_us
        if seconds_to_us(self.clock()) >= due_us:
            days = self.interval_us / _DAY_US
            await self.alarms.raise_(
                self.due_key,
                kind="inventory.due",
                source="inventory schedule",
                severity="info",
                subject=self.room,
                message=(
                    f"a full inventory of room {self.room} is due (every {days:g} days); "
                    "start a campaign"
                ),
            )
        elif self.alarms.is_active(self.due_key):
            await self.alarms.clear(self.due_key, reason="no inventory due")

    async def refresh_metrics(self) -> None:
        latest = await self.reconciler.latest_done()
        if latest is not None:
            for cls in CLASSES:
                self.metrics.reconciliation_discrepancies.labels(discrepancy=cls).set(
                    latest.counts.get(cls, 0)
                )
            if latest.finished_us is not None:
                self.metrics.reconciliation_last.labels(room=self.room).set(
                    latest.finished_us / 1_000_000
                )
        last = await self.campaigns.last_done_us()
        if last is not None:
            self.metrics.inventory_last.labels(room=self.room).set(last / 1_000_000)
