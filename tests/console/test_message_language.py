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

from daemon import messages
from simulators.llrp_gate import Cross
from tests.console.conftest import ConsoleRoom, signed_in
from tests.support.catalogue import item_body

BOX = "0001-WS·2023-D30-RS-0301"
EPC = "E28011606000020000000301"
SHELF = "r1-A-03-04"
WORDS = {
    "en-GB": {
        "place": "Room r1, rack A, section 03, shelf 04",
        "alarm": f"{BOX} was carried out through gate door-1 without a loan",
        "home": "Room r1, rack A, section 03, shelf 04",
        "said": [
            "cell aisle 1, side 2, bay 14, level 3, depth 1 is occupied",
            "redirected to the station at side 1, bay 0, level 1",
            "stacker s1 is unavailable: stacker reports an unknown mode (9)",
            "stacker s1 is unavailable: stacker PLC not connected yet",
            "t1: rejected humidity: 120 outside 0..100",
            "stacker verify job 7 of Room r1, stacker aisle 1 side 1, bay 01, level 01, depth 1: "
            "the box's RFID does not match the expected box",
        ],
    },
    "zh-CN": {
        "place": "r1 库房 A列 03节 04层",
        "alarm": f"{BOX} 未办理借出，经门禁 door-1 被带出",  # noqa: RUF001
        "home": "r1 库房 A列 03节 04层",
        "said": [
            "货位 1巷道 2侧 14列 3层 第1深位 已被占用",
            "已改送 出入库站台（1侧 0列 1层）",  # noqa: RUF001
            "堆垛机 s1 不可用：堆垛机报告了未知的工作模式（9）",  # noqa: RUF001
            "堆垛机 s1 不可用：尚未连上堆垛机控制器（PLC）",  # noqa: RUF001
            "传感器 t1 故障：读数不可信，已舍弃：湿度：读数 120 超出有效范围 0～100",  # noqa: RUF001
            "堆垛机对 r1 库房 立体库 1巷道 1侧 01列 01层 第1深位 的核验作业 #7 结果异常："  # noqa: RUF001
            "档案盒的 RFID 与预期不符",
        ],
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

    console = await signed_in(browser, room, screenshots, locale=locale)
    page = console.page
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

    # Words the daemon sends with a stacker's own cell address, a mode it does not know, a
    # sensor's rejected value and a verify job's result: each said in the reader's language,
    # as the pages say any message (the daemon side: tests/daemon/test_messages.py).
    said = await page.evaluate(SAY, [m.as_json() for m in SAID])
    assert said == words["said"]


SAID = [
    messages.say("stacker.cell.occupied", cell="a1-s2-b14-l3-d1"),
    messages.say("note.redirected", cell="a0-s1-b0-l1-d1"),
    messages.say("alarm.stacker_down", stacker="s1", reason=messages.stacker_words(
        "stacker reports an unknown mode (9)"
    )),
    messages.say("alarm.stacker_down", stacker="s1", reason=messages.stacker_words(
        "stacker PLC not connected yet"
    )),
    messages.say("alarm.sensor_fault", source="t1", reason=messages.sensor_reason(
        "rejected humidity: 120 outside 0..100"
    )),
    messages.say("finding.missing.failed_verify", job_id="7", location="r1-S11-01-01-1",
                 result=messages.say("stacker.result.id_mismatch")),
]  # fmt: skip
SAY = """async (said) => {
  const { messageWords } = await import("/console/static/console.js");
  return said.map((m) => messageWords(m.key, m.params, ""));
}"""
