"""The stacker page in a real browser: the crane's state, and a job that stops for a decision
(the box's tag does not match at the pick) followed live and answered from the page."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from stacker.registers import ExcReq, epc_short_form
from tests.console.conftest import (
    STATION,
    ConsoleRoom,
    signed_in,
    stacker_job_reaches,
    stored_from_the_station,
)

BOX = "0001-WS·2019-D10-LD-0031"
EPC = "E28011606000020000000031"


async def test_a_job_waiting_for_a_decision_is_answered_from_the_stacker_page(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    async with room.client() as staff:
        await stored_from_the_station(room, staff, BOX, EPC)

        console = await signed_in(browser, room, screenshots, locale="en-GB")
        page = console.page
        await console.open("/console/stacker")
        state = page.locator("#state")
        await expect(state).to_contain_text("Linkconnected")
        await expect(state).to_contain_text("Modeautomatic")
        await expect(state).to_contain_text("Takes jobsyes")
        await expect(state).to_contain_text("1 of 24 occupied")
        await expect(page.locator("#idle")).to_be_visible()
        await page.locator("#live[data-state=on]").wait_for()

        room.plc.inject_exception(ExcReq.ID_MISMATCH)
        retrieve = await staff.post("/api/v1/stacker/jobs", json={"kind": "retrieve", "ref": BOX})
        assert retrieve.status_code == 202, retrieve.text
        job_id = retrieve.json()["job_id"]
        row = page.locator(f"#jobs tbody tr[data-job='{job_id}']")
        await expect(row).to_contain_text("waiting for a decision")
        await expect(row).to_contain_text(BOX)
        active = page.locator("#active")
        await expect(active).to_contain_text("the box's RFID does not match the expected box")
        await expect(active.locator("button[data-decision]")).to_have_count(2)
        await console.shot("stacker-decision")

        await active.locator("button[data-decision=retry]").click()
        await expect(row).to_contain_text("done")
        await expect(page.locator("#idle")).to_be_visible()
        await stacker_job_reaches(staff, job_id, "done")
        where = (await staff.get(f"/api/v1/items/{BOX}/location")).json()["location"]
        assert where["kind"] == "station"
        assert room.plc.model.contents[STATION] == epc_short_form(EPC)
        await console.shot("stacker")
