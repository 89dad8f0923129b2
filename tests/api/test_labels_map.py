"""Labels and the room map over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from tests.labels.tools import decode, giai96, need_tools, parse_zpl, pdf_pages, pdf_text, render
from tests.support.catalogue import item_body, moved
from tests.support.room import Room

SVG = "{http://www.w3.org/2000/svg}"
DOTTED = "0001-WS·2023-Y-RS-0007"


async def _item(client: httpx.AsyncClient, ref: str, **kw: object) -> None:
    r = await client.put(f"/api/v1/items/{ref}", json=item_body(**kw))
    assert r.status_code in (200, 201), r.text


async def _expected_epc(room: Room, ref: str) -> str:
    item = await room.services.catalogue.get(ref)
    return giai96(room.services.config.ledger.company_prefix, item.id)


def _cells(svg: str) -> dict[str, set[str]]:
    root = ET.fromstring(svg)
    return {
        rect.attrib["data-code"]: set(rect.attrib["class"].split())
        for rect in root.iter(f"{SVG}rect")
    }


def _counts(svg: str) -> dict[str, int]:
    root = ET.fromstring(svg)
    return {r.attrib["data-code"]: int(r.attrib["data-count"]) for r in root.iter(f"{SVG}rect")}


async def test_pdf_label_of_one_item(staff: httpx.AsyncClient, tmp_path: Path) -> None:
    need_tools()
    await _item(staff, DOTTED, title="工伤认定决定书 Work injury decision", retention="Y")
    r = await staff.get(f"/api/v1/items/{DOTTED}/label")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment;")
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(r.content)
    text = pdf_text(pdf)
    assert DOTTED in text
    assert "工伤认定决定书" in text
    assert "永久" in text
    (png,) = render(pdf)
    assert decode(png, "qrcode", one=True) == [DOTTED]
    assert decode(png, "code128") == []  # untagged, and the reference is not ASCII


async def test_zpl_needs_a_tag_on_get_and_binds_one_on_post(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await _item(staff, DOTTED, title="工资调整 ^FS~", kind="file")
    r = await staff.get(f"/api/v1/items/{DOTTED}/label", params={"format": "zpl"})
    assert r.status_code == 409
    assert "no tag yet: POST /api/v1/labels" in r.json()["detail"]

    r = await staff.post("/api/v1/labels", json={"refs": [DOTTED], "format": "zpl"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.zebra-zpl")
    expected = await _expected_epc(room, DOTTED)
    (fmt,) = parse_zpl(r.text)
    assert fmt.field_with("RF").data == expected
    assert fmt.field_with("BC").data == expected
    assert fmt.field_with("BQ").data == f"MA,{DOTTED}"
    assert "工资调整 ^FS~" in fmt.texts()
    item = (await staff.get(f"/api/v1/items/{DOTTED}")).json()
    assert item["epc"] == expected
    tag = (await staff.get(f"/api/v1/tags/{expected}")).json()
    assert tag["active"]["ref"] == DOTTED

    reprint = await staff.post("/api/v1/labels", json={"refs": [DOTTED], "format": "zpl"})
    assert reprint.status_code == 200, reprint.text
    assert parse_zpl(reprint.text)[0].field_with("RF").data == expected
    again = await staff.get(f"/api/v1/items/{DOTTED}/label", params={"format": "zpl"})
    assert again.status_code == 200
    assert parse_zpl(again.text)[0].field_with("RF").data == expected


async def test_zpl_of_a_short_foreign_tag_is_refused_before_anything_is_bound(
    staff: httpx.AsyncClient,
) -> None:
    await _item(staff, "F-1")
    await _item(staff, "F-2")
    foreign = "E2801160600002054CC2"  # 80 bits: ^RFW here writes 96
    assert (await staff.post("/api/v1/items/F-1/tag", json={"epc": foreign})).status_code == 201
    r = await staff.post("/api/v1/labels", json={"refs": ["F-2", "F-1"], "format": "zpl"})
    assert r.status_code == 422
    assert "retire the tags of F-1" in r.json()["detail"]
    assert (await staff.get("/api/v1/items/F-2")).json()["epc"] is None
    r = await staff.get("/api/v1/items/F-1/label", params={"format": "zpl"})
    assert r.status_code == 422
    assert "96-bit EPC" in r.json()["detail"]


async def test_a_sheet_of_labels_and_a_zpl_stream(
    room: Room, staff: httpx.AsyncClient, tmp_path: Path
) -> None:
    need_tools()
    refs = [f"S-{n:02d}" for n in range(1, 11)]
    for ref in refs:
        await _item(staff, ref, title=f"第{ref}号 file {ref}")
    r = await staff.post("/api/v1/labels", json={"refs": refs})
    assert r.status_code == 200
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(r.content)
    pages = pdf_pages(pdf)
    assert len(pages) == 2
    assert all(ref in pages[0] for ref in refs[:8])
    assert all(ref in pages[1] for ref in refs[8:])

    r = await staff.post("/api/v1/labels", json={"refs": refs[:3], "format": "zpl"})
    formats = parse_zpl(r.text)
    assert [f.field_with("RF").data for f in formats] == [
        await _expected_epc(room, ref) for ref in refs[:3]
    ]
    assert (await staff.get("/api/v1/items/S-04")).json()["epc"] is None


async def test_label_requests_that_cannot_be_served(staff: httpx.AsyncClient) -> None:
    assert (await staff.get("/api/v1/items/NOPE/label")).status_code == 404
    assert (await staff.post("/api/v1/labels", json={"refs": ["NOPE"]})).status_code == 404
    assert (await staff.post("/api/v1/labels", json={"refs": []})).status_code == 422
    r = await staff.post("/api/v1/labels", json={"refs": ["A"] * 201})
    assert r.status_code == 422
    await _item(staff, "OK-1")
    r = await staff.get("/api/v1/items/OK-1/label", params={"format": "png"})
    assert r.status_code == 422


async def test_map_marks_where_the_item_is_and_where_it_belongs(
    room: Room, staff: httpx.AsyncClient
) -> None:
    await _item(staff, "M-1", home_location="r1-A-02-02")
    await _item(staff, "M-2")
    r = await staff.get("/api/v1/map.svg", params={"ref": "M-1"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    cells = _cells(r.text)
    assert len([c for c in cells if c.startswith("r1-A-")]) == 6  # 3 bays x 2 levels
    assert "home" in cells["r1-A-02-02"]
    assert not any("here" in classes for classes in cells.values())
    assert r.headers["x-item-location"] == "unknown"
    assert r.headers["x-item-on-map"] == "false"

    for ref, to in (("M-1", "r1-A-03-01"), ("M-2", "r1-A-03-01")):
        await moved(staff, ref, to)
    r = await staff.get("/api/v1/map.svg", params={"ref": "M-1"})
    cells = _cells(r.text)
    assert cells["r1-A-03-01"] >= {"here", "occupied"}
    assert "home" not in cells["r1-A-03-01"]
    assert r.headers["x-item-location"] == "r1-A-03-01"
    assert r.headers["x-item-home"] == "r1-A-02-02"
    assert r.headers["x-item-on-map"] == "true"
    counts = _counts((await staff.get("/api/v1/map.svg")).text)
    assert counts["r1-A-03-01"] == 2
    assert sum(counts.values()) == 2


async def test_map_requests_that_cannot_be_served(staff: httpx.AsyncClient) -> None:
    assert (await staff.get("/api/v1/map.svg", params={"ref": "NOPE"})).status_code == 404
    assert (await staff.get("/api/v1/map.svg", params={"ref": "a b"})).status_code == 422
