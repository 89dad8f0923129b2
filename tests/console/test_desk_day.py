"""The desk's day in a real browser, in English and in Chinese: a scan opens the item, the
loans page lists, filters, renews, returns and exports, a cart is checked out and returned in one
action, and the alarms page pages, filters and sounds for a new gate alarm.

The pictures taken on the way are the staff guide's (docs/staff-guide.md).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import update

from daemon.store.schema import loans
from tests.console.conftest import ConsoleRoom, signed_in
from tests.support.catalogue import item_body

BOXES = {
    "0001-WS·2023-D30-RS-0101": ("养老保险待遇审批表 张三", "E28011606000020000000101"),
    "0001-WS·2023-D30-RS-0102": ("Labour arbitration file, Li Si", "E28011606000020000000102"),
    "0001-WS·2023-D30-RS-0103": ("工伤认定 王五", "E28011606000020000000103"),
}
WORDS = {
    "en-GB": {
        "loan_open": "Open",
        "overdue": "Overdue",
        "renewed": "Renewed",
        "returned": "Returned",
        "done": "Done",
        "refused": "Refused",
        "checked_out": "Checked out 2; refused 2.",
        "returned_all": "Returned 2; refused 2.",
        "sound_off": "Sound off",
        "on_loan": f"{'0001-WS·2023-D30-RS-0103'} is already on loan (loan ",
    },
    "zh-CN": {
        "loan_open": "借出中",
        "overdue": "已逾期",
        "renewed": "已续借",
        "returned": "已归还",
        "done": "已完成",
        "refused": "被拒绝",
        "checked_out": "已借出 2 盒；2 盒被拒绝。",  # noqa: RUF001
        "returned_all": "已归还 2 盒；2 盒被拒绝。",  # noqa: RUF001
        "sound_off": "提示音关",
        "on_loan": f"{'0001-WS·2023-D30-RS-0103'} 已借出（借阅单 ",  # noqa: RUF001
    },
}
PAGE_WORDS = "{first}\u2013{last} of {total}"
LOCALES = pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])


def _suffix(locale: str) -> str:
    return "" if locale == "en-GB" else "-zh"


async def _catalogue(staff: httpx.AsyncClient, *, tagged: bool = True) -> None:
    for ref, (title, epc) in BOXES.items():
        assert (await staff.put(f"/api/v1/items/{ref}", json=item_body(title=title))).is_success
        if tagged:
            r = await staff.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})
            assert r.status_code == 201, r.text


def _slip(ref: str, borrower: str, due: date | None = None) -> dict[str, object]:
    body: dict[str, object] = {"ref": ref, "borrower": borrower, "purpose": "appeal review"}
    if due is not None:
        body["due"] = due.isoformat()
    return body


@LOCALES
async def test_a_scan_opens_the_item_when_exactly_one_matches(
    room: ConsoleRoom, browser: Browser, screenshots: Path, locale: str
) -> None:
    ref = "0001-WS·2023-D30-RS-0102"
    async with room.client() as staff:
        await _catalogue(staff)
    console = await signed_in(browser, room, screenshots, locale=locale)
    page = console.page

    # A scanner types the EPC and Enter faster than any hand: the item opens by itself.
    await page.locator("#q").press_sequentially(BOXES[ref][1], delay=2)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console/item?ref=*")
    await expect(page.locator("#ref")).to_have_text(ref)

    # A scanned box label that matches several items lists them instead.
    await console.open("/console/items")
    await page.locator("#q").press_sequentially("0001-WS·2023-D30-RS-010", delay=2)
    await page.keyboard.press("Enter")
    await expect(page.locator("#results tbody tr")).to_have_count(3)
    assert "/console/items" in page.url

    # The same single match typed by a person is listed, not opened: they may want to look.
    await page.locator("#q").fill("")
    await page.locator("#q").press_sequentially("RS-0101", delay=120)
    await page.keyboard.press("Enter")
    found = page.locator("#results tbody tr")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text("0001-WS·2023-D30-RS-0101")
    assert "/console/items" in page.url
    await console.shot(f"search-scan{_suffix(locale)}")


@LOCALES
async def test_the_loans_page_filters_renews_returns_and_exports(
    room: ConsoleRoom, browser: Browser, screenshots: Path, locale: str
) -> None:
    words = WORDS[locale]
    refs = list(BOXES)
    async with room.client() as staff:
        await _catalogue(staff, tagged=False)
        soon = date.today() + timedelta(days=5)
        made = [
            (await staff.post("/api/v1/loans", json=_slip(refs[0], "=cmd|' /C calc'!A0"))).json(),
            (await staff.post("/api/v1/loans", json=_slip(refs[1], "Li Na", soon))).json(),
            (await staff.post("/api/v1/loans", json=_slip(refs[2], "Wang Fang"))).json(),
        ]
    async with room.services.store.write() as conn:
        past = (date.today() - timedelta(days=3)).isoformat()
        await conn.execute(update(loans).where(loans.c.id == made[0]["id"]).values(due=past))

    console = await signed_in(browser, room, screenshots, locale=locale)
    page = console.page
    await console.open("/console/loans")
    rows = page.locator("#loans tbody tr")
    await expect(rows).to_have_count(3)
    overdue = page.locator("#loans tbody tr.overdue")
    await expect(overdue).to_have_count(1)
    await expect(overdue).to_contain_text(refs[0])
    await expect(overdue).to_contain_text(words["overdue"])
    await expect(page.locator("#pager")).to_contain_text("3")
    await console.shot(f"loans{_suffix(locale)}")

    # The export is what the list shows, with the formula made harmless.
    async with page.expect_download() as waiting:
        await page.click("#export")
    download = await waiting.value
    exported = Path(await download.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(exported)))
    assert sorted(r["ref"] for r in table) == sorted(refs)
    assert {r["borrower"] for r in table} >= {"'=cmd|' /C calc'!A0", "Li Na"}

    # Narrow by borrower, then renew and return from the list.
    await page.fill("#filters input[name=borrower]", "li n")
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(refs[1])
    await rows.locator("button.renew").click()
    await expect(page.locator("#status")).to_contain_text(words["renewed"])
    async with room.client() as staff:
        renewed = (await staff.get(f"/api/v1/loans/{made[1]['id']}")).json()
    assert renewed["renewals"] == 1
    assert renewed["due"] > soon.isoformat()
    await rows.locator("button.return").click()
    await expect(page.locator("#status")).to_contain_text(words["returned"])
    await expect(rows).to_have_count(0)

    # Overdue alone, then the returned ones.
    await page.fill("#filters input[name=borrower]", "")
    await page.click("#states .chip[data-status=overdue]")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(refs[0])
    await page.click("#states .chip[data-status=returned]")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(refs[1])
    await expect(rows.locator("button")).to_have_count(0)


@LOCALES
async def test_a_cart_on_the_desk_is_checked_out_and_returned_box_by_box(
    room: ConsoleRoom, browser: Browser, screenshots: Path, locale: str
) -> None:
    words = WORDS[locale]
    refs = list(BOXES)
    stranger = "E28011606000020000000FFF"
    async with room.client() as staff:
        await _catalogue(staff)
        assert (await staff.post("/api/v1/loans", json=_slip(refs[2], "Zhao Liu"))).is_success
    for _, epc in BOXES.values():
        room.desk.reader.place(1, epc)
    room.desk.reader.place(1, stranger)

    console = await signed_in(browser, room, screenshots, locale=locale)
    page = console.page
    await console.open("/console/cart")
    await page.click("#look")
    await expect(page.locator("#boxes li")).to_have_count(4)
    await expect(page.locator("#boxes")).to_contain_text(stranger)

    await page.fill("#checkout input[name=borrower]", "Li Na")
    await page.fill("#checkout input[name=purpose]", "appeal review")
    await page.click("#checkout button[type=submit]")
    results = page.locator("#results tbody tr")
    await expect(results).to_have_count(4)
    await expect(page.locator("#status")).to_have_text(words["checked_out"])
    done = page.locator("#results tbody tr[data-outcome=done]")
    await expect(done).to_have_count(2)
    await expect(done).to_contain_text([refs[0], refs[1]])
    refused = page.locator("#results tbody tr[data-outcome=refused]")
    await expect(refused.nth(0)).to_contain_text(refs[2])
    await expect(refused.nth(0)).to_contain_text(words["on_loan"])  # the reason, in its words
    await expect(refused.nth(1)).to_contain_text(stranger)
    await expect(refused.nth(1)).to_contain_text(words["refused"])
    await console.shot(f"cart{_suffix(locale)}")

    async with room.client() as staff:
        open_loans = (await staff.get("/api/v1/loans", params={"status": "open"})).json()
    assert {(x["ref"], x["borrower"]) for x in open_loans} == {
        (refs[0], "Li Na"),
        (refs[1], "Li Na"),
        (refs[2], "Zhao Liu"),
    }

    # Two boxes go back; the third was never the cart's (returned too), the stranger is refused.
    room.desk.reader.remove(BOXES[refs[2]][1])
    room.desk.reader.place(1, BOXES[refs[2]][1])
    await page.click("#return-all")
    await expect(page.locator("#results tbody tr[data-outcome=done]")).to_have_count(3)
    await expect(page.locator("#results tbody tr[data-outcome=refused]")).to_have_count(1)
    async with room.client() as staff:
        assert (await staff.get("/api/v1/loans", params={"status": "open"})).json() == []
    assert words["returned_all"]  # the words for a partly refused return are in the catalogue


async def test_the_alarms_page_pages_filters_and_sounds_for_a_new_gate_alarm(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    alarms = room.services.alarms
    for n in range(25):
        await alarms.raise_(f"reader-{n}", kind="reader.down", source=f"shelf-{n}", message="down")
    console = await signed_in(browser, room, screenshots, locale="en-GB")
    page = console.page
    await console.open("/console/alarms")
    rows = page.locator("#alarms tbody tr")
    await expect(rows).to_have_count(20)
    await expect(page.locator("#pager .pager-words")).to_have_text(
        PAGE_WORDS.format(first=1, last=20, total=25)
    )
    await page.click("#pager button:has-text('Next')")
    await expect(rows).to_have_count(5)
    await expect(page.locator("#pager .pager-words")).to_have_text(
        PAGE_WORDS.format(first=21, last=25, total=25)
    )

    # A new gate alarm: it sounds, and its toast sits above the table, not over it.
    sound = page.locator("#sound")
    await page.locator("#live[data-state=on]").wait_for()
    await alarms.raise_(
        "gate-1",
        kind="gate.unauthorized",
        source="gate door-1",
        message="out",
        subject="0001-WS·2023-D30-RS-0101",
        severity="critical",
    )
    await expect(page.locator(".toast")).to_have_count(1)
    await expect(sound).to_have_attribute("data-played", "1")
    toast = await page.locator(".toast").bounding_box()
    table = await page.locator("#alarms").bounding_box()
    assert toast is not None
    assert table is not None
    assert toast["y"] + toast["height"] <= table["y"]

    # Muted, a second gate alarm is silent; the choice outlives a reload.
    await sound.click()
    await expect(sound).to_contain_text(WORDS["en-GB"]["sound_off"])
    await page.reload()
    await expect(page.locator("#sound")).to_have_attribute("aria-pressed", "true")
    await page.locator("#live[data-state=on]").wait_for()
    await alarms.raise_("gate-2", kind="gate.unauthorized", source="gate door-1", message="out")
    await expect(page.locator(".toast")).to_have_count(1)
    await expect(page.locator("#sound")).not_to_have_attribute("data-played", "1")

    # Filter to gate alarms; acknowledge one; the ended ones say who acknowledged and when.
    await page.click("#filters .chip[data-group=gate]")
    await expect(rows).to_have_count(2)
    await rows.nth(0).locator("button.ack").click()
    await expect(rows).to_have_count(1)
    await page.select_option("#state", "ended")
    await expect(rows).to_have_count(1)
    await expect(rows.nth(0)).to_contain_text("Acknowledged by Li Wei")
    await console.shot("alarms-paged")
