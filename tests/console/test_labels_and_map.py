"""Labels and the room map in a real browser, in English and Chinese: the item page marks
where the item is and where it belongs and saves its PDF and RFID labels; the stacker page
shows which cells hold boxes; the map page lists what a chosen cell holds."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.console.conftest import ConsoleRoom, signed_in, stored_from_the_station
from tests.labels.tools import giai96, need_tools, parse_zpl, pdf_pages, pdf_text
from tests.support.catalogue import item_body

BOX = "0001-WS·2021-Y-RS-0077"
WORDS = {
    "en-GB": {
        "now": "Now: ",
        "belongs": "Belongs at: ",
        "shelf": "rack A, section {bay}, shelf {level}",
        "pdf": "Label saved as",
        "zpl": "the printer writes EPC",
        "nav": "Map",
        "present": "There now",
        "sheet": ": 1 label(s).",
    },
    "zh-CN": {
        "now": "现在：",  # noqa: RUF001
        "belongs": "应在：",  # noqa: RUF001
        "shelf": "A列 {bay}节 {level}层",
        "pdf": "标签已保存为",
        "zpl": "打印机将把 EPC",
        "nav": "平面图",
        "present": "现存档案",
        "sheet": "已将 1 张标签保存为",
    },
}


async def _shelved(staff: httpx.AsyncClient, room: str, ref: str) -> tuple[str, str]:
    home, now = f"{room}-A-02-03", f"{room}-A-05-01"
    body = item_body(title="养老保险待遇核定表 Pension decision", retention="Y", home_location=home)
    assert (await staff.put(f"/api/v1/items/{ref}", json=body)).is_success
    moved = await staff.post(f"/api/v1/items/{ref}/move", json={"to": now})
    assert moved.status_code == 200, moved.text
    return home, now


async def _download(page: Page, button: str, folder: Path) -> Path:
    async with page.expect_download() as info:
        await page.click(button)
    download = await info.value
    path = folder / download.suggested_filename
    await download.save_as(path)
    return path


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
async def test_item_page_marks_the_item_on_the_map_and_saves_its_labels(
    room: ConsoleRoom, browser: Browser, screenshots: Path, tmp_path: Path, locale: str
) -> None:
    need_tools()
    words = WORDS[locale]
    room_id = room.services.config.room
    async with room.client() as staff:
        home, now = await _shelved(staff, room_id, BOX)
    console = await signed_in(browser, room, screenshots, locale=locale)
    page = console.page
    await console.open(f"/console/item?ref={BOX}")

    here = page.locator("#map rect.here")
    await expect(here).to_have_count(1)
    await expect(here).to_have_attribute("data-code", now)
    await expect(page.locator("#map rect.home")).to_have_count(1)
    await expect(page.locator("#map rect.home")).to_have_attribute("data-code", home)
    await expect(page.locator(f"#map rect[data-code='{now}']")).to_have_attribute("data-count", "1")
    where = page.locator("#map-where")
    await expect(where).to_contain_text(words["now"])
    await expect(where).to_contain_text(f"{words['shelf'].format(bay='05', level='01')} ({now})")
    await expect(where).to_contain_text(words["belongs"])
    await expect(where).to_contain_text(f"{words['shelf'].format(bay='02', level='03')} ({home})")

    pdf = await _download(page, "#label-pdf", tmp_path)
    assert pdf.suffix == ".pdf"
    await expect(page.locator("#label-status")).to_contain_text(words["pdf"])
    text = pdf_text(pdf)
    assert BOX in text
    assert "养老保险待遇核定表" in text

    zpl = await _download(page, "#label-zpl", tmp_path)
    item = await room.services.catalogue.get(BOX)
    epc = giai96(room.services.config.ledger.company_prefix, item.id)
    (fmt,) = parse_zpl(zpl.read_text(encoding="utf-8"))
    assert fmt.field_with("RF").data == epc
    assert BOX in fmt.texts()
    await expect(page.locator("#label-status")).to_contain_text(f"{words['zpl']} {epc}")
    await expect(page.locator("#tag-current")).to_contain_text(epc)
    await page.locator("#map-card").scroll_into_view_if_needed()
    await console.shot("item-label-map" if locale == "en-GB" else "item-label-map-zh")


async def test_stacker_page_shows_which_cells_hold_boxes(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    epc = "E28011606000020000000077"
    async with room.client() as staff:
        await stored_from_the_station(room, staff, BOX, epc)
        cell = (await staff.get(f"/api/v1/items/{BOX}/location")).json()["location"]["code"]
    console = await signed_in(browser, room, screenshots, locale="zh-CN")
    page = console.page
    await console.open("/console/stacker")
    occupied = page.locator("#map rect.occupied")
    await expect(occupied).to_have_count(1)
    await expect(occupied).to_have_attribute("data-code", cell)
    await expect(page.locator("#map rect.stacker-cell")).to_have_count(24)  # 2 sides x 4 x 3
    await expect(page.locator("#map rect.level")).to_have_count(0)  # racks are not drawn here
    await expect(page.locator("#map-card h2")).to_have_text("库房平面图")
    await console.shot("stacker-map-zh")


async def test_map_page_lists_what_a_chosen_cell_holds_and_prints_its_labels(
    room: ConsoleRoom, browser: Browser, screenshots: Path, tmp_path: Path
) -> None:
    need_tools()
    room_id = room.services.config.room
    async with room.client() as staff:
        _, now = await _shelved(staff, room_id, BOX)
    for locale in ("en-GB", "zh-CN"):
        words = WORDS[locale]
        console = await signed_in(browser, room, screenshots, locale=locale)
        page = console.page
        await page.click(f"#nav a[data-nav=map]:has-text('{words['nav']}')")
        await page.wait_for_url("**/console/map")
        await expect(page.locator("#map rect.level")).to_have_count(24)  # rack A: 6 bays x 4
        await expect(page.locator("#map rect.stacker-cell")).to_have_count(24)
        await page.click(f"#map rect[data-code='{now}']")
        card = page.locator("#cell-card")
        await expect(card).to_contain_text(words["present"])
        await expect(card.locator("#cell-present a")).to_have_text(BOX)
        await expect(card.locator("#cell-empty")).to_be_hidden()
        sheet = await _download(page, "#cell-labels", tmp_path)
        await expect(card.locator("#cell-status")).to_contain_text(words["sheet"])
        (only,) = pdf_pages(sheet)
        assert BOX in only
        await console.shot("map" if locale == "en-GB" else "map-zh")
        await page.click(f"#map rect[data-code='{room_id}-A-01-01']")
        await expect(card.locator("#cell-empty")).to_be_visible()
        await expect(card.locator("#cell-present a")).to_have_count(0)
        await expect(card.locator("#cell-labels")).to_be_hidden()
        await page.context.close()
