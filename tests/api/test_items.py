"""Catalogue records over real HTTP, on SQLite and PostgreSQL."""

import logging

import httpx
import pytest

from daemon.cli import quiet_libraries
from tests.support.catalogue import VALID_CREDIT_CODE, VALID_RESIDENT_ID, item_body
from tests.support.room import Room

REF = "0001-WS·2023-D30-RS-0001"


async def test_put_creates_then_replaces_a_record(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.put(f"/api/v1/items/{REF}", json=item_body())
    assert r.status_code == 201
    assert r.json()["ref"] == REF
    r = await catalogue.put(
        f"/api/v1/items/{REF}", json=item_body(title="Pension approval (amended)")
    )
    assert r.status_code == 200
    assert (await catalogue.get(f"/api/v1/items/{REF}")).json()[
        "title"
    ] == "Pension approval (amended)"


async def test_unknown_item_is_404(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.get("/api/v1/items/NO-SUCH-REF")
    assert r.status_code == 404
    assert "NO-SUCH-REF" in r.json()["detail"]


async def test_invalid_ref_in_path_is_422(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.put("/api/v1/items/bad ref!", json=item_body())
    assert r.status_code == 422


async def test_invalid_resident_id_is_rejected_naming_the_field(
    catalogue: httpx.AsyncClient,
) -> None:
    r = await catalogue.put(
        f"/api/v1/items/{REF}", json=item_body(resident_id="110105194912310021")
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "resident_id"
    assert "GB 11643" in r.json()["detail"][0]["msg"]
    assert (await catalogue.get(f"/api/v1/items/{REF}")).status_code == 404


async def test_social_security_no_accepts_resident_id_or_credit_code(
    catalogue: httpx.AsyncClient,
) -> None:
    for value in (VALID_RESIDENT_ID, VALID_CREDIT_CODE):
        r = await catalogue.put(f"/api/v1/items/{REF}", json=item_body(social_security_no=value))
        assert r.status_code in (200, 201), r.text
    r = await catalogue.put(
        f"/api/v1/items/{REF}", json=item_body(social_security_no="91110000600037341X")
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "social_security_no"


async def test_key_fields_are_masked_for_staff_and_shown_to_the_catalogue_with_a_reason(
    catalogue: httpx.AsyncClient, staff: httpx.AsyncClient
) -> None:
    await catalogue.put(f"/api/v1/items/{REF}", json=item_body(resident_id=VALID_RESIDENT_ID))
    full = (await catalogue.get(f"/api/v1/items/{REF}", params={"reason": "case 2026-17"})).json()
    masked = (await staff.get(f"/api/v1/items/{REF}", params={"reason": "case 2026-17"})).json()
    assert full["resident_id"] == VALID_RESIDENT_ID
    assert full["key_fields_masked"] is False
    assert masked["resident_id"] == "110105********002X"
    assert masked["key_fields_masked"] is True


async def test_the_catalogue_sees_key_fields_masked_without_a_reason(
    catalogue: httpx.AsyncClient,
) -> None:
    await catalogue.put(f"/api/v1/items/{REF}", json=item_body(resident_id=VALID_RESIDENT_ID))
    body = (await catalogue.get(f"/api/v1/items/{REF}")).json()
    assert body["resident_id"] == "110105********002X"
    assert body["key_fields_masked"] is True


async def test_a_box_cannot_have_a_parent(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.put(f"/api/v1/items/{REF}", json=item_body(parent_ref="BOX-1"))
    assert r.status_code == 422


async def test_unknown_home_location_is_422(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.put(f"/api/v1/items/{REF}", json=item_body(home_location="r1-Z-99-99"))
    assert r.status_code == 422
    assert "r1-Z-99-99" in r.json()["detail"]


CSV = (
    "ref,title,retention,kind,parent_ref,resident_id,home_location\n"
    "BOX-1,Personnel files 2023,Y,box,,,r1-A-01-01\n"
    "FILE-1,Zhang San,D30,file,BOX-1,11010519491231002X,\n"
    "FILE-2,Li Si,D30,file,BOX-1,110105194912310021,\n"
    "FILE-3,Wang Wu,D99,file,BOX-1,,\n"
    "BOX-1,Duplicate,Y,box,,,\n"
    "BOX-2,Nowhere,Y,box,,,r1-Q-01-01\n"
    "BOX-3,Social insurance 2022,D10,box,,,\n"
)


async def test_csv_import_loads_good_rows_and_reports_each_bad_one(
    catalogue: httpx.AsyncClient,
) -> None:
    r = await catalogue.post(
        "/api/v1/items/import?wait=true", content=CSV.encode(), headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["loaded"] == 3
    assert body["error_count"] == 4
    errors = {e["line"]: e for e in body["errors"]}
    assert set(errors) == {4, 5, 6, 7}
    assert "resident_id" in errors[4]["error"]
    assert "retention" in errors[5]["error"]
    assert "repeats line 2" in errors[6]["error"]
    assert "r1-Q-01-01" in errors[7]["error"]
    for ref in ("BOX-1", "FILE-1", "BOX-3"):
        assert (await catalogue.get(f"/api/v1/items/{ref}")).status_code == 200
    assert (await catalogue.get("/api/v1/items/BOX-1")).json()["home_location"] == "r1-A-01-01"


async def test_json_lines_import_reports_bad_json_by_line(catalogue: httpx.AsyncClient) -> None:
    lines = [
        '{"ref": "J-1", "title": "One", "retention": "Y"}',
        "not json",
        "[1, 2]",
        '{"ref": "J-2", "title": "Two", "retention": "D10", "colour": "red"}',
        '{"ref": "J-3", "title": "Three", "retention": "D10"}',
    ]
    r = await catalogue.post(
        "/api/v1/items/import?wait=true",
        content="\n".join(lines),
        headers={"Content-Type": "application/x-ndjson"},
    )
    body = r.json()
    assert body["loaded"] == 2
    assert [e["line"] for e in body["errors"]] == [2, 3, 4]
    assert "colour" in body["errors"][2]["error"]


async def test_csv_without_ref_column_is_reported(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.post(
        "/api/v1/items/import?wait=true",
        content=b"title\nx\n",
        headers={"Content-Type": "text/csv"},
    )
    assert r.json()["loaded"] == 0
    assert "header" in r.json()["errors"][0]["error"]


async def test_non_utf8_import_is_422(catalogue: httpx.AsyncClient) -> None:
    r = await catalogue.post(
        "/api/v1/items/import?wait=true",
        content=b"ref,title\n\xff\xfe,x\n",
        headers={"Content-Type": "text/csv"},
    )
    assert r.status_code == 422


async def test_key_fields_never_reach_logs_or_events(
    room: Room, catalogue: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_libraries()  # what the daemon's logging set-up does at every level
    await catalogue.put(f"/api/v1/items/{REF}", json=item_body(resident_id=VALID_RESIDENT_ID))
    await catalogue.post(
        "/api/v1/items/import?wait=true",
        content=f"ref,title,retention,resident_id\nX-1,t,Y,{VALID_RESIDENT_ID}\nX-2,t,Y,110105194912310021\n",
        headers={"Content-Type": "text/csv"},
    )
    assert VALID_RESIDENT_ID not in caplog.text
    assert "110105194912310021" not in caplog.text
    from sqlalchemy import select

    from daemon.store.schema import audit, outbox

    async with room.daemon_store() as store, store.read() as conn:
        payloads = (await conn.execute(select(outbox.c.payload))).scalars().all()
        details = (await conn.execute(select(audit.c.details))).scalars().all()
    assert not any(VALID_RESIDENT_ID in p for p in payloads)
    assert not any(VALID_RESIDENT_ID in d for d in details)
