"""The usage statistics page in a real browser, in Chinese and in English: the year's loans by
category with the usage rate, and what the latest reconciliation found, class by class."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.console.conftest import ConsoleRoom, signed_in
from tests.support.catalogue import item_body


@pytest.mark.parametrize(
    ("locale", "title", "rate", "missing_words"),
    [
        ("zh-CN", "档案利用统计", "50.0 %：本期借出 1 件，馆藏 2 件。", "有电子无纸质原件"),  # noqa: RUF001
        ("en-GB", "Usage statistics", "50.0 %: 1 of 2 items held were lent", "Electronic record"),
    ],
)
async def test_statistics_page_shows_the_usage_rate_and_the_reconciliation(
    room: ConsoleRoom,
    browser: Browser,
    screenshots: Path,
    locale: str,
    title: str,
    rate: str,
    missing_words: str,
) -> None:
    async with room.client() as staff:
        for ref in ("ST-1", "ST-2"):
            body = item_body(category="personnel")
            assert (await staff.put(f"/api/v1/items/{ref}", json=body)).status_code == 201
        loan = {"ref": "ST-1", "borrower": "Li Na", "purpose": "audit"}
        assert (await staff.post("/api/v1/loans", json=loan)).status_code == 201
        assert (await staff.post("/api/v1/reconciliations")).status_code == 202
    console = await signed_in(browser, room, screenshots, locale=locale)
    await console.open("/console/statistics")
    page = console.page
    await expect(page.locator("h1")).to_have_text(title)
    await page.select_option("#group", "category")
    await page.click("#period button[type=submit]")
    personnel = page.locator('#table tbody tr[data-group="personnel"]')
    await expect(personnel).to_be_visible()
    await expect(personnel.locator("td").nth(1)).to_have_text("1")
    await expect(page.locator("#rate")).to_contain_text(rate)
    await expect(page.locator("#chart svg rect")).to_have_count(1)
    await expect(page.locator("#discrepancies")).to_contain_text(missing_words)
    await console.shot(f"statistics-{locale[:2]}")
