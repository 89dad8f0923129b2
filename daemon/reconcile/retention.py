"""Disposal eligibility: records whose retention period is over (docs/design.md §3, §5.6).

Retention classes are ``Y`` (permanent: formal approvals, policy documents, never disposed of),
``D30`` and ``D10`` (30 and 10 years). As archives count it, the period starts on 1 January of
the year after the record's year, so a D10 file of 2013 is kept through 2023 and is eligible
from 1 January 2024. Eligible does not mean destroyed: the report is the list an appraisal
committee works through, so each row says where the item is now and whether it is out on loan
(an item cannot be disposed of while someone has it). Records without a year cannot be
appraised and are left out. The report streams in id order, page by page, for any catalogue
size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import and_, or_, select

from daemon.reconcile.scope import in_room
from daemon.store.db import Store
from daemon.store.schema import item_locations, items, loans

PERIOD_YEARS: Final = {"D10": 10, "D30": 30}


def eligible_from(year: int, retention: str) -> date | None:
    """The first day the record may be disposed of; None for a permanent record."""
    period = PERIOD_YEARS.get(retention)
    return None if period is None else date(year + period + 1, 1, 1)


@dataclass(frozen=True, slots=True)
class EligibleItem:
    ref: str
    title: str
    category: str
    kind: str
    year: int
    retention: str
    eligible_from: date
    location: str | None
    location_kind: str | None
    since_us: int | None
    loan_id: int | None
    loan_due: str | None


async def eligible_items(
    store: Store, room: str, on: date, *, page: int = 5000
) -> AsyncIterator[list[EligibleItem]]:
    """Pages of the room's records that may be disposed of on ``on`` (never class Y)."""
    scope = in_room(room)
    current = scope.current
    source = scope.source.outerjoin(
        loans, and_(loans.c.item_id == items.c.id, loans.c.returned_us.is_(None))
    )
    due = or_(
        *(
            and_(items.c.retention == cls, items.c.year <= on.year - years - 1)
            for cls, years in PERIOD_YEARS.items()
        )
    )
    last = 0
    while True:
        rows = await store.all(
            select(
                items.c.id,
                items.c.ref,
                items.c.title,
                items.c.category,
                items.c.kind,
                items.c.year,
                items.c.retention,
                current.c.code,
                current.c.kind.label("location_kind"),
                item_locations.c.since_us,
                loans.c.id.label("loan_id"),
                loans.c.due,
            )
            .select_from(source)
            .where(
                scope.where,
                due,
                items.c.year.is_not(None),
                items.c.disposition.is_(None),
                items.c.id > last,
            )
            .order_by(items.c.id)
            .limit(page)
        )
        if not rows:
            return
        last = rows[-1].id
        out = []
        for r in rows:
            starts = eligible_from(r.year, r.retention)
            assert starts is not None
            out.append(
                EligibleItem(
                    r.ref,
                    r.title,
                    r.category,
                    r.kind,
                    r.year,
                    r.retention,
                    starts,
                    r.code,
                    r.location_kind,
                    r.since_us,
                    r.loan_id,
                    r.due,
                )
            )
        yield out
