"""Spot checks: a random sample of items that staff look for by hand, outcome by outcome.

The readers can only vouch for what they read; a person at the shelf checks what they cannot
(the label matches the record, the folder holds what the catalogue says). The sample is
*stratified by category*: each category gets its share of the sample in proportion to its
size (largest remainders, ties to the category first in name order), so that a small category
is not skipped by chance and a large one does not crowd out the rest. Within a category, items
are drawn with ``random.Random(seed)`` from the items in id order, so the same seed over the
same catalogue gives the same checklist; the seed is recorded with the check (chosen at random
when none is given) and anyone can redraw it.

Each sampled item gets one outcome, recorded by a person through the API: found as recorded,
found elsewhere (where), not found, or record error (the record is wrong), with a note; every
recording is audited. A check belongs to a reconciliation run (by default the room's latest),
and its results appear in that run's report.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.ledger.errors import Invalid, NotFound
from daemon.ledger.locations import Locations
from daemon.ledger.uow import Ledger
from daemon.reconcile.scope import in_room
from daemon.store.schema import (
    items,
    reconciliation_runs,
    spot_check_items,
    spot_checks,
)

Outcome = Literal["found_as_recorded", "found_elsewhere", "not_found", "record_error"]
OUTCOMES: Final[tuple[Outcome, ...]] = (
    "found_as_recorded",
    "found_elsewhere",
    "not_found",
    "record_error",
)
MAX_SAMPLE = 10_000


def allocate(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Share a sample of ``n`` among categories in proportion to their sizes.

    Hamilton's method: each category gets the whole part of its quota, and the items left go
    to the largest remainders (ties: category name order). Never more than a category holds;
    the whole sample when ``n`` is at least the population.
    """
    total = sum(sizes.values())
    if total <= 0 or n <= 0:
        return dict.fromkeys(sizes, 0)
    n = min(n, total)
    quotas = {c: n * size / total for c, size in sizes.items()}
    shares = {c: int(q) for c, q in quotas.items()}
    left = n - sum(shares.values())
    for c in sorted(quotas, key=lambda c: (-(quotas[c] - shares[c]), c))[:left]:
        shares[c] += 1
    return shares


def draw(rng: random.Random, size: int, k: int) -> list[int]:
    """``k`` distinct positions out of ``size``, ascending."""
    return sorted(rng.sample(range(size), k))


@dataclass(frozen=True, slots=True)
class CheckItem:
    position: int
    ref: str
    category: str
    expected: str | None
    outcome: str | None
    found_at: str | None
    note: str | None
    recorded_us: int | None
    recorded_by: str | None


@dataclass(frozen=True, slots=True)
class SpotCheck:
    id: int
    room: str
    run_id: int | None
    seed: int
    size: int
    created_us: int
    created_by: str
    note: str
    items: list[CheckItem]

    def outcomes(self) -> dict[str, int]:
        """How many items have each outcome (``pending``: not recorded yet)."""
        counts = Counter(i.outcome or "pending" for i in self.items)
        return {o: counts.get(o, 0) for o in (*OUTCOMES, "pending")}


_CHECK_ITEM_COLUMNS = [c for c in spot_check_items.c if c.name not in ("check_id", "item_id")]
"""What a ``CheckItem`` holds of its row."""


