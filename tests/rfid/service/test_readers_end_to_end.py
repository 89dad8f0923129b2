"""The RFID room end to end: simulated readers -> daemon -> ledger, API and a real broker."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from daemon.ledger.tags import giai96
from daemon.tokens import Role
from rfid.gate import Passage
from rfid.service.passage_journal import PassageJournal
from simulators.llrp_gate import Cross, WalkPast
from tests.services import Mosquitto
from tests.support.catalogue import item_body
from tests.support.poll import eventually
from tests.support.room import Room, reader_room

BOX_EPC = "E28011606000020000000001"


async def _tagged_box(client: httpx.AsyncClient, ref: str, epc: str, **kw: object) -> None:
    assert (await client.put(f"/api/v1/items/{ref}", json=item_body(**kw))).status_code == 201
    assert (await client.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})).status_code == 201


async def test_box_carried_out_without_a_loan_raises_the_alarm_on_mqtt(rig: Room) -> None:
    async with rig.client() as staff:
        await _tagged_box(staff, "BOX-1", BOX_EPC)
        rig.gate.add(Cross(epc=BOX_EPC, direction="out", duration=2.0))
        alarm = await rig.mqtt.wait_for("alarm.raised", kind="gate.unauthorized")
        passage = await rig.mqtt.wait_for("gate.passage", epc=BOX_EPC, provisional=None)
        assert alarm["subject"] == "BOX-1"
        assert alarm["severity"] == "critical"
        assert passage["direction"] == "out"
        assert passage["authorized"] is False
        where = (await staff.get("/api/v1/items/BOX-1/location")).json()
        assert where["location"]["code"] == "unknown"
        assert where["source"] == "gate"
        alarms = (await staff.get("/api/v1/alarms")).json()
        assert [a["kind"] for a in alarms] == ["gate.unauthorized"]
        acked = (await staff.post(f"/api/v1/alarms/{alarms[0]['id']}/ack")).json()
        assert acked["active"] is False
        assert acked["acknowledged_by"] == "staff-rig"
    assert rig.services.metrics.gate_alarms.labels(gate="door-1")._value.get() == 1


async def test_a_passage_is_announced_before_it_is_recorded(rig: Room) -> None:
    """The engine's decision goes out at once (provisional, decided from memory); the durable
    event of the recorded passage follows, with the same decision time."""
    async with rig.client() as staff:
        await _tagged_box(staff, "BOX-5", BOX_EPC)
        rig.gate.add(Cross(epc=BOX_EPC, direction="out", duration=2.0))
        durable = await rig.mqtt.wait_for("gate.passage", epc=BOX_EPC, provisional=None)
        events = [e for e in rig.mqtt.events("gate.passage") if e["epc"] == BOX_EPC]
        assert [e.get("provisional") for e in events] == [True, None]
        fast = events[0]
        assert fast["decided_at"] == durable["decided_at"]
        assert fast["direction"] == durable["direction"] == "out"
        assert fast["authorized"] is durable["authorized"] is False
        assert fast["ref"] is None
        assert durable["ref"] == "BOX-5"
    # The durable event goes out of the outbox once the record commits; the recorder marks
    # the journal line done only when its own follow-up (the item's expectation) is finished.
    journal = rig.services.readers.journal
    await eventually(lambda: journal.pending == {})


async def test_box_carried_out_with_a_loan_is_a_confirmed_removal(rig: Room) -> None:
    async with rig.client() as staff:
        await _tagged_box(staff, "BOX-2", BOX_EPC)
        loan = (
            await staff.post(
                "/api/v1/loans", json={"ref": "BOX-2", "borrower": "x", "purpose": "y"}
            )
        ).json()
        rig.gate.add(Cross(epc=BOX_EPC, direction="out", duration=2.0))
        passage = await rig.mqtt.wait_for("gate.passage", epc=BOX_EPC, provisional=None)
        assert passage["authorized"] is True
        assert passage["loan_id"] == loan["id"]
        where = (await staff.get("/api/v1/items/BOX-2/location")).json()
        assert where["location"]["code"] == "on-loan"
        assert where["loan"]["id"] == loan["id"]
        await asyncio.sleep(1.0)
        assert rig.mqtt.events("alarm.raised") == []
        assert (await staff.get("/api/v1/alarms")).json() == []

        rig.gate.add(Cross(epc=BOX_EPC, direction="in", duration=2.0))
        await rig.mqtt.wait_for("gate.passage", epc=BOX_EPC, direction="in", provisional=None)
        where = (await staff.get("/api/v1/items/BOX-2/location")).json()
        assert where["location"]["code"] == "r1-gate-door-1"
        assert where["loan"]["id"] == loan["id"]  # returned at the desk, not by walking in
        history = [
            e["kind"] for e in (await staff.get("/api/v1/items/BOX-2/history")).json()["entries"]
        ]
        assert history.count("gate") == 2


async def test_walking_past_the_gate_is_no_passage(rig: Room) -> None:
    async with rig.client() as staff:
        await _tagged_box(staff, "BOX-3", BOX_EPC)
        rig.gate.add(WalkPast(epc=BOX_EPC, side="outside", duration=2.0))
        rig.gate.add(Cross(epc="E28011606000020000000099", direction="out", duration=2.0))
        await rig.mqtt.wait_for("gate.passage", epc="E28011606000020000000099", provisional=None)
        await asyncio.sleep(1.0)
        durable = [p for p in rig.mqtt.events("gate.passage") if not p.get("provisional")]
        assert [p["epc"] for p in durable] == ["E28011606000020000000099"]
        assert (await staff.get("/api/v1/alarms")).json() == []


async def test_moving_a_box_between_shelves_updates_its_location_and_history(rig: Room) -> None:
    async with rig.client() as staff:
        await _tagged_box(staff, "BOX-4", BOX_EPC, home_location="r1-A-01-01")
        rig.shelf.reader.place(1, BOX_EPC)

        async def located_at(code: str) -> bool:
            return bool(
                (await staff.get("/api/v1/items/BOX-4/location")).json()["location"]["code"] == code
            )

        await eventually(lambda: located_at("r1-A-01-01"), timeout=20)
        rig.shelf.reader.move(BOX_EPC, 2)
        await eventually(lambda: located_at("r1-A-01-02"), timeout=20)
        event = await rig.mqtt.wait_for("location.changed", ref="BOX-4", to_location="r1-A-01-02")
        assert event["source"] == "shelf-read"
        assert event["from_location"] == "r1-A-01-01"
        misplaced = await rig.mqtt.wait_for("alarm.raised", kind="item.misplaced")
        assert misplaced["subject"] == "BOX-4"
        moves = [
            e["details"]["to"]
            for e in (await staff.get("/api/v1/items/BOX-4/history")).json()["entries"]
            if e["kind"] == "movement"
        ]
        assert moves == ["r1-A-01-01", "r1-A-01-02"]
        rig.shelf.reader.move(BOX_EPC, 1)
        await eventually(lambda: located_at("r1-A-01-01"), timeout=20)
        await rig.mqtt.wait_for("alarm.cleared", kind="item.misplaced")


async def test_desk_encodes_verifies_and_binds_a_new_tag(rig: Room) -> None:
    async with rig.client() as staff:
        await staff.put("/api/v1/items/BOX-5", json=item_body())
        body = {"encode": True, "reader": "desk-1"}
        r = await staff.post("/api/v1/items/BOX-5/tag", json=body)
        assert r.status_code == 409
        assert "no tag on desk reader desk-1" in r.json()["detail"]
        rig.desk.reader.place(1, "300833B2DDD9014000000000")
        rig.desk.reader.place(1, "300833B2DDD9014000000001")
        r = await staff.post("/api/v1/items/BOX-5/tag", json=body)
        assert r.status_code == 409
        assert "2 tags on desk reader" in r.json()["detail"]
        rig.desk.reader.remove("300833B2DDD9014000000001")

        r = await staff.post("/api/v1/items/BOX-5/tag", json=body)
        assert r.status_code == 201, r.text
        item_id = (await staff.get("/api/v1/items/BOX-5")).json()
        expected = giai96("0614141", 1)
        assert r.json()["epc"] == expected
        assert r.json()["uri"] == "urn:epc:id:giai:0614141.1"
        assert item_id["epc"] == expected
        assert rig.desk.reader.find(expected) is not None  # the physical tag now answers with it
        where = (await staff.get("/api/v1/items/BOX-5/location")).json()
        assert where["location"]["code"] == "r1-desk"
        assert (
            await staff.post("/api/v1/items/BOX-5/tag", json={"encode": True, "reader": "nope"})
        ).status_code == 404


async def test_reader_down_raises_and_up_clears_its_alarm(rig: Room) -> None:
    async with rig.client(Role.facilities) as facilities:
        await eventually(lambda: _reader_up(rig, "shelf-a"), timeout=20)
        await rig.shelf.close()
        raised = await rig.mqtt.wait_for("alarm.raised", kind="reader.down", timeout=30)
        assert "shelf-a" in str(raised["message"])
        assert rig.services.metrics.rfid_reader_up.labels(reader="shelf-a")._value.get() == 0
        await rig.shelf.start_tcp(port=rig.shelf.port)
        await rig.mqtt.wait_for("alarm.cleared", kind="reader.down", timeout=30)
        assert (await facilities.get("/api/v1/alarms?kind=reader.down")).json() == []
        states = [p for t, p in rig.mqtt.messages if t.endswith("/readers/shelf-a/state")]
        assert isinstance(states[-1], dict)
        assert states[-1]["up"] is True


async def _reader_up(rig: Room, reader: str) -> bool:
    return rig.services.readers.up.get(reader) is True


async def test_a_passage_decided_before_a_restart_is_recorded_after_it(
    tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str
) -> None:
    """The process died between announcing a passage and recording it: the journal it left
    makes the next start record it (once: a decision already recorded is not recorded again)."""
    state = tmp_path / "room"
    state.mkdir()
    left = "E28011606000020000000042"
    recorded = "E28011606000020000000043"
    journal = PassageJournal(state / "passages.jsonl")
    journal.open()
    journal.decided(Passage(left, "door-1", "out", 1_700_000_000.0, 1_700_000_000.5))
    journal.done(journal.decided(Passage(recorded, "door-1", "out", 1_700_000_001.0, 1.0)))
    journal.close()
    async with AsyncExitStack() as stack:
        rig = await reader_room(state, mosquitto, sqlite_url).open(stack)
        event = await rig.mqtt.wait_for("gate.passage", epc=left, provisional=None)
        assert event["direction"] == "out"
        async with asyncio.timeout(10):
            while rig.services.readers.journal.pending:
                await asyncio.sleep(0.05)
        assert [e["epc"] for e in rig.mqtt.events("gate.passage")] == [left]
        # Dying again after the record but before its done line: not recorded twice.
        passages = rig.services.passages
        assert await passages.recorded(
            gate="door-1", epc=left, direction="out", at_us=1_700_000_000_000_000
        )
        assert not await passages.recorded(
            gate="door-1", epc=recorded, direction="out", at_us=1_700_000_001_000_000
        )
