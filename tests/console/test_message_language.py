"""The daemon's words in the reader's language, in a real browser: an item's place by the names
of its room, rack, section and shelf, and a gate alarm's message, in Chinese and in English,
also after a reload (the alarm keeps its message key and parameters in the database).

The refused check-out of a cart is in test_desk_day; a stacker job waiting for its station in
test_stacker_station; both run in both languages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from daemon.tokens import Role
from simulators.llrp_gate import Cross
from tests.console.conftest import ConsoleRoom, open_console
from tests.support.catalogue import item_body

BOX = "0001-WS·2023-D30-RS-0301"
EPC = "E28011606000020000000301"
SHELF = "r1-A-03-04"
WORDS = {
    "en-GB": {
        "place": "Room r1, rack A, section 03, shelf 04",
        "alarm": f"{BOX} was carried out through gate door-1 without a loan",
        "home": "Room r1, rack A, section 03, shelf 04",
    },
    "zh-CN": {
        "place": "r1 库房 A列 03节 04层",
        "alarm": f"{BOX} 未办理借出，经门禁 door-1 被带出",  # noqa: RUF001
        "home": "r1 库房 A列 03节 04层",
    },
}


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
async def test_a_place_and_a_gate_alarm_are_said_in_the_readers_language(
    room: ConsoleRoom, browser: Browser, screenshots: Path, locale: str
) -> None:
    words = WORDS[locale]
    async with room.client() as staff:
        body = item_body(title="养老保险待遇审批表", home_location=SHELF)
        assert (await staff.put(f"/api/v1/items/{BOX}", json=body)).is_success
        assert (await staff.post(f"/api/v1/items/{BOX}/tag", json={"epc": EPC})).status_code == 201
        moved = await staff.post(f"/api/v1/items/{BOX}/move", json={"to": SHELF})
        assert moved.is_success, moved.text

    console = await open_console(browser, room.url, screenshots, locale=locale)
    page = console.page
    await console.log_in(room.tokens[Role.staff])
    await console.open(f"/console/item?ref={BOX}")
    where = page.locator("#where .place")
    await expect(where).to_contain_text(words["place"])
    await expect(where).to_have_attribute("title", SHELF)  # the code stays at hand
    await expect(where.locator("small.code")).to_have_text(SHELF)
    await expect(page.locator("#summary .place")).to_contain_text(words["home"])

    # Carried out without a loan: the alarm's message arrives in the reader's language.
    await console.open("/console/alarms")
    await page.locator("#live[data-state=on]").wait_for()
    room.gate.add(Cross(epc=EPC, direction="out", duration=2.0))
    alarm = page.locator("#alarms tbody tr[data-kind='gate.unauthorized']")
    await expect(alarm).to_contain_text(words["alarm"])
    await expect(page.locator(".toast")).to_contain_text(words["alarm"])
    # A reload reads the alarm back from the database: still in the reader's language.
    await page.reload()
    await expect(alarm).to_contain_text(words["alarm"])
    if locale == "zh-CN":
        await expect(alarm).not_to_contain_text("carried out")
    await console.shot(f"alarms-language{'' if locale == 'en-GB' else '-zh'}")

    # The API keeps its English beside the key and the parameters.
    async with room.client() as staff:
        listed = (await staff.get("/api/v1/alarms")).json()
    gate = next(a for a in listed if a["kind"] == "gate.unauthorized")
    assert gate["message"] == WORDS["en-GB"]["alarm"]
    assert gate["message_key"] == "alarm.gate_unauthorized"
    assert gate["params"] == {"ref": BOX, "gate": "door-1"}
