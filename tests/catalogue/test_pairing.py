"""Paper and electronic records checked both ways (双向核对), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.support.catalogue import VALID_RESIDENT_ID, item_body
from tests.support.reconcile import reconcile, rows
from tests.support.room import Room

OTHER_RESIDENT_ID = "110105198001010016"


async def test_paper_item_of_a_must_pair_category_needs_its_record(
    staff: httpx.AsyncClient,
) -> None:
    r = await staff.put("/api/v1/items/P-1", json=item_body(category="personnel", record_id=None))
    assert r.status_code == 422
    assert "record_id" in r.json()["detail"]
    assert "personnel" in r.json()["detail"]
    ok = await staff.put("/api/v1/items/P-1", json=item_body(category="personnel"))
    assert ok.status_code == 201
    warned = item_body(category="arbitration", record_id=None)
    assert (await staff.put("/api/v1/items/A-1", json=warned)).status_code == 201
    free = item_body(category="social insurance", record_id=None)
    assert (await staff.put("/api/v1/items/S-1", json=free)).status_code == 201


async def test_import_reports_rows_without_their_record_by_line(staff: httpx.AsyncClient) -> None:
    body = (
        "ref,title,category,retention,record_id\n"
        "P-10,Personnel file,personnel,Y,EA-10\n"
        "P-11,Personnel file,personnel,Y,\n"
        "S-12,Insurance file,social insurance,D30,\n"
    )
    r = await staff.post(
        "/api/v1/items/import?wait=true", content=body, headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["loaded"] == 2
    [error] = report["errors"]
    assert error["line"] == 3
    assert error["ref"] == "P-11"
    assert "record_id" in error["error"]


async def test_catalogue_record_for_an_unknown_reference_is_stored(
    catalogue: httpx.AsyncClient,
) -> None:
    body = {"ref": "P-404", "title": "Personnel file, Wang Wu", "category": "personnel"}
    r = await catalogue.put("/api/v1/catalogue-records/EA-404", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["paper_refs"] == []
    assert r.json()["ref"] == "P-404"
    again = await catalogue.put("/api/v1/catalogue-records/EA-404", json=body)
    assert again.status_code == 200
    got = await catalogue.get("/api/v1/catalogue-records/EA-404")
    assert got.json()["title"] == "Personnel file, Wang Wu"
    missing = await catalogue.get("/api/v1/catalogue-records/EA-000")
    assert missing.status_code == 404
    bad = await catalogue.put("/api/v1/catalogue-records/EA-1", json={"colour": "red"})
    assert bad.status_code == 422
    bad_id = await catalogue.put("/api/v1/catalogue-records/%20x", json=body)
    assert bad_id.status_code == 422


async def test_only_the_catalogue_service_pushes_records(
    staff: httpx.AsyncClient, room: Room
) -> None:
    r = await staff.put("/api/v1/catalogue-records/EA-1", json={"title": "x"})
    assert r.status_code == 403
    async with room.client(None) as anonymous:
        assert (await anonymous.get("/api/v1/catalogue-records/EA-1")).status_code == 401


async def test_reconciliation_checks_paper_and_electronic_both_ways(
    staff: httpx.AsyncClient, catalogue: httpx.AsyncClient
) -> None:
    for ref, body in {
        "P-PAIRED": item_body(category="personnel", record_id="EA-1"),
        "P-UNPUSHED": item_body(category="personnel", record_id="EA-2"),
        "A-NONE": item_body(category="arbitration", record_id=None),
        "S-FREE": item_body(category="social insurance", record_id=None),
        "P-KEY": item_body(category="personnel", record_id="EA-5", resident_id=VALID_RESIDENT_ID),
        "P-OTHER": item_body(category="personnel", record_id="EA-6"),
    }.items():
        assert (await staff.put(f"/api/v1/items/{ref}", json=body)).status_code == 201
    batch = {
        "records": [
            {"record_id": "EA-1", "ref": "P-PAIRED", "title": "t", "category": "personnel"},
            {"record_id": "EA-3", "ref": "P-NO-PAPER", "title": "t", "category": "personnel"},
            {"record_id": "EA-4", "title": "electronic only", "category": "social insurance"},
            {
                "record_id": "EA-5",
                "ref": "P-KEY",
                "title": "t",
                "category": "personnel",
                "resident_id": OTHER_RESIDENT_ID,
            },
            {"record_id": "EA-6", "ref": "P-OTHER", "title": "t", "category": "personnel"},
            {"record_id": "EA-7", "ref": "P-OTHER", "title": "t", "category": "personnel"},
        ]
    }
    r = await catalogue.post("/api/v1/catalogue-records", json=batch)
    assert r.status_code == 200
    assert r.json() == {"stored": 6}
    run = await reconcile(staff)
    counts = run["counts"]
    assert isinstance(counts, dict)
    assert counts["no_electronic_record"] == 2
    assert counts["no_paper_original"] == 2
    found = {(r["discrepancy"], r["ref"]): r for r in await rows(staff, run["id"])}
    assert found["no_electronic_record", "P-UNPUSHED"]["detail"] == (
        "names electronic record EA-2, which the catalogue has not pushed"
    )
    assert found["no_electronic_record", "A-NONE"]["detail"] == "names no electronic record"
    assert found["no_paper_original", "P-NO-PAPER"]["detail"] == (
        "electronic record EA-3 (personnel) has no paper item"
    )
    assert found["no_paper_original", "P-OTHER"]["detail"] == (
        "electronic record EA-7 (personnel) has no paper item; "
        "item P-OTHER exists but does not name this record"
    )
    assert ("key_field_mismatch", "P-KEY") in found
    assert not any(ref in ("P-PAIRED", "S-FREE") for _, ref in found if _ != "untagged")
    assert ("no_paper_original", None) not in found  # EA-4: not a category kept on paper
    listed = await rows(staff, run["id"], "no_paper_original")
    assert {r["ref"] for r in listed} == {"P-NO-PAPER", "P-OTHER"}


async def test_record_shows_the_paper_items_that_name_it(
    staff: httpx.AsyncClient, catalogue: httpx.AsyncClient
) -> None:
    await catalogue.put(
        "/api/v1/catalogue-records/EA-9", json={"title": "t", "category": "personnel"}
    )
    body = item_body(category="personnel", record_id="EA-9")
    assert (await staff.put("/api/v1/items/P-9", json=body)).status_code == 201
    got = (await staff.get("/api/v1/catalogue-records/EA-9")).json()
    assert got["paper_refs"] == ["P-9"]
