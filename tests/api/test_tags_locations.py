"""Tags, locations, movements and history over real HTTP."""

import httpx

from tests.support.catalogue import item_body

FOREIGN_EPC = "E2801160600002084E3B7D5A"
GIAI_EPC = "3414257BF400000000003039"  # urn:epc:id:giai:0614141.12345


async def _item(client: httpx.AsyncClient, ref: str, **kw: object) -> None:
    r = await client.put(f"/api/v1/items/{ref}", json=item_body(**kw))
    assert r.status_code in (200, 201), r.text


async def test_bind_resolve_retire_and_rebind_keep_the_history(staff: httpx.AsyncClient) -> None:
    await _item(staff, "BOX-1")
    r = await staff.post("/api/v1/items/BOX-1/tag", json={"epc": FOREIGN_EPC.lower()})
    assert r.status_code == 201
    assert r.json()["epc"] == FOREIGN_EPC
    assert r.json()["scheme"] == "foreign"
    assert r.json()["uri"] == f"urn:epc:raw:96.x{FOREIGN_EPC}"

    resolved = (await staff.get(f"/api/v1/tags/{FOREIGN_EPC}")).json()
    assert resolved["active"]["ref"] == "BOX-1"
    assert (await staff.get("/api/v1/items/BOX-1")).json()["epc"] == FOREIGN_EPC

    assert (await staff.delete("/api/v1/items/BOX-1/tag")).status_code == 200
    r = await staff.post("/api/v1/items/BOX-1/tag", json={"epc": GIAI_EPC})
    assert r.status_code == 201
    assert r.json()["uri"] == "urn:epc:id:giai:0614141.12345"
    old = (await staff.get(f"/api/v1/tags/{FOREIGN_EPC}")).json()
    assert old["active"] is None
    assert old["history"][0]["ref"] == "BOX-1"
    assert old["history"][0]["retired_at"] is not None


async def test_one_active_tag_per_item_and_one_item_per_tag(staff: httpx.AsyncClient) -> None:
    await _item(staff, "BOX-1")
    await _item(staff, "BOX-2")
    assert (
        await staff.post("/api/v1/items/BOX-1/tag", json={"epc": FOREIGN_EPC})
    ).status_code == 201
    r = await staff.post("/api/v1/items/BOX-1/tag", json={"epc": GIAI_EPC})
    assert r.status_code == 409
    assert "retire it first" in r.json()["detail"]
    r = await staff.post("/api/v1/items/BOX-2/tag", json={"epc": FOREIGN_EPC})
    assert r.status_code == 409
    assert "already bound to BOX-1" in r.json()["detail"]


async def test_bad_tag_requests_are_clear_errors(staff: httpx.AsyncClient) -> None:
    await _item(staff, "BOX-1")
    assert (await staff.post("/api/v1/items/BOX-1/tag", json={"epc": "XYZ"})).status_code == 422
    assert (await staff.post("/api/v1/items/BOX-1/tag", json={})).status_code == 422
    assert (
        await staff.post("/api/v1/items/NOPE/tag", json={"epc": FOREIGN_EPC})
    ).status_code == 404
    assert (await staff.delete("/api/v1/items/BOX-1/tag")).status_code == 404
    assert (await staff.get(f"/api/v1/tags/{GIAI_EPC}")).status_code == 404
    assert (await staff.get("/api/v1/tags/not-hex")).status_code == 422


async def test_racks_are_created_from_ranges(room_admin: httpx.AsyncClient) -> None:
    r = await room_admin.post(
        "/api/v1/locations/racks", json={"rack": "B", "bays": "1-20", "levels": 6}
    )
    assert r.status_code == 201
    assert r.json()["created"] == 1 + 20 + 20 * 6
    assert "r1-B-20-06" in r.json()["codes"]
    again = await room_admin.post(
        "/api/v1/locations/racks", json={"rack": "B", "bays": "1-20", "levels": 6}
    )
    assert again.json()["created"] == 0
    level = (await room_admin.get("/api/v1/locations/r1-B-07-03")).json()
    assert level == {
        "code": "r1-B-07-03",
        "kind": "level",
        "room": "r1",
        "parent": "r1-B-07",
        "name": "",
    }
    bad = await room_admin.post(
        "/api/v1/locations/racks", json={"rack": "C", "bays": "9-1", "levels": 1}
    )
    assert bad.status_code == 422


