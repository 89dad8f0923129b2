"""Disposal and transfer: proposed, approved twice, carried out; the register as CSV and PDF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from daemon.clock import now_us
from daemon.tokens import Role
from tests.support.catalogue import item_body
from tests.support.room import Room

EPC_1 = "E28011606000020000000301"
EPC_2 = "E28011606000020000000302"


async def _due(staff: httpx.AsyncClient, ref: str, epc: str | None = None, **extra: object) -> None:
    body = item_body(year=2000, retention="D10", **extra)
    assert (await staff.put(f"/api/v1/items/{ref}", json=body)).status_code == 201
    if epc is not None:
        assert (await staff.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})).status_code == 201


async def _approved(
    room: Room, staff: httpx.AsyncClient, approver: httpx.AsyncClient, proposal: dict[str, object]
) -> dict[str, object]:
    r = await staff.post("/api/v1/dispositions", json=proposal)
    assert r.status_code == 201, r.text
    d = r.json()
    ok = await approver.post(
        f"/api/v1/dispositions/{d['id']}/approve", json={"approval_no": "XH-2026-03"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "proposed"
    async with room.client(Role.admin) as admin:
        counter = await admin.post(f"/api/v1/dispositions/{d['id']}/approve", json={})
    assert counter.status_code == 200, counter.text
    assert counter.json()["state"] == "approved"
    approved: dict[str, object] = counter.json()
    return approved


async def test_only_items_whose_retention_has_run_out_can_be_proposed(
    staff: httpx.AsyncClient,
) -> None:
    await _due(staff, "D-OK")
    forever = item_body(year=1990, retention="Y")
    assert (await staff.put("/api/v1/items/P-KEEP", json=forever)).status_code == 201
    young = item_body(year=2024, retention="D10")
    assert (await staff.put("/api/v1/items/D-YOUNG", json=young)).status_code == 201
    await _due(staff, "D-LENT")
    loan = {"ref": "D-LENT", "borrower": "Li Na", "purpose": "audit"}
    assert (await staff.post("/api/v1/loans", json=loan)).status_code == 201
    proposal = {
        "refs": ["D-OK", "P-KEEP", "D-YOUNG", "D-LENT", "NOPE"],
        "action": "destroy",
        "reason": "appraisal 2026-1",
    }
    r = await staff.post("/api/v1/dispositions", json=proposal)
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert "NOPE: not catalogued" in detail
    assert "P-KEEP: permanent (Y): never disposed of" in detail
    assert "D-YOUNG: retention runs until 2035-01-01" in detail
    assert "D-LENT: on loan" in detail
    assert "D-OK" not in detail
    # The same reasons as a key and parameters, each item's reason a message of its own.
    assert r.json()["message_key"] == "disposal.cannot"
    reasons = {p["params"]["ref"]: p["params"]["problem"] for p in r.json()["params"]["problems"]}
    assert reasons["NOPE"] == {"key": "disposal.problem.not_catalogued", "params": {}}
    assert reasons["D-YOUNG"] == {
        "key": "disposal.problem.retention",
        "params": {"date": "2035-01-01"},
    }
    assert reasons["D-LENT"]["key"] == "disposal.problem.on_loan"
    transfer = {"refs": ["D-OK"], "action": "transfer", "reason": "to the state archives"}
    no_receiver = await staff.post("/api/v1/dispositions", json=transfer)
    assert no_receiver.status_code == 422
    assert no_receiver.json()["message_key"] == "disposal.receiver"


async def test_destruction_is_approved_twice_then_carried_out_and_leaves_the_inventory(
    room: Room, staff: httpx.AsyncClient, approver: httpx.AsyncClient
) -> None:
    await _due(staff, "D-1", EPC_1, title="=HYPERLINK(evil)")
    await _due(staff, "D-2", EPC_2)
    proposal = {"refs": ["D-1", "D-2"], "action": "destroy", "reason": "appraisal 2026-1"}
    r = await staff.post("/api/v1/dispositions", json=proposal)
    d = r.json()
    early = await staff.post(f"/api/v1/dispositions/{d['id']}/carry-out")
    assert early.status_code == 409
    again = await staff.post("/api/v1/dispositions", json=proposal)
    assert again.status_code == 409
    assert f"already in disposal {d['id']}" in again.json()["detail"]
    no_number = await approver.post(f"/api/v1/dispositions/{d['id']}/approve", json={})
    assert no_number.status_code == 422
    await approver.post(
        f"/api/v1/dispositions/{d['id']}/approve", json={"approval_no": "XH-2026-03"}
    )
    twice = await approver.post(
        f"/api/v1/dispositions/{d['id']}/approve", json={"approval_no": "XH-2026-04"}
    )
    assert twice.status_code == 409
    async with room.client(Role.admin) as admin:
        await admin.post(f"/api/v1/dispositions/{d['id']}/approve", json={})
    done = await staff.post(f"/api/v1/dispositions/{d['id']}/carry-out", json={"note": "shredded"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "carried_out"
    assert body["approval_no"] == "XH-2026-03"
    assert {(i["ref"], i["epc"]) for i in body["items"]} == {("D-1", EPC_1), ("D-2", EPC_2)}

    tag = (await staff.get(f"/api/v1/tags/{EPC_1}")).json()
    assert tag["active"] is None
    history = (await staff.get("/api/v1/items/D-1/history")).json()["entries"]
    assert "item.destroyed" in [e["details"].get("action") for e in history if e["kind"] == "audit"]
    eligible = await staff.get("/api/v1/retention/eligible", params={"format": "json"})
    assert "D-1" not in eligible.text
    run = await staff.post("/api/v1/reconciliations")
    assert run.status_code == 202
    lent = await staff.post("/api/v1/loans", json={"ref": "D-2", "borrower": "x", "purpose": "y"})
    assert lent.status_code == 409
    assert "destroyed" in lent.json()["detail"]

    csv_text = (await staff.get(f"/api/v1/dispositions/{d['id']}/register?format=csv")).text
    assert "'=HYPERLINK(evil)" in csv_text
    assert "D-2" in csv_text
    assert EPC_2 in csv_text

    async with room.client(Role.catalogue) as follower:
        feed = (await follower.get("/api/v1/changes")).json()["changes"]
    assert [c["ref"] for c in feed if c["kind"] == "disposition"] == ["D-1", "D-2"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_register_prints_as_a_pdf(
    room: Room, staff: httpx.AsyncClient, approver: httpx.AsyncClient, tmp_path: Path
) -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.fail("poppler-utils is needed (make test installs it)")
    await _due(staff, "D-PDF", EPC_1, title="干部档案 Personnel file")
    d = await _approved(
        room,
        staff,
        approver,
        {"refs": ["D-PDF"], "action": "destroy", "reason": "appraisal 2026-1"},
    )
    await staff.post(f"/api/v1/dispositions/{d['id']}/carry-out")
    r = await staff.get(f"/api/v1/dispositions/{d['id']}/register")
    assert r.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "register.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "销毁清册" in text
    assert "D-PDF" in text
    assert "XH-2026-03" in text
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


async def test_transferred_box_may_leave_through_the_gate(
    room: Room, staff: httpx.AsyncClient, approver: httpx.AsyncClient
) -> None:
    await _due(staff, "T-1", EPC_1)
    d = await _approved(
        room,
        staff,
        approver,
        {
            "refs": ["T-1"],
            "action": "transfer",
            "reason": "transfer to the state archives",
            "receiver": "Provincial Archives",
        },
    )
    done = await staff.post(f"/api/v1/dispositions/{d['id']}/carry-out")
    assert done.json()["state"] == "carried_out"
    passages = room.services.passages
    out = await passages.record(gate="door-1", epc=EPC_1, direction="out", at_us=now_us())
    assert out.authorized
    assert out.ref == "T-1"
    stranger = await passages.record(
        gate="door-1", epc="E28011606000020000000399", direction="out", at_us=now_us()
    )
    assert not stranger.authorized
    epcis = await staff.get("/api/v1/epcis/events", params={"ref": "T-1"})
    steps = [e["bizStep"] for e in epcis.json()["epcisBody"]["eventList"]]
    assert "shipping" in steps
    assert "decommissioning" in steps
