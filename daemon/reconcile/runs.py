"""Reconciliation runs: the whole catalogue against the room, stored as a report.

A run reads the catalogue in chunks of item ids, each chunk in one query that brings every
fact the rules need (active tag, current and home place, open loan, the active ``missing``
alarm of its tag, the box of a file, the catalogue service's key-field copy, compared in SQL so
the values never reach this process), classifies each item with ``classify`` and writes the
discrepancies in batches. All chunks are read in one read transaction (a snapshot: SQLite WAL
gives it to a deferred transaction, PostgreSQL at REPEATABLE READ), while the rows are written
by short transactions of their own, so a million-item run neither sees the room change under
it nor holds the write lock the gate alarms need. Memory stays bounded by the chunk size and
the location map (thousands of codes), never by the catalogue.

A run is requested (``queued``), executed (``running``) and ends ``done`` with its counts per
class, or ``failed`` with the error; a run the daemon was executing when it stopped is marked
failed at the next start. The end of a run is one transaction with its audit entry and its
``inventory.reconciled`` event (counts only: no references, no key fields).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, FromClause, Row, and_, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.events import Event
from daemon.ledger.errors import NotFound
from daemon.ledger.items import KEY_FIELDS
from daemon.ledger.pairing import Pairing
from daemon.ledger.uow import Ledger
from daemon.ledger.whereabouts import Place
from daemon.messages import verify_result
from daemon.reconcile.classify import (
    CLASSES,
    Finding,
    ItemFacts,
    Sighting,
    UnpairedRecord,
    belongs_to,
    classify,
    no_paper_original,
    unknown_tag,
)
from daemon.store.db import keyset_pages
from daemon.store.schema import (
    alarms,
    campaign_locations,
    catalogue_copies,
    catalogue_records,
    inventory_campaigns,
    item_locations,
    items,
    loans,
    locations,
    reconciliation_rows,
    reconciliation_runs,
    tag_sightings,
    tags,
)

log = logging.getLogger(__name__)

ACTOR = "reconciliation"
_MAX_ID = 2**62
INTERRUPTED = "interrupted: the daemon stopped during the run"
_YIELD_EVERY = 1000
"""Rows classified between two yields to the event loop (a few milliseconds of work)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryReconciled(Event):
    """A reconciliation run finished (MQTT ``events/inventory.reconciled``)."""

    type: ClassVar[str] = "inventory.reconciled"
    run_id: int
    campaign_id: int | None
    items_checked: int
    tags_checked: int
    discrepancies: int
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    room: str
    state: str
    campaign_id: int | None
    requested_by: str
    requested_us: int
    started_us: int | None
    finished_us: int | None
    items_checked: int
    tags_checked: int
    counts: dict[str, int]
    error: str | None

    @property
    def discrepancies(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: int
    discrepancy: str
    ref: str | None
    epc: str | None
    expected: str | None
    seen: str | None
    seen_us: int | None
    detail: str


def _run(row: Row[Any]) -> Run:
    data = row._asdict()
    counts = json.loads(data.pop("counts") or "{}")
    return Run(**data, counts={c: int(counts.get(c, 0)) for c in CLASSES})


def _report_row(row: Row[Any]) -> ReportRow:
    return ReportRow(
        row.id, row.discrepancy, row.ref, row.epc, row.expected, row.seen, row.seen_us, row.detail
    )


def _item_query(room: str, lo: int, hi: int) -> Any:
    """One row per catalogued item with id in (lo, hi], with every fact the rules need.

    The id range is repeated on every table keyed by item, so that PostgreSQL's merge joins
    start their index scans at the chunk instead of at the first item (a quadratic run).
    """

    def of_item(table: FromClause, *also: ColumnElement[bool]) -> ColumnElement[bool]:
        """The rows of ``table`` for the item (and ``also``), in the chunk's id range."""
        item_id = table.c.item_id
        return and_(item_id == items.c.id, *also, item_id > lo, item_id <= hi)

    active = tags.alias("active")
    box = items.alias("box")
    box_at = item_locations.alias("box_at")
    missing = alarms.alias("missing")
    copy = catalogue_copies
    return (
        select(
            items.c.id,
            items.c.ref,
            items.c.kind,
            items.c.parent_ref,
            items.c.home_location_id,
            active.c.epc,
            item_locations.c.location_id,
            item_locations.c.since_us,
            item_locations.c.source,
            loans.c.id.label("loan_id"),
            missing.c.raised_us.label("missing_us"),
            box.c.home_location_id.label("box_home_id"),
            box_at.c.location_id.label("box_at_id"),
            items.c.category,
            items.c.record_id,
            catalogue_records.c.record_id.label("record_known"),
            copy.c.ref.label("copy_ref"),
            *(items.c[f].is_distinct_from(copy.c[f]).label(f"differs_{f}") for f in KEY_FIELDS),
        )
        .select_from(
            items.outerjoin(active, of_item(active, active.c.retired_us.is_(None)))
            .outerjoin(item_locations, of_item(item_locations))
            .outerjoin(loans, of_item(loans, loans.c.returned_us.is_(None)))
            .outerjoin(
                missing,
                and_(
                    missing.c.room == room,
                    missing.c.key == literal("item.missing:") + active.c.epc,
                    missing.c.cleared_us.is_(None),
                ),
            )
            .outerjoin(box, box.c.ref == items.c.parent_ref)
            .outerjoin(box_at, box_at.c.item_id == box.c.id)
            .outerjoin(copy, copy.c.ref == items.c.ref)
            .outerjoin(catalogue_records, catalogue_records.c.record_id == items.c.record_id)
        )
        .where(items.c.id > lo, items.c.id <= hi, items.c.disposition.is_(None))
    )


class Reconciler:
    """Requests, executes and reads the reconciliation runs of one room."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        chunk: int = 10_000,
        batch: int = 5_000,
        sighting_window_s: float = 30 * 86_400,
        pairing: Pairing | None = None,
    ) -> None:
        self.ledger = ledger
        self.pairing = pairing or Pairing()
        self.store = ledger.store
        self.room = ledger.room
        self.chunk = chunk
        self.batch = batch
        self.sighting_window_us = int(sighting_window_s * 1_000_000)

    # -- lifecycle ------------------------------------------------------------------------------

    async def request(self, *, actor: str, campaign_id: int | None = None) -> Run:
        """Record a run to be executed (state ``queued``)."""
        async with self.ledger.transaction(actor) as tx:
            run_id = await tx.insert(
                reconciliation_runs,
                room=self.room,
                state="queued",
                campaign_id=campaign_id,
                requested_by=actor,
                requested_us=tx.at_us,
            )
            tx.audit(
                "reconciliation.requested",
                f"reconciliation:{run_id}",
                {"run_id": run_id, "campaign_id": campaign_id},
            )
        return await self.get(run_id)

    async def reconcile(self, *, actor: str, campaign_id: int | None = None) -> Run:
        """Request a run and execute it now."""
        run = await self.request(actor=actor, campaign_id=campaign_id)
        return await self.execute(run.id)

    async def execute(self, run_id: int) -> Run:
        """Compare catalogue and room; the run ends ``done`` (or ``failed``, and raises)."""
        run = await self.get(run_id)
        async with self.ledger.transaction(ACTOR) as tx:
            await tx.conn.execute(
                update(reconciliation_runs)
                .where(reconciliation_runs.c.id == run_id)
                .values(state="running", started_us=tx.at_us)
            )
            tx.audit("reconciliation.started", f"reconciliation:{run_id}", {"run_id": run_id})
        try:
            counts, items_checked, tags_checked = await self._compare(run)
        except Exception as e:
            await self._fail(run_id, f"{type(e).__name__}: {e}")
            raise
        async with self.ledger.transaction(ACTOR) as tx:
            await tx.conn.execute(
                update(reconciliation_runs)
                .where(reconciliation_runs.c.id == run_id)
                .values(
                    state="done",
                    finished_us=tx.at_us,
                    items_checked=items_checked,
                    tags_checked=tags_checked,
                    counts=json.dumps(counts, separators=(",", ":")),
                )
            )
            tx.audit(
                "reconciliation.finished",
                f"reconciliation:{run_id}",
                {"run_id": run_id, "items_checked": items_checked, "counts": counts},
            )
            tx.emit(
                InventoryReconciled(
                    at_us=tx.at_us,
                    run_id=run_id,
                    campaign_id=run.campaign_id,
                    items_checked=items_checked,
                    tags_checked=tags_checked,
                    discrepancies=sum(counts.values()),
                    counts=counts,
                )
            )
        log.info(
            "reconciliation %d: %d items, %d discrepancies",
            run_id,
            items_checked,
            sum(counts.values()),
        )
        return await self.get(run_id)

    async def _fail(self, run_id: int, error: str) -> None:
        async with self.ledger.transaction(ACTOR) as tx:
            await tx.conn.execute(
                update(reconciliation_runs)
                .where(reconciliation_runs.c.id == run_id)
                .values(state="failed", finished_us=tx.at_us, error=error[:2000])
            )
            tx.audit(
                "reconciliation.failed",
                f"reconciliation:{run_id}",
                {"run_id": run_id, "error": error[:500]},
                outcome="failed",
            )

    async def interrupted(self) -> list[int]:
        """At start: runs left ``running`` failed with the daemon; the ``queued`` ones wait."""
        rows = await self.store.all(
            select(reconciliation_runs.c.id, reconciliation_runs.c.state)
            .where(
                reconciliation_runs.c.room == self.room,
                reconciliation_runs.c.state.in_(("queued", "running")),
            )
            .order_by(reconciliation_runs.c.id)
        )
        for r in rows:
            if r.state == "running":
                await self._fail(r.id, INTERRUPTED)
        return [r.id for r in rows if r.state == "queued"]

    # -- the comparison ---------------------------------------------------------------------------

    async def _compare(self, run: Run) -> tuple[dict[str, int], int, int]:
        places = await self._places()
        failed_cells = await self._failed_verifies(run.campaign_id)
        counts: Counter[str] = Counter()
        pending: list[Finding] = []
        items_checked = tags_checked = 0

        async def keep(finding: Finding) -> None:
            """Count the finding and write it with the batch it completes."""
            nonlocal pending
            counts[finding.discrepancy] += 1
            pending.append(finding)
            if len(pending) >= self.batch:
                await self._write(run.id, pending)
                pending = []

        async with self.store.read() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="REPEATABLE READ")
                # A chunk is a few thousand items: index lookups per item are the right plan.
                # Left to itself the planner hashes whole tables (every box, every copy) for
                # each chunk, which makes a million-item run quadratic.
                await conn.execute(text("SET LOCAL enable_hashjoin = off"))
                await conn.execute(text("SET LOCAL enable_mergejoin = off"))
            records_pushed = (
                await conn.scalar(select(catalogue_records.c.record_id).limit(1))
            ) is not None
            last = 0
            while True:
                hi = await conn.scalar(
                    select(items.c.id)
                    .where(items.c.id > last)
                    .order_by(items.c.id)
                    .offset(self.chunk - 1)
                    .limit(1)
                )
                query = _item_query(self.room, last, _MAX_ID if hi is None else int(hi))
                rows = (await conn.execute(query.order_by(items.c.id))).all()
                if not rows:
                    break
                last = rows[-1].id
                untagged = [r.id for r in rows if r.epc is None]
                retired = await _ever_tagged(conn, untagged) if untagged else set()
                for n, r in enumerate(rows, 1):
                    if n % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # the gates and shelves must not wait for us
                    facts = _facts(
                        r,
                        places,
                        failed_cells,
                        r.id in retired,
                        pairing=self.pairing,
                        records_pushed=records_pushed,
                    )
                    if not belongs_to(facts, self.room):
                        continue
                    items_checked += 1
                    tags_checked += facts.epc is not None
                    for finding in classify(facts):
                        await keep(finding)
            async for sighting in self._unknown_tags(conn, places, run):
                await keep(unknown_tag(sighting))
            async for record in self._records_without_paper(conn):
                await keep(no_paper_original(record))
        if pending:
            await self._write(run.id, pending)
        return {c: counts.get(c, 0) for c in CLASSES}, items_checked, tags_checked

    async def _places(self) -> dict[int, Place]:
        rows = await self.store.all(
            select(locations.c.id, locations.c.code, locations.c.kind, locations.c.room)
        )
        return {r.id: Place(r.code, r.kind, r.room) for r in rows}

    async def _failed_verifies(self, campaign_id: int | None) -> dict[int, str]:
        """location id -> what the campaign's stacker verify of that cell found, when not ok."""
        if campaign_id is None:
            return {}
        rows = await self.store.all(
            select(
                campaign_locations.c.location_id,
                campaign_locations.c.job_id,
                campaign_locations.c.result,
                locations.c.code,
            )
            .select_from(
                campaign_locations.join(
                    locations, locations.c.id == campaign_locations.c.location_id
                )
            )
            .where(
                campaign_locations.c.campaign_id == campaign_id,
                campaign_locations.c.kind == "stacker-cell",
                campaign_locations.c.result.is_not(None),
                campaign_locations.c.result != "ok",
            )
        )
        return {
            r.location_id: f"stacker verify job {r.job_id} of {r.code}: {verify_result(r.result)}"
            for r in rows
        }

    async def _unknown_tags(
        self, conn: AsyncConnection, places: dict[int, Place], run: Run
    ) -> AsyncIterator[Sighting]:
        """Sightings no active tag claims, seen during the campaign (else the last days)."""
        since = run.requested_us - self.sighting_window_us
        if run.campaign_id is not None:
            started = await conn.scalar(
                select(inventory_campaigns.c.started_us).where(
                    inventory_campaigns.c.id == run.campaign_id
                )
            )
            since = int(started) if started is not None else since
        active = tags.alias("active")
        query = (
            select(
                tag_sightings.c.id,
                tag_sightings.c.epc,
                tag_sightings.c.location_id,
                tag_sightings.c.last_us,
            )
            .select_from(
                tag_sightings.outerjoin(
                    active,
                    and_(active.c.epc == tag_sightings.c.epc, active.c.retired_us.is_(None)),
                )
            )
            .where(
                tag_sightings.c.room == self.room,
                tag_sightings.c.last_us >= since,
                active.c.id.is_(None),
            )
        )
        async for rows in keyset_pages(conn, query, tag_sightings.c.id, after=0, size=self.chunk):
            for r in rows:
                place = places.get(r.location_id)
                if place is not None:
                    yield Sighting(r.epc, place, r.last_us)

    async def _records_without_paper(self, conn: AsyncConnection) -> AsyncIterator[UnpairedRecord]:
        """Electronic records of the categories kept on paper that no paper item names."""
        categories = sorted(self.pairing.paper_categories)
        if not categories or not self.pairing.report_records_without_paper:
            return
        paper = items.alias("paper")
        same_ref = items.alias("same_ref")
        query = (
            select(
                catalogue_records.c.record_id,
                catalogue_records.c.ref,
                catalogue_records.c.category,
                same_ref.c.id.label("ref_item"),
            )
            .select_from(
                catalogue_records.outerjoin(
                    paper, paper.c.record_id == catalogue_records.c.record_id
                ).outerjoin(same_ref, same_ref.c.ref == catalogue_records.c.ref)
            )
            .where(catalogue_records.c.category.in_(categories), paper.c.id.is_(None))
        )
        key = catalogue_records.c.record_id
        async for rows in keyset_pages(conn, query, key, after="", size=self.chunk):
            for r in rows:
                yield UnpairedRecord(r.record_id, r.ref, r.category, r.ref_item is not None)

    async def _write(self, run_id: int, findings: Sequence[Finding]) -> None:
        async with self.store.write() as conn:
            await conn.execute(
                reconciliation_rows.insert(),
                [{"run_id": run_id, **dataclasses.asdict(f)} for f in findings],
            )

    # -- reading ----------------------------------------------------------------------------------

    async def get(self, run_id: int) -> Run:
        row = await self.store.first(
            select(reconciliation_runs).where(
                reconciliation_runs.c.id == run_id, reconciliation_runs.c.room == self.room
            )
        )
        if row is None:
            raise NotFound(f"no reconciliation run {run_id} in room {self.room}")
        return _run(row)

    async def recent(self, *, limit: int = 50) -> list[Run]:
        rows = await self.store.all(
            select(reconciliation_runs)
            .where(reconciliation_runs.c.room == self.room)
            .order_by(reconciliation_runs.c.id.desc())
            .limit(limit)
        )
        return [_run(r) for r in rows]

    async def latest_done(self) -> Run | None:
        row = await self.store.first(
            select(reconciliation_runs)
            .where(
                reconciliation_runs.c.room == self.room,
                reconciliation_runs.c.state == "done",
            )
            .order_by(reconciliation_runs.c.id.desc())
            .limit(1)
        )
        return _run(row) if row is not None else None

    async def of_campaign(self, campaign_id: int) -> Run | None:
        """The latest run of a campaign, if it has one."""
        row = await self.store.first(
            select(reconciliation_runs)
            .where(reconciliation_runs.c.campaign_id == campaign_id)
            .order_by(reconciliation_runs.c.id.desc())
            .limit(1)
        )
        return _run(row) if row is not None else None

    async def rows(
        self,
        run_id: int,
        *,
        discrepancy: str | None = None,
        after: int = 0,
        limit: int = 1000,
    ) -> list[ReportRow]:
        """One page of a run's rows in id order (``after`` = the last id of the previous page)."""
        query = select(reconciliation_rows).where(
            reconciliation_rows.c.run_id == run_id, reconciliation_rows.c.id > after
        )
        if discrepancy is not None:
            query = query.where(reconciliation_rows.c.discrepancy == discrepancy)
        rows = await self.store.all(query.order_by(reconciliation_rows.c.id).limit(limit))
        return [_report_row(r) for r in rows]

    async def iter_rows(self, run_id: int, *, page: int = 5000) -> AsyncIterator[list[ReportRow]]:
        """Every row of a run, page by page (a short read each, so a slow reader holds nothing)."""
        after = 0
        while True:
            rows = await self.rows(run_id, after=after, limit=page)
            if not rows:
                return
            yield rows
            after = rows[-1].id


async def _ever_tagged(conn: AsyncConnection, item_ids: Sequence[int]) -> set[int]:
    """Which of these (untagged) items had a tag once."""
    found: set[int] = set()
    for i in range(0, len(item_ids), 1000):
        rows = await conn.execute(
            select(tags.c.item_id).where(tags.c.item_id.in_(item_ids[i : i + 1000])).distinct()
        )
        found.update(int(v) for v in rows.scalars())
    return found


def _facts(
    r: Sequence[Any],
    places: dict[int, Place],
    failed_cells: dict[int, str],
    retired: bool,
    *,
    pairing: Pairing,
    records_pushed: bool,
) -> ItemFacts:
    # Positional: a million attribute look-ups by name cost seconds (columns of _item_query).
    (
        item_id,
        ref,
        kind,
        parent_ref,
        home_id,
        epc,
        location_id,
        since_us,
        source,
        loan_id,
        missing_us,
        box_home_id,
        box_at_id,
        category,
        record_id,
        record_known,
        copy_ref,
        *differs,
    ) = r
    box_id = box_at_id if box_at_id is not None else box_home_id
    return ItemFacts(
        item_id,
        ref,
        kind,
        epc,
        epc is not None or retired,
        None if home_id is None else places.get(home_id),
        None if location_id is None else places.get(location_id),
        since_us,
        source,
        loan_id,
        missing_us,
        parent_ref,
        None if box_id is None else places.get(box_id),
        () if copy_ref is None else tuple(f for f, d in zip(KEY_FIELDS, differs, strict=True) if d),
        None if location_id is None else failed_cells.get(location_id),
        record_id,
        pairing.needs_record(category),
        (record_known is not None) if records_pushed else None,
    )