class SpotChecks:
    def __init__(self, ledger: Ledger, locations_: Locations) -> None:
        self.ledger = ledger
        self.locations = locations_
        self.room = ledger.room

    async def create(
        self,
        *,
        size: int,
        actor: str,
        seed: int | None = None,
        run_id: int | None = None,
        note: str = "",
    ) -> SpotCheck:
        """Draw the checklist; raises Invalid for a bad size, NotFound for an unknown run."""
        if not 1 <= size <= MAX_SAMPLE:
            raise Invalid(f"size must be between 1 and {MAX_SAMPLE}")
        seed = secrets.randbits(48) if seed is None else seed
        async with self.ledger.store.read() as conn:
            if run_id is None:
                run_id = await conn.scalar(
                    select(func.max(reconciliation_runs.c.id)).where(
                        reconciliation_runs.c.room == self.room
                    )
                )
            elif (
                await conn.scalar(
                    select(reconciliation_runs.c.id).where(
                        reconciliation_runs.c.id == run_id,
                        reconciliation_runs.c.room == self.room,
                    )
                )
                is None
            ):
                raise NotFound(f"no reconciliation run {run_id} in room {self.room}")
            shares, picked = await self._sample(conn, size, random.Random(seed))
        async with self.ledger.transaction(actor) as tx:
            check_id = await tx.insert(
                spot_checks,
                room=self.room,
                run_id=run_id,
                seed=seed,
                size=len(picked),
                created_us=tx.at_us,
                created_by=actor,
                note=note,
            )
            if picked:
                await tx.conn.execute(
                    spot_check_items.insert(),
                    [{"check_id": check_id, "position": i, **p} for i, p in enumerate(picked, 1)],
                )
            tx.audit(
                "spot_check.created",
                f"spot-check:{check_id}",
                {
                    "check_id": check_id,
                    "run_id": run_id,
                    "seed": seed,
                    "size": len(picked),
                    "per_category": {c: n for c, n in sorted(shares.items()) if n},
                },
            )
        return await self.get(check_id)

    async def _sample(
        self, conn: AsyncConnection, size: int, rng: random.Random
    ) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """Shares per category and the drawn items, reading the catalogue page by page."""
        scope = in_room(self.room)
        source, where, home, current = scope.source, scope.where, scope.home, scope.current
        sizes = {
            r.category: int(r.n)
            for r in (
                await conn.execute(
                    select(items.c.category, func.count().label("n"))
                    .select_from(source)
                    .where(where)
                    .group_by(items.c.category)
                )
            ).all()
        }
        shares = allocate(sizes, size)
        picked: list[dict[str, Any]] = []
        for category in sorted(shares):
            wanted = draw(rng, sizes[category], shares[category])
            ids: list[int] = []
            position, last, next_wanted = 0, 0, 0
            while next_wanted < len(wanted):
                page = (
                    (
                        await conn.execute(
                            select(items.c.id)
                            .select_from(source)
                            .where(where, items.c.category == category, items.c.id > last)
                            .order_by(items.c.id)
                            .limit(10_000)
                        )
                    )
                    .scalars()
                    .all()
                )
                if not page:
                    break
                for item_id in page:
                    if next_wanted < len(wanted) and position == wanted[next_wanted]:
                        ids.append(int(item_id))
                        next_wanted += 1
                    position += 1
                last = int(page[-1])
            details = {}
            for i in range(0, len(ids), 1000):
                for r in (
                    await conn.execute(
                        select(
                            items.c.id,
                            items.c.ref,
                            func.coalesce(current.c.code, home.c.code).label("expected"),
                        )
                        .select_from(source)
                        .where(items.c.id.in_(ids[i : i + 1000]))
                    )
                ).all():
                    details[r.id] = r
            picked += [
                {
                    "item_id": item_id,
                    "ref": details[item_id].ref,
                    "category": category,
                    "expected": details[item_id].expected,
                }
                for item_id in ids
                if item_id in details
            ]
        return shares, picked

    async def record(
        self,
        check_id: int,
        ref: str,
        *,
        outcome: Outcome,
        actor: str,
        found_at: str | None = None,
        note: str | None = None,
    ) -> CheckItem:
        """Record what a person found for one sampled item (audited; may be corrected later)."""
        if outcome == "found_elsewhere" and not found_at:
            raise Invalid("found_elsewhere needs the location where it was found ('location')")
        if outcome != "found_elsewhere" and found_at:
            raise Invalid("a location is given only with found_elsewhere")
        async with self.ledger.transaction(actor) as tx:
            await self._check_exists(tx.conn, check_id)
            if found_at is not None:
                await self.locations.id_of(tx.conn, found_at)
            result = await tx.conn.execute(
                update(spot_check_items)
                .where(spot_check_items.c.check_id == check_id, spot_check_items.c.ref == ref)
                .values(
                    outcome=outcome,
                    found_at=found_at,
                    note=note,
                    recorded_us=tx.at_us,
                    recorded_by=actor,
                )
            )
            if result.rowcount != 1:
                raise NotFound(f"{ref} is not in spot check {check_id}")
            tx.audit(
                "spot_check.outcome",
                ref,
                {"check_id": check_id, "outcome": outcome, "found_at": found_at, "note": note},
            )
        check = await self.get(check_id)
        return next(i for i in check.items if i.ref == ref)

    async def _check_exists(self, conn: AsyncConnection, check_id: int) -> None:
        found = await conn.scalar(
            select(spot_checks.c.id).where(
                spot_checks.c.id == check_id, spot_checks.c.room == self.room
            )
        )
        if found is None:
            raise NotFound(f"no spot check {check_id} in room {self.room}")

    async def get(self, check_id: int) -> SpotCheck:
        async with self.ledger.store.read() as conn:
            head = (
                await conn.execute(
                    select(spot_checks).where(
                        spot_checks.c.id == check_id, spot_checks.c.room == self.room
                    )
                )
            ).first()
            if head is None:
                raise NotFound(f"no spot check {check_id} in room {self.room}")
            rows = (
                await conn.execute(
                    select(*_CHECK_ITEM_COLUMNS)
                    .where(spot_check_items.c.check_id == check_id)
                    .order_by(spot_check_items.c.position)
                )
            ).all()
        return SpotCheck(**head._asdict(), items=[CheckItem(**r._asdict()) for r in rows])

    async def of_run(self, run_id: int) -> list[SpotCheck]:
        async with self.ledger.store.read() as conn:
            ids = (
                (
                    await conn.execute(
                        select(spot_checks.c.id)
                        .where(spot_checks.c.run_id == run_id, spot_checks.c.room == self.room)
                        .order_by(spot_checks.c.id)
                    )
                )
                .scalars()
                .all()
            )
        return [await self.get(int(i)) for i in ids]
