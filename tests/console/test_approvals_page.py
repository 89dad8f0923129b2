"""The approvals page in a real browser: staff file a loan request and propose a disposal, an
approver decides with the approval number, an admin countersigns, staff carry it out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from daemon.tokens import Role
from tests.console.conftest import Console, ConsoleRoom, open_console, signed_in
from tests.support.catalogue import item_body

PENDING: set[asyncio.Future[None]] = set()


def answer(page: Page, text: str) -> None:
    """Type ``text`` into the next prompt the page opens."""

    def accept(dialog: Dialog) -> None:
        task = asyncio.ensure_future(dialog.accept(text))
        PENDING.add(task)
        task.add_done_callback(PENDING.discard)

    page.once("dialog", accept)


async def sign_in(console: Console, token: str, lands_on: str) -> None:
    await console.open("/console/login")
    await console.page.fill("#token", token)
    await console.page.click("#login button[type=submit]")
    await console.page.wait_for_url(f"**{lands_on}")


REFUSED = {
    "zh-CN": {
        "open": "AP-1 已有未办结的借阅申请",
        "disposal": "以下档案不能处置：NOPE：目录中没有此档案；AP-1：保管期限至 ",  # noqa: RUF001
    },
    "en-GB": {
        "open": "for AP-1 is already open",
        "disposal": "cannot be disposed of: NOPE: not catalogued; AP-1: retention runs until ",
    },
}


@pytest.mark.parametrize(
    ("locale", "approved", "carried_out"),
    [("zh-CN", "已批准", "已执行"), ("en-GB", "Approved", "Carried out")],
)
async def test_a_request_and_a_disposal_go_through_their_approvals(
    room: ConsoleRoom,
    browser: Browser,
    screenshots: Path,
    locale: str,
    approved: str,
    carried_out: str,
) -> None:
    async with room.client() as staff:
        for ref, body in {
            "AP-1": item_body(category="personnel"),
            "AP-OLD": item_body(year=2000, retention="D10"),
        }.items():
            assert (await staff.put(f"/api/v1/items/{ref}", json=body)).status_code == 201
    desk = await signed_in(browser, room, screenshots, locale=locale)
    await desk.open("/console/approvals")
    page = desk.page
    await page.fill("#rq-ref", "AP-1")
    await page.fill("#rq-borrower", "Li Na")
    await page.fill("#rq-purpose", "pension review")
    await page.click("#new-request button[type=submit]")
    await expect(page.locator("#requests tr[data-state=pending]")).to_have_count(1)
    # Refusals are said in the page's language: a second request for the same file, and a
    # disposal of a file that does not exist and one whose retention has not run out.
    words = REFUSED[locale]
    await page.fill("#rq-ref", "AP-1")
    await page.fill("#rq-borrower", "Zhao Lei")
    await page.fill("#rq-purpose", "audit")
    await page.click("#new-request button[type=submit]")
    await expect(page.locator("#status")).to_contain_text(words["open"])
    await page.fill("#dp-refs", "NOPE AP-1")
    await page.fill("#dp-reason", "appraisal 2026-1")
    await page.click("#new-disposal button[type=submit]")
    await expect(page.locator("#status")).to_contain_text(words["disposal"])
    await page.fill("#dp-refs", "AP-OLD")
    await page.fill("#dp-reason", "appraisal 2026-1")
    await page.click("#new-disposal button[type=submit]")
    await expect(page.locator("#disposals tr[data-state=proposed]")).to_have_count(1)

    boss = await open_console(browser, room.url, screenshots, locale=locale)
    await sign_in(boss, room.tokens[Role.approver], "/console/approvals")
    answer(boss.page, "SP-2026-7")
    await boss.page.locator("#requests tr[data-state=pending] button").first.click()
    await expect(boss.page.locator("#requests tr[data-state=approved]")).to_have_count(0)
    await boss.page.select_option("#request-state", "approved")
    row = boss.page.locator("#requests tr[data-state=approved]")
    await expect(row).to_contain_text(approved)
    await expect(row).to_contain_text("SP-2026-7")
    answer(boss.page, "XH-2026-1")
    await boss.page.locator("#disposals tr[data-state=proposed] button").first.click()
    await expect(boss.page.locator("#disposals tbody tr")).to_contain_text("XH-2026-1")
    await boss.shot(f"approvals-{locale[:2]}")

    admin = await open_console(browser, room.url, screenshots, locale=locale)
    await sign_in(admin, room.tokens[Role.admin], "/console/items")
    await admin.open("/console/approvals")
    await admin.page.locator("#disposals tr[data-state=proposed] button").first.click()
    await expect(admin.page.locator("#disposals tr[data-state=approved]")).to_have_count(1)

    await page.reload()
    await page.locator("#disposals tr[data-state=approved] button").first.click()
    done = page.locator("#disposals tr[data-state=carried_out]")
    await expect(done).to_contain_text(carried_out)
    async with page.expect_download() as download:
        await done.get_by_role("button", name="PDF").click()
    assert (await download.value).suggested_filename.endswith(".pdf")
