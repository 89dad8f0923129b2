"""Usage statistics: loans grouped by month, category, borrower and retention, usage rate."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
import pytest
from sqlalchemy import insert, select, update

from daemon.ledger.usage import Usage, day_us
from daemon.store.db import Store
from daemon.store.schema import items, loans
from tests.support.catalogue import item_body


async def _year_2025(store: Store) -> None:
    """Five items held since 2024 (A1-A3 personnel, B1-B2 arbitration), four loans."""
    created = day_us(date(2024, 6, 1))
    async with store.write() as conn:
        await conn.execute(
            insert(items),
            [
                {
                    "ref": ref,
                    "title": ref,
                    "category": category,
                    "retention": retention,
                    "kind": "box",
                    "created_us": created,
                    "updated_us": created,
                }
                for ref, category, retention in (
                    ("A1", "personnel", "Y"),
                    ("A2", "personnel", "Y"),
                    ("A3", "personnel", "D30"),
                    ("B1", "arbitration", "D30"),
                    ("B2", "arbitration", "D10"),
                )
            ],
        )
        held = {
            r.ref: r
            for r in await conn.execute(
                select(items.c.ref, items.c.id, items.c.category, items.c.retention)
            )
        }

        def loan(
            ref: str, who: str, opened: date, due: date, back: date | None
        ) -> dict[str, object]:
            return {  # as a check-out writes it: the item's category and class at that moment
                "item_id": held[ref].id,
                "category": held[ref].category,
                "retention": held[ref].retention,
                "borrower": who,
                "purpose": "p",
                "due": due.isoformat(),
                "opened_us": day_us(opened),
                "opened_by": "t",
                "returned_us": None if back is None else day_us(back),
            }

        await conn.execute(
            insert(loans),
            [
                loan("A1", "Xu", date(2025, 1, 10), date(2025, 2, 9), date(2025, 1, 20)),
                loan("A1", "Yang", date(2025, 2, 1), date(2025, 3, 1), date(2025, 3, 15)),
                loan("B1", "Zhou", date(2025, 2, 15), date(2025, 3, 1), None),
                loan("A2", "Xu", date(2024, 12, 31), date(2025, 1, 30), date(2025, 1, 5)),
            ],
        )


@pytest.fixture
async def usage(store: Store) -> Usage:
    await _year_2025(store)
    return Usage(store, clock_us=lambda: day_us(date(2026, 6, 1)))


async def test_loans_by_month_count_duration_and_overdue(usage: Usage) -> None:
    report = await usage.loans(date(2025, 1, 1), date(2026, 1, 1), "month")
    by = {r.group: r for r in report.rows}
    assert sorted(by) == ["2025-01", "2025-02"]
    jan, feb = by["2025-01"], by["2025-02"]
    assert (jan.loans, jan.items, jan.borrowers) == (1, 1, 1)
    assert (jan.average_days, jan.longest_days, jan.overdue_share) == (10.0, 10.0, 0.0)
    # Yang: 42 days, back after the due date; Zhou: still out at the period's end (320 days).
    assert (feb.loans, feb.items, feb.borrowers) == (2, 2, 2)
    assert (feb.average_days, feb.longest_days, feb.overdue_share) == (181.0, 320.0, 1.0)
    total = report.total
    assert (total.loans, total.items, total.borrowers) == (3, 2, 3)
    assert total.average_days == 124.0
    assert total.overdue_share == 0.6667
    assert (total.items_held, total.usage_rate) == (5, 0.4)


async def test_usage_rate_by_category_and_retention(usage: Usage) -> None:
    annual = await usage.annual(2025)
    by = {r.group: r for r in annual.rows}
    assert (by["personnel"].loans, by["personnel"].items, by["personnel"].items_held) == (2, 1, 3)
    assert by["personnel"].usage_rate == 0.3333
    assert (by["arbitration"].items_held, by["arbitration"].usage_rate) == (2, 0.5)
    retention = await usage.loans(date(2025, 1, 1), date(2026, 1, 1), "retention")
    assert {r.group: (r.loans, r.items_held) for r in retention.rows} == {
        "Y": (2, 2),
        "D30": (1, 2),
    }


async def test_a_loan_counts_under_the_category_its_item_had_when_lent(
    usage: Usage, store: Store
) -> None:
    async with store.write() as conn:  # A1 reclassified after its two loans of 2025
        await conn.execute(
            update(items).where(items.c.ref == "A1").values(category="arbitration", retention="D30")
        )
    annual = await usage.annual(2025)
    by = {r.group: r for r in annual.rows}
    assert (by["personnel"].loans, by["personnel"].items) == (2, 1)
    # ...while the holdings are counted as they are now: A1 is an arbitration file today
    assert (by["personnel"].items_held, by["arbitration"].items_held) == (2, 3)
    retention = await usage.loans(date(2025, 1, 1), date(2026, 1, 1), "retention")
    assert {r.group: (r.loans, r.items_held) for r in retention.rows} == {
        "Y": (2, 1),
        "D30": (1, 3),
    }


async def test_by_borrower_and_an_empty_period(usage: Usage) -> None:
    report = await usage.loans(date(2025, 1, 1), date(2026, 1, 1), "borrower")
    assert {r.group: r.loans for r in report.rows} == {"Xu": 1, "Yang": 1, "Zhou": 1}
    empty = await usage.loans(date(2023, 1, 1), date(2024, 1, 1), "month")
    assert empty.rows == []
    assert (empty.total.loans, empty.total.items_held, empty.total.usage_rate) == (0, 0, None)


async def test_a_disposed_item_is_not_held_after_its_disposal(usage: Usage, store: Store) -> None:
    async with store.write() as conn:
        await conn.execute(
            update(items)
            .where(items.c.ref == "B2")
            .values(disposition="destroyed", disposed_us=day_us(date(2024, 12, 1)))
        )
    report = await usage.annual(2025)
    assert {r.group: r.items_held for r in report.rows}["arbitration"] == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_statistics_over_http_as_json_and_csv(staff: httpx.AsyncClient, room: object) -> None:
    body = item_body(category="social insurance")
    assert (await staff.put("/api/v1/items/S-1", json=body)).status_code == 201
    loan = {"ref": "S-1", "borrower": "Li Na", "purpose": "audit"}
    assert (await staff.post("/api/v1/loans", json=loan)).status_code == 201
    r = await staff.get("/api/v1/statistics/loans", params={"group_by": "category"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["group_by"] == "category"
    assert data["from"].endswith("-01-01")
    assert [(x["group"], x["loans"], x["items_held"]) for x in data["rows"]] == [
        ("social insurance", 1, 1)
    ]
    assert data["total"]["usage_rate"] == 1.0
    year = data["from"][:4]
    c = await staff.get("/api/v1/statistics/annual", params={"year": year, "format": "csv"})
    assert c.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(c.text)))
    assert table[0][:3] == ["group", "loans", "items"]
    assert table[-1][0] == "total"
    assert table[-1][1] == "1"
    bad = await staff.get(
        "/api/v1/statistics/loans", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert bad.status_code == 422


async def test_returned_on_the_due_day_is_on_time_and_the_next_midnight_is_late(
    store: Store,
) -> None:
    created = day_us(date(2024, 6, 1))
    async with store.write() as conn:
        row: dict[str, object] = {"title": "t", "category": "c", "retention": "Y", "kind": "box"}
        await conn.execute(
            insert(items),
            [
                row | {"ref": ref, "created_us": created, "updated_us": created}
                for ref in ("E1", "E2")
            ],
        )
        ids = {r.ref: r.id for r in await conn.execute(select(items.c.ref, items.c.id))}
        due = date(2025, 3, 1)
        back = {"E1": day_us(date(2025, 3, 2)) - 1, "E2": day_us(date(2025, 3, 2))}
        await conn.execute(
            insert(loans),
            [
                {
                    "item_id": ids[ref],
                    "borrower": ref,
                    "purpose": "p",
                    "due": due.isoformat(),
                    "opened_us": day_us(date(2025, 2, 1)),
                    "opened_by": "t",
                    "returned_us": back[ref],
                    "category": "c",
                    "retention": "Y",
                }
                for ref in ("E1", "E2")
            ],
        )
    usage = Usage(store, clock_us=lambda: day_us(date(2026, 6, 1)))
    report = await usage.loans(date(2025, 1, 1), date(2026, 1, 1), "borrower")
    assert {r.group: r.overdue_share for r in report.rows} == {"E1": 0.0, "E2": 1.0}
