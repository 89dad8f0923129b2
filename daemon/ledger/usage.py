"""Usage statistics (利用统计): how much the archive's paper holdings are used, and by whom.

An archive reports its use every year (the annual statistical return) and watches its
"actual usage rate": the share of the items it holds that were lent at least once in the
period. The figures here are computed by the database in grouped queries read from covering
indexes, so a year of a large archive (hundreds of thousands of loans over a million items)
answers within a second (``python -m bench loan_statistics``).

Definitions, per group of loans opened in the period ``[from, to)``:

- ``loans``: loans opened; ``items``: distinct items lent; ``borrowers``: distinct borrowers;
- ``average_days``, ``longest_days``: from check-out to return, or to the end of the period
  (or now, if earlier) for a loan still open then;
- ``overdue_share``: the share of those loans returned after their due date, or still out
  after it at the end of the period;
- ``usage_rate`` (per category and retention class, and overall): items lent in the period /
  items held (catalogued before the end of the period and not disposed of before its start).

A loan counts under the category and retention class its item had when it was lent (the loan
row keeps them): reclassifying an item does not rewrite a past year's return. Items held are
counted under their present category and class.

Loans are counted for every room sharing the database: the return is the archive's, not a
room's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import BigInteger, Date, Float, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.store.db import Store
from daemon.store.schema import items, loans

GroupBy = Literal["month", "category", "borrower", "retention"]
GROUPS: Final[tuple[GroupBy, ...]] = ("month", "category", "borrower", "retention")
DAY_US: Final = 86_400_000_000


def day_us(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * 1_000_000


@dataclass(frozen=True, slots=True)
class UsageRow:
    group: str
    loans: int
    items: int
    borrowers: int
    average_days: float | None
    longest_days: float | None
    overdue_share: float | None
    items_held: int | None = None
    usage_rate: float | None = None


@dataclass(frozen=True, slots=True)
class UsageReport:
    start: date
    end: date
    """Exclusive."""
    group_by: GroupBy
    rows: list[UsageRow]
    total: UsageRow


def _utc_month(conn: AsyncConnection, us: Any) -> Any:
    """The UTC calendar month (``YYYY-MM``) of a microsecond timestamp, in SQL."""
    if conn.dialect.name == "postgresql":
        utc = func.to_timestamp(us / 1_000_000.0).op("AT TIME ZONE")("UTC")
        return func.to_char(utc, "YYYY-MM")
    return func.strftime("%Y-%m", us / 1_000_000, "unixepoch")


def _after_due(conn: AsyncConnection) -> Any:
    """The first microsecond after a loan's due day (UTC), in SQL: a loan still out then, or
    returned then or later, is overdue. An integer comparison per loan instead of formatting
    each loan's end as a date (half the time of a year's loans on SQLite)."""
    if conn.dialect.name == "postgresql":
        midnight = func.extract("epoch", cast(loans.c.due, Date))
        return (midnight + 86_400) * 1_000_000
    # julianday('1970-01-01') is 2440587.5: one day less is the end of the due day
    return cast((func.julianday(loans.c.due) - 2_440_586.5) * DAY_US, BigInteger)


class Usage:
    def __init__(self, store: Store, *, clock_us: Any = None) -> None:
        self.store = store
        self.clock_us = clock_us or (lambda: int(datetime.now(tz=UTC).timestamp() * 1_000_000))

    async def loans(self, start: date, end: date, group_by: GroupBy) -> UsageReport:
        """Loan figures of the loans opened in ``[start, end)``, grouped, with a total.

        The groups, the total and the items held are three queries run side by side, each on a
        connection of its own (SQLite serves concurrent readers from its WAL; PostgreSQL runs
        them on separate backends): a year of a million-item archive is read three times at
        once instead of one after the other.
        """
        lo, hi = day_us(start), day_us(end)
        cut = min(hi, self.clock_us())

        async def grouped(by: GroupBy | None) -> list[UsageRow]:
            async with self.store.read() as conn:
                return await self._grouped(conn, lo, hi, cut, by)

        async def held() -> dict[tuple[str, str], int]:
            async with self.store.read() as conn:
                return await self._held(conn, lo, hi)

        rows, totals, holdings = await asyncio.gather(grouped(group_by), grouped(None), held())
        total = _with_rate(totals[0], sum(holdings.values()))
        if group_by in ("category", "retention"):
            per_group: dict[str, int] = {}
            for (category, retention), n in holdings.items():
                g = category if group_by == "category" else retention
                per_group[g] = per_group.get(g, 0) + n
            rows = [_with_rate(r, per_group.get(r.group, 0)) for r in rows]
        return UsageReport(start, end, group_by, rows, total)

    async def _grouped(
        self, conn: AsyncConnection, lo: int, hi: int, cut: int, group_by: GroupBy | None
    ) -> list[UsageRow]:
        ended = func.coalesce(
            case((loans.c.returned_us < cut, loans.c.returned_us), else_=None), literal(cut)
        )
        duration = cast(ended - loans.c.opened_us, Float) / DAY_US
        overdue = case((ended >= _after_due(conn), 1), else_=0)
        key: Any
        if group_by == "month":
            key = _utc_month(conn, loans.c.opened_us)
        elif group_by == "category":
            key = loans.c.category
        elif group_by == "retention":
            key = loans.c.retention
        elif group_by == "borrower":
            key = loans.c.borrower
        else:
            key = literal("total")
        query = (
            select(
                key.label("grp"),
                func.count().label("loans"),
                func.count(loans.c.item_id.distinct()).label("items"),
                func.count(loans.c.borrower.distinct()).label("borrowers"),
                func.avg(duration).label("average_days"),
                func.max(duration).label("longest_days"),
                func.sum(overdue).label("overdue"),
            )
            # a year of loans is read from the loans' covering index alone (ix_loans_usage):
            # a loan carries its item's category and retention class
            .select_from(loans)
            .where(loans.c.opened_us >= lo, loans.c.opened_us < hi)
            .group_by(key)
            .order_by(key)
        )
        out = []
        for r in (await conn.execute(query)).all():
            n = int(r.loans)
            out.append(
                UsageRow(
                    str(r.grp),
                    n,
                    int(r.items),
                    int(r.borrowers),
                    None if r.average_days is None else round(float(r.average_days), 2),
                    None if r.longest_days is None else round(float(r.longest_days), 2),
                    round(int(r.overdue or 0) / n, 4) if n else None,
                )
            )
        if group_by is None and not out:
            out.append(UsageRow("total", 0, 0, 0, None, None, None))
        return out

    async def _held(self, conn: AsyncConnection, lo: int, hi: int) -> dict[tuple[str, str], int]:
        """Items held in the period per (category, retention class): catalogued before its
        end, not disposed of before its start. Counted from the covering index
        ``ix_items_held``, in its order (no sort)."""
        query = (
            select(items.c.category, items.c.retention, func.count().label("n"))
            .where(
                items.c.created_us < hi,
                or_(items.c.disposed_us.is_(None), items.c.disposed_us >= lo),
            )
            .group_by(items.c.category, items.c.retention)
        )
        return {(r.category, r.retention): int(r.n) for r in (await conn.execute(query)).all()}

    async def annual(self, year: int) -> UsageReport:
        """The annual return: one row per category, with its usage rate, and the total."""
        return await self.loans(date(year, 1, 1), date(year + 1, 1, 1), "category")


def _with_rate(row: UsageRow, held: int) -> UsageRow:
    rate = round(row.items / held, 4) if held else None
    return UsageRow(
        row.group,
        row.loans,
        row.items,
        row.borrowers,
        row.average_days,
        row.longest_days,
        row.overdue_share,
        held,
        rate,
    )


def default_period(today: date) -> tuple[date, date]:
    """This calendar year up to and including today."""
    return date(today.year, 1, 1), today + timedelta(days=1)