async def test_manual_move_updates_location_history_and_shelf_contents(
    staff: httpx.AsyncClient,
) -> None:
    await _item(staff, "BOX-1", home_location="r1-A-01-01")
    await _item(staff, "BOX-2", home_location="r1-A-01-01")
    never = (await staff.get("/api/v1/items/BOX-1/location")).json()
    assert never["location"]["code"] == "unknown"

    r = await staff.post("/api/v1/items/BOX-1/move", json={"to": "r1-A-01-01"})
    assert r.status_code == 200
    r = await staff.post("/api/v1/items/BOX-2/move", json={"to": "r1-A-02-02", "note": "overflow"})
    here = r.json()
    assert here["location"] == {"code": "r1-A-02-02", "kind": "level", "room": "r1"}
    assert here["source"] == "manual"
    assert here["loan"] is None

    assert (
        await staff.post("/api/v1/items/BOX-2/move", json={"to": "r1-A-02-02"})
    ).status_code == 409
    assert (await staff.post("/api/v1/items/BOX-2/move", json={"to": "nowhere"})).status_code == 404

    shelf = (await staff.get("/api/v1/locations/r1-A-01-01/items")).json()
    assert shelf["present"] == [{"ref": "BOX-1", "location": "r1-A-01-01"}]
    assert shelf["expected_absent"] == [{"ref": "BOX-2", "location": "r1-A-02-02"}]
    rack = (await staff.get("/api/v1/locations/r1-A/items")).json()
    assert {p["ref"] for p in rack["present"]} == {"BOX-1", "BOX-2"}

    history = (await staff.get("/api/v1/items/BOX-2/history")).json()["entries"]
    kinds = [e["kind"] for e in history]
    assert "movement" in kinds
    assert next(e for e in history if e["kind"] == "movement")["details"]["to"] == "r1-A-02-02"
    actions = [e["details"]["action"] for e in history if e["kind"] == "audit"]
    assert actions == ["item.created", "item.moved"]
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)


async def test_batch_lookup_answers_for_many_refs_and_lists_unknown_ones(
    staff: httpx.AsyncClient,
) -> None:
    lines = "\n".join(f"B-{i:04d},Box {i},D10" for i in range(300))
    await staff.post(
        "/api/v1/items/import?wait=true",
        content=f"ref,title,retention\n{lines}\n",
        headers={"Content-Type": "text/csv"},
    )
    await staff.post("/api/v1/items/B-0007/move", json={"to": "r1-A-03-02"})
    refs = [f"B-{i:04d}" for i in range(300)] + ["NOPE-1", "NOPE-2"]
    body = (await staff.post("/api/v1/locations/lookup", json={"refs": refs})).json()
    assert [w["ref"] for w in body["locations"]] == refs[:300]
    assert body["not_found"] == ["NOPE-1", "NOPE-2"]
    assert body["locations"][7]["location"]["code"] == "r1-A-03-02"
    assert body["locations"][8]["location"]["code"] == "unknown"


async def test_batch_lookup_is_limited_to_10000_refs(staff: httpx.AsyncClient) -> None:
    r = await staff.post(
        "/api/v1/locations/lookup", json={"refs": [f"R{i}" for i in range(10_001)]}
    )
    assert r.status_code == 422
    r = await staff.post(
        "/api/v1/locations/lookup", json={"refs": [f"R{i}" for i in range(10_000)]}
    )
    assert r.status_code == 200
    assert len(r.json()["not_found"]) == 10_000
