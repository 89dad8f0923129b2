"""The stacker page in a real browser, in English and Chinese: a retrieval waiting for the box
at the station says why, and goes once the clerk has taken the box; a job waiting for a
decision shows the whole queue blocked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from stacker.registers import ExcReq, epc_short_form
from tests.console.conftest import STATION, ConsoleRoom, signed_in
from tests.support.catalogue import item_body

BOXES = {
    "0001-WS·2019-D10-LD-0041": "E28011606000020000000041",
    "0001-WS·2019-D10-LD-0042": "E28011606000020000000042",
}
WORDS = {
    "en-GB": {
        "waits": "Waiting: station io-1 still holds {ref} (#{job}); take it out or store it.",
        "stations": "Stationsio-1: holds {ref}",
        "blocked": "Queue blockedJob #{job} waits for a decision",
    },
    "zh-CN": {
        "waits": "等待中：出入口 io-1 上仍放着 {ref} (#{job})，请取走或存入立体库。",  # noqa: RUF001
        "stations": "出入口io-1: 放有 {ref}",
        "blocked": "队列受阻作业 #{job} 正在等待人工处理决定",
    },
}


async def _job_state(staff: httpx.AsyncClient, job_id: int, *states: str) -> None:
    async with asyncio.timeout(20):
        while (await staff.get(f"/api/v1/stacker/jobs/{job_id}")).json()["state"] not in states:
            await asyncio.sleep(0.05)


async def _job(staff: httpx.AsyncClient, body: dict[str, object]) -> int:
    r = await staff.post("/api/v1/stacker/jobs", json=body)
    assert r.status_code == 202, r.text
    job_id: int = r.json()["job_id"]
    return job_id


async def _store_both(room: ConsoleRoom, staff: httpx.AsyncClient) -> None:
    for ref, epc in BOXES.items():
        assert (await staff.put(f"/api/v1/items/{ref}", json=item_body(kind="box"))).is_success
        assert (await staff.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})).status_code == 201
        room.plc.clerk_puts(epc_short_form(epc))
        await _job_state(staff, await _job(staff, {"kind": "store", "ref": ref}), "done")


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
async def test_a_retrieval_waiting_for_the_station_says_why_and_goes_once_the_box_is_taken(
    room: ConsoleRoom, browser: Browser, screenshots: Path, locale: str
) -> None:
    words = WORDS[locale]
    first, second = BOXES
    async with room.client() as staff:
        await _store_both(room, staff)
        console = await signed_in(browser, room, screenshots, locale=locale)
        page = console.page
        await console.open("/console/stacker")
        await page.locator("#live[data-state=on]").wait_for()

        retrieved = await _job(staff, {"kind": "retrieve", "ref": first})
        await _job_state(staff, retrieved, "done")
        waiting = await _job(staff, {"kind": "retrieve", "ref": second})
        row = page.locator(f"#jobs tbody tr[data-job='{waiting}']")
        await expect(row).to_contain_text(words["waits"].format(ref=first, job=retrieved))
        await expect(page.locator("#state")).to_contain_text(words["stations"].format(ref=first))
        if locale == "en-GB":
            await console.shot("stacker-station-waits")

        assert room.plc.clerk_takes() == epc_short_form(BOXES[first])
        await _job_state(staff, waiting, "done")
        await expect(row).not_to_contain_text(words["waits"].format(ref=first, job=retrieved))
        assert room.plc.station_box() == epc_short_form(BOXES[second])


async def test_a_job_waiting_for_a_decision_shows_the_queue_blocked(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    first, second = BOXES
    async with room.client() as staff:
        await _store_both(room, staff)
        console = await signed_in(browser, room, screenshots, locale="zh-CN")
        page = console.page
        await console.open("/console/stacker")
        await page.locator("#live[data-state=on]").wait_for()

        room.plc.inject_exception(ExcReq.ID_MISMATCH)
        stuck = await _job(staff, {"kind": "retrieve", "ref": first})
        await _job(staff, {"kind": "verify", "ref": second})
        await _job_state(staff, stuck, "exception")
        state = page.locator("#state")
        await expect(state).to_contain_text(WORDS["zh-CN"]["blocked"].format(job=stuck))
        await page.locator("#active button[data-decision=cancel]").click()
        await _job_state(staff, stuck, "done", "cancelled")
        await expect(state).not_to_contain_text(WORDS["zh-CN"]["blocked"].format(job=stuck))
    assert STATION not in room.plc.model.contents
