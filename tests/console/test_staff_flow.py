"""A day at the desk, in a real browser: tag a box, store and retrieve it with the stacker, check
it out and back in, see the gate alarm when it is carried out without a loan, acknowledge it.

The pictures taken on the way are the staff guide's (docs/staff-guide.md).
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from daemon.tokens import Role
from simulators.llrp_gate import Cross
from stacker.registers import epc_short_form
from tests.console.conftest import STATION, ConsoleRoom, open_console
from tests.support.catalogue import catalogue_item

BOX = "0001-WS·2023-D30-RS-0001"
TITLE = "Pension approval, Zhang Wei"
BLANK_TAG = "E28011606000020000000001"


async def test_staff_tag_store_retrieve_check_out_return_and_acknowledge_a_gate_alarm(
    room: ConsoleRoom, browser: Browser, screenshots: Path
) -> None:
    async with room.client() as staff:
        await catalogue_item(staff, BOX, title=TITLE)
        console = await open_console(browser, room.url, screenshots, locale="en-GB")
        page = console.page

        await console.open("/console/login")
        await expect(page.locator("h1")).to_have_text("Staff console")
        await console.shot("login")
        await console.log_in(room.tokens[Role.staff])
        await expect(page.locator("#user")).to_have_text("Li Wei")

        # Find the box by a word of its title.
        await page.fill("#q", "zhang")
        await page.click("#search button")
        found = page.locator("#results tbody tr")
        await expect(found).to_have_count(1)
        await expect(found).to_contain_text(BOX)
        await expect(found).to_contain_text("Whereabouts unknown")
        await console.shot("search")
        await found.locator("a").click()
        await expect(page.locator("#ref")).to_have_text(BOX)
        await expect(page.locator("#tag-current")).to_have_text("No tag is bound to this item yet.")

        # Tag it at the desk reader: refused in words while no tag lies there, then encoded.
        await page.click("#encode-button")
        await expect(page.locator("#tag-status")).to_have_text(
            "Not possible now: no tag on desk reader desk-1: place one tag on the antenna"
        )
        room.desk.reader.place(1, BLANK_TAG)
        await page.click("#encode-button")
        await expect(page.locator("#tag-status")).to_contain_text("Encoded and verified: EPC ")
        epc = (await staff.get(f"/api/v1/items/{BOX}")).json()["epc"]
        assert epc != BLANK_TAG
        assert room.desk.reader.find(epc) is not None  # the physical tag answers with it now
        await expect(page.locator("#tag-current")).to_have_text(f"Bound to EPC {epc}.")
        await expect(page.locator("#where")).to_contain_text("r1-desk (desk)")
        await console.shot("item-tagged")

        # Store it: the box goes onto the station, the stacker takes it into a free cell.
        room.desk.reader.remove(epc)
        room.plc.put(STATION, epc_short_form(epc))
        await page.click("#store")
        await expect(page.locator("#stacker-status")).to_contain_text("finished: done")
        stored = (await staff.get(f"/api/v1/items/{BOX}/location")).json()["location"]
        assert stored["kind"] == "stacker-cell"
        await expect(page.locator("#where .place")).to_have_attribute("title", stored["code"])
        await expect(page.locator("#where")).to_contain_text("Room r1, stacker aisle ")
        assert STATION not in room.plc.model.contents
        await console.shot("item-stored")

        # Retrieve it to the station for the borrower.
        await page.click("#retrieve")
        await expect(page.locator("#stacker-status")).to_contain_text("finished: done")
        await expect(page.locator("#where")).to_contain_text("Room r1, stacker station io-1")
        assert room.plc.model.contents[STATION] == epc_short_form(epc)

        # Check it out, then take it back.
        await page.fill("#checkout [name=borrower]", "Zhang Wei")
        await page.fill("#checkout [name=purpose]", "Pension audit")
        await page.fill("#checkout [name=approval_no]", "SP-2023-0456")
        await page.click("#checkout button[type=submit]")
        await expect(page.locator("#loan-status")).to_contain_text("Checked out to Zhang Wei, due")
        await expect(page.locator("#loan")).to_contain_text("Pension audit")
        await expect(page.locator("#loan")).to_contain_text("StateOpen")
        await console.shot("item-on-loan")
        await page.click("#return")
        await expect(page.locator("#loan-status")).to_have_text(
            "Returned: the item is at the desk."
        )
        await expect(page.locator("#checkout")).to_be_visible()
        await expect(page.locator("#where")).to_contain_text("r1-desk (desk)")

        # Someone carries it out without a loan: the alarm appears on the open page by itself.
        await console.open("/console/alarms")
        await expect(page.locator("#no-alarms")).to_be_visible()
        await page.locator("#live[data-state=on]").wait_for()
        await page.evaluate("window.notReloaded = true")
        room.gate.add(Cross(epc=epc, direction="out", duration=2.0))
        alarm = page.locator("#alarms tbody tr[data-kind='gate.unauthorized']")
        await expect(alarm).to_contain_text("Carried out without a loan")
        await expect(alarm).to_contain_text(BOX)
        await expect(alarm).to_contain_text("Not acknowledged")
        await expect(page.locator("#alarm-count")).to_have_text("1")
        await expect(page.locator(".toast")).to_contain_text(f"Carried out without a loan: {BOX}")
        assert await page.evaluate("window.notReloaded") is True
        await console.shot("alarms")

        await alarm.locator("button.ack").click()
        await expect(page.locator("#status")).to_have_text(
            "Acknowledged: Carried out without a loan."
        )
        await expect(alarm).to_have_count(0)
        await expect(page.locator("#alarm-count")).to_be_hidden()
        ended = (await staff.get("/api/v1/alarms", params={"state": "all"})).json()
        assert [(a["kind"], a["acknowledged_by"], a["active"]) for a in ended] == [
            ("gate.unauthorized", "Li Wei", False)
        ]

        # The item's history tells the whole story.
        await alarm.page.goto(f"{room.url}/console/item?ref=0001-WS%C2%B72023-D30-RS-0001")
        history = page.locator("#history tbody")
        await expect(history).to_contain_text("out through gate door-1 WITHOUT a loan")
        await expect(history).to_contain_text("Checked out to Zhang Wei")
        await expect(history).to_contain_text("r1-desk → ")
        await expect(page.locator("#where")).to_contain_text("Whereabouts unknown")
        await console.shot("item-history")
