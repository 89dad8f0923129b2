"""Inventory campaigns: a full sweep of the room, ended by a reconciliation run.

docs/design.md §5.6 asks for a full inventory at least every half year. The shelf readers
inventory all the time, so a campaign does not start them; it marks the moment from which sweeps
count and waits until every shelf location has had enough full sweeps since
(``inventory.sweeps``, by default the shelf engine's ``missing_sweeps``: by then the engine has
reported every item that is not there). Stacker cells have no shelf antenna; when asked, the
campaign queues a verify job (an RFID scan by the crane) for every cell the records say holds an
item, and a cell counts as swept when its job is done, whatever it found; a scan that did not
find the expected box becomes a ``missing`` row of the campaign's run. Coverage is locations
swept over locations to sweep, kept per location in ``campaign_locations`` so a restart of the
daemon loses none of it (sweeps are counted afresh from the restart).

A campaign is ``running``, then ``finishing`` (coverage complete, or staff asked to finish with
what it has), then ``done`` once its reconciliation run has finished; or ``cancelled``. One
running or finishing campaign per room: a partial unique index decides between two desks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from daemon.clock import seconds_to_us
from daemon.ledger.errors import Conflict, Invalid, NotFound
from daemon.ledger.locations import Locations
from daemon.ledger.uow import Ledger
from daemon.store.schema import (
    campaign_locations,
    inventory_campaigns,
    item_locations,
    locations,
)
from rfid.service.readers import RoomReaders
from stacker.service.room import StackerService

log = logging.getLogger(__name__)

ACTIVE = ("running", "finishing")


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    room: str
    state: str
    started_us: int
    started_by: str
    finished_us: int | None
    stacker: bool
    sweeps: int
    locations_total: int
    locations_swept: int
    run_id: int | None
    note: str

    @property
    def coverage(self) -> float:
        """Locations swept / locations to sweep (1.0 for a campaign with nothing to sweep)."""
        return self.locations_swept / self.locations_total if self.locations_total else 1.0


@dataclass(frozen=True, slots=True)
class CampaignLocation:
    code: str
    kind: str
    swept_us: int | None
    job_id: int | None
    result: str | None


class Campaigns:
    def __init__(
        self,
        ledger: Ledger,
        locations_: Locations,
        readers: RoomReaders | None,
        *,
        sweeps: int,
        stacker: StackerService | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ledger = ledger
        self.locations = locations_
        self.readers = readers
        self.sweeps = sweeps
        self.stacker = stacker
        self.clock = clock
        self.room = ledger.room
        self._marked_for: int | None = None

    # -- staff --------------------------------------------------------------------------------

    async def start(self, *, actor: str, stacker: bool = False, note: str = "") -> Campaign:
        """Begin a campaign over every shelf location (and occupied stacker cell if asked)."""
        if stacker and self.stacker is None:
            raise Conflict("this room has no stacker; start the campaign without stacker cells")
        shelves = self.readers.sweeps.locations if self.readers is not None else []
        async with self.ledger.store.read() as conn:
            shelf_ids = await self.locations.ids(conn, shelves)
            cells = (
                []
                if not stacker
                else (
                    await conn.execute(
                        select(locations.c.id)
                        .select_from(
                            item_locations.join(
                                locations, locations.c.id == item_locations.c.location_id
                            )
                        )
                        .where(locations.c.kind == "stacker-cell", locations.c.room == self.room)
                        .distinct()
                    )
                )
                .scalars()
                .all()
            )
        targets = [(shelf_ids[c], "shelf") for c in shelves if c in shelf_ids]
        targets += [(int(c), "stacker-cell") for c in cells]
        if not targets:
            raise Invalid("nothing to sweep: no shelf reader antennas and no occupied cells")
        try:
            async with self.ledger.transaction(actor) as tx:
                campaign_id = await tx.insert(
                    inventory_campaigns,
                    room=self.room,
                    state="running",
                    started_us=tx.at_us,
                    started_by=actor,
                    stacker=stacker,
                    sweeps=self.sweeps,
                    locations_total=len(targets),
                    note=note,
                )
                await tx.conn.execute(
                    campaign_locations.insert(),
                    [
                        {"campaign_id": campaign_id, "location_id": loc, "kind": kind}
                        for loc, kind in targets
                    ],
                )
                tx.audit(
                    "inventory.campaign_started",
                    f"campaign:{campaign_id}",
                    {
                        "campaign_id": campaign_id,
                        "shelves": sum(k == "shelf" for _, k in targets),
                        "cells": sum(k == "stacker-cell" for _, k in targets),
                        "sweeps": self.sweeps,
                    },
                )
                started_us = tx.at_us
        except IntegrityError:
            raise Conflict("an inventory campaign is already running in this room") from None
        self._mark(campaign_id, started_us)
        return await self.get(campaign_id)

    async def request_finish(self, campaign_id: int, *, actor: str) -> Campaign:
        """End the sweep with the coverage reached; the reconciliation follows."""
        await self._transition(campaign_id, "running", "finishing", actor, "finish_requested")
        return await self.get(campaign_id)

    async def cancel(self, campaign_id: int, *, actor: str) -> Campaign:
        """Give up a campaign (running, or finishing with a run that failed)."""
        await self._transition(campaign_id, ACTIVE, "cancelled", actor, "cancelled")
        return await self.get(campaign_id)

    async def _transition(
        self,
        campaign_id: int,
        from_states: str | tuple[str, ...],
        to_state: str,
        actor: str,
        what: str,
    ) -> None:
        allowed = (from_states,) if isinstance(from_states, str) else from_states
        campaign = await self.get(campaign_id)
        async with self.ledger.transaction(actor) as tx:
            values: dict[str, object] = {"state": to_state}
            if to_state == "cancelled":
                values["finished_us"] = tx.at_us
            result = await tx.conn.execute(
                update(inventory_campaigns)
                .where(
                    inventory_campaigns.c.id == campaign_id,
                    inventory_campaigns.c.state.in_(allowed),
                )
                .values(**values)
            )
            if result.rowcount != 1:
                raise Conflict(
                    f"campaign {campaign_id} is {campaign.state}, not {' or '.join(allowed)}"
                )
            tx.audit(
                f"inventory.campaign_{what}",
                f"campaign:{campaign_id}",
                {
                    "campaign_id": campaign_id,
                    "locations_swept": campaign.locations_swept,
                    "locations_total": campaign.locations_total,
                },
            )

    # -- the service loop ---------------------------------------------------------------------

    async def active(self) -> Campaign | None:
        campaign_id = await self.ledger.store.scalar(
            select(inventory_campaigns.c.id).where(
                inventory_campaigns.c.room == self.room,
                inventory_campaigns.c.state.in_(ACTIVE),
            )
        )
        return None if campaign_id is None else await self.get(int(campaign_id))

    async def progress(self) -> Campaign | None:
        """Count the sweeps of the active campaign; ``finishing`` once every location is swept."""
        campaign = await self.active()
        if campaign is None or campaign.state != "running":
            return campaign
        if self._marked_for != campaign.id:  # the daemon restarted during the campaign
            self._mark(campaign.id, seconds_to_us(self.clock()))
        newly: list[int] = []
        if self.readers is not None:
            waiting = await self.ledger.store.all(_unswept(campaign.id, "shelf"))
            newly = [
                r.location_id
                for r in waiting
                if self.readers.sweeps.since_mark(r.code) >= campaign.sweeps
            ]
        if newly:
            async with self.ledger.store.write() as conn:
                await conn.execute(
                    update(campaign_locations)
                    .where(
                        campaign_locations.c.campaign_id == campaign.id,
                        campaign_locations.c.location_id.in_(newly),
                    )
                    .values(swept_us=seconds_to_us(self.clock()))
                )
            await self._count(campaign.id)
        await self._queue_verifies(campaign)
        campaign = await self.get(campaign.id)
        if campaign.locations_swept >= campaign.locations_total:
            async with self.ledger.transaction("inventory") as tx:
                await tx.conn.execute(
                    update(inventory_campaigns)
                    .where(
                        inventory_campaigns.c.id == campaign.id,
                        inventory_campaigns.c.state == "running",
                    )
                    .values(state="finishing")
                )
                tx.audit(
                    "inventory.campaign_swept",
                    f"campaign:{campaign.id}",
                    {"campaign_id": campaign.id, "locations": campaign.locations_total},
                )
            campaign = await self.get(campaign.id)
        return campaign

    async def _queue_verifies(self, campaign: Campaign) -> None:
        """Queue a verify job for each cell still waiting for one (a refusal is retried later)."""
        if not campaign.stacker or self.stacker is None:
            return
        async with self.ledger.store.read() as conn:
            query = _unswept(campaign.id, "stacker-cell").where(
                campaign_locations.c.job_id.is_(None)
            )
            cells = (await conn.execute(query.order_by(locations.c.code))).all()
        for cell in cells:
            try:
                job = await self.stacker.queue_verify(cell.code, actor=f"campaign:{campaign.id}")
            except (Conflict, Invalid) as e:
                log.info("campaign %d: verify of %s not queued now: %s", campaign.id, cell.code, e)
                return
            async with self.ledger.store.write() as conn:
                await conn.execute(
                    update(campaign_locations)
                    .where(
                        campaign_locations.c.campaign_id == campaign.id,
                        campaign_locations.c.location_id == cell.location_id,
                    )
                    .values(job_id=job.job_id)
                )

    async def verify_finished(self, job_id: int, *, done: bool, result: str) -> None:
        """A stacker job ended: if it is a campaign's verify, the cell is swept (when ``done``)
        or waits for a new job (refused, cancelled, unresolved)."""
        async with self.ledger.store.write() as conn:
            row = (
                await conn.execute(
                    select(campaign_locations.c.campaign_id, campaign_locations.c.location_id)
                    .select_from(
                        campaign_locations.join(
                            inventory_campaigns,
                            inventory_campaigns.c.id == campaign_locations.c.campaign_id,
                        )
                    )
                    .where(
                        campaign_locations.c.job_id == job_id,
                        campaign_locations.c.swept_us.is_(None),
                        inventory_campaigns.c.room == self.room,
                        inventory_campaigns.c.state == "running",
                    )
                )
            ).first()
            if row is None:
                return
            await conn.execute(
                update(campaign_locations)
                .where(
                    campaign_locations.c.campaign_id == row.campaign_id,
                    campaign_locations.c.location_id == row.location_id,
                )
                .values(
                    swept_us=seconds_to_us(self.clock()) if done else None,
                    job_id=job_id if done else None,
                    result=result,
                )
            )
        await self._count(row.campaign_id)

    async def finished(self, campaign_id: int, run_id: int) -> Campaign:
        """The campaign's reconciliation run is done: so is the campaign."""
        async with self.ledger.transaction("inventory") as tx:
            await tx.conn.execute(
                update(inventory_campaigns)
                .where(inventory_campaigns.c.id == campaign_id)
                .values(state="done", finished_us=tx.at_us, run_id=run_id)
            )
            tx.audit(
                "inventory.campaign_done",
                f"campaign:{campaign_id}",
                {"campaign_id": campaign_id, "run_id": run_id},
            )
        return await self.get(campaign_id)

    def _mark(self, campaign_id: int, started_us: int) -> None:
        if self.readers is not None:
            self.readers.sweeps.mark(max(started_us / 1_000_000, self.clock()))
        self._marked_for = campaign_id

    async def _count(self, campaign_id: int) -> None:
        async with self.ledger.store.write() as conn:
            swept = await conn.scalar(
                select(func.count())
                .select_from(campaign_locations)
                .where(
                    campaign_locations.c.campaign_id == campaign_id,
                    campaign_locations.c.swept_us.is_not(None),
                )
            )
            await conn.execute(
                update(inventory_campaigns)
                .where(inventory_campaigns.c.id == campaign_id)
                .values(locations_swept=int(swept or 0))
            )

    # -- reading ------------------------------------------------------------------------------

    async def get(self, campaign_id: int) -> Campaign:
        row = await self.ledger.store.first(
            select(inventory_campaigns).where(
                inventory_campaigns.c.id == campaign_id,
                inventory_campaigns.c.room == self.room,
            )
        )
        if row is None:
            raise NotFound(f"no inventory campaign {campaign_id} in room {self.room}")
        return Campaign(**row._asdict())

    async def recent(self, *, limit: int = 20) -> list[Campaign]:
        rows = await self.ledger.store.all(
            select(inventory_campaigns)
            .where(inventory_campaigns.c.room == self.room)
            .order_by(inventory_campaigns.c.id.desc())
            .limit(limit)
        )
        return [Campaign(**r._asdict()) for r in rows]

    async def locations_of(self, campaign_id: int) -> list[CampaignLocation]:
        rows = await self.ledger.store.all(
            select(
                locations.c.code,
                campaign_locations.c.kind,
                campaign_locations.c.swept_us,
                campaign_locations.c.job_id,
                campaign_locations.c.result,
            )
            .select_from(_with_codes)
            .where(campaign_locations.c.campaign_id == campaign_id)
            .order_by(locations.c.code)
        )
        return [CampaignLocation(**r._asdict()) for r in rows]

    async def last_done_us(self) -> int | None:
        value = await self.ledger.store.scalar(
            select(func.max(inventory_campaigns.c.finished_us)).where(
                inventory_campaigns.c.room == self.room,
                inventory_campaigns.c.state == "done",
            )
        )
        return None if value is None else int(value)


_with_codes = campaign_locations.join(locations, locations.c.id == campaign_locations.c.location_id)
"""A campaign's locations with their codes."""


def _unswept(campaign_id: int, kind: str) -> Select[tuple[int, str]]:
    """The locations of ``kind`` (``shelf``, ``stacker-cell``) that campaign ``campaign_id``
    has not swept yet: their ids and codes."""
    return (
        select(campaign_locations.c.location_id, locations.c.code)
        .select_from(_with_codes)
        .where(
            campaign_locations.c.campaign_id == campaign_id,
            campaign_locations.c.kind == kind,
            campaign_locations.c.swept_us.is_(None),
        )
    )
